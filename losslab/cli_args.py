"""The command line's argument types: each parses one flag's text or raises argparse's error naming it."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

INTEGER = re.compile(r"[+-]?\d+")


def param_value(text: str):
    """``"3"`` → 3, ``"0.5"`` → 0.5, anything else stays a string (choice parameters)."""
    if INTEGER.fullmatch(text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


def param_pair(text: str) -> tuple[str, object]:
    name, sep, raw = text.partition("=")
    if not sep or not name.strip() or raw == "":
        raise argparse.ArgumentTypeError(f"expected name=value, got {text!r}")
    return name.strip(), param_value(raw.strip())


def optimizer_spec(text: str) -> tuple[str, dict]:
    """``'momentum:lr=0.04,momentum=0.7'`` → ``('momentum', {'lr': 0.04, 'momentum': 0.7})``."""
    name, _, rest = text.partition(":")
    name = name.strip()
    if not name:
        raise argparse.ArgumentTypeError(f"expected name[:param=value,…], got {text!r}")
    params = dict(param_pair(p) for p in rest.split(",") if p.strip()) if rest.strip() else {}
    return name, params


def view_box(text: str) -> tuple[float, float, float, float]:
    parts = text.split(",")
    try:
        if len(parts) != 4:
            raise ValueError
        return tuple(float(p) for p in parts)  # type: ignore[return-value]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected xmin,xmax,ymin,ymax (four numbers), got {text!r}") from None


def start_point(text: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        return float(parts[0]), float(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected x,y (two numbers), got {text!r}") from None


def int_in(low: int, high: int):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if not low <= v <= high:
            raise argparse.ArgumentTypeError(f"expected {low} ≤ value ≤ {high}, got {v}")
        return v
    return parse


def positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not v > 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return v


def finite_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def out_file(text: str) -> Path:
    p = Path(text)
    if p.suffix.lower() not in (".html", ".htm", ".png"):
        raise argparse.ArgumentTypeError(f"{text!r}: the file must end in .html or .png")
    return p


def video_file(text: str) -> Path:
    p = Path(text)
    if p.suffix.lower() not in (".gif", ".mp4", ".webm"):
        raise argparse.ArgumentTypeError(f"{text!r}: the file must end in .gif, .mp4 or .webm")
    return p
