"""Catalogs: the single source of truth for every control the page builds."""

import functools

from fastapi import APIRouter

import engine
from app.responses import JSONResponse
from app.schemas import OptimizersResponse, SurfacesResponse

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
