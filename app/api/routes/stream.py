"""WS /ws/run: stream runs in chunks; a new request cancels the one in flight."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import numpy as np
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from app.core.config import get_settings
from app.errors import RequestError, describe, safe_value
from app.responses import dumps
from app.schemas import RequestId, WsRunRequest
from app.services import scenes

router = APIRouter(tags=["stream"])

#: Steps the engine computes between checks for cancellation.
ENGINE_CHUNK = 50
#: Time the server gathers chunks before sending, after the first (immediate) message.
BATCH_SECONDS = 0.025
_ID = TypeAdapter(RequestId | None)


class Metrics:
    """Counters the tests read to prove that cancelled work really stops."""

    def __init__(self):
        self.lock = threading.Lock()
        self.computing = 0
        self.chunks_computed = 0
        self.websockets = 0


def _pull(gen, cancel: threading.Event, first: bool, metrics: Metrics):
    """Advance the run in a worker thread until the batch time is up, it is done or cancelled."""
    out = []
    t0 = time.monotonic()
    with metrics.lock:
        metrics.computing += 1
    try:
        for chunk in gen:
            with metrics.lock:
                metrics.chunks_computed += 1
            out.append(chunk)
            if chunk.done or first or cancel.is_set() or time.monotonic() - t0 > BATCH_SECONDS:
                break
    finally:
        with metrics.lock:
            metrics.computing -= 1
    return out


def _merge(chunks, rid) -> list[dict]:
    by_run: dict[int, list] = {}
    for c in chunks:
        for rc in c.runs:
            by_run.setdefault(rc.run, []).append(rc)
    msgs = []
    for run, parts in sorted(by_run.items()):
        msgs.append({"type": "chunk", "id": rid, "run": run, "first": parts[0].first,
                     "points": np.concatenate([p.points for p in parts]),
                     "losses": np.concatenate([p.losses for p in parts]),
                     "grad_norms": np.concatenate([p.grad_norms for p in parts])})
    return msgs


def _echo_id(body) -> int | str | None:
    """The request's id if it is one we can echo (JSON-safe); None otherwise."""
    try:
        return _ID.validate_python(body.get("id")) if isinstance(body, dict) else None
    except ValidationError:
        return None


async def _send(ws: WebSocket, msg: dict) -> None:
    await asyncio.wait_for(ws.send_text(dumps(msg).decode()), timeout=get_settings().ws_send_timeout)


async def _error(ws: WebSocket, rid, detail, status: int = 422) -> None:
    await _send(ws, {"type": "error", "id": rid, "status": status, "detail": detail,
                     "message": describe(detail) if isinstance(detail, list) else str(detail)})


async def _stream(ws: WebSocket, scene: scenes.Scene, rid, cancel: threading.Event, metrics: Metrics) -> None:
    limit = get_settings().compute_timeout
    deadline = time.monotonic() + limit
    gen = scene.chunks(chunk_size=ENGINE_CHUNK)
    first = True
    try:
        while True:
            chunks = await run_in_threadpool(_pull, gen, cancel, first, metrics)
            first = False
            if cancel.is_set():
                return
            for msg in _merge(chunks, rid):
                await _send(ws, msg)
            last = chunks[-1] if chunks else None
            if last is None or last.done:
                runs = [{"status": s, "steps_taken": n} for s, n in zip(last.status, last.steps_taken)] if last else []
                await _send(ws, {"type": "done", "id": rid, "runs": runs})
                return
            if time.monotonic() > deadline:
                await _error(ws, rid, scenes.timeout_error(limit).detail())
                return
    finally:
        cancel.set()


@router.websocket("/ws/run")
async def ws_run(ws: WebSocket) -> None:
    """Send a run request (the POST /api/run body plus an optional id); receive chunk, done or error messages."""
    settings = get_settings()
    metrics: Metrics = ws.app.state.metrics
    if metrics.websockets >= settings.max_websockets:
        await ws.close(code=1013, reason=f"too many connections (limit {settings.max_websockets}); try again later")
        return
    metrics.websockets += 1
    task: asyncio.Task | None = None
    cancel = threading.Event()
    try:
        await ws.accept()
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:
                text = (message.get("bytes") or b"").decode("utf-8", "replace")
            # Any new message supersedes the run in flight: only the latest request runs.
            if task is not None:
                cancel.set()
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                task = None
            if len(text) > settings.max_body_bytes:
                await _error(ws, None, [{"loc": ["message"], "msg": f"message of {len(text)} characters is too long: "
                                         f"at most {settings.max_body_bytes}", "type": "too_long", "input": None}], 413)
                continue
            try:
                body = json.loads(text)
            except (ValueError, RecursionError) as e:
                await _error(ws, None, [{"loc": ["message"], "msg": f"not valid JSON: {str(e)[:80]}",
                                         "type": "json_invalid", "input": safe_value(text)}], 400)
                continue
            rid = _echo_id(body)
            try:
                req = WsRunRequest.model_validate(body)
                scene = scenes.Scene(req)
            except ValidationError as e:
                detail = [{"loc": ["body", *d["loc"]], "msg": d["msg"], "type": d["type"], "input": safe_value(d.get("input"))}
                          for d in e.errors()[:20]]
                await _error(ws, rid, detail)
                continue
            except RequestError as e:
                await _error(ws, rid, e.detail(), e.status)
                continue
            cancel = threading.Event()
            task = asyncio.create_task(_stream(ws, scene, req.id, cancel, metrics))
    except (WebSocketDisconnect, asyncio.TimeoutError, RuntimeError):
        pass
    finally:
        # Release the slot first: if this handler is itself cancelled, the awaits below never finish.
        metrics.websockets -= 1
        cancel.set()
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
