"""engine/softmax.py and the softmax3 surface against PyTorch's cross_entropy and finite differences.

The outside reference is PyTorch: ``F.cross_entropy(z, c, label_smoothing=α)`` with
α = Kε, the lecture's ε mapped to PyTorch's mixing (t = (1 − α)·onehot + α/K). Its
numbers are recorded in fixtures/torch_reference.json by scripts/make_torch_reference.py,
so they are checked on every machine; where torch is installed, random cases are also
compared against it live.
"""

import json
import pathlib

import numpy as np
import pytest

from engine import softmax as sm
from engine.surfaces import make_surface

REFERENCE = json.loads((pathlib.Path(__file__).parent / "fixtures" / "torch_reference.json").read_text())
CASES = REFERENCE["softmax"]
IDS = [f"K{len(c['z'])}-c{c['target']}-eps{c['eps']:.3g}" for c in CASES]


def target_of(case):
    return sm.smoothed_target(case["target"], len(case["z"]), case["eps"])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_cross_entropy_and_logit_gradient_match_torch(case):
    z, t = np.array(case["z"]), target_of(case)
    assert case["torch_label_smoothing"] == pytest.approx(sm.torch_smoothing(case["eps"], len(z)))
    assert sm.cross_entropy(z, t) == pytest.approx(case["loss"], rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(sm.grad_wrt_logits(z, t), case["grad_logits"], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_output_gradient_and_jacobian_match_torch(case):
    z, t = np.array(case["z"]), target_of(case)
    np.testing.assert_allclose(sm.grad_wrt_outputs(z, t), case["grad_outputs"], rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(sm.jacobian(z), case["jacobian"], rtol=1e-10, atol=1e-14)


def test_hard_targets_give_zero_output_gradient_off_target_and_smoothing_does_not():
    z = np.array([2.0, -1.0, 0.0])
    hard = sm.grad_wrt_outputs(z, sm.smoothed_target(0, 3, 0.0))
    soft = sm.grad_wrt_outputs(z, sm.smoothed_target(0, 3, 0.05))
    assert hard[1] == 0.0 and hard[2] == 0.0 and hard[0] < 0
    assert np.all(soft < 0)
    # ∂CE/∂z is non-zero off-target either way: the softmax couples every output to every logit.
    for eps in (0.0, 0.05):
        gz = sm.grad_wrt_logits(z, sm.smoothed_target(0, 3, eps))
        assert np.all(np.abs(gz[1:]) > 1e-3)
        assert gz.sum() == pytest.approx(0.0, abs=1e-15)


def test_chain_rule_through_the_jacobian():
    rng = np.random.default_rng(0)
    for _ in range(20):
        z = rng.normal(0, 2, 4)
        t = sm.smoothed_target(int(rng.integers(4)), 4, rng.uniform(0, 0.25))
        np.testing.assert_allclose(sm.jacobian(z).T @ sm.grad_wrt_outputs(z, t), sm.grad_wrt_logits(z, t),
                                   rtol=1e-12, atol=1e-14)


def test_jacobian_against_finite_differences():
    rng = np.random.default_rng(1)
    h = 1e-6
    for k in (2, 3, 5):
        z = rng.normal(0, 1.5, k)
        fd = np.stack([(sm.softmax(z + h * e) - sm.softmax(z - h * e)) / (2 * h) for e in np.eye(k)], -1)
        j = sm.jacobian(z)
        np.testing.assert_allclose(j, fd, atol=1e-9)
        np.testing.assert_allclose(j, j.T, atol=1e-15)
        np.testing.assert_allclose(j.sum(-1), 0.0, atol=1e-15)


def test_smoothed_target_rejects_eps_outside_0_to_1_over_k():
    assert sm.smoothed_target(2, 3, 1 / 3).tolist() == pytest.approx([1 / 3] * 3)
    with pytest.raises(ValueError, match=r"eps = 0.4 is not allowed: 0 ≤ ε ≤ 1/K = 0.333333"):
        sm.smoothed_target(0, 3, 0.4)
    with pytest.raises(ValueError, match="target = 3 is not a class of K = 3"):
        sm.smoothed_target(3, 3, 0.0)


def test_softmax_is_finite_for_huge_logits():
    z = np.array([1000.0, -1000.0, 0.0])
    assert sm.softmax(z).tolist() == [1.0, 0.0, 0.0]
    assert np.isfinite(sm.cross_entropy(z, sm.smoothed_target(1, 3, 0.1)))


def test_live_torch_matches_on_random_cases():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(2)
    for _ in range(50):
        k = int(rng.integers(2, 7))
        z = rng.normal(0, 3, k)
        c = int(rng.integers(k))
        eps = float(rng.uniform(0, 1 / k))
        zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
        loss = F.cross_entropy(zt[None], torch.tensor([c]), label_smoothing=sm.torch_smoothing(eps, k))
        (g,) = torch.autograd.grad(loss, zt)
        t = sm.smoothed_target(c, k, eps)
        assert sm.cross_entropy(z, t) == pytest.approx(loss.item(), rel=1e-12)
        np.testing.assert_allclose(sm.grad_wrt_logits(z, t), g.numpy(), rtol=1e-10, atol=1e-14)


# --- the softmax3 surface ------------------------------------------------------------------

@pytest.mark.parametrize("eps", [0.01, 0.05, 0.1, 0.3])
def test_softmax3_minimum_is_where_the_outputs_equal_the_smoothed_target(eps):
    s = make_surface("softmax3", label_smoothing=eps)
    [m] = s.minima
    assert m == pytest.approx((np.log((1 - 2 * eps) / eps), 0.0))
    np.testing.assert_allclose(s.grad(m), 0.0, atol=1e-14)
    np.testing.assert_allclose(sm.softmax(s.logits(m)), [1 - 2 * eps, eps, eps], rtol=1e-12)
    assert np.all(np.linalg.eigvalsh(s.hessian(m)) > 0)


def test_softmax3_with_hard_targets_keeps_falling_along_z1():
    s = make_surface("softmax3")
    assert s.minima == []
    losses = s.value(np.array([[z1, 0.0] for z1 in (0.0, 5.0, 10.0, 20.0)]))
    assert np.all(np.diff(losses) < 0) and losses[-1] > 0
    assert s.grad([20.0, 0.0])[0] < 0


def test_softmax3_hessian_is_the_jacobians_block():
    s = make_surface("softmax3", label_smoothing=0.1)
    p = np.array([1.5, -0.5])
    np.testing.assert_allclose(s.hessian(p), sm.jacobian([1.5, -0.5, 0.0])[:2, :2], rtol=1e-15)


def test_softmax3_rejects_eps_above_its_range():
    from engine import ParamError
    with pytest.raises(ParamError, match="label_smoothing"):
        make_surface("softmax3", label_smoothing=0.5)
