"""The ``losslab`` command: serve the page, run a scene, draw an (η, β) map, render the race, list the lessons.

Exit codes: 0 done; 1 a user error (a bad parameter, a link the page cannot open, a
file that cannot be written), one line on stderr; 2 a usage error (unknown flag,
malformed value), from argparse; 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
import warnings
from typing import TYPE_CHECKING

from losslab.cli_args import (finite_float, int_in, optimizer_spec, out_file, param_pair, positive_float, start_point,
                              video_file, view_box)

if TYPE_CHECKING:
    from losslab.api import Scene

EPILOG_RUN = """\
examples:
  losslab run                                   the page's opening scene, as CSV
  losslab run --surface rosenbrock --start=-1.5,2 --optimizer 'adam:lr=0.1' --steps 500
  losslab run --param lambda_2=50 --optimizer gd:lr=0.039 --optimizer 'momentum:lr=0.04,momentum=0.7'
  losslab run --url 'http://127.0.0.1:8000/#s=quadratic:…' --format json
  losslab run --lesson momentum
  losslab run --formula '(1 - x)**2 + 100*(y - x**2)**2' --view -2,2,-1,3 --start -1.5,2 --optimizer newton
                                                your own surface, as the page's "Your own formula…"

Anything left out takes the page's default, as in a link without it.
CSV and JSON are byte for byte the page's "Export CSV" and "Export JSON".
"""

EPILOG_SWEEP = """\
examples:
  losslab sweep --out map.html                  momentum on the page's opening quadratic
  losslab sweep --param lambda_2=100 --lr-min 1e-3 --lr-max 0.05 --out map.png
  losslab sweep --url 'http://127.0.0.1:8000/#s=…' --optimizer nesterov --out nesterov.html
  losslab sweep --optimizer gd --out gd.html     a step-size line (GD has no β)

Each cell runs from the start until ‖∇f‖ < tol or for --steps steps. On the quadratic
the analytic heavy-ball rate is drawn beside the measured map (GD and momentum).
"""

EPILOG_TUNE = """\
examples:
  losslab tune                                  the page's opening race, tuned (as its Tune button)
  losslab tune --surface rosenbrock --start=-1.5,2 --optimizer gd --optimizer adam --steps 500 --tol 1e-4
  losslab tune --url 'http://127.0.0.1:8000/#s=…' --ring 8 --format url
                                                the tuned race as a page link, median over 9 starts

Every optimizer gets the best step size η (and momentum β, where it has one) on a log grid:
the fewest steps until ‖∇f‖ < TOL within --steps, ties to the more forgiving setting. JSON is
the body POST /api/tune answers for the same scene.
"""


EPILOG_RENDER = """\
examples:
  losslab render --url 'http://127.0.0.1:8000/#s=quadratic:…' --out race.gif
  losslab render --lesson momentum --out momentum.mp4 --fps 30 --size 1920x1080
  losslab render --surface rosenbrock --start=-1.5,2 --optimizer adam:lr=0.1 --steps 300 --out adam.webm

One frame per step from the start to the last step (thinned evenly past 1000 frames);
the GIF loops and holds its last frame for 1.5 s. Needs pip install 'losslab[video]'.
"""


class UserError(Exception):
    """A mistake of the user's that is not a bad parameter: reported on one line, exit 1."""


# --- the parser -----------------------------------------------------------------

def _scene_flags(p: argparse.ArgumentParser, optimizer_help: str, repeat_optimizer: bool) -> None:
    from losslab import _page
    import engine

    src = p.add_argument_group("the scene (a page link, a lesson, or flags)")
    src.add_argument("--url", help="a link copied from the page (its #… part is read as the page reads it)")
    src.add_argument("--lesson", metavar="ID", help="a lesson's scene (see 'losslab lessons')")
    src.add_argument("--surface", help=f"one of {', '.join(engine.SURFACES)} (default quadratic), "
                                       "or custom for --formula")
    src.add_argument("--param", action="append", type=param_pair, default=[], metavar="NAME=VALUE",
                     help="a surface parameter; repeatable")
    src.add_argument("--formula", metavar="F", help="your own surface f(x, y), e.g. 'x**2 + 3*y**2' "
                     "(the custom surface; the functions allowed are those of the page)")
    src.add_argument("--view", type=view_box, metavar="XMIN,XMAX,YMIN,YMAX",
                     help="the custom surface's box (default -3,3,-3,3); the start is kept near it")
    src.add_argument("--start", type=start_point, metavar="X,Y", help="start point")
    src.add_argument("--optimizer", action="append" if repeat_optimizer else "store", type=optimizer_spec,
                     metavar="NAME[:P=V,…]", help=optimizer_help)
    src.add_argument("--seed", type=int_in(*_page.SEEDS), help="seed of sgd's batches and noise (default 0)")


def build_parser() -> argparse.ArgumentParser:
    from losslab import _page
    parser = argparse.ArgumentParser(
        prog="losslab", description="Loss Lab: watch optimizers walk 2D loss surfaces, from the shell.",
        epilog="Run 'losslab COMMAND --help' for a command's flags.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("serve", help="serve the page (uvicorn app.main:app)", description="Serve the Loss Lab page.")
    p.add_argument("--host", help="address to bind (default: LOSSLAB_HOST or 127.0.0.1)")
    p.add_argument("--port", type=int_in(1, 65535), help="port (default: LOSSLAB_PORT or 8000)")
    p.add_argument("--reload", action="store_true", help="restart when the code changes (development)")
    p.add_argument("--open", action="store_true", help="open the page in a browser once the server is up")
    p.set_defaults(func=cmd_serve, parser=p)

    p = sub.add_parser("run", help="run a scene and print its trajectories (CSV or JSON)",
                       description="Run a scene and print every trajectory on stdout.", epilog=EPILOG_RUN,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _scene_flags(p, "an optimizer with its parameters, e.g. 'momentum:lr=0.04,momentum=0.7'; repeatable", True)
    p.add_argument("--steps", type=int_in(*_page.STEPS), help="most steps per run (default 100, or the link's)")
    p.add_argument("--tol", type=finite_float, default=None,
                   help=f"stop a run once ‖∇f‖ < TOL (default {_page.DEFAULT_SCENE['tol']:g} as on the page, or the "
                        "link's; 0: never)")
    p.add_argument("--format", choices=("csv", "json"), default="csv", help="output format (default csv)")
    p.set_defaults(func=cmd_run, parser=p)

    p = sub.add_parser("sweep", help="draw an (η, β) map to an HTML or PNG file",
                       description="Sweep step size η (and momentum β) and draw the map.", epilog=EPILOG_SWEEP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=out_file, required=True, metavar="FILE", help="FILE.html, or FILE.png (needs kaleido)")
    _scene_flags(p, "the optimizer and its other parameters (default momentum), e.g. 'sgd:noise=0.1'", False)
    axes = p.add_argument_group("the axes")
    axes.add_argument("--lr-min", type=positive_float, help="smallest η (default: 0.05/λmax on the quadratic, else 1e-3)")
    axes.add_argument("--lr-max", type=positive_float, help="largest η (default: 4/λmax on the quadratic, else 1)")
    axes.add_argument("--lr-n", type=int_in(1, 500), default=50, help="step sizes, log-spaced (default 50)")
    axes.add_argument("--beta-min", type=finite_float, help="smallest β (default 0)")
    axes.add_argument("--beta-max", type=finite_float, help="largest β (default 0.99)")
    axes.add_argument("--beta-n", type=int_in(1, 500), help="momenta, evenly spaced (default 50)")
    axes.add_argument("--no-beta", action="store_true", help="sweep η alone even for an optimizer with momentum")
    p.add_argument("--steps", type=int_in(1, 1_000_000), default=200, help="most steps per cell (default 200)")
    p.add_argument("--tol", type=positive_float, default=1e-6, help="a cell converges once ‖∇f‖ < TOL (default 1e-6)")
    p.add_argument("--metric", choices=("steps", "loss"), default="steps",
                   help="colour by steps to the tolerance or by log₁₀ final loss (default steps)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal and the sweep is long)")
    p.set_defaults(func=cmd_sweep, parser=p)

    p = sub.add_parser("tune", help="tune every optimizer's step size (and momentum) of a race",
                       description="Tune the race: each optimizer's best η (and β), its curve, edge and forgiveness.",
                       epilog=EPILOG_TUNE, formatter_class=argparse.RawDescriptionHelpFormatter)
    _scene_flags(p, "an optimizer of the race with its parameters; repeatable (default: the page's race)", True)
    p.add_argument("--steps", type=int_in(1, 1_000_000), help="the budget per run (default 100, or the link's)")
    p.add_argument("--tol", type=positive_float, default=None,
                   help="the goal ‖∇f‖ < TOL (default: the scene's, 1e-4 as on the page, or the link's)")
    p.add_argument("--ring", type=int_in(0, 16), default=0, help="extra starts on a circle around the start; "
                   "the criterion is the median over all (default 0)")
    p.add_argument("--ring-radius", type=positive_float, default=None,
                   help="the circle's radius as a fraction of the view (default 0.1)")
    p.add_argument("--format", choices=("text", "json", "url"), default="text",
                   help="a table, the API's JSON, or a page link to the tuned race (default text)")
    p.set_defaults(func=cmd_tune, parser=p)
    p = sub.add_parser("render", help="the race as an animation (GIF, MP4 or WebM) for slides",
                       description="Play a scene and write it as an animation, drawn as the page draws it: the "
                                   "contour with the runs and the loss against iteration, side by side.",
                       epilog=EPILOG_RENDER, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=video_file, required=True, metavar="FILE", help="race.gif, race.mp4 or race.webm")
    _scene_flags(p, "an optimizer with its parameters; repeatable (default: the page's two)", True)
    p.add_argument("--steps", type=int_in(1, 100_000), help="steps to play (default 100, or the link's)")
    p.add_argument("--fps", type=int_in(1, 60), default=30, help="frames per second (default 30); one frame a step")
    p.add_argument("--size", default="1280x720", metavar="WxH", help="frame size in pixels (default 1280x720)")
    p.add_argument("--title", help="a line of text above the plots (default none)")
    p.set_defaults(func=cmd_render, parser=p)

    p = sub.add_parser("lessons", help="list the page's lessons", description="List the lessons of the page.")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    p.set_defaults(func=cmd_lessons, parser=p)
    return parser


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("losslab")
    except Exception:  # not installed (running from a checkout)
        return "unknown"


# --- commands -------------------------------------------------------------------

def _scene(args, parser_error) -> Scene:
    """The scene the flags describe; parts left out take the page's defaults."""
    from losslab import _page
    from losslab.api import Scene

    flags = [f for f in ("surface", "param", "formula", "view", "start", "optimizer") if getattr(args, f) is not None
             and getattr(args, f) != []]
    if args.url is not None and args.lesson is not None:
        parser_error("--url and --lesson each give a whole scene: use one")
    if args.url is not None or args.lesson is not None:
        own = [f for f in flags if f != "optimizer" or args.command in ("run", "render", "tune")]
        if own:
            given = "--url" if args.url is not None else "--lesson"
            parser_error(f"{given} gives the whole scene; leave out {', '.join('--' + f for f in own)}")
        scene = Scene.from_url(args.url) if args.url is not None else Scene.from_lesson(
            int(args.lesson) if args.lesson.isdigit() else args.lesson)
    else:
        d = _page.DEFAULT_SCENE
        custom = {k: v for k, v in (("formula", args.formula), ("view", args.view)) if v is not None}
        if custom and args.surface not in (None, _page.CUSTOM):
            parser_error(f"{' and '.join('--' + k for k in custom)} {'go' if len(custom) > 1 else 'goes'} only with "
                         f"the custom surface: leave out --surface {args.surface}")
        if args.surface or args.param or custom:
            scene = Scene(args.surface or (_page.CUSTOM if custom else "quadratic"), **dict(args.param), **custom)
        else:
            scene = Scene(d["surface"], **d["surfaceParams"])
        if args.start:
            scene = scene.start(*args.start)
        if args.command in ("run", "render", "tune"):
            # The page's opening race; on another surface as the page shows it once that surface is chosen.
            opening = d if scene.surface == d["surface"] else _page.apply_surface(d, scene.engine_surface.describe())
            for name, params in args.optimizer or [(o["name"], o["params"]) for o in opening["optimizers"]]:
                scene = scene.add(name, **params)
    if args.seed is not None:
        scene = scene.replace(seed=args.seed)
    return scene


def cmd_run(args, parser) -> int:
    scene = _scene(args, parser.error)
    result = scene.run(args.steps, tol=args.tol)
    text = result.to_csv() if args.format == "csv" else result.to_json() + "\n"
    sys.stdout.write(text)
    sys.stdout.flush()
    return 0


def cmd_sweep(args, parser) -> int:
    import numpy as np

    import engine
    from losslab.api import default_lrs

    png = args.out.suffix.lower() == ".png"
    if png and importlib.util.find_spec("kaleido") is None:
        raise UserError(f"writing {args.out.name} needs kaleido, which is not installed: write --out "
                        f"{args.out.with_suffix('.html').name} instead, or pip install 'losslab[png]'")
    scene = _scene(args, parser.error)
    name, params = args.optimizer or ("momentum", {})
    beta_flags = any(v is not None for v in (args.beta_min, args.beta_max, args.beta_n))
    if args.no_beta and beta_flags:
        parser.error("--no-beta cannot go with --beta-min, --beta-max or --beta-n")
    engine.get_spec(name)  # an unknown optimizer fails here, before any work
    lrs = default_lrs(scene, name, args.lr_n)
    if args.lr_min is not None or args.lr_max is not None:
        lo = args.lr_min if args.lr_min is not None else float(lrs[0])
        hi = args.lr_max if args.lr_max is not None else float(lrs[-1])
        if lo > hi:
            raise UserError(f"--lr-min {lo:g} is larger than --lr-max {hi:g}")
        lrs = np.geomspace(lo, hi, args.lr_n)
    betas = None
    if not args.no_beta and (engine.get_spec(name).capabilities.beta or beta_flags):
        b0 = 0.0 if args.beta_min is None else args.beta_min
        b1 = 0.99 if args.beta_max is None else args.beta_max
        if b0 > b1:
            raise UserError(f"--beta-min {b0:g} is larger than --beta-max {b1:g}")
        betas = np.linspace(b0, b1, 50 if args.beta_n is None else args.beta_n)
    cells = len(lrs) * (1 if betas is None else len(betas))
    progress = args.progress
    if progress is None:
        progress = sys.stderr.isatty() and cells * args.steps >= 2_000_000
    m = scene.sweep(name, lrs=lrs, betas=betas, steps=args.steps, tol=args.tol, params=params, progress=progress)
    fig = m.figure(metric=args.metric)
    if png:
        try:
            fig.write_image(str(args.out), width=fig.layout.width, height=fig.layout.height)
        except OSError:
            raise
        except Exception as e:  # kaleido's own errors (no Chrome, a failed render) as one line
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise UserError(f"could not write {args.out} with kaleido ({type(e).__name__}: {first}); "
                            f"write --out {args.out.with_suffix('.html').name} instead") from None
    else:
        fig.write_html(str(args.out), include_plotlyjs=True)
    print(f"wrote {args.out}: {m!r}")
    return 0


def cmd_tune(args, parser) -> int:
    from engine.tune import RING_RADIUS

    scene = _scene(args, parser.error)
    t = scene.tune(args.steps, tol=args.tol, ring=args.ring,
                   ring_radius=RING_RADIUS if args.ring_radius is None else args.ring_radius)
    if args.format == "json":
        import json

        text = json.dumps(t.to_dict(), allow_nan=False) + "\n"
    elif args.format == "url":
        text = t.scene.to_url() + "\n"
    else:
        text = t.to_text()
    sys.stdout.write(text)
    sys.stdout.flush()
    return 0


def cmd_render(args, parser) -> int:
    from losslab import render

    missing = render.available()
    if missing:
        raise UserError(missing)
    try:
        size = render.parse_size(args.size)
        render.check_options(args.out.suffix.lower(), args.fps, size)
    except render.RenderError as e:
        raise UserError(str(e)) from None
    scene = _scene(args, parser.error)
    info = render.render(scene, args.out, fps=args.fps, size=size, steps=args.steps, title=args.title)
    print(f"wrote {args.out}: {info.frames} frames of {size[0]}x{size[1]} at {info.fps} fps "
          f"(steps {info.cursors[0]}–{info.cursors[-1]}) in {info.seconds:.1f} s")
    return 0


def cmd_lessons(args, parser) -> int:
    from losslab.api import lessons

    items = lessons()
    if args.format == "json":
        from losslab import _js

        sys.stdout.write(_js.stringify([l.to_dict() for l in items], 1) + "\n")
        return 0
    if not items:
        print("losslab: no lessons yet", file=sys.stderr)
        return 0
    width = max(len(l.id) for l in items)
    for l in items:
        print(f"{l.number:>2}. {l.id:<{width}}  {l.title}")
    print("\nopen one with: losslab run --lesson ID   (or in Python: losslab.Scene.from_lesson(ID))")
    return 0


def cmd_serve(args, parser) -> int:
    import threading

    import uvicorn

    from app.core.config import ROOT, get_settings
    from app.core.server import uvicorn_options

    s = get_settings()
    host = args.host or s.host
    port = args.port or s.port
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}/"
    print(f"Loss Lab: open {url}", flush=True)
    if args.open:
        threading.Thread(target=_open_when_up, args=(shown, port, url), daemon=True).start()
    options = dict(host=host, port=port, log_level="info", **uvicorn_options(s))
    if args.reload:
        options.update(reload=True, reload_dirs=[str(ROOT / d) for d in ("app", "engine") if (ROOT / d).is_dir()])
    else:
        options.update(workers=s.workers)
    uvicorn.run("app.main:app", **options)
    return 0


def _open_when_up(host: str, port: int, url: str, timeout: float = 30.0) -> None:
    """Open the browser once the port accepts connections (or give up after ``timeout``)."""
    import socket
    import time
    import webbrowser

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.1)
    else:
        return
    webbrowser.open(url)


# --- entry point ----------------------------------------------------------------

_NEGATIVE_POINT = re.compile(r"-[\d.][^,]*,.+")


def _join_negative_start(argv: list[str]) -> list[str]:
    """Let ``--start -2,-0.5`` mean ``--start=-2,-0.5`` (argparse takes ``-2,…`` for an option),
    and so ``--view -2,2,-1,3`` and ``--formula -x**2`` (a formula may start with a minus)."""
    out: list[str] = []
    for i, tok in enumerate(argv):
        prev = out[-1] if out else None
        joined = ((prev in ("--start", "--view") and _NEGATIVE_POINT.fullmatch(tok))
                  or (prev == "--formula" and tok.startswith("-") and not tok.startswith("--")))
        if joined and "--" not in argv[:i]:
            out[-1] = f"{prev}={tok}"
        else:
            out.append(tok)
    return out


def _fail(message: str, code: int = 1) -> int:
    print(f"losslab: error: {' '.join(str(message).split())}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    parser = build_parser()
    args = parser.parse_args(_join_negative_start(sys.argv[1:] if argv is None else list(argv)))
    from engine.params import ParamError
    from losslab._page import LinkError

    error = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", category=UserWarning)
        try:
            code = args.func(args, args.parser)
        except (ParamError, LinkError, UserError) as e:
            code, error = 1, str(e)
        except BrokenPipeError:
            # The reader went away (e.g. `| head`): stop quietly, as cat does.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
        except OSError as e:
            where = f" {e.filename}" if getattr(e, "filename", None) else ""
            code, error = 1, f"cannot write{where}: {e.strerror or e}"
        except KeyboardInterrupt:
            code, error = 130, "interrupted"
    for w in caught:
        print(f"losslab: warning: {w.message}", file=sys.stderr)
    return code if error is None else _fail(error, code)


if __name__ == "__main__":
    raise SystemExit(main())
