"""A lesson step evaluated on the scene on screen: its text's numbers, claims, run labels and marks,
and the data of every panel it shows (from the panel registry). The one place that joins the
lesson format (base) with the panels, so that neither imports the other's user.
"""

from __future__ import annotations

import numpy as np

from engine.lessons.base import Context, Lesson, fill, run_label, step_marks
from engine.lessons.panels import PANELS


def evaluate(lesson: Lesson, n: int, ctx: Context) -> dict:
    """Everything the page shows for step ``n`` of ``lesson`` about the scene of ``ctx``."""
    step = lesson.step(n)
    facts = step.claims(ctx)
    answer = step.prediction.answer(ctx) if step.prediction else None
    with np.errstate(all="ignore"):
        panels = {name: PANELS[name](ctx) for name in step.panels}
    return {
        "lesson": lesson.id, "step": n,
        "values": facts.values,
        "text": [fill(t, facts.values) for t in step.text],
        "claims": [c.to_dict() for c in facts.claims],
        "runs": [{"label": run_label(c, ctx.configs), "note": facts.notes.get(i, ""),
                  "marks": step_marks(ctx.surface, c)} for i, c in enumerate(ctx.configs)],
        "answer": answer,
        "panels": panels,
    }
