"""The page's scene: its URL hash format and its normalization, as in ``static/js/state.js``.

A scene here is the page's plain object::

    {"surface": "quadratic", "surfaceParams": {...}, "optimizers": [{"name": ..., "params": {...}}],
     "start": [x, y], "steps": 100, "seed": 0, "tol": 1e-4, "lesson": "", "formula": "", "view": None}

``formula`` and ``view`` belong to the custom surface (a typed f(x, y) and its box
``[xmin, xmax, ymin, ymax]``); every other surface has ``""`` and ``None`` there.

``from_hash`` parses a link the way ``fromHash`` does and ``normalize`` fills defaults,
clamps and drops what the page drops (``normalizeScene``), so a link opens the same
scene here as in the browser. Each silent fix the page would make is reported in
``notes`` so the command line can say so.
"""

from __future__ import annotations

import copy
import functools
import math
import re
import sys

from engine import defaults
from engine.optimizers import OPTIMIZERS
from engine.params import Param
from engine.surfaces import SURFACES, TEXT_SURFACES

from losslab import _js

#: The page's defaults and limits, from their one home (``engine.defaults``, published by GET /api/scene).
DEFAULT_SCENE = defaults.default_scene()
_LIMITS = defaults.limits()
STEPS = tuple(_LIMITS["steps"])
SEEDS = tuple(_LIMITS["seed"])
TOLS = tuple(_LIMITS["tol"])
MAX_OPTIMIZERS = _LIMITS["optimizers"]
#: The typed-formula surface, and the longest formula the page keeps (``CUSTOM``, ``FORMULA_MAX``).
CUSTOM = "custom"
FORMULA_MAX = _LIMITS["formula"]
#: The largest |coordinate| of a custom view the page keeps.
from engine.surfaces.custom import MAX_VIEW as VIEW_MAX, MIN_VIEW_SPAN  # noqa: E402  the server's limits
#: The page's catalog of surfaces: GET /api/surfaces, and the custom surface from GET /api/formula.
CATALOG = {**SURFACES, **TEXT_SURFACES}


class LinkError(ValueError):
    """A link the page itself could not open (a malformed percent-escape)."""


@functools.lru_cache(maxsize=None)
def default_view(surface: str) -> tuple[float, float, float, float]:
    """The view the page's catalog gives ``surface`` (that of its default parameters)."""
    return tuple(CATALOG[surface]().view)


def default_formula() -> str:
    """The formula the page falls back to: the default of the custom surface's ``formula`` parameter."""
    return next((p.default for p in CATALOG[CUSTOM].PARAMS if p.name == "formula"), "x**2 + y**2")


def hash_of(url: str) -> str:
    """The ``#…`` part of a page link; a bare hash or ``s=…&o=…`` text is taken as it is.

    >>> hash_of("http://127.0.0.1:8000/#s=saddle&steps=5"), hash_of("s=saddle"), hash_of("http://h/")
    ('#s=saddle&steps=5', '#s=saddle', '')
    """
    url = url.strip()
    if "#" in url:
        return "#" + url.split("#", 1)[1]
    if "://" in url or "=" not in url:
        return ""
    return "#" + url


# --- reading ----------------------------------------------------------------

def _decode_params(text: str) -> dict:
    out: dict = {}
    if not text:
        return out
    for pair in text.split(","):
        i = pair.find("=")
        if i <= 0:
            continue
        try:
            raw = _js.decode_uri_component(pair[i + 1:])
        except ValueError as e:
            raise LinkError(f"the link cannot be read (the page cannot open it either): {e}") from None
        num = _js.number(raw)
        out[pair[:i]] = num if raw != "" and math.isfinite(num) else raw
    return out


def _split_named(text: str) -> tuple[str, str]:
    i = text.find(":")
    return (text, "") if i < 0 else (text[:i], text[i + 1:])


def from_hash(hash_: str) -> dict:
    """Parse a hash into a (not yet normalized) scene; missing parts take the page's defaults."""
    text = (hash_ or "").removeprefix("#")
    scene = copy.deepcopy(DEFAULT_SCENE)
    if not text:
        return scene
    fields: dict[str, str] = {}
    for part in text.split("&"):
        i = part.find("=")
        if i > 0:
            fields[part[:i]] = part[i + 1:]
    if fields.get("s"):
        name, params = _split_named(fields["s"])
        scene["surface"] = name
        scene["surfaceParams"] = _decode_params(params)
    if "o" in fields:
        scene["optimizers"] = [
            {"name": name, "params": _decode_params(params)}
            for name, params in map(_split_named, filter(None, fields["o"].split("|")))
        ]
    if fields.get("start"):
        scene["start"] = [_js.number(v) for v in fields["start"].split(",")]
    if fields.get("steps"):
        scene["steps"] = _js.number(fields["steps"])
    if fields.get("seed"):
        scene["seed"] = _js.number(fields["seed"])
    if fields.get("tol"):
        scene["tol"] = _js.number(fields["tol"])
    try:
        scene["lesson"] = _js.decode_uri_component(fields["lesson"]) if fields.get("lesson") else ""
        if "f" in fields:
            scene["formula"] = _js.decode_uri_component(fields["f"])
    except ValueError as e:
        raise LinkError(f"the link cannot be read (the page cannot open it either): {e}") from None
    if fields.get("view"):
        scene["view"] = [_js.number(v) for v in fields["view"].split(",")]
    return scene


def is_short_lesson_link(hash_: str, scene: dict) -> bool:
    """A teacher's short link, ``#lesson=<id>`` without ``s=``: the page opens the lesson's own scene."""
    return bool(scene.get("lesson")) and re.search(r"(^#|&)s=", hash_) is None


# --- normalizing --------------------------------------------------------------

def coerce_param(spec: Param, value, owner: str, notes: list[str]):
    """``coerceParam``: a choice outside its list and a non-number take the default; numbers are clamped."""
    where = f"{owner}.{spec.name}"
    if spec.kind == "choice":
        if isinstance(value, str) and value in spec.choices:
            return value
        notes.append(f"{where} = {_js.literal(value)} is not one of {', '.join(spec.choices)}; the page uses {spec.default!r}")
        return spec.default
    v = _js.number(value)
    if not math.isfinite(v):
        notes.append(f"{where} = {_js.literal(value)} is not a number; the page uses {_js.literal(spec.default)}")
        return spec.default
    if spec.kind == "int":
        v = _js.round_half_up(v)
    lo = spec.low + sys.float_info.epsilon if spec.low_open else spec.low
    out = min(spec.high, max(lo, v))
    if out != v or v != _js.number(value):
        notes.append(f"{where} = {_js.literal(value)} is not allowed ({spec.allowed()}); the page uses {_js.literal(out)}")
    return int(out) if spec.kind == "int" else float(out)


def normalize_params(specs, params, owner: str, notes: list[str]) -> dict:
    """``normalizeParams``: every parameter of ``specs`` in their order, unknown names dropped.

    Text parameters (the custom surface's formula) are left out: the scene keeps the formula
    in its own ``formula`` field.
    """
    params = params if isinstance(params, dict) else {}
    known = {p.name: p for p in specs}
    for name in params:
        if name not in known:
            notes.append(f"{owner}.{name} is not a parameter of {owner}; the page ignores it")
        elif known[name].kind == "text":
            notes.append(f"{owner}.{name} among the surface's parameters is ignored; the page reads the "
                         f"{name} from f= (the scene's {name!r})")
    return {p.name: coerce_param(p, params[p.name] if params.get(p.name) is not None else p.default, owner, notes)
            for p in specs if p.kind != "text"}


def _clamp_int(v, bounds, fallback, what: str, notes: list[str]) -> int:
    n = _js.round_half_up(_js.number(v))
    if not math.isfinite(n):
        notes.append(f"{what} = {_js.literal(v)} is not a number; the page uses {fallback}")
        return fallback
    out = int(min(bounds[1], max(bounds[0], n)))
    if out != _js.number(v):
        notes.append(f"{what} = {_js.literal(v)} is outside {bounds[0]} … {bounds[1]}; the page uses {out}")
    return out


def _clamp_tol(v, notes: list[str]) -> float:
    """``clampTol``: a number in ``TOLS``, else the default tolerance."""
    if v is None:  # a scene without one (a lesson's): the default, as on the page
        return DEFAULT_SCENE["tol"]
    t = _js.number(v)
    if not math.isfinite(t):
        notes.append(f"tol = {_js.literal(v)} is not a number; the page uses {_js.literal(DEFAULT_SCENE['tol'])}")
        return DEFAULT_SCENE["tol"]
    out = min(TOLS[1], max(TOLS[0], t))
    if out != t:
        notes.append(f"tol = {_js.literal(v)} is outside {_js.literal(TOLS[0])} … {_js.literal(TOLS[1])}; the page uses {_js.literal(out)}")
    return float(out)


def apply_surface(scene: dict, entry: dict) -> dict:
    """The scene after choosing the surface ``entry`` (its catalog entry, ``Surface.describe()``): its
    default start and steps, and each optimizer's step size for it; ``static/js/catalog.js``'s
    ``applySurface``. A second run of an optimizer keeps its step's ratio to the first's."""
    sizes = entry.get("step_sizes") or {}
    optimizers = []
    for o in scene["optimizers"]:
        size = sizes.get(o["name"])
        if not size:
            optimizers.append({"name": o["name"], "params": dict(o["params"])})
            continue
        first = next(q for q in scene["optimizers"] if q["name"] == o["name"])
        lr = first["params"].get("lr")
        ratio = 1 if first is o or not (isinstance(lr, (int, float)) and lr > 0) else o["params"]["lr"] / lr
        optimizers.append({"name": o["name"], "params": {**o["params"], "lr": float(f"{size * ratio:.3g}")}})
    return {**scene, "surface": entry["name"], "surfaceParams": {}, "formula": "", "view": None,
            "start": list(entry["default_start"]) if entry.get("default_start") else list(scene["start"]),
            "steps": entry.get("default_steps") or scene["steps"], "optimizers": optimizers}


def clamp_start(start, view) -> list[float]:
    """``clampStart``: inside the view enlarged by its own size on every side."""
    x0, x1, y0, y1 = view
    w, h = x1 - x0, y1 - y0
    x, y = start
    return [min(x1 + w, max(x0 - w, x)), min(y1 + h, max(y0 - h, y))]


def _custom(scene: dict, notes: list[str]) -> tuple[str, list[float]]:
    """The custom surface's formula and view as ``normalizeScene`` keeps them: a non-blank formula
    of at most ``FORMULA_MAX`` characters as JavaScript counts them (UTF-16 units), else the
    default; a view of four finite numbers with spans of at least ``MIN_VIEW_SPAN`` and |v| ≤ ``VIEW_MAX``,
    else the default view; the limits are the engine's (|v| ≤ 1000, spans of at least 0.001),
    published in the custom surface's catalog entry as ``view_limits``."""
    raw = scene.get("formula")
    if isinstance(raw, str) and _js.trim(raw) and _js.length(raw) <= FORMULA_MAX:
        formula = raw
    else:
        formula = default_formula()
        if raw not in (None, ""):
            why = (f"is longer than {FORMULA_MAX} characters" if isinstance(raw, str) and _js.trim(raw)
                   else "is blank" if isinstance(raw, str) else "is not text")
            notes.append(f"formula {_js.literal(raw if not isinstance(raw, str) or len(raw) <= 80 else raw[:80] + '…')} "
                         f"{why}; the page uses {formula!r}")
    raw_view = scene.get("view")
    v = [_js.number(c) for c in raw_view] if isinstance(raw_view, (list, tuple)) else []
    if (len(v) == 4 and all(math.isfinite(c) and abs(c) <= VIEW_MAX for c in v)
            and v[1] - v[0] >= MIN_VIEW_SPAN and v[3] - v[2] >= MIN_VIEW_SPAN):
        return formula, v
    view = list(default_view(CUSTOM))
    if raw_view is not None:
        shown = ", ".join(map(_js.literal, raw_view)) if isinstance(raw_view, (list, tuple)) else _js.literal(raw_view)
        notes.append(f"view = {shown} is not xmin,xmax,ymin,ymax (four numbers up to {VIEW_MAX:g} with "
                     f"spans of at least {MIN_VIEW_SPAN:g}); the page uses {', '.join(map(_js.literal, view))}")
    return formula, view


def normalize(scene: dict, notes: list[str] | None = None) -> dict:
    """``normalizeScene``: a scene whose every name is known and every number in range."""
    notes = [] if notes is None else notes
    name = scene.get("surface")
    surf = name if isinstance(name, str) and name in CATALOG else DEFAULT_SCENE["surface"]
    if surf != name:
        notes.append(f"surface {_js.literal(name)} is unknown; the page opens {surf}")
    opts = []
    for o in scene.get("optimizers") or []:
        oname = o.get("name") if isinstance(o, dict) else None
        if oname not in OPTIMIZERS:
            notes.append(f"optimizer {_js.literal(oname)} is unknown; the page leaves it out")
            continue
        if len(opts) == MAX_OPTIMIZERS:
            notes.append(f"more than {MAX_OPTIMIZERS} optimizers; the page keeps the first {MAX_OPTIMIZERS}")
            break
        opts.append({"name": oname, "params": normalize_params(OPTIMIZERS[oname].params, o.get("params"), oname, notes)})
    formula, custom_view = "", None
    if surf == CUSTOM:
        formula, custom_view = _custom(scene, notes)
    else:
        for key, where in (("formula", "f="), ("view", "view=")):
            if scene.get(key) not in (None, ""):
                notes.append(f"{where} is only for the custom surface; the page ignores it on {surf}")
    view = custom_view or default_view(surf)
    raw_start = scene.get("start") or []
    start = [_js.number(v) for v in raw_start] if isinstance(raw_start, (list, tuple)) else []
    if len(start) == 2 and all(math.isfinite(v) for v in start):
        clamped = clamp_start(start, view)
        if clamped != start:
            notes.append(f"start = {', '.join(map(_js.literal, start))} is far off the view; the page uses "
                         f"{', '.join(map(_js.literal, clamped))}")
    else:
        clamped = [(view[0] + view[1]) / 2, (view[2] + view[3]) / 2]
        notes.append(f"start = {_js.literal(raw_start)} is not a point x,y; the page starts at the view's centre "
                     f"{', '.join(map(_js.literal, clamped))}")
    lesson = scene.get("lesson")
    return {
        "surface": surf,
        "surfaceParams": normalize_params(CATALOG[surf].PARAMS, scene.get("surfaceParams"), surf, notes),
        "optimizers": opts,
        "start": [float(v) for v in clamped],
        "steps": _clamp_int(scene.get("steps"), STEPS, DEFAULT_SCENE["steps"], "steps", notes),
        "seed": _clamp_int(scene.get("seed"), SEEDS, DEFAULT_SCENE["seed"], "seed", notes),
        "tol": _clamp_tol(scene.get("tol"), notes),
        "lesson": lesson if isinstance(lesson, str) else "",
        "formula": formula,
        "view": custom_view,
    }


def surface_spec(scene: dict) -> dict:
    """``surfaceSpec``: the surface part of a request, a catalog surface with its params or a formula with its view."""
    if scene["surface"] == CUSTOM:
        return {"name": CUSTOM, "formula": scene["formula"], "view": scene["view"]}
    return {"name": scene["surface"], "params": scene["surfaceParams"]}


def run_request(scene: dict) -> dict:
    """``runRequest``: the POST /api/run (and WS /ws/run) body the page sends for ``scene``."""
    return {
        "surface": surface_spec(scene),
        "optimizers": [{"name": o["name"], "params": o["params"]} for o in scene["optimizers"]],
        "start": scene["start"],
        "steps": scene["steps"],
        "tol": scene["tol"],
        "seed": scene["seed"],
    }


# --- writing ----------------------------------------------------------------

def _fmt(v) -> str:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return _js.to_string(_js.to_precision_12(v))
    return _js.encode_uri_component(str(v))


def _encode_params(params: dict) -> str:
    return ",".join(f"{k}={_fmt(v)}" for k, v in params.items())


def to_hash(scene: dict) -> str:
    """``toHash``: numbers to 12 significant digits, strings percent-encoded."""
    parts = [
        f"s={scene['surface']}:{_encode_params(scene['surfaceParams'])}",
        "o=" + "|".join(f"{o['name']}:{_encode_params(o['params'])}" for o in scene["optimizers"]),
        "start=" + ",".join(_fmt(v) for v in scene["start"]),
        f"steps={scene['steps']}",
        f"seed={scene['seed']}",
        f"tol={_fmt(scene['tol'])}",
    ]
    if scene["surface"] == CUSTOM:
        parts.append("f=" + _js.encode_uri_component(scene["formula"]))
        if scene.get("view"):
            parts.append("view=" + ",".join(_fmt(v) for v in scene["view"]))
    if scene.get("lesson"):
        parts.append("lesson=" + _js.encode_uri_component(scene["lesson"]))
    return "#" + "&".join(parts)
