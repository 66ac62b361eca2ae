"""The page, and its Plotly.js (static/vendor/plotly/, built by scripts/build-plotly; no CDN)."""

import functools
import hashlib
import re
import threading

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.core.config import get_settings
from app.responses import Encoded, EncodedResponse

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(get_settings().templates_dir))
PLOTLY_DIR = get_settings().static_dir / "vendor" / "plotly"


@functools.lru_cache(maxsize=1)
def _static_version() -> str:
    """Changes whenever a static file changes, so browsers never run a stale module."""
    root = get_settings().static_dir
    return format(max((p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()), default=0) % 10**10, "x")


_IMPORT = re.compile(r"""^import\s[^"']*?["'](\.{1,2}/[^"'?]+\.js)["']""", re.M)


@functools.lru_cache(maxsize=1)
def _page_modules() -> list[str]:
    """Every module main.js imports, directly or not, as URLs: the page names them all at once
    (modulepreload), rather than the browser finding them one level of imports at a time."""
    root = get_settings().static_dir
    seen: dict[str, None] = {}
    todo = [root / "js" / "main.js"]
    while todo:
        path = todo.pop()
        for rel in _IMPORT.findall(path.read_text()):
            dep = (path.parent / rel).resolve()
            url = "/static/" + dep.relative_to(root.resolve()).as_posix()
            if url not in seen and dep.is_file():
                seen[url] = None
                todo.append(dep)
    return sorted(seen)


@router.get("/", response_class=HTMLResponse)
async def index(request: Request):
    # Fetched with the page's first modules rather than after main.js names them (the 3D view's comes later).
    first = [f"/vendor/plotly/{n}" for n in _plotly_files() if not n.startswith("plotly-3d")]
    return templates.TemplateResponse(request, "index.html", {"v": _static_version(), "preload": first + _page_modules()})


@functools.lru_cache(maxsize=1)
def _plotly_files() -> dict[str, tuple[Encoded, str]]:
    """Each module of the page's Plotly.js: its body (gzipped once, at level 9) and its ETag."""
    return {p.name: (Encoded(body := p.read_bytes(), level=9), f'"{hashlib.sha256(body).hexdigest()[:20]}"')
            for p in sorted(PLOTLY_DIR.glob("*.js"))}


# Compressed once, in the background, rather than on the first page load (1.8 MB → 0.55 MB costs ~0.2 s).
threading.Thread(target=lambda: [e.gzipped() for e, _ in _plotly_files().values()], name="losslab-plotly-gzip",
                 daemon=True).start()


@router.get("/vendor/plotly/{name}")
async def plotly_js(name: str, request: Request):
    """An ES module of Plotly.js. The shared chunk's name carries its content's hash, so it is cached for
    good; the two entries (plotly-2d.js, plotly-3d.js) keep their names and are revalidated (ETag)."""
    found = _plotly_files().get(name)
    if found is None:
        raise HTTPException(404, f"No Plotly.js module {name!r}")
    encoded, etag = found
    cache = "public, max-age=31536000, immutable" if name.startswith("plotly-core-") else "no-cache"
    headers = {"Cache-Control": cache, "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return EncodedResponse(encoded, media_type="text/javascript", headers=headers)
