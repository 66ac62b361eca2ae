"""The lecture's ideas as scenes: each lesson is a preset plus the claim it demonstrates.

A lesson's ``scene`` is what the page loads: the surface and its parameters, the
optimizers (at most eight) with theirs, the start point, the number of steps and the
seed, in the page's scene format. Three more keys say what to draw around it:

- ``views``: the extra panels, from ``VIEWS``;
- ``theory``: the numbers the lesson is about, computed here from ``engine.theory``;
- ``compare`` (lessons 6 and 7): ``{"surfaceParams": {...}}``, the same surface with
  other parameters drawn side by side, run with the same optimizers from the same start.

Every number in a scene is rounded to 12 significant digits, so a scene survives the
page's URL hash unchanged. ``tests/engine/test_lessons.py`` checks each lesson's claim
by running its own scene through the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine import capabilities, theory
from engine.surfaces import make_surface

#: The extra panels a lesson can ask for.
VIEWS = {
    "slider_marks": "η_opt and 2η_opt marked on the step-size slider",
    "eigen_errors": "the error along each eigenvector against iteration, measured and (1 − ηλᵢ)ᵏ e₀",
    "taylor": "the local quadratic model (second-order Taylor expansion) at the current point",
    "rate_map": "the (η, β) convergence-rate map; clicking a cell sets both sliders",
    "grad_norm": "the gradient norm against iteration",
    "hessian": "the Hessian eigenvalues at the current point",
    "compare": "a second surface side by side (scene['compare']['surfaceParams'])",
    "loss_curves": "CE and L2 and their derivatives against the output y, for d = 0 and d = 1",
    "weight_norm": "‖w‖ against iteration",
    "variance": "measured mini-batch gradient variance against b, with the 1/b law",
    "backprop": "the forward and backward pass at a clicked point",
}


@dataclass(frozen=True)
class Lesson:
    id: str
    number: int
    title: str
    text: tuple[str, ...]
    scene: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"id": self.id, "number": self.number, "title": self.title, "text": list(self.text), "scene": self.scene}

    @property
    def views(self) -> list[str]:
        return self.scene.get("views", [])

    @property
    def theory(self) -> dict:
        return self.scene.get("theory", {})


def _r(v: float) -> float:
    """A float that the page's URL hash (12 significant digits) reproduces exactly."""
    return float(f"{float(v):.12g}")


def _scene(surface, surface_params, optimizers, start, steps, views, theory_numbers, seed=0, **extra) -> dict:
    return {
        "surface": surface,
        "surfaceParams": surface_params,
        "optimizers": [{"name": name, "params": {k: _r(v) if isinstance(v, float) else v for k, v in params.items()}}
                       for name, params in optimizers],
        "start": [_r(v) for v in start],
        "steps": steps,
        "seed": seed,
        "views": list(views),
        "theory": theory_numbers,
        **extra,
    }


# --- 1. step size on a 1D-like quadratic --------------------------------------------------

# E = ½ a w² along x. λ2 is a thousandth of a: the bowl becomes a trough whose contours are
# almost vertical lines, so the picture reads as a function of w = x alone, and its slope
# along y is too small to matter. (λ2 = a would give the same runs from a start on the
# x-axis, but a round bowl looks two-dimensional.) The start lies on the x-axis, so every
# run is exactly the 1D iteration w ← (1 − ηa) w.
A_1D = 2.0


def _step_size() -> Lesson:
    a = A_1D
    eta_opt = 1 / a
    runs = [0.4 * eta_opt, eta_opt, 1.6 * eta_opt, 2.4 * eta_opt]
    return Lesson(
        "step-size", 1, "Step size on a 1D-like quadratic",
        (
            "For E = ½ a w² a gradient step gives w ← (1 − ηa) w, so the optimal step is η_opt = 1/a: "
            "one step lands on the minimum.",
            "With η < η_opt the iterate creeps monotonically towards the minimum; with η_opt < η < 2η_opt it "
            "overshoots and oscillates but converges; with η > 2η_opt it diverges.",
            f"Here a = λ1 = {a:g} (λ2 is a thousand times smaller, so only w = x matters), and the four runs take one "
            f"step size from each regime; η_opt = {eta_opt:g} and 2η_opt = {2 * eta_opt:g} are marked on the "
            "step-size slider.",
        ),
        _scene(
            "quadratic", {"lambda_1": a, "lambda_2": a / 1000, "rotation": 0.0},
            [("gd", {"lr": lr}) for lr in runs], start=[2.0, 0.0], steps=50, views=["slider_marks"],
            theory_numbers={
                "a": a, "eta_opt": _r(eta_opt), "eta_max": _r(2 * eta_opt),
                "marks": [{"param": "lr", "value": _r(eta_opt), "label": "η_opt = 1/a"},
                          {"param": "lr", "value": _r(2 * eta_opt), "label": "2η_opt = 2/a"}],
                "factors": [_r(1 - lr * a) for lr in runs],
                "regimes": ["creeps", "one step", "oscillates, converges", "diverges"],
            },
        ),
    )


# --- 2-4. the rotated, ill-conditioned bowl --------------------------------------------------

BOWL = {"lambda_1": 1.0, "lambda_2": 20.0, "rotation": 30.0}
BOWL_START = [-2.0, -0.5]


def _bowl_theory() -> dict:
    t = theory.quadratic_theory(BOWL["lambda_1"], BOWL["lambda_2"])
    return {k: ([_r(x) for x in v] if isinstance(v, list) else _r(v)) for k, v in t.items()}


def _a_matrix() -> Lesson:
    t = _bowl_theory()
    lrs = [1 / t["lambda_max"], t["gd_best_lr"], 1.05 * t["gd_max_lr"]]
    lam = np.array(t["eigenvalues"])
    return Lesson(
        "a-matrix", 2, "The A matrix: different slopes in different directions",
        (
            "For E = ½ wᵀAw the error along each eigenvector of A changes on its own, by (1 − ηλᵢ) per step, "
            "as the per-eigenvector panel shows.",
            f"One step size must serve both directions: above 2/λmax = {t['gd_max_lr']:g} the steep one diverges "
            "(the third run), while η = 1/λmax settles it at once but crawls along the shallow one.",
            f"The best fixed step 2/(λmin + λmax) = {t['gd_best_lr']:.4f} zig-zags across the valley and converges "
            f"at (κ − 1)/(κ + 1) = {t['gd_rate']:.3f} per step, with κ = λmax/λmin = {t['condition_number']:g}.",
            "Change λ1 and λ2 to reshape the bowl.",
        ),
        _scene(
            "quadratic", dict(BOWL), [("gd", {"lr": lr}) for lr in lrs], start=BOWL_START, steps=200,
            views=["eigen_errors"],
            theory_numbers={**t, "factors": [[_r(1 - lr * x) for x in lam] for lr in lrs],
                            "rates": [_r(np.max(np.abs(1 - lr * lam))) for lr in lrs]},
        ),
    )


def _newton() -> Lesson:
    t = _bowl_theory()
    return Lesson(
        "newton", 3, "Normalization and Newton",
        (
            "Rescaling the axes by the Hessian (preconditioning, w ← w − η A⁻¹∇E) makes the elongated bowl round, "
            "so one step of η = 1 lands on the minimum.",
            "Newton's method rescales at every point, w ← w − H⁻¹∇E, jumping to the minimum of the local quadratic "
            "model E + gᵀd + ½ dᵀHd, so it solves any quadratic in one step.",
            "On a surface that is not quadratic the model is only local: switch to Rosenbrock's valley and the "
            "Taylor panel shows, at the current point, the model each Newton step jumps into.",
        ),
        _scene(
            "quadratic", dict(BOWL),
            [("gd", {"lr": t["gd_best_lr"]}), ("preconditioned", {"lr": 1.0}), ("newton", {"lr": 1.0})],
            start=BOWL_START, steps=50, views=["taylor"], theory_numbers=t,
        ),
    )


def _momentum() -> Lesson:
    t = _bowl_theory()
    lam = t["eigenvalues"]
    sk = float(np.sqrt(t["condition_number"]))
    nest_mu = (sk - 1) / (sk + 1)
    runs = [
        ("gd", {"lr": t["gd_best_lr"]}),
        ("momentum", {"lr": t["momentum_best_lr"], "momentum": t["momentum_best_beta"]}),
        ("nesterov", {"lr": 1 / t["lambda_max"], "momentum": nest_mu}),
        ("momentum", {"lr": t["momentum_best_lr"], "momentum": 0.9}),
    ]
    # Rates of the parameters as the scene holds them (rounded for the URL).
    runs = [(name, {k: _r(v) for k, v in p.items()}) for name, p in runs]
    bowl = make_surface("quadratic", lambda_1=lam[0], lambda_2=lam[1], rotation=0)
    rates = [capabilities.predicted_rate(bowl, name, p) for name, p in runs]
    return Lesson(
        "momentum", 4, "Momentum (and Nesterov) fix the zig-zag",
        (
            "Momentum keeps a velocity, v ← βv + g and w ← w − ηv (PyTorch's convention): gradients that "
            "alternate across the valley cancel in v, those along it add up.",
            f"On this bowl (κ = {t['condition_number']:g}) the heavy ball at η* = (2/(√λmin + √λmax))² = "
            f"{t['momentum_best_lr']:.4f}, β* = ((√κ − 1)/(√κ + 1))² = {t['momentum_best_beta']:.4f} converges at "
            f"(√κ − 1)/(√κ + 1) = {t['momentum_rate']:.3f} per step instead of (κ − 1)/(κ + 1) = {t['gd_rate']:.3f}.",
            f"Nesterov at η = 1/λmax, μ = (√κ − 1)/(√κ + 1) gets 1 − 1/√κ = {1 - 1 / sk:.3f}, while too much "
            "momentum (β = 0.9) spirals, slower than plain gradient descent.",
            "Click a cell of the (η, β) rate map to set both sliders.",
        ),
        _scene(
            "quadratic", dict(BOWL), runs, start=BOWL_START, steps=200, views=["rate_map"],
            theory_numbers={**t, "eta_star": t["momentum_best_lr"], "beta_star": t["momentum_best_beta"],
                            "nesterov_lr": _r(1 / t["lambda_max"]), "nesterov_momentum": _r(nest_mu),
                            "rates": [_r(float(r)) for r in rates]},
        ),
    )


# --- 5. saddle points ---------------------------------------------------------------------------

SADDLE = {"curvature_ratio": 1.0, "wall": 0.5}


def _saddle() -> Lesson:
    r, w = SADDLE["curvature_ratio"], SADDLE["wall"]
    lr = 0.05
    return Lesson(
        "saddle", 5, "Saddle points",
        (
            "At a saddle the gradient is zero but one Hessian eigenvalue is negative: E = x² − y² + ½y⁴ rises "
            "along x and falls along y, towards minima at y = ±1.",
            "Gradient descent started almost on the x-axis (the stable manifold) crawls near the saddle, its "
            f"gradient norm falling by orders of magnitude, while the tiny y grows by only {1 + 2 * r * lr:g}× "
            "per step until it escapes.",
            "Newton's method jumps to where its quadratic model is flat, the saddle itself; momentum and noisy "
            "SGD get away far sooner.",
        ),
        _scene(
            "saddle", dict(SADDLE),
            [("gd", {"lr": lr}), ("momentum", {"lr": lr, "momentum": 0.9}),
             ("sgd", {"lr": lr, "noise": 0.1, "seed": 0}), ("newton", {"lr": 1.0})],
            start=[-1.8, 1e-6], steps=250, views=["grad_norm", "hessian"],
            theory_numbers={"saddle": [0.0, 0.0], "hessian_eigenvalues_at_saddle": [-2 * r, 2.0],
                            "minima": [[0.0, _r(np.sqrt(r / (2 * w)))], [0.0, _r(-np.sqrt(r / (2 * w)))]],
                            "gd_escape_factor": _r(1 + 2 * r * lr), "gd_approach_factor": _r(1 - 2 * lr)},
        ),
    )


# --- 6. cross-entropy vs L2 ---------------------------------------------------------------------

def _ce_vs_l2() -> Lesson:
    return Lesson(
        "ce-vs-l2", 6, "Cross-entropy vs L2",
        (
            "The two-weight network y = σ(w2 · tanh(w1 · x)) with cross-entropy and with L2 = ½(y − d)², side by "
            "side, trained from the same start with the same step.",
            "L2's slope y − d is multiplied by σ'(z), which vanishes when the output saturates, so a confidently "
            "wrong network sits on a plateau.",
            "Cross-entropy's slope −d/y + (1 − d)/(1 − y) cancels that factor (at y = d it is −1 for d = 1 and +1 "
            "for d = 0, not 0) and CE → ∞ as y becomes confidently wrong, so it gets down in a fraction of L2's "
            "steps.",
        ),
        _scene(
            "two_weight_net", {"loss": "ce", "activation": "tanh"}, [("gd", {"lr": 0.5})],
            start=[3.5, -5.0], steps=500, views=["compare", "loss_curves"],
            compare={"surfaceParams": {"loss": "l2", "activation": "tanh"}},
            theory_numbers={"target_fraction": 0.95,
                            "ce_slope_at_target": {"d=0": 1.0, "d=1": -1.0},
                            "l2_slope_at_target": {"d=0": 0.0, "d=1": 0.0}},
        ),
    )


# --- 7. label smoothing -------------------------------------------------------------------------

SMOOTHING = 0.1


def _label_smoothing() -> Lesson:
    return Lesson(
        "label-smoothing", 7, "Label smoothing",
        (
            "On separable data with hard labels 0 and 1, a logistic neuron's cross-entropy always falls as w grows, "
            "so there is no finite minimum and gradient descent grows the weights forever (like log k).",
            "Label smoothing replaces the targets by ε and 1 − ε, so the best output is no longer 0 or 1 and the "
            "minimum lies at a finite point.",
            f"Side by side, ε = 0 and ε = {SMOOTHING:g}: the weight-norm panel shows one ‖w‖ still growing and the "
            "other settled.",
        ),
        _scene(
            "logistic_neuron", {"loss": "ce", "label_smoothing": 0.0}, [("gd", {"lr": 1.0})],
            start=[-1.0, 2.0], steps=3000, views=["weight_norm", "compare"],
            compare={"surfaceParams": {"loss": "ce", "label_smoothing": SMOOTHING}},
            theory_numbers={"label_smoothing": SMOOTHING, "hard_label_growth": "‖w‖ ≈ 2 ln k (max-margin w = 2)"},
        ),
    )


# --- 8. SGD, batch GD and mini-batches -----------------------------------------------------------

# Smoothed labels give a finite minimum at which the per-example gradients still disagree,
# the setting where constant-step SGD cannot settle. The Hessian there has λ ≈ 0.17 and 0.26,
# so η = 4 makes η/k decay slowly enough (ηλ ≈ 1) to reach the minimum before it freezes.
SGD_SURFACE = {"loss": "ce", "label_smoothing": 0.2}
SGD_LR = 4.0


def _sgd() -> Lesson:
    n, lecture_n, lecture_b = make_surface("logistic_neuron", **SGD_SURFACE).n_examples, 1000, 100
    runs = [("sgd", {"lr": SGD_LR, "batch_size": n, "seed": 0})]
    runs += [("sgd", {"lr": SGD_LR, "batch_size": 1, "seed": s}) for s in range(3)]
    runs += [("sgd", {"lr": SGD_LR, "batch_size": 1, "schedule": "inverse", "seed": s}) for s in range(3)]
    runs += [("sgd", {"lr": SGD_LR, "batch_size": 4, "seed": 0})]
    v = float(theory.minibatch_variance_law(1.0, lecture_n, [lecture_b])[0])
    return Lesson(
        "sgd", 8, "SGD, batch GD and mini-batches",
        (
            f"Batch GD follows the gradient averaged over all N = {n} examples of this logistic neuron (smoothed "
            "labels); SGD follows one example at a time, an unbiased but noisy estimate.",
            "With a constant step SGD keeps bouncing, because near the minimum the examples still pull different "
            "ways (three seeds); with η_k = η/k the steps shrink and it settles (three more).",
            "A mini-batch of b divides the gradient variance by b, times (N − b)/(N − 1) when drawn without "
            f"replacement, so b = {lecture_b} of N = {lecture_n} already leaves only {100 * v:.1f}% of it: nearly "
            "all the reduction of the full batch.",
        ),
        _scene(
            "logistic_neuron", dict(SGD_SURFACE), runs, start=[0.0, 3.0], steps=1000, views=["variance"],
            theory_numbers={"n_examples": n, "variance_law": "σ²/b · (N − b)/(N − 1)",
                            "lecture": {"n": lecture_n, "b": lecture_b, "variance_fraction": _r(v),
                                        "reduction_captured": _r(1 - v)}},
        ),
    )


# --- 9. backprop ------------------------------------------------------------------------------

def _backprop() -> Lesson:
    return Lesson(
        "backprop", 9, "Backprop, one weight at a time",
        (
            "Click a point of the surface to see the forward pass for one example, u = w1·x, h = a(u), z = w2·h, "
            "y = σ(z), and the divergence Div(y, d).",
            "The backward pass multiplies local derivatives, ∂Div/∂w2 = ∂Div/∂y · ∂y/∂z · h and ∂Div/∂w1 = "
            "∂Div/∂y · ∂y/∂z · w2 · a'(u) · x, and their mean over the examples is the gradient the optimizer uses.",
            "Switch the hidden activation: tanh(u) = 2σ(2u) − 1 is a scaled and shifted sigmoid, and ReLU's "
            "derivative jumps at u = 0 (we take the sub-gradient 1 there), which the surface shows as a kink.",
        ),
        _scene(
            "two_weight_net", {"loss": "ce", "activation": "tanh"}, [("gd", {"lr": 0.5})],
            start=[0.5, -0.5], steps=200, views=["backprop"],
            theory_numbers={"activations": ["sigmoid", "tanh", "relu"], "relu_subgradient_at_0": 1.0,
                            "tanh_from_sigmoid": "tanh(u) = 2σ(2u) − 1"},
        ),
    )


LESSONS: tuple[Lesson, ...] = (
    _step_size(), _a_matrix(), _newton(), _momentum(), _saddle(), _ce_vs_l2(), _label_smoothing(), _sgd(), _backprop(),
)

_BY_ID = {lesson.id: lesson for lesson in LESSONS}


def get_lesson(lesson_id: str) -> Lesson:
    """The lesson with this id; KeyError names the known ids."""
    try:
        return _BY_ID[lesson_id]
    except (KeyError, TypeError):
        raise KeyError(f"no lesson {lesson_id!r}; lessons: {', '.join(_BY_ID)}") from None
