"""What the rest of Loss Lab may ask of an optimizer, declared once on its catalog entry.

Each ``OptimizerSpec`` carries a :class:`Capabilities`: whether it has a velocity (the
page draws its step as a second arrow), which closed-form rate theory holds for it on
the quadratic bowl, which of its parameters is the β of an (η, β) map, and whether the
compiled engine has a kernel for it. Nothing else decides these by optimizer name: the
service, the Python API, the lessons and the page (through ``GET /api/optimizers``) all
read them from here, and the functions below turn them into numbers.

Theory on the quadratic f = ½ xᵀAx with eigenvalues λ (``engine.theory``):

- ``heavy_ball`` (GD is β = 0): rate = max over λ of the spectral radius of
  [[1 + β − ηλ, −β], [1, 0]]; stable iff 0 < η < 2(1 + β)/λmax.
- ``nesterov`` (PyTorch's form): the roots of t² − (1 + μ)(1 − ηλ) t + μ(1 − ηλ);
  stable iff 0 < η < 2(1 + μ)/((1 + 2μ) λmax) (Jury's conditions on that polynomial).
- ``newton`` (Newton, and preconditioned GD whose P = A on a quadratic): every direction
  contracts by |1 − η|, so η = 1 lands on the minimum in one step.

Rates and edges hold for a constant step size only, and for a stochastic optimizer only
without gradient noise.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from engine.params import RATE_THEORIES, Capabilities  # declared beside Param: the catalog needs no functions

__all__ = ["RATE_THEORIES", "Capabilities", "has_velocity", "predicted_rate", "stability_edge", "step_marks",
           "analytic_rate_map", "predicted_steps"]


def _caps(name: str) -> Capabilities:
    from engine.optimizers import get_spec

    return get_spec(name).capabilities


def has_velocity(name: str, params: Mapping[str, Any]) -> bool:
    """Whether a run of ``name`` with ``params`` carries a velocity (e.g. momentum with μ > 0)."""
    v = _caps(name).velocity
    return v == "always" or (v is not None and float(params.get(v, 0.0)) > 0)


def _theory_applies(name: str, params: Mapping[str, Any]) -> str | None:
    """The rate theory that holds for this configuration (constant step, no gradient noise), else None."""
    from engine.optimizers import get_spec

    spec = get_spec(name)
    kind = spec.capabilities.rate
    if kind is None or params.get("schedule", "constant") != "constant":
        return None
    if spec.stochastic and float(params.get("noise", 0.0)) != 0.0:
        return None
    return kind


def _eigenvalues(surface) -> np.ndarray | None:
    """The Hessian's eigenvalues where they are the same everywhere (the quadratic bowl), else None."""
    lam = getattr(surface, "eigenvalues", None)
    return None if lam is None else np.asarray(lam, dtype=float)


def is_plain_gradient_step(name: str, params: Mapping[str, Any]) -> bool:
    """Whether each step is exactly x ← x − η∇f with a constant η (heavy-ball theory at β = 0), so the
    error along each eigenvector of a quadratic is (1 − ηλᵢ)ᵏ e₀.

    >>> is_plain_gradient_step("gd", {"lr": 0.1}), is_plain_gradient_step("sgd", {"lr": 0.1, "momentum": 0.5})
    (True, False)
    """
    beta = _caps(name).beta
    return _theory_applies(name, params) == "heavy_ball" and not (beta and float(params.get(beta, 0.0)) > 0)


def predicted_rate(surface, name: str, params: Mapping[str, Any]) -> float | None:
    """Per-step contraction theory predicts for a run, where a closed form exists (else None).

    >>> from engine.surfaces import make_surface
    >>> bowl = make_surface("quadratic", lambda_1=1, lambda_2=10, rotation=0)
    >>> predicted_rate(bowl, "gd", {"lr": 0.1}), predicted_rate(bowl, "newton", {"lr": 1.0})
    (0.9, 0.0)
    >>> predicted_rate(bowl, "adam", {"lr": 0.1}) is None
    True
    """
    from engine import theory

    kind = _theory_applies(name, params)
    lam = _eigenvalues(surface)
    if kind is None or lam is None:
        return None
    lr = float(params["lr"])
    beta = float(params.get(_caps(name).beta, 0.0)) if _caps(name).beta else 0.0
    if kind == "heavy_ball":
        return float(theory.heavy_ball_rate(lr, beta, lam))
    if kind == "nesterov":
        return float(theory.nesterov_rate(lr, beta, lam))
    return float(abs(1.0 - lr))  # newton: H⁻¹A = I, every direction contracts by |1 − η|


def stability_edge(surface, name: str, params: Mapping[str, Any]) -> float | None:
    """The largest stable step size η theory gives for this configuration, where it exists.

    >>> from engine.surfaces import make_surface
    >>> bowl = make_surface("quadratic", lambda_1=1, lambda_2=10, rotation=0)
    >>> stability_edge(bowl, "gd", {"lr": 0.1}), round(stability_edge(bowl, "momentum", {"lr": 0.1, "momentum": 0.5}), 9)
    (0.2, 0.3)
    """
    kind = _theory_applies(name, params)
    if kind == "newton":
        return 2.0
    lam = _eigenvalues(surface)
    if kind is None or lam is None:
        return None
    lmax = float(np.max(lam))
    beta = float(params.get(_caps(name).beta, 0.0)) if _caps(name).beta else 0.0
    if kind == "heavy_ball":
        return 2.0 * (1.0 + beta) / lmax
    return 2.0 * (1.0 + beta) / ((1.0 + 2.0 * beta) * lmax)  # nesterov


def step_marks(surface, name: str, params: Mapping[str, Any]) -> list[dict]:
    """Theory's marks for the step-size slider of this configuration: ``[{param, value, label}]``.

    GD (heavy ball with β = 0): 1/λmax (one step along the steepest direction) and 2/λmax (the
    edge); heavy ball: 2(1 + β)/λmax; Nesterov: 2(1 + β)/((1 + 2β) λmax); Newton and
    preconditioned GD: η = 1, the full step (the page shows "full step = 1"). None where no theory applies.

    >>> from engine.surfaces import make_surface
    >>> bowl = make_surface("quadratic", lambda_1=1, lambda_2=10, rotation=0)
    >>> [(m["label"], m["value"]) for m in step_marks(bowl, "gd", {"lr": 0.1})]
    [('1/λmax', 0.1), ('2/λmax', 0.2)]
    """
    kind = _theory_applies(name, params)
    if kind == "newton":
        return [{"param": "lr", "value": 1.0, "label": "full step"}]
    edge = stability_edge(surface, name, params)
    if edge is None:
        return []
    beta_name = _caps(name).beta
    beta = float(params.get(beta_name, 0.0)) if beta_name else 0.0
    if kind == "heavy_ball" and beta == 0.0:
        return [{"param": "lr", "value": edge / 2, "label": "1/λmax"}, {"param": "lr", "value": edge, "label": "2/λmax"}]
    label = "2(1+β)/λmax" if kind == "heavy_ball" else "Nesterov edge"
    return [{"param": "lr", "value": edge, "label": label}]


def analytic_rate_map(surface, name: str, params: Mapping[str, Any], lrs, betas) -> np.ndarray | None:
    """Theory's rate on an (η, β) grid, ``out[j, i]`` for ``betas[j]`` and ``lrs[i]``, where it exists.

    ``betas`` None sweeps η alone at the configuration's own β (0 without one): one row.
    """
    from engine import theory

    kind = _theory_applies(name, params)
    lam = _eigenvalues(surface)
    if kind is None or lam is None:
        return None
    beta_name = _caps(name).beta
    if betas is None:
        betas = [float(params.get(beta_name, 0.0)) if beta_name else 0.0]
    lr, beta = np.meshgrid(np.asarray(lrs, float), np.asarray(betas, float))
    if kind == "heavy_ball":
        return theory.heavy_ball_rate(lr, beta, lam)
    if kind == "nesterov":
        return theory.nesterov_rate(lr, beta, lam)
    return np.abs(1.0 - lr)


def predicted_steps(surface, name: str, params: Mapping[str, Any], start, tol: float, max_steps: int) -> int | None:
    """Steps until ‖∇f‖ < tol on the quadratic bowl, from each eigendirection's own scalar recurrence.

    Along eigenvector i (eigenvalue λᵢ) the error eᵢ evolves on its own (PyTorch's forms, v₀ = 0):
    ``heavy_ball`` vᵢ ← βvᵢ + λᵢeᵢ, eᵢ ← eᵢ − ηvᵢ (GD: β = 0); ``nesterov`` vᵢ ← μvᵢ + λᵢeᵢ,
    eᵢ ← eᵢ − η(λᵢeᵢ + μvᵢ); ``newton`` eᵢ ← (1 − η)eᵢ; and ‖∇f‖² = Σ (λᵢeᵢ)². Returns the first
    k with ‖∇f_k‖ < tol, or None (not within ``max_steps``, or no theory: see :func:`predicted_rate`).

    >>> from engine.surfaces import make_surface
    >>> bowl = make_surface("quadratic", lambda_1=1, lambda_2=1, rotation=0)
    >>> predicted_steps(bowl, "gd", {"lr": 0.5}, [1.0, 0.0], 1e-3, 100)  # 0.5ᵏ < 1e-3
    10
    """
    kind = _theory_applies(name, params)
    lam = _eigenvalues(surface)
    if kind is None or lam is None:
        return None
    e1, e2 = (float(c) for c in surface.rotation_matrix.T @ np.asarray(start, dtype=float))
    l1, l2 = (float(v) for v in lam)
    v1 = v2 = 0.0
    eta = float(params["lr"])
    beta_name = _caps(name).beta
    beta = float(params.get(beta_name, 0.0)) if beta_name else 0.0
    tol2 = float(tol) ** 2
    for k in range(max_steps + 1):  # plain floats: a few hundred steps in well under a millisecond
        g1, g2 = l1 * e1, l2 * e2
        if g1 * g1 + g2 * g2 < tol2:
            return k
        if kind == "newton":
            e1, e2 = e1 - eta * e1, e2 - eta * e2
        else:
            v1, v2 = beta * v1 + g1, beta * v2 + g2
            if kind == "nesterov":
                e1, e2 = e1 - eta * (g1 + beta * v1), e2 - eta * (g2 + beta * v2)
            else:
                e1, e2 = e1 - eta * v1, e2 - eta * v2
        if not (math.isfinite(e1) and math.isfinite(e2)) or abs(e1) + abs(e2) > 1e150:
            return None
    return None
