"""One run, one model: the engine's Trajectory is what POST /api/run sends and what the Python API returns."""

import dataclasses

import numpy as np

import engine
import losslab
from app.schemas import RunOut
from engine.runner import Trajectory


def test_the_response_schema_declares_exactly_the_trajectorys_fields():
    surface = engine.make_surface("quadratic")
    [t] = engine.run(surface, [("gd", {"lr": 0.1})], start=[1.0, 1.0], steps=3)
    assert set(RunOut.model_fields) == set(t.fields())
    RunOut.model_validate(t.to_dict())  # and its values fit the schema


def test_the_python_apis_run_is_the_engines_trajectory_numbered():
    result = losslab.Scene("quadratic").start(1, 1).add("gd", lr=0.1).add("newton").run(steps=5, tol=1e-9)
    assert all(isinstance(r, Trajectory) for r in result)
    assert [r.index for r in result] == [0, 1]
    names = {f.name for f in dataclasses.fields(Trajectory)}
    assert {f.name for f in dataclasses.fields(result[1])} == names | {"index"}
    # Newton lands on the minimum of a quadratic in one step: converged at step 1, loss 0
    assert result[1].status == "converged" and result[1].steps_taken == 1
    assert result[1].final_loss < 1e-24 and np.allclose(result[1].points[-1], 0.0, atol=1e-12)
    assert result[0] == result[0] and result[0] != result[1] and len({result[0], result[1]}) == 2
