"""The formula workers: processes that run engine.formula.derive, killed when late.

A fair, bounded pool: at most MAX_WORKERS derivations at once, at most QUEUE_LIMIT formulas
waiting (a formula's deadline counts its time in the queue), a full queue refused at once
(FormulaBusy, a 503 with Retry-After), and a dead or late worker replaced at once.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import threading
import time

from engine.formula.parser import FormulaError

#: Seconds a worker may spend building, differentiating and printing one formula.
FORMULA_TIMEOUT = 2.0
#: Seconds allowed for a worker process to start (it imports sympy once).
STARTUP_TIMEOUT = 60.0


class Worker:
    """A Python process running ``engine.formula.process``: one formula in, one answer out.

    It is started once (importing sympy takes about a second) and reused; it is killed when
    an answer is late, and replaced on the next request.
    """

    def __init__(self):
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        self.proc = subprocess.Popen([sys.executable, "-m", "engine.formula.process", str(FORMULA_TIMEOUT)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True)
        self.buffer = b""
        self.served = 0
        self.ready = False

    def read(self, timeout: float) -> dict | None:
        """The next line the worker writes, as JSON; None if none comes within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise EOFError
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def ask(self, text: str) -> dict | None:
        if not self.ready:
            # Only the derivation runs against the deadline, not the worker's start.
            if self.read(STARTUP_TIMEOUT) is None:
                raise EOFError
            self.ready = True
        self.proc.stdin.write(json.dumps({"formula": text}).encode() + b"\n")
        self.proc.stdin.flush()
        self.served += 1
        return self.read(FORMULA_TIMEOUT)

    def kill(self) -> None:
        """Stop the process; never raises (a dead worker's pipe may still hold unsent bytes)."""
        self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:  # BrokenPipeError flushing what the dead worker never read
                pass


#: Workers running at once (each derives one formula at a time), and the answers one serves
#: before it is replaced, which bounds the memory sympy's caches can take.
MAX_WORKERS = max(2, os.cpu_count() or 1)
MAX_SERVED = 500
#: Formulas that may wait for a free worker; a formula arriving when this many wait is refused at once.
QUEUE_LIMIT = 8
#: Seconds a formula may wait for a free worker: its deadline counts its time in the queue.
QUEUE_TIMEOUT = FORMULA_TIMEOUT


class FormulaBusy(FormulaError):
    """Every worker is busy and the queue is full (or the wait ran out): try again in ``retry_after`` s.

    Not a property of the formula, so never cached.
    """

    def __init__(self, formula: str, problem: str, retry_after: float):
        super().__init__(formula, 1, problem)
        self.retry_after = retry_after


_idle: list[Worker] = []
_pool_lock = threading.Lock()
_slots = threading.BoundedSemaphore(MAX_WORKERS)
_waiting = 0


def start_worker() -> None:
    """Start a worker now (it takes about a second to import sympy), so the first formula a
    user types is not the one that waits for it; a server may call this at startup."""
    with _pool_lock:
        if _idle:
            return
    worker = Worker()  # outside the lock: starting a process can take a while on a busy machine
    with _pool_lock:
        _idle.append(worker)


def _replace(worker: Worker) -> None:
    """Kill ``worker`` and start its replacement now, so it is warm by the next formula."""
    worker.kill()
    replacement = Worker()
    with _pool_lock:
        _idle.append(replacement)


def _take_worker() -> Worker:
    """A live idle worker, or a new one; dead idle workers (killed while waiting) are replaced."""
    while True:
        with _pool_lock:
            worker = _idle.pop() if _idle else None
        if worker is None:
            return Worker()
        if worker.proc.poll() is None:
            return worker
        worker.kill()


@atexit.register
def _stop_workers() -> None:
    with _pool_lock:
        workers, _idle[:] = list(_idle), []
    for worker in workers:
        worker.kill()


def _acquire_slot(text: str) -> None:
    """Wait for a free worker slot: at most QUEUE_TIMEOUT, and not at all when QUEUE_LIMIT already wait."""
    global _waiting
    if _slots.acquire(blocking=False):
        return
    with _pool_lock:
        full = _waiting >= QUEUE_LIMIT
        if not full:
            _waiting += 1
    if full:
        raise FormulaBusy(text, f"every formula worker is busy and {QUEUE_LIMIT} formulas are waiting; "
                                f"try again in {QUEUE_TIMEOUT:g} s", QUEUE_TIMEOUT)
    try:
        if not _slots.acquire(timeout=QUEUE_TIMEOUT):
            raise FormulaBusy(text, f"every formula worker stayed busy for {QUEUE_TIMEOUT:g} s; "
                                    f"try again in {QUEUE_TIMEOUT:g} s", QUEUE_TIMEOUT)
    finally:
        with _pool_lock:
            _waiting -= 1


def derive_in_worker(text: str) -> dict:
    _acquire_slot(text)
    try:
        worker = _take_worker()
        try:
            answer = worker.ask(text)
        except (EOFError, OSError, ValueError):
            _replace(worker)
            raise FormulaError(text, 1, "the formula worker stopped before it answered; try again") from None
        if answer is None:
            _replace(worker)
            raise FormulaError(text, 1, f"the formula takes longer than {FORMULA_TIMEOUT:g} s to differentiate; "
                                        "simplify it")
        if worker.served < MAX_SERVED:
            with _pool_lock:
                _idle.append(worker)
        else:
            _replace(worker)
    finally:
        _slots.release()
    if "error" in answer:
        column, problem = answer["error"]
        raise FormulaError(text, column, problem)
    return answer["ok"]


