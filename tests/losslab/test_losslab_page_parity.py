"""A page link means the same scene here as in the browser, and the same trajectories as the page's socket.

The page's own code (static/js/state.js) parses the links under Node when Node is
installed; the app's WebSocket, the one the page runs scenes through, gives the
trajectories to compare with.
"""

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import engine
import losslab as ll
from losslab import _js, _page

ROOT = Path(__file__).resolve().parents[2]
STATE_JS = ROOT / "static" / "js" / "state.js"

HASHES = [
    "",
    "#s=quadratic:lambda_1=1,lambda_2=20,rotation=30&o=gd:lr=0.09|momentum:lr=0.04,momentum=0.7&start=-2,-0.5&steps=100&seed=0",
    "#s=quadratic:lambda_1=-1,foo=2&o=gd:lr=0|bogus:lr=1|momentum:schedule=weird&start=a,b&steps=0&seed=-5",
    "#s=rosenbrock&o=adam:lr=1e-3,beta1=0x10&start=100,-100&steps=2.5&seed=3.5&lesson=a%20b",
    "#s=nope:a=1&o=&steps=abc",
    "#o=sgd:lr=.5,batch_size=2.5,seed=7|gd|gd|gd|gd|gd|gd|gd|gd&start=1,2,3",
    "#s=two_weight_net:loss=l2,activation=relu&o=newton:lr=%31&start=0.1234567890123456,1e-7",
    "#s=saddle:wall=0.5&o=sgd:lr=0.05,noise=0.1|newton&start=-1.8,0.000001&steps=250&seed=9",
    "#s=logistic_neuron:label_smoothing=0.2&o=sgd:lr=4,batch_size=3,schedule=inverse&start=0,3&steps=60&seed=2",
]
# One link per surface with every parameter written out, so that a new surface, or a new
# kind of parameter, is checked against state.js as soon as the catalog has it.
HASHES += [ll.Scene(name).add("gd").to_url("") for name in engine.SURFACES]
NUMBERS = [0.09, 20, 1e-7, 1e21, 1e20, 123456789012345680000, -0.0, 5e-324, 1.7976931348623157e308, 0.1 + 0.2,
           2**-18, 2**-18 * 1e6, 1 / 3, -2.5e-6, 1e-6, 0.000001234, 4.35, 1234567.8901234567]

NODE_SCRIPT = """
import { fromHash, normalizeScene, toHash, runRequest } from %s;
import { readFileSync } from "node:fs";
const input = JSON.parse(readFileSync(0, "utf8"));
const catalog = { surfaces: {}, optimizers: {} };
for (const s of input.catalog.surfaces) catalog.surfaces[s.name] = s;
for (const o of input.catalog.optimizers) catalog.optimizers[o.name] = o;
const scenes = input.hashes.map((h) => {
  const scene = normalizeScene(fromHash(h), catalog);
  return { scene, hash: toHash(scene), body: runRequest(scene) };
});
const numbers = input.numbers.map((x) => [String(x), String(Number(x.toPrecision(12)))]);
const json = JSON.stringify(input.json, null, 1);
process.stdout.write(JSON.stringify({ scenes, numbers, json }));
"""


@pytest.fixture(scope="module")
def page():
    """What the page's own JavaScript makes of HASHES, NUMBERS and a JSON export."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node is not installed: the page's state.js cannot be run")
    script = NODE_SCRIPT % json.dumps(STATE_JS.as_uri())
    export = ll.Scene.from_url(HASHES[7]).run(steps=5).to_dict()
    payload = json.dumps({"catalog": engine.catalog(), "hashes": HASHES, "numbers": NUMBERS, "json": export})
    out = subprocess.run([node, "--input-type=module", "-e", script], input=payload, capture_output=True,
                         text=True, timeout=60, check=True)
    data = json.loads(out.stdout)
    data["export"] = export
    return data


@pytest.mark.parametrize("i", range(len(HASHES)))
def test_links_normalize_as_on_the_page(page, i):
    expected = page["scenes"][i]
    ours = _page.normalize(_page.from_hash(HASHES[i]))
    assert json.loads(json.dumps(ours)) == expected["scene"]
    assert _page.to_hash(ours) == expected["hash"]


@pytest.mark.parametrize("i", range(len(HASHES)))
def test_scene_from_a_link_asks_the_engine_what_the_page_asks_the_server(page, i):
    body = page["scenes"][i]["body"]
    if not body["optimizers"]:  # the server refuses such a run, and so does Scene.run
        with pytest.warns(ll.LinkWarning):
            scene = ll.Scene.from_url(HASHES[i])
        assert scene.optimizers == ()
        with pytest.raises(ll.ParamError, match="at least one"):
            scene.run()
        return
    with pytest.warns(ll.LinkWarning) if i in (2, 3, 4, 5) else _no_warning():
        scene = ll.Scene.from_url("http://127.0.0.1:8000/" + HASHES[i])
    assert scene.surface == body["surface"]["name"]
    assert scene.surface_params == engine.make_surface(body["surface"]["name"], **body["surface"]["params"]).params
    assert [tuple(o) for o in scene.optimizers] == [tuple(engine.configure(o["name"], o["params"])) for o in body["optimizers"]]
    assert list(scene.start_point) == body["start"]
    assert (scene.steps, scene.seed, body["tol"]) == (body["steps"], body["seed"], 0)


def test_numbers_are_written_as_the_page_writes_them(page):
    for x, (string, precise) in zip(NUMBERS, page["numbers"]):
        assert _js.to_string(x) == string
        assert _js.to_string(_js.to_precision_12(x)) == precise


def test_json_export_is_the_pages_byte_for_byte(page):
    assert _js.stringify(page["export"], 1) == page["json"]


def test_link_runs_match_the_pages_websocket_bit_for_bit():
    """The page sends runRequest(scene) over /ws/run; its chunks are the numbers from_url(link).run() gives."""
    from fastapi.testclient import TestClient

    from app.main import app

    client = TestClient(app)
    for h in (HASHES[1], HASHES[7], HASHES[8]):
        scene = ll.Scene.from_url(h)
        d = scene.to_dict()
        body = {"id": 1, "surface": {"name": d["surface"], "params": d["surfaceParams"]},
                "optimizers": [{"name": o["name"], "params": o["params"]} for o in d["optimizers"]],
                "start": d["start"], "steps": d["steps"], "tol": 0, "seed": d["seed"]}
        runs: dict[int, list] = {}
        with client.websocket_connect("/ws/run") as ws:
            ws.send_text(json.dumps(body))
            while True:
                msg = ws.receive_json()
                assert msg["type"] != "error", msg
                if msg["type"] == "done":
                    break
                run = runs.setdefault(msg["run"], {"points": [], "losses": [], "grad_norms": []})
                assert len(run["points"]) == msg["first"]
                for key in run:
                    run[key].extend(msg[key])
        result = scene.run()
        for r in result:
            assert np.array_equal(np.array(runs[r.index]["points"]), r.points)
            assert np.array_equal(np.array(runs[r.index]["losses"]), r.losses)
            assert np.array_equal(np.array(runs[r.index]["grad_norms"]), r.grad_norms)
        assert [(s["status"], s["steps_taken"]) for s in msg["runs"]] == [(r.status, r.steps_taken) for r in result]


class _no_warning:
    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("error", ll.LinkWarning)

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)
