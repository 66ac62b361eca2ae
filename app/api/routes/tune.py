"""Fair races: every optimizer's best step size (and momentum) on the scene, with how forgiving it is."""

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from app.responses import JSONResponse
from app.schemas import TuneRequest
from app.services.tune import compute_tune

router = APIRouter(prefix="/api", tags=["compute"])


@router.post("/tune")
async def tune(req: TuneRequest) -> JSONResponse:
    """Tune each optimizer's η (and β) on a log grid by the fewest steps to ‖∇f‖ < tol; curves, edges, forgiveness."""
    return JSONResponse(await run_in_threadpool(compute_tune, req))
