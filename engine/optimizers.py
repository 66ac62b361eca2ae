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

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from engine.params import Capabilities, Param, ParamError, resolve
from engine.transforms import (  # noqa: F401  (re-exported: the transforms used to live here)
    SCHEDULES, Optimizer, apply_updates, chain, pseudo_inverse_apply, scale_by_adagrad, scale_by_adam,
    scale_by_learning_rate, scale_by_newton, scale_by_rms, scale_by_start_hessian, schedule_factor,
    symmetric_eig2, trace,
)


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


def sgd(*, lr, momentum=0.0, schedule="constant", decay_every=100) -> Optimizer:
    """Stochastic gradient descent: the momentum rule applied to a mini-batch gradient.

    The update is the heavy ball's; what makes it stochastic is the gradient it is given. The
    runner samples that (its catalog entry's ``sampling`` parameters ``batch_size``, ``noise`` and
    ``seed``): batches without replacement within an epoch on data surfaces, and Gaussian noise
    of std ``noise`` added to the gradient on any surface.
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
    #: Parameters of how the runner samples the gradient (mini-batches, noise), not of the update: never
    #: passed to ``build``.
    sampling: Sequence[str] = ()

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
                   SCHEDULE, DECAY_EVERY), sgd, stochastic=True, sampling=("batch_size", "noise", "seed"),
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
    keep = {k: v for k, v in params.items() if k not in spec.sampling}
    return spec.build(**keep)
