"""The race as an animation: GIF, MP4 or WebM frames drawn as the page draws them.

Each frame shows what the page shows at one iteration of Play: the contour with every
run's path so far (its current point ringed in white), the start ★ and the surface's
minima and saddles, and beside it the loss against iteration, in the page's colours and
names. Frames are drawn with matplotlib (Agg) and encoded by a maintained library:
imageio's Pillow plugin for GIF, imageio-ffmpeg (its own ffmpeg binary, H.264 or VP9)
for MP4 and WebM. Both come with ``pip install 'losslab[video]'``.

Drawing is incremental: the contour, axes and labels are drawn once, and each frame
restores that background and draws only the paths (about 5 ms a frame at 1280 × 720).

>>> import losslab as ll, imageio.v3 as iio, tempfile, pathlib
>>> scene = ll.Scene("quadratic", lambda_1=1, lambda_2=10).add("gd", lr=0.1).replace(steps=20)
>>> out = pathlib.Path(tempfile.mkdtemp()) / "race.gif"
>>> info = render(scene, out, size=(480, 270))
>>> info.frames, info.size
(21, (480, 270))
>>> iio.imread(out, index=None).shape
(21, 270, 480, 3)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import numpy as np

if TYPE_CHECKING:
    from losslab.api import Result, Scene

#: Output formats by file suffix, with what the browser calls them.
FORMATS = {".gif": "image/gif", ".mp4": "video/mp4", ".webm": "video/webm"}
#: Limits of one render (the CLI's and the server's): frames, frames per second, pixels per side.
MAX_FRAMES = 1000
FPS_RANGE = (1, 60)
WIDTH_RANGE = (160, 1920)
HEIGHT_RANGE = (120, 1080)
DEFAULT_FPS = 30
DEFAULT_SIZE = (1280, 720)

# The page's look (static/css/app.css, static/js/charts/*.js): text colour, card background,
# the start's star, the marks' white.
INK = "#1f2933"
MUTED = "#52606d"
PAPER = "#f5f7fa"
CARD = "#ffffff"
START = "#ffd166"


class RenderError(ValueError):
    """A render that cannot be made as asked (a format, a size, too many frames); the message says why."""


@dataclass(frozen=True)
class RenderInfo:
    """What was written: the file, its frame count and size, the steps each frame shows, and the time taken."""

    path: Path | None
    frames: int
    size: tuple[int, int]
    fps: int
    cursors: tuple[int, ...]
    seconds: float
    format: str


def _rgb(hex_: str) -> tuple[int, int, int]:
    return tuple(int(hex_[i:i + 2], 16) for i in (1, 3, 5))


def check_options(fmt: str, fps: int, size: tuple[int, int]) -> None:
    """Raise :class:`RenderError` naming the option, its value and what is allowed."""
    if fmt not in FORMATS:
        raise RenderError(f"format {fmt!r} is not supported: use one of {', '.join(FORMATS)}")
    if not (isinstance(fps, int) and FPS_RANGE[0] <= fps <= FPS_RANGE[1]):
        raise RenderError(f"fps = {fps!r} is not allowed: an integer with {FPS_RANGE[0]} ≤ fps ≤ {FPS_RANGE[1]}")
    w, h = size
    if not (WIDTH_RANGE[0] <= w <= WIDTH_RANGE[1] and HEIGHT_RANGE[0] <= h <= HEIGHT_RANGE[1]):
        raise RenderError(f"size = {w}x{h} is not allowed: a width from {WIDTH_RANGE[0]} to {WIDTH_RANGE[1]} and a "
                          f"height from {HEIGHT_RANGE[0]} to {HEIGHT_RANGE[1]} pixels")
    if fmt in (".mp4", ".webm") and (w % 2 or h % 2):
        raise RenderError(f"size = {w}x{h} is not allowed for {fmt}: video needs an even width and height")


def parse_size(text: str) -> tuple[int, int]:
    """``"1280x720"`` → ``(1280, 720)``."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        raise RenderError(f"size {text!r} is not WIDTHxHEIGHT, e.g. 1280x720") from None
    return w, h


def cursors_for(max_steps: int, max_frames: int = MAX_FRAMES) -> list[int]:
    """The iteration each frame shows: every step 0…N when they fit, else an even thinning keeping both ends.

    >>> cursors_for(3)
    [0, 1, 2, 3]
    >>> cursors_for(10, max_frames=4)
    [0, 3, 7, 10]
    """
    if max_steps + 1 <= max_frames:
        return list(range(max_steps + 1))
    return [round(k * max_steps / (max_frames - 1)) for k in range(max_frames)]


# --- drawing --------------------------------------------------------------------

class _Painter:
    """The page's contour and loss plots side by side on one matplotlib figure, redrawn per cursor."""

    def __init__(self, result: "Result", size: tuple[int, int], *, title: str | None = None):
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        from losslab import figures

        self.result = result
        scene = result.scene
        surf = scene.engine_surface
        w, h = size
        dpi = 100
        scale = max(0.6, min(w / 1280, h / 720)) * 1.25  # type grows with the frame, as for a projector
        self.fig = Figure(figsize=(w / dpi, h / dpi), dpi=dpi, facecolor=PAPER)
        self.canvas = FigureCanvasAgg(self.fig)
        fs = 11 * scale
        view = tuple(surf.view)
        x0, x1, y0, y1 = view
        xs, ys, z, f, label = figures._grid(scene, figures.GRID_N, view)
        zt = f(z)

        # Contour (left, square-ish) and loss (right), each on a white card with the page's caption.
        top = 1 - (0.16 if title else 0.11) * min(1.0, 720 / h) ** 0.5
        self.ax = self.fig.add_axes((0.06, 0.1, 0.44, top - 0.16))
        self.lax = self.fig.add_axes((0.65, 0.1, 0.32, top - 0.16))
        for ax, caption in ((self.ax, "Contour and trajectories"), (self.lax, "Loss against iteration")):
            ax.set_facecolor(CARD)
            ax.tick_params(labelsize=fs * 0.85, colors=INK)
            for s in ax.spines.values():
                s.set_color("#cbd2d9")
            ax.text(0, 1.0, caption, transform=ax.transAxes, fontsize=fs * 1.05, color=MUTED,
                    va="bottom", ha="left", fontweight="bold").set_y(1.09 if ax is self.ax else 1.02)
        if title:
            self.fig.text(0.5, 0.975, title, ha="center", va="top", fontsize=fs * 1.15, color=INK)

        finite = np.isfinite(zt)
        lo, hi = (float(zt[finite].min()), float(zt[finite].max())) if finite.any() else (0.0, 1.0)
        im = self.ax.imshow(np.where(finite, zt, np.nan), extent=(x0, x1, y0, y1), origin="lower", cmap="viridis",
                            vmin=lo, vmax=hi, aspect="equal", interpolation="bilinear")
        if finite.any() and hi > lo:
            self.ax.contour(xs, ys, np.where(finite, zt, np.nan), levels=np.linspace(lo, hi, 28), colors="white",
                            linewidths=0.5 * scale, alpha=0.35)
        cb = self.fig.colorbar(im, ax=self.ax, fraction=0.046, pad=0.02)
        cb.set_label(label, fontsize=fs * 0.9, color=INK)
        cb.ax.tick_params(labelsize=fs * 0.8)
        self.ax.set_xlim(x0, x1)
        self.ax.set_ylim(y0, y1)
        self.ax.set_xlabel("x", fontsize=fs, color=INK)
        self.ax.set_ylabel("y", fontsize=fs, color=INK)
        for pts, marker, size_ in ((surf.minima, "x", 12), (surf.saddles, "D", 9)):
            if pts:
                p = np.asarray(pts, dtype=float)
                self.ax.plot(p[:, 0], p[:, 1], ls="none", marker=marker, ms=size_ * scale * 0.8,
                             mec="white", mfc="none", mew=2.5 * scale * 0.8, zorder=3)
        sx, sy = scene.start_point
        # Drawn over the paths each frame, as the page draws it last.
        (self.start_mark,) = self.ax.plot([sx], [sy], ls="none", marker="*", ms=18 * scale * 0.8, mfc=START, mec=INK,
                                          mew=1.2, zorder=6, animated=True)

        # The loss axis: log when every loss is positive, over all the steps the race takes.
        self.max_steps = max((len(r.points) - 1 for r in result), default=0)
        losses = np.concatenate([r.losses for r in result]) if len(result) else np.array([1.0])
        losses = losses[np.isfinite(losses)]
        positive = losses.size and losses.min() > 0
        self.lax.set_yscale("log" if positive else "linear")
        if losses.size:
            a, b = float(losses.min()), float(losses.max())
            if positive:
                self.lax.set_ylim(a / 2, b * 2)
            else:
                pad = (b - a) * 0.05 or 1.0
                self.lax.set_ylim(a - pad, b + pad)
        self.lax.set_xlim(0, max(1, self.max_steps))
        self.lax.set_xlabel("iteration", fontsize=fs, color=INK)
        self.lax.set_ylabel("loss", fontsize=fs, color=INK)
        self.lax.grid(True, color="#e4e7eb", lw=0.8)

        # Animated artists: drawn over the background each frame.
        from losslab.figures import color_of

        self.paths, self.heads, self.curves = [], [], []
        for r in result:
            c = color_of(r.index)
            (path,) = self.ax.plot([], [], color=c, lw=2.5 * scale * 0.8, marker="o", ms=3 * scale, label=r.label,
                                   animated=True, zorder=4)
            (head,) = self.ax.plot([], [], ls="none", marker="o", ms=10 * scale * 0.8, mfc=c, mec="white",
                                   mew=2 * scale * 0.8, animated=True, zorder=5)
            (curve,) = self.lax.plot([], [], color=c, lw=2 * scale * 0.8, label=r.label, animated=True)
            self.paths.append(path)
            self.heads.append(head)
            self.curves.append(curve)
        self.legend = self.ax.legend(handles=self.paths, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=min(3, len(self.paths)) or 1,
                                     frameon=False, fontsize=fs * 0.9, borderaxespad=0.2, handlelength=1.5,
                                     columnspacing=1.0)
        for t in self.legend.get_texts():
            t.set_color(INK)
        self.counter = self.fig.text(0.97, 0.975, "", ha="right", va="top", fontsize=fs, color=MUTED, animated=True)
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)

    def pixel(self, x: float, y: float) -> tuple[int, int]:
        """Where the data point (x, y) is drawn: (column, row) from the frame's top-left corner."""
        px, py = self.ax.transData.transform((x, y))
        return int(round(px)), int(round(self.fig.bbox.height - py))

    def frame(self, cursor: int) -> np.ndarray:
        """The picture at iteration ``cursor``, as an (h, w, 4) RGBA uint8 array (alpha 255)."""
        self.canvas.restore_region(self.background)
        for r, path, head, curve in zip(self.result, self.paths, self.heads, self.curves):
            k = min(cursor, len(r.points) - 1)
            pts = r.points[: k + 1]
            path.set_data(pts[:, 0], pts[:, 1])
            path.set_marker("o" if len(r.points) < 150 else "")
            head.set_data(pts[-1:, 0], pts[-1:, 1])
            curve.set_data(np.arange(k + 1), r.losses[: k + 1])
            self.ax.draw_artist(path)
            self.ax.draw_artist(head)
            self.lax.draw_artist(curve)
        self.ax.draw_artist(self.start_mark)
        self.counter.set_text(f"iteration {min(cursor, self.max_steps)} of {self.max_steps}")
        self.fig.draw_artist(self.counter)
        return np.array(self.canvas.buffer_rgba())  # one contiguous copy; dropping alpha here costs 10× more


def marks(result: "Result", size: tuple[int, int] = DEFAULT_SIZE, *, title: str | None = None) -> dict:
    """Where a frame of ``size`` shows the start and each run's last point (pixels), with the colours drawn there.

    For checking a decoded animation: the first frame has the start's star, the last each run's
    ringed end. ``ends`` lists ``(pixel, colour, clear)``; ``clear`` is False where a later run's
    path (drawn over it, as on the page) passes within 8 pixels.
    """
    from losslab.figures import color_of

    painter = _Painter(result, size, title=title)
    runs = list(result)
    pix = [np.array([painter.pixel(*p) for p in r.points], dtype=float) for r in runs]

    def near(point, path) -> float:
        if len(path) == 1:
            return float(np.hypot(*(path[0] - point)))
        a, b = path[:-1], path[1:]
        ab = b - a
        t = np.clip(np.einsum("ij,ij->i", point - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12), 0, 1)
        return float(np.hypot(*(a + t[:, None] * ab - point).T).min())

    ends = []
    for i, r in enumerate(runs):
        end = pix[i][-1]
        clear = all(near(end, pix[j]) > 8 for j in range(i + 1, len(runs)))
        ends.append((painter.pixel(*r.points[-1]), color_of(r.index), clear))
    return {"start": (painter.pixel(*result.scene.start_point), START), "ends": ends}


def frames(result: "Result", size: tuple[int, int] = DEFAULT_SIZE, *, cursors=None,
           title: str | None = None) -> Iterator[np.ndarray]:
    """Yield the race's frames, one per entry of ``cursors`` (default: every step)."""
    painter = _Painter(result, size, title=title)
    for c in cursors if cursors is not None else cursors_for(painter.max_steps):
        yield painter.frame(c)


# --- encoding -------------------------------------------------------------------

def _write(target, fmt: str, images: Iterator[np.ndarray], fps: int, size: tuple[int, int]) -> int:
    """Encode ``images`` to ``target`` (a path or a binary file) in ``fmt``; returns the frame count."""
    n = 0
    if fmt == ".gif":
        # One palette for the whole animation (from the first and last frames) keeps the colours
        # steady from frame to frame, and Pillow then stores only what changed.
        from PIL import Image

        pil = []
        palette = None
        buf = list(images)
        n = len(buf)
        # The marks' colours (runs, start, white, ink) get palette entries of their own: they cover
        # few pixels, and median cut would otherwise fold them into the contour's nearest colour.
        from losslab.figures import PALETTE

        w = buf[0].shape[1]
        swatches = [np.broadcast_to(np.array([*_rgb(c), 255], dtype=np.uint8), (24, w, 4))
                    for c in (*PALETTE, START, INK, "#ffffff")]
        sample = np.concatenate([buf[0], buf[-1], *swatches], axis=0)
        palette = Image.fromarray(sample).convert("RGB").quantize(colors=255, method=Image.Quantize.MEDIANCUT)
        for a in buf:
            pil.append(Image.fromarray(a).convert("RGB").quantize(palette=palette, dither=Image.Dither.NONE))
        frame_ms = 1000 / fps
        durations = [frame_ms] * n
        durations[-1] = max(frame_ms, 1500)  # hold the end a moment before the loop starts again
        pil[0].save(target, format="GIF", save_all=True, append_images=pil[1:], duration=durations, loop=0,
                    optimize=False, disposal=1)
        return n
    codec = {".mp4": "libx264", ".webm": "libvpx-vp9"}[fmt]
    extra = {".mp4": ["-preset", "veryfast", "-crf", "20", "-movflags", "+faststart"],
             ".webm": ["-deadline", "realtime", "-cpu-used", "8", "-b:v", "0", "-crf", "32", "-row-mt", "1"]}[fmt]
    import imageio_ffmpeg

    w, h = size
    writer = imageio_ffmpeg.write_frames(str(target), (w, h), fps=fps, codec=codec, pix_fmt_in="rgba",
                                         pix_fmt_out="yuv420p", macro_block_size=2, output_params=extra,
                                         ffmpeg_log_level="error")
    writer.send(None)
    try:
        for a in images:
            writer.send(np.ascontiguousarray(a))
            n += 1
    finally:
        writer.close()
    return n


def render(obj: "Scene | Result", out: str | Path, *, fps: int = DEFAULT_FPS, size: tuple[int, int] = DEFAULT_SIZE,
           steps: int | None = None, title: str | None = None, max_frames: int = MAX_FRAMES) -> RenderInfo:
    """Write the race of a scene (or of runs already made) to ``out``: ``.gif``, ``.mp4`` or ``.webm``.

    One frame per step from the start (step 0) to the last step, thinned evenly to at most
    ``max_frames``; at ``fps`` frames a second. The GIF loops and holds its last frame 1.5 s.

    Args:
      obj: a :class:`~losslab.Scene` (run here for ``steps``, default its own) or a :class:`~losslab.Result`.
      out: the file; its suffix picks the format.
      fps: frames per second, 1–60.
      size: ``(width, height)`` in pixels.
      title: a line above the plots (none by default).
    """
    from losslab.api import Result

    t0 = time.perf_counter()
    out = Path(out)
    fmt = out.suffix.lower()
    check_options(fmt, fps, size)
    result = obj if isinstance(obj, Result) else obj.run(steps)
    painter = _Painter(result, size, title=title)
    cursors = cursors_for(painter.max_steps, max_frames)
    images = (painter.frame(c) for c in cursors)
    n = _write(out, fmt, images, fps, size)
    return RenderInfo(out, n, tuple(size), fps, tuple(cursors), time.perf_counter() - t0, fmt)


def render_bytes(obj: "Scene | Result", fmt: str, **kwargs) -> tuple[bytes, RenderInfo]:
    """:func:`render` into memory (for the server's /api/render): the file's bytes and what was written."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="losslab-render-") as d:
        path = Path(d) / f"race{fmt}"
        info = render(obj, path, **kwargs)
        return path.read_bytes(), RenderInfo(None, info.frames, info.size, info.fps, info.cursors, info.seconds, fmt)


def available() -> str | None:
    """None when rendering works here; else what to install."""
    try:
        import imageio  # noqa: F401
        import imageio_ffmpeg  # noqa: F401
        import matplotlib  # noqa: F401
    except ImportError as e:
        return f"rendering needs {e.name}, which is not installed: pip install 'losslab[video]'"
    return None

