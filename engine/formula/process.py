"""The formula worker: a separate process that does the sympy work of engine.formula.loader.compile_formula.

Protocol: one JSON object per line. The worker first writes ``{"ready": true}`` once sympy
is imported and warm; then for each ``{"formula": text}`` it reads, it writes
``{"ok": derive(text)}`` or ``{"error": [column, problem]}``.

The server kills a worker whose answer is late. As a backstop, should the server be gone,
each derivation also arms an alarm that ends the worker a few seconds after the deadline.
"""

from __future__ import annotations

import json
import os
import signal
import sys

from engine.formula.derive import derive
from engine.formula.parser import FormulaError
from engine.formula.workers import FORMULA_TIMEOUT

#: Exercises every whitelisted function once, so sympy's modules and caches are ready.
WARMUP = ("(1.5 - x + x*y)**2 + sin(pi*x)*cos(y) + tan(x) + exp(-y) + log(2 + x**2) + sqrt(1 + y**2) + abs(x)"
          " + tanh(y) + sinh(x/3) + cosh(y/3) + atan(x) + sigmoid(x*y) + softplus(x - y) + relu(y) + 2**x + e**(x/2)")


def answer(text) -> dict:
    try:
        return {"ok": derive(text)}
    except FormulaError as e:
        return {"error": [e.column, e.problem]}
    except Exception as e:  # sympy failing on something unforeseen: refuse the formula, say what happened
        return {"error": [1, f"the formula could not be differentiated ({type(e).__name__}: {str(e)[:100]})"]}


def limit_memory(extra: int = 1 << 30) -> None:
    """Cap the address space at what is mapped now plus ``extra`` bytes: a formula that makes
    sympy allocate more gets a MemoryError, answered as a refusal, instead of swapping the host."""
    try:
        import resource

        with open("/proc/self/statm") as f:
            mapped = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (mapped + extra, resource.getrlimit(resource.RLIMIT_AS)[1]))
    except (ImportError, OSError, ValueError):
        pass  # not Linux, or a hard limit below ours: the deadline still holds


def main() -> None:
    timeout = float(sys.argv[1]) if len(sys.argv) > 1 else FORMULA_TIMEOUT
    # Answers go to the original stdout; anything printed by a library goes to stderr instead.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    derive(WARMUP)
    limit_memory()
    out.write(b'{"ready": true}\n')
    out.flush()
    for line in sys.stdin.buffer:
        text = json.loads(line).get("formula")
        signal.alarm(int(timeout) + 5)  # default action: the process ends
        reply = answer(text)
        signal.alarm(0)
        out.write(json.dumps(reply).encode() + b"\n")
        out.flush()


if __name__ == "__main__":
    main()
