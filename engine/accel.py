"""The compiled path: when it is on, what it covers, and a run's rows as the kernel's arrays.

The numpy runner (``engine.runner.Stepper``) is the reference: readable, and it runs
everything. On tiny arrays numpy spends ~1 µs of fixed overhead per call, so a step of
a four-optimizer race costs ~80 µs of which almost none is arithmetic. The compiled path is
the same loop for one row at a time in scalars (``engine.kernel``), calling each surface's and
each update rule's ``@twin`` (written beside its numpy code, see ``engine.twins``), compiled
with numba: a step then costs tens to hundreds of nanoseconds.

It covers every surface with a twin (all of the catalog and typed formulas) and every
optimizer, SGD included: its mini-batches and noise are drawn from the very ``Generator`` the
reference draws from, in the same order (numba's Generator reproduces numpy's streams).
``tests/engine/test_engine_accel.py`` and ``test_recorded_runs.py`` check the equality.

``LOSSLAB_ACCEL=0`` turns it off. The kernel compiles in a background thread the first
time it is wanted, one surface at a time (the quadratic first, ~13–17 s of CPU; then any surface a
run asked for; all of them ~70 s; cached on disk by numba afterwards, keyed by the twins' source:
seconds); a surface not compiled yet runs on the reference, with identical results.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from engine import kernel
from engine.kernel import (ALPHA, BATCH, BETA2, CONVERGED, DECAY_EVERY, DIVERGED, EPS, GD, HEAVY_BALL,  # noqa: F401
                           HYPERPARAMETERS, LR, MU, NESTEROV, NOISE, RULE_OF, SCHEDULE, STATE_SIZE, SURFACE_NAMES)
from engine.transforms import SCHEDULES

_lock = threading.Lock()
_done = threading.Condition(_lock)
_local = threading.local()
_compiled: dict[int, dict] = {}  # surface index -> its compiled entry points, once ready
_wanted: list[int] = []  # surfaces asked for before their turn: compiled next
_thread: threading.Thread | None = None
_failed: str | None = None
_finished = False  # the compile thread has compiled every surface (or failed)

#: LOSSLAB_ACCEL=0 (read at import) turns the compiled path off for the whole process.
_ENV_ON = os.environ.get("LOSSLAB_ACCEL", "1").strip().lower() not in ("0", "off", "false", "no")


def enabled() -> bool:
    """False when LOSSLAB_ACCEL=0, or inside ``with disabled():`` in this thread."""
    return _ENV_ON and not getattr(_local, "off", False)


@contextlib.contextmanager
def disabled():
    """Run the numpy reference in this block (tests compare the two paths with it)."""
    before = getattr(_local, "off", False)
    _local.off = True
    try:
        yield
    finally:
        _local.off = before


# --- compiling -----------------------------------------------------------------------------

def _source_key() -> str:
    """A digest of every file the compiled code comes from (the twins' modules, the kernel, the glue):
    numba's cache checks only the entry point's own file, so the cache directory changes with any of them."""
    import inspect

    import numba

    from engine import _numba_glue, twins

    files = {inspect.getsourcefile(f) for f in twins.TWINS} | {kernel.__file__, _numba_glue.__file__}
    h = hashlib.sha256(f"{np.__version__} {numba.__version__}".encode())
    for path in sorted(files):
        h.update(Path(path).read_bytes())
    return h.hexdigest()[:16]


def _compile():
    """Compile surface by surface: the quadratic (the opening scene's) first, then any surface a run asked
    for, then the rest in table order. Each surface is usable as soon as its loops are compiled."""
    global _failed, _finished
    try:
        import numba

        from engine import _numba_glue

        base = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(tempfile.gettempdir(), "losslab-numba")
        numba.config.CACHE_DIR = os.path.join(base, _source_key())

        first = _numba_glue.surface_kernel(0)
        _smoke(first)
        _publish(0, first)
        while True:
            with _lock:
                left = [i for i in _wanted + list(range(len(SURFACE_NAMES))) if i not in _compiled]
            if not left:
                break
            entry = _numba_glue.surface_kernel(left[0])
            for name, fn in entry.items():  # the same argument types as the quadratic's (see _smoke)
                for sig in first[name].signatures:
                    fn.compile(sig)
            _publish(left[0], entry)
    except Exception as e:  # numba missing or unable to compile here: the reference runs the rest
        _failed = f"{type(e).__name__}: {e}"
    finally:
        with _lock:
            _finished = True
            _done.notify_all()


def _publish(i: int, entry: dict) -> None:
    with _lock:
        _compiled[i] = entry
        _done.notify_all()


def _index(surface: str | None) -> int | None:
    """A surface's row in the kernel's table, from its catalog name or its ``TWIN`` name."""
    if surface is None:
        return None
    if surface in SURFACE_NAMES:
        return SURFACE_NAMES.index(surface)
    from engine.surfaces import SURFACES

    cls = SURFACES.get(surface)
    twin = getattr(cls, "TWIN", None)
    return SURFACE_NAMES.index(twin) if twin in SURFACE_NAMES else None


def warm_up(wait: bool = True, surface: str | None = None) -> bool:
    """Start compiling the kernel (once); with ``wait``, block until ``surface`` (a catalog or twin name)
    is compiled, or without one until every surface is. Returns whether that is ready."""
    global _thread
    if not enabled():
        return False
    i = _index(surface)
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_compile, name="losslab-accel-compile", daemon=True)
            _thread.start()
        if wait:
            _done.wait_for(lambda: _finished or (i in _compiled if i is not None else False))
    return ready(surface)


def _entry(i: int) -> dict | None:
    """Surface ``i``'s compiled entry points if ready (else None, and it is compiled next)."""
    if not enabled():
        return None
    entry = _compiled.get(i)
    if entry is None:
        with _lock:
            if i not in _wanted:
                _wanted.append(i)
        warm_up(wait=False)
    return entry


def ready(surface: str | None = None) -> bool:
    """Whether runs on ``surface`` (a catalog or twin name; without one: on every surface) use the
    compiled kernel now (compiled, and not turned off). A surface not compiled yet runs on the reference."""
    if not enabled():
        return False
    if surface is None:
        return len(_compiled) == len(SURFACE_NAMES)
    i = _index(surface)
    return i is not None and i in _compiled


def covers(surface_name: str, optimizer_name: str, params: Mapping | None = None) -> bool:
    """Whether the kernel takes this catalog surface and optimizer (a quick check before anything is built).

    Typed formulas are left out here: building one may derive it first (seconds); a built
    CustomSurface runs on the kernel all the same (``plan``)."""
    from engine.optimizers import OPTIMIZERS
    from engine.surfaces import SURFACES

    cls, spec = SURFACES.get(surface_name), OPTIMIZERS.get(optimizer_name)
    return cls is not None and cls.TWIN is not None and spec is not None and spec.capabilities.compiled


def status() -> str:
    """One line for logs and benchmarks: whether runs use the compiled kernel."""
    if not enabled():
        return "off (LOSSLAB_ACCEL=0)"
    if _failed and not _compiled:
        return f"unavailable ({_failed})"
    if len(_compiled) == len(SURFACE_NAMES):
        import numba

        return f"on (numba {numba.__version__})"
    if _failed:
        return f"on for {len(_compiled)} of {len(SURFACE_NAMES)} surfaces ({_failed})"
    return f"compiling (ready for {len(_compiled)} of {len(SURFACE_NAMES)} surfaces)"


# --- plans: a run's rows as the kernel's arrays ----------------------------------------------

_LOOPS: np.ndarray | None = None
#: Rows of scratch the twins use (engine/surfaces: data twins up to work[12], formulas work[15]).
WORK_ROWS = 16


def _loops() -> np.ndarray:
    global _LOOPS
    if _LOOPS is None:
        from engine.twins import ufunc_loops

        _LOOPS = ufunc_loops()
    return _LOOPS


def _hyperparameters(name: str, p: Mapping, data: bool) -> list[float]:
    """One row of the kernel's table: the optimizer's parameters by HYPERPARAMETERS column."""
    row = [0.0] * len(HYPERPARAMETERS)
    g = p.get
    row[LR], row[MU], row[NESTEROV] = p["lr"], g("momentum", 0.0), float(name == "nesterov")
    row[SCHEDULE], row[DECAY_EVERY] = SCHEDULES.index(g("schedule", "constant")), g("decay_every", 100)
    row[EPS], row[ALPHA], row[BETA2] = g("eps", 0.0), g("alpha", g("beta1", 0.0)), g("beta2", 0.0)
    row[BATCH] = g("batch_size", 0) if data else 0  # mini-batches exist on data surfaces only
    row[NOISE] = g("noise", 0.0)
    return row


class Plan:
    """Everything the kernel needs for one Stepper's rows, built by ``plan`` or ``plan_grid``."""

    def __init__(self, entry: dict, surface, rules: np.ndarray, hp: np.ndarray):
        floats, ints = surface.twin_arrays
        n_ex = surface.n_examples if surface.IS_DATA else 0
        cols = max(8, n_ex, len(floats) + len(ints))
        self.entry = entry
        self.surface = (SURFACE_NAMES.index(surface.TWIN), np.ascontiguousarray(floats, dtype=float),
                        np.ascontiguousarray(ints, dtype=np.int64), _loops(), np.zeros((WORK_ROWS, cols)),
                        np.zeros((n_ex, 2)))
        K = len(rules)
        self.rules, self.hp = rules, hp
        self.st, self.counts = np.zeros((K, STATE_SIZE)), np.zeros(K, np.int64)
        self.perms = np.zeros((K, max(n_ex, 1)), np.int64)
        random = (hp[:, NOISE] > 0) | ((hp[:, BATCH] > 0) & (hp[:, BATCH] < n_ex))
        #: Rows that draw from their generator take a kernel call each (with their Generator).
        self.random_rows = [np.array([i]) for i in np.flatnonzero(random)]
        self.fixed_rows = np.flatnonzero(~random)

    @property
    def rows(self) -> tuple:
        return self.rules, self.hp, self.st, self.counts, self.perms

    def advance(self, st, n: int, record: tuple) -> int:
        """Up to ``n`` steps of the Stepper ``st``'s rows; new entries into ``record`` (points, losses, grad_norms)."""
        code = np.zeros(st.K, np.int64)  # the kernel sets the code of each row it stops
        state = (st.x, st.f, st.g, st.gnorm, st.active, code, st.steps_taken, st.stop_step)
        args = (st.k, n, float(st.tol), float(st.bound))
        advance = self.entry["advance"]
        taken = advance(self.surface, self.rows, state, record, _IDLE_RNG, self.fixed_rows, *args) \
            if len(self.fixed_rows) else 0
        for row in self.random_rows:
            taken = max(taken, advance(self.surface, self.rows, state, record, st.rngs[int(row[0])], row, *args))
        return taken, code

    def sweep(self, st, n: int, values: bool = True) -> tuple[int, np.ndarray]:
        """Steps without a record, by the fastest kernel that takes these rows; ``values`` as ``kernel.sweep``'s."""
        if self.random_rows:
            return self.advance(st, n, (np.empty((st.K, 0, 2)), np.empty((st.K, 0)), np.empty((st.K, 0))))
        code = np.zeros(st.K, np.int64)
        state = (st.x, st.f, st.g, st.gnorm, st.active, code, st.steps_taken, st.stop_step)
        args = (st.k, n, float(st.tol), float(st.bound))
        rules, hp = self.rules, self.hp
        r = rules[0] if len(rules) else -1
        simple = (r in (GD, HEAVY_BALL) and (rules == r).all() and (hp[:, SCHEDULE] == 0).all()
                  and (hp[:, NESTEROV] == hp[0, NESTEROV]).all())
        if not simple:
            return self.entry["sweep"](self.surface, self.rows, state, *args, values), code
        columns = (st.x[:, 0].copy(), st.x[:, 1].copy(), st.g[:, 0].copy(), st.g[:, 1].copy(),
                   self.st[:, 0].copy(), self.st[:, 1].copy())
        before = st.active.copy()
        taken = self.entry["sweep_heavy_ball"](self.surface, r == HEAVY_BALL, bool(hp[0, NESTEROV]),
                                               hp[:, LR].copy(), hp[:, MU].copy(), columns, state, *args, values)
        st.x[:, 0], st.x[:, 1], st.g[:, 0], st.g[:, 1], self.st[:, 0], self.st[:, 1] = columns
        # each row's updates: to the step where it stopped, or all of them
        self.counts += np.where(before & ~st.active, st.stop_step - st.k, np.where(before, taken, 0))
        return taken, code


_IDLE_RNG = np.random.default_rng(0)  # handed to the kernel for rows that draw nothing


def plan(surface, configs: Sequence) -> Plan | None:
    """A Plan when the kernel is ready and covers this surface and every configuration (``(name, params)`` pairs)."""
    if surface.TWIN not in SURFACE_NAMES:
        return None
    entry = _entry(SURFACE_NAMES.index(surface.TWIN))
    if entry is None or surface.twin_arrays is None:
        return None
    if any(c[0] not in RULE_OF for c in configs):
        return None
    rules = np.array([RULE_OF[c[0]] for c in configs], dtype=np.int64)
    hp = np.array([_hyperparameters(c[0], c[1], surface.IS_DATA) for c in configs], dtype=float).reshape(-1, len(HYPERPARAMETERS))
    return Plan(entry, surface, rules, hp)


def plan_grid(surface, name: str, params: dict, lrs: np.ndarray, momenta: np.ndarray | None) -> Plan | None:
    """A Plan for a sweep: one optimizer, its ``params`` with ``lr`` (and ``momentum``) from the grid.

    None for stochastic configurations: ``sweep`` then builds every cell's configuration (each with
    a generator of its own, as the reference seeds them) and the Stepper plans those rows one by one."""
    first = dict(params, lr=float(lrs[0]), **({} if momenta is None else {"momentum": float(momenta[0])}))
    if first.get("noise", 0) > 0 or (surface.IS_DATA and 0 < first.get("batch_size", 0) < surface.n_examples):
        return None
    row = plan(surface, [(name, first)])
    if row is None:
        return None
    K = len(lrs)
    hp = np.repeat(row.hp, K, axis=0)
    hp[:, LR] = lrs
    if momenta is not None:
        hp[:, MU] = momenta
    return Plan(row.entry, surface, np.repeat(row.rules, K), hp)


def _smoke(entry: dict) -> None:
    """Compile for the argument types the runner passes, on one row of the quadratic (GD, then Adam)."""
    from engine.surfaces import make_surface

    class One:  # a Stepper's arrays for one row
        K, k, tol, bound = 1, 0, 0.0, 1e6
        x, f, g, gnorm = np.zeros((1, 2)), np.zeros(1), np.zeros((1, 2)), np.zeros(1)
        active, steps_taken, stop_step = np.ones(1, np.bool_), np.zeros(1, np.int64), np.full(1, -1, np.int64)
        rngs = {0: _IDLE_RNG}

    for rule in (GD, kernel.ADAM):
        hp = np.zeros((1, len(HYPERPARAMETERS)))
        hp[0, LR] = 0.1
        p = Plan(entry, make_surface("quadratic"), np.array([rule], np.int64), hp)
        p.advance(One, 1, (np.empty((1, 1, 2)), np.empty((1, 1)), np.empty((1, 1))))
        p.sweep(One, 1)


__all__ = ["Plan", "covers", "disabled", "enabled", "plan", "plan_grid", "ready", "status", "warm_up", "kernel"]
