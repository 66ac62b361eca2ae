"""Lesson 11: activation functions and their derivatives, and the shapes of backprop's arrays.

Steps 1–2 draw σ, tanh and ReLU with their derivatives (``engine.activations``) beside the
two-weight network, whose hidden activation the learner switches. Step 3 is the 2-2-1 network of
``engine.backprop``: its loss over the output weights W₂ on the contour, and every parameter with
its gradient and their shapes in the panel, at the point on screen.
"""

from __future__ import annotations

import numpy as np

from engine import activations as ac
from engine.lessons.base import Claim, Context, Control, Facts, Lesson, Prediction, Step, fmt, scene
from engine.lessons.lecture_panels import shapes

#: Where the lecture reads off a "saturated" unit.
Z_FAR = 4.0


def _derivs(ctx: Context) -> Facts:
    c = ac.curves()["curves"]
    s0, t0 = c["sigmoid"]["max_derivative"], c["tanh"]["max_derivative"]
    sf = float(ac.value_and_derivative(Z_FAR, "sigmoid")[1])
    tf = float(ac.value_and_derivative(Z_FAR, "tanh")[1])
    err = ac.curves()["tanh_identity_error"]
    f = Facts(values={"s0": fmt(s0), "t0": fmt(t0), "zfar": fmt(Z_FAR), "sfar": fmt(sf), "tfar": fmt(tf),
                      "ratio": fmt(t0 / s0), "err": fmt(err), "act": ctx.surface.params.get("activation", "—")})
    f.claims.append(Claim(f"σ'(0) = {fmt(s0)} is σ's steepest; tanh'(0) = {fmt(t0)} = {fmt(t0 / s0)} × σ'(0)",
                          abs(s0 - 0.25) < 1e-12 and abs(t0 - 1) < 1e-12))
    f.claims.append(Claim(f"tanh(z) = 2σ(2z) − 1 on the whole grid (largest difference {fmt(err)})", err < 1e-14))
    f.claims.append(Claim(f"at z = {fmt(Z_FAR)}: σ' = {fmt(sf)}, tanh' = {fmt(tf)}: a saturated unit passes almost no "
                          "gradient back", sf < 0.02 and tf < 0.002))
    ctx.note_reach(f, tol=1e-4)
    return f


def _one_sided(h: float = 1e-6) -> tuple[float, float]:
    """ReLU's slopes at 0 from the left and from the right, by differences."""
    left = float((ac.value_and_derivative(0.0, "relu")[0] - ac.value_and_derivative(-h, "relu")[0]) / h)
    right = float((ac.value_and_derivative(h, "relu")[0] - ac.value_and_derivative(0.0, "relu")[0]) / h)
    return left, right


def _relu(ctx: Context) -> Facts:
    left, right = _one_sided()
    sub = ac.RELU_SUBGRADIENT_AT_0
    f = Facts(values={"left": fmt(left), "right": fmt(right), "sub": fmt(sub)})
    f.claims.append(Claim(f"slopes at z = 0: {fmt(left)} from the left, {fmt(right)} from the right; ReLU'(0) taken as "
                          f"{fmt(sub)}, inside [{fmt(left)}, {fmt(right)}]", left <= sub <= right and left != right))
    d = ac.value_and_derivative(np.array([-2.0, -0.5, 0.5, 2.0]), "relu")[1]
    f.claims.append(Claim(f"ReLU' = {', '.join(fmt(v) for v in d)} at z = −2, −0.5, 0.5, 2: never saturates for z > 0, "
                          "and passes nothing back for z < 0", list(d) == [0, 0, 1, 1]))
    ctx.note_reach(f, tol=1e-4)
    return f


def _shapes(ctx: Context) -> Facts:
    d = shapes(ctx)
    rows = d["example"]["params"]
    same = all(r["shape"] == r["grad_shape"] for r in rows)
    f = Facts(values={"point": "(" + ", ".join(fmt(v) for v in d["point"]) + ")", "loss": fmt(d["mean_loss"]),
                      "fd_err": fmt(d["fd_error"]), "n": str(d["n_examples"]),
                      "shapes": ", ".join(f"{r['name']} {' × '.join(map(str, r['shape']))}" for r in rows)})
    f.claims.append(Claim("each gradient has its parameter's shape: " + ", ".join(
        f"∂E/∂{r['name']} {' × '.join(map(str, r['grad_shape']))}" for r in rows), same))
    g = d["mean_grads"]["W2"][0]
    f.claims.append(Claim(f"∂E/∂W₂ = ({fmt(g[0])}, {fmt(g[1])}) by backprop, the surface's central differences agree "
                          f"to {fmt(d['fd_error'])}", d["fd_error"] < 1e-7))
    ctx.note_reach(f, tol=1e-4)
    return f


def _two_weight(activation):
    return scene("two_weight_net", {"loss": "ce", "activation": activation}, [("gd", {"lr": 0.5})], [0.5, -0.5], 300)


LESSON = Lesson(
    "activations", 11, "Activation derivatives and backprop shapes",
    (
        Step(
            "σ and tanh: slopes that vanish",
            (
                "Backprop multiplies by the activation's derivative a'(z) at every unit. σ' is at most {s0} (at "
                "z = 0); tanh(z) = 2σ(2z) − 1 is σ stretched to (−1, 1) and twice as steep in z, so tanh'(0) = {t0}.",
                "Far from 0 both flatten: at z = {zfar}, σ' = {sfar} and tanh' = {tfar}, so a saturated unit passes "
                "almost no gradient back. Switch the network's hidden activation (now {act}) and compare the runs.",
            ),
            _two_weight("sigmoid"), claims=_derivs, controls=(Control("activation"),), panels=("activation_curves",),
        ),
        Step(
            "ReLU and its sub-gradient",
            (
                "ReLU(z) = max(z, 0) has slope {left} for z < 0 and {right} for z > 0, and a kink at 0 where it has no "
                "derivative. Any value between the two one-sided slopes is a sub-gradient; we take ReLU'(0) = {sub}.",
                "For z > 0 it never saturates; for z < 0 it passes nothing back (a unit stuck there is dead). On the "
                "two-weight network the kink shows as a crease along w1 = 0.",
            ),
            _two_weight("relu"), claims=_relu, controls=(Control("activation"),), panels=("activation_curves",),
            prediction=Prediction("What is ReLU's derivative at exactly z = 0?",
                                  ("0", "1", "undefined, but any value in [0, 1] will do"),
                                  lambda ctx: 2 if len(set(map(round, _one_sided()))) == 2 else None),
        ),
        Step(
            "Backprop shapes in a 2-2-1 network",
            (
                "y = σ(W₂ a(W₁x + b₁) + b₂) with {shapes}; the contour is the mean loss over its {n} examples "
                "against W₂, the others fixed. At W₂ = {point} it is {loss}.",
                "Backward, δ₂ = y − d (1), ∂E/∂W₂ = δ₂hᵀ (1 × 2), δ₁ = W₂ᵀδ₂ ⊙ a'(z₁) (2), ∂E/∂W₁ = δ₁xᵀ (2 × 2): "
                "each gradient has its parameter's shape. Click the contour to move W₂.",
            ),
            scene("net221", {"activation": "tanh"}, [("gd", {"lr": 2.0})], [-1.5, 2.5], 300),
            claims=_shapes, panels=("shapes",),
        ),
    ),
    conventions=("a(z) is the hidden units' activation; ' is its derivative; E is the mean divergence over the examples.",),
)
