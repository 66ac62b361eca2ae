"""Declarative parameter specs shared by surfaces and optimizers.

A spec is the single source of truth for a parameter: the engine validates
against it, the web app publishes it in its catalogs, and the page builds its
controls from it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Sequence


class ParamError(ValueError):
    """A parameter outside its allowed range; names the parameter, the value and the range."""

    def __init__(self, param: str, value: Any, allowed: str):
        self.param = param
        self.value = value
        self.allowed = allowed
        super().__init__(f"{param} = {_shown(value)} is not allowed: {allowed}")


def _shown(value: Any) -> str:
    """``repr(value)`` for a message, bounded: an integer of thousands of digits is not written out."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        digits = int(value.bit_length() * 0.30103) + 1
        return f"{'-' if value < 0 else ''}an integer of about {digits} digits"
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "…"


@dataclass(frozen=True)
class Param:
    """One numeric or choice parameter.

    Attributes:
      name: identifier used in the API.
      default: value used when none is given.
      low, high: inclusive bounds for numbers (``low_open`` makes the lower bound strict).
      description: one sentence for the catalog and the page's tooltip.
      kind: ``"float"``, ``"int"``, ``"choice"`` or ``"text"`` (a string of at most ``high`` characters).
      choices: allowed values for ``"choice"``.
      log: whether a slider for it should move on a log scale.
      near_one: whether a slider for it should move on a log scale of 1 − value (momenta β, β2):
        equal steps then resolve 0.9, 0.99 and 0.999.
      label: short human label for the page.
      symbol: how a run label, a slider's read-out and the lessons write it (η, β, β1…); empty for none.
    """

    name: str
    default: Any
    low: float | None = None
    high: float | None = None
    description: str = ""
    kind: str = "float"
    choices: Sequence[str] = field(default_factory=tuple)
    log: bool = False
    label: str = ""
    low_open: bool = False
    near_one: bool = False
    symbol: str = ""

    def allowed(self) -> str:
        if self.kind == "choice":
            return f"one of {', '.join(self.choices)}"
        if self.kind == "text":
            return f"text of at most {int(self.high)} characters"
        lo = "<" if self.low_open else "≤"
        if self.kind == "int":  # :g would print 2**31 − 1 as 2.14748e+09
            return f"an integer with {int(self.low)} {lo} {self.name} ≤ {int(self.high)}"
        return f"a finite number with {self.low:g} {lo} {self.name} ≤ {self.high:g}"

    def validate(self, value: Any, owner: str = "") -> Any:
        """Return ``value`` coerced to this parameter's kind, or raise ParamError."""
        where = f"{owner}.{self.name}" if owner else self.name
        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise ParamError(where, value, self.allowed())
            return value
        if self.kind == "text":
            if not isinstance(value, str) or len(value) > self.high:
                raise ParamError(where, value if not isinstance(value, str) else value[:80], self.allowed())
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            try:
                import numpy as np

                if isinstance(value, np.generic) and not isinstance(value, np.bool_):
                    value = value.item()
                else:
                    raise TypeError
            except TypeError:
                raise ParamError(where, value, self.allowed()) from None
        if self.kind == "int":
            if isinstance(value, float):
                if not value.is_integer():
                    raise ParamError(where, value, self.allowed())
                value = int(value)
        else:
            try:
                value = float(value)
            except OverflowError:  # an integer beyond any float
                raise ParamError(where, value, self.allowed()) from None
        if isinstance(value, float) and not math.isfinite(value):
            raise ParamError(where, value, self.allowed())
        too_low = value <= self.low if self.low_open else value < self.low
        if too_low or value > self.high:
            raise ParamError(where, value, self.allowed())
        return value

    def to_dict(self) -> dict:
        d = {
            "name": self.name,
            "label": self.label or self.name,
            "kind": self.kind,
            "default": self.default,
            "description": self.description,
        }
        if self.symbol:
            d["symbol"] = self.symbol
        if self.kind == "choice":
            d["choices"] = list(self.choices)
        elif self.kind == "text":
            d["max_length"] = int(self.high)
        else:
            scale = "log1m" if self.near_one else "log" if self.log else "linear"
            d.update(min=self.low, max=self.high, log=self.log, min_exclusive=self.low_open, scale=scale)
        return d


def resolve(specs: Sequence[Param], given: Mapping[str, Any] | None, owner: str) -> dict:
    """Validate ``given`` against ``specs`` and fill in defaults.

    Unknown names are refused so that a typo never silently falls back to a default.
    """
    given = dict(given or {})
    known = {p.name: p for p in specs}
    for name in given:
        if name not in known:
            allowed = ", ".join(known) if known else "none"
            raise ParamError(f"{owner}.{name}", given[name], f"unknown parameter; {owner} takes: {allowed}")
    return {p.name: p.validate(given.get(p.name, p.default), owner) for p in specs}


#: The closed-form rate theories an optimizer can declare (engine.capabilities computes them).
RATE_THEORIES = ("heavy_ball", "nesterov", "newton")


@dataclass(frozen=True)
class Capabilities:
    """Declared on an optimizer's catalog entry and published in ``GET /api/optimizers``.

    Attributes:
      velocity: the parameter whose positive value gives the optimizer a velocity (its step
        then differs from −η∇f: the page draws it as a second arrow), or ``"always"``, or None.
      rate: which closed-form rate theory holds on the quadratic: one of ``RATE_THEORIES`` or None.
      beta: the momentum parameter that is the β of the rate formulas and of an (η, β) map, or None
        (an optimizer without it is swept along η alone).
      compiled: whether ``engine.accel`` has a compiled kernel for it.
    """

    velocity: str | None = None
    rate: str | None = None
    beta: str | None = None
    compiled: bool = False

    def __post_init__(self):
        if self.rate is not None and self.rate not in RATE_THEORIES:
            raise ValueError(f"rate = {self.rate!r}: one of {', '.join(RATE_THEORIES)} or None")

    def to_dict(self) -> dict:
        return asdict(self)
