"""Fair races: every optimizer's best step size (and momentum) on the scene, with how forgiving it is."""

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from app.responses import JSONResponse
from app.schemas import POST_ERRORS, TuneRequest, TuneResponse
from app.services import compute
from app.services.tune import compute_tune

router = APIRouter(prefix="/api", tags=["compute"])


@router.post("/tune", response_model=TuneResponse, responses=POST_ERRORS)
async def tune(req: TuneRequest):
    """Tune each optimizer's η (and β) on a log grid by the fewest steps to ‖∇f‖ < tol; curves, edges, forgiveness."""
    until = compute.deadline()  # counts the time spent waiting for a thread too
    return await run_in_threadpool(lambda: JSONResponse(compute_tune(req, until)))
