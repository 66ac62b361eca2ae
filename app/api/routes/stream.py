"""WS /ws/run: stream runs in chunks; a new request cancels the one in flight."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time

import numpy as np
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.types import Message
from starlette.websockets import WebSocketDisconnected

from app.core.config import get_settings
from app.core.limits import json_depth, too_deep
from app.errors import RequestError, clean_detail, describe, safe_value
from app.responses import dumps
from app.schemas import RequestId, WsRunRequest
from app.services import compute

router = APIRouter(tags=["stream"])
log = logging.getLogger("losslab")

#: Steps the engine computes between checks for cancellation (the numpy reference; the compiled
#: path takes compute.STREAM_CHUNK_COMPILED, about as long).
ENGINE_CHUNK = compute.STREAM_CHUNK
#: Time the server gathers chunks before sending, after the first (immediate) message.
BATCH_SECONDS = 0.025
_ID = TypeAdapter(RequestId | None)
#: Close codes (RFC 6455 §7.4.1): a client that stopped reading broke the protocol's terms (1008, policy
#: violation); a server at its connection cap asks the client to try again later (1013).
CLOSE_SLOW_CLIENT = 1008
CLOSE_TRY_LATER = 1013
#: Send timeouts a dropped client has to read its backlog and receive the close frame.
DROP_GRACE = 10
#: What a send that fails because the client has gone raises: nothing to report to anyone.
GONE = (WebSocketDisconnect, WebSocketDisconnected, OSError)


class SlowClient(Exception):
    """A send did not finish within ws_send_timeout: the client is not reading, so the server drops it."""


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


def _batch(gen, cancel: threading.Event, first: bool, metrics: Metrics, rid) -> tuple[list[str], object]:
    """The next batch of the run as message texts, rendered where it was computed, and its last chunk."""
    chunks = _pull(gen, cancel, first, metrics)
    return [dumps(m).decode() for m in _merge(chunks, rid)], (chunks[-1] if chunks else None)


async def _send(ws: WebSocket, msg: dict | str) -> None:
    timeout = get_settings().ws_send_timeout
    try:
        text = msg if isinstance(msg, str) else dumps(msg).decode()
        await asyncio.wait_for(ws.send_text(text), timeout=timeout)
    except asyncio.TimeoutError:
        raise SlowClient(f"the client did not read for {timeout:g} s (LOSSLAB_WS_SEND_TIMEOUT); dropped") from None


async def _error(ws: WebSocket, rid, detail, status: int = 422) -> None:
    await _send(ws, {"type": "error", "id": rid, "status": status, "detail": detail,
                     "message": describe(detail) if isinstance(detail, list) else str(detail)})


async def _stream(ws: WebSocket, scene: compute.RunPlan, rid, cancel: threading.Event, metrics: Metrics,
                  drop: asyncio.Future, deadline: float | None = None) -> None:
    """Run the scene and send its chunks; a client that stops reading is handed to ``drop`` to be closed.

    ``deadline`` (monotonic) counts from the request's arrival: building its scene is part of its time.
    """
    limit = get_settings().compute_timeout
    deadline = time.monotonic() + limit if deadline is None else deadline
    gen = scene.chunks(chunk_size=scene.stream_chunk)
    # A run of about a millisecond is computed on the event loop: a thread hop per batch would cost more.
    quick = compute.is_quick(scene.req)
    first = True
    try:
        while True:
            if quick:
                texts, last = _batch(gen, cancel, first, metrics, rid)
            else:
                texts, last = await run_in_threadpool(_batch, gen, cancel, first, metrics, rid)
            first = False
            if cancel.is_set():
                return
            for text in texts:
                await _send(ws, text)
            if last is None or last.done:
                runs = [{"status": s, "steps_taken": n} for s, n in zip(last.status, last.steps_taken)] if last else []
                await _send(ws, {"type": "done", "id": rid, "runs": runs})
                return
            if time.monotonic() > deadline:
                await _error(ws, rid, compute.timeout_error(limit).detail())
                return
    except SlowClient as e:
        if not drop.done():
            drop.set_result(str(e))
    except GONE:
        pass
    except Exception:
        # A bug, not the client's fault: say so on the socket instead of going silent.
        log.exception("unexpected error while streaming a run")
        try:
            await _error(ws, rid, "internal error while running; it has been logged", 500)
        except (SlowClient, *GONE):
            pass
    finally:
        cancel.set()


async def _next_message(ws: WebSocket, drop: asyncio.Future) -> Message | None:
    """The client's next message, or None once ``drop`` is set (the stream gave up on the client)."""
    receive = asyncio.ensure_future(ws.receive())
    try:
        await asyncio.wait({receive, drop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not receive.done():
            receive.cancel()
    if receive.done() and not receive.cancelled():
        return receive.result()
    return None


async def _drop(ws: WebSocket, reason: str) -> None:
    """Close a client that stopped reading: 1008 and the reason, after the backlog it has not read.

    The close frame cannot be queued until the client reads some of that backlog, so it waits up to
    DROP_GRACE send timeouts (the slot and the computation are already released); a client that never
    reads again is then left to the server, which closes the connection once its bounded buffer drains.
    """
    with contextlib.suppress(asyncio.TimeoutError, *GONE):
        await asyncio.wait_for(ws.close(code=CLOSE_SLOW_CLIENT, reason=reason[:120]),
                               timeout=DROP_GRACE * get_settings().ws_send_timeout)


@router.websocket("/ws/run")
async def ws_run(ws: WebSocket) -> None:
    """Send a run request (the POST /api/run body plus an optional id); receive chunk, done or error messages."""
    settings = get_settings()
    metrics: Metrics = ws.app.state.metrics
    if metrics.websockets >= settings.max_websockets:
        # Accept, then close: a browser sees the code and reason only on an open socket (a refused
        # handshake is a bare HTTP 403 to it), and RunSocket retries later with backoff.
        await ws.accept()
        await ws.close(code=CLOSE_TRY_LATER, reason=f"too many connections (limit {settings.max_websockets}); "
                       "try again later")
        return
    metrics.websockets += 1
    task: asyncio.Task | None = None
    cancel = threading.Event()
    drop: asyncio.Future = asyncio.get_running_loop().create_future()
    try:
        await ws.accept()
        while True:
            message = await _next_message(ws, drop)
            if message is None or message["type"] == "websocket.disconnect":
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
            depth = json_depth(text, settings.max_json_depth)
            if depth is not None:
                await _error(ws, None, too_deep(depth, settings.max_json_depth, "message"), 400)
                continue
            try:
                body = json.loads(text)
            except (ValueError, RecursionError) as e:
                await _error(ws, None, [{"loc": ["message"], "msg": f"not valid JSON: {str(e)[:80]}",
                                         "type": "json_invalid", "input": safe_value(text)}], 400)
                continue
            rid = _echo_id(body)
            until = time.monotonic() + settings.compute_timeout
            try:
                req = WsRunRequest.model_validate(body)
                # Building the scene may compile a typed formula (up to seconds): off the event loop,
                # unless it is a built-in surface the quick path takes (microseconds).
                if compute.is_quick(req):
                    scene = compute.RunPlan(req)
                else:
                    scene, until = await run_in_threadpool(compute.built, lambda: compute.RunPlan(req), until)
            except ValidationError as e:
                await _error(ws, rid, clean_detail([{**d, "loc": ("body", *d["loc"])} for d in e.errors()[:20]]))
                continue
            except RequestError as e:
                await _error(ws, rid, e.detail(), e.status)
                continue
            except Exception:
                log.exception("unexpected error while reading a run request")
                await _error(ws, rid, "internal error while reading the request; it has been logged", 500)
                continue
            cancel = threading.Event()
            task = asyncio.create_task(_stream(ws, scene, req.id, cancel, metrics, drop, until))
    except SlowClient as e:
        if not drop.done():
            drop.set_result(str(e))
    except GONE:
        pass
    finally:
        # Release the slot and stop the work first; nothing here awaits, so a cancelled handler still does it.
        metrics.websockets -= 1
        cancel.set()
        if task is not None:
            task.cancel()  # the worker thread stops at its next chunk: cancel is set
    if drop.done():
        await _drop(ws, drop.result())
