"""A lesson step evaluated on the scene the page shows: validated like a run, then handed to engine.lessons."""

from __future__ import annotations

import copy
import functools
import json

from engine.lessons import Context, evaluate, get_lesson

from app.errors import RequestError
from app.schemas import RunRequest
from app.services.compute import RunPlan

#: Contexts (the scene's runs) kept for repeated requests: the animation asks again at every frame
#: with only the cursor changed, and that changes nothing but the panels drawn at the current point.
CACHE_SIZE = 32


@functools.lru_cache(maxsize=CACHE_SIZE)
def _context(key: str, compare_key: str) -> Context:
    req = RunRequest.model_validate_json(key)
    scene = RunPlan(req)
    compare = json.loads(compare_key) if compare_key else None
    ctx = Context(scene.surface, scene.configs, scene.start, req.steps, req.seed, compare=compare, tol=req.tol)
    ctx.other()  # run the comparison now, so the cached context is complete and never changes again
    return ctx


def evaluate_step(lesson_id: str, n: int, req: RunRequest, cursor: int | None) -> dict:
    try:
        lesson = get_lesson(lesson_id)
    except KeyError as e:
        raise RequestError(["path", "lesson_id"], e.args[0], lesson_id, status=404) from None
    if not 1 <= n <= len(lesson.steps):
        raise RequestError(["path", "step"], f"step = {n} is not allowed: lesson {lesson_id} has steps 1 to "
                           f"{len(lesson.steps)}", n)
    step = lesson.step(n)
    RunPlan(req)  # validates the scene with the run's own messages before anything is cached
    compare = step.scene.get("compare")
    if compare and req.surface.name != step.scene["surface"]:
        compare = None  # another surface than the lesson's: there is nothing to compare it with
    ctx = copy.copy(_context(req.model_dump_json(), json.dumps(compare) if compare else ""))
    ctx.cursor = cursor  # on a copy: the cached context is shared between requests
    return evaluate(lesson, n, ctx)
