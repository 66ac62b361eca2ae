"""Request and response models of the public JSON contract."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.config import get_settings
from engine.defaults import SEED_MAX, TOL_MAX
from engine.surfaces.custom import MAX_LENGTH as FORMULA_MAX_LENGTH

_settings = get_settings()

Name = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
# Numbers are strict: true, false and "200" are wrong types, not 1, 0 and 200 (integers still count as floats).
ParamValue = Annotated[float, Field(strict=True, allow_inf_nan=False)] | Annotated[str, StringConstraints(max_length=64)]
Coordinate = Annotated[float, Field(ge=-1e6, le=1e6, strict=True, allow_inf_nan=False)]
#: Largest request id: the page is JavaScript, whose numbers are exact up to 2**53 − 1.
MAX_ID = 2**53 - 1
RequestId = Annotated[int, Field(strict=True, ge=-MAX_ID, le=MAX_ID)] | Annotated[str, StringConstraints(max_length=64)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class SurfaceIn(Strict):
    name: Name = Field(description="A surface from GET /api/surfaces.", examples=["quadratic"])
    params: dict[Name, ParamValue] = Field(default_factory=dict, max_length=16,
                                           description="Surface parameters; omitted ones take their defaults.")
    formula: str | None = Field(None, max_length=FORMULA_MAX_LENGTH, examples=["(1 - x)**2 + 100*(y - x**2)**2"],
                                description="Only for the custom surface: f(x, y); check it with POST /api/formula.")
    view: tuple[Coordinate, Coordinate, Coordinate, Coordinate] | None = Field(
        None, description="Only for the custom surface: its box (xmin, xmax, ymin, ymax); default (-3, 3, -3, 3).")


class FormulaRequest(Strict):
    formula: str = Field(max_length=FORMULA_MAX_LENGTH, description="f(x, y) as typed.", examples=["x^2 + 3*y^2"])


class FormulaResponse(BaseModel):
    ok: Literal[True]
    formula: str = Field(description="The text as received.")
    expression: str = Field(description="The formula as sympy reads it, in the same syntax.")
    gradient: tuple[str, str] = Field(description="[∂f/∂x, ∂f/∂y], exact.")
    hessian: tuple[tuple[str, str], tuple[str, str]] = Field(description="[[fxx, fxy], [fxy, fyy]], exact.")
    latex: str = Field(description="The formula in LaTeX.")


class OptimizerIn(Strict):
    name: Name = Field(description="An optimizer from GET /api/optimizers.", examples=["momentum"])
    params: dict[Name, ParamValue] = Field(default_factory=dict, max_length=16)


class RunRequest(Strict):
    surface: SurfaceIn
    optimizers: list[OptimizerIn] = Field(min_length=1, max_length=_settings.max_optimizers)
    start: tuple[Coordinate, Coordinate] = Field(description="Start point [x, y], inside the surface's view or near it.")
    steps: int = Field(200, ge=0, le=_settings.max_steps, strict=True, description="Most steps per run.")
    tol: float = Field(0.0, ge=0.0, le=TOL_MAX, strict=True, allow_inf_nan=False,
                       description="Stop a run when ‖g‖ < tol; 0 never stops early.")
    seed: int = Field(0, ge=0, le=SEED_MAX, strict=True, description="Seed of stochastic optimizers.")

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "surface": {"name": "quadratic", "params": {"lambda_1": 1, "lambda_2": 10, "rotation": 30}},
        "optimizers": [{"name": "momentum", "params": {"lr": 0.05, "momentum": 0.9}}],
        "start": [-1.5, 2.0], "steps": 200, "tol": 0, "seed": 0,
    }]})


class WsRunRequest(RunRequest):
    id: RequestId | None = Field(None, description="Echoed in every message.")


Status = Literal["converged", "diverged", "max_steps"]


class RunOut(BaseModel):
    optimizer: str
    params: dict[str, float | int | str]
    points: list[tuple[float, float]]
    losses: list[float]
    grad_norms: list[float]
    status: Status
    steps_taken: int
    final_loss: float | None


class RunResponse(BaseModel):
    surface: dict
    runs: list[RunOut]


class GridRequest(Strict):
    surface: SurfaceIn
    n: int = Field(100, ge=2, le=_settings.max_grid, strict=True, description="Grid points per side.")
    view: tuple[Coordinate, Coordinate, Coordinate, Coordinate] | None = Field(
        None, description="(xmin, xmax, ymin, ymax); the surface's default view when omitted.")


class GridResponse(BaseModel):
    x: list[float]
    y: list[float]
    z: list[list[float | None]]
    zmin: float | None
    zmax: float | None
    surface: dict


class Axis(Strict):
    min: float = Field(gt=0, le=100, strict=True, allow_inf_nan=False)
    max: float = Field(gt=0, le=100, strict=True, allow_inf_nan=False)
    n: int = Field(50, ge=1, le=200, strict=True)
    log: bool = True


class BetaAxis(Strict):
    min: float = Field(0.0, ge=0, le=0.999, strict=True, allow_inf_nan=False)
    max: float = Field(0.99, ge=0, le=0.999, strict=True, allow_inf_nan=False)
    n: int = Field(50, ge=1, le=200, strict=True)


class SweepRequest(Strict):
    surface: SurfaceIn
    optimizer: OptimizerIn = Field(default_factory=lambda: OptimizerIn(name="momentum"))
    start: tuple[Coordinate, Coordinate]
    steps: int = Field(200, ge=1, le=_settings.max_steps, strict=True)
    tol: float = Field(1e-6, gt=0, le=1e6, strict=True, allow_inf_nan=False)
    lrs: Axis
    betas: BetaAxis | None = None
    seed: int = Field(0, ge=0, le=SEED_MAX, strict=True)


class SweepResponse(BaseModel):
    lrs: list[float]
    betas: list[float] | None
    final_loss: list[list[float | None]]
    steps_to_tol: list[list[int]]
    diverged: list[list[bool]]
    rate: list[list[float]] | None = Field(None, description="Analytic heavy-ball rate per cell (quadratic only).")


class TheoryRequest(Strict):
    surface: SurfaceIn
    point: tuple[Coordinate, Coordinate] | None = None
    batch_sizes: list[Annotated[int, Field(ge=1, le=10_000)]] | None = Field(
        None, max_length=32, description="Data surfaces: measure mini-batch gradient variance at the point for these b.")
    backprop: bool = Field(False, description="two_weight_net: the forward and backward pass at the point.")
    optimizers: list[OptimizerIn] | None = Field(
        None, max_length=_settings.max_optimizers, description="Quadratic: each optimizer's predicted convergence rate.")
    points: list[tuple[Coordinate, Coordinate]] | None = Field(
        None, max_length=_settings.max_optimizers, description="Gradients at these points (the animation's arrows).")
