"""Request and response models of the public JSON contract."""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.config import get_settings
from app.params import Coordinate, OptimizerIn, SurfaceIn, optimizer
from engine.defaults import SEED_MAX, TOL_MAX
from engine.surfaces.custom import MAX_LENGTH as FORMULA_MAX_LENGTH

_settings = get_settings()

# Numbers are strict: true, false and "200" are wrong types, not 1, 0 and 200 (integers still count as floats).
# Surfaces and optimizers (app.params) are typed per name, each parameter with the engine's own range.
#: Largest request id: the page is JavaScript, whose numbers are exact up to 2**53 − 1.
MAX_ID = 2**53 - 1
RequestId = Annotated[int, Field(strict=True, ge=-MAX_ID, le=MAX_ID)] | Annotated[str, StringConstraints(max_length=64)]


T = TypeVar("T")
#: Two of a kind, in responses: a list of exactly two (tuples print as prefixItems, which some
#: OpenAPI tools still mistake for the 3.0 form).
Pair = Annotated[list[T], Field(min_length=2, max_length=2)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class FormulaRequest(Strict):
    formula: str = Field(max_length=FORMULA_MAX_LENGTH, description="f(x, y) as typed.", examples=["x^2 + 3*y^2"])


class FormulaResponse(BaseModel):
    ok: Literal[True]
    formula: str = Field(description="The text as received.")
    expression: str = Field(description="The formula as sympy reads it, in the same syntax.")
    gradient: Pair[str] = Field(description="[∂f/∂x, ∂f/∂y], exact.")
    hessian: Pair[Pair[str]] = Field(description="[[fxx, fxy], [fxy, fyy]], exact.")
    latex: str = Field(description="The formula in LaTeX.")


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
    points: list[Pair[float]] = Field(description="[x, y] of the start and of each step.")
    losses: list[float]
    grad_norms: list[float | None] = Field(description="‖g‖ at each point; null where it is not finite "
                                           "(an infinite slope, e.g. sqrt(x) at x = 0).")
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
    optimizer: OptimizerIn = Field(default_factory=lambda: optimizer("momentum"))
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


# --- the rest of the contract: errors, catalogs, theory, lessons (every route declares its response) ---

class ErrorItem(BaseModel):
    loc: list[str | int] = Field(description="Where: ['body', 'optimizers', 0, 'params', 'lr'].")
    msg: str = Field(description="What is wrong and what is allowed.")
    type: str
    input: object = Field(None, description="The value received, shortened and made JSON-safe.")
    ctx: dict | None = None


class ErrorResponse(BaseModel):
    """Every refusal: ``message`` for people, ``detail`` for programs."""

    detail: list[ErrorItem] | str
    message: str


def error_responses(*codes: int) -> dict:
    """OpenAPI entries for the error statuses a route can answer with (all share ErrorResponse)."""
    why = {400: "Malformed request: not JSON, not UTF-8, JSON nested too deep, or a Host the server does not answer to.",
           408: "The request body did not arrive in time (LOSSLAB_REQUEST_TIMEOUT).",
           404: "No such lesson.",
           413: "The request body is larger than LOSSLAB_MAX_BODY_BYTES.",
           422: "A field is invalid: the message names it, the value and what is allowed.",
           503: "Every formula worker is busy: try again after Retry-After seconds."}
    return {c: {"model": ErrorResponse, "description": why[c]} for c in codes}


#: What a POST route can answer besides 200.
POST_ERRORS = error_responses(400, 408, 413, 422, 503)


class Open(BaseModel):
    """A catalog or theory object: the fields below are always there; others may be added."""

    model_config = ConfigDict(extra="allow")


class HealthResponse(BaseModel):
    status: Literal["ok"]


class ParamEntry(Open):
    name: str
    label: str
    kind: Literal["float", "int", "choice", "text"]
    default: float | int | str
    description: str


class SurfaceEntry(Open):
    name: str
    title: str
    description: str
    params: list[ParamEntry]


class OptimizerEntry(Open):
    name: str
    title: str
    formula: str
    description: str
    params: list[ParamEntry]


class SurfacesResponse(BaseModel):
    surfaces: list[SurfaceEntry]


class OptimizersResponse(BaseModel):
    optimizers: list[OptimizerEntry]


class CustomSurfaceResponse(BaseModel):
    surface: SurfaceEntry


class LessonEntry(Open):
    id: str
    number: int
    title: str


class LessonsResponse(BaseModel):
    lessons: list[LessonEntry]


class TheoryResponse(Open):
    """Only what applies is present: ``quadratic`` on the quadratic, ``point`` when a point was given, …"""

    surface: str
    rates: list[float | None] | None = None
    grads: list[Pair[float] | None] | None = None
    quadratic: dict | None = None
    point: dict | None = None
    variance: dict | None = None
    backprop: dict | None = None


class SceneFormatResponse(Open):
    """GET /api/scene: the scene the page opens with, and the limits of its fields."""

    defaults: dict
    limits: dict


class LessonStepResponse(Open):
    """A lesson step evaluated on the scene on screen (see engine.lessons.evaluate)."""
