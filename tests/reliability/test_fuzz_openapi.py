"""Property-based fuzzing of the whole HTTP API from its OpenAPI schema (schemathesis, in-process ASGI).

Every operation in /openapi.json gets FUZZ_EXAMPLES generated requests, valid and invalid by the
schema (schemathesis's positive and negative modes), on top of its examples and coverage phases.
Whatever arrives, the answer must not be a 5xx, and its body must be JSON a browser can parse, with
no NaN or Infinity anywhere in it.

The schema types a surface or optimizer name as any short lowercase string and a parameter as any
number or string, so almost every generated body would be refused long before the engine. Half the
bodies are therefore steered: names become real ones from the catalog (the typed-in formula surface
included, with the generated text as its formula), parameter keys become real parameter names, and
the generated numbers are clipped into each parameter's documented range, so the engine sees edge
values (the largest step size, eps at its floor, a start on the edge of the allowed box). Sizes are
trimmed on those bodies to keep the run in its time budget; the size limits themselves belong to the
hostile-input table and the timeout tests.

Generation is derandomized (hypothesis's derandomize): the same requests every run, so CI is stable.
"""

from __future__ import annotations

import json
import math
from collections import Counter

import hypothesis.strategies as st
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error

import engine
from app.core.config import get_settings
from app.main import app

#: Generated requests per operation in the fuzzing phase.
FUZZ_EXAMPLES = 300
#: The fewest requests each POST operation must have answered for the run to count.
MIN_REQUESTS = 300
#: Limits on steered bodies, so that one case costs milliseconds, not seconds.
STEERED_STEPS, STEERED_AXIS, STEERED_GRID = 300, 12, 60
#: The typed-in formula surface: not in the catalog; steered bodies give it the generated text.
CUSTOM = "custom"

_CATALOG = engine.catalog()
SURFACES = {s["name"]: s for s in _CATALOG["surfaces"]}
OPTIMIZERS = {o["name"]: o for o in _CATALOG["optimizers"]}
#: Requests answered, by (operation, status): read by the last test.
ANSWERED: Counter = Counter()

schema = schemathesis.openapi.from_asgi("/openapi.json", app)
schema.config.generation.update(max_examples=FUZZ_EXAMPLES, deterministic=True, database="none")


# --- steering ---------------------------------------------------------------

def _fit(value, spec: dict):
    """A generated value made valid for a catalog parameter: clipped into its range, or a valid choice."""
    if spec["kind"] == "choice":
        return spec["choices"][len(str(value)) % len(spec["choices"])]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return spec["default"]
    lo, hi = spec["min"], spec["max"]
    v = min(max(value, lo), hi)
    if spec.get("min_exclusive") and v <= lo:
        v = lo + (hi - lo) * 1e-9
    return int(round(v)) if spec["kind"] == "int" else v


def _params(params, specs: list[dict]):
    """The generated values under real parameter names, each fitted to its parameter."""
    if not isinstance(params, dict) or not specs:
        return {} if isinstance(params, dict) else params
    out = {}
    for i, value in enumerate(params.values()):
        spec = specs[i % len(specs)]
        out[spec["name"]] = _fit(value, spec)
    return out


def _start(point, surface: str):
    """A start clipped into the box the API allows: the surface's view enlarged by its size on each side."""
    if surface == CUSTOM or not (isinstance(point, list) and len(point) == 2
                                 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in point)):
        return point
    x0, x1, y0, y1 = SURFACES[surface]["view"]
    w, h = x1 - x0, y1 - y0
    return [min(max(point[0], x0 - w), x1 + w), min(max(point[1], y0 - h), y1 + h)]


def _small(value, most: int):
    return min(value, most) if isinstance(value, int) and not isinstance(value, bool) else value


def _optimizer(spec, name: str):
    if not isinstance(spec, dict):
        return spec
    return {**spec, "name": name, "params": _params(spec.get("params", {}), OPTIMIZERS[name]["params"])}


def _steer(body, surface: str, optimizer: str):
    """``body`` with real names, fitted parameters and trimmed sizes (anything malformed stays malformed)."""
    if not isinstance(body, dict):
        return body
    body = dict(body)
    if isinstance(body.get("surface"), dict):
        spec = {**body["surface"], "name": surface}
        if surface == CUSTOM:
            spec.pop("params", None)
        else:
            spec.pop("formula", None)  # formula and view are only for the custom surface
            spec.pop("view", None)
            spec["params"] = _params(spec.get("params", {}), SURFACES[surface]["params"])
        body["surface"] = spec
    names = sorted(OPTIMIZERS)
    if "optimizer" in body:
        body["optimizer"] = _optimizer(body["optimizer"], optimizer)
    if isinstance(body.get("optimizers"), list):
        first = names.index(optimizer)
        body["optimizers"] = [_optimizer(o, names[(first + i) % len(names)]) for i, o in enumerate(body["optimizers"])]
    if "start" in body:
        body["start"] = _start(body["start"], surface)
    if "steps" in body:
        body["steps"] = _small(body["steps"], STEERED_STEPS)
    if "n" in body:
        body["n"] = _small(body["n"], STEERED_GRID)
    for axis in ("lrs", "betas"):
        if isinstance(body.get(axis), dict) and "n" in body[axis]:
            body[axis] = {**body[axis], "n": _small(body[axis]["n"], STEERED_AXIS)}
    return body


@schema.hook
def flatmap_body(context, body):
    """Half the bodies as generated, half steered onto real surfaces, optimizers and parameters."""
    choice = st.tuples(st.booleans(), st.sampled_from(sorted(SURFACES) + [CUSTOM]), st.sampled_from(sorted(OPTIMIZERS)))
    return choice.map(lambda t: _steer(body, t[1], t[2]) if t[0] else body)


# --- checks -----------------------------------------------------------------

def _reject_constant(name: str):
    raise ValueError(f"non-finite JSON constant {name}")


def _non_finite(value, path="$"):
    """The path of the first NaN or ±Infinity in ``value``, or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        found = _non_finite(v, f"{path}.{k}")
        if found:
            return found
    return None


@schemathesis.check
def finite_json_only(ctx, response, case):
    """The body parses as strict JSON (no NaN or Infinity literals) and carries no non-finite number."""
    if "json" not in response.headers.get("content-type", [""])[0]:
        return None
    try:
        data = json.loads(response.content, parse_constant=_reject_constant)
    except ValueError as e:
        raise AssertionError(f"response is not strict JSON: {e}") from None
    where = _non_finite(data)
    assert where is None, f"non-finite number at {where}"
    return None


@pytest.fixture(autouse=True)
def _short_compute_cap(monkeypatch):
    # A generated request that still asks for seconds of work is cut at 2 s (a 422), not waited out.
    monkeypatch.setattr(get_settings(), "compute_timeout", 2.0)


@schema.parametrize()
def test_no_server_error_and_only_finite_json(case):
    response = case.call_and_validate(checks=[not_a_server_error, finite_json_only])
    ANSWERED[(case.operation.label, response.status_code)] += 1


def test_every_operation_got_hundreds_of_requests():
    """Runs after the fuzz above (file order): each POST operation answered hundreds, some with a 200."""
    if not ANSWERED:
        pytest.skip("run together with the fuzz test above")
    for label in ("POST /api/run", "POST /api/grid", "POST /api/sweep", "POST /api/theory"):
        total = sum(n for (op, _), n in ANSWERED.items() if op == label)
        ok = ANSWERED[(label, 200)]
        assert total >= MIN_REQUESTS, (label, total)
        assert ok >= 10, f"{label}: only {ok} of {total} generated requests reached a result"
