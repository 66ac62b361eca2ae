"""Every recorded run (tests/engine/recorded_runs.py) is served today bit for bit, on both paths.

The recording holds every lesson's scene and every catalog surface × optimizer pair (SGD with
several batch sizes and noise levels, the typed-formula examples), made on the numpy reference
before the engine was restructured (at commit cfc30f1), every parameter resolved and with the
divergence rule of that time, which the replay uses. Both the reference and the compiled path must reproduce
each run's points, losses and gradient norms exactly (a SHA-256 of their bytes), its status
and its step count.
"""

import json

import pytest

from engine import accel
from recorded_runs import RECORDING, digest, machine, run_case

DATA = json.loads(RECORDING.read_text())
CASES = DATA["cases"]

pytestmark = pytest.mark.skipif(
    DATA["machine"] != machine(),
    reason="recorded with another numpy or on a processor whose SIMD code rounds differently: "
           f"{DATA['machine']!r}; rerun tests/engine/recorded_runs.py --force there to record it",
)


def _check(case):
    got = [digest(t) for t in run_case(case, DATA["divergence_factor"])]
    for i, (g, want) in enumerate(zip(got, case["runs"])):
        assert g == want, f"{case['id']} run {i} ({case['optimizers'][i]}) differs from the recording"
    assert len(got) == len(case["runs"])


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_the_reference_serves_the_recorded_run(case):
    with accel.disabled():
        _check(case)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_the_compiled_path_serves_the_recorded_run(case):
    if not accel.warm_up(wait=True):
        pytest.skip(f"the compiled path is not available here: {accel.status()}")
    _check(case)
