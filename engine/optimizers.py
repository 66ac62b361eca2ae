"""Optimizers as pure ``init``/``update`` pairs, in the style of optax.

An optimizer is ``Optimizer(init, update)``:

- ``init(x0) -> state``
- ``update(grad, state, x, *, hess=None) -> (step, state)``

and the runner applies the step: ``x ← x + step``. Nothing is mutated, so any run
can be replayed, reset or raced against another exactly.

Every rule follows PyTorch's conventions (``torch.optim``). In particular momentum
keeps the *un-scaled* velocity, v ← β v + g, and the step is −η v; the other common
form, v ← β v + η g, gives the same iterates for a constant η but not when η changes.

Hyperparameters may be scalars or arrays of shape ``(K, 1)`` so that K configurations
of one optimizer advance together on points of shape ``(K, 2)``: that is how races
and (η, β) sweeps are batched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from engine.params import Capabilities, Param, ParamError, resolve


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


class ScaleByAdagradState(NamedTuple):
    sum_of_squares: np.ndarray


def _safe_divide(num, den):
    """num / den with 0 where den is 0: no gradient, no step (e.g. eps = 0 at a stationary point)."""
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def scale_by_adagrad(eps) -> Optimizer:
    """s ← s + g²; d = g / (√s + ε)."""

    def init(x):
        return ScaleByAdagradState(np.zeros_like(np.asarray(x, dtype=float)))

    def update(g, state, x, *, hess=None):
        s = state.sum_of_squares + g * g
        return _safe_divide(g, np.sqrt(s) + eps), ScaleByAdagradState(s)

    return Optimizer(init, update)


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


# --- the named optimizers ---------------------------------------------------

def gd(*, lr, schedule="constant", decay_every=100) -> Optimizer:
    """Gradient descent: x ← x − η_k g."""
    return scale_by_learning_rate(lr, schedule, decay_every)


def momentum(*, lr, momentum, schedule="constant", decay_every=100) -> Optimizer:
    """Heavy ball (PyTorch SGD with momentum): v ← β v + g; x ← x − η v, v₀ = 0.

    >>> import numpy as np
    >>> opt = momentum(lr=0.1, momentum=0.9)
    >>> x = np.array([1.0, 1.0]); s = opt.init(x)
    >>> step, s = opt.update(np.array([1.0, 2.0]), s, x)
    >>> step.tolist()
    [-0.1, -0.2]
    """
    return chain(trace(momentum), scale_by_learning_rate(lr, schedule, decay_every))


def nesterov(*, lr, momentum, schedule="constant", decay_every=100) -> Optimizer:
    """Nesterov momentum (PyTorch): v ← β v + g; x ← x − η (g + β v)."""
    return chain(trace(momentum, nesterov=True), scale_by_learning_rate(lr, schedule, decay_every))


def sgd(*, lr, momentum=0.0, schedule="constant", decay_every=100, batch_size=1, noise=0.0, seed=0) -> Optimizer:
    """Stochastic gradient descent: the momentum rule applied to a mini-batch gradient.

    The runner samples the batches (without replacement within an epoch, seeded) on
    data surfaces, and adds Gaussian noise of std ``noise`` to the gradient on any surface.
    """
    return momentum_(lr=lr, momentum=momentum, schedule=schedule, decay_every=decay_every)


momentum_ = momentum


def newton(*, lr) -> Optimizer:
    """Newton's method: x ← x − η H⁻¹ g (η = 1 is the full step)."""
    return chain(scale_by_newton(), scale_by_learning_rate(lr))


def preconditioned(*, lr) -> Optimizer:
    """Preconditioned ("normalized") GD: x ← x − η P⁻¹ g, P = |H(x0)| fixed at the start.

    On a quadratic P = A, so η = 1 reaches the minimum in one step from anywhere.
    """
    return chain(scale_by_start_hessian(), scale_by_learning_rate(lr))


def adagrad(*, lr, eps=1e-10) -> Optimizer:
    """Adagrad (PyTorch): s ← s + g²; x ← x − η g / (√s + ε)."""
    return chain(scale_by_adagrad(eps), scale_by_learning_rate(lr))


def rmsprop(*, lr, alpha=0.99, eps=1e-8) -> Optimizer:
    """RMSprop (PyTorch): v ← α v + (1 − α) g²; x ← x − η g / (√v + ε)."""
    return chain(scale_by_rms(alpha, eps), scale_by_learning_rate(lr))


def adam(*, lr, beta1=0.9, beta2=0.999, eps=1e-8) -> Optimizer:
    """Adam (PyTorch, bias-corrected): m ← β1 m + (1 − β1) g; v ← β2 v + (1 − β2) g²;
    x ← x − η (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)."""
    return chain(scale_by_adam(beta1, beta2, eps), scale_by_learning_rate(lr))


# --- catalog ----------------------------------------------------------------

def _lr(default, high=10.0):
    return Param("lr", default, 0.0, high, "Step size η: how far each step moves along the (scaled) gradient.",
                 log=True, label="Step size", low_open=True)


MOMENTUM = Param("momentum", 0.9, 0.0, 0.999, "Momentum β: the fraction of the velocity kept from one step to the next.",
                 label="Momentum", near_one=True)
SCHEDULE = Param("schedule", "constant", kind="choice", choices=SCHEDULES,
                 description="How η changes with the step k: constant, η/k, η/√k, or halved every 'decay_every' steps.", label="Schedule")
DECAY_EVERY = Param("decay_every", 100, 1, 100_000, "Steps between halvings of η for the 'step' schedule.", kind="int", label="Decay every")


@dataclass(frozen=True)
class OptimizerSpec:
    name: str
    title: str
    formula: str
    description: str
    params: Sequence[Param]
    build: Callable[..., Optimizer]
    needs_hessian: bool = False
    stochastic: bool = False
    #: What the rest of Loss Lab may ask of this optimizer (engine.capabilities): declared here only.
    capabilities: Capabilities = Capabilities()

    def resolve(self, params) -> dict:
        return resolve(self.params, params, self.name)

    def to_dict(self) -> dict:
        return {
            "name": self.name, "title": self.title, "formula": self.formula, "description": self.description,
            "params": [p.to_dict() for p in self.params], "needs_hessian": self.needs_hessian,
            "stochastic": self.stochastic, "capabilities": self.capabilities.to_dict(),
        }


OPTIMIZERS: dict[str, OptimizerSpec] = {s.name: s for s in (
    OptimizerSpec("gd", "Gradient descent", "x ← x − η g",
                  "Steps straight downhill. On a quadratic it converges for η < 2/λmax and zig-zags when the bowl is elongated.",
                  (_lr(0.1), SCHEDULE, DECAY_EVERY), gd,
                  capabilities=Capabilities(rate="heavy_ball", compiled=True)),
    OptimizerSpec("momentum", "Momentum (heavy ball)", "v ← β v + g;  x ← x − η v",
                  "Accumulates a velocity: oscillations across a valley cancel while progress along it adds up.",
                  (_lr(0.05), MOMENTUM, SCHEDULE, DECAY_EVERY), momentum,
                  capabilities=Capabilities(velocity="momentum", rate="heavy_ball", beta="momentum", compiled=True)),
    OptimizerSpec("nesterov", "Nesterov momentum", "v ← β v + g;  x ← x − η (g + β v)",
                  "Momentum with a look-ahead correction (PyTorch's form); damps the overshoot of the heavy ball.",
                  (_lr(0.05), MOMENTUM, SCHEDULE, DECAY_EVERY), nesterov,
                  capabilities=Capabilities(velocity="momentum", rate="nesterov", beta="momentum", compiled=True)),
    OptimizerSpec("newton", "Newton's method", "x ← x − η H⁻¹ g",
                  "Jumps to the minimum of the local quadratic model. One step with η = 1 solves any quadratic; "
                  "where the Hessian is indefinite it heads for the saddle instead.",
                  (_lr(1.0),), newton, needs_hessian=True, capabilities=Capabilities(rate="newton", compiled=True)),
    OptimizerSpec("preconditioned", "Preconditioned GD", "x ← x − η P⁻¹ g,  P = |H(x₀)|",
                  "Rescales the axes once with the Hessian at the start, so an elongated bowl becomes round.",
                  (_lr(1.0),), preconditioned, needs_hessian=True,
                  capabilities=Capabilities(rate="newton", compiled=True)),
    OptimizerSpec("adagrad", "Adagrad", "s ← s + g²;  x ← x − η g / (√s + ε)",
                  "A step size per coordinate that shrinks with the gradients seen so far.",
                  (_lr(0.5), Param("eps", 1e-10, 0.0, 1.0, "ε added to the denominator for stability.", log=True, label="ε")), adagrad,
                  capabilities=Capabilities(compiled=True)),
    OptimizerSpec("rmsprop", "RMSprop", "v ← α v + (1 − α) g²;  x ← x − η g / (√v + ε)",
                  "Divides each coordinate by a running root-mean-square of its gradient.",
                  (_lr(0.01), Param("alpha", 0.99, 0.0, 0.9999, "Smoothing constant α of the squared-gradient average.", label="α", near_one=True),
                   Param("eps", 1e-8, 0.0, 1.0, "ε added to the denominator for stability.", log=True, label="ε")), rmsprop,
                  capabilities=Capabilities(compiled=True)),
    OptimizerSpec("adam", "Adam", "m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;  x ← x − η m̂ / (√v̂ + ε)",
                  "Momentum plus RMSprop scaling, with bias correction of both moving averages.",
                  (_lr(0.05), Param("beta1", 0.9, 0.0, 0.9999, "Decay β1 of the gradient average (momentum).", label="β1", near_one=True),
                   Param("beta2", 0.999, 0.0, 0.99999, "Decay β2 of the squared-gradient average.", label="β2", near_one=True),
                   Param("eps", 1e-8, 0.0, 1.0, "ε added to the denominator for stability.", log=True, label="ε")), adam,
                  capabilities=Capabilities(velocity="beta1", compiled=True)),
    OptimizerSpec("sgd", "SGD / mini-batch", "g_B = mean of a batch;  v ← β v + g_B;  x ← x − η_k v",
                  "Follows the gradient of a random mini-batch (data surfaces), or a noisy gradient elsewhere. "
                  "Batches are drawn without replacement within each epoch.",
                  (_lr(0.1), Param("momentum", 0.0, 0.0, 0.999, MOMENTUM.description, label="Momentum", near_one=True),
                   Param("batch_size", 1, 1, 10_000, "Examples per mini-batch (1 = pure SGD, N = full batch); data surfaces only.", kind="int", label="Batch size"),
                   Param("noise", 0.0, 0.0, 100.0, "Std of Gaussian noise added to every gradient.", label="Gradient noise"),
                   Param("seed", 0, 0, 2**31 - 1, "Seed of this run's batches and noise.", kind="int", label="Seed"),
                   SCHEDULE, DECAY_EVERY), sgd, stochastic=True,
                  capabilities=Capabilities(velocity="momentum", rate="heavy_ball", beta="momentum", compiled=True)),
)}


def get_spec(name: str) -> OptimizerSpec:
    try:
        return OPTIMIZERS[name]
    except (KeyError, TypeError):
        raise ParamError("optimizer", name, f"one of {', '.join(OPTIMIZERS)}") from None


def make_optimizer(name: str, **params) -> Optimizer:
    """Build a named optimizer from (validated) keyword parameters.

    >>> opt = make_optimizer("gd", lr=0.5)
    >>> opt.update(np.array([2.0, -2.0]), opt.init(np.zeros(2)), np.zeros(2))[0].tolist()
    [-1.0, 1.0]
    """
    spec = get_spec(name)
    return _build(spec, spec.resolve(params))


def _build(spec: OptimizerSpec, params: dict) -> Optimizer:
    keep = {k: v for k, v in params.items() if k not in ("batch_size", "noise", "seed")}
    return spec.build(**keep)
