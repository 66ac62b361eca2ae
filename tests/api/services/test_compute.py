"""The service layer on its own (app/services/compute.py): a request validated into a RunPlan, refusals with their
field's location, the compute-time cap between chunks, and runs equal to the engine's."""

from __future__ import annotations

import time

import numpy as np
import pytest

import engine
from app.errors import RequestError
from app.schemas import RunRequest, SweepRequest
from app.services import compute

RUN = {"surface": {"name": "quadratic", "params": {"lambda_1": 1, "lambda_2": 10, "rotation": 0}},
       "optimizers": [{"name": "gd", "params": {"lr": 0.1}}, {"name": "newton"}],
       "start": [1.0, 1.0], "steps": 40, "tol": 1e-9, "seed": 0}


def test_a_run_is_the_engines_run_field_for_field():
    plan = compute.RunPlan(RunRequest.model_validate(RUN))
    body = compute.compute_run(plan)
    surface = engine.make_surface("quadratic", lambda_1=1, lambda_2=10, rotation=0)
    direct = engine.run(surface, [("gd", {"lr": 0.1}), ("newton", {})], [1.0, 1.0], 40, tol=1e-9)
    assert [r["optimizer"] for r in body["runs"]] == ["gd", "newton"]
    for got, want in zip(body["runs"], direct):
        assert np.array_equal(got["points"], want.points) and got["status"] == want.status
    assert body["runs"][1]["status"] == "converged" and body["runs"][1]["steps_taken"] == 1  # Newton: one step


def test_a_start_outside_the_view_is_refused_at_its_field():
    far = {**RUN, "start": [1e6, 0.0]}
    with pytest.raises(RequestError) as e:
        compute.RunPlan(RunRequest.model_validate(far))
    assert list(e.value.loc) == ["body", "start"]


def test_a_batch_larger_than_the_data_is_refused_naming_the_number_of_examples():
    body = {**RUN, "surface": {"name": "logistic_neuron"},
            "optimizers": [{"name": "sgd", "params": {"lr": 0.1, "batch_size": 9999}}], "start": [0.0, 0.0]}
    with pytest.raises(RequestError) as e:
        compute.RunPlan(RunRequest.model_validate(body))
    assert list(e.value.loc) == ["body", "optimizers", 0, "params", "batch_size"]
    assert "9999" in str(e.value.detail()) and "number of examples" in str(e.value.detail())


def test_the_cap_is_checked_between_chunks_and_a_finished_run_is_not_refused(monkeypatch):
    monkeypatch.setattr(compute, "RUN_CHUNK", 5)
    monkeypatch.setattr(compute, "RUN_CHUNK_COMPILED", 5)
    monkeypatch.setattr(compute, "RUN_CHUNK_COMPILED_DATA", 5)
    plan = compute.RunPlan(RunRequest.model_validate({**RUN, "tol": 0}))
    with pytest.raises(RequestError) as e:  # a deadline already passed: refused before the second chunk
        compute.compute_run(plan, until=time.monotonic() - 1)
    assert "compute time" in str(e.value.detail())
    assert len(compute.compute_run(plan, until=time.monotonic() + 60)["runs"][0]["points"]) == 41


def test_a_sweep_answers_cell_for_cell_the_engines_and_its_rate_map():
    req = SweepRequest.model_validate({"surface": {"name": "quadratic", "params": {"lambda_1": 1, "lambda_2": 10,
                                                                                   "rotation": 0}},
                                       "optimizer": {"name": "momentum"}, "start": [1.0, 1.0], "steps": 60,
                                       "lrs": {"min": 0.05, "max": 0.2, "n": 4, "log": False}, "betas": {"min": 0, "max": 0.9, "n": 3}})
    out = compute.compute_sweep(req)
    surface = engine.make_surface("quadratic", lambda_1=1, lambda_2=10, rotation=0)
    direct = engine.sweep(surface, "momentum", np.linspace(0.05, 0.2, 4), np.linspace(0, 0.9, 3), start=[1.0, 1.0],
                          steps=60, tol=req.tol)
    assert out["steps_to_tol"] == direct.steps_to_tol.tolist()
    assert np.array(out["rate"]).shape == (3, 4)  # the analytic heavy-ball map beside it
