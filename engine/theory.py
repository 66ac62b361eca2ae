"""What theory predicts, next to the runner so each checks the other.

Conventions match the optimizers: heavy ball is v ← β v + g, x ← x − η v (PyTorch),
which on a quadratic is x_{k+1} = x_k − η ∇f(x_k) + β (x_k − x_{k−1}), the
form used by Goh, "Why Momentum Really Works", Distill 2017.
"""

from __future__ import annotations

import numpy as np

from engine.surfaces.base import DataSurface, Surface, as_points


def quadratic_theory(lambda_1: float, lambda_2: float) -> dict:
    """Step sizes and rates for f = ½ xᵀAx with eigenvalues λ1, λ2.

    Returns eigenvalues, κ = λmax/λmin, η_opt = 1/λ per eigendirection, the best
    fixed GD step 2/(λmin + λmax) and its rate (κ − 1)/(κ + 1), the divergence bound
    2/λmax, and the optimal heavy ball η* = (2/(√λmin + √λmax))²,
    β* = ((√κ − 1)/(√κ + 1))² with its rate (√κ − 1)/(√κ + 1).

    >>> t = quadratic_theory(1.0, 100.0)
    >>> round(t["condition_number"]), round(t["gd_rate"], 4), round(t["momentum_rate"], 4)
    (100, 0.9802, 0.8182)
    """
    lo, hi = sorted((float(lambda_1), float(lambda_2)))
    kappa = hi / lo
    sk = float(np.sqrt(kappa))
    return {
        "eigenvalues": [float(lambda_1), float(lambda_2)],
        "lambda_min": lo,
        "lambda_max": hi,
        "condition_number": kappa,
        "eta_opt": [1.0 / lambda_1, 1.0 / lambda_2],
        "gd_best_lr": 2.0 / (lo + hi),
        "gd_rate": (kappa - 1) / (kappa + 1),
        "gd_max_lr": 2.0 / hi,
        "momentum_best_lr": (2.0 / (np.sqrt(lo) + np.sqrt(hi))) ** 2,
        "momentum_best_beta": ((sk - 1) / (sk + 1)) ** 2,
        "momentum_rate": (sk - 1) / (sk + 1),
    }


def heavy_ball_rate(lr, beta, eigenvalues) -> np.ndarray:
    """Convergence rate of heavy ball on a quadratic: the largest spectral radius, over the
    eigenvalues λ, of the 2×2 iteration matrix [[1 + β − ηλ, −β], [1, 0]].

    Its eigenvalues solve t² − (1 + β − ηλ) t + β = 0. A rate ≥ 1 means divergence.
    ``lr`` and ``beta`` broadcast, so a whole (η, β) map is one call. β = 0 is plain GD,
    whose rate is max |1 − ηλ|.
    """
    lr = np.asarray(lr, dtype=float)[..., None]
    beta = np.asarray(beta, dtype=float)[..., None]
    lam = np.asarray(eigenvalues, dtype=float)
    a = 1 + beta - lr * lam
    disc = a * a - 4 * beta
    root = np.sqrt(np.abs(disc))
    real = np.maximum(np.abs(a + root), np.abs(a - root)) / 2
    complex_ = np.sqrt(np.abs(beta)) * np.ones_like(a)
    return np.max(np.where(disc >= 0, real, complex_), axis=-1)


def rate_map(eigenvalues, lrs, betas) -> np.ndarray:
    """Heavy-ball rate on the grid: ``out[j, i]`` for ``betas[j]`` and ``lrs[i]``."""
    lr, beta = np.meshgrid(np.asarray(lrs, float), np.asarray(betas, float))
    return heavy_ball_rate(lr, beta, eigenvalues)


def gd_error_by_direction(surface, start, lr: float, steps: int) -> np.ndarray:
    """Error along each eigenvector of a quadratic after k GD steps: eᵢ(k) = (1 − ηλᵢ)ᵏ eᵢ(0).

    Returns an array of shape (steps + 1, 2), column i for eigenvalue λᵢ.
    """
    e0 = surface.rotation_matrix.T @ np.asarray(start, float)
    k = np.arange(steps + 1)[:, None]
    return (1 - lr * surface.eigenvalues) ** k * e0


def measured_rate(errors, skip: int | None = None) -> float:
    """Geometric mean per-step contraction of a positive error sequence over its tail.

    Uses entries ``skip … last`` (default: from a third of the way in); stops at the first
    error below 1e-250 so underflow cannot bias it.
    """
    e = np.asarray(errors, dtype=float)
    tiny = np.flatnonzero(e < 1e-250)
    if tiny.size:
        e = e[: tiny[0]]
    skip = len(e) // 3 if skip is None else skip
    if len(e) - 1 - skip < 1:
        raise ValueError("measured_rate needs at least two errors after skip")
    return float((e[-1] / e[skip]) ** (1.0 / (len(e) - 1 - skip)))


def hessian_eigenvalues(surface: Surface, point) -> dict:
    """Hessian eigenvalues at a point and what they say: minimum, maximum, saddle or flat."""
    h = surface.hessian(as_points(point))
    lam, vec = np.linalg.eigh(h)
    scale = max(1e-12, float(np.max(np.abs(lam))))
    if lam[0] > 1e-9 * scale:
        kind = "minimum-like (both curvatures positive)"
    elif lam[1] < -1e-9 * scale:
        kind = "maximum-like (both curvatures negative)"
    elif lam[0] < -1e-9 * scale and lam[1] > 1e-9 * scale:
        kind = "saddle (one negative curvature)"
    else:
        kind = "degenerate (a zero curvature)"
    return {"eigenvalues": lam.tolist(), "eigenvectors": vec.T.tolist(), "kind": kind}


def minibatch_gradient_variance(surface: DataSurface, point, batch_sizes) -> np.ndarray:
    """Predicted E‖g_B − g‖² for batches of size b drawn without replacement.

    σ²/b · (N − b)/(N − 1), where σ² is the mean squared deviation of the per-example
    gradients from their mean: the 1/b law, times the finite-population factor that
    makes the full batch (b = N) exact.
    """
    _, ex = surface.example_value_and_grad(as_points(point))
    n = ex.shape[-2]
    sigma2 = float(np.mean(np.sum((ex - ex.mean(axis=-2, keepdims=True)) ** 2, -1)))
    b = np.asarray(batch_sizes, dtype=float)
    return sigma2 / b * (n - b) / (n - 1)


def measure_minibatch_variance(surface: DataSurface, point, batch_size: int, samples: int = 2000, seed: int = 0) -> float:
    """Empirical E‖g_B − g‖² over ``samples`` batches drawn without replacement."""
    _, ex = surface.example_value_and_grad(as_points(point))
    n = ex.shape[0]
    full = ex.mean(axis=0)
    rng = np.random.default_rng(seed)
    idx = np.argsort(rng.random((samples, n)), axis=1)[:, :batch_size]
    means = ex[idx].mean(axis=1)
    return float(np.mean(np.sum((means - full) ** 2, -1)))


# --- what the lessons' panels draw -----------------------------------------------------

def nesterov_rate(lr, momentum, eigenvalues) -> np.ndarray:
    """Convergence rate of Nesterov momentum (PyTorch's form) on a quadratic.

    With a = ηλ, v ← β v + g and x ← x − η (g + β v) act on each eigendirection as a linear
    recurrence with characteristic polynomial t² − (1 + β)(1 − a) t + β(1 − a); the rate is
    the largest root modulus over the eigenvalues λ. ``lr`` and ``momentum`` broadcast.
    β = 0 is plain GD, max |1 − ηλ|.

    >>> float(nesterov_rate(0.05, 0.0, [1.0, 20.0]))
    0.95
    >>> round(float(nesterov_rate(0.05, 0.5, [1.0, 20.0])), 4)
    0.8932
    """
    lr = np.asarray(lr, dtype=float)[..., None]
    mu = np.asarray(momentum, dtype=float)[..., None]
    lam = np.asarray(eigenvalues, dtype=float)
    c = 1 - lr * lam
    b = (1 + mu) * c
    disc = (b * b - 4 * mu * c).astype(complex)
    root = np.sqrt(disc)
    rate = np.maximum(np.abs(b + root), np.abs(b - root)) / 2
    return np.max(rate, axis=-1)


def eigen_errors(surface, points, lr: float | None = None) -> dict:
    """The error along each eigenvector of a quadratic bowl, measured and (for GD) predicted.

    The measured error of iterate k along eigenvector vᵢ is eᵢ(k) = vᵢ · x_k (the minimum is
    the origin). For gradient descent with step η theory says eᵢ(k) = (1 − ηλᵢ)ᵏ eᵢ(0):
    each direction shrinks (or, past 2/λᵢ, grows) on its own, the view of Goh's
    "Why Momentum Really Works" (Distill, 2017).

    Args:
      surface: a ``quadratic`` surface.
      points: a trajectory, shape (n, 2); ``points[0]`` is the start.
      lr: GD's step η for the prediction; None (e.g. for momentum runs) predicts nothing.

    Returns:
      ``{"eigenvalues": [λ1, λ2], "eigenvectors": [v1, v2], "measured": (n, 2) array,
      "predicted": (n, 2) array or None, "factors": [1 − ηλ1, 1 − ηλ2] or None}``;
      column i of ``measured`` and ``predicted`` belongs to λᵢ.

    >>> from engine.surfaces import make_surface
    >>> bowl = make_surface("quadratic", lambda_1=1, lambda_2=4, rotation=0)
    >>> e = eigen_errors(bowl, [[1.0, 1.0], [0.5, -1.0]], lr=0.5)
    >>> e["measured"].tolist(), e["predicted"].tolist(), e["factors"]
    ([[1.0, 1.0], [0.5, -1.0]], [[1.0, 1.0], [0.5, -1.0]], [0.5, -1.0])
    """
    if not hasattr(surface, "rotation_matrix"):
        raise ValueError(f"eigen_errors needs the quadratic surface, not {surface.NAME}")
    pts = as_points(points).reshape(-1, 2)
    r = surface.rotation_matrix
    measured = pts @ r  # column i: the component along r[:, i], the eigenvector of λᵢ
    out = {
        "eigenvalues": surface.eigenvalues.tolist(),
        "eigenvectors": r.T.tolist(),
        "measured": measured,
        "predicted": None,
        "factors": None,
    }
    if lr is not None:
        factors = 1 - lr * surface.eigenvalues
        k = np.arange(len(pts))[:, None]
        with np.errstate(over="ignore"):
            out["predicted"] = factors**k * measured[0]
        out["factors"] = factors.tolist()
    return out


def taylor_model(surface: Surface, point, grid_points) -> np.ndarray:
    """The second-order Taylor model of the surface around ``point``, evaluated at ``grid_points``.

    m(x + d) = f(x) + gᵀd + ½ dᵀHd with f, g, H the loss, gradient and Hessian at x.
    A Newton step with η = 1 jumps to the model's stationary point x − H⁻¹g, its minimum
    when H is positive definite. On a quadratic the model is the surface itself.

    Returns an array of shape ``grid_points.shape[:-1]``.

    >>> from engine.surfaces import make_surface
    >>> s = make_surface("saddle", wall=0)  # x² − y², itself a quadratic
    >>> taylor_model(s, [1.0, 1.0], [[0.0, 0.0], [2.0, 3.0]]).tolist()
    [0.0, -5.0]
    """
    x = as_points(point).reshape(2)
    d = as_points(grid_points) - x
    f, g = surface.value_and_grad(x)
    h = surface.hessian(x)
    quad = np.einsum("...i,ij,...j->...", d, h, d)
    return f + d @ g + 0.5 * quad


def taylor_view(surface: Surface, point, n: int = 41, view=None) -> dict:
    """What the Taylor panel draws: the local quadratic model around ``point`` and where Newton jumps.

    Returns ``{"point": [x, y], "value": f, "grad": [gx, gy], "hessian": 2×2 list,
    "eigenvalues": [λ_lo, λ_hi], "kind": "minimum" | "saddle" | "maximum" | "degenerate",
    "newton_point": [x, y] (x − H⁺g, where Newton with η = 1 lands), "newton_value": model there,
    "x": (n,) array, "y": (n,) array, "z": (n, n) model values with z[j, i] at (x[i], y[j])}``
    over ``view`` (default: the surface's view). "kind" says what the model's stationary
    point is: only for "minimum" is the Newton point the model's minimizer.

    >>> from engine.surfaces import make_surface
    >>> t = taylor_view(make_surface("quadratic", lambda_1=1, lambda_2=4, rotation=0), [1.0, 1.0], n=3)
    >>> t["newton_point"], t["kind"], t["z"].shape
    ([0.0, 0.0], 'minimum', (3, 3))
    """
    from engine.optimizers import pseudo_inverse_apply

    x = as_points(point).reshape(2)
    f, g = surface.value_and_grad(x)
    h = np.asarray(surface.hessian(x), dtype=float)
    lam = np.linalg.eigvalsh(h)
    scale = max(1e-12, float(np.max(np.abs(lam))))
    tol = 1e-9 * scale
    kind = ("minimum" if lam[0] > tol else "maximum" if lam[1] < -tol
            else "saddle" if lam[0] < -tol and lam[1] > tol else "degenerate")
    target = x - pseudo_inverse_apply(h, g)
    x0, x1, y0, y1 = view or surface.view
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)
    return {
        "point": x.tolist(), "value": float(f), "grad": np.asarray(g).tolist(), "hessian": h.tolist(),
        "eigenvalues": lam.tolist(), "kind": kind,
        "newton_point": target.tolist(), "newton_value": float(taylor_model(surface, x, target)),
        "x": xs, "y": ys, "z": taylor_model(surface, x, grid),
    }


def weight_norms(points) -> np.ndarray:
    """‖w‖ of every point of a trajectory: shape (n, 2) → (n,).

    >>> weight_norms([[3.0, 4.0], [0.0, -1.0]]).tolist()
    [5.0, 1.0]
    """
    return np.linalg.norm(as_points(points), axis=-1)


def output_loss_curves(ys) -> dict:
    """Cross-entropy and squared error of one output y ∈ (0, 1), and their slopes dE/dy, for d = 0 and d = 1.

    CE(y; d) = −[d log y + (1 − d) log(1 − y)],   dCE/dy = −d/y + (1 − d)/(1 − y);
    L2(y; d) = ½ (y − d)²,                        dL2/dy = y − d.

    At y = d the CE slope is −1 (d = 1) or +1 (d = 0), never 0 as L2's is, and CE → ∞
    as y → 1 − d (confidently wrong), where L2 stays below ½.

    Returns ``{"y": (n,) array, "curves": [{"d": 0, "ce": …, "ce_dy": …, "l2": …, "l2_dy": …},
    {"d": 1, …}]}``, every curve an (n,) array.

    >>> c = output_loss_curves([0.5, 1 - 1e-9])
    >>> [round(float(v), 3) for v in c["curves"][1]["ce_dy"]], [round(float(v), 3) for v in c["curves"][0]["ce"]]
    ([-2.0, -1.0], [0.693, 20.723])
    """
    y = np.asarray(ys, dtype=float)
    if y.size == 0 or not np.all(np.isfinite(y)) or np.any((y <= 0) | (y >= 1)):
        raise ValueError("output_loss_curves needs outputs y with 0 < y < 1")
    curves = []
    for d in (0, 1):
        curves.append({
            "d": d,
            "ce": -(d * np.log(y) + (1 - d) * np.log1p(-y)),
            "ce_dy": -d / y + (1 - d) / (1 - y),
            "l2": 0.5 * (y - d) ** 2,
            "l2_dy": y - d,
        })
    return {"y": y, "curves": curves}


def activation_curves(us) -> dict:
    """Each hidden activation a(u) and its derivative a'(u), as the two-weight network uses them.

    sigmoid σ(u) = 1/(1 + e⁻ᵘ), σ' = σ(1 − σ); tanh(u) = 2σ(2u) − 1 (a scaled, shifted
    sigmoid), tanh' = 1 − tanh²; ReLU max(0, u), whose derivative is taken to be ½ at u = 0 (the mean of its one-sided slopes).

    Returns ``{"u": (n,) array, "curves": [{"name": "sigmoid", "a": …, "da": …}, tanh, relu]}``.

    >>> c = activation_curves([0.0])
    >>> [(k["name"], float(k["a"][0]), float(k["da"][0])) for k in c["curves"]]
    [('sigmoid', 0.5, 0.25), ('tanh', 0.0, 1.0), ('relu', 0.0, 0.5)]
    """
    from engine.surfaces.data import activation

    u = np.asarray(us, dtype=float)
    curves = []
    for name in ("sigmoid", "tanh", "relu"):
        a, da, _ = activation(u, name)
        curves.append({"name": name, "a": a, "da": da})
    return {"u": u, "curves": curves}


def backprop_chain(surface, point, example: int) -> dict:
    """Forward and backward pass of the two-weight network for one training example.

    Forward: u = w1·x, h = a(u), z = w2·h, y = σ(z), Div = loss(y, d).
    Backward, the chain rule as a product of local derivatives:

        ∂Div/∂w2 = ∂Div/∂y · ∂y/∂z · ∂z/∂w2,                 ∂z/∂w2 = h
        ∂Div/∂w1 = ∂Div/∂y · ∂y/∂z · ∂z/∂h · ∂h/∂u · ∂u/∂w1,  ∂z/∂h = w2, ∂h/∂u = a'(u), ∂u/∂w1 = x

    with ∂y/∂z = y(1 − y), ∂Div/∂y = −d/y + (1 − d)/(1 − y) for cross-entropy and y − d for
    L2, and ReLU's a'(0) = ½ as in the engine. 1 − y is computed as σ(−z) so the CE factors
    stay accurate when the output saturates (|z| up to several hundred).

    Returns ``{"example", "x", "d", "w1", "w2", "loss", "activation",
    "forward": {"x", "u", "h", "z", "y", "div"},
    "backward": {"dDiv_dy", "dy_dz", "dz_dw2", "dz_dh", "dh_du", "du_dw1"},
    "grad": [∂Div/∂w1, ∂Div/∂w2] (the products), "engine_grad": the engine's per-example
    gradient, "mean_grad": the surface gradient (the mean over examples, what GD uses)}``;
    all numbers are floats.

    >>> from engine.surfaces import make_surface
    >>> s = make_surface("two_weight_net")
    >>> b = backprop_chain(s, [0.5, -0.5], 0)
    >>> b["forward"]["x"], b["d"], round(b["backward"]["dh_du"], 4)
    (0.25, 1.0, 0.9845)
    >>> abs(b["grad"][0] - b["engine_grad"][0]) < 1e-15
    True
    """
    if not hasattr(surface, "forward") or not isinstance(surface, DataSurface):
        raise ValueError(f"backprop_chain needs the two-weight network, not {surface.NAME}")
    n = surface.n_examples
    if isinstance(example, bool) or not isinstance(example, (int, np.integer)) or not 0 <= example < n:
        raise ValueError(f"example = {example!r} is not allowed: an integer with 0 ≤ example < {n}")
    w1, w2 = (float(v) for v in as_points(point).reshape(2))
    x = float(surface.inputs[example])
    d = float(surface.targets[example])
    fw = surface.forward([w1, w2])
    u, h, dh = (float(fw[k][example]) for k in ("u", "h", "dh"))
    z = w2 * h
    y = float(np.exp(-np.logaddexp(0.0, -z)))  # σ(z)
    one_minus_y = float(np.exp(-np.logaddexp(0.0, z)))  # σ(−z) = 1 − σ(z), without cancellation
    loss_name = surface.params["loss"]
    with np.errstate(divide="ignore"):
        if loss_name == "ce":
            div = float(np.logaddexp(0.0, z) - d * z)
            ddiv_dy = -d / y + (1 - d) / one_minus_y
        else:
            div = 0.5 * (y - d) ** 2
            ddiv_dy = y - d
    dy_dz = y * one_minus_y
    chain = {"dDiv_dy": ddiv_dy, "dy_dz": dy_dz, "dz_dw2": h, "dz_dh": w2, "dh_du": dh, "du_dw1": x}
    g_w2 = ddiv_dy * dy_dz * h
    g_w1 = ddiv_dy * dy_dz * w2 * dh * x
    _, ex = surface.example_value_and_grad(np.array([w1, w2]))
    return {
        "example": int(example), "x": x, "d": d, "w1": w1, "w2": w2,
        "loss": loss_name, "activation": surface.params["activation"],
        "forward": {"x": x, "u": u, "h": h, "z": z, "y": y, "div": div},
        "backward": {k: float(v) for k, v in chain.items()},
        "grad": [float(g_w1), float(g_w2)],
        "engine_grad": ex[example].tolist(),
        "mean_grad": surface.grad([w1, w2]).tolist(),
    }


def minibatch_variance_law(sigma2: float, n: int, batch_sizes) -> np.ndarray:
    """E‖g_B − g‖² = σ²/b · (N − b)/(N − 1) for batches of b of N examples drawn without replacement.

    The 1/b law times the finite-population factor, which is 0 for the full batch.

    >>> minibatch_variance_law(1.0, 1000, [1, 100, 1000]).round(5).tolist()
    [1.0, 0.00901, 0.0]
    """
    b = np.asarray(batch_sizes, dtype=float)
    return sigma2 / b * (n - b) / (n - 1)


def variance_reduction_captured(n: int, batch_sizes) -> np.ndarray:
    """The fraction of the full batch's variance reduction that a batch of b already gives.

    (σ² − V(b)) / (σ² − V(N)) with V from ``minibatch_variance_law``: b = 1 gives 0,
    b = N gives 1. The lecture's point: b = 100 of N = 1000 gives 99%.

    >>> variance_reduction_captured(1000, [1, 10, 100, 1000]).round(3).tolist()
    [0.0, 0.901, 0.991, 1.0]
    """
    return 1.0 - minibatch_variance_law(1.0, n, batch_sizes)


def population_minibatch_variance(grads, batch_size: int, samples: int = 2000, seed: int = 0) -> float:
    """Measured E‖g_B − g‖² over ``samples`` batches of ``batch_size`` rows of ``grads`` (N, D),
    drawn without replacement; g is the mean of all N rows.

    >>> population_minibatch_variance([[1.0, 0.0], [-1.0, 0.0]], 2, samples=10)
    0.0
    """
    ex = np.asarray(grads, dtype=float)
    n = ex.shape[0]
    if isinstance(batch_size, bool) or not 1 <= int(batch_size) <= n:
        raise ValueError(f"batch_size = {batch_size!r} is not allowed: an integer with 1 ≤ batch_size ≤ {n}")
    full = ex.mean(axis=0)
    rng = np.random.default_rng(seed)
    idx = np.argsort(rng.random((samples, n)), axis=1)[:, : int(batch_size)]
    means = ex[idx].mean(axis=1)
    return float(np.mean(np.sum((means - full) ** 2, -1)))


def minibatch_variance_curve(surface: DataSurface, point, batch_sizes=None, samples: int = 1000, seed: int = 0) -> dict:
    """What the variance panel draws: measured mini-batch gradient variance against b, with the laws.

    σ² is the mean squared deviation of the per-example gradients at ``point`` from their mean.
    Returns ``{"n": N, "sigma2": σ², "batch_sizes": (m,) int array, "measured": (m,) array
    (``samples`` batches each), "predicted": σ²/b · (N − b)/(N − 1), "one_over_b": σ²/b (an
    endless stream of examples), "full_batch": σ²/N (the full batch as an estimate of the
    expected gradient), "captured": the fraction of the full batch's reduction each b gives}``.
    ``batch_sizes`` defaults to every b for N ≤ 64, else about 20 sizes spaced evenly in log b.

    >>> from engine.surfaces import make_surface
    >>> v = minibatch_variance_curve(make_surface("logistic_neuron", label_smoothing=0.2), [1.0, 0.0], samples=10)
    >>> v["n"], v["batch_sizes"].tolist()[-1], float(v["predicted"][-1]), bool(v["measured"][-1] < 1e-30)
    (8, 8, 0.0, True)
    """
    _, ex = surface.example_value_and_grad(as_points(point).reshape(2))
    n = ex.shape[0]
    if batch_sizes is None:
        batch_sizes = np.arange(1, n + 1) if n <= 64 else np.unique(np.geomspace(1, n, 20).round().astype(int))
    b = np.asarray(batch_sizes, dtype=int)
    sigma2 = float(np.mean(np.sum((ex - ex.mean(axis=0)) ** 2, -1)))
    measured = np.array([population_minibatch_variance(ex, int(k), samples=samples, seed=seed + i)
                         for i, k in enumerate(b)])
    return {
        "n": int(n), "sigma2": sigma2, "batch_sizes": b, "measured": measured,
        "predicted": minibatch_variance_law(sigma2, n, b), "one_over_b": sigma2 / b,
        "full_batch": sigma2 / n, "captured": variance_reduction_captured(n, b),
    }

