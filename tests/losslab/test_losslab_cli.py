"""The `losslab` command: every subcommand, its output, and exit codes that mean something."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from testkit import free_port

import losslab as ll
from losslab import cli

PAGE_URL = ("http://127.0.0.1:8000/#s=quadratic:lambda_1=1,lambda_2=20,rotation=30"
            "&o=gd:lr=0.09|momentum:lr=0.04,momentum=0.7&start=-2,-0.5&steps=100&seed=0")


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- run ------------------------------------------------------------------------

def test_run_without_flags_prints_the_pages_opening_scene_as_csv(capsys):
    code, out, err = run_cli(capsys, "run")
    assert (code, err) == (0, "")
    assert out == ll.Scene.from_url(PAGE_URL).run().to_csv()


def test_run_from_flags(capsys):
    code, out, _ = run_cli(capsys, "run", "--surface", "saddle", "--param", "wall=0.5", "--start", "-1.8,0.1",
                           "--optimizer", "sgd:lr=0.05,noise=0.1", "--optimizer", "newton", "--steps", "40",
                           "--seed", "3", "--format", "json")
    assert code == 0
    expected = (ll.Scene("saddle", wall=0.5).start(-1.8, 0.1).add("sgd", lr=0.05, noise=0.1).add("newton")
                .replace(seed=3).run(steps=40))
    assert out == expected.to_json() + "\n"
    data = json.loads(out)
    assert data["scene"]["seed"] == 3 and len(data["runs"]) == 2 and len(data["runs"][0]["points"]) == 41


def test_run_takes_a_negative_start_without_an_equals_sign(capsys):
    code, out, _ = run_cli(capsys, "run", "--start", "-1,-0.25", "--optimizer", "gd", "--steps", "1")
    expected = ll.Scene("quadratic", lambda_1=1, lambda_2=20, rotation=30).start(-1, -0.25).add("gd").run(steps=1)
    assert code == 0 and out == expected.to_csv() and out.splitlines()[1].startswith("0,gd,0,-1,-0.25,")


def test_run_url_reproduces_the_pages_trajectories(capsys):
    code, out, _ = run_cli(capsys, "run", "--url", PAGE_URL, "--format", "json")
    assert code == 0
    runs = json.loads(out)["runs"]
    for run, expected in zip(runs, ll.Scene.from_url(PAGE_URL).run()):
        assert np.array_equal(np.array(run["points"]), expected.points)
        assert np.array_equal(np.array(run["losses"]), expected.losses)


def test_run_url_with_a_value_the_page_clamps_warns_on_stderr(capsys):
    code, out, err = run_cli(capsys, "run", "--url", "#s=quadratic:lambda_1=-1&o=gd&steps=2", "--steps", "3")
    assert code == 0 and len(out.splitlines()) == 1 + 4
    assert err == ("losslab: warning: quadratic.lambda_1 = -1 is not allowed (a finite number with "
                   "0.001 ≤ lambda_1 ≤ 1000); the page uses 0.001\n")


def test_run_your_own_formula(capsys):
    """--formula and --view give the custom surface (negative values need no '='), as the page's "Your own formula…"."""
    code, out, err = run_cli(capsys, "run", "--formula", "-x**2/10 + y**4", "--view", "-2,2,-1.5,1",
                             "--start", "-1,-0.5", "--optimizer", "newton", "--steps", "3", "--format", "json")
    assert (code, err) == (0, "")
    scene = ll.Scene("custom", formula="-x**2/10 + y**4", view=(-2, 2, -1.5, 1)).start(-1, -0.5).add("newton")
    assert out == scene.run(steps=3).to_json() + "\n"
    assert json.loads(out)["scene"]["view"] == [-2, 2, -1.5, 1]
    code, out2, _ = run_cli(capsys, "run", "--surface", "custom", "--formula=-x**2/10 + y**4", "--view=-2,2,-1.5,1",
                            "--start=-1,-0.5", "--optimizer", "newton", "--steps", "3", "--format", "json")
    assert out2 == out
    code, out3, _ = run_cli(capsys, "run", "--url", scene.to_url(), "--steps", "3", "--format", "json")
    assert out3 == out


def test_run_a_custom_link_the_page_clamps(capsys):
    code, out, err = run_cli(capsys, "run", "--url", "#s=custom&o=gd&f=x**2%2By**2&view=2,1,0,1&start=12,-12&steps=1")
    assert code == 0 and out.splitlines()[1] == "0,gd,0,9,-9,162,25.45584412271571"  # the default view ±3, enlarged
    assert err == ("losslab: warning: view = 2, 1, 0, 1 is not xmin,xmax,ymin,ymax (four numbers up to 1000 with "
                   "spans of at least 0.001); the page uses -3, 3, -3, 3\n"
                   "losslab: warning: start = 12, -12 is far off the view; the page uses 9, -9\n")


def test_run_lesson(capsys):
    lesson = ll.lessons()[0]
    code, out, _ = run_cli(capsys, "run", "--lesson", lesson.id, "--steps", "3")
    assert code == 0 and out == ll.Scene.from_lesson(lesson.id).run(steps=3).to_csv()
    code, out2, _ = run_cli(capsys, "run", "--lesson", str(lesson.number), "--steps", "3")
    assert out2 == out


@pytest.mark.parametrize("argv, message", [
    (["run", "--param", "lambda_1=-1"],
     "losslab: error: quadratic.lambda_1 = -1 is not allowed: a finite number with 0.001 ≤ lambda_1 ≤ 1000\n"),
    (["run", "--optimizer", "gd:lr=abc"], "losslab: error: gd.lr = 'abc' is not allowed: a finite number with 0 < lr ≤ 10\n"),
    (["run", "--optimizer", "adamw"], "losslab: error: optimizer = 'adamw' is not allowed: one of gd, "),
    (["run", "--surface", "bowl"], "losslab: error: surface = 'bowl' is not allowed: one of quadratic, "),
    (["run", "--surface", "logistic_neuron", "--optimizer", "sgd:batch_size=100"],
     "losslab: error: sgd.batch_size = 100 is not allowed: an integer with 1 ≤ batch_size ≤ 8"),
    (["run", "--lesson", "nope"], "losslab: error: lesson = 'nope' is not allowed: one of "),
    (["run", "--url", "#s=quadratic:lambda_1=%zz"], "losslab: error: the link cannot be read"),
    (["run", "--formula", "x**2 + foo(y)"], "losslab: error: custom.formula: the function 'foo' is not allowed at column 8;"),
    (["run", "--view", "0,5000,0,1"], "losslab: error: custom.view = (0.0, 5000.0, 0.0, 1.0) is not allowed: "),
    (["sweep", "--out", "x.html", "--optimizer", "momentum:lr=3"], "losslab: error: momentum.lr = 3 is not allowed: set by the map's axes"),
    (["sweep", "--out", "x.html", "--optimizer", "gd", "--beta-n", "3"], "losslab: error: betas = 'given' is not allowed: gd has no momentum"),
    (["sweep", "--out", "x.html", "--lr-min", "0.5", "--lr-max", "0.1"], "losslab: error: --lr-min 0.5 is larger than --lr-max 0.1\n"),
])
def test_user_errors_exit_1_with_one_line(capsys, argv, message):
    code, out, err = run_cli(capsys, *argv)
    assert code == 1 and out == ""
    assert err.startswith(message) and err.count("\n") == 1


@pytest.mark.parametrize("argv, message", [
    (["run", "--bogus"], "unrecognized arguments: --bogus"),
    (["run", "--param", "lambda_1"], "argument --param: expected name=value, got 'lambda_1'"),
    (["run", "--start", "1"], "argument --start: expected x,y (two numbers), got '1'"),
    (["run", "--steps", "many"], "argument --steps: expected an integer, got 'many'"),
    (["run", "--format", "xml"], "argument --format: invalid choice: 'xml'"),
    (["run", "--url", PAGE_URL, "--surface", "saddle"], "--url gives the whole scene; leave out --surface"),
    (["run", "--url", PAGE_URL, "--lesson", "momentum"], "--url and --lesson each give a whole scene"),
    (["run", "--url", PAGE_URL, "--formula", "x**2"], "--url gives the whole scene; leave out --formula"),
    (["run", "--lesson", "momentum", "--view", "0,1,0,1"], "--lesson gives the whole scene; leave out --view"),
    (["run", "--surface", "saddle", "--formula", "x**2", "--view=0,1,0,1"],
     "--formula and --view go only with the custom surface: leave out --surface saddle"),
    (["run", "--view", "0,1,0"], "argument --view: expected xmin,xmax,ymin,ymax (four numbers), got '0,1,0'"),
    (["sweep"], "the following arguments are required: --out"),
    (["sweep", "--out", "map.pdf"], "'map.pdf': the file must end in .html or .png"),
    (["sweep", "--out", "m.html", "--no-beta", "--beta-n", "3"], "--no-beta cannot go with"),
    (["serve", "--port", "70000"], "argument --port: expected 1 ≤ value ≤ 65535, got 70000"),
    ([], "the following arguments are required: COMMAND"),
    (["fly"], "invalid choice: 'fly'"),
])
def test_usage_errors_exit_2(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    _, err = capsys.readouterr()
    assert exit_.value.code == 2 and message in err and "Traceback" not in err


@pytest.mark.parametrize("command", [None, "serve", "run", "sweep", "lessons"])
def test_help(capsys, command):
    with pytest.raises(SystemExit) as exit_:
        cli.main(([command] if command else []) + ["--help"])
    out, _ = capsys.readouterr()
    assert exit_.value.code == 0 and out.startswith(f"usage: losslab{' ' + command if command else ''} ")


def test_the_installed_command_exits_1_without_a_traceback():
    """Through the console script (or python -m losslab): real exit codes, one line on stderr."""
    exe = Path(sys.executable).with_name("losslab")
    argv = [str(exe)] if exe.exists() else [sys.executable, "-m", "losslab"]
    bad = subprocess.run(argv + ["run", "--param", "lambda_1=-1"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr == ("losslab: error: quadratic.lambda_1 = -1 is not allowed: a finite number with "
                          "0.001 ≤ lambda_1 ≤ 1000\n")
    usage = subprocess.run(argv + ["run", "--nope"], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


# --- sweep ----------------------------------------------------------------------

def test_sweep_writes_an_html_map(capsys, tmp_path):
    out_file = tmp_path / "map.html"
    code, out, err = run_cli(capsys, "sweep", "--out", str(out_file), "--param", "lambda_2=50", "--lr-n", "6",
                             "--beta-n", "4", "--steps", "60", "--no-progress")
    assert code == 0 and err == ""
    expected = ll.Scene("quadratic", lambda_2=50).sweep(
        "momentum", lrs=np.geomspace(0.05 / 50, 4 / 50, 6), betas=np.linspace(0, 0.99, 4), steps=60)
    assert out == f"wrote {out_file}: {expected!r}\n"
    html = out_file.read_text()
    assert "plotly" in html.lower() and "measured: steps to" in html and "theory: heavy-ball rate" in html


def test_sweep_of_your_own_formula(capsys, tmp_path):
    out_file = tmp_path / "custom.html"
    code, out, _ = run_cli(capsys, "sweep", "--out", str(out_file), "--formula", "x**2 + 3*y**2", "--view", "-2,2,-2,2",
                           "--start", "1,1", "--lr-n", "4", "--beta-n", "3", "--steps", "60")
    assert code == 0 and out.startswith(f"wrote {out_file}: SweepMap(momentum on custom: 4 η × 3 β, 60 steps")
    assert out_file.stat().st_size > 0


def test_sweep_shows_a_progress_bar_on_stderr(capsys, tmp_path):
    code, _, err = run_cli(capsys, "sweep", "--out", str(tmp_path / "m.html"), "--url", PAGE_URL, "--optimizer",
                           "nesterov", "--lr-min", "0.01", "--lr-max", "0.2", "--lr-n", "5", "--beta-n", "10",
                           "--steps", "50", "--progress")
    assert code == 0
    frames = err.split("\r")[1:]
    assert frames[0].startswith("[······") and "0/50 cells" in frames[0]
    assert frames[-1].startswith("[######") and "50/50 cells" in frames[-1] and frames[-1].endswith("\n")
    done = [int(f.split("] ")[1].split("/")[0]) for f in frames]
    assert 3 <= len(frames) <= 11 and done == sorted(done)  # one frame per slice of β rows, growing


def test_sweep_png_without_kaleido_says_what_to_do(capsys, tmp_path, monkeypatch):
    real = cli.importlib.util.find_spec
    monkeypatch.setattr(cli.importlib.util, "find_spec", lambda name, *a: None if name == "kaleido" else real(name, *a))
    code, out, err = run_cli(capsys, "sweep", "--out", str(tmp_path / "map.png"))
    assert code == 1 and out == "" and not (tmp_path / "map.png").exists()
    assert err == ("losslab: error: writing map.png needs kaleido, which is not installed: write --out map.html "
                   "instead, or pip install 'losslab[png]'\n")


@pytest.mark.skipif(cli.importlib.util.find_spec("kaleido") is None, reason="kaleido is not installed")
def test_sweep_writes_a_png_with_kaleido(capsys, tmp_path):
    out_file = tmp_path / "map.png"
    code, out, err = run_cli(capsys, "sweep", "--out", str(out_file), "--optimizer", "gd", "--lr-n", "5",
                             "--steps", "30")
    if code == 1 and "could not write" in err:
        pytest.skip(f"kaleido found no working Chrome here: {err.strip()}")
    assert code == 0, err
    assert out_file.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- lessons --------------------------------------------------------------------

def test_lessons_lists_every_lesson(capsys):
    code, out, _ = run_cli(capsys, "lessons")
    assert code == 0
    lines = out.splitlines()
    for lesson in ll.lessons():
        assert any(line.startswith(f"{lesson.number:>2}. {lesson.id} ") and line.endswith(lesson.title) for line in lines)
    code, out, _ = run_cli(capsys, "lessons", "--format", "json")
    assert [d["id"] for d in json.loads(out)] == ll.lessons().names()


def test_lessons_when_there_are_none(capsys, monkeypatch):
    monkeypatch.setattr("losslab.catalog.LESSONS", ())
    code, out, err = run_cli(capsys, "lessons")
    assert (code, out, err) == (0, "", "losslab: no lessons yet\n")


# --- serve ----------------------------------------------------------------------



def test_serve_starts_the_app_and_opens_the_browser(tmp_path):
    port = free_port()
    opened = tmp_path / "opened.txt"
    # webbrowser runs $BROWSER with %s replaced by the URL: record it instead of opening anything.
    browser = f"{sys.executable} -c \"import sys; open({str(opened)!r}, 'w').write(sys.argv[1])\" %s"
    env = {**os.environ, "BROWSER": browser, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "losslab", "serve", "--port", str(port), "--open"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        deadline = time.monotonic() + 30
        body = None
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    body = json.loads(r.read())
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                time.sleep(0.1)
        assert body == {"status": "ok"}
        while time.monotonic() < deadline and not (opened.exists() and opened.read_text()):
            time.sleep(0.05)
        assert opened.read_text() == f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=20)
    assert f"Loss Lab: open http://127.0.0.1:{port}/" in output
