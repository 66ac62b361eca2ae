"""Build the app: middleware, static files, routers."""

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from app import errors
from app.api.routes import catalog, compute, docs, formula, health, lessons, pages, stream
from app.api.routes import tune as tune_route
from app.core.config import get_settings
from app.core.limits import BodySizeLimitMiddleware
from app.core.security import SecurityHeadersMiddleware


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(title="Loss Lab", version="0.1.0",
                  description="Watch optimizers walk 2D loss surfaces: runs, grids, sweeps and theory.",
                  docs_url=None, redoc_url=None)
    app.state.metrics = stream.Metrics()
    errors.install(app)
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    app.add_middleware(SecurityHeadersMiddleware)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["content-type"])
    app.mount("/static", StaticFiles(directory=settings.static_dir), name="static")
    docs.mount(app)
    for module in (health, catalog, compute, tune_route, formula, lessons, stream, pages, docs):
        app.include_router(module.router)
    return app


app = create_app()
