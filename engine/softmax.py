"""K-class softmax, cross-entropy with label smoothing, and the softmax Jacobian.

The lecture's multi-class output layer: logits z ∈ ℝᴷ, outputs y = softmax(z),
yₖ = exp(zₖ) / Σⱼ exp(zⱼ), and the divergence against a target distribution t

    CE(y, t) = −Σₖ tₖ log yₖ.

Label smoothing with the lecture's ε replaces the one-hot target of class c by

    tₖ = 1 − (K − 1)ε  for k = c,    tₖ = ε  for k ≠ c,

so 0 ≤ ε ≤ 1/K (ε = 1/K is the uniform target). PyTorch's ``cross_entropy(...,
label_smoothing=α)`` mixes the one-hot target with the uniform one, t = (1 − α)·onehot
+ α/K, which is the same target with ε = α/K (``torch_smoothing(eps, K)`` gives α).

The two gradients the lecture contrasts:

    ∂CE/∂yₖ = −tₖ / yₖ      zero for every k ≠ c when the target is hard (ε = 0),
    ∂CE/∂z  = y − t         never zero off-target (yₖ > 0 for every finite z),

joined by the softmax's Jacobian ∂y/∂z = diag(y) − yyᵀ (a full matrix, where a
scalar activation applied element-wise has the diagonal Jacobian diag(a'(zₖ))):
∂CE/∂z = (∂y/∂z)ᵀ ∂CE/∂y = diag(y)(−t/y) + y(yᵀ t/y) = −t + y Σₖtₖ = y − t.

Every function takes arrays with the K classes on the last axis and broadcasts over
the leading ones.
"""

from __future__ import annotations

import numpy as np


def softmax(z) -> np.ndarray:
    """yₖ = exp(zₖ − max z) / Σⱼ exp(zⱼ − max z): the same as exp(zₖ)/Σ exp(zⱼ), without overflow.

    >>> softmax([0.0, 0.0, 0.0]).round(4).tolist()
    [0.3333, 0.3333, 0.3333]
    """
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(z) -> np.ndarray:
    """log yₖ = zₖ − logsumexp(z), finite for every finite z."""
    z = np.asarray(z, dtype=float)
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def smoothed_target(target: int, k: int, eps: float = 0.0) -> np.ndarray:
    """The lecture's smoothed one-hot: 1 − (K − 1)ε for class ``target``, ε for the others.

    >>> smoothed_target(0, 3, 0.1).tolist()
    [0.8, 0.1, 0.1]
    """
    if not 0 <= target < k:
        raise ValueError(f"target = {target} is not a class of K = {k}: 0 ≤ target < K")
    if not 0.0 <= eps <= 1.0 / k:
        raise ValueError(f"eps = {eps} is not allowed: 0 ≤ ε ≤ 1/K = {1 / k:.6g}")
    t = np.full(k, float(eps))
    t[target] = 1.0 - (k - 1) * eps
    return t


def torch_smoothing(eps: float, k: int) -> float:
    """PyTorch's ``label_smoothing`` α giving the lecture's ε: α = Kε (t = (1 − α)·onehot + α/K)."""
    return k * eps


def cross_entropy(z, t) -> np.ndarray:
    """CE = −Σₖ tₖ log softmax(z)ₖ, computed from the logits (finite for every finite z)."""
    return -(np.asarray(t, dtype=float) * log_softmax(z)).sum(axis=-1)


def grad_wrt_outputs(z, t) -> np.ndarray:
    """∂CE/∂yₖ = −tₖ / yₖ: exactly zero for the classes whose target is zero."""
    return -np.asarray(t, dtype=float) / softmax(z)


def grad_wrt_logits(z, t) -> np.ndarray:
    """∂CE/∂z = y − t (for a target that sums to one)."""
    return softmax(z) - np.asarray(t, dtype=float)


def jacobian(z) -> np.ndarray:
    """The softmax's Jacobian ∂yᵢ/∂zⱼ = yᵢ(δᵢⱼ − yⱼ), i.e. diag(y) − yyᵀ, shape (..., K, K).

    Symmetric, its rows sum to zero (adding a constant to every logit changes nothing),
    so it is singular with the null vector (1, …, 1).

    >>> jacobian([0.0, 0.0]).tolist()
    [[0.25, -0.25], [-0.25, 0.25]]
    """
    y = softmax(z)
    return y[..., :, None] * (np.eye(y.shape[-1]) - y[..., None, :])


def elementwise_jacobian(derivative) -> np.ndarray:
    """The Jacobian of a scalar activation applied to each zₖ: diag(a'(zₖ)), shape (..., K, K)."""
    d = np.asarray(derivative, dtype=float)
    return d[..., :, None] * np.eye(d.shape[-1])


def cross_entropy_hessian(z) -> np.ndarray:
    """∂²CE/∂z² = diag(y) − yyᵀ for any target summing to one: the softmax Jacobian again."""
    return jacobian(z)
