"""Scene.tune() and `losslab tune`: the same answer as POST /api/tune for the same scene."""

import json

import pytest
from fastapi.testclient import TestClient

import losslab as ll
from app.main import app
from losslab import cli
from testkit import parse_strict

URL = ("http://127.0.0.1:8000/#s=quadratic:lambda_1=1,lambda_2=20,rotation=30"
       "&o=gd:lr=0.09|momentum:lr=0.04,momentum=0.7|adam:lr=0.05&start=-2,-0.5&steps=100&seed=0")


def _api(body):
    with TestClient(app) as c:
        r = c.post("/api/tune", json=body)
    assert r.status_code == 200, r.text
    return parse_strict(r.text)


def _body(scene: ll.Scene, **extra):
    d = scene.to_dict()
    return {"surface": {"name": d["surface"], "params": d["surfaceParams"]},
            "optimizers": [{"name": o["name"], "params": o["params"]} for o in d["optimizers"]],
            "start": d["start"], "steps": d["steps"], "seed": d["seed"], **extra}


@pytest.mark.parametrize("ring", [0, 3])
def test_api_python_and_cli_give_the_same_answer(capsys, ring):
    scene = ll.Scene.from_url(URL)
    python = json.loads(json.dumps(scene.tune(ring=ring).to_dict()))
    code = cli.main(["tune", "--url", URL, "--format", "json", "--ring", str(ring)])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert parse_strict(out) == python == _api(_body(scene, ring=ring))


def test_the_same_on_rosenbrock_with_flags(capsys):
    scene = ll.Scene("rosenbrock").start(-1.5, 2).add("gd").add("nesterov").replace(steps=300)
    code = cli.main(["tune", "--surface", "rosenbrock", "--start", "-1.5,2", "--optimizer", "gd", "--optimizer",
                     "nesterov", "--steps", "300", "--tol", "1e-4", "--format", "json"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert parse_strict(out) == json.loads(json.dumps(scene.tune(tol=1e-4).to_dict())) == _api(_body(scene, tol=1e-4))


def test_tuned_scene_runs_the_tuned_race():
    t = ll.Scene.from_url(URL).tune()
    assert [o.name for o in t.scene.optimizers] == ["gd", "momentum", "adam"]
    assert t.scene.optimizers[1].params["momentum"] == t[1].beta == 0.438
    assert t.scene.start_point == t.before.start_point and t.scene.steps == 100
    # run with the scene's tolerance (the tuning's), the tuned momentum run stops where tuning said it would
    assert t.protocol["tol"] == t.scene.tol
    result = t.scene.run()
    assert (result[1].status, result[1].steps_taken) == ("converged", t[1].steps_to_tol)
    assert t.before == ll.Scene.from_url(URL)


def test_text_and_url_formats(capsys):
    code = cli.main(["tune", "--url", URL])
    text, _ = capsys.readouterr()
    assert code == 0
    assert "budget 100 steps, tol ‖∇f‖ < 0.0001" in text
    assert "momentum         η 0.04, β 0.7          η 0.133, β 0.438" in text
    assert "2/(λmin+λmax) = 0.09524" in text and "β* = 0.4026" in text
    stopped = [f"{t.name} at step {t.stopped_at}" for t in ll.Scene.from_url(URL).tune() if t.stopped_at is not None]
    assert stopped and f"were stopped ({', '.join(stopped)})" in text  # where runs stopped early, as the page says
    code = cli.main(["tune", "--url", URL, "--format", "url"])
    link, _ = capsys.readouterr()
    assert ll.Scene.from_url(link.strip()) == ll.Scene.from_url(URL).tune().scene


def test_figure_has_a_curve_per_optimizer():
    t = ll.Scene.from_url(URL).tune()
    fig = t.figure()
    curves = [d for d in fig.data if d.mode == "lines+markers"]
    assert len(curves) == 3
    assert list(curves[0].x) == t.protocol["lrs"]


@pytest.mark.parametrize("argv, message", [
    (["tune", "--optimizer", "gd:lr=-1"], "gd.lr = -1 is not allowed"),
    (["tune", "--surface", "rosenbrock", "--tol", "0"], None),
])
def test_bad_input(capsys, argv, message):
    if message is None:
        with pytest.raises(SystemExit) as e:
            cli.main(argv)
        assert e.value.code == 2
        assert "--tol: expected a positive number" in capsys.readouterr().err
        return
    assert cli.main(argv) == 1
    assert message in capsys.readouterr().err


def test_python_refuses_a_bad_tolerance():
    with pytest.raises(ll.ParamError, match="tol = 0 is not allowed"):
        ll.Scene().add("gd").tune(tol=0)
    with pytest.raises(ll.ParamError, match="optimizers"):
        ll.Scene().tune()
