"""The lecture's ideas as guided lessons, one module per lesson (see :mod:`engine.lessons.base` for the format).

Each lesson is a few :class:`~engine.lessons.base.Step` s; each step a scene, a few sentences
whose numbers are computed for the scene on screen, the claims it makes, the controls it asks
the learner to touch, its panels and, where it helps, a prediction. To add a lesson, write a
module with a ``LESSON`` and list it in ``LESSONS`` below; ``tests/engine/test_lessons.py``
checks every step's claims on its own scene, ``tests/browser/test_lesson_steps.py`` on the page.
"""

from __future__ import annotations

from engine.lessons import a_matrix, backprop, ce_vs_l2, label_smoothing, momentum, newton, saddle, sgd, step_size
from engine.lessons import activation_shapes, saddles_minima, sgd_one_over_eps, softmax_smoothing
from engine.lessons.base import Claim, Context, Control, Facts, Lesson, Prediction, Step, step_marks
from engine.lessons.evaluation import evaluate
from engine.lessons.panels import PANELS

#: The panels a step can ask for (the page draws each with the renderer of the same name).
VIEWS = tuple(PANELS)

LESSONS: tuple[Lesson, ...] = tuple(m.LESSON for m in (
    step_size, a_matrix, newton, momentum, saddle, ce_vs_l2, label_smoothing, sgd, backprop,
    softmax_smoothing, activation_shapes, sgd_one_over_eps, saddles_minima))

_BY_ID = {lesson.id: lesson for lesson in LESSONS}


def get_lesson(lesson_id: str) -> Lesson:
    """The lesson with this id; KeyError names the known ids."""
    try:
        return _BY_ID[lesson_id]
    except (KeyError, TypeError):
        raise KeyError(f"no lesson {lesson_id!r}; lessons: {', '.join(_BY_ID)}") from None


__all__ = ["Claim", "Context", "Control", "Facts", "LESSONS", "Lesson", "PANELS", "Prediction", "Step", "VIEWS",
           "evaluate", "get_lesson", "step_marks"]
