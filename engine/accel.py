"""Compiled stepping for the common case, bit-for-bit equal to the numpy reference.

The numpy runner (``engine.runner.Stepper``) is the reference: readable, and it runs
everything. On tiny arrays numpy spends ~1 µs of fixed overhead per call, so a step of
a four-optimizer race costs ~80 µs of which almost none is arithmetic. This module is
the same loop written once per row in plain scalar arithmetic and compiled with numba
(when it is installed): a step then costs tens of nanoseconds.

It covers the closed-form surfaces (quadratic, saddle, Rosenbrock, Himmelblau, Beale)
and every deterministic optimizer; anything else (data surfaces, typed-in formulas,
SGD with noise or mini-batches) runs on the reference. Every formula below repeats the
reference's operations in the reference's order, with no fused multiply-add and no
reassociation (numba's default, not ``fastmath``), and pow only through the C library,
as the reference does; ``tests/engine/test_engine_accel.py`` checks the equality on
every surface and optimizer, including divergence and convergence.

``LOSSLAB_ACCEL=0`` turns it off. The kernel compiles in a background thread the first
time it is wanted (a few seconds, cached on disk by numba afterwards); until it is
ready, runs use the reference, with identical results.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import threading
from typing import Sequence

import numpy as np

#: Surfaces with a compiled twin, by name, and the parameters the kernel reads.
SURFACE_IDS = {"quadratic": 0, "saddle": 1, "rosenbrock": 2, "himmelblau": 3, "beale": 4}
GD, MOMENTUM, ADAGRAD, RMSPROP, ADAM, NEWTON, PRECONDITIONED = range(7)
KINDS = {"gd": GD, "momentum": MOMENTUM, "nesterov": MOMENTUM, "sgd": MOMENTUM, "adagrad": ADAGRAD,
         "rmsprop": RMSPROP, "adam": ADAM, "newton": NEWTON, "preconditioned": PRECONDITIONED}
SCHEDULES = {"constant": 0, "inverse": 1, "inverse_sqrt": 2, "step": 3}
RUNNING, CONVERGED, DIVERGED = 0, 1, 2
#: Columns of the per-row hyperparameter table.
LR, MU, NESTEROV, SCHEDULE, DECAY_EVERY, EPS, ALPHA, BETA2 = range(8)
N_HP, N_STATE = 8, 4


# --- the kernel, in plain Python (numba compiles these same functions) --------------

def _surface(sid, sp, x, y):
    """(f, ∂f/∂x, ∂f/∂y) at (x, y), as the surface's ``value_and_grad``."""
    if sid == 0:  # quadratic: sp = A00, A01, A10, A11
        gx = sp[0] * x + sp[1] * y
        gy = sp[2] * x + sp[3] * y
        return 0.5 * (x * gx + y * gy), gx, gy
    if sid == 1:  # saddle: sp = r, w
        r, w = sp[0], sp[1]
        y2 = y * y
        return x * x - r * y2 + w * (y2 * y2), 2.0 * x, (-2.0 * r) * y + (4.0 * w) * (y2 * y)
    if sid == 2:  # rosenbrock: sp = a, b
        a, b = sp[0], sp[1]
        r = y - x * x
        return (a - x) * (a - x) + b * r * r, -2.0 * (a - x) - (4.0 * b) * x * r, (2.0 * b) * r
    if sid == 3:  # himmelblau
        u = x * x + y - 11.0
        v = x + y * y - 7.0
        return u * u + v * v, 4.0 * x * u + 2.0 * v, 2.0 * u + 4.0 * y * v
    # beale: sp = 1.5, 2.25, 2.625; the reference's loop over i = 1, 2, 3 written out
    y2 = y * y
    y3 = y2 * y
    a1 = sp[0] - x + x * y
    a2 = sp[1] - x + x * y2
    a3 = sp[2] - x + x * y3
    f = 0.0 + a1 * a1
    f = f + a2 * a2
    f = f + a3 * a3
    gx = 0.0 + 2.0 * a1 * (y - 1.0)
    gx = gx + 2.0 * a2 * (y2 - 1.0)
    gx = gx + 2.0 * a3 * (y3 - 1.0)
    gy = 0.0 + 2.0 * a1 * 1.0 * x * 1.0
    gy = gy + 2.0 * a2 * 2.0 * x * y
    gy = gy + 2.0 * a3 * 3.0 * x * y2
    return f, gx, gy


def _hessian(sid, sp, x, y):
    """(∂²f/∂x², ∂²f/∂x∂y, ∂²f/∂y²) at (x, y), as the surface's ``hessian``."""
    if sid == 0:
        return sp[0], sp[2], sp[3]
    if sid == 1:
        r, w = sp[0], sp[1]
        return 2.0, 0.0, (-2.0 * r) + (12.0 * w) * (y * y)
    if sid == 2:
        b = sp[1]
        return 2.0 - (4.0 * b) * y + (12.0 * b) * x * x, (-4.0 * b) * x, 2.0 * b
    if sid == 3:
        return 12.0 * x * x + 4.0 * y - 42.0, 4.0 * (x + y), 4.0 * x + 12.0 * y * y - 26.0
    hxx = hxy = hyy = 0.0
    y2 = y * y
    for i in range(1, 4):
        ypi = y if i == 1 else (y2 if i == 2 else y2 * y)
        ypm = 1.0 if i == 1 else (y if i == 2 else y2)
        a = sp[i - 1] - x + x * ypi
        ax, ay = ypi - 1.0, float(i) * x * ypm
        axy = float(i) * ypm
        if i >= 2:
            ayy = float(i * (i - 1)) * x * (1.0 if i == 2 else y)
        else:
            ayy = 0.0 * x
        hxx = hxx + 2.0 * ax * ax
        hxy = hxy + 2.0 * (ax * ay + a * axy)
        hyy = hyy + 2.0 * (ay * ay + a * ayy)
    return hxx + 0.0 * x, hxy + 0.0 * x, hyy + 0.0 * x


def _nan_max(a, b):
    """np.maximum: NaN if either is NaN."""
    if a != a or b != b:
        return a + b
    return a if a >= b else b


def _pinv_apply(a, b, c, g0, g1, absolute):
    """H⁺g for H = [[a, b], [b, c]]: ``optimizers.symmetric_eig2`` and ``pseudo_inverse_apply``, one row."""
    sm = a + c
    df = a - c
    adf = abs(df)
    tb = b + b
    ab = abs(tb)
    if abs(a) > abs(c):
        acmx, acmn = a, c
    else:
        acmx, acmn = c, a
    if adf > ab:
        r1 = ab / adf
        rt = adf * math.sqrt(1.0 + r1 * r1)
    elif adf < ab:
        r2 = adf / ab
        rt = ab * math.sqrt(1.0 + r2 * r2)
    else:
        rt = ab * SQRT2
    neg = sm < 0
    if neg:
        rt1 = 0.5 * (sm - rt)
    elif sm > 0:
        rt1 = 0.5 * (sm + rt)
    else:
        rt1 = 0.5 * rt
    if neg or sm > 0:
        rt2 = (acmx / rt1) * acmn - (b / rt1) * b
    else:
        rt2 = -0.5 * rt
    df_pos = df >= 0
    cs = df + rt if df_pos else df - rt
    if abs(cs) > ab:
        ct = -tb / cs
        sn1 = 1.0 / math.sqrt(1.0 + ct * ct)
        cs1 = ct * sn1
    elif ab == 0:
        cs1, sn1 = 1.0, 0.0
    else:
        tn = -cs / tb
        cs1 = 1.0 / math.sqrt(1.0 + tn * tn)
        sn1 = tn * cs1
    if neg == (not df_pos):
        cs1, sn1 = -sn1, cs1
    lam1, lam2 = rt1, rt2
    if absolute:
        lam1, lam2 = abs(lam1), abs(lam2)
    big = _nan_max(abs(lam1), abs(lam2))
    inv1 = 1.0 / lam1 if abs(lam1) > 1e-12 * big else 0.0
    inv2 = 1.0 / lam2 if abs(lam2) > 1e-12 * big else 0.0
    d1 = inv1 * (cs1 * g0 + sn1 * g1)
    d2 = inv2 * (cs1 * g1 - sn1 * g0)
    return cs1 * d1 - sn1 * d2, sn1 * d1 + cs1 * d2


def _safe_divide(num, den):
    return num / den if den > 0 else 0.0


def _eta(lr, sched, decay_every, k):
    """η_k: ``scale_by_learning_rate`` with ``schedule_factor``."""
    if sched == 0:
        return lr
    kf = float(k)
    if sched == 1:
        return lr * (1.0 / kf)
    if sched == 2:
        return lr * (1.0 / math.sqrt(kf))
    return lr * math.ldexp(1.0, -int(math.floor((kf - 1.0) / decay_every)))


def _step(kind, lr, mu, nesterov, sched, decay_every, eps, alpha, beta2, count, g0, g1, hxx, hxy, hyy,
          s0, s1, s2, s3):
    """One optimizer update of one row: returns the step and the row's new state (s0, s1, s2, s3).

    All scalars (no arrays), so the compiled loop keeps everything in registers.
    State: momentum v = (s0, s1); Adagrad/RMSprop (s0, s1); Adam m = (s0, s1), v = (s2, s3);
    preconditioned P = [[s0, s1], [s1, s2]].
    """
    if kind == GD:
        eta = _eta(lr, sched, decay_every, count)
        return -eta * g0, -eta * g1, s0, s1, s2, s3
    if kind == MOMENTUM:
        v0 = mu * s0 + g0
        v1 = mu * s1 + g1
        if nesterov != 0:
            d0, d1 = g0 + mu * v0, g1 + mu * v1
        else:
            d0, d1 = v0, v1
        eta = _eta(lr, sched, decay_every, count)
        return -eta * d0, -eta * d1, v0, v1, s2, s3
    if kind == ADAGRAD:
        q0 = s0 + g0 * g0
        q1 = s1 + g1 * g1
        d0 = _safe_divide(g0, math.sqrt(q0) + eps)
        d1 = _safe_divide(g1, math.sqrt(q1) + eps)
        return -lr * d0, -lr * d1, q0, q1, s2, s3
    if kind == RMSPROP:
        v0 = alpha * s0 + (1 - alpha) * g0 * g0
        v1 = alpha * s1 + (1 - alpha) * g1 * g1
        d0 = _safe_divide(g0, math.sqrt(v0) + eps)
        d1 = _safe_divide(g1, math.sqrt(v1) + eps)
        return -lr * d0, -lr * d1, v0, v1, s2, s3
    if kind == ADAM:
        beta1 = alpha
        m0 = beta1 * s0 + (1 - beta1) * g0
        m1 = beta1 * s1 + (1 - beta1) * g1
        v0 = beta2 * s2 + (1 - beta2) * g0 * g0
        v1 = beta2 * s3 + (1 - beta2) * g1 * g1
        t = float(count)
        bc1 = 1 - math.pow(beta1, t)
        sq2 = math.sqrt(1 - math.pow(beta2, t))
        d0 = _safe_divide(m0 / bc1, math.sqrt(v0) / sq2 + eps)
        d1 = _safe_divide(m1 / bc1, math.sqrt(v1) / sq2 + eps)
        return -lr * d0, -lr * d1, m0, m1, v0, v1
    if kind == NEWTON:
        d0, d1 = _pinv_apply(hxx, hxy, hyy, g0, g1, False)
        return -lr * d0, -lr * d1, s0, s1, s2, s3
    # preconditioned: P = the Hessian of the first update, kept
    if count == 1:
        s0, s1, s2 = hxx, hxy, hyy
    d0, d1 = _pinv_apply(s0, s1, s2, g0, g1, True)
    return -lr * d0, -lr * d1, s0, s1, s2, s3


def _advance(sid, sp, kinds, hp, st, counts, x, f, g, gnorm, active, status, steps_taken, stop_step,
             k0, n, tol, bound, pts, fs, gs):
    """Up to ``n`` steps of every active row, as ``Stepper.step`` takes them; returns the steps
    taken until no row was left active. With ``pts`` of shape (K, n, 2) row i's new points are
    recorded at ``pts[i, :m]`` (and its losses and gradient norms in ``fs``, ``gs``)."""
    record = pts.shape[1] > 0
    done = 0
    for i in range(x.shape[0]):
        if not active[i]:
            continue
        kind = kinds[i]
        lr, mu, nesterov, sched = hp[i, LR], hp[i, MU], hp[i, NESTEROV], hp[i, SCHEDULE]
        decay_every, eps, alpha, beta2 = hp[i, DECAY_EVERY], hp[i, EPS], hp[i, ALPHA], hp[i, BETA2]
        s0, s1, s2, s3 = st[i, 0], st[i, 1], st[i, 2], st[i, 3]
        count = counts[i]
        x0, x1 = x[i, 0], x[i, 1]
        g0, g1 = g[i, 0], g[i, 1]
        fi, gni = f[i], gnorm[i]
        taken = 0
        code = RUNNING
        hxx = hxy = hyy = 0.0
        if kind == NEWTON or (kind == PRECONDITIONED and count == 0):
            hxx, hxy, hyy = _hessian(sid, sp, x0, x1)
        newton = kind == NEWTON
        j = 0
        while j < n:
            count += 1
            d0, d1, s0, s1, s2, s3 = _step(kind, lr, mu, nesterov, sched, decay_every, eps, alpha, beta2, count,
                                           g0, g1, hxx, hxy, hyy, s0, s1, s2, s3)
            n0, n1 = x0 + d0, x1 + d1
            fn, gn0, gn1 = _surface(sid, sp, n0, n1)
            gn = math.sqrt(gn0 * gn0 + gn1 * gn1)
            j += 1
            finite = math.isfinite(fn) and math.isfinite(gn) and math.isfinite(n0) and math.isfinite(n1)
            if finite:
                x0, x1, g0, g1, fi, gni = n0, n1, gn0, gn1, fn, gn
                taken += 1
                if newton:
                    hxx, hxy, hyy = _hessian(sid, sp, x0, x1)
                if record:
                    pts[i, j - 1, 0] = n0
                    pts[i, j - 1, 1] = n1
                    fs[i, j - 1] = fn
                    gs[i, j - 1] = gn
            if not finite or max(abs(n0), abs(n1)) > bound:
                code = DIVERGED
            elif tol > 0 and gn < tol:
                code = CONVERGED
            if code != RUNNING:
                active[i] = False
                status[i] = code
                stop_step[i] = k0 + j
                break
        x[i, 0], x[i, 1], g[i, 0], g[i, 1] = x0, x1, g0, g1
        f[i], gnorm[i] = fi, gni
        counts[i] = count
        st[i, 0], st[i, 1], st[i, 2], st[i, 3] = s0, s1, s2, s3
        steps_taken[i] += taken
        if j > done:
            done = j
    return done


def _sweep(sid, sp, kinds, hp, st, counts, x, f, g, gnorm, active, status, steps_taken, stop_step, k0, n, tol, bound):
    """``_advance`` without a record, steps outside and rows inside: every row takes exactly the steps
    it takes there, but the rows' independent steps overlap in the processor (3× faster for a sweep)."""
    K = x.shape[0]
    done = 0
    for j in range(n):
        alive = 0
        for i in range(K):
            if not active[i]:
                continue
            kind = kinds[i]
            x0, x1, g0, g1 = x[i, 0], x[i, 1], g[i, 0], g[i, 1]
            count = counts[i]
            hxx = hxy = hyy = 0.0
            if kind == NEWTON or (kind == PRECONDITIONED and count == 0):
                hxx, hxy, hyy = _hessian(sid, sp, x0, x1)
            count += 1
            d0, d1, s0, s1, s2, s3 = _step(kind, hp[i, LR], hp[i, MU], hp[i, NESTEROV], hp[i, SCHEDULE],
                                           hp[i, DECAY_EVERY], hp[i, EPS], hp[i, ALPHA], hp[i, BETA2], count,
                                           g0, g1, hxx, hxy, hyy, st[i, 0], st[i, 1], st[i, 2], st[i, 3])
            counts[i] = count
            st[i, 0], st[i, 1], st[i, 2], st[i, 3] = s0, s1, s2, s3
            n0, n1 = x0 + d0, x1 + d1
            fn, gn0, gn1 = _surface(sid, sp, n0, n1)
            gn = math.sqrt(gn0 * gn0 + gn1 * gn1)
            finite = math.isfinite(fn) and math.isfinite(gn) and math.isfinite(n0) and math.isfinite(n1)
            if finite:
                x[i, 0], x[i, 1], g[i, 0], g[i, 1] = n0, n1, gn0, gn1
                f[i], gnorm[i] = fn, gn
                steps_taken[i] += 1
            code = RUNNING
            if not finite or max(abs(n0), abs(n1)) > bound:
                code = DIVERGED
            elif tol > 0 and gn < tol:
                code = CONVERGED
            if code != RUNNING:
                active[i] = False
                status[i] = code
                stop_step[i] = k0 + j + 1
            else:
                alive += 1
        done = j + 1
        if alive == 0:
            break
    return done


def _sweep_heavy_ball(sid, sp, heavy, nesterov, lr, mu, x0, x1, g0, g1, v0, v1, f, gnorm, active, status,
                      steps_taken, stop_step, k0, n, tol, bound):
    """``_sweep`` for the case sweeps are made of: every row GD (``heavy`` false) or every row heavy ball
    (Nesterov or not), constant step sizes. The same operations as ``_step`` on columns of their own,
    with nothing else in the loop, and stopped rows computed too but not kept (a skip that depends on
    the row mispredicts): three times faster again."""
    K = x0.shape[0]
    done = 0
    for j in range(n):
        alive = 0
        for i in range(K):
            act = active[i]
            a0, a1 = g0[i], g1[i]
            m = mu[i]
            w0 = m * v0[i] + a0
            w1 = m * v1[i] + a1
            if not heavy:
                d0, d1 = a0, a1
            elif nesterov:
                d0, d1 = a0 + m * w0, a1 + m * w1
            else:
                d0, d1 = w0, w1
            eta = lr[i]
            n0 = x0[i] + -eta * d0
            n1 = x1[i] + -eta * d1
            fn, gn0, gn1 = _surface(sid, sp, n0, n1)
            gn = math.sqrt(gn0 * gn0 + gn1 * gn1)
            finite = math.isfinite(fn) and math.isfinite(gn) and math.isfinite(n0) and math.isfinite(n1)
            diverged = not finite or max(abs(n0), abs(n1)) > bound
            converged = not diverged and tol > 0 and gn < tol
            if act:
                if heavy:
                    v0[i], v1[i] = w0, w1
                if finite:
                    x0[i], x1[i], g0[i], g1[i], f[i], gnorm[i] = n0, n1, gn0, gn1, fn, gn
                    steps_taken[i] += 1
                if diverged or converged:
                    active[i] = False
                    status[i] = DIVERGED if diverged else CONVERGED
                    stop_step[i] = k0 + j + 1
                else:
                    alive += 1
        done = j + 1
        if alive == 0:
            break
    return done


SQRT2 = float(np.sqrt(2.0))


# --- compiling -----------------------------------------------------------------------

_lock = threading.Lock()
_kernel = None
_thread: threading.Thread | None = None
_failed: str | None = None


_local = threading.local()


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


def _compile():
    global _kernel, _failed
    try:
        if "NUMBA_CACHE_DIR" not in os.environ and not os.access(os.path.dirname(__file__), os.W_OK):
            # A read-only install (the container): numba caches compiled code here instead.
            os.environ["NUMBA_CACHE_DIR"] = os.path.join(tempfile.gettempdir(), "losslab-numba")
        import numba

        g = globals()
        # Each function is replaced by its compiled twin (still callable from Python), callees
        # first: numba resolves the names a function calls when it compiles it.
        for name in _COMPILED:
            if not isinstance(g[name], numba.core.dispatcher.Dispatcher):
                inline = "always" if name in _INLINE else "never"
                g[name] = numba.njit(cache=True, nogil=True, error_model="numpy", inline=inline)(g[name])
        kernel = g["_advance"]
        _smoke(kernel)
        _smoke_sweep(g["_sweep"])
        z = np.zeros(1)
        g["_sweep_heavy_ball"](2, np.array([1.0, 100.0, 0.0, 0.0]), True, False, z, z, z.copy(), z.copy(), z.copy(),
                               z.copy(), z.copy(), z.copy(), z.copy(), z.copy(), np.ones(1, np.bool_),
                               np.zeros(1, np.int64), np.zeros(1, np.int64), np.full(1, -1, np.int64), 0, 1, 0.0, 1e6)
        with _lock:
            _kernel = kernel
    except Exception as e:  # numba missing or unable to compile here: the reference runs everything
        _failed = f"{type(e).__name__}: {e}"


_COMPILED = ("_surface", "_hessian", "_nan_max", "_pinv_apply", "_safe_divide", "_eta", "_step", "_advance", "_sweep",
             "_sweep_heavy_ball")
#: Called once per step of every row: inlined. The rest are calls, so the hot loop stays small.
_INLINE = ("_surface", "_nan_max", "_safe_divide", "_eta", "_step")


def _smoke(kernel):
    """Compile for the argument types the runner passes, on a one-row problem."""
    x = np.zeros((1, 2))
    kernel(2, np.array([1.0, 100.0, 0.0, 0.0]), np.zeros(1, np.int64), np.zeros((1, N_HP)), np.zeros((1, N_STATE)),
           np.zeros(1, np.int64), x, np.zeros(1), np.zeros((1, 2)), np.zeros(1), np.ones(1, np.bool_),
           np.zeros(1, np.int64), np.zeros(1, np.int64), np.full(1, -1, np.int64), 0, 1, 0.0, 1e6,
           np.empty((1, 1, 2)), np.empty((1, 1)), np.empty((1, 1)))


def _smoke_sweep(sweep_kernel):
    sweep_kernel(2, np.array([1.0, 100.0, 0.0, 0.0]), np.zeros(1, np.int64), np.zeros((1, N_HP)),
                 np.zeros((1, N_STATE)), np.zeros(1, np.int64), np.zeros((1, 2)), np.zeros(1), np.zeros((1, 2)),
                 np.zeros(1), np.ones(1, np.bool_), np.zeros(1, np.int64), np.zeros(1, np.int64),
                 np.full(1, -1, np.int64), 0, 1, 0.0, 1e6)


def warm_up(wait: bool = True) -> bool:
    """Start compiling the kernel (once); with ``wait``, block until done. Returns whether it is ready."""
    global _thread
    if not enabled():
        return False
    with _lock:
        if _thread is None and _kernel is None and _failed is None:
            _thread = threading.Thread(target=_compile, name="losslab-accel-compile", daemon=True)
            _thread.start()
        t = _thread
    if wait and t is not None:
        t.join()
    return _kernel is not None


def kernel():
    """The compiled kernel if it is ready (starting the compile in the background if not), else None."""
    if _kernel is not None:
        return _kernel if enabled() else None
    warm_up(wait=False)
    return None


def ready() -> bool:
    """Whether runs use the compiled kernel now (compiled, and not turned off)."""
    return _kernel is not None and enabled()


def covers(surface_name: str, optimizer_name: str, params: dict | None = None) -> bool:
    """Whether the kernel takes this surface and optimizer (a quick check before anything is built)."""
    if surface_name not in SURFACE_IDS or optimizer_name not in KINDS:
        return False
    from engine.optimizers import get_spec  # the catalog entry declares what the kernel takes

    spec = get_spec(optimizer_name)
    if not spec.capabilities.compiled:
        return False
    return not (spec.stochastic and (params or {}).get("noise"))  # the kernel draws no gradient noise


def status() -> str:
    """One line for logs and benchmarks: whether runs use the compiled kernel."""
    if not enabled():
        return "off (LOSSLAB_ACCEL=0)"
    if _kernel is not None:
        import numba

        return f"on (numba {numba.__version__})"
    if _failed:
        return f"unavailable ({_failed})"
    return "compiling"


# --- plans: a run's rows as the kernel's arrays ---------------------------------------

class Plan:
    """Everything the kernel needs for one Stepper, or the reason it cannot take it."""

    def __init__(self, kernel, sid: int, sp: np.ndarray, kinds: np.ndarray, hp: np.ndarray):
        self.kernel, self.sid, self.sp, self.kinds, self.hp = kernel, sid, sp, kinds, hp
        self.sweep_kernel = _sweep
        K = len(kinds)
        self.state = np.zeros((K, N_STATE))
        self.counts = np.zeros(K, np.int64)

    def sweep(self, x, f, g, gnorm, active, status, steps_taken, stop_step, k0, n, tol, bound) -> int:
        """Steps without a record, by the fastest kernel that takes these rows."""
        kinds, hp = self.kinds, self.hp
        k = kinds[0] if len(kinds) else -1
        simple = (k in (GD, MOMENTUM) and (kinds == k).all() and (hp[:, SCHEDULE] == 0).all()
                  and (hp[:, NESTEROV] == hp[0, NESTEROV]).all())
        if not simple:
            return self.sweep_kernel(self.sid, self.sp, kinds, hp, self.state, self.counts, x, f, g, gnorm, active,
                                     status, steps_taken, stop_step, k0, n, tol, bound)
        x0, x1, g0, g1 = x[:, 0].copy(), x[:, 1].copy(), g[:, 0].copy(), g[:, 1].copy()
        v0, v1 = self.state[:, 0].copy(), self.state[:, 1].copy()
        before = active.copy()
        taken = _sweep_heavy_ball(self.sid, self.sp, k == MOMENTUM, bool(hp[0, NESTEROV]), hp[:, LR].copy(),
                                  hp[:, MU].copy(), x0, x1, g0, g1, v0, v1, f, gnorm, active, status, steps_taken,
                                  stop_step, k0, n, tol, bound)
        x[:, 0], x[:, 1], g[:, 0], g[:, 1] = x0, x1, g0, g1
        self.state[:, 0], self.state[:, 1] = v0, v1
        # each row's updates: to the step where it stopped, or all of them
        self.counts += np.where(before & ~active, stop_step - k0, np.where(before, taken, 0))
        return taken


def surface_params(surface) -> np.ndarray | None:
    from engine.surfaces import classic

    sp = np.zeros(4)
    t = type(surface)
    if t is classic.Quadratic:
        sp[:] = surface.A.ravel()
    elif t is classic.Saddle:
        sp[:2] = surface.r, surface.w
    elif t is classic.Rosenbrock:
        sp[:2] = surface.a, surface.b
    elif t is classic.Himmelblau:
        pass
    elif t is classic.Beale:
        sp[:3] = surface._C
    else:
        return None
    return sp


def plan(surface, configs: Sequence) -> Plan | None:
    """A Plan when the kernel is ready and covers this surface and every configuration."""
    k = kernel()
    if k is None:
        return None
    sp = surface_params(surface)
    if sp is None:
        return None
    K = len(configs)
    kinds = np.empty(K, np.int64)
    rows = []
    for i, cfg in enumerate(configs):
        kind = KINDS.get(cfg.name)
        p = cfg.params
        if kind is None or (cfg.name == "sgd" and (p["noise"] != 0 or surface.IS_DATA)):
            return None
        kinds[i] = kind
        g = p.get
        rows.append((p["lr"], g("momentum", 0.0), cfg.name == "nesterov", SCHEDULES[g("schedule", "constant")],
                     g("decay_every", 100), g("eps", 0.0), g("alpha", g("beta1", 0.0)), g("beta2", 0.0)))
    return Plan(k, SURFACE_IDS[surface.NAME], sp, kinds, np.array(rows, dtype=float))


def plan_grid(surface, name: str, params: dict, lrs: np.ndarray, momenta: np.ndarray | None) -> Plan | None:
    """A Plan for a sweep: one optimizer, its ``params`` with ``lr`` (and ``momentum``) from the grid."""
    from engine.runner import OptimizerConfig

    row = plan(surface, [OptimizerConfig(name, dict(params, lr=float(lrs[0]),
                                                    **({} if momenta is None else {"momentum": float(momenta[0])})))])
    if row is None:
        return None
    K = len(lrs)
    hp = np.repeat(row.hp, K, axis=0)
    hp[:, LR] = lrs
    if momenta is not None:
        hp[:, MU] = momenta
    return Plan(row.kernel, row.sid, row.sp, np.repeat(row.kinds, K), hp)
