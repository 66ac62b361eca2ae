"""`losslab render` and losslab.render: the race as GIF, MP4 and WebM, decoded and checked frame by frame."""

import os
import subprocess
import sys
import time

import numpy as np
import pytest
from testkit.frames import check_start_and_end, decode, ringed, shows

import losslab as ll
from losslab import cli, render

pytest.importorskip("imageio_ffmpeg", reason="losslab[video] is not installed")

# Ten steps: the runs' ends are far from each other and from the start (checked below).
LINK = ("http://127.0.0.1:8000/#s=quadratic:lambda_1=1,lambda_2=20,rotation=30"
        "&o=gd:lr=0.02|momentum:lr=0.04,momentum=0.7&start=-2,-0.5&steps=10&seed=0")


def render_colour(i):
    from losslab.figures import color_of

    return color_of(i)


def test_frames_use_the_pages_palette():
    """The video's run colours are the page's (static/js/state.js PALETTE), in the same order."""
    import re
    from pathlib import Path

    from losslab.figures import PALETTE

    js = (Path(__file__).resolve().parents[2] / "static" / "js" / "state.js").read_text()
    page = re.search(r"export const PALETTE = \[([^\]]*)\]", js).group(1)
    assert tuple(re.findall(r'"(#[0-9a-f]{6})"', page)) == PALETTE


def marks_for(scene, size):
    m = render.marks(scene.run(), size)
    assert all(clear for _, _, clear in m["ends"])
    pts = [m["start"][0]] + [p for p, _, _ in m["ends"]]
    gaps = [np.hypot(a[0] - b[0], a[1] - b[1]) for i, a in enumerate(pts) for b in pts[i + 1:]]
    assert min(gaps) > 20, "the test scene must keep the start and the ends apart"
    return m


@pytest.mark.parametrize("suffix", [".gif", ".mp4", ".webm"])
def test_cli_render_writes_one_frame_per_step_from_start_to_end(tmp_path, capsys, suffix):
    out = tmp_path / f"race{suffix}"
    code = cli.main(["render", "--url", LINK, "--out", str(out), "--fps", "30", "--size", "640x360"])
    stdout, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert stdout.startswith(f"wrote {out}: 11 frames of 640x360 at 30 fps (steps 0–10)")
    frames = decode(out)
    assert frames.shape == (11, 360, 640, 3)
    check_start_and_end(frames, marks_for(ll.Scene.from_url(LINK), (640, 360)), tol=8 if suffix == ".gif" else 45)


def test_frames_follow_the_runs_step_by_step(tmp_path):
    """Frame k rings run 1's k-th point, as the page rings the current point while it plays."""
    scene = ll.Scene("quadratic", lambda_1=1, lambda_2=20, rotation=30).start(-2, -0.5).add("gd", lr=0.02)
    result = scene.run(steps=10)
    out = tmp_path / "race.gif"
    render.render(result, out, size=(640, 360))
    frames = decode(out)
    painter = render._Painter(result, (640, 360))
    gd = result[0]
    for k in (3, 6):
        here = painter.pixel(*gd.points[k])
        assert shows(frames[k], here, render_colour(0), tol=8) and ringed(frames[k], here), f"frame {k}: no gd point at {here}"
        assert not ringed(frames[k - 3], here), f"frame {k - 3} already rings gd's point {k}"


def test_gif_loops_and_plays_at_the_asked_rate(tmp_path):
    from PIL import Image

    out = tmp_path / "race.gif"
    render.render(ll.Scene.from_url(LINK), out, fps=20, size=(320, 180))
    with Image.open(out) as im:
        assert im.info.get("loop") == 0
        assert im.n_frames == 11
        assert im.info["duration"] == 50


def test_long_races_are_thinned_to_the_frame_limit(tmp_path):
    info = render.render(ll.Scene().add("gd", lr=0.09).replace(tol=0), tmp_path / "r.webm", steps=3000, size=(320, 180),
                         max_frames=50)
    assert info.frames == 50 and info.cursors[0] == 0 and info.cursors[-1] == 3000
    assert decode(tmp_path / "r.webm").shape[0] == 50


@pytest.mark.parametrize("argv, message", [
    (["--out", "x.avi"], "the file must end in .gif, .mp4 or .webm"),
    (["--out", "x.mp4", "--size", "641x360"], "size = 641x360 is not allowed for .mp4: video needs an even width"),
    (["--out", "x.gif", "--size", "5000x100"], "size = 5000x100 is not allowed: a width from 160 to 1920"),
    (["--out", "x.gif", "--size", "big"], "size 'big' is not WIDTHxHEIGHT"),
    (["--out", "x.gif", "--fps", "0"], "--fps"),
])
def test_cli_render_refuses_bad_options(capsys, tmp_path, argv, message):
    argv = [a if not a.startswith("x.") else str(tmp_path / a) for a in argv]
    with pytest.raises(SystemExit) if argv[1].endswith(".avi") or "--fps" in argv else _nothing():
        code = cli.main(["render", *argv])
        assert code == 1
    err = capsys.readouterr().err
    assert message in err
    assert not list(tmp_path.iterdir())


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_200_step_race_renders_within_10_seconds(tmp_path):
    """The issue's budget on this machine: `losslab render` of a 200-step race of three optimizers, 1280 × 720 MP4.

    Wall time when the machine is free for it; on a machine busier than its cores (other work
    running), the CPU time the command and its ffmpeg used instead, which the load does not inflate.
    """
    import resource

    scene = (ll.Scene("quadratic", lambda_1=1, lambda_2=20, rotation=30).start(-2, -0.5)
             .add("gd", lr=0.09).add("momentum", lr=0.04, momentum=0.7).add("adam", lr=0.1)).replace(steps=200, tol=0)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "losslab", "render", "--url", scene.to_url(), "--out",
                           str(tmp_path / "race.mp4")], capture_output=True, text=True, timeout=300)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert proc.returncode == 0, proc.stderr
    assert "201 frames of 1280x720" in proc.stdout
    assert decode(tmp_path / "race.mp4").shape == (201, 720, 1280, 3)
    print(f"render 200 steps: wall {wall:.1f} s, CPU {cpu:.1f} s, load {os.getloadavg()[0]:.1f}")
    assert wall <= 10.0 or (_loaded() and cpu <= 10.0), f"wall {wall:.1f} s, CPU {cpu:.1f} s"


def _loaded() -> bool:
    """A machine busy with other work (load above its cores) cannot be held to a wall-clock budget."""
    return os.getloadavg()[0] > (os.cpu_count() or 1)
