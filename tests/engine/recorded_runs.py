"""The trajectories Loss Lab serves, recorded once, so a restructuring can prove it changed none of them.

``python tests/engine/recorded_runs.py`` runs every case below on the numpy reference
(``LOSSLAB_ACCEL=0``'s path) and writes ``tests/engine/data/recorded_runs.json``: for each
run a SHA-256 of its points, losses and gradient norms (their float64 bytes), its status and
step count, and its final point and loss (to see *how far* off a changed run is).
``tests/engine/test_recorded_runs.py`` replays every case on both paths and compares.

The cases: every lesson's scene (and its side-by-side ``compare`` scene) as the lessons
defined them when the recording was made, and every catalog surface (with each choice
parameter's values, and the typed-formula examples) × every optimizer with its defaults,
plus SGD with batch sizes 1, 4 and all examples, noise and momentum. Each case is stored with
every parameter resolved (defaults filled in) and the divergence rule of the time, and is
replayed with them: a later change of a default, a lesson or the rule changes what the page
asks for, not what the engine computes for a given request, which is what the record checks.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RECORDING = HERE / "data" / "recorded_runs.json"
STEPS = 300
TOL = 1e-6  # the page's tolerance for a sweep; runs use 0, so both are recorded on different cases

SGD_VARIANTS = [
    {"batch_size": 1},
    {"batch_size": 4, "momentum": 0.5},
    {"batch_size": 10_000},  # clipped to the number of examples below
    {"noise": 0.3},
    {"batch_size": 2, "noise": 0.1, "schedule": "inverse", "seed": 7},
]


def _start(view) -> list[float]:
    """A start off every surface's critical points: 30 % across the view and 70 % up."""
    x0, x1, y0, y1 = view
    return [x0 + 0.3 * (x1 - x0), y0 + 0.7 * (y1 - y0)]


def catalog_cases() -> list[dict]:
    from engine.optimizers import OPTIMIZERS
    from engine.surfaces import SURFACES, make_surface
    from engine.surfaces.custom import EXAMPLES

    surfaces: list[tuple[str, dict, list | None]] = []
    for name, cls in SURFACES.items():
        choices = [p for p in cls.PARAMS if p.kind == "choice"]
        variants = [{}]
        for p in choices:  # each choice's every value, the others at their defaults
            variants += [{p.name: c} for c in p.choices if c != p.default]
        if name == "logistic_neuron":
            variants.append({"label_smoothing": 0.1})
        surfaces += [(name, v, None) for v in variants]
    surfaces += [("custom", {"formula": f}, list(view)) for _, f, view in EXAMPLES]

    cases = []
    for name, params, view in surfaces:
        s = make_surface(name, **params, **({"view": view} if view else {}))
        n = s.n_examples if s.IS_DATA else None
        opts = [(o, {}) for o in OPTIMIZERS]
        for v in SGD_VARIANTS:
            v = dict(v)
            if "batch_size" in v:
                if n is None:
                    continue
                v["batch_size"] = min(v["batch_size"], n)
            opts.append(("sgd", v))
        for tol in (0.0, TOL):
            cases.append({"id": f"catalog/{name}/{json.dumps(params, sort_keys=True)}/tol={tol:g}",
                          "surface": name, "surfaceParams": dict(s.params), "view": view,
                          "optimizers": _resolved(opts),
                          "start": _start(s.view), "steps": STEPS, "tol": tol, "seed": 0})
    return cases


def _resolved(opts) -> list[dict]:
    from engine.runner import configure

    return [{"name": o, "params": dict(configure(o, p).params)} for o, p in opts]


def lesson_cases() -> list[dict]:
    from engine.lessons import LESSONS
    from engine.surfaces import make_surface

    cases = []
    for lesson in LESSONS:
        sc = lesson.scene
        params = dict(make_surface(sc["surface"], **sc["surfaceParams"]).params)
        base = {"surface": sc["surface"], "surfaceParams": params, "view": None,
                "optimizers": _resolved([(o["name"], o["params"]) for o in sc["optimizers"]]), "start": sc["start"],
                "steps": sc["steps"], "tol": 0.0, "seed": sc.get("seed", 0)}
        cases.append({"id": f"lesson/{lesson.id}", **base})
        if "compare" in sc:
            other = dict(make_surface(sc["surface"], **{**params, **sc["compare"]["surfaceParams"]}).params)
            cases.append({"id": f"lesson/{lesson.id}/compare", **dict(base, surfaceParams=other)})
    return cases


def run_case(case: dict, divergence_factor: float):
    """The case's runs, under the divergence rule of the recording (``runner.DIVERGENCE_FACTOR``)."""
    from engine import make_surface, run, runner

    extra = {"view": case["view"]} if case.get("view") else {}
    s = make_surface(case["surface"], **case["surfaceParams"], **extra)
    opts = [(o["name"], o["params"]) for o in case["optimizers"]]
    before, runner.DIVERGENCE_FACTOR = runner.DIVERGENCE_FACTOR, divergence_factor
    try:
        return run(s, opts, start=case["start"], steps=case["steps"], tol=case["tol"], seed=case["seed"])
    finally:
        runner.DIVERGENCE_FACTOR = before


def digest(t) -> dict:
    h = hashlib.sha256()
    for a in (t.points, t.losses, t.grad_norms):
        h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    return {"sha256": h.hexdigest(), "status": t.status, "steps_taken": int(t.steps_taken),
            "final_point": [float(v) for v in t.points[-1]] if len(t.points) else None,
            "final_loss": float(t.losses[-1]) if len(t.losses) else None}


def record() -> dict:
    from engine import accel, runner

    cases = lesson_cases() + catalog_cases()
    with accel.disabled():
        for case in cases:
            case["runs"] = [digest(t) for t in run_case(case, runner.DIVERGENCE_FACTOR)]
    return {"machine": machine(), "divergence_factor": runner.DIVERGENCE_FACTOR, "cases": cases}


def machine() -> str:
    """What the last bits of numpy's results depend on: its version and the SIMD code it dispatches to."""
    from numpy._core._multiarray_umath import __cpu_features__

    return f"numpy {np.__version__}; {' '.join(k for k, v in sorted(__cpu_features__.items()) if v)}"


if __name__ == "__main__":
    if RECORDING.exists() and "--force" not in sys.argv:
        sys.exit(f"{RECORDING} exists: it is the record to compare against; --force writes a new one")
    RECORDING.parent.mkdir(exist_ok=True)
    data = record()
    lines = ",\n".join(json.dumps(c, ensure_ascii=False) for c in data["cases"])  # one case a line
    RECORDING.write_text((f'{{"machine": {json.dumps(data["machine"])}, "divergence_factor": {data["divergence_factor"]!r}, '
                          f'"cases": [\n{lines}\n]}}\n'))
    print(f"{len(data['cases'])} cases, {sum(len(c['runs']) for c in data['cases'])} runs -> {RECORDING}")
