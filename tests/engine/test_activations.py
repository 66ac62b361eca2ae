"""engine/activations.py: σ, tanh and ReLU and their derivatives against finite differences and identities."""

import numpy as np
import pytest

from engine import activations as ac

Z = np.linspace(-5, 5, 201)
H = 1e-6


@pytest.mark.parametrize("name", ac.NAMES)
def test_derivative_against_central_differences(name):
    z = Z[np.abs(Z) > 1e-3] if name == "relu" else Z   # ReLU: off its kink
    _, d = ac.value_and_derivative(z, name)
    fd = (ac.value_and_derivative(z + H, name)[0] - ac.value_and_derivative(z - H, name)[0]) / (2 * H)
    np.testing.assert_allclose(d, fd, atol=1e-8)


def test_relu_subgradient_at_zero_lies_between_the_one_sided_slopes():
    left = (ac.value_and_derivative(0.0, "relu")[0] - ac.value_and_derivative(-H, "relu")[0]) / H
    right = (ac.value_and_derivative(H, "relu")[0] - ac.value_and_derivative(0.0, "relu")[0]) / H
    assert (float(left), float(right)) == (0.0, pytest.approx(1.0))
    assert left <= ac.RELU_SUBGRADIENT_AT_0 <= right
    assert ac.RELU_SUBGRADIENT_AT_0 == 0.5  # the mean of the one-sided slopes


def test_tanh_is_a_stretched_sigmoid():
    np.testing.assert_allclose(np.tanh(Z), ac.tanh_from_sigmoid(Z), atol=1e-15)
    # and so tanh'(z) = 4σ'(2z)
    np.testing.assert_allclose(ac.value_and_derivative(Z, "tanh")[1], 4 * ac.value_and_derivative(2 * Z, "sigmoid")[1],
                               atol=1e-15)


def test_curves_quote_the_peak_slopes():
    c = ac.curves()
    assert 0.0 in c["z"]
    assert c["curves"]["sigmoid"]["max_derivative"] == pytest.approx(0.25)
    assert c["curves"]["sigmoid"]["argmax_derivative"] == 0.0
    assert c["curves"]["tanh"]["max_derivative"] == pytest.approx(1.0)
    assert c["curves"]["relu"]["derivative"][c["z"].index(0.0)] == ac.RELU_SUBGRADIENT_AT_0 == c["relu_subgradient_at_0"]
    assert c["tanh_identity_error"] < 1e-15


def test_scalar_jacobian_is_diagonal_and_softmax_jacobian_is_not():
    j = ac.jacobians([1.0, 0.0, -1.0], "sigmoid")
    s = np.array(j["scalar_jacobian"])
    np.testing.assert_array_equal(s, np.diag(np.diag(s)))
    np.testing.assert_allclose(np.diag(s), ac.value_and_derivative(np.array([1.0, 0.0, -1.0]), "sigmoid")[1])
    assert j["scalar_max_off_diagonal"] == 0.0
    assert j["softmax_max_off_diagonal"] > 0.05
    np.testing.assert_allclose(j["softmax_row_sums"], 0.0, atol=1e-16)


def test_unknown_activation_is_named():
    with pytest.raises(ValueError, match="activation = 'gelu': one of sigmoid, tanh, relu"):
        ac.value_and_derivative(0.0, "gelu")
