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

from dataclasses import asdict, dataclass
from typing import Any, Mapping

import numpy as np

RATE_THEORIES = ("heavy_ball", "nesterov", "newton")


@dataclass(frozen=True)
class Capabilities:
    """Declared on an optimizer's catalog entry and published in ``GET /api/optimizers``.

    Attributes:
      velocity: the parameter whose positive value gives the optimizer a velocity (its step
        then differs from −η∇f: the page draws it as a second arrow), or ``"always"``, or None.
      rate: which closed-form rate theory holds on the quadratic: one of ``RATE_THEORIES`` or None.
      beta: the momentum parameter that is the β of the rate formulas and of an (η, β) map, or None
        (an optimizer without it is swept along η alone).
      compiled: whether ``engine.accel`` has a compiled kernel for it.
    """

    velocity: str | None = None
    rate: str | None = None
    beta: str | None = None
    compiled: bool = False

    def __post_init__(self):
        if self.rate is not None and self.rate not in RATE_THEORIES:
            raise ValueError(f"rate = {self.rate!r}: one of {', '.join(RATE_THEORIES)} or None")

    def to_dict(self) -> dict:
        return asdict(self)


def _caps(name: str) -> Capabilities:
    from engine.optimizers import get_spec  # the catalog imports this module: look it up late

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
    edge); heavy ball: 2(1 + β)/λmax; Nesterov: 2(1 + μ)/((1 + 2μ) λmax); Newton and
<<<<<<< HEAD
    preconditioned GD: the full step η = 1. None where no theory applies.
=======
    preconditioned GD: η = 1, the full step (the page shows "full step = 1"). None where no theory applies.
>>>>>>> lessons

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
