"""The lecture's lessons: presets with their text, for the page's lesson list."""

from fastapi import APIRouter

from app.responses import JSONResponse
from app.schemas import LessonsResponse
from engine.lessons import LESSONS

router = APIRouter(prefix="/api", tags=["lessons"])


@router.get("/lessons", response_model=LessonsResponse)
async def lessons():
    """Every lesson: id, number, title, text paragraphs and the scene it opens."""
    return JSONResponse({"lessons": [lesson.to_dict() for lesson in LESSONS]})
