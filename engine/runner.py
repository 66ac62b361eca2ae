"""Run many optimizers on one surface together, streaming chunks of steps.

All K configurations live in one ``(K, 2)`` array: the surface is evaluated once per
step for all of them, and the configurations of each optimizer advance in one
vectorized update (their hyperparameters stacked into ``(k, 1)`` arrays). A race of
four optimizers and a sweep of ten thousand (η, β) cells use the same code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, NamedTuple, Sequence

import numpy as np

from engine import accel
from engine.optimizers import OptimizerSpec, _build, get_spec
from engine.transforms import apply_updates
from engine.params import ParamError
from engine.surfaces.base import DataSurface, Surface, check_shape

CONVERGED, DIVERGED, MAX_STEPS, RUNNING = "converged", "diverged", "max_steps", "running"
#: The divergence rule: a run is declared diverged at the first step whose iterate lies more than
#: this many view radii (the largest |coordinate| of the surface's view) from the origin, or whose
#: loss or gradient is no longer finite. Ten radii is far outside anything drawn, so a run that
#: gets there has clearly left (η = 1.2 on λ = 2 from the view's edge: within 8 steps).
DIVERGENCE_FACTOR = 10.0


class OptimizerConfig(NamedTuple):
    """A named optimizer and its validated parameters (defaults filled in)."""

    name: str
    params: dict


def configure(name: str, params: Mapping[str, Any] | None = None) -> OptimizerConfig:
    """Validate an optimizer's parameters; raises ParamError naming the bad one."""
    spec = get_spec(name)
    return OptimizerConfig(name, spec.resolve(params or {}))


@dataclass
class Trajectory:
    """One optimizer's run: ``points[0]`` is the start, one entry per step taken."""

    optimizer: str
    params: dict
    points: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray
    status: str
    steps_taken: int

    @property
    def final_loss(self) -> float | None:
        return float(self.losses[-1]) if len(self.losses) else None

    def fields(self) -> dict:
        """Every field, arrays as they are: the body of one run in ``POST /api/run`` (``RunOut``)."""
        return {
            "optimizer": self.optimizer, "params": self.params, "points": self.points,
            "losses": self.losses, "grad_norms": self.grad_norms,
            "status": self.status, "steps_taken": self.steps_taken, "final_loss": self.final_loss,
        }

    def to_dict(self) -> dict:
        """:meth:`fields` with the arrays as lists (for ``json.dumps``)."""
        return {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in self.fields().items()}


class RunChunk(NamedTuple):
    """New steps of one run: entries ``first, first + 1, …`` of its trajectory."""

    run: int
    first: int
    points: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray


@dataclass
class Chunk:
    runs: list[RunChunk]
    status: list[str]
    steps_taken: list[int]
    done: bool = False


class _Group:
    """Configurations of one optimizer (and one set of choice parameters) stepping together."""

    def __init__(self, spec: OptimizerSpec, rows: np.ndarray, params: list[dict], x0: np.ndarray):
        self.spec = spec
        self.rows = rows
        merged = {}
        for key in params[0]:
            values = [p[key] for p in params]
            if isinstance(values[0], str) or all(v == values[0] for v in values):
                merged[key] = values[0]
            else:
                merged[key] = np.asarray(values, dtype=float)[:, None]
        self.opt = _build(spec, merged)
        self.state = self.opt.init(x0[rows])


def _group_key(cfg: OptimizerConfig) -> tuple:
    return (cfg.name,) + tuple(sorted((k, v) for k, v in cfg.params.items() if isinstance(v, str)))


class Stepper:
    """The shared stepping loop of runs and sweeps.

    ``step()`` advances every active configuration by one step and returns the mask of
    rows that produced a new, finite point.
    """

    def __init__(self, surface: Surface, configs: Sequence[OptimizerConfig] | None, starts: np.ndarray,
                 tol: float = 0.0, seed: int = 0, accelerate: bool = True, plan: "accel.Plan | None" = None):
        """``plan`` (from ``accel.plan_grid``) stands in for the configs of a large grid, which are then not built."""
        self.surface = surface
        self.configs = list(configs) if configs is not None else []
        self.K = len(self.configs) if configs is not None else len(plan.rules)
        self.x = np.array(starts, dtype=float).reshape(self.K, 2)
        self.tol = tol
        self.seed = seed
        self.bound = DIVERGENCE_FACTOR * surface.view_radius
        self.k = 0
        self.status = np.array([RUNNING] * self.K, dtype=object)
        self.steps_taken = np.zeros(self.K, dtype=int)
        self.active = np.ones(self.K, dtype=bool)
        self.stop_step = np.full(self.K, -1)

        self._init_stochastic()
        if plan is None and accelerate:
            plan = accel.plan(surface, self.configs)
        #: The compiled twin of step() (engine.accel) when it covers this run; None runs the reference.
        self.plan = plan
        self.groups: list[_Group] = []
        if self.plan is None:
            groups: dict[tuple, list[int]] = {}
            for i, cfg in enumerate(self.configs):
                groups.setdefault(_group_key(cfg), []).append(i)
            self.groups = [
                _Group(get_spec(key[0]), np.array(rows), [self.configs[i].params for i in rows], self.x)
                for key, rows in groups.items()
            ]
        self.needs_hessian = any(g.opt.needs_hessian for g in self.groups)
        with np.errstate(all="ignore"):
            # a grid's rows all start at one point (bit for bit): its value once (5 ms a random-field grid)
            same = self.K > 1 and (self.x.view(np.int64) == self.x[:1].view(np.int64)).all()
            f, g = surface.value_and_grad(self.x[:1] if same else self.x)
            if same:
                f, g = np.repeat(np.reshape(f, 1), self.K), np.repeat(np.reshape(g, (1, 2)), self.K, axis=0)
        self.f = np.array(f, dtype=float).reshape(self.K)
        self.g = np.array(g, dtype=float).reshape(self.K, 2)
        self.gnorm = np.sqrt(np.sum(self.g * self.g, -1))
        bad = ~(np.isfinite(self.f) & np.isfinite(self.gnorm))
        self._stop(bad, DIVERGED)
        self._check_converged()

    # --- stochastic gradients ---------------------------------------------
    def _init_stochastic(self):
        self.stochastic_rows = [i for i, c in enumerate(self.configs) if get_spec(c.name).stochastic]
        self.rngs = {}
        for i in self.stochastic_rows:
            p = self.configs[i].params
            if isinstance(self.surface, DataSurface):
                n = self.surface.n_examples
                if p["batch_size"] > n:
                    raise ParamError(f"{self.configs[i].name}.batch_size", p["batch_size"],
                                     f"an integer with 1 ≤ batch_size ≤ {n}, the number of examples of {self.surface.NAME}")
            self.rngs[i] = np.random.default_rng([self.seed, p["seed"]])
        self.perms: dict[int, np.ndarray] = {}

    def _batch(self, i: int, step: int) -> np.ndarray:
        """Indices of row i's batch at step k = 1, 2, …: epochs of N // b batches, reshuffled each epoch."""
        n = self.surface.n_examples
        b = self.configs[i].params["batch_size"]
        per_epoch = n // b
        j = (step - 1) % per_epoch
        if j == 0:
            self.perms[i] = self.rngs[i].permutation(n)
        return self.perms[i][j * b:(j + 1) * b]

    def _stochastic_grad(self, g: np.ndarray) -> np.ndarray:
        g = g.copy()
        data = isinstance(self.surface, DataSurface)
        rows = [i for i in self.stochastic_rows if self.active[i]]
        if data and rows:
            _, ex = self.surface.example_value_and_grad(self.x[rows])
            for r, i in enumerate(rows):
                if self.configs[i].params["batch_size"] < self.surface.n_examples:
                    g[i] = ex[r, self._batch(i, self.k + 1)].mean(axis=0)
        for i in rows:
            noise = self.configs[i].params["noise"]
            if noise > 0:
                g[i] = g[i] + noise * self.rngs[i].standard_normal(2)
        return g

    # --- stepping ---------------------------------------------------------
    def _stop(self, mask: np.ndarray, status: str):
        mask = mask & self.active
        if mask.any():
            self.status[mask] = status
            self.active[mask] = False
            self.stop_step[mask] = self.k

    def _check_converged(self):
        if self.tol > 0:
            self._stop(self.gnorm < self.tol, CONVERGED)

    def step(self) -> np.ndarray:
        """One step of the numpy reference for every row (see ``advance`` for many)."""
        if self.plan is not None:
            raise RuntimeError("this Stepper's rows step in the compiled kernel: use advance()")
        with np.errstate(all="ignore"):
            g = self._stochastic_grad(self.g) if self.stochastic_rows else self.g
            hess = self.surface.hessian(self.x) if self.needs_hessian else None
            x_new = self.x.copy()
            for grp in self.groups:
                rows = grp.rows
                step, grp.state = grp.opt.update(g[rows], grp.state, self.x[rows],
                                                 hess=None if hess is None else hess[rows])
                x_new[rows] = apply_updates(self.x[rows], step)
            f_new, g_new = self.surface.value_and_grad(x_new)
            gnorm_new = np.sqrt(np.sum(g_new * g_new, -1))
            finite = np.isfinite(f_new) & np.isfinite(gnorm_new) & np.all(np.isfinite(x_new), -1)
            inside = np.max(np.abs(np.where(np.isfinite(x_new), x_new, np.inf)), -1) <= self.bound
        self.k += 1
        ok = self.active & finite
        # A finite point past the bound is still shown: it is where the run blew up.
        self.x[ok] = x_new[ok]
        self.f[ok] = f_new[ok]
        self.g[ok] = g_new[ok]
        self.gnorm[ok] = gnorm_new[ok]
        self.steps_taken[ok] += 1
        self._stop(~finite | ~inside, DIVERGED)
        self._check_converged()
        return ok

    def advance(self, n: int, record: bool = True, values: bool = True):
        """Up to ``n`` steps, stopping early once no row is active; returns how many were taken.

        With ``record`` it also returns ``points (K, n, 2), losses (K, n), grad_norms (K, n)``:
        a row takes its steps one after another until it stops, so its new entries are the
        first ``steps_taken`` increase of its row (contiguous, ready to send). A sweep needs no record.
        Without ``values`` (and without ``record``) a row still running afterwards may hold, in ``f``,
        a stand-in for its value that is finite exactly where the value is (the compiled path's
        gradient-only steps on costly surfaces, ``kernel.GRADIENT_TWINS``): for a caller that reads
        ``f`` only where rows stopped.
        """
        K = self.K
        m = n if record else 0
        pts, fs, gs = np.empty((K, m, 2)), np.empty((K, m)), np.empty((K, m))
        if self.plan is not None:
            taken = self._advance_compiled(n, pts, fs, gs, record, values)
        else:
            taken = 0
            while taken < n and self.active.any():
                self.step()
                if record:
                    pts[:, taken], fs[:, taken], gs[:, taken] = self.x, self.f, self.gnorm
                taken += 1
        return (taken, pts, fs, gs) if record else taken

    def _advance_compiled(self, n, pts, fs, gs, record, values) -> int:
        was_active = self.active.copy()
        taken, code = self.plan.advance(self, n, (pts, fs, gs)) if record else self.plan.sweep(self, n, values)
        stopped = was_active & ~self.active
        if stopped.any():
            self.status[stopped & (code == accel.CONVERGED)] = CONVERGED
            self.status[stopped & (code == accel.DIVERGED)] = DIVERGED
        self.k += taken
        return taken

    def finish(self):
        self.status[self.active] = MAX_STEPS
        self.active[:] = False


def _validated(surface: Surface, optimizers, start, steps, tol, seed):
    if not isinstance(surface, Surface):
        raise ParamError("surface", surface, "a Surface, e.g. make_surface('quadratic')")
    configs = [c if isinstance(c, OptimizerConfig) else configure(*c) if isinstance(c, tuple) else configure(c)
               for c in optimizers]
    if not configs:
        raise ParamError("optimizers", [], "at least one optimizer")
    start = check_shape(start, "start")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 0 <= steps <= 10_000_000:
        raise ParamError("steps", steps, "an integer with 0 ≤ steps ≤ 10000000")
    if not isinstance(tol, (int, float)) or not np.isfinite(tol) or tol < 0:
        raise ParamError("tol", tol, "a finite number with tol ≥ 0")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
        raise ParamError("seed", seed, "an integer with 0 ≤ seed < 2**63")
    return configs, start


def run_chunks(surface: Surface, optimizers: Sequence, start, steps: int, *, tol: float = 0.0, seed: int = 0,
               chunk_size: int = 100) -> Iterator[Chunk]:
    """Run optimizers from ``start`` for up to ``steps`` steps, yielding chunks as they are computed.

    Args:
      surface: a Surface.
      optimizers: OptimizerConfig, ``(name, params)`` tuples or names.
      start: the common start point ``[x, y]``.
      steps: the most steps any run takes.
      tol: a run stops, ``converged``, when ‖g‖ < tol (0 never stops early).
      seed: seeds the mini-batches and noise of stochastic optimizers.
      chunk_size: steps per chunk.

    Yields:
      Chunk objects; the first holds the start point of every run, the last has ``done``
      set and each run's final ``status``: ``converged``, ``diverged`` (a value became
      non-finite or the iterate left 10 view radii, ``DIVERGENCE_FACTOR``; only finite values are kept) or ``max_steps``.
    """
    configs, start = _validated(surface, optimizers, start, steps, tol, seed)
    K = len(configs)
    st = Stepper(surface, configs, np.tile(start, (K, 1)), tol=tol, seed=seed)
    first = Chunk([RunChunk(i, 0, st.x[i:i + 1].copy(), st.f[i:i + 1].copy(), st.gnorm[i:i + 1].copy())
                   for i in range(K) if np.isfinite(st.f[i])],
                  list(st.status), st.steps_taken.tolist())
    chunk_size = max(1, int(chunk_size))
    if steps == 0 or not st.active.any():
        st.finish()
        first.status, first.done = list(st.status), True
        yield first
        return
    yield first
    while st.k < steps and st.active.any():
        start_taken = st.steps_taken.tolist()
        _, pts, fs, gs = st.advance(min(chunk_size, steps - st.k))
        runs = []
        for i, (before, after) in enumerate(zip(start_taken, st.steps_taken.tolist())):
            if after > before:
                m = after - before
                runs.append(RunChunk(i, before + 1, pts[i, :m], fs[i, :m], gs[i, :m]))
        if st.k >= steps or not st.active.any():
            st.finish()
            yield Chunk(runs, list(st.status), st.steps_taken.tolist(), done=True)
            return
        yield Chunk(runs, list(st.status), st.steps_taken.tolist())


def run(surface: Surface, optimizers: Sequence, start, steps: int, *, tol: float = 0.0, seed: int = 0,
        chunk_size: int | None = None, between: Callable[[], None] | None = None) -> list[Trajectory]:
    """Run to the end and return one Trajectory per optimizer.

    ``chunk_size`` steps are taken at a time (default: all of them) and ``between()`` is
    called after each chunk but the last: a caller's deadline check, which may raise to stop.

    >>> from engine.surfaces import make_surface
    >>> bowl = make_surface("quadratic", lambda_1=2, lambda_2=2, rotation=0)
    >>> [t] = run(bowl, [("gd", {"lr": 0.5})], start=[1.0, -1.0], steps=3)
    >>> t.points.tolist(), t.status
    ([[1.0, -1.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]], 'max_steps')
    """
    configs, _ = _validated(surface, optimizers, start, steps, tol, seed)
    parts: list[list[RunChunk]] = [[] for _ in configs]
    last = None
    for chunk in run_chunks(surface, configs, start, steps, tol=tol, seed=seed,
                            chunk_size=max(steps, 1) if chunk_size is None else chunk_size):
        for rc in chunk.runs:
            parts[rc.run].append(rc)
        last = chunk
        if between is not None and not chunk.done:
            between()
    out = []
    for i, cfg in enumerate(configs):
        pieces = parts[i]
        pts = np.concatenate([p.points for p in pieces]) if pieces else np.empty((0, 2))
        out.append(Trajectory(cfg.name, dict(cfg.params), pts,
                              np.concatenate([p.losses for p in pieces]) if pieces else np.empty(0),
                              np.concatenate([p.grad_norms for p in pieces]) if pieces else np.empty(0),
                              last.status[i], int(last.steps_taken[i])))
    return out
