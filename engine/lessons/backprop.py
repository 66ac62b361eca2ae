"""Lesson 9: backprop, one weight at a time, on the two-weight network."""

from __future__ import annotations

import numpy as np

from engine import theory
from engine.lessons.base import Claim, Context, Control, Facts, Lesson, Step, fmt, scene
from engine.surfaces import make_surface

NET = {"loss": "ce", "activation": "tanh"}
START = [0.5, -0.5]


def _step1(ctx: Context) -> Facts:
    from engine.lessons.panels import backprop

    bp = backprop(ctx)
    f = Facts(values={"w1": fmt(bp["point"][0]), "w2": fmt(bp["point"][1])})
    if bp["examples"]:
        err = max(abs(c["grad"][j] - c["engine_grad"][j]) / max(abs(c["engine_grad"][j]), 1e-300)
                  for c in bp["examples"] for j in (0, 1))
        mean = np.mean([theory.backprop_chain(ctx.surface, bp["point"], i)["grad"] for i in range(ctx.surface.n_examples)], axis=0)
        g = ctx.surface.grad(bp["point"])
        f.values.update({"g1": fmt(g[0]), "g2": fmt(g[1])})
        f.notes[0] = f"its first step follows −η·∇E, ∇E = ({fmt(g[0])}, {fmt(g[1])}) at ({fmt(bp['point'][0])}, {fmt(bp['point'][1])})"
        f.claims.append(Claim(f"each chain's product equals the engine's per-example gradient (largest relative "
                              f"difference {fmt(err)})", err < 1e-9))
        f.claims.append(Claim(f"their mean over the {ctx.surface.n_examples} examples is ∇E = ({fmt(g[0])}, {fmt(g[1])})",
                              bool(np.allclose(mean, g, rtol=1e-9, atol=1e-15))))
    return f


def relu_symmetry(surface_params: dict) -> dict:
    """On this data (x ↔ −x with the label flipped) the ReLU network's loss depends on w1·w2 only; at w1 = 0
    the one-sided derivatives along w1 agree, and a'(0) = ½ makes the engine's gradient the true one."""
    s = make_surface("two_weight_net", **{**surface_params, "activation": "relu"})
    rng = np.random.default_rng(0)
    pts = rng.uniform([-4, -6], [4, 6], (200, 2))
    same = np.stack([pts[:, 0] * pts[:, 1], np.ones(len(pts))], -1)
    diff = float(np.max(np.abs(s.value(pts) - s.value(same))))
    w2, h = 1.5, 1e-6
    left = float((s.value([0.0, w2]) - s.value([-h, w2])) / h)
    right = float((s.value([h, w2]) - s.value([0.0, w2])) / h)
    return {"diff": diff, "left": left, "right": right, "engine": float(s.grad([0.0, w2])[0]), "w2": w2}


def _step2(ctx: Context) -> Facts:
    u = np.linspace(-4, 4, 81)
    c = {k["name"]: k for k in theory.activation_curves(np.concatenate([u, 2 * u]))["curves"]}
    tanh_err = float(np.max(np.abs(c["tanh"]["a"][:81] - (2 * c["sigmoid"]["a"][81:] - 1))))
    r = relu_symmetry(ctx.surface.params)
    f = Facts(values={"tanh_err": fmt(tanh_err), "relu_diff": fmt(r["diff"]), "left": fmt(r["left"]),
                      "right": fmt(r["right"]), "engine": fmt(r["engine"]), "w2": fmt(r["w2"])})
    f.claims.append(Claim(f"tanh(u) − (2σ(2u) − 1): at most {fmt(tanh_err)}", tanh_err < 1e-12))
    f.notes[0] = f"hidden activation {ctx.surface.params['activation']}, loss {ctx.surface.params['loss']}"
    f.claims.append(Claim(f"ReLU: E(w1, w2) − E(w1·w2, 1) at most {fmt(r['diff'])} over the view", r["diff"] < 1e-9))
    f.claims.append(Claim(f"ReLU at w1 = 0, w2 = {fmt(r['w2'])}: one-sided slopes {fmt(r['left'])} and "
                          f"{fmt(r['right'])}, the engine's ∂E/∂w1 {fmt(r['engine'])}",
                          abs(r["engine"] - r["right"]) < 1e-4 * max(1, abs(r["right"]))))
    return f


LESSON = Lesson(
    "backprop", 9, "Backprop, one weight at a time",
    (
        Step(
            "Forward, then backward",
            (
                "For one example the forward pass computes u = w1·x, h = a(u), z = w2·h, y = σ(z) and the divergence "
                "Div(y, d). The backward pass multiplies local derivatives: ∂Div/∂w2 = ∂Div/∂y · ∂y/∂z · h and "
                "∂Div/∂w1 = ∂Div/∂y · ∂y/∂z · w2 · a'(u) · x.",
                "The table does it at (w1, w2) = ({w1}, {w2}) for three examples: one near the class boundary, one far "
                "from it and one with a noisy label. The mean over all examples, ({g1}, {g2}), is the gradient GD "
                "follows. Click the contour to move the point.",
            ),
            scene("two_weight_net", NET, [("gd", {"lr": 0.5})], START, 200),
            claims=_step1, panels=("backprop",),
        ),
        Step(
            "The hidden activation",
            (
                "tanh(u) = 2σ(2u) − 1 is a scaled, shifted sigmoid (largest difference {tanh_err}). Switch the hidden "
                "activation and the table's a'(u) changes with it.",
                "With ReLU this data set, symmetric under x → −x with the labels swapped, makes the loss a function of "
                "w1·w2 alone (difference {relu_diff}): no kink at w1 = 0, where the one-sided slopes agree ({left}, "
                "{right}). The engine takes a'(0) = ½, the mean of ReLU's one-sided slopes, and gets {engine}.",
            ),
            scene("two_weight_net", {**NET, "activation": "relu"}, [("gd", {"lr": 0.5})], START, 200),
            claims=_step2, controls=(Control("activation"),), panels=("backprop",),
        ),
    ),
)
