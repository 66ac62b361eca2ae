"""The lesson format (steps, controls, panels, predictions), every step's claims on its own scene,
and the audit's errors (each test here fails on the lessons as they were before the steps)."""

import json

import numpy as np
import orjson
import pytest

from engine import OPTIMIZERS, SURFACES, configure, make_surface, run, theory
from engine.lessons import LESSONS, PANELS, Context, evaluate, get_lesson, step_marks
from engine.lessons.base import fmt, placeholders, run_label
from engine.lessons.panels import backprop, tuned_steps

STEPS = [(lesson, n) for lesson in LESSONS for n in range(1, len(lesson.steps) + 1)]
IDS = [f"{lesson.id}#{n}" for lesson, n in STEPS]
_CACHE: dict = {}


def evaluated(lesson, n, cursor=None):
    key = (lesson.id, n, cursor)
    if key not in _CACHE:
        ctx = Context.of_scene(lesson.step(n).scene, cursor=cursor)
        _CACHE[key] = (ctx, evaluate(lesson, n, ctx))
    return _CACHE[key]


def strict_json(obj):
    """What the service sends: orjson turns numpy arrays into lists; no NaN or Infinity may be left."""
    return json.loads(orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY), parse_constant=lambda c: pytest.fail(c))


# --- the format -------------------------------------------------------------------------------------

@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_each_lesson_has_two_to_five_steps_and_lists_as_before(lesson):
    assert 2 <= len(lesson.steps) <= 5
    d = lesson.to_dict()
    assert d["scene"] == lesson.steps[0].scene and len(d["steps"]) == len(lesson.steps)
    assert d["text"] == [s.text[0] for s in lesson.steps]
    json.dumps(d, allow_nan=False)
    with pytest.raises(KeyError, match="steps 1 to"):
        lesson.step(len(lesson.steps) + 1)


@pytest.mark.parametrize("lesson,n", STEPS, ids=IDS)
def test_every_step_is_a_valid_scene_whose_claims_hold_on_it(lesson, n):
    step = lesson.step(n)
    sc = step.scene
    assert step.title and 1 <= len(step.text) <= 3 and all(t.strip() for t in step.text)
    assert sc["surface"] in SURFACES and 1 <= len(sc["optimizers"]) <= 8
    s = make_surface(sc["surface"], **sc["surfaceParams"])
    for o in sc["optimizers"]:
        assert o["name"] in OPTIMIZERS
        configure(o["name"], o["params"])
        for v in o["params"].values():
            assert not isinstance(v, float) or float(f"{v:.12g}") == v  # survives the page's URL hash
    assert isinstance(sc["steps"], int) and 1 <= sc["steps"] <= 20_000
    x0, x1, y0, y1 = s.view
    assert x0 <= sc["start"][0] <= x1 and y0 <= sc["start"][1] <= y1
    assert set(step.panels) <= set(PANELS)
    for c in step.controls:
        if c.run is None:
            assert c.param in s.params
        else:
            assert c.param in configure(sc["optimizers"][c.run]["name"]).params
    assert len(step.controls) <= 2
    ctx, out = evaluated(lesson, n)
    # Every number the text quotes is computed for the scene: each placeholder gets a value.
    wanted = set().union(*(placeholders(t) for t in step.text))
    assert wanted <= set(out["values"]), wanted - set(out["values"])
    assert all("—" not in t and "{" not in t for t in out["text"])
    # ... and every claim the step makes holds on its own scene.
    assert out["claims"] and all(c["holds"] for c in out["claims"]), [c for c in out["claims"] if not c["holds"]]
    if step.prediction:
        assert 2 <= len(step.prediction.choices) <= 4
        assert out["answer"] in range(len(step.prediction.choices))
    assert [r["label"] for r in out["runs"]] and all(r["label"] for r in out["runs"])
    assert set(out["panels"]) == set(step.panels)
    strict_json(out)
    for t in ctx.runs:
        assert np.all(np.isfinite(t.points))


def test_a_changed_setting_updates_the_numbers_or_says_the_claim_no_longer_holds():
    lesson = get_lesson("step-size")
    sc = json.loads(json.dumps(lesson.step(1).scene))
    sc["optimizers"][1]["params"]["lr"] = 0.8  # no longer η_opt
    out = evaluate(lesson, 1, Context.of_scene(sc))
    assert out["values"]["eta_opt"] == "0.5"
    claim = next(c for c in out["claims"] if c["text"].startswith("η = 0.8"))
    assert claim["holds"] is False and "overshoots" in claim["text"]
    sc["surfaceParams"]["lambda_1"] = 4.0
    out = evaluate(lesson, 1, Context.of_scene(sc))
    assert out["values"]["a"] == "4" and out["values"]["eta_opt"] == "0.25"
    assert (out["runs"][0]["marks"][0]["label"], out["runs"][0]["marks"][0]["value"]) == ("1/λmax", 0.25)


# --- the audit's errors ----------------------------------------------------------------------------------

def test_lesson_1_runs_are_told_apart_and_its_marks_carry_their_values():
    ctx, out = evaluated(get_lesson("step-size"), 4)
    labels = [r["label"] for r in out["runs"]]
    assert labels == ["GD η = 0.2", "GD η = 0.5", "GD η = 0.8", "GD η = 1.2"]
    w = [np.asarray(r["w"]) for r in out["panels"]["iterates"]["runs"]]
    assert all(not np.array_equal(w[i], w[j]) for i in range(4) for j in range(i))  # one line each, not one line for all
    assert [(m["label"], m["value"]) for m in out["runs"][0]["marks"]] == [("1/λmax", 0.5), ("2/λmax", 1.0)]
    assert out["runs"][1]["note"].startswith("lands in one step; within 10⁻⁶ of the minimum from step 1")
    # The step's numbers are the 1D ones the text is about, not the flat direction's (1/0.002).
    assert (out["values"]["eta_opt"], out["values"]["eta_max"]) == ("0.5", "1")


def test_step_marks_hold_for_their_own_optimizer():
    bowl = make_surface("quadratic", lambda_1=1, lambda_2=20, rotation=30)
    t = theory.quadratic_theory(1, 20)
    gd = step_marks(bowl, configure("gd", {"lr": 0.05}))
    assert [m["value"] for m in gd] == [pytest.approx(1 / 20), pytest.approx(2 / 20)]
    hb = step_marks(bowl, configure("momentum", {"lr": t["momentum_best_lr"], "momentum": t["momentum_best_beta"]}))
    [edge] = hb
    assert edge["value"] == pytest.approx(2 * (1 + t["momentum_best_beta"]) / 20)
    # The optimal heavy ball (η* = 0.1336) sits past GD's 2/λmax = 0.1 but inside its own edge, and converges.
    assert 2 / 20 < t["momentum_best_lr"] < edge["value"]
    assert float(theory.heavy_ball_rate(edge["value"] * 0.999, t["momentum_best_beta"], [1, 20])) < 1
    assert float(theory.heavy_ball_rate(edge["value"] * 1.001, t["momentum_best_beta"], [1, 20])) > 1
    [nedge] = step_marks(bowl, configure("nesterov", {"lr": 0.05, "momentum": 0.6}))
    assert float(theory.nesterov_rate(nedge["value"] * 0.999, 0.6, [1, 20])) < 1
    assert float(theory.nesterov_rate(nedge["value"] * 1.001, 0.6, [1, 20])) > 1
    for name in ("newton", "preconditioned"):
        assert [m["value"] for m in step_marks(bowl, configure(name))] == [1.0]
    for name in ("adam", "rmsprop", "adagrad"):
        assert step_marks(bowl, configure(name)) == []


def test_lesson_3_shows_the_convex_case_first_and_gd_stays_stable_on_rosenbrock():
    lesson = get_lesson("newton")
    surfaces = [s.scene["surface"] for s in lesson.steps]
    assert surfaces == ["quadratic", "logistic_neuron", "rosenbrock"]
    convex = make_surface("logistic_neuron", **lesson.step(2).scene["surfaceParams"])
    x0, x1, y0, y1 = convex.view
    grid = np.stack(np.meshgrid(np.linspace(x0, x1, 25), np.linspace(y0, y1, 25)), -1).reshape(-1, 2)
    assert np.all(np.linalg.eigvalsh(convex.hessian(grid))[:, 0] > 0)  # convex over the whole view
    ctx, out = evaluated(lesson, 3)
    assert all(t.status != "diverged" for t in ctx.runs)
    # The Taylor panel follows Newton's run, not run 1's.
    ctx, out = evaluated(lesson, 2, cursor=2)
    newton = ctx.index_of("newton")
    assert newton != 0 and out["panels"]["taylor"]["run"] == newton
    np.testing.assert_array_equal(out["panels"]["taylor"]["point"], ctx.runs[newton].points[2])


def test_lesson_4_rate_map_tells_slow_from_diverged():
    ctx, out = evaluated(get_lesson("momentum"), 1)
    m = out["panels"]["rate_map"]
    rate, div = np.asarray(m["rate"]), np.asarray(m["diverged"])
    assert np.array_equal(div, rate >= 1)
    slow = (rate > 0.95) & (rate < 1)
    assert slow.any() and not div[slow].any()  # slow but converging cells are not drawn as diverged
    assert rate.min() >= m["best"][2] - 1e-9 and div.any()


def test_lesson_6_shows_both_loss_curves_and_compares_each_at_its_best_step():
    lesson = get_lesson("ce-vs-l2")
    ctx, out = evaluated(lesson, 1)
    series = {s["loss"]: s for s in out["panels"]["compare_losses"]["series"]}
    assert set(series) == {"CE", "L2"}
    assert series["CE"]["steps_95"] == 18 and 350 <= series["L2"]["steps_95"] <= 400
    ctx, out = evaluated(lesson, 3)
    rows = {r["loss"]: r for r in out["panels"]["tuned"]["rows"]}
    assert rows["L2"]["best_lr"] > 10  # above the slider's cap: why it was hidden
    assert rows["CE"]["best_steps"] < rows["L2"]["best_steps"] <= 6  # a small gap once both are tuned
    l2 = make_surface("two_weight_net", loss="l2", activation="tanh")
    assert tuned_steps(l2, ctx.start, [0.5], steps=500)["steps_95"] == [series["L2"]["steps_95"]]  # the same count


def test_lesson_7_draws_both_weight_norms_and_says_2_ln_k_plus_a_constant():
    ctx, out = evaluated(get_lesson("label-smoothing"), 1)
    series = out["panels"]["weight_norm"]["series"]
    assert sorted(s["eps"] for s in series) == [0.0, 0.1]
    hard = next(s for s in series if s["eps"] == 0)
    assert float(hard["norm"][-1]) == pytest.approx(10.5, abs=0.1)  # at k = 3000, where 2 ln k = 16
    assert "O(1)" in " ".join(out["text"]) and out["values"]["norm_k"] == "10.5"


def test_lesson_8_variance_panel_stays_on_its_log_axis_and_runs_are_labelled_apart():
    ctx, out = evaluated(get_lesson("sgd"), 3)
    v = out["panels"]["variance"]
    assert max(v["batch_sizes"]) < v["n"] and np.all(np.asarray(v["measured"]) > 1e-6)
    assert np.all(np.asarray(v["predicted"]) > 0)
    ctx, out = evaluated(get_lesson("sgd"), 2)
    labels = [r["label"] for r in out["runs"]]
    assert len(set(labels)) == len(labels) and "SGD seed 2, η/k" in labels
    ctx, out = evaluated(get_lesson("sgd"), 1)
    assert [r["label"] for r in out["runs"]][1:] == ["SGD b = 1, seed 0", "SGD b = 1, seed 1", "SGD b = 1, seed 2"]


def test_lesson_9_relu_has_no_kink_here_and_the_gradient_at_w1_0_is_the_true_one():
    s = make_surface("two_weight_net", loss="ce", activation="relu")
    for w2 in (-2.0, 0.7, 1.5):
        h = 1e-7
        right = (s.value([h, w2]) - s.value([0.0, w2])) / h
        left = (s.value([0.0, w2]) - s.value([-h, w2])) / h
        assert right == pytest.approx(left, rel=1e-5)  # the one-sided derivatives agree: no kink
        assert float(s.grad([0.0, w2])[0]) == pytest.approx(right, rel=1e-5)  # a'(0) = 1 gave twice this
    # The table's three examples: near the boundary and far from it with the label of their side, one noisy.
    ctx = Context.of_scene(get_lesson("backprop").scene)
    ex = backprop(ctx)["examples"]
    side = [float(c["x"] > 0) for c in ex]
    assert [c["d"] == sd for c, sd in zip(ex, side)] == [True, True, False]
    assert abs(ex[0]["x"]) < abs(ex[1]["x"])
    assert "kink, which" not in " ".join(get_lesson("backprop").step(2).text)


def test_surface_descriptions_say_what_happens():
    tw = SURFACES["two_weight_net"].DESCRIPTION
    assert "with tanh" in tw and tw.index("with tanh") < tw.index("hence two minima")
    r = make_surface("rosenbrock")
    lam = np.linalg.eigvalsh(r.hessian(np.array([1.0, 1.0])))
    assert "2500" in SURFACES["rosenbrock"].DESCRIPTION and lam[1] / lam[0] == pytest.approx(2500, rel=0.01)
    beale = make_surface("beale")
    gd, adam = run(beale, [("gd", {"lr": 0.01}), ("adam", {"lr": 0.05})], start=(-2, -0.5), steps=2000)
    assert np.linalg.norm(gd.points[-1] - [3, 0.5]) < 0.01 < 1 < np.linalg.norm(adam.points[-1] - [3, 0.5])
    gd, adam, rms = run(beale, [("gd", {"lr": 0.01}), ("adam", {"lr": 0.05}), ("rmsprop", {"lr": 0.01})],
                        start=(-3, -3), steps=2000)
    assert gd.status == "diverged" and adam.status != "diverged" and rms.status != "diverged"
    d = SURFACES["beale"].DESCRIPTION
    assert "(−2, −0.5)" in d and "(−3, −3)" in d and "shine" not in d


def test_conventions_are_said_once_with_one_momentum_symbol():
    assert "v ← βv + g" in get_lesson("momentum").conventions[0]
    assert "1 − (K − 1)ε" in get_lesson("label-smoothing").conventions[0] and "2ε" in get_lesson("label-smoothing").conventions[0]
    for spec in OPTIMIZERS.values():
        assert "μ" not in spec.formula and all("μ" not in p.description for p in spec.params)
    ls = next(p for p in SURFACES["logistic_neuron"].PARAMS if p.name == "label_smoothing")
    assert "2ε" in ls.description


def test_run_labels_name_what_differs():
    cfgs = [configure("gd", {"lr": 0.1}), configure("gd", {"lr": 0.2}), configure("momentum", {"lr": 0.1, "momentum": 0.9})]
    assert [run_label(c, cfgs) for c in cfgs] == ["GD η = 0.1", "GD η = 0.2", "Heavy ball η = 0.1, β = 0.9"]
    assert fmt(1e-6) == "10⁻⁶" and fmt(-0.6) == "−0.6" and fmt(0.000264) == "2.64·10⁻⁴"
