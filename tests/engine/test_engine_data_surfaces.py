"""The data surfaces' lessons: cross-entropy vs squared error, label smoothing, mini-batches."""

import itertools

import numpy as np
import pytest

from engine import make_surface, run, theory

# --- two-weight network: cross-entropy is steep where squared error is flat ------------

def steps_to_level(losses, f_min, fraction=0.95):
    """First step at which the loss has come ``fraction`` of the way from its start to f_min."""
    level = losses[0] - fraction * (losses[0] - f_min)
    return int(np.argmax(losses <= level)) if np.any(losses <= level) else None


def test_cross_entropy_descends_much_faster_than_squared_error():
    # Glorot & Bengio (2010), Fig. 5. Same network, start, optimizer and step: GD with
    # η = 0.5 from (w1, w2) = (0.5, −0.5). Measured: CE is 95% of the way down to its
    # minimum loss after 43 steps, L2 only after 172, four times as many.
    start, steps = (0.5, -0.5), 400
    result = {}
    for loss in ("ce", "l2"):
        s = make_surface("two_weight_net", loss=loss)
        [t] = run(s, [("gd", {"lr": 0.5})], start=start, steps=steps)
        f_min = s.value(s.minima[0])
        result[loss] = steps_to_level(t.losses, f_min)
        # Both head for the same one of the two mirror-image minima, the one with w1, w2 > 0
        # (after 400 steps L2 is still crawling along the valley floor towards it).
        assert t.points[-1] == pytest.approx(max(s.minima), abs=0.2)
    assert 38 <= result["ce"] <= 48
    assert 155 <= result["l2"] <= 190
    assert result["l2"] >= 3 * result["ce"]


@pytest.mark.parametrize("loss", ["ce", "l2"])
def test_two_weight_net_minima_are_finite_and_symmetric(loss):
    s = make_surface("two_weight_net", loss=loss)
    (a, b) = sorted(s.minima)
    np.testing.assert_allclose(a, np.negative(b), atol=1e-8)
    assert 1.0 < b[0] < 2.0 and 2.0 < b[1] < 2.5  # a finite fit, well inside the view


def test_origin_is_a_critical_point_of_the_two_weight_net():
    # At w = 0 the hidden unit outputs tanh(0) = 0, so ∂L/∂w1 = ∂L/∂w2 = 0: a saddle of the loss.
    s = make_surface("two_weight_net")
    np.testing.assert_allclose(s.grad([0.0, 0.0]), 0.0, atol=1e-17)
    lam = np.linalg.eigvalsh(s.hessian([0.0, 0.0]))
    assert lam[0] < 0 < lam[1]


# --- logistic neuron: hard labels have no minimum, smoothed ones do --------------------

def test_hard_label_cross_entropy_has_no_minimum_and_weights_grow_like_log_t():
    s = make_surface("logistic_neuron")
    assert s.minima == []
    [t] = run(s, [("gd", {"lr": 1.0})], start=[0.0, 0.0], steps=8000)
    w = t.points[:, 0]
    assert t.status == "max_steps"
    assert np.all(np.diff(w) > 0)  # the weight grows at every step ...
    assert np.all(np.diff(t.losses) < 0)  # ... and the loss falls at every step
    assert w[-1] > s.view[1]  # past the right edge of the view
    # Soudry et al. (2018): on separable data GD's weights grow like ŵ·log t, with ŵ the
    # max-margin separator (here w = 1/0.5 = 2, b = 0), so w(2k) − w(k) → 2 ln 2.
    doubling = [w[2 * k] - w[k] for k in (1000, 2000, 4000)]
    assert doubling[0] < doubling[1] < doubling[2] < 2 * np.log(2)
    assert doubling[2] == pytest.approx(2 * np.log(2), rel=0.03)
    assert np.all(np.abs(t.points[:, 1]) < 1e-12)  # b stays 0 on this symmetric dataset


@pytest.mark.parametrize("loss, lr", [("ce", 1.0), ("l2", 5.0)])
def test_label_smoothing_puts_the_minimum_at_a_finite_point(loss, lr):
    s = make_surface("logistic_neuron", loss=loss, label_smoothing=0.1)
    [m] = s.minima
    assert 0 < m[0] < s.view[1] and abs(m[1]) < 1e-12
    [t] = run(s, [("gd", {"lr": lr})], start=[0.0, 0.0], steps=20000, tol=1e-10)
    assert t.status == "converged"
    np.testing.assert_allclose(t.points[-1], m, atol=1e-6)
    # At the minimum the mean residual σ(wx + b) − t, weighted by x, is zero: ∇L = 0 (CE).
    if loss == "ce":
        y = 1 / (1 + np.exp(-(m[0] * s.inputs + m[1])))
        assert abs(np.mean((y - s.targets) * s.inputs)) < 1e-12


def test_more_smoothing_gives_a_smaller_weight():
    w = [make_surface("logistic_neuron", label_smoothing=eps).minima[0][0] for eps in (0.02, 0.1, 0.2, 0.4)]
    assert w == sorted(w, reverse=True)


# --- mini-batch gradient variance: the 1/b law -----------------------------------------

SAMPLES = 4000


@pytest.mark.parametrize("surface, sp, point", [
    ("two_weight_net", {}, (0.5, -0.5)),
    ("two_weight_net", dict(loss="l2", activation="relu"), (2.0, 1.0)),
    ("logistic_neuron", dict(label_smoothing=0.1), (1.0, 0.5)),
])
def test_minibatch_variance_follows_one_over_b(surface, sp, point):
    s = make_surface(surface, **sp)
    n = s.n_examples
    sizes = [b for b in (1, 2, 3, 4, 10, 30, 60, n - 1) if b < n]
    predicted = theory.minibatch_gradient_variance(s, point, sizes)
    # The 1/b law with the finite-population factor (N − b)/(N − 1).
    np.testing.assert_allclose(predicted * np.array(sizes) * (n - 1) / (n - np.array(sizes)), predicted[0], rtol=1e-12)
    for seed, (b, p) in enumerate(zip(sizes, predicted)):
        measured = theory.measure_minibatch_variance(s, point, b, samples=SAMPLES, seed=seed)
        # ‖g_B − g‖² has a standard deviation of about its mean, so the average of
        # SAMPLES draws is within 5/√SAMPLES ≈ 8% of the truth with near certainty.
        assert measured == pytest.approx(p, rel=5 / np.sqrt(SAMPLES)), b
    # The full batch is the full gradient.
    assert theory.minibatch_gradient_variance(s, point, [n])[0] == 0
    assert theory.measure_minibatch_variance(s, point, n, samples=50) < 1e-28


# --- the runner's mini-batches ----------------------------------------------------------

def batches_used(surface, traj, lr, b):
    """Recover each step's batch from the trajectory: with momentum 0 the step is −η·mean
    of the batch's per-example gradients, and only one b-subset of examples matches it."""
    subsets = np.array(list(itertools.combinations(range(surface.n_examples), b)))
    found = []
    for x, x_next in zip(traj.points[:-1], traj.points[1:]):
        _, ex = surface.example_value_and_grad(x)
        means = ex[subsets].mean(axis=1)
        err = np.linalg.norm(x - lr * means - x_next, axis=1)
        best, second = np.partition(err, 1)[:2]
        assert best < 1e-13 and second > 1e-9, "the step matches no batch, or more than one"
        found.append(set(subsets[np.argmin(err)]))
    return found


@pytest.mark.parametrize("b", [1, 2, 4, 3])
def test_sgd_draws_each_example_once_per_epoch(b):
    s = make_surface("logistic_neuron", label_smoothing=0.1)
    n = s.n_examples  # 8
    per_epoch = n // b
    epochs = 4
    [t] = run(s, [("sgd", dict(lr=0.5, batch_size=b, seed=7))], start=[0.3, -0.2], steps=epochs * per_epoch)
    used = batches_used(s, t, 0.5, b)
    for e in range(epochs):
        epoch = used[e * per_epoch:(e + 1) * per_epoch]
        drawn = [i for batch in epoch for i in batch]
        assert len(set(drawn)) == len(drawn) == per_epoch * b  # without replacement
        if n % b == 0:
            assert set(drawn) == set(range(n))  # every example exactly once
    # The order is reshuffled from one epoch to the next.
    assert len({tuple(map(frozenset, used[e * per_epoch:(e + 1) * per_epoch])) for e in range(epochs)}) > 1


def test_full_batch_sgd_is_gradient_descent():
    s = make_surface("two_weight_net")
    [sgd, gd] = run(s, [("sgd", dict(lr=0.5, batch_size=s.n_examples, seed=3)), ("gd", dict(lr=0.5))],
                    start=[0.5, -0.5], steps=100)
    np.testing.assert_array_equal(sgd.points, gd.points)


def test_sgd_without_noise_off_data_is_momentum():
    s = make_surface("rosenbrock")
    [sgd, hb] = run(s, [("sgd", dict(lr=0.001, momentum=0.9)), ("momentum", dict(lr=0.001, momentum=0.9))],
                    start=[-1.2, 1.0], steps=200)
    np.testing.assert_array_equal(sgd.points, hb.points)


def test_sgd_batches_are_seeded():
    s = make_surface("two_weight_net")
    cfg = ("sgd", dict(lr=0.5, batch_size=10, seed=1))
    [a] = run(s, [cfg], start=[0.5, -0.5], steps=60)
    [b] = run(s, [cfg], start=[0.5, -0.5], steps=60)
    [other_param_seed] = run(s, [("sgd", dict(lr=0.5, batch_size=10, seed=2))], start=[0.5, -0.5], steps=60)
    [other_run_seed] = run(s, [cfg], start=[0.5, -0.5], steps=60, seed=1)
    np.testing.assert_array_equal(a.points, b.points)
    assert not np.array_equal(a.points, other_param_seed.points)
    assert not np.array_equal(a.points, other_run_seed.points)
    # Different batches, same expected gradient: all three make the same kind of progress.
    for t in (a, other_param_seed, other_run_seed):
        assert np.linalg.norm(t.points[-1] - t.points[0]) > 0.5 and t.losses[-1] < 0.8 * t.losses[0]


def test_gradient_noise_has_the_requested_standard_deviation():
    # On a bowl, GD step x₁ = x₀ − η (A x₀ + σ ξ): the noise is (x_gd − x_sgd) / η.
    s = make_surface("quadratic")
    starts = 2000
    cfgs = [("sgd", dict(lr=0.1, noise=0.3, seed=i)) for i in range(starts)]
    noisy = run(s, cfgs, start=[1.0, 1.0], steps=1)
    [clean] = run(s, [("gd", dict(lr=0.1))], start=[1.0, 1.0], steps=1)
    xi = np.array([(clean.points[1] - t.points[1]) / 0.1 for t in noisy])
    assert xi.mean(axis=0) == pytest.approx([0.0, 0.0], abs=4 * 0.3 / np.sqrt(starts))
    assert xi.std(axis=0) == pytest.approx([0.3, 0.3], rel=0.06)
