"""The few JavaScript behaviours the page's link and export formats depend on, in Python.

The page writes numbers with ``String(x)`` and reads them with ``Number(s)``; a link or
a CSV made here must be the one the page makes, byte for byte, so these follow the
ECMAScript rules rather than Python's ``repr`` and ``float``.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import quote, unquote

_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_RADIX = re.compile(r"0([xXoObB])([0-9a-fA-F]+)")
_RADIX_BASE = {"x": 16, "o": 8, "b": 2}
_INFINITY = re.compile(r"[+-]?Infinity")
#: What ``String.prototype.trim`` strips: ECMAScript white space and line terminators.
_JS_SPACE = " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def number(value) -> float:
    """``Number(value)`` for a string or a number: NaN where JavaScript gives NaN.

    >>> number("1e3"), number(" 0x10 "), number(""), number("1_0")
    (1000.0, 16.0, 0.0, nan)
    """
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        return math.nan
    s = value.strip(_JS_SPACE)
    if s == "":
        return 0.0
    if _DECIMAL.fullmatch(s):
        return float(s)
    if _INFINITY.fullmatch(s):
        return -math.inf if s[0] == "-" else math.inf
    m = _RADIX.fullmatch(s)
    if m:
        try:
            return float(int(m.group(2), _RADIX_BASE[m.group(1).lower()]))
        except ValueError:
            return math.nan
    return math.nan


def trim(s: str) -> str:
    """``String.prototype.trim``: strips JavaScript's white space, the no-break space included.

    >>> trim(" \u00a0x**2\t")
    'x**2'
    """
    return s.strip(_JS_SPACE)


def length(s: str) -> int:
    """``s.length``: UTF-16 code units, so a character outside the BMP counts twice.

    >>> length("x**2"), length("\U0001d465")
    (4, 2)
    """
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def round_half_up(x: float) -> float:
    """``Math.round``: the nearest integer, halves toward +∞.

    >>> round_half_up(2.5), round_half_up(-2.5), round_half_up(0.49999999999999994)
    (3.0, -2.0, 0.0)
    """
    if not math.isfinite(x):
        return x
    r = math.floor(x)
    return float(r + 1 if x - r >= 0.5 else r)


def to_string(x) -> str:
    """``String(x)`` for a number: the shortest round-trip digits, in JavaScript's layout.

    >>> [to_string(v) for v in (20.0, 0.09, 1e-7, 1e21, 123456.0, -0.0, 3)]
    ['20', '0.09', '1e-7', '1e+21', '123456', '0', '3']
    """
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    d = Decimal(repr(abs(x))).normalize()
    _, digits_t, exp = d.as_tuple()
    digits = "".join(map(str, digits_t))
    k = len(digits)
    n = exp + k
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mant = digits if k == 1 else digits[0] + "." + digits[1:]
        body = f"{mant}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + body


def to_precision_12(x: float) -> float:
    """``Number(x.toPrecision(12))``: 12 significant digits, halves away from zero.

    >>> to_precision_12(0.1 + 0.2), to_precision_12(2.0 ** -18)
    (0.3, 3.81469726563e-06)
    """
    x = float(x)
    if not math.isfinite(x) or x == 0:
        return x
    d = Decimal(x)
    exp = d.adjusted() - 11
    return float(d.quantize(Decimal(1).scaleb(exp), rounding=ROUND_HALF_UP))


def encode_uri_component(s: str) -> str:
    """``encodeURIComponent``."""
    return quote(s, safe="-_.!~*'()")


def decode_uri_component(s: str) -> str:
    """``decodeURIComponent``; raises ValueError where JavaScript throws URIError."""
    if re.search(r"%(?![0-9A-Fa-f]{2})", s):
        raise ValueError(f"malformed percent-escape in {s!r}")
    try:
        return unquote(s, errors="strict")
    except UnicodeDecodeError:
        raise ValueError(f"percent-escapes in {s!r} are not UTF-8") from None


def stringify(value, indent: int = 1) -> str:
    """``JSON.stringify(value, null, indent)`` for dicts, lists, strings, numbers, bools and None.

    >>> print(stringify({"a": [1.0, 0.5], "b": {}}))
    {
     "a": [
      1,
      0.5
     ],
     "b": {}
    }
    """
    import json

    def enc(v, depth: int) -> str:
        if v is None or v is True or v is False:
            return {None: "null", True: "true", False: "false"}[v]
        if getattr(getattr(v, "dtype", None), "kind", None) == "b":  # numpy.bool_
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, (int, float)) or hasattr(v, "__float__") and not hasattr(v, "__len__"):
            f = float(v)
            return to_string(f) if math.isfinite(f) else "null"
        pad = "\n" + " " * (indent * (depth + 1))
        end = "\n" + " " * (indent * depth)
        if isinstance(v, dict):
            if not v:
                return "{}"
            items = [f"{json.dumps(str(k), ensure_ascii=False)}: {enc(x, depth + 1)}" for k, x in v.items()]
            return "{" + pad + ("," + pad).join(items) + end + "}"
        items = list(v)
        if not items:
            return "[]"
        return "[" + pad + ("," + pad).join(enc(x, depth + 1) for x in items) + end + "]"

    return enc(value, 0)


def literal(v) -> str:
    """A parameter value as Python source: numbers as the page writes them (``0.1``, ``20``), others by repr."""
    return to_string(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else repr(v)
