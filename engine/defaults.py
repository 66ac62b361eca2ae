"""The page's scene: its defaults and its limits, in one place.

A *scene* is what the page shows and its links carry: a surface with its parameters,
up to ``MAX_OPTIMIZERS`` optimizers with theirs, a start point, a number of steps, a
seed and a tolerance. Its defaults and limits live here and nowhere else:

- the service builds its request limits from them (``app.core.config`` takes ``MAX_STEPS``
  and ``MAX_OPTIMIZERS`` as the defaults of its settings, ``app.schemas`` takes ``SEED_MAX``
  and ``TOL_MAX``) and publishes them, with the settings applied, in ``GET /api/scene``;
- the page (``static/js/state.js``) has no literal of its own: it reads that response;
- the Python reader of the page's links (``losslab._page``, ``losslab.Scene``) reads this module.

The opening scene is the quadratic bowl's own default start and step sizes
(``engine.surfaces.classic.Quadratic``), so a surface's defaults are declared once, on the surface.
"""

from __future__ import annotations

import copy

from engine.surfaces.classic import Quadratic
from engine.surfaces.custom import MAX_LENGTH as FORMULA_MAX

#: Most steps per run (the service's ``LOSSLAB_MAX_STEPS`` defaults to it).
MAX_STEPS = 20_000
#: Most optimizers in one scene (``LOSSLAB_MAX_OPTIMIZERS`` defaults to it).
MAX_OPTIMIZERS = 8
#: Seeds are 31-bit: the page's numbers and every numpy generator take them exactly.
SEED_MAX = 2**31 - 1
#: A run is "converged" once ‖∇f‖ < tol; 0 never stops early.
DEFAULT_TOL = 1e-4
TOL_MAX = 1e6

_OPENING = {
    "surface": Quadratic.NAME,
    "surfaceParams": {"lambda_1": 1, "lambda_2": 20, "rotation": 30},
    "optimizers": [
        {"name": "gd", "params": {"lr": Quadratic.STEP_SIZES["gd"]}},
        {"name": "momentum", "params": {"lr": Quadratic.STEP_SIZES["momentum"], "momentum": 0.7}},
    ],
    "start": list(Quadratic.DEFAULT_START),
    "steps": Quadratic.DEFAULT_STEPS,
    "seed": 0,
    "tol": DEFAULT_TOL,
    "lesson": "",
    "formula": "",  # the custom surface's f(x, y)
    "view": None,  # the custom surface's [xmin, xmax, ymin, ymax]
}


def default_scene() -> dict:
    """The scene the page opens with (a fresh copy)."""
    return copy.deepcopy(_OPENING)


def limits(max_steps: int = MAX_STEPS, max_optimizers: int = MAX_OPTIMIZERS) -> dict:
    """The scene's limits: ``steps`` and ``seed`` as inclusive ``[low, high]``, ``tol`` likewise,
    the most ``optimizers`` and the longest ``formula`` (in characters, as JavaScript counts them)."""
    return {"steps": [1, int(max_steps)], "seed": [0, SEED_MAX], "tol": [0.0, TOL_MAX],
            "optimizers": int(max_optimizers), "formula": FORMULA_MAX}


def scene_format(max_steps: int = MAX_STEPS, max_optimizers: int = MAX_OPTIMIZERS) -> dict:
    """What ``GET /api/scene`` publishes: ``{"defaults": default_scene(), "limits": limits(...)}``."""
    return {"defaults": default_scene(), "limits": limits(max_steps, max_optimizers)}
