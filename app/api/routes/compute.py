"""Whole runs, grids, sweeps and theory: validated here, computed and rendered to JSON off the event loop.

Nothing that can take more than about a millisecond runs on the event loop: building a scene (a
typed formula is compiled in a worker process, seconds at worst), computing, and writing the JSON
(orjson holds the GIL while it writes a big body) all happen in one hop to a worker thread.
"""

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from app.responses import JSONResponse
from app.schemas import (POST_ERRORS, GridRequest, GridResponse, RunRequest, RunResponse, SweepRequest, SweepResponse,
                         TheoryRequest, TheoryResponse)
from app.services import compute

router = APIRouter(prefix="/api", tags=["compute"])


@router.post("/run", response_model=RunResponse, responses=POST_ERRORS)
async def run(req: RunRequest):
    """Run every optimizer from the start point and return whole trajectories."""
    until = compute.deadline()  # counts the time spent waiting for a thread too
    if compute.is_quick(req):
        # A built-in surface and about a millisecond of work on the compiled path: less than the
        # two thread hops below would cost (~0.2 ms each on a busy 2-core machine).
        return JSONResponse(compute.compute_run(compute.RunPlan(req), until))
    return await run_in_threadpool(_rendered, lambda: compute.compute_run(*compute.built(lambda: compute.RunPlan(req), until)))


@router.post("/grid", response_model=GridResponse, responses=POST_ERRORS)
async def grid(req: GridRequest):
    """The surface's loss on an n × n grid over its view (cached); non-finite values are null."""
    return JSONResponse(await run_in_threadpool(compute.compute_grid, req, compute.deadline()))


@router.post("/sweep", response_model=SweepResponse, responses=POST_ERRORS)
async def sweep(req: SweepRequest):
    """Final loss, steps to tolerance and divergence over an (η, β) grid, plus the analytic rate on the quadratic."""
    until = compute.deadline()
    return await run_in_threadpool(_rendered, lambda: compute.compute_sweep(req, until))


@router.post("/theory", response_model=TheoryResponse, responses=POST_ERRORS)
async def theory(req: TheoryRequest):
    """Theory numbers of a surface (quadratic: λ, κ, best steps and rates) and the Hessian at a point."""
    def theory_of():
        surface = compute.build_surface(req.surface)
        configs = [compute.build_optimizer(o, ["body", "optimizers", i]) for i, o in enumerate(req.optimizers or [])]
        return compute.compute_theory(surface, req.point, req.batch_sizes, req.backprop, configs, req.points)

    return await run_in_threadpool(_rendered, theory_of)


def _rendered(compute) -> JSONResponse:
    """``compute()``'s result as a rendered JSON response (called in a worker thread)."""
    return JSONResponse(compute())
