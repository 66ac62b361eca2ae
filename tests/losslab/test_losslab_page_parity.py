"""A page link means the same scene here as in the browser, and the same trajectories as the page's socket.

The page's own code (static/js/state.js) parses the links under Node when Node is
installed, with the catalog the page loads (GET /api/surfaces and /api/optimizers, and
the custom surface from GET /api/formula); the app's WebSocket, the one the page runs
scenes through, gives the trajectories to compare with.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import engine
import losslab as ll
from app.main import app
from fastapi.testclient import TestClient
from engine.surfaces import TEXT_SURFACES
from losslab import _js, _page

ROOT = Path(__file__).resolve().parents[2]
STATE_JS = ROOT / "static" / "js" / "state.js"
CATALOG_JS = ROOT / "static" / "js" / "catalog.js"

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
ITALIC = "%F0%9D%91%A5**2%20%2B%20%F0%9D%91%A6**2"  # 𝑥**2 + 𝑦**2: math italic x and y, which Python reads as x and y
ROSENBROCK = "(1%20-%20x)**2%20%2B%20100*(y%20-%20x**2)**2"  # an example formula of the page's, as it encodes it
OPENS, WARNS = "opens", "warns"
# The custom surface (a typed formula and its view): the page keeps a non-blank formula of at
# most 500 UTF-16 units and a view of four ordered numbers up to 1e6, else its defaults, and
# clamps the start to that view. Each link: whether ll opens it cleanly, opens it with a
# LinkWarning (the page fixed something silently), or refuses it as the server refuses the
# page's request (the message).
CUSTOM_LINKS = [
    (f"#s=custom:&o=gd:lr=0.001|newton&start=-1.5,2&steps=50&seed=0&f={ROSENBROCK}&view=-2,2,-1,3", OPENS),
    ("#s=custom&o=adam", OPENS),  # no formula and no view: the defaults
    ("#s=custom:&o=gd&f=x%5E2%2F4%20%2B%20sin(%CF%80*y)&view=0,1,0,1&start=5,-5", WARNS),  # ^ / π; start clamped
    ("#s=custom:formula=x,foo=1&o=gd&f=x**2&view=2,-2,-1,3&start=a,b", WARNS),  # formula in s= ignored; reversed view
    ("#s=custom:&o=gd&f=%20%C2%A0&view=1,2,3&start=9,9", WARNS),  # a blank formula (JS trim); three numbers
    ("#s=custom:&o=gd&f=x**2&view=-2e6,2,-1,3", WARNS),  # a coordinate beyond 1e6
    ("#s=custom:&o=gd&f=x**2&view=a,b,c,d&steps=7", WARNS),
    ("#s=custom:&o=gd&f=y**2&view=&start=-2,1e9", WARNS),  # an empty view is no view; start clamped
    # Padded to 500 UTF-16 units, then to 502: the page counts 𝑥 twice, so the second is too
    # long for it although it has 500 characters.
    ("#s=custom:&o=gd&f=" + ITALIC + "%20" * 487 + "&view=-1,1,-1,1", OPENS),
    ("#s=custom:&o=gd&f=" + ITALIC + "%20" * 489, WARNS),
    ("#s=custom:&o=gd&f=" + "x" * 501, WARNS),
    ("#s=saddle&o=gd&f=x**2&view=0,1,0,1", WARNS),  # formula and view are only the custom surface's
    ("#s=custom:&o=sgd:lr=0.05,noise=0.5&start=1,1&steps=40&seed=4&f=x**2%20%2B%203*y**2&view=-2,2,-2,2&lesson=mine",
     OPENS),
    # The page keeps these, and the server refuses them:
    ("#s=custom:&o=gd&f=__import__(%22os%22)&view=-2,2,-2,2",
     "custom.formula: the function '__import__' is not allowed at column 1"),
    # Views past the server's limits (|v| ≤ 1000, spans ≥ 0.001) fall back to the default view, as on the page:
    ("#s=custom:&o=gd&f=x**2&view=-5000,5000,-1,1", WARNS),
    ("#s=custom:&o=gd&f=x**2&view=0,0.0001,0,1&start=0,0.5", WARNS),
]
HASHES += [h for h, _ in CUSTOM_LINKS]
# One link per surface with every parameter written out, so that a new surface, or a new
# kind of parameter, is checked against state.js as soon as the catalog has it.
HASHES += [ll.Scene(name).add("gd").to_url("") for name in _page.CATALOG]
WARNING = set(HASHES[2:6]) | {h for h, outcome in CUSTOM_LINKS if outcome == WARNS}
REFUSED = {h: outcome for h, outcome in CUSTOM_LINKS if outcome not in (OPENS, WARNS)}
# (scene, surface) pairs: the opening scene, and a race with a second momentum run at a different step
# (which keeps its ratio to the first's), each switched to every surface.
_RACE = {**_page.DEFAULT_SCENE, "optimizers": [{"name": "momentum", "params": {"lr": 0.04, "momentum": 0.7}},
                                               {"name": "momentum", "params": {"lr": 0.1, "momentum": 0.9}},
                                               {"name": "adam", "params": {"lr": 0.05}}]}
APPLIED = [[scene, name] for scene in (_page.DEFAULT_SCENE, _RACE) for name in _page.CATALOG]
NUMBERS = [0.09, 20, 1e-7, 1e21, 1e20, 123456789012345680000, -0.0, 5e-324, 1.7976931348623157e308, 0.1 + 0.2,
           2**-18, 2**-18 * 1e6, 1 / 3, -2.5e-6, 1e-6, 0.000001234, 4.35, 1234567.8901234567]

NODE_SCRIPT = """
import { fromHash, normalizeScene, toHash, runRequest, surfaceSpec } from %s;
import { applySurface } from %s;
import { readFileSync } from "node:fs";
const input = JSON.parse(readFileSync(0, "utf8"));
const catalog = { surfaces: {}, optimizers: {}, scene: input.catalog.scene };
for (const s of input.catalog.surfaces) catalog.surfaces[s.name] = s;
for (const o of input.catalog.optimizers) catalog.optimizers[o.name] = o;
const scenes = input.hashes.map((h) => {
  const scene = normalizeScene(fromHash(h, catalog), catalog);
  return { scene, hash: toHash(scene), body: runRequest(scene), spec: surfaceSpec(scene) };
});
// Choosing each surface from each starting scene, as the page's surface menu does.
const applied = input.applied.map(([from, name]) => applySurface(from, catalog, name));
const numbers = input.numbers.map((x) => [String(x), String(Number(x.toPrecision(12)))]);
const json = JSON.stringify(input.json, null, 1);
process.stdout.write(JSON.stringify({ scenes, applied, numbers, json }));
"""


@pytest.fixture(scope="module")
def page():
    """What the page's own JavaScript makes of HASHES, NUMBERS and a JSON export."""
    node = shutil.which("node")
    if node is None:  # CI installs Node (.ci/run): there, this test never skips
        if os.environ.get("CI") or os.environ.get("LOSSLAB_REQUIRE_NODE"):
            pytest.fail("Node is not installed: the page's state.js cannot be run, and CI must run it")
        pytest.skip("Node is not installed: the page's state.js cannot be run")
    script = NODE_SCRIPT % (json.dumps(STATE_JS.as_uri()), json.dumps(CATALOG_JS.as_uri()))
    export = ll.Scene.from_url(HASHES[7]).run(steps=5).to_dict()
    catalog = engine.catalog()
    catalog["surfaces"] += [cls.catalog_entry() for cls in TEXT_SURFACES.values()]  # as api.js adds GET /api/formula's
    catalog["scene"] = json.loads(TestClient(app).get("/api/scene").text)  # the scene format, as the page loads it
    payload = json.dumps({"catalog": catalog, "hashes": HASHES, "numbers": NUMBERS, "json": export,
                          "applied": APPLIED})
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
    assert list(ours) == list(expected["scene"])  # the keys in the page's order, as its JSON export writes them
    assert _page.to_hash(ours) == expected["hash"]
    assert json.loads(json.dumps(_page.run_request(ours))) == expected["body"]
    assert json.loads(json.dumps(_page.surface_spec(ours))) == expected["spec"]


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
    if HASHES[i] in REFUSED:  # what the page sends, the server refuses with this message, and so does ll
        with pytest.raises(ll.ParamError, match=REFUSED[HASHES[i]]):
            engine.make_surface("custom", formula=body["surface"]["formula"], view=body["surface"]["view"])
        with pytest.raises(ll.ParamError, match=REFUSED[HASHES[i]]):
            ll.Scene.from_url(HASHES[i])
        return
    with pytest.warns(ll.LinkWarning) if HASHES[i] in WARNING else _no_warning():
        scene = ll.Scene.from_url("http://127.0.0.1:8000/" + HASHES[i])
    spec = body["surface"]
    assert scene.surface == spec["name"]
    if spec["name"] == "custom":  # as the server's build_surface makes it
        built = engine.make_surface("custom", formula=spec["formula"], view=spec["view"])
        assert (scene.formula, list(scene.view)) == (spec["formula"], spec["view"]) == (built.formula, list(built.view))
        assert scene.surface_params == {}
    else:
        built = engine.make_surface(spec["name"], **spec["params"])
        assert scene.surface_params == built.params and (scene.formula, scene.view) == ("", None)
    assert scene.engine_surface.params == built.params and scene.engine_surface.view == built.view
    assert [tuple(o) for o in scene.optimizers] == [tuple(engine.configure(o["name"], o["params"])) for o in body["optimizers"]]
    assert list(scene.start_point) == body["start"]
    assert (scene.steps, scene.seed, scene.tol) == (body["steps"], body["seed"], body["tol"])
    assert json.loads(json.dumps(_page.run_request(scene.to_dict()))) == body


@pytest.mark.parametrize("i", range(len(APPLIED)))
def test_choosing_a_surface_gives_the_pages_scene(page, i):
    scene, name = APPLIED[i]
    ours = _page.apply_surface(scene, engine.make_surface(name).describe())
    assert json.loads(json.dumps(ours)) == page["applied"][i]


def test_the_command_line_opens_a_surface_as_the_page_does_once_it_is_chosen():
    # `losslab run --surface booth`: booth's own start, steps and step sizes, and every run converges
    entry = engine.make_surface("booth").describe()
    chosen = _page.apply_surface(_page.DEFAULT_SCENE, entry)
    scene = ll.Scene("booth")
    assert list(scene.start_point) == chosen["start"] == [-4.0, -2.0] and scene.steps == chosen["steps"]
    from losslab import cli

    args = cli.build_parser().parse_args(["run", "--surface", "booth"])
    built = cli._scene(args, pytest.fail)
    assert [(o.name, o.params["lr"]) for o in built.optimizers] == [(o["name"], o["params"]["lr"]) for o in chosen["optimizers"]]
    assert all(r.status == "converged" for r in built.run())


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
    for h in (HASHES[1], HASHES[7], HASHES[8], CUSTOM_LINKS[0][0], CUSTOM_LINKS[12][0]):
        scene = ll.Scene.from_url(h)
        body = {"id": 1, **_page.run_request(scene.to_dict())}
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
