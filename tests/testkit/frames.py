"""Decode an exported animation and check what its frames show (tests of losslab render and Record)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def decode(path: str | Path) -> np.ndarray:
    """Every frame of a GIF, MP4 or WebM as an (n, h, w, 3) uint8 array (imageio: Pillow or ffmpeg)."""
    import imageio.v3 as iio

    path = Path(path)
    plugin = "pillow" if path.suffix.lower() == ".gif" else "FFMPEG"
    frames = iio.imread(path, index=None, plugin=plugin)
    return np.asarray(frames)[..., :3]


def rgb(hex_: str) -> np.ndarray:
    return np.array([int(hex_[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


def colour_at(frame: np.ndarray, pixel: tuple[int, int], r: int = 1) -> np.ndarray:
    """Mean colour of the (2r+1)² pixels around (column, row)."""
    c, row = pixel
    return frame[row - r:row + r + 1, c - r:c + r + 1].reshape(-1, 3).astype(float).mean(axis=0)


def shows(frame: np.ndarray, pixel: tuple[int, int], hex_: str, tol: float = 45.0) -> bool:
    """Whether the frame has this colour at this pixel (within ``tol`` per channel: video is lossy)."""
    return bool(np.abs(colour_at(frame, pixel) - rgb(hex_)).max() <= tol)


def distance(frame: np.ndarray, pixel: tuple[int, int], hex_: str) -> float:
    return float(np.abs(colour_at(frame, pixel) - rgb(hex_)).max())


def ringed(frame: np.ndarray, pixel: tuple[int, int], r0: int = 2, r1: int = 8) -> bool:
    """Whether a white ring (the current point's edge) surrounds (column, row): white pixels on most sides."""
    c, row = pixel
    ys, xs = np.mgrid[-r1:r1 + 1, -r1:r1 + 1]
    d = np.hypot(xs, ys)
    patch = frame[row - r1:row + r1 + 1, c - r1:c + r1 + 1].astype(float)
    white = (patch.min(axis=-1) >= 175) & (d >= r0) & (d <= r1)
    angles = np.arctan2(ys[white], xs[white])
    return len(np.unique(np.floor((angles + np.pi) / (np.pi / 4)))) >= 6  # white in at least 6 of 8 directions


def check_start_and_end(frames: np.ndarray, marks: dict, tol: float = 45.0) -> None:
    """The first frame shows the start (its star) and no run's end yet; the last shows every run's end
    (those no later run's path covers): its colour ringed in white, as the page draws a current point."""
    first, last = frames[0], frames[-1]
    (start, star) = marks["start"]
    assert shows(first, start, star, tol), f"no start star at {start}: {colour_at(first, start)}"
    clear = [(pixel, colour) for pixel, colour, ok in marks["ends"] if ok]
    assert clear, "every run's end is covered by another run's path: pick another scene"
    for pixel, colour in clear:
        assert distance(last, pixel, colour) <= tol, f"the last frame has no {colour} end at {pixel}: {colour_at(last, pixel)}"
        assert ringed(last, pixel), f"the last frame's {colour} end at {pixel} has no white ring"
        assert not ringed(first, pixel), f"the first frame already has a ringed point at {pixel}"
