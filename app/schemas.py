"""Request and response models of the public JSON contract."""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.config import get_settings
from app.params import Coordinate, OptimizerIn, SurfaceIn, optimizer
from engine.defaults import SEED_MAX, TOL_MAX
from engine.tune import BETA_MAX, BETA_PER_DECADE, LR_FLOOR, LR_MAX, LR_MIN, LR_PER_DECADE, MAX_RING, RING_RADIUS, TOL
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
           501: "This server cannot render that format (its Python lacks losslab's video extra).",
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


class RenderAvailableResponse(Open):
    """GET /api/render: whether this server can render, and what."""

    available: bool
    message: str | None
    formats: list[str]
    max_frames: int


class TuneRequest(Strict):
    """A race to tune: the scene on screen, the budget and tolerance, and (optionally) the grid."""

    surface: SurfaceIn
    optimizers: list[OptimizerIn] = Field(min_length=1, max_length=_settings.max_optimizers,
                                          description="The race; each keeps its parameters other than η and β.")
    start: tuple[Coordinate, Coordinate]
    steps: int = Field(500, ge=1, le=_settings.max_steps, strict=True, description="The budget: most steps per run.")
    tol: float = Field(TOL, gt=0, le=TOL_MAX, strict=True, allow_inf_nan=False,
                       description="A run reaches the goal once ‖∇f‖ < tol; the criterion counts the steps to it.")
    seed: int = Field(0, ge=0, le=SEED_MAX, strict=True, description="Seed of stochastic optimizers.")
    ring: int = Field(0, ge=0, le=MAX_RING, strict=True,
                      description="Extra starts on a circle around the start; the criterion is the median over all.")
    ring_radius: float = Field(RING_RADIUS, gt=0, le=1, strict=True, allow_inf_nan=False,
                               description="The circle's radius, as a fraction of the smaller side of the view.")
    lr_min: float = Field(LR_MIN, ge=LR_FLOOR, le=LR_MAX, strict=True, allow_inf_nan=False, description="Smallest η of the grid.")
    lr_max: float = Field(LR_MAX, ge=LR_FLOOR, le=LR_MAX, strict=True, allow_inf_nan=False, description="Largest η of the grid.")
    lr_per_decade: int = Field(LR_PER_DECADE, ge=1, le=24, strict=True, description="Grid points of η per decade.")
    beta_max: float = Field(BETA_MAX, ge=0, le=BETA_MAX, strict=True, allow_inf_nan=False,
                            description="Largest β; the β grid has 1 − β log-spaced from 1.")
    beta_per_decade: int = Field(BETA_PER_DECADE, ge=1, le=24, strict=True, description="Grid points of 1 − β per decade.")

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "surface": {"name": "quadratic", "params": {"lambda_1": 1, "lambda_2": 20, "rotation": 30}},
        "optimizers": [{"name": "gd", "params": {"lr": 0.09}}, {"name": "momentum", "params": {"lr": 0.04, "momentum": 0.7}}],
        "start": [-2, -0.5], "steps": 100, "tol": 1e-4,
    }]})


class TuneProtocol(Open):
    lrs: list[float] = Field(description="The η grid.")
    betas: list[float] = Field(description="The β grid (for optimizers with a β).")
    steps: int
    tol: float
    seed: int
    starts: list[Pair[float]] = Field(description="The start, then the ring's.")
    ring: int
    ring_radius: float
    within: float = Field(description="Forgiveness counts the η within this factor of the best.")
    criterion: str


class TunedOut(Open):
    name: str
    before: dict[str, float | int | str]
    params: dict[str, float | int | str] = Field(description="The tuned parameters (before's when every setting diverged).")
    lr: float | None
    beta: float | None
    criterion: Literal["steps", "loss"] | None = Field(description="steps: fewest steps to tol; loss: none reached it, "
                                                      "lowest final loss; null: every setting diverged.")
    steps_to_tol: int | None
    final_loss: float | None
    curve: dict = Field(description="Against lrs at the chosen β: steps (null: not reached), final_loss, diverged.")
    edge: float | None = Field(description="The smallest η above the chosen one that diverged.")
    within: Pair[float] | None = Field(description="The unbroken range of η around the chosen one within 2× of the best.")
    forgiveness: float | None = Field(description="within[1] / within[0].")
    map: dict | None = Field(description="Optimizers with a β: steps, final_loss, diverged per [β][η], and the analytic rate.")
    theory: dict | None = Field(description="Quadratic: the rate and steps theory predicts at the tuned setting.")
    stopped_at: int | None = Field(description="The step at which runs still going were stopped: none could come "
                                               "within 2× of the best any more (their steps are null); null when "
                                               "every run ran its course.")


class TuneResponse(BaseModel):
    protocol: TuneProtocol
    optimizers: list[TunedOut]
    theory: dict = Field(description="The quadratic's (or the local quadratic model's) η_opt, 2/(λmin+λmax), η*, β*, rates.")
