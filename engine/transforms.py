"""The building blocks of every optimizer, optax-style, each with its compiled twin beside it.

A transform is ``Optimizer(init, update)`` with ``init(x0) -> state`` and
``update(grad, state, x, *, hess=None) -> (direction, state)``; ``chain`` composes them and
``engine.optimizers`` names the compositions (momentum = trace, then a step size). Right after
each transform comes its ``@twin`` (see ``engine.twins``): the same rule for one row in scalar
arithmetic, which the compiled path runs, bit for bit equal to the numpy above it.

Hyperparameters may be scalars or arrays of shape ``(K, 1)`` so that K configurations
of one optimizer advance together on points of shape ``(K, 2)``: that is how races
and (η, β) sweeps are batched.
"""


from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

import numpy as np

from engine.params import ParamError
from engine.twins import twin


class Optimizer(NamedTuple):
    init: Callable[[np.ndarray], Any]
    update: Callable[..., tuple[np.ndarray, Any]]
    needs_hessian: bool = False


def apply_updates(x: np.ndarray, step: np.ndarray) -> np.ndarray:
    """x ← x + step."""
    return x + step


def chain(*optimizers: Optimizer) -> Optimizer:
    """Apply optimizers in sequence, each transforming the previous one's output."""

    def init(x):
        return tuple(o.init(x) for o in optimizers)

    def update(grad, state, x, *, hess=None):
        new_state = []
        for o, s in zip(optimizers, state):
            grad, s = o.update(grad, s, x, hess=hess)
            new_state.append(s)
        return grad, tuple(new_state)

    return Optimizer(init, update, any(o.needs_hessian for o in optimizers))


# --- step-size schedules ----------------------------------------------------

SCHEDULES = ("constant", "inverse", "inverse_sqrt", "step")


def schedule_factor(schedule: str, k: np.ndarray, decay_every=100) -> np.ndarray:
    """Multiplier of η at step k = 1, 2, …

    constant: 1; inverse: 1/k (the lecture's η_k = η/k); inverse_sqrt: 1/√k;
    step: ½ every ``decay_every`` steps.
    """
    k = np.asarray(k, dtype=float)
    if schedule == "constant":
        return np.ones_like(k)
    if schedule == "inverse":
        return 1.0 / k
    if schedule == "inverse_sqrt":
        return 1.0 / np.sqrt(k)
    if schedule == "step":
        # 2^−n exactly (ldexp, not a SIMD pow), so every configuration gets the same bits.
        return np.ldexp(1.0, -np.floor((k - 1) / decay_every).astype(int))
    raise ParamError("schedule", schedule, f"one of {', '.join(SCHEDULES)}")


#: The schedules by number, for the compiled path's table of hyperparameters.
SCHEDULE_CONSTANT, SCHEDULE_INVERSE, SCHEDULE_INVERSE_SQRT, SCHEDULE_STEP = range(len(SCHEDULES))


@twin
def learning_rate_twin(lr, schedule, decay_every, k):
    """η_k of ``scale_by_learning_rate`` for one row; ``schedule`` is a SCHEDULE_* number."""
    if schedule == SCHEDULE_CONSTANT:
        return lr
    kf = float(k)
    if schedule == SCHEDULE_INVERSE:
        return lr * (1.0 / kf)
    if schedule == SCHEDULE_INVERSE_SQRT:
        return lr * (1.0 / math.sqrt(kf))
    return lr * math.ldexp(1.0, -int(math.floor((kf - 1.0) / decay_every)))


class ScaleByLearningRateState(NamedTuple):
    count: int


def scale_by_learning_rate(lr, schedule: str = "constant", decay_every=100) -> Optimizer:
    """step = −η_k · d, with η_k = η · schedule(k) at step k = 1, 2, …"""

    def init(x):
        return ScaleByLearningRateState(0)

    def update(d, state, x, *, hess=None):
        k = state.count + 1
        eta = lr if schedule == "constant" else lr * schedule_factor(schedule, k, decay_every)
        return -eta * d, ScaleByLearningRateState(k)

    return Optimizer(init, update)


# --- direction transforms ---------------------------------------------------

class TraceState(NamedTuple):
    velocity: np.ndarray


def trace(momentum, nesterov: bool = False) -> Optimizer:
    """Heavy-ball velocity: v ← β v + g; returns v, or g + β v with Nesterov (PyTorch)."""

    def init(x):
        return TraceState(np.zeros_like(np.asarray(x, dtype=float)))

    def update(g, state, x, *, hess=None):
        v = momentum * state.velocity + g
        return (g + momentum * v if nesterov else v), TraceState(v)

    return Optimizer(init, update)


@twin
def trace_twin(mu, nesterov, g0, g1, st):
    """``trace`` for one row: the velocity lives in st[0], st[1]."""
    v0 = mu * st[0] + g0
    v1 = mu * st[1] + g1
    st[0], st[1] = v0, v1
    if nesterov:
        return g0 + mu * v0, g1 + mu * v1
    return v0, v1


class ScaleByAdagradState(NamedTuple):
    sum_of_squares: np.ndarray


def _safe_divide(num, den):
    """num / den with 0 where den is 0: no gradient, no step (e.g. eps = 0 at a stationary point)."""
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


@twin
def safe_divide_twin(num, den):
    return num / den if den > 0 else 0.0


def scale_by_adagrad(eps) -> Optimizer:
    """s ← s + g²; d = g / (√s + ε)."""

    def init(x):
        return ScaleByAdagradState(np.zeros_like(np.asarray(x, dtype=float)))

    def update(g, state, x, *, hess=None):
        s = state.sum_of_squares + g * g
        return _safe_divide(g, np.sqrt(s) + eps), ScaleByAdagradState(s)

    return Optimizer(init, update)


@twin
def adagrad_twin(eps, g0, g1, st):
    """``scale_by_adagrad`` for one row: the sums of squares live in st[0], st[1]."""
    q0 = st[0] + g0 * g0
    q1 = st[1] + g1 * g1
    st[0], st[1] = q0, q1
    return safe_divide_twin(g0, math.sqrt(q0) + eps), safe_divide_twin(g1, math.sqrt(q1) + eps)


class ScaleByRmsState(NamedTuple):
    square_avg: np.ndarray


def scale_by_rms(alpha, eps) -> Optimizer:
    """v ← α v + (1 − α) g²; d = g / (√v + ε)."""

    def init(x):
        return ScaleByRmsState(np.zeros_like(np.asarray(x, dtype=float)))

    def update(g, state, x, *, hess=None):
        v = alpha * state.square_avg + (1 - alpha) * g * g
        return _safe_divide(g, np.sqrt(v) + eps), ScaleByRmsState(v)

    return Optimizer(init, update)


@twin
def rms_twin(alpha, eps, g0, g1, st):
    """``scale_by_rms`` for one row: the averages live in st[0], st[1]."""
    v0 = alpha * st[0] + (1 - alpha) * g0 * g0
    v1 = alpha * st[1] + (1 - alpha) * g1 * g1
    st[0], st[1] = v0, v1
    return safe_divide_twin(g0, math.sqrt(v0) + eps), safe_divide_twin(g1, math.sqrt(v1) + eps)


def _power(base, t: int):
    """base ** t by the C library's pow for every element: numpy's SIMD pow can differ in the
    last bit, and a configuration must get the same bits alone and in a race."""
    if isinstance(base, np.ndarray):
        return np.array([math.pow(b, t) for b in base.ravel()]).reshape(base.shape)
    return base**t


class ScaleByAdamState(NamedTuple):
    count: int
    mu: np.ndarray
    nu: np.ndarray


def scale_by_adam(beta1, beta2, eps) -> Optimizer:
    """m ← β1 m + (1 − β1) g; v ← β2 v + (1 − β2) g²;
    d = (m / (1 − β1ᵗ)) / (√v / √(1 − β2ᵗ) + ε).

    The bias corrections undo the pull of the zero initial moments toward 0 in the first steps.
    """

    def init(x):
        z = np.zeros_like(np.asarray(x, dtype=float))
        return ScaleByAdamState(0, z, z)

    def update(g, state, x, *, hess=None):
        t = state.count + 1
        m = beta1 * state.mu + (1 - beta1) * g
        v = beta2 * state.nu + (1 - beta2) * g * g
        bc1 = 1 - _power(beta1, t)
        bc2 = 1 - _power(beta2, t)
        d = _safe_divide(m / bc1, np.sqrt(v) / np.sqrt(bc2) + eps)
        return d, ScaleByAdamState(t, m, v)

    return Optimizer(init, update)


@twin
def adam_twin(beta1, beta2, eps, t, g0, g1, st):
    """``scale_by_adam`` for one row at step t: m in st[0], st[1] and v in st[2], st[3]; pow by the C library."""
    m0 = beta1 * st[0] + (1 - beta1) * g0
    m1 = beta1 * st[1] + (1 - beta1) * g1
    v0 = beta2 * st[2] + (1 - beta2) * g0 * g0
    v1 = beta2 * st[3] + (1 - beta2) * g1 * g1
    st[0], st[1], st[2], st[3] = m0, m1, v0, v1
    tf = float(t)
    bc1 = 1 - math.pow(beta1, tf)
    sq2 = math.sqrt(1 - math.pow(beta2, tf))
    return (safe_divide_twin(m0 / bc1, math.sqrt(v0) / sq2 + eps),
            safe_divide_twin(m1 / bc1, math.sqrt(v1) / sq2 + eps))


def symmetric_eig2(a, b, c):
    """Eigen-decomposition of the symmetric 2×2 matrices [[a, b], [b, c]], elementwise.

    LAPACK's closed form (``dlaev2``, the 2×2 step inside ``dsyev``): returns ``rt1, rt2,
    cs, sn`` with |rt1| ≥ |rt2| and (cs, sn) the unit eigenvector of rt1; (−sn, cs) is
    that of rt2. Plain arithmetic with no library call, so a compiled copy of the same
    formulas (``engine.accel``) gives the same bits, and so does one matrix or many.
    """
    sm = a + c
    df = a - c
    adf = np.abs(df)
    tb = b + b
    ab = np.abs(tb)
    a_bigger = np.abs(a) > np.abs(c)
    acmx = np.where(a_bigger, a, c)
    acmn = np.where(a_bigger, c, a)
    r1 = ab / adf
    r2 = adf / ab
    rt = np.where(adf > ab, adf * np.sqrt(1.0 + r1 * r1),
                  np.where(adf < ab, ab * np.sqrt(1.0 + r2 * r2), ab * SQRT2))
    neg, pos = sm < 0, sm > 0
    rt1 = np.where(neg, 0.5 * (sm - rt), np.where(pos, 0.5 * (sm + rt), 0.5 * rt))
    rt2 = np.where(neg | pos, (acmx / rt1) * acmn - (b / rt1) * b, -0.5 * rt)
    df_pos = df >= 0
    cs = np.where(df_pos, df + rt, df - rt)
    ct = -tb / cs
    sn_a = 1.0 / np.sqrt(1.0 + ct * ct)
    cs_a = ct * sn_a
    tn = -cs / tb
    cs_b = 1.0 / np.sqrt(1.0 + tn * tn)
    sn_b = tn * cs_b
    use_a = np.abs(cs) > ab
    zero = ~use_a & (ab == 0)
    cs1 = np.where(use_a, cs_a, np.where(zero, 1.0, cs_b))
    sn1 = np.where(use_a, sn_a, np.where(zero, 0.0, sn_b))
    swap = neg == ~df_pos  # sgn1 == sgn2 in dlaev2: the vector found is rt2's; rotate it
    return rt1, rt2, np.where(swap, -sn1, cs1), np.where(swap, cs1, sn1)


SQRT2 = float(np.sqrt(2.0))


def pseudo_inverse_apply(h: np.ndarray, g: np.ndarray, absolute: bool = False, rcond: float = 1e-12) -> np.ndarray:
    """H⁺ g for symmetric 2×2 matrices h (..., 2, 2) and vectors g (..., 2).

    Eigen-directions whose |λ| is below ``rcond · max|λ|`` get no step (the Moore–Penrose
    pseudo-inverse). With ``absolute`` each λ is replaced by |λ| (a positive-definite
    rescaling that never walks uphill).
    """
    h = np.asarray(h, dtype=float)
    g = np.asarray(g, dtype=float)
    with np.errstate(all="ignore"):
        lam1, lam2, cs, sn = symmetric_eig2(h[..., 0, 0], h[..., 1, 0], h[..., 1, 1])
        if absolute:
            lam1, lam2 = np.abs(lam1), np.abs(lam2)
        big = np.maximum(np.abs(lam1), np.abs(lam2))
        inv1 = np.where(np.abs(lam1) > rcond * big, 1.0 / lam1, 0.0)
        inv2 = np.where(np.abs(lam2) > rcond * big, 1.0 / lam2, 0.0)
        g0, g1 = g[..., 0], g[..., 1]
        d1 = inv1 * (cs * g0 + sn * g1)  # eigenvector 1 is (cs, sn), eigenvector 2 is (−sn, cs)
        d2 = inv2 * (cs * g1 - sn * g0)
        return np.stack([cs * d1 - sn * d2, sn * d1 + cs * d2], -1)


@twin
def _nan_max(a, b):
    """np.maximum of two numbers: NaN if either is NaN."""
    if a != a or b != b:
        return a + b
    return a if a >= b else b


@twin
def pseudo_inverse_apply_twin(a, b, c, g0, g1, absolute):
    """H⁺g for one H = [[a, b], [b, c]]: ``symmetric_eig2`` and ``pseudo_inverse_apply`` above, one row."""
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


def scale_by_newton() -> Optimizer:
    """d = H⁻¹ g at the current point (pseudo-inverse where H is singular).

    H is used as it is, indefinite or not: at a saddle Newton's step points *to* the
    critical point, which is why Newton's method is drawn to saddles.
    """

    def init(x):
        return ()

    def update(g, state, x, *, hess=None):
        if hess is None:
            raise ValueError("newton needs the Hessian: pass hess=")
        return pseudo_inverse_apply(hess, g), state

    return Optimizer(init, update, needs_hessian=True)


@twin
def newton_twin(hxx, hxy, hyy, g0, g1):
    """``scale_by_newton`` for one row, given the Hessian at the current point."""
    return pseudo_inverse_apply_twin(hxx, hxy, hyy, g0, g1, False)


class PreconditionState(NamedTuple):
    p_matrix: np.ndarray | None


def scale_by_start_hessian() -> Optimizer:
    """d = P⁻¹ g with P = |H(x0)|, the Hessian at the start point made positive definite.

    P is fixed after the first step: a one-time rescaling of the axes that turns the
    lecture's elongated bowl into a round one, not a Newton step at every point.
    """

    def init(x):
        return PreconditionState(None)

    def update(g, state, x, *, hess=None):
        p = state.p_matrix
        if p is None:
            if hess is None:
                raise ValueError("preconditioned needs the Hessian at the start: pass hess=")
            p = np.array(hess, dtype=float)
        return pseudo_inverse_apply(p, g, absolute=True), PreconditionState(p)

    return Optimizer(init, update, needs_hessian=True)


@twin
def start_hessian_twin(first, hxx, hxy, hyy, g0, g1, st):
    """``scale_by_start_hessian`` for one row: on the ``first`` update P = H(x0) is kept in st[0], st[1], st[2]."""
    if first:
        st[0], st[1], st[2] = hxx, hxy, hyy
    return pseudo_inverse_apply_twin(st[0], st[1], st[2], g0, g1, True)
