"""A lesson step evaluated on the scene on screen: its text's numbers, claims, run labels and marks,
and the data of every panel it shows (from the panel registry). The one place that joins the
lesson format (base) with the panels, so that neither imports the other's user.
"""

from __future__ import annotations

import logging

import numpy as np

from engine.lessons.base import Claim, Context, Lesson, fill, run_label, step_marks
from engine.lessons.panels import PANELS

log = logging.getLogger(__name__)


def applies(step, ctx: Context) -> bool:
    """Whether ``ctx`` is the kind of scene the step's claims are about: its surface and its runs'
    optimizers, in order. Parameters, start, steps and seed may differ: the numbers then follow them."""
    own = step.scene
    return (ctx.surface.NAME == own["surface"]
            and [c.name for c in ctx.configs] == [o["name"] for o in own["optimizers"]])


def evaluate(lesson: Lesson, n: int, ctx: Context) -> dict:
    """Everything the page shows for step ``n`` of ``lesson`` about the scene of ``ctx``.

    On a scene the step was not written for (another surface, other runs) nothing is computed:
    the step says its claims no longer apply, and how to get them back.
    """
    step = lesson.step(n)
    runs = [{"label": run_label(c, ctx.configs), "note": "", "marks": step_marks(ctx.surface, c)} for c in ctx.configs]

    def does_not_apply(why: str) -> dict:
        claim = Claim(f"{why} Open the step again (Back, then Next) to see its claims.", False)
        return {"lesson": lesson.id, "step": n, "values": {}, "applies": False,
                "text": [fill(t, {}) for t in step.text], "claims": [claim.to_dict()], "runs": runs,
                "answer": None, "panels": {}}

    if not applies(step, ctx):
        names = ", ".join(o["name"] for o in step.scene["optimizers"])
        return does_not_apply(f"This step is about the {step.scene['surface']} surface with the runs {names}; "
                              "the scene on screen is another, so its claims no longer apply.")
    try:
        facts = step.claims(ctx)
        answer = step.prediction.answer(ctx) if step.prediction else None
        with np.errstate(all="ignore"):
            panels = {name: PANELS[name](ctx) for name in step.panels}
    except (ArithmeticError, IndexError, KeyError, TypeError, ValueError):
        # A setting that leaves the claims nothing to measure (a run of one step, a run that
        # ends at its start): say so rather than fail.
        log.warning("lesson %s step %d: claims not computable for this scene", lesson.id, n, exc_info=True)
        return does_not_apply("With these settings the runs leave too little to measure what this step claims.")
    for i, r in enumerate(runs):
        r["note"] = facts.notes.get(i, "")
    return {
        "lesson": lesson.id, "step": n, "applies": True,
        "values": facts.values,
        "text": [fill(t, facts.values) for t in step.text],
        "claims": [c.to_dict() for c in facts.claims],
        "runs": runs,
        "answer": answer,
        "panels": panels,
    }
