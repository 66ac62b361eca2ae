"""The lecture's lessons: their steps, and each step evaluated on the scene on screen."""

from fastapi import APIRouter
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from app.responses import JSONResponse
from app.schemas import POST_ERRORS, LessonsResponse, LessonStepResponse, RunRequest, error_responses
from app.services import lessons as service
from engine.lessons import LESSONS

router = APIRouter(prefix="/api", tags=["lessons"])


@router.get("/lessons", response_model=LessonsResponse)
async def lessons():
    """Every lesson: id, number, title, its steps (text, scene, controls, panels, prediction) and conventions."""
    return JSONResponse({"lessons": [lesson.to_dict() for lesson in LESSONS]})


class StepRequest(RunRequest):
    """The scene on screen (as for POST /api/run) and the animation's cursor."""

    cursor: int | None = Field(None, ge=0, le=1_000_000, strict=True,
                               description="The step the animation shows; null when not animating.")


@router.post("/lessons/{lesson_id}/steps/{step}", response_model=LessonStepResponse,
             responses={**POST_ERRORS, **error_responses(404)})
async def lesson_step(lesson_id: str, step: int, req: StepRequest):
    """Step `step` of a lesson on this scene: the text's numbers, the claims and whether they hold, a label,
    a note and slider marks per run, the prediction's answer and every panel's data, all computed here."""
    run = RunRequest.model_validate(req.model_dump(exclude={"cursor"}))
    return JSONResponse(await run_in_threadpool(service.evaluate_step, lesson_id, step, run, req.cursor))
