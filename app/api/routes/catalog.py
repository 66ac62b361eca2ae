"""Catalogs: the single source of truth for every control the page builds."""

import functools

from fastapi import APIRouter

import engine
from app.core.config import get_settings
from app.responses import JSONResponse
from app.schemas import OptimizersResponse, SceneFormatResponse, SurfacesResponse
from engine import defaults

router = APIRouter(prefix="/api", tags=["catalog"])


@functools.lru_cache(maxsize=1)
def _catalog() -> dict:
    return engine.catalog()


@router.get("/surfaces", response_model=SurfacesResponse)
async def surfaces():
    """Every surface: title, description, parameters (default, range, description), view, minima, saddles."""
    return JSONResponse({"surfaces": _catalog()["surfaces"]})


@router.get("/optimizers", response_model=OptimizersResponse)
async def optimizers():
    """Every optimizer: title, update formula, description and parameters (default, range, description)."""
    return JSONResponse({"optimizers": _catalog()["optimizers"]})


@router.get("/scene", response_model=SceneFormatResponse)
async def scene():
    """The page's scene: the one it opens with, and the limits of steps, seed, tol, optimizers and formula."""
    s = get_settings()
    return JSONResponse(defaults.scene_format(s.max_steps, s.max_optimizers))
