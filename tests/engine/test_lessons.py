"""Each lesson's claim, checked with numbers by running the lesson's own scene through the engine.

One test per lesson (the claims the learner is told, on the scenes of its steps);
tests/engine/test_lesson_steps.py checks the step format, every step's own claims and the audit's fixes.
"""

import json

import numpy as np
import pytest

from engine import OPTIMIZERS, SURFACES, configure, make_surface, run, theory
from engine.lessons import LESSONS, get_lesson


def surface_of(scene, params=None):
    return make_surface(scene["surface"], **(params if params is not None else scene["surfaceParams"]))


def run_scene(scene, surface=None, steps=None):
    """Run the scene's optimizers from its start, as the page does."""
    surface = surface or surface_of(scene)
    configs = [configure(o["name"], o["params"]) for o in scene["optimizers"]]
    return run(surface, configs, start=scene["start"], steps=steps or scene["steps"], seed=scene["seed"])


def first_step_with(mask):
    """Index of the first True entry, or None."""
    mask = np.asarray(mask)
    return int(np.argmax(mask)) if mask.any() else None


def test_the_nine_lessons_of_the_issue_in_order():
    assert [(lesson.number, lesson.id) for lesson in LESSONS[:9]] == list(enumerate(  # 10–13: test_lecture_lessons.py
        ["step-size", "a-matrix", "newton", "momentum", "saddle", "ce-vs-l2", "label-smoothing", "sgd", "backprop"],
        start=1))
    assert get_lesson("saddle").number == 5
    with pytest.raises(KeyError, match="step-size"):
        get_lesson("no-such-lesson")


# --- 1. step size on a 1D-like quadratic ----------------------------------------------------------

def test_lesson_1_four_step_size_regimes():
    scene = get_lesson("step-size").step(4).scene
    a = scene["surfaceParams"]["lambda_1"]
    assert scene["surfaceParams"]["lambda_2"] <= a / 1000 and scene["surfaceParams"]["rotation"] == 0
    eta_opt = 1 / a
    lrs = [o["params"]["lr"] for o in scene["optimizers"]]
    assert lrs[0] < eta_opt == lrs[1] < lrs[2] < 2 * eta_opt < lrs[3]

    creep, one_step, oscillate, diverge = run_scene(scene)
    for t, lr in zip((creep, one_step, oscillate, diverge), lrs):
        assert np.all(t.points[:, 1] == 0.0)  # the start is on the x-axis: E = ½ a w² exactly
        w = t.points[:, 0]
        np.testing.assert_allclose(w, (1 - lr * a) ** np.arange(len(w)) * w[0], rtol=1e-12, atol=1e-300)

    w = creep.points[:, 0]
    assert np.all(w > 0) and np.all(np.diff(w) < 0)  # monotone, never crossing the minimum
    assert w[-1] < 1e-6
    assert one_step.points[1, 0] == 0.0 and np.all(one_step.points[1:] == 0.0)
    w = oscillate.points[:, 0]
    assert np.all(np.sign(w[1:]) == -np.sign(w[:-1]))  # overshoots every step ...
    assert np.all(np.diff(np.abs(w)) < 0) and abs(w[-1]) < 1e-6  # ... and still converges
    w = diverge.points[:, 0]
    assert np.all(np.sign(w[1:]) == -np.sign(w[:-1])) and np.all(np.diff(np.abs(w)) > 0)
    # Exactly at 2η_opt (step 3): |w| stays w₀ forever, neither converging nor diverging.
    edge, _ = run_scene(get_lesson("step-size").step(3).scene)
    assert edge.params["lr"] == 2 * eta_opt and edge.status != "diverged"
    np.testing.assert_array_equal(np.abs(edge.points[:, 0]), abs(edge.points[0, 0]))


# --- 2. the A matrix ---------------------------------------------------------------------------

def test_lesson_2_each_eigendirection_decays_on_its_own_and_the_best_step_has_the_predicted_rate():
    lesson = get_lesson("a-matrix")
    scene = lesson.step(3).scene
    s = surface_of(scene)
    l1, l2, theta = (scene["surfaceParams"][k] for k in ("lambda_1", "lambda_2", "rotation"))
    lam_min, lam_max = min(l1, l2), max(l1, l2)
    kappa = lam_max / lam_min
    th = theory.quadratic_theory(l1, l2)
    assert th["condition_number"] == kappa == 20
    slow, best = run_scene(scene)
    [over] = run_scene(lesson.step(2).scene)
    assert slow.params["lr"] == pytest.approx(1 / lam_max, rel=1e-11)
    assert best.params["lr"] == pytest.approx(2 / (lam_min + lam_max), rel=1e-11)
    assert over.params["lr"] > 2 / lam_max == th["gd_max_lr"]

    # Eigenvectors from the rotation angle: (cos θ, sin θ) for λ1, (−sin θ, cos θ) for λ2.
    t = np.deg2rad(theta)
    vecs = np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])
    for run_ in (slow, best, over):
        lr = run_.params["lr"]
        e = run_.points @ vecs.T  # column i: error along the eigenvector of λᵢ
        k = np.arange(len(e))[:, None]
        predicted = (1 - lr * np.array([l1, l2])) ** k * e[0]
        # Rounding leaks about 1e-16 of the whole error into each direction per step, which
        # matters only for the shallow error of the diverging run.
        assert np.all(np.abs(e - predicted) <= 1e-9 * np.abs(predicted) + 1e-12 * np.linalg.norm(e, axis=1, keepdims=True))
        panel = theory.eigen_errors(s, run_.points, lr)
        np.testing.assert_allclose(panel["measured"], e, atol=1e-12)
        np.testing.assert_allclose(panel["predicted"], predicted, rtol=1e-12, atol=1e-300)

    # The best fixed step: both directions shrink by (κ − 1)/(κ + 1) = 0.905 per step, zig-zagging
    # across the valley (the steep component changes sign every step).
    rate = (kappa - 1) / (kappa + 1)
    assert th["gd_rate"] == pytest.approx(rate, rel=1e-11)
    assert theory.measured_rate(np.linalg.norm(best.points, axis=1)) == pytest.approx(rate, rel=1e-6)
    steep = best.points @ vecs[1]
    assert np.all(np.sign(steep[1:]) == -np.sign(steep[:-1]))
    # η = 1/λmax removes the steep direction in one step but crawls along the shallow one at 1 − λmin/λmax.
    assert abs(slow.points[1] @ vecs[1]) < 1e-12
    assert theory.measured_rate(np.linalg.norm(slow.points, axis=1)) == pytest.approx(1 - lam_min / lam_max, rel=1e-9)
    assert np.linalg.norm(slow.points[-1]) > 1e3 * np.linalg.norm(best.points[-1])
    # The 2/λmax boundary: 5% above it the steep error grows by |1 − ηλmax| = 1.1 a step until the run blows up.
    assert over.status == "diverged"
    assert np.all(np.diff(np.abs(over.points @ vecs[1])) > 0)


# --- 3. normalization and Newton -------------------------------------------------------------------

def newton_lands_on_the_model_minimum(surface, start):
    """One Newton step from ``start`` must land where the Taylor model at ``start`` is smallest."""
    [t] = run(surface, [("newton", {"lr": 1.0})], start=start, steps=1)
    x1 = t.points[1]

    def model(p):
        return theory.taylor_model(surface, start, p)

    # The model's gradient at x1 vanishes: central differences are exact on a quadratic up to rounding.
    h = 1e-3
    fd = np.array([(model(x1 + h * e) - model(x1 - h * e)) / (2 * h) for e in np.eye(2)])
    assert np.linalg.norm(fd) < 1e-8 * np.linalg.norm(surface.grad(start))
    # ... and x1 is the model's minimum: it is higher all around.
    ring = x1 + 0.05 * np.stack([np.cos(np.linspace(0, 2 * np.pi, 24)), np.sin(np.linspace(0, 2 * np.pi, 24))], -1)
    assert np.all(model(ring) > model(x1))
    view = theory.taylor_view(surface, start)
    assert view["kind"] == "minimum"
    np.testing.assert_allclose(view["newton_point"], x1, rtol=1e-12, atol=1e-14)
    # The model agrees with the surface at the expansion point, to first order near it.
    assert model(np.asarray(start)) == pytest.approx(float(surface.value(start)), rel=1e-14)
    return x1


def test_lesson_3_preconditioning_and_newton_solve_the_quadratic_in_one_step():
    scene = get_lesson("newton").step(1).scene
    s = surface_of(scene)
    gd, preconditioned, newton = run_scene(scene)
    assert [o["params"]["lr"] for o in scene["optimizers"][1:]] == [1.0, 1.0]
    for t in (preconditioned, newton):
        assert np.linalg.norm(t.points[1]) < 1e-13 and np.linalg.norm(t.points[-1]) < 1e-13
    assert np.linalg.norm(gd.points[1]) > 0.5 * np.linalg.norm(scene["start"])
    # After rescaling by A^(-1/2) the bowl is round: A^(-1/2) A A^(-1/2) = I, condition number 1.
    lam, q = np.linalg.eigh(s.A)
    root_inv = q @ np.diag(lam**-0.5) @ q.T
    np.testing.assert_allclose(root_inv @ s.A @ root_inv, np.eye(2), atol=1e-12)
    # On a quadratic the Taylor model is the surface itself.
    pts = np.random.default_rng(0).uniform(-2.5, 2.5, (50, 2))
    np.testing.assert_allclose(theory.taylor_model(s, scene["start"], pts), s.value(pts), rtol=1e-12, atol=1e-12)
    newton_lands_on_the_model_minimum(s, scene["start"])

    # Not a quadratic: each Newton step lands on the minimum of the model, which is not the surface's.
    rosen = make_surface("rosenbrock")
    x1 = newton_lands_on_the_model_minimum(rosen, (-1.2, 1.0))
    assert np.linalg.norm(x1 - np.array([1.0, 1.0])) > 1.0
    assert np.linalg.norm(rosen.grad(x1)) > 1.0  # the surface is not flat where its model is
    x2 = newton_lands_on_the_model_minimum(rosen, x1)
    assert abs(theory.taylor_model(rosen, x1, x2) - rosen.value(x2)) > 100  # a model far from the truth
    newton_lands_on_the_model_minimum(make_surface("landscape"), (-1.0, -0.8))
    [t] = run(rosen, [("newton", {"lr": 1.0})], start=(-1.2, 1.0), steps=8)
    np.testing.assert_allclose(t.points[-1], [1.0, 1.0], atol=1e-12)  # ... and they get there in a few


# --- 4. momentum -----------------------------------------------------------------------------------

def test_lesson_4_heavy_ball_at_the_optimal_setting_converges_at_the_square_root_rate():
    lesson = get_lesson("momentum")
    scene = lesson.step(1).scene
    p = scene["surfaceParams"]
    th = theory.quadratic_theory(p["lambda_1"], p["lambda_2"])
    th["eta_star"], th["beta_star"] = th["momentum_best_lr"], th["momentum_best_beta"]
    kappa = th["condition_number"]
    sk = np.sqrt(kappa)
    eig = th["eigenvalues"]
    gd, heavy_ball = run_scene(scene)
    nesterov, too_much = run_scene(lesson.step(2).scene)
    assert heavy_ball.params["lr"] == pytest.approx(th["eta_star"], rel=1e-11)
    assert heavy_ball.params["momentum"] == pytest.approx(th["beta_star"], rel=1e-11)
    assert th["eta_star"] == pytest.approx((2 / (np.sqrt(min(eig)) + np.sqrt(max(eig)))) ** 2, rel=1e-11)
    assert th["beta_star"] == pytest.approx(((sk - 1) / (sk + 1)) ** 2, rel=1e-11)

    measured = {name: theory.measured_rate(np.linalg.norm(t.points, axis=1))
                for name, t in zip(("gd", "heavy_ball", "nesterov", "too_much"), (gd, heavy_ball, nesterov, too_much))}
    assert measured["gd"] == pytest.approx((kappa - 1) / (kappa + 1), rel=1e-6)
    # Critically damped: errors (a + b·k)·rᵏ, so the observed contraction is a little slower than r.
    assert measured["heavy_ball"] == pytest.approx((sk - 1) / (sk + 1), rel=0.02)
    assert measured["heavy_ball"] < 0.75 * measured["gd"]
    assert measured["nesterov"] == pytest.approx(1 - 1 / sk, rel=0.02)
    assert measured["nesterov"] == pytest.approx(float(theory.nesterov_rate(nesterov.params["lr"], nesterov.params["momentum"], eig)), rel=0.02)
    # β = 0.9 is too much: complex roots of modulus √β, slower than plain GD.
    assert float(theory.heavy_ball_rate(too_much.params["lr"], 0.9, eig)) == pytest.approx(np.sqrt(0.9), rel=1e-11)
    assert np.linalg.norm(too_much.points[-1]) > np.linalg.norm(gd.points[-1])
    # After 100 steps the heavy ball is 10 orders of magnitude closer than GD.
    assert np.linalg.norm(heavy_ball.points[100]) < 1e-10 * np.linalg.norm(gd.points[100])
    # (η*, β*) is the best cell of the analytic rate map.
    lrs = np.linspace(0.01, 0.2, 96)
    betas = np.linspace(0.0, 0.95, 96)
    rates = theory.rate_map(eig, lrs, betas)
    assert rates.min() >= th["momentum_rate"] * (1 - 1e-9)
    assert float(theory.rate_map(eig, [th["eta_star"]], [th["beta_star"]])[0, 0]) == pytest.approx(th["momentum_rate"], rel=1e-5)


# --- 5. saddle points --------------------------------------------------------------------------------

def escape_step(t, threshold=0.5):
    return first_step_with(np.abs(t.points[:, 1]) > threshold)


def test_lesson_5_gd_crawls_past_the_saddle_newton_is_drawn_to_it_momentum_and_noise_escape():
    scene = get_lesson("saddle").step(2).scene
    s = surface_of(scene)
    gd, momentum, sgd, newton = run_scene(scene)
    info = theory.hessian_eigenvalues(s, s.saddles[0])
    assert info["eigenvalues"][0] < 0 < info["eigenvalues"][1] and info["kind"].startswith("saddle")
    assert info["eigenvalues"] == pytest.approx([-2 * scene["surfaceParams"]["curvature_ratio"], 2.0])

    # GD: the gradient norm falls by orders of magnitude near the saddle, then rises as it escapes.
    esc = escape_step(gd)
    assert esc is not None and esc > 100
    g = gd.grad_norms
    crawl = int(np.argmin(g[:esc]))
    assert g[crawl] < 1e-2 * g[0]
    assert g[crawl:].max() > 100 * g[crawl]
    assert np.linalg.norm(gd.points[crawl]) < 0.01  # the crawl happens at the saddle ...
    assert np.linalg.eigvalsh(s.hessian(gd.points[crawl]))[0] < 0  # ... where the curvature is negative
    assert gd.points[-1] == pytest.approx(min(s.minima, key=lambda m: np.linalg.norm(gd.points[-1] - m)), abs=1e-6)

    # Newton jumps to where its model's gradient vanishes: the saddle, and stays there.
    assert np.linalg.norm(newton.points[1]) < 1e-10 and np.linalg.norm(newton.points[-1]) < 1e-12
    assert newton.grad_norms[-1] < 1e-12

    # Momentum and noise escape far sooner than GD (noise with every seed, not just the scene's).
    assert escape_step(momentum) < esc / 2
    noisy = scene["optimizers"][2]
    assert noisy["name"] == "sgd" and noisy["params"]["noise"] > 0
    noisy_runs = run(s, [("sgd", {**noisy["params"], "seed": seed}) for seed in range(8)], start=scene["start"],
                     steps=scene["steps"])
    escapes = [escape_step(t) for t in noisy_runs]
    assert escapes[0] == escape_step(sgd)
    assert max(escapes) < esc and np.median(escapes) < esc / 2, escapes


# --- 6. cross-entropy vs L2 --------------------------------------------------------------------------

def steps_to_target(losses, f_min, fraction):
    """First step at which the loss has come ``fraction`` of the way from its start to f_min."""
    return first_step_with(losses <= losses[0] - fraction * (losses[0] - f_min))


def test_lesson_6_cross_entropy_gets_down_in_far_fewer_steps_and_its_slope_never_vanishes():
    scene = get_lesson("ce-vs-l2").step(1).scene
    ce_s = surface_of(scene)
    l2_s = surface_of(scene, {**scene["surfaceParams"], **scene["compare"]["surfaceParams"]})
    assert (ce_s.params["loss"], l2_s.params["loss"]) == ("ce", "l2")
    assert ce_s.params["activation"] == l2_s.params["activation"]
    [ce] = run_scene(scene, ce_s)
    [l2] = run_scene(scene, l2_s)
    fraction = 0.95
    k_ce = steps_to_target(ce.losses, ce_s.value(ce_s.minima[0]), fraction)
    k_l2 = steps_to_target(l2.losses, l2_s.value(l2_s.minima[0]), fraction)
    assert k_ce is not None and k_l2 is not None
    assert 10 * k_ce < k_l2  # measured: 18 steps against 371
    # The start is confidently wrong: L2 sits on a plateau, CE is steep there.
    assert l2.grad_norms[0] < 0.05 * ce.grad_norms[0]

    # The output losses: at y = d the CE slope is −1 (d = 1) and +1 (d = 0); L2's is 0.
    eps = 1e-12
    c = theory.output_loss_curves([eps, 0.5, 1 - eps])
    d0, d1 = c["curves"]
    assert (d0["d"], d1["d"]) == (0, 1)
    assert d0["ce_dy"][0] == pytest.approx(1.0, abs=1e-9) and d1["ce_dy"][-1] == pytest.approx(-1.0, abs=1e-9)
    assert d0["l2_dy"][0] == pytest.approx(0.0, abs=1e-9) and d1["l2_dy"][-1] == pytest.approx(0.0, abs=1e-9)
    # Confidently wrong (y → 1 − d): CE → ∞, L2 stays below ½.
    assert d0["ce"][-1] > 27 and d1["ce"][0] > 27
    assert d0["l2"][-1] < 0.5 and d1["l2"][0] < 0.5
    ys = np.linspace(0.01, 0.99, 99)
    c = theory.output_loss_curves(ys)
    for curve in c["curves"]:
        for loss in ("ce", "l2"):
            # The derivative is the slope of the curve (central differences).
            h = 1e-6
            up = theory.output_loss_curves(ys + h)["curves"][curve["d"]][loss]
            down = theory.output_loss_curves(ys - h)["curves"][curve["d"]][loss]
            np.testing.assert_allclose((up - down) / (2 * h), curve[loss + "_dy"], rtol=1e-6, atol=1e-8)
        assert np.all(np.diff(curve["ce"]) > 0) if curve["d"] == 0 else np.all(np.diff(curve["ce"]) < 0)
    # The network's per-example losses are these curves at its outputs.
    fw = ce_s.forward(np.array(scene["start"]))
    losses, _ = ce_s.example_value_and_grad(np.array(scene["start"]))
    y, d = fw["y"], ce_s.targets
    np.testing.assert_allclose(losses, -(d * np.log(y) + (1 - d) * np.log1p(-y)), rtol=1e-9)
    with pytest.raises(ValueError):
        theory.output_loss_curves([0.0, 0.5])


# --- 7. label smoothing -------------------------------------------------------------------------------

def test_lesson_7_hard_labels_grow_the_weights_forever_smoothed_labels_settle():
    scene = get_lesson("label-smoothing").step(1).scene
    hard_s = surface_of(scene)
    soft_s = surface_of(scene, {**scene["surfaceParams"], **scene["compare"]["surfaceParams"]})
    assert hard_s.params["label_smoothing"] == 0 and soft_s.params["label_smoothing"] > 0
    assert hard_s.minima == [] and len(soft_s.minima) == 1
    [hard] = run_scene(scene, hard_s)
    [soft] = run_scene(scene, soft_s)
    n_hard, n_soft = theory.weight_norms(hard.points), theory.weight_norms(soft.points)
    np.testing.assert_array_equal(n_hard, np.linalg.norm(hard.points, axis=1))

    # Hard labels: after the first few steps ‖w‖ grows at every step, is large, and is still growing
    # (by about 2 ln 2 for every doubling of the step count, the max-margin direction's log k).
    assert np.all(np.diff(n_hard[5:]) > 0)
    assert n_hard[-1] > 3 * n_soft[-1] and n_hard[-1] > 10
    half = len(n_hard) // 2
    assert n_hard[-1] - n_hard[half] == pytest.approx(2 * np.log(2), rel=0.1)
    assert hard.grad_norms[-1] > 1e-4  # never at a stationary point
    # ε > 0: settles at the finite minimum.
    assert soft.grad_norms[-1] < 1e-12
    np.testing.assert_allclose(soft.points[-1], soft_s.minima[0], atol=1e-9)
    assert abs(n_soft[-1] - n_soft[-500]) < 1e-12


# --- 8. SGD, batch GD and mini-batches ----------------------------------------------------------------

def late_path(t, last=200):
    """Distance travelled over the last ``last`` steps."""
    return float(np.sum(np.linalg.norm(np.diff(t.points[-last - 1:], axis=0), axis=1)))


def test_lesson_8_constant_step_sgd_bounces_decaying_steps_settle_and_batches_divide_the_variance():
    lesson = get_lesson("sgd")
    scene = lesson.step(1).scene
    s = surface_of(scene)
    n = s.n_examples
    m = np.array(s.minima[0])
    pairs = []
    for step in lesson.steps:
        pairs += list(zip(step.scene["optimizers"], run_scene(step.scene)))
    seen, kinds = set(), {}
    for o, t in pairs:
        key = repr(sorted(o["params"].items()))
        if key in seen:
            continue
        seen.add(key)
        p = o["params"]
        kind = "batch" if p["batch_size"] == n else "inverse" if p.get("schedule") == "inverse" else (
            "sgd" if p["batch_size"] == 1 else "mini")
        kinds.setdefault(kind, []).append(t)
    assert {k: len(v) for k, v in kinds.items()} == {"batch": 1, "sgd": 3, "inverse": 3, "mini": 1}

    [batch] = kinds["batch"]
    assert np.all(np.diff(batch.losses) <= 1e-15)  # batch GD: a smooth, monotone descent
    np.testing.assert_allclose(batch.points[-1], m, atol=1e-9)
    for t in kinds["sgd"]:
        # Constant step: still jumping about late in the run, the loss fluctuating around the minimum's.
        assert late_path(t) > 50
        assert np.std(t.losses[-300:]) > 1e-3
        assert np.mean(np.linalg.norm(t.points[-200:] - m, axis=1)) > 0.3
    for t in kinds["inverse"]:
        # η_k = η/k: the late movement is tiny, and it has settled close to the minimum.
        assert late_path(t) < 0.2
        assert np.linalg.norm(t.points[-1] - m) < 0.1
    assert min(map(late_path, kinds["sgd"])) > 200 * max(map(late_path, kinds["inverse"]))
    # A batch of 4 averages out some of the noise: it bounces less than single examples.
    assert late_path(kinds["mini"][0]) < 0.5 * min(map(late_path, kinds["sgd"]))

    # The variance panel at the minimum: measured against b follows σ²/b · (N − b)/(N − 1).
    samples = 4000
    v = theory.minibatch_variance_curve(s, m, samples=samples, seed=1)
    assert v["n"] == n and v["batch_sizes"].tolist() == list(range(1, n + 1))
    assert v["sigma2"] > 1e-3  # at the minimum the examples still disagree: why SGD keeps bouncing
    np.testing.assert_allclose(v["measured"][:-1], v["predicted"][:-1], rtol=5 / np.sqrt(samples))
    assert v["predicted"][-1] == 0 and v["measured"][-1] < 1e-30
    np.testing.assert_allclose(v["one_over_b"], v["sigma2"] / np.arange(1, n + 1))
    assert v["full_batch"] == pytest.approx(v["sigma2"] / n)

    # The lecture's point, on a population of N = 1000 per-example gradients: a batch of b = 100
    # leaves under 1% of the single-example variance, over 99% of the reduction the full batch gives.
    from engine.lessons import sgd as lesson_8
    big_n, b = lesson_8.LECTURE_N, lesson_8.LECTURE_B
    v_frac = float(theory.minibatch_variance_law(1.0, big_n, [b])[0])
    lecture = {"variance_fraction": v_frac, "reduction_captured": 1 - v_frac}
    grads = np.random.default_rng(0).normal([0.3, -0.2], [1.0, 0.5], (big_n, 2))
    sigma2 = float(np.mean(np.sum((grads - grads.mean(0)) ** 2, -1)))
    law = theory.minibatch_variance_law(sigma2, big_n, [1, 10, b, 500, big_n])
    assert law[2] / sigma2 == pytest.approx((1 / b) * (big_n - b) / (big_n - 1), rel=1e-12)
    assert law[2] / sigma2 == pytest.approx(lecture["variance_fraction"], rel=1e-9) and law[2] / sigma2 < 0.01
    assert float(theory.variance_reduction_captured(big_n, [b])[0]) == pytest.approx(lecture["reduction_captured"])
    assert lecture["reduction_captured"] >= 0.99
    for size, predicted in zip([1, 10, b, 500], law):
        measured = theory.population_minibatch_variance(grads, size, samples=2000, seed=size)
        assert measured == pytest.approx(predicted, rel=5 / np.sqrt(2000)), size
    assert law[-1] == 0


# --- 9. backprop ---------------------------------------------------------------------------------------

def test_lesson_9_the_chain_of_local_derivatives_is_the_engine_s_gradient():
    scene = get_lesson("backprop").scene
    base = scene["surfaceParams"]
    points = [scene["start"], (1.3, 2.2), (-2.0, 3.5), (3.5, -5.0), (4.0, 6.0), (0.0, 1.0)]
    for activation in ("sigmoid", "tanh", "relu"):
        for loss in ("ce", "l2"):
            s = make_surface(scene["surface"], **{**base, "activation": activation, "loss": loss})
            for point in points:
                chains = [theory.backprop_chain(s, point, i) for i in range(s.n_examples)]
                for c in chains:
                    f, b = c["forward"], c["backward"]
                    w1, w2 = point
                    assert f["u"] == w1 * f["x"] and f["z"] == pytest.approx(w2 * f["h"], rel=1e-15)
                    assert f["y"] == pytest.approx(1 / (1 + np.exp(-f["z"])), rel=1e-12)
                    assert (b["dz_dw2"], b["dz_dh"], b["du_dw1"]) == (f["h"], w2, f["x"])
                    g_w2 = b["dDiv_dy"] * b["dy_dz"] * b["dz_dw2"]
                    g_w1 = b["dDiv_dy"] * b["dy_dz"] * b["dz_dh"] * b["dh_du"] * b["du_dw1"]
                    np.testing.assert_allclose([g_w1, g_w2], c["engine_grad"], rtol=1e-9, atol=1e-15)
                    np.testing.assert_allclose(c["grad"], c["engine_grad"], rtol=1e-9, atol=1e-15)
                # The mean over the examples is the surface's gradient, the one the optimizer follows.
                mean = np.mean([c["grad"] for c in chains], axis=0)
                np.testing.assert_allclose(mean, s.grad(point), rtol=1e-9, atol=1e-15)
                np.testing.assert_allclose(chains[0]["mean_grad"], s.grad(point), rtol=1e-15)
            if activation == "relu":
                # w1 = 0 puts every example at u = 0: the engine takes a'(0) = ½, the mean of the one-sided slopes.
                at_kink = [theory.backprop_chain(s, (0.0, 1.0), i)["backward"]["dh_du"] for i in range(s.n_examples)]
                assert at_kink == [0.5] * s.n_examples

    # The scene's first GD step is −η times that mean.
    s = surface_of(scene)
    [t] = run_scene(scene, s, steps=1)
    mean = np.mean([theory.backprop_chain(s, scene["start"], i)["grad"] for i in range(s.n_examples)], axis=0)
    np.testing.assert_allclose(t.points[1], np.array(scene["start"]) - scene["optimizers"][0]["params"]["lr"] * mean,
                               rtol=1e-12)
    # tanh is a scaled and shifted sigmoid: tanh(u) = 2σ(2u) − 1.
    u = np.linspace(-4, 4, 81)
    curves = {c["name"]: c for c in theory.activation_curves(np.concatenate([u, 2 * u]))["curves"]}
    np.testing.assert_allclose(curves["tanh"]["a"][:81], 2 * curves["sigmoid"]["a"][81:] - 1, atol=1e-15)
    assert curves["relu"]["da"][40] == 0.5  # u = 0
