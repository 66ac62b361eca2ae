"""Turn validated requests into engine calls; engine refusals become RequestErrors with a location."""

from __future__ import annotations

import functools
import math
import time
from typing import Iterator

import numpy as np

import engine
from engine import ParamError, capabilities, theory
from engine.runner import Chunk, OptimizerConfig
from engine.surfaces import TEXT_SURFACES, Surface
from engine.surfaces.custom import FormulaBusy, FormulaError

from app.core.cache import ByteLRU
from app.core.config import get_settings
from app.errors import RequestError
from app.responses import Encoded
from app.schemas import GridRequest, OptimizerIn, RunRequest, SurfaceIn, SweepRequest
from engine import accel

# Compile the engine's fast path now, in the background, rather than on the first request
# (runs use the numpy reference, with the same results, until it is ready).
accel.warm_up(wait=False)

#: Optimizer-steps of a run small enough to compute on the event loop: about a millisecond on the
#: compiled path, less than the two thread hops it saves (~0.2 ms each on this 2-core machine).
QUICK_WORK = 20_000
#: Steps per engine chunk when streaming: the compiled path does 1000 steps of 8 runs in ~0.3 ms,
#: the numpy reference 50 in ~5 ms; both check for cancellation between chunks.
STREAM_CHUNK, STREAM_CHUNK_COMPILED = 50, 1000
#: Steps between checks of the compute-time cap in a whole run (compiled: 20,000 steps of 8 runs ≈ 10 ms;
#: compiled on a data surface, ~0.3–1 µs a step: 2,000 steps of 8 runs ≈ 5–16 ms; the numpy reference
#: on a data surface: 200 steps of 8 runs ≈ 60 ms, a few tenths on a loaded machine). Each chunk costs
#: its own record arrays: 200-step chunks made the SGD lesson's 4 × 1,000 steps 2.1 ms, not 1.8.
RUN_CHUNK, RUN_CHUNK_COMPILED_DATA, RUN_CHUNK_COMPILED = 200, 2_000, 20_000


def is_quick(req: RunRequest) -> bool:
    """The compiled path takes the whole request and it is about a millisecond of work.

    Never a typed formula: building its surface may take seconds (sympy, in a worker process).
    """
    return (req.surface.name not in TEXT_SURFACES and accel.ready(req.surface.name) and req.steps * len(req.optimizers) <= QUICK_WORK
            and all(accel.covers(req.surface.name, o.name, o.params) for o in req.optimizers))


@functools.lru_cache(maxsize=256)
def _surface_cached(name: str, items: tuple) -> Surface:
    return engine.make_surface(name, **dict(items))


class FormulaRequestError(RequestError):
    """A refused formula; its detail also carries the 1-based column, for the page's caret."""

    def __init__(self, loc: list, e: FormulaError):
        if isinstance(e, FormulaBusy):  # the server is busy, not the formula wrong: 503, try again later
            retry = str(max(1, math.ceil(e.retry_after)))
            super().__init__(loc, str(e), e.value, status=503, type="busy", headers={"Retry-After": retry})
        else:
            super().__init__(loc, str(e), e.value)
        self.column = e.column

    def detail(self) -> list[dict]:
        d = super().detail()
        d[0]["ctx"] = {"column": self.column}
        return d


def _surface_key(spec: SurfaceIn) -> tuple:
    """The surface's parameters as a cache key; the custom surface's formula and view join them."""
    items = tuple(sorted(spec.params.items()))
    if spec.formula is not None:
        items += (("formula", spec.formula),)
    if spec.view is not None:
        items += (("view", tuple(spec.view)),)
    return items


def build_surface(spec: SurfaceIn) -> Surface:
    for field in ("formula", "view"):
        if getattr(spec, field) is not None and (spec.name != "custom" or field in spec.params):
            raise RequestError(["body", "surface", field], f"surface.{field} is only for the custom surface, "
                               "given once (not also in params)", getattr(spec, field))
    try:
        return _surface_cached(spec.name, _surface_key(spec))
    except ParamError as e:
        field = e.param.rsplit(".", 1)[-1]
        if e.param == "surface":
            loc = ["body", "surface", "name"]
        elif field in ("formula", "view") and field not in spec.params:
            loc = ["body", "surface", field]
        else:
            loc = ["body", "surface", "params", field]
        if isinstance(e, FormulaError):
            raise FormulaRequestError(loc, e) from None
        raise RequestError(loc, str(e), e.value) from None


def build_optimizer(spec: OptimizerIn, loc: list) -> OptimizerConfig:
    try:
        return engine.configure(spec.name, spec.params)
    except ParamError as e:
        where = loc + ["name"] if e.param == "optimizer" else loc + ["params", e.param.rsplit(".", 1)[-1]]
        raise RequestError(where, str(e), e.value) from None


def check_start(surface: Surface, start, loc=("body", "start")) -> np.ndarray:
    """A start (or theory) point must lie in the surface's view enlarged by its own size on every side."""
    x0, x1, y0, y1 = surface.view
    w, h = x1 - x0, y1 - y0
    box = (x0 - w, x1 + w, y0 - h, y1 + h)
    x, y = start
    if not (box[0] <= x <= box[1] and box[2] <= y <= box[3]):
        raise RequestError(list(loc), f"{loc[-1]} = [{x:g}, {y:g}] is too far off the view of {surface.NAME}: allowed "
                           f"{box[0]:g} ≤ x ≤ {box[1]:g} and {box[2]:g} ≤ y ≤ {box[3]:g}", list(start))
    return np.array(start, dtype=float)


class RunPlan:
    """A run request, validated and built: the engine's surface and optimizer configs, the start and the settings."""

    def __init__(self, req: RunRequest):
        self.req = req
        self.surface = build_surface(req.surface)
        self.configs = [build_optimizer(o, ["body", "optimizers", i]) for i, o in enumerate(req.optimizers)]
        self.start = check_start(self.surface, req.start)
        if self.surface.IS_DATA:
            n = self.surface.n_examples
            for i, cfg in enumerate(self.configs):
                b = cfg.params.get("batch_size")
                if b is not None and b > n:
                    raise RequestError(["body", "optimizers", i, "params", "batch_size"],
                                       f"{cfg.name}.batch_size = {b} is not allowed: an integer with 1 ≤ batch_size ≤ {n}, "
                                       f"the number of examples of {self.surface.NAME}", b)

    @property
    def compiled(self) -> bool:
        """Whether the engine's compiled path runs this scene."""
        return accel.ready(self.surface.NAME) and all(accel.covers(self.surface.NAME, c.name, c.params) for c in self.configs)

    @property
    def stream_chunk(self) -> int:
        return STREAM_CHUNK_COMPILED if self.compiled else STREAM_CHUNK

    def chunks(self, chunk_size: int) -> Iterator[Chunk]:
        r = self.req
        return engine.run_chunks(self.surface, self.configs, self.start, r.steps, tol=r.tol, seed=r.seed,
                                 chunk_size=chunk_size)


def deadline() -> float:
    """When a request arriving now must be done: LOSSLAB_COMPUTE_TIMEOUT from now, queueing included."""
    return time.monotonic() + get_settings().compute_timeout


def built(make, until: float | None):
    """``make()`` (a scene or surface) and the deadline moved on by the time it took.

    Building is not compute: a typed formula has its own deadlines (its wait for a worker and its
    derivation, engine.formula.workers), and a worker starting up must not use up the run's cap.
    """
    t0 = time.monotonic()
    value = make()
    return value, None if until is None else until + (time.monotonic() - t0)


def check_deadline(at: float | None, advice: str = "ask for fewer steps or optimizers", field: str = "steps") -> None:
    """A 422 naming the cap once ``at`` has passed; called before and between every slice of work."""
    if at is not None and time.monotonic() > at:
        raise timeout_error(get_settings().compute_timeout, advice, field)


def timeout_error(limit: float, advice: str = "ask for fewer steps or optimizers",
                  field: str = "steps") -> RequestError:
    """The 422 for a request whose computation passed the compute-time cap (LOSSLAB_COMPUTE_TIMEOUT)."""
    return RequestError(["body", field], f"the computation took longer than the {limit:g} s limit on compute time "
                        f"per request; {advice}", None)


def compute_run(scene: RunPlan, until: float | None = None) -> dict:
    """The whole run, as the POST /api/run response body, within the compute-time cap (ending at ``until``)."""
    until = deadline() if until is None else until
    check_deadline(until)
    # A compiled step on a data surface costs ~0.3–1 µs (numpy's loops over its examples), not ~50 ns.
    chunk = (RUN_CHUNK if not scene.compiled else RUN_CHUNK_COMPILED_DATA if scene.surface.IS_DATA
             else RUN_CHUNK_COMPILED)
    r = scene.req
    runs = engine.run(scene.surface, scene.configs, scene.start, r.steps, tol=r.tol, seed=r.seed,
                      chunk_size=chunk, between=lambda: check_deadline(until))
    return {"surface": scene.surface.describe(), "runs": [t.fields() for t in runs]}


# --- grids ------------------------------------------------------------------

#: Grid cells computed between checks of the compute-time cap (and the most held at once in the engine).
#: Small enough that a block's temporaries (~2 MB on the two-weight net) are reused from one block to
#: the next: with 10,000 cells they were released and faulted in afresh each block once the allocator's
#: thresholds had moved (after a few hundred compressed responses), and a 400² grid took 110 ms, not 67.
GRID_BLOCK_CELLS = 2_000


def _grid_in_blocks(surface: Surface, n: int, view: tuple | None,
                    until: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``surface.grid(n, view)`` a block of rows at a time, within the compute-time cap (a 422 once it is passed).

    Every cell is computed on its own, so the blocks give the same numbers as one call.
    """
    until = deadline() if until is None else until
    x0, x1, y0, y1 = view or surface.view
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    z = np.empty((n, n))
    rows = max(1, GRID_BLOCK_CELLS // n)
    for j in range(0, n, rows):
        check_deadline(until, "ask for a smaller n", field="n")
        with np.errstate(all="ignore"):
            z[j:j + rows] = surface.value(np.stack(np.meshgrid(xs, ys[j:j + rows]), axis=-1))
    return xs, ys, z


#: Rendered grids, bounded by bytes (LOSSLAB_GRID_CACHE_BYTES): each charged its body and room for
#: its gzip form (JSON numbers compress to well under half).
GRIDS: ByteLRU[Encoded] = ByteLRU(get_settings().grid_cache_bytes)


def _grid_size(e: Encoded) -> int:
    return len(e.body) + len(e.body) // 2


def _grid_cached(name: str, items: tuple, n: int, view: tuple | None, until: float | None = None) -> Encoded:
    """The response body, rendered (and, when first asked for, compressed) once per grid."""
    return GRIDS.get_or_make((name, items, n, view), lambda: _render_grid(name, items, n, view, until), _grid_size)


def _render_grid(name: str, items: tuple, n: int, view: tuple | None, until: float | None = None) -> Encoded:
    surface = _surface_cached(name, items)
    xs, ys, z = _grid_in_blocks(surface, n, view, until)
    finite = np.isfinite(z)
    z = np.where(finite, z, np.nan)
    return Encoded.json({
        "x": xs, "y": ys, "z": z,
        "zmin": float(z[finite].min()) if finite.any() else None,
        "zmax": float(z[finite].max()) if finite.any() else None,
        "surface": surface.describe(),
    })


def compute_grid(req: GridRequest, until: float | None = None) -> Encoded:
    _, until = built(lambda: build_surface(req.surface), until)  # validates, with field locations
    if req.view is not None:
        x0, x1, y0, y1 = req.view
        if not (x0 < x1 and y0 < y1):
            raise RequestError(["body", "view"], "view must be (xmin, xmax, ymin, ymax) with xmin < xmax and ymin < ymax",
                               list(req.view))
    return _grid_cached(req.surface.name, _surface_key(req.surface), req.n, tuple(req.view) if req.view else None, until)


# --- sweeps -----------------------------------------------------------------

def _axis(a, log: bool) -> np.ndarray:
    if a.min > a.max:
        raise ValueError
    return np.geomspace(a.min, a.max, a.n) if log else np.linspace(a.min, a.max, a.n)


def compute_sweep(req: SweepRequest, until: float | None = None) -> dict:
    s = get_settings()
    surface, until = built(lambda: build_surface(req.surface), until)
    cfg = build_optimizer(req.optimizer, ["body", "optimizer"])
    start = check_start(surface, req.start)
    if req.lrs.min > req.lrs.max:
        raise RequestError(["body", "lrs"], "lrs.min must not exceed lrs.max", [req.lrs.min, req.lrs.max])
    lrs = _axis(req.lrs, req.lrs.log)
    betas = None
    if req.betas is not None:
        if req.betas.min > req.betas.max:
            raise RequestError(["body", "betas"], "betas.min must not exceed betas.max", [req.betas.min, req.betas.max])
        betas = np.linspace(req.betas.min, req.betas.max, req.betas.n)
    cells = len(lrs) * (1 if betas is None else len(betas))
    if cells > s.max_sweep_cells:
        raise RequestError(["body", "lrs", "n"], f"{cells} cells is too many: at most {s.max_sweep_cells}", cells)
    if cells * req.steps > s.max_sweep_work:
        raise RequestError(["body", "steps"], f"{cells} cells × {req.steps} steps = {cells * req.steps} cell-steps "
                           f"is too much work: at most {s.max_sweep_work}", req.steps)
    swept = ("lr",) if betas is None else ("lr", engine.get_spec(cfg.name).capabilities.beta)
    params = {k: v for k, v in cfg.params.items() if k not in swept}
    try:
        def on_time(done: int = 0, cells: int = 1) -> None:  # a finished sweep is answered, however late
            if done < cells:
                check_deadline(until, "ask for fewer steps or a smaller grid")

        result = engine.sweep_in_slices(surface, cfg.name, lrs, betas, progress=on_time, check=on_time, start=start,
                                        steps=req.steps, tol=req.tol, params=params, seed=req.seed)
    except ParamError as e:
        field = "betas" if e.param in ("betas",) or e.param.endswith(".momentum") else "lrs"
        raise RequestError(["body", field], str(e), e.value) from None
    out = result.to_dict()
    rate = capabilities.analytic_rate_map(surface, cfg.name, cfg.params, lrs, betas)
    out["rate"] = None if rate is None else rate
    return out


# --- theory -----------------------------------------------------------------

def compute_theory(surface: Surface, point, batch_sizes=None, backprop: bool = False, configs=(), points=None) -> dict:
    out: dict = {"surface": surface.NAME}
    if configs:
        out["rates"] = [capabilities.predicted_rate(surface, c.name, c.params) for c in configs]
        out["marks"] = [capabilities.step_marks(surface, c.name, c.params) for c in configs]
    if points:
        with np.errstate(all="ignore"):
            grads = surface.grad(np.asarray(points, dtype=float))
        out["grads"] = [g.tolist() if np.all(np.isfinite(g)) else None for g in grads]
    if surface.NAME == "quadratic":
        out["quadratic"] = theory.quadratic_theory(surface.params["lambda_1"], surface.params["lambda_2"])
    if point is not None:
        # The same box as a start point: far outside it the data surfaces overflow and nothing is drawn.
        p = check_start(surface, point, loc=("body", "point"))
        with np.errstate(all="ignore"):
            info = theory.hessian_eigenvalues(surface, p)
            f, g = surface.value_and_grad(p)
            info["matrix"] = surface.hessian(p)
        if np.all(np.isfinite(info["matrix"])) and np.isfinite(f) and np.all(np.isfinite(g)):
            out["point"] = {"point": p, "loss": float(f), "grad": g, "hessian": info}
        if batch_sizes and surface.IS_DATA:
            n = surface.n_examples
            bs = sorted({b for b in batch_sizes if b <= n})
            with np.errstate(all="ignore"):
                _, ex = surface.example_value_and_grad(p)
                sigma2 = float(np.mean(np.sum((ex - ex.mean(axis=0)) ** 2, -1)))
                measured = [theory.measure_minibatch_variance(surface, p, b, samples=400, seed=0) for b in bs]
                predicted = theory.minibatch_gradient_variance(surface, p, bs)
            if np.isfinite(sigma2):
                out["variance"] = {"batch_sizes": bs, "measured": measured, "predicted": predicted, "sigma2": sigma2, "n": n}
        if backprop and surface.NAME == "two_weight_net":
            n = surface.n_examples
            # One example of each kind: near the boundary, far from it, and a noisy label.
            examples = sorted({0, n // 2 - 1, n - 1})
            try:
                with np.errstate(all="ignore"):
                    chains = [theory.backprop_chain(surface, p, i) for i in examples]
            except (ZeroDivisionError, OverflowError, FloatingPointError):
                chains = []  # a saturated output: the chain has no finite value to show
            if chains and all(np.all(np.isfinite(c["grad"])) for c in chains):
                out["backprop"] = {"examples": chains}
    return out
