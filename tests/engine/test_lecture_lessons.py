"""Lessons 10–13 (engine/lessons/softmax_smoothing.py, activation_shapes.py, sgd_one_over_eps.py,
saddles_minima.py): their numbers against theory, and their claims turning false when the settings
no longer bear them out. tests/engine/test_lesson_steps.py checks the format of every step and that
each claim holds on the step's own scene."""

import json

import numpy as np
import pytest

from engine import sgd_rate
from engine.lessons import Context, evaluate, get_lesson

_CACHE: dict = {}


def evaluated(lesson_id, n, edit=None):
    lesson = get_lesson(lesson_id)
    sc = json.loads(json.dumps(lesson.step(n).scene))
    if edit:
        edit(sc)
    key = (lesson_id, n, json.dumps(sc, sort_keys=True))
    if key not in _CACHE:
        _CACHE[key] = evaluate(lesson, n, Context.of_scene(sc))
    return _CACHE[key]


def claim(out, start):
    return next(c for c in out["claims"] if c["text"].startswith(start))


def test_lessons_10_to_13_are_listed_after_the_nine():
    from engine.lessons import LESSONS
    assert [(lesson.number, lesson.id) for lesson in LESSONS[9:]] == [
        (10, "softmax"), (11, "activations"), (12, "sgd-rate"), (13, "saddles")]


# --- 10 ----------------------------------------------------------------------------------------

def test_softmax_step_1_quotes_the_gradients_at_the_start():
    out = evaluated("softmax", 1)
    p = out["panels"]["softmax_grads"]
    y = np.exp([-1.0, 1.0, 0.0]) / np.exp([-1.0, 1.0, 0.0]).sum()
    np.testing.assert_allclose(p["y"], y)
    np.testing.assert_allclose(p["dCE_dy"], [-1 / y[0], 0, 0])
    np.testing.assert_allclose(p["dCE_dz"], y - [1, 0, 0])
    assert out["values"]["dy"] == "(−11.1, 0, 0)"
    assert out["answer"] == 1  # no finite minimum


def test_softmax_step_2_claims_fail_with_hard_targets_and_follow_epsilon():
    out = evaluated("softmax", 2)
    assert out["values"]["z1_star"] == "2.89" and out["values"]["t"] == "(0.9, 0.05, 0.05)"
    hard = evaluated("softmax", 2, lambda sc: sc["surfaceParams"].update(label_smoothing=0.0))
    assert [c["holds"] for c in hard["claims"]] == [False, False]
    other = evaluated("softmax", 2, lambda sc: sc["surfaceParams"].update(label_smoothing=0.2))
    assert other["values"]["z1_star"] == "1.1"  # ln(0.6/0.2)
    assert all(c["holds"] for c in other["claims"])


def test_softmax_step_3_jacobian_at_the_start():
    out = evaluated("softmax", 3)
    j = out["panels"]["jacobians"]
    y = np.asarray(j["softmax"])
    np.testing.assert_allclose(j["softmax_jacobian"], np.diag(y) - np.outer(y, y), atol=1e-15)
    assert j["chain_error"] < 1e-15


# --- 11 ----------------------------------------------------------------------------------------

def test_activations_numbers():
    out = evaluated("activations", 1)
    assert (out["values"]["s0"], out["values"]["t0"], out["values"]["ratio"]) == ("0.25", "1", "4")
    s = 1 / (1 + np.exp(-4.0))
    assert out["values"]["sfar"] == f"{s * (1 - s):.3g}" and out["values"]["tfar"] == f"{1 - np.tanh(4) ** 2:.3g}"
    out = evaluated("activations", 2)
    assert (out["values"]["left"], out["values"]["right"], out["values"]["sub"]) == ("0", "1", "0.5")
    assert out["answer"] == 2


def test_shapes_step_follows_the_point_and_matches_finite_differences():
    out = evaluated("activations", 3)
    p = out["panels"]["shapes"]
    assert [r["grad_shape"] for r in p["example"]["params"]] == [[2, 2], [2], [1, 2], [1]]
    np.testing.assert_allclose(p["mean_grads"]["W2"][0], p["finite_difference"], atol=1e-8)
    np.testing.assert_allclose(p["surface_grad"], p["mean_grads"]["W2"][0], atol=1e-15)
    moved = evaluated("activations", 3, lambda sc: sc.update(start=[2.0, -1.0]))
    assert moved["values"]["point"] == "(2, −1)" and moved["values"]["loss"] != out["values"]["loss"]


# --- 12 ----------------------------------------------------------------------------------------

def test_sgd_rate_panel_matches_engine_experiment():
    out = evaluated("sgd-rate", 2)
    exp = sgd_rate.experiment(runs=(sgd_rate.RUNS[0],))
    [c] = [c for c in out["panels"]["sgd_curves"]["curves"] if c["schedule"] == "inverse"]
    np.testing.assert_allclose(c["mean"], exp["curves"][0]["mean_excess"], rtol=1e-12)
    assert c["slope"] == pytest.approx(exp["curves"][0]["slope"])
    assert out["values"]["C"] == "1.9" and out["values"]["k_eps"] == "1,905"


def test_sgd_rate_step_3_below_the_threshold_the_slope_follows_2_eta_mu():
    out = evaluated("sgd-rate", 3)
    assert out["values"]["threshold"] == "1.25"
    # η = 1 (2ημ = 0.8 < 1): slope −0.8, still below the guarantee
    out = evaluated("sgd-rate", 3, lambda sc: sc["optimizers"][1]["params"].update(lr=1.0))
    small = claim(out, "η/k, η = 1 ")
    assert small["holds"] and "theory −min(1, 2ημ) = −0.8" in small["text"]
    # Both above: the step says one run must sit on each side.
    out = evaluated("sgd-rate", 3, lambda sc: sc["optimizers"][1]["params"].update(lr=3.0))
    assert claim(out, "one η/k run on each side")["holds"] is False


def test_sgd_rate_step_1_prediction_is_answered_by_the_curves():
    out = evaluated("sgd-rate", 1)
    assert out["answer"] == 1
    out = evaluated("sgd-rate", 1, lambda sc: [o["params"].update(schedule="inverse", lr=2.0) for o in sc["optimizers"]])
    assert out["answer"] == 0  # no constant-step run: nothing stalls


# --- 13 ----------------------------------------------------------------------------------------

def test_saddles_step_1_counts_the_landscape_on_screen():
    out = evaluated("saddles", 1)
    assert (out["values"]["n_min"], out["values"]["n_sad"], out["values"]["n_max"]) == ("7", "13", "4")
    other = evaluated("saddles", 1, lambda sc: sc["surfaceParams"].update(seed=3))
    assert (other["values"]["n_min"], other["values"]["n_sad"]) != ("7", "13")


@pytest.mark.parametrize("seed", [0, 5])
def test_saddles_steps_2_and_3_hold_for_other_seeds(seed):
    for n in (2, 3):
        out = evaluated("saddles", n, lambda sc: sc["surfaceParams"].update(seed=seed))
        assert all(c["holds"] for c in out["claims"]), out["claims"]
    assert out["panels"]["index_height"]["seed"] == seed
