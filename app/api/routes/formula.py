"""POST /api/formula: check a typed formula as one types, and show its exact derivatives."""

import functools

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from app.responses import JSONResponse
from app.schemas import POST_ERRORS, CustomSurfaceResponse, FormulaRequest, FormulaResponse
from app.services.compute import FormulaRequestError
from engine.surfaces.custom import CustomSurface, FormulaError, compile_formula

router = APIRouter(prefix="/api", tags=["formula"])


def _check(text: str) -> dict:
    try:
        c = compile_formula(text)
    except FormulaError as e:
        raise FormulaRequestError(["body", "formula"], e) from None
    return {"ok": True, "formula": text, "expression": c.expression, "gradient": list(c.gradient),
            "hessian": [list(row) for row in c.hessian], "latex": c.latex}


@router.post("/formula", response_model=FormulaResponse, responses=POST_ERRORS)
async def formula(req: FormulaRequest):
    """Parse f(x, y) and return its exact gradient and Hessian, or a 422 whose detail names the column."""
    return await run_in_threadpool(lambda: JSONResponse(_check(req.formula)))


@router.get("/formula", response_model=CustomSurfaceResponse)
async def custom_surface():
    """The custom surface's catalog entry: its formula parameter, default view, examples and what a formula may contain."""
    return JSONResponse({"surface": await run_in_threadpool(_catalog_entry)})


@functools.lru_cache(maxsize=1)
def _catalog_entry() -> dict:
    return CustomSurface.catalog_entry()
