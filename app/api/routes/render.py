"""The race as an animation (GIF, MP4, WebM) for the page's Record button, drawn by losslab.render."""

import warnings
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from app.errors import RequestError
from app.schemas import POST_ERRORS, RenderAvailableResponse, Strict, error_responses

router = APIRouter(prefix="/api", tags=["render"])

#: Most frames one request may ask the server to draw (a longer race is thinned evenly to this).
MAX_FRAMES = 600


class RenderRequest(Strict):
    link: str = Field(max_length=8000, description="The page's link or just its #… part: the scene to play.",
                      examples=["#s=quadratic:lambda_1=1,lambda_2=20,rotation=30&o=gd:lr=0.09&start=-2,-0.5&steps=100"])
    format: Literal["gif", "mp4", "webm"] = Field("webm", description="gif loops; mp4 (H.264) and webm (VP9) are video.")
    fps: int = Field(30, ge=1, le=60, strict=True, description="Frames per second; one frame a step.")
    width: int = Field(1280, ge=160, le=1920, strict=True)
    height: int = Field(720, ge=120, le=1080, strict=True)


@router.get("/render", response_model=RenderAvailableResponse)
async def render_available() -> dict:
    """Whether this server can render (its Python has losslab's video extra) and the formats it writes."""
    from losslab import render

    missing = render.available()
    return {"available": missing is None, "message": missing, "formats": ["gif", "mp4", "webm"],
            "max_frames": MAX_FRAMES}


def _render(req: RenderRequest) -> tuple[bytes, object]:
    from engine.params import ParamError
    from losslab import render
    from losslab._page import LinkError
    from losslab.api import Scene

    missing = render.available()
    if missing:
        raise RequestError(["body", "format"], missing, req.format, status=501)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the page's own links are already normalized
            scene = Scene.from_url(req.link)
    except (ParamError, LinkError) as e:
        raise RequestError(["body", "link"], str(e), req.link) from None
    try:
        return render.render_bytes(scene, "." + req.format, fps=req.fps, size=(req.width, req.height),
                                   max_frames=MAX_FRAMES)
    except render.RenderError as e:
        raise RequestError(["body"], str(e), None) from None


@router.post("/render", response_class=Response,
             responses={200: {"content": {"image/gif": {}, "video/mp4": {}, "video/webm": {}}}, **POST_ERRORS,
                        **error_responses(501)})
async def render_race(req: RenderRequest) -> Response:
    """Play the link's scene and return it as an animation file (one frame per step, at most 600)."""
    from losslab.render import FORMATS

    data, info = await run_in_threadpool(_render, req)
    return Response(data, media_type=FORMATS["." + req.format], headers={
        "Content-Disposition": f'attachment; filename="losslab-race.{req.format}"',
        "X-Losslab-Frames": str(info.frames), "Cache-Control": "no-store"})
