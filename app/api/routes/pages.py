"""The page, and Plotly.js served from the installed plotly package (no CDN)."""

import functools
import threading
from pathlib import Path

import plotly
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.core.config import get_settings
from app.responses import Encoded, EncodedResponse

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


@functools.lru_cache(maxsize=1)
def _plotly_body() -> Encoded:
    return Encoded(PLOTLY_JS.read_bytes(), level=9)


# Compressed once, in the background, rather than on every page load (4.8 MB → 1.4 MB costs ~0.3 s).
threading.Thread(target=lambda: _plotly_body().gzipped(), name="losslab-plotly-gzip", daemon=True).start()


@router.get("/vendor/plotly.min.js")
async def plotly_js():
    return EncodedResponse(_plotly_body(), media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})
