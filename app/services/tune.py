"""Tune a race (POST /api/tune): validated here, the engine's ``tune`` within the work and time caps."""

from __future__ import annotations

from engine import ParamError, tune
from engine.tune import beta_grid, has_momentum, lr_grid

from app.core.config import get_settings
from app.errors import RequestError
from app.schemas import RunRequest, TuneRequest
from app.services import compute

#: Request fields an engine refusal may name (anything else is an optimizer's parameter).
_FIELDS = ("tol", "steps", "seed", "ring", "ring_radius", "lr_min", "lr_max", "lr_per_decade", "beta_max",
           "beta_per_decade")


def compute_tune(req: TuneRequest, until: float | None = None) -> dict:
    """The tuned race as the response body: ``{"protocol", "optimizers", "theory"}`` (see ``engine.tune``),
    within the compute-time cap ending at ``until``."""
    s = get_settings()
    # The same checks as a run of this scene: surface, optimizers, start, batch sizes.
    scene = compute.RunPlan(RunRequest(surface=req.surface, optimizers=req.optimizers, start=req.start,
                                    steps=req.steps, tol=req.tol, seed=req.seed))
    if req.lr_min > req.lr_max:
        raise RequestError(["body", "lr_min"], f"lr_min = {req.lr_min:g} must not exceed lr_max = {req.lr_max:g}",
                           req.lr_min)
    lrs = lr_grid(req.lr_min, req.lr_max, req.lr_per_decade)
    betas = beta_grid(req.beta_max, req.beta_per_decade)
    starts = 1 + req.ring
    cells = sum(len(lrs) * (len(betas) if has_momentum(c.name) else 1) for c in scene.configs)
    work = cells * starts * req.steps
    if work > s.max_tune_work:
        raise RequestError(["body", "steps"], f"{cells} grid cells × {starts} starts × {req.steps} steps = {work} "
                           f"cell-steps is too much work: at most {s.max_tune_work}; ask for fewer steps, starts "
                           "or optimizers, or a coarser grid", req.steps)
    until = compute.deadline() if until is None else until

    def check():
        compute.check_deadline(until, "ask for fewer steps, starts or optimizers, or a coarser grid")

    try:
        result = tune(scene.surface, scene.configs, scene.start, steps=req.steps, tol=req.tol, seed=req.seed,
                      ring=req.ring, ring_radius=req.ring_radius, lrs=lrs, betas=betas, check=check)
    except ParamError as e:
        field = e.param if e.param in _FIELDS else "lr_max" if e.param.endswith(".lr") else "beta_max"
        raise RequestError(["body", field], str(e), e.value) from None
    return result.to_dict()
