"""Every position of every slider gives a value the server accepts (issue 14), computed by the page's own
controls.js under Node for every numeric parameter in the catalog, and validated by the engine's Param."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import engine
from engine.optimizers import OPTIMIZERS
from engine.surfaces import SURFACES

ROOT = Path(__file__).resolve().parents[2]
CONTROLS = ROOT / "static" / "js" / "controls.js"
SCRIPT = """
import { sliderScale } from %s;
import { readFileSync } from "node:fs";
const specs = JSON.parse(readFileSync(0, "utf8"));
const out = specs.map((s) => { const sc = sliderScale(s); const v = []; for (let p = 0; p <= 1000; p++) v.push(sc.toValue(p));
  return { values: v, pos: s.probe.map((x) => sc.toPos(x)), back: s.probe.map((x) => sc.toValue(sc.toPos(x))) }; });
process.stdout.write(JSON.stringify(out));
"""


def node():
    exe = shutil.which("node")
    if exe is None:
        if os.environ.get("CI") or os.environ.get("LOSSLAB_REQUIRE_NODE"):
            pytest.fail("Node is not installed, and CI must run the page's modules")
        pytest.skip("Node is not installed")
    return exe


def _sliders():
    out = []
    for owner, params in [*((n, s.PARAMS) for n, s in SURFACES.items()), *((n, o.params) for n, o in OPTIMIZERS.items())]:
        for p in params:
            if p.kind == "float":
                out.append((owner, p))
    return out


def test_every_slider_position_is_a_valid_value():
    sliders = _sliders()
    specs = [{**p.to_dict(), "probe": [0.9, 0.99, 0.999] if p.near_one else []} for _, p in sliders]
    res = subprocess.run([node(), "--input-type=module", "-e", SCRIPT % json.dumps(CONTROLS.as_uri())],
                         input=json.dumps(specs), capture_output=True, text=True, timeout=60, check=True)
    results = json.loads(res.stdout)
    for (owner, p), r in zip(sliders, results):
        for pos, v in enumerate(r["values"]):
            p.validate(v, owner)  # raises with the parameter, value and range
        assert len(set(r["values"])) > 100, f"{owner}.{p.name}: the slider barely moves"
        if p.near_one:  # log(1 − β): 0.9, 0.99 and 0.999 are each a position of their own, reached exactly
            assert r["back"] == [0.9, 0.99, 0.999] if p.high >= 0.999 else True, (owner, p.name, r["back"])
            assert len(set(r["pos"])) == 3 and r["values"][-1] == p.high and r["values"][0] == p.low


def test_the_page_modules_unit_tests_pass():
    """node --test on the DOM-free modules' tests (tests/js/*.test.mjs)."""
    files = sorted(str(f) for f in Path(__file__).parent.glob("*.test.mjs"))
    assert files
    res = subprocess.run([node(), "--test", *files], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
