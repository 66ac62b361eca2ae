"""The page, and Plotly.js served from the installed plotly package (no CDN)."""

import functools
from pathlib import Path

import plotly
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from app.core.config import get_settings

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(get_settings().templates_dir))
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@functools.lru_cache(maxsize=1)
def _static_version() -> str:
    """Changes whenever a static file changes, so browsers never run a stale module."""
    root = get_settings().static_dir
    return format(max((p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()), default=0) % 10**10, "x")


@router.get("/", response_class=HTMLResponse)
async def index(request: Request):
    return templates.TemplateResponse(request, "index.html", {"v": _static_version(), "plotly_version": plotly.__version__})


@router.get("/vendor/plotly.min.js")
async def plotly_js():
    return FileResponse(PLOTLY_JS, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})
