"""The catalogs from Python: surfaces, optimizers and lessons, as listings."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple


import engine
from engine.lessons import LESSONS, Lesson
from engine.params import ParamError

from losslab import _js, _page


# --- catalogs -----------------------------------------------------------------

class SurfaceInfo(NamedTuple):
    name: str
    title: str
    description: str
    params: dict
    view: tuple


class OptimizerInfo(NamedTuple):
    name: str
    title: str
    formula: str
    description: str
    params: dict


class Listing(list):
    """A list that prints as a table and can be indexed by name as well as position."""

    def __init__(self, items, columns: Callable[[Any], tuple[str, ...]], key: str = "name"):
        super().__init__(items)
        self._columns = columns
        self._key = key

    def __getitem__(self, i):
        if isinstance(i, str):
            for item in self:
                if getattr(item, self._key) == i:
                    return item
            raise KeyError(f"{i!r}: not one of {', '.join(str(getattr(x, self._key)) for x in self)}")
        return super().__getitem__(i)

    def names(self) -> list:
        return [getattr(x, self._key) for x in self]

    def __repr__(self) -> str:
        if not self:
            return "(none)"
        rows = [self._columns(x) for x in self]
        widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]) - 1)]
        return "\n".join("  ".join([c.ljust(w) for c, w in zip(r, widths)] + [r[-1]]).rstrip() for r in rows)


def _defaults(params: dict) -> str:
    return ", ".join(f"{p.name}={_js.literal(p.default)}" for p in params.values())


def surfaces() -> Listing:
    """Every surface with its parameters (name → :class:`engine.Param`: default, range, description).

    The last, ``custom``, is a formula you type: ``Scene("custom", formula=…, view=…)``.

    >>> s = surfaces()["quadratic"]
    >>> s.title, s.params["lambda_2"].default
    ('Quadratic bowl', 10.0)
    >>> surfaces()["custom"].view
    (-3.0, 3.0, -3.0, 3.0)
    """
    items = []
    for name, cls in _page.CATALOG.items():  # the page's list: the catalog, then "Your own formula…"
        items.append(SurfaceInfo(name, cls.TITLE, cls.DESCRIPTION, {p.name: p for p in cls.PARAMS},
                                 _page.default_view(name)))
    return Listing(items, lambda s: (s.name, s.title, _defaults(s.params)))


def optimizers() -> Listing:
    """Every optimizer with its update rule and parameters.

    >>> o = optimizers()["momentum"]
    >>> o.formula, sorted(o.params)
    ('v ← β v + g;  x ← x − η v', ['decay_every', 'lr', 'momentum', 'schedule'])
    """
    items = [OptimizerInfo(s.name, s.title, s.formula, s.description, {p.name: p for p in s.params})
             for s in engine.OPTIMIZERS.values()]
    return Listing(items, lambda o: (o.name, o.title, o.formula))


def lessons() -> Listing:
    """The page's lessons (``id, number, title, text, scene``); open one with ``Scene.from_lesson(id)``.

    >>> all(lesson.id and lesson.title for lesson in lessons())
    True
    """
    return Listing(sorted(LESSONS, key=lambda l: l.number), lambda l: (f"{l.number:>2}.", l.id, l.title), key="id")


def find_lesson(key: str | int) -> Lesson:
    for lesson in LESSONS:
        if lesson.id == key or (isinstance(key, int) and not isinstance(key, bool) and lesson.number == key):
            return lesson
    known = ", ".join(l.id for l in LESSONS) or "none yet"
    raise ParamError("lesson", key, f"one of {known}")


