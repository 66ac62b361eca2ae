"""/docs with Swagger UI from the fastapi-offline package's assets: works offline and under our CSP."""

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from app.api.routes.pages import templates

router = APIRouter(include_in_schema=False)
SWAGGER_ASSETS = Path(fastapi_offline.__file__).parent / "static"


@router.get("/docs", response_class=HTMLResponse)
async def docs(request: Request):
    return templates.TemplateResponse(request, "docs.html", {})


def mount(app: FastAPI) -> None:
    app.mount("/docs-static", StaticFiles(directory=SWAGGER_ASSETS), name="docs-static")
