"""Build the app: middleware, static files, routers."""

import contextlib
import threading

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from app import errors
from app.api.routes import catalog, compute, docs, formula, health, lessons, pages, render, stream
from app.api.routes import tune as tune_route
from app.core.config import get_settings
from app.core.hosts import HostOriginMiddleware, HostPolicy
from app.core.limits import BodySizeLimitMiddleware
from app.core.security import SecurityHeadersMiddleware
from engine.formula import workers as formula_workers


class LossLab(FastAPI):
    """FastAPI whose outermost layers are the Host/Origin check and the security headers.

    Outside Starlette's ServerErrorMiddleware, so that a 500 carries the headers too, and a
    request for a foreign Host is refused before anything else runs.
    """

    def build_middleware_stack(self):
        s = get_settings()
        policy = HostPolicy(s.allowed_hosts, s.allowed_origins + s.cors_origins, s.host)
        return SecurityHeadersMiddleware(HostOriginMiddleware(super().build_middleware_stack(), policy))


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    # A formula worker starts now (it imports sympy, seconds), not when the first formula is typed.
    threading.Thread(target=formula_workers.start_worker, name="losslab-formula-worker", daemon=True).start()
    yield


def create_app() -> FastAPI:
    settings = get_settings()
    app = LossLab(title="Loss Lab", version="0.1.0",
                  description="Watch optimizers walk 2D loss surfaces: runs, grids, sweeps and theory.",
                  docs_url=None, redoc_url=None, redirect_slashes=False, lifespan=lifespan)
    app.state.metrics = stream.Metrics()
    formula_workers.QUEUE_LIMIT = settings.formula_queue  # formulas that may wait for a worker (engine default: 8)
    errors.install(app)
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes,
                       max_json_depth=settings.max_json_depth, read_timeout=settings.request_timeout)
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["content-type"])
    app.mount("/static", StaticFiles(directory=settings.static_dir), name="static")
    docs.mount(app)
    for module in (health, catalog, compute, tune_route, formula, lessons, render, stream, pages, docs):
        app.include_router(module.router)
    return app


app = create_app()
