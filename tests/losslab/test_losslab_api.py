"""The Python API gives the engine's numbers, round-trips page links and refuses bad values at once."""

import json
import warnings

import numpy as np
import pytest

import engine
import losslab as ll
from engine.defaults import DEFAULT_TOL
from losslab import _js, _page

PAGE_URL = ("http://127.0.0.1:8000/#s=quadratic:lambda_1=1,lambda_2=20,rotation=30"
            "&o=gd:lr=0.09|momentum:lr=0.04,momentum=0.7&start=-2,-0.5&steps=100&seed=0")

# (surface, surface params, start, [(optimizer, params)], steps, seed): each row must give,
# array for array, what the engine gives when called directly.
SCENES = [
    ("quadratic", dict(lambda_1=1, lambda_2=20, rotation=30), (-2, -0.5),
     [("gd", dict(lr=0.09)), ("momentum", dict(lr=0.04, momentum=0.7))], 100, 0),
    ("quadratic", dict(lambda_1=1, lambda_2=10, rotation=0), (1, 1), [("gd", dict(lr=0.25))], 30, 0),
    ("saddle", dict(wall=0.5), (-1.8, 1e-6),
     [("sgd", dict(lr=0.05, noise=0.1)), ("newton", {}), ("nesterov", dict(lr=0.05))], 120, 3),
    ("rosenbrock", {}, (-1.5, 2), [("adam", dict(lr=0.1)), ("rmsprop", dict(lr=0.01))], 200, 0),
    ("logistic_neuron", dict(label_smoothing=0.2), (0, 3),
     [("sgd", dict(lr=4.0, batch_size=1, seed=1)), ("sgd", dict(lr=4.0, batch_size=4, schedule="inverse"))], 150, 7),
    ("two_weight_net", dict(loss="l2"), (3.5, -5), [("gd", dict(lr=0.5)), ("preconditioned", {})], 80, 0),
    # The custom surface: a typed formula with its view, built as the server builds it.
    ("custom", dict(formula="(1 - x)**2 + 100*(y - x**2)**2", view=(-2, 2, -1, 3)), (-1.5, 2),
     [("adam", dict(lr=0.05)), ("newton", {})], 200, 0),
    ("custom", dict(formula="x**2 + y**2 - log(x + 2)"), (-1.5, 1),  # undefined for x < -2: gd at lr 1 diverges
     [("gd", dict(lr=1.0)), ("sgd", dict(lr=0.05, noise=0.5))], 60, 3),
]


def _direct(surface, sparams, start, opts, steps, seed):
    surf = engine.make_surface(surface, **sparams)
    return engine.run(surf, [engine.configure(n, p) for n, p in opts], list(start), steps, tol=DEFAULT_TOL, seed=seed)


def _scene(surface, sparams, start, opts, steps, seed):
    s = ll.Scene(surface, **sparams).start(*start)
    for name, params in opts:
        s = s.add(name, **params)
    return s.replace(steps=steps, seed=seed)


def assert_same_runs(result, trajectories):
    assert len(result) == len(trajectories)
    for run, t in zip(result, trajectories):
        assert run.optimizer == t.optimizer and run.params == t.params
        assert np.array_equal(run.points, t.points)
        assert np.array_equal(run.losses, t.losses)
        assert np.array_equal(run.grad_norms, t.grad_norms)
        assert (run.status, run.steps_taken) == (t.status, t.steps_taken)


@pytest.mark.parametrize("row", SCENES, ids=lambda r: f"{r[0]}-{'+'.join(n for n, _ in r[3])}")
def test_run_gives_the_engines_numbers(row):
    assert_same_runs(_scene(*row).run(), _direct(*row))


@pytest.mark.parametrize("row", SCENES, ids=lambda r: r[0])
def test_url_round_trip_gives_the_same_scene_and_numbers(row):
    scene = _scene(*row)
    back = ll.Scene.from_url(scene.to_url())
    assert back == scene
    assert back.to_url() == scene.to_url()
    assert_same_runs(back.run(), _direct(*row))


def test_from_url_of_a_page_link_equals_a_direct_engine_run_bit_for_bit():
    result = ll.Scene.from_url(PAGE_URL).run()
    surface = engine.make_surface("quadratic", lambda_1=1, lambda_2=20, rotation=30)
    configs = [engine.configure("gd", {"lr": 0.09}), engine.configure("momentum", {"lr": 0.04, "momentum": 0.7})]
    assert_same_runs(result, engine.run(surface, configs, [-2, -0.5], 100, tol=DEFAULT_TOL, seed=0))
    # The page's socket streams run_chunks in chunks of 50: the same numbers.
    parts = {0: [], 1: []}
    for chunk in engine.run_chunks(surface, configs, [-2, -0.5], 100, tol=DEFAULT_TOL, seed=0, chunk_size=50):
        for rc in chunk.runs:
            parts[rc.run].append(rc.points)
    for i, run in enumerate(result):
        assert np.array_equal(np.concatenate(parts[i]), run.points)


def test_a_link_without_a_hash_opens_the_pages_default_scene():
    default = ll.Scene.from_url("http://127.0.0.1:8000/")
    assert default == ll.Scene.from_url(PAGE_URL)
    assert default == ll.Scene.from_url(PAGE_URL.split("#")[1])  # the hash alone, without '#'


def test_a_short_lesson_link_opens_the_lessons_scene_as_on_the_page():
    lesson = ll.lessons()[0]
    assert ll.Scene.from_url(f"http://127.0.0.1:8000/#lesson={lesson.id}") == ll.Scene.from_lesson(lesson.id)
    assert ll.Scene.from_url(f"#lesson={lesson.id}&steps=7") == ll.Scene.from_lesson(lesson.id)
    # With a surface in the link, the link's own scene wins and only names the lesson.
    own = ll.Scene.from_url(f"#s=saddle&lesson={lesson.id}")
    assert own.surface == "saddle" and own.lesson == lesson.id
    # An unknown lesson id is just a label: the page opens the link's scene (here the default one).
    assert ll.Scene.from_url("#lesson=no-such-lesson").replace(lesson="") == ll.Scene.from_url("")


def test_from_url_fills_defaults_and_keeps_lesson_steps_and_seed():
    s = ll.Scene.from_url("#s=rosenbrock&o=sgd:lr=0.001|adam&start=-1.5,2&steps=20&seed=5&lesson=my%20lesson")
    assert s.surface == "rosenbrock" and s.surface_params == {"a": 1.0, "b": 100.0}
    assert [o.name for o in s.optimizers] == ["sgd", "adam"]
    assert s.optimizers[0].params == engine.configure("sgd", {"lr": 0.001}).params
    assert s.optimizers[1].params == engine.configure("adam").params
    assert (s.start_point, s.steps, s.seed, s.lesson) == ((-1.5, 2.0), 20, 5, "my lesson")
    assert "lesson=my%20lesson" in s.to_url()


@pytest.mark.parametrize("hash_, expected, warning", [
    ("#s=quadratic:lambda_1=-1", {"lambda_1": 0.001}, "quadratic.lambda_1 = -1 is not allowed"),
    ("#s=quadratic:lambda_1=abc", {"lambda_1": 1.0}, "quadratic.lambda_1 = 'abc' is not a number"),
    ("#s=quadratic:typo=3", {"lambda_1": 1.0}, "quadratic.typo is not a parameter of quadratic"),
    ("#s=nowhere", {"lambda_2": 10.0}, "surface 'nowhere' is unknown; the page opens quadratic"),
])
def test_from_url_fixes_what_the_page_fixes_and_warns(hash_, expected, warning):
    with pytest.warns(ll.LinkWarning, match=warning):
        s = ll.Scene.from_url(hash_)
    assert s.surface == "quadratic"
    assert {k: s.surface_params[k] for k in expected} == expected


def test_from_url_clamps_optimizers_start_steps_and_seed_as_the_page_does():
    many = "|".join(["gd:lr=0"] + ["nope"] + ["momentum:schedule=weird"] * 9)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = ll.Scene.from_url(f"#o={many}&start=99,-99&steps=0&seed=-4")
    assert len(s.optimizers) == 8
    assert s.optimizers[0].params["lr"] == np.finfo(float).eps  # the page's lower bound for 0 < lr
    assert s.optimizers[1].params["schedule"] == "constant"
    assert s.start_point == (7.5, -7.5)  # the view (±2.5) enlarged by its size
    assert (s.steps, s.seed) == (1, 0)
    messages = " | ".join(str(w.message) for w in caught)
    for part in ("optimizer 'nope' is unknown", "more than 8 optimizers", "start = 99, -99", "steps = 0", "seed = -4"):
        assert part in messages


def test_a_link_the_page_cannot_read_is_an_error():
    with pytest.raises(ValueError, match="cannot be read"):
        ll.Scene.from_url("#s=quadratic:lambda_1=%zz")
    with pytest.raises(ValueError, match="cannot be read"):
        ll.Scene.from_url("#s=custom&f=x%zz")


# --- the custom surface (a typed formula) ---------------------------------------------------

def test_a_custom_scene_keeps_its_formula_and_view_as_the_page_does():
    s = ll.Scene("custom", formula="x**2 + 3*y**2", view=(-2, 2, -2, 2)).start(1, 1).add("newton")
    assert (s.surface, s.surface_params, s.formula, s.view) == ("custom", {}, "x**2 + 3*y**2", (-2.0, 2.0, -2.0, 2.0))
    assert s.engine_surface.view == (-2.0, 2.0, -2.0, 2.0) and s.engine_surface.minima == [(0.0, 0.0)]
    d = s.to_dict()
    assert list(d) == ["surface", "surfaceParams", "optimizers", "start", "steps", "seed", "tol", "lesson", "formula", "view"]
    assert (d["surfaceParams"], d["formula"], d["view"]) == ({}, "x**2 + 3*y**2", [-2.0, 2.0, -2.0, 2.0])
    assert s.to_url("") == "#s=custom:&o=newton:lr=1&start=1,1&steps=100&seed=0&tol=0.0001&f=x**2%20%2B%203*y**2&view=-2,2,-2,2"
    assert ll.Scene.from_url(s.to_url()) == s and ll.Scene.from_dict(d) == s
    assert repr(s) == "Scene('custom', formula='x**2 + 3*y**2', view=(-2, 2, -2, 2)).start(1, 1).add('newton')"
    assert eval(repr(s), {"Scene": ll.Scene}) == s
    assert s != ll.Scene("custom", formula="x**2 + 3*y**2", view=(-2, 2, -2, 3)).start(1, 1).add("newton")
    # Other surfaces have neither, as on the page.
    q = ll.Scene().to_dict()
    assert (q["formula"], q["view"]) == ("", None) and "&f=" not in ll.Scene().to_url()


def test_a_custom_scene_without_formula_or_view_takes_the_pages_defaults():
    from engine.surfaces.custom import DEFAULT_FORMULA, DEFAULT_VIEW

    s = ll.Scene("custom")
    assert (s.formula, s.view) == (DEFAULT_FORMULA, DEFAULT_VIEW)
    # A link without a start opens at the opening scene's; a Scene starts where choosing the surface puts it
    assert ll.Scene.from_url("#s=custom&o=gd") == ll.Scene("custom").start(-2, -0.5).add("gd")
    # With its own view, it starts a fifth of the way in from that view's upper-left corner
    assert ll.Scene("custom", formula="x**2", view=(0, 1, 0, 1)).start_point == (0.2, 0.8)


@pytest.mark.parametrize("hash_, formula, view, start, warning", [
    ("#s=custom&f=%20&view=-1,1,-1,1", engine.surfaces.custom.DEFAULT_FORMULA, (-1, 1, -1, 1), (-2, -0.5),
     "formula ' ' is blank; the page uses"),
    ("#s=custom&f=x**2&view=1,-1,-1,1", "x**2", (-3, 3, -3, 3), (-2, -0.5), "view = 1, -1, -1, 1 is not xmin,xmax,ymin,ymax"),
    ("#s=custom&f=x**2&view=0,1,0,1&start=5,-5", "x**2", (0, 1, 0, 1), (2, -1), "start = 5, -5 is far off the view"),
    ("#s=custom&f=x**2&view=0,1,0,1&start=a", "x**2", (0, 1, 0, 1), (0.5, 0.5), "the page starts at the view's centre"),
    ("#s=custom:formula=y&f=x**2", "x**2", (-3, 3, -3, 3), (-2, -0.5), "the page reads the formula from f="),
])
def test_from_url_fixes_a_custom_scene_as_the_page_does(hash_, formula, view, start, warning):
    with pytest.warns(ll.LinkWarning, match=warning):
        s = ll.Scene.from_url(hash_)
    assert (s.formula, s.view, s.start_point) == (formula, view, start)


def test_formula_and_view_on_another_surface():
    with pytest.warns(ll.LinkWarning, match="f= is only for the custom surface; the page ignores it on saddle"):
        s = ll.Scene.from_url("#s=saddle&f=x**2")
    assert (s.surface, s.formula, s.view) == ("saddle", "", None)
    with pytest.raises(ll.ParamError, match=r"saddle.view = \(0, 1, 0, 1\) is not allowed: only for the custom surface"):
        ll.Scene("saddle", view=(0, 1, 0, 1))
    with pytest.raises(ll.ParamError, match="quadratic.formula = 'x' is not allowed: only for the custom surface"):
        ll.Scene(formula="x")


def test_a_formula_or_view_the_server_refuses_fails_at_once():
    from engine.surfaces.custom import FormulaError

    with pytest.raises(FormulaError) as err:
        ll.Scene("custom", formula="x**2 + foo(y)")
    assert err.value.column == 8 and "the function 'foo' is not allowed at column 8" in str(err.value)
    with pytest.raises(ll.ParamError, match=r"custom.view = \(0, 1, 0\) is not allowed"):
        ll.Scene("custom", view=(0, 1, 0))
    # A link's view past the server's limits falls back to the default view, on the page and here.
    with pytest.warns(ll.LinkWarning, match="up to 1000 with spans of at least 0.001"):
        assert ll.Scene.from_url("#s=custom&f=x**2&view=-5000,5000,-1,1").view == (-3.0, 3.0, -3.0, 3.0)


def test_a_custom_scene_sweeps_and_has_theory():
    s = ll.Scene("custom", formula="x**2 + 3*y**2", view=(-2, 2, -2, 2)).start(1, 1)
    assert s.theory()["start"]["eigenvalues"] == pytest.approx([2.0, 6.0])
    m = s.sweep("momentum", lrs=[0.1, 0.2], betas=[0.0, 0.5], steps=100)
    ref = engine.sweep(s.engine_surface, "momentum", [0.1, 0.2], [0.0, 0.5], start=[1, 1], steps=100, tol=1e-6)
    assert np.array_equal(m.steps_to_tol, ref.steps_to_tol) and m.rate is None


def test_to_url_writes_numbers_as_the_page_does():
    s = ll.Scene("quadratic", lambda_1=0.1 + 0.2, lambda_2=2.0**-18 * 1e6).start(1e-7, -0.0).add("adam", lr=1 / 3)
    url = s.to_url("http://host:1/page#old")
    assert url.startswith("http://host:1/page#s=quadratic:lambda_1=0.3,lambda_2=3.81469726563,rotation=30&")
    assert "o=adam:lr=0.333333333333,beta1=0.9,beta2=0.999,eps=1e-8&start=1e-7,0&" in url


def test_scenes_are_immutable_values_with_a_repr_that_rebuilds_them():
    base = ll.Scene("saddle", wall=0.5)
    grown = base.start(1, 0.01).add("sgd", lr=0.02, noise=1).replace(steps=50, seed=7)
    # as choosing the saddle on the page: its own start and steps
    assert base.optimizers == () and (base.start_point, base.steps) == ((-1.8, 0.01), 150)
    assert repr(base) == "Scene('saddle', curvature_ratio=1, wall=0.5).start(-1.8, 0.01)"
    with pytest.raises(AttributeError):
        grown.steps = 3
    assert eval(repr(grown), {"Scene": ll.Scene}) == grown
    assert repr(grown) == "Scene('saddle', curvature_ratio=1, wall=0.5).start(1, 0.01).add('sgd', lr=0.02, noise=1).replace(steps=50, seed=7)"


@pytest.mark.parametrize("make, message", [
    (lambda: ll.Scene("quadratic", lambda_1=-1), "quadratic.lambda_1 = -1 is not allowed: a finite number with 0.001"),
    (lambda: ll.Scene("nope"), "surface = 'nope' is not allowed: one of quadratic"),
    (lambda: ll.Scene().add("gd", lr=11), "gd.lr = 11 is not allowed"),
    (lambda: ll.Scene().add("gd", step=0.1), "gd.step = 0.1 is not allowed: unknown parameter"),
    (lambda: ll.Scene().start(float("nan"), 0), "start = [nan, 0] is not allowed"),
    (lambda: ll.Scene().run(), "optimizers = [] is not allowed: at least one"),
    (lambda: ll.Scene().add("gd").run(steps=-1), "steps = -1 is not allowed"),
    (lambda: ll.Scene.from_lesson("nope"), "lesson = 'nope' is not allowed"),
])
def test_bad_values_fail_at_once_naming_the_parameter(make, message):
    with pytest.raises(ll.ParamError) as err:
        make()
    assert message in str(err.value)


def test_result_rows_csv_and_json_hold_the_same_numbers():
    result = ll.Scene("saddle").start(-1.8, 0.2).add("gd", lr=0.05).add("momentum", lr=0.05).run(steps=30)
    rows = result.to_rows()
    assert len(rows) == sum(len(r.points) for r in result)
    assert rows[31] == {"run": 1, "optimizer": "momentum", "step": 0, "x": -1.8, "y": 0.2,
                        "loss": float(result[1].losses[0]), "grad_norm": float(result[1].grad_norms[0])}
    lines = result.to_csv().splitlines()
    assert lines[0] == "run,optimizer,step,x,y,loss,grad_norm"
    for line, row in zip(lines[1:], rows):
        run, opt, step, *numbers = line.split(",")
        assert (int(run), opt, int(step)) == (row["run"], row["optimizer"], row["step"])
        assert [float(v) for v in numbers] == [row[k] for k in ("x", "y", "loss", "grad_norm")]
    data = json.loads(result.to_json())
    assert data["scene"] == result.scene.to_dict()
    assert data["runs"][1]["points"] == result[1].points.tolist()
    assert data["runs"][0]["status"] == "max_steps" and data["runs"][0]["steps_taken"] == 30


def test_diverged_runs_keep_only_finite_values():
    result = ll.Scene("quadratic", lambda_1=1, lambda_2=20).add("gd", lr=5).run(steps=400)
    run = result[0]
    assert run.status == "diverged" and run.steps_taken < 400
    assert np.all(np.isfinite(run.points)) and len(run.points) == run.steps_taken + 1
    assert "nan" not in result.to_csv().lower() and "null" not in json.dumps(json.loads(result.to_json())["runs"])


def test_catalogs_and_lessons():
    assert ll.surfaces().names() == list(engine.SURFACES) + ["custom"]  # the page's list, "Your own formula…" last
    assert ll.surfaces()["custom"].params["formula"].kind == "text"
    assert ll.optimizers().names() == list(engine.OPTIMIZERS)
    assert ll.surfaces()["saddle"].params["wall"].high == 10.0
    assert "momentum" in repr(ll.optimizers()) and "v ← β v + g" in repr(ll.optimizers())
    with pytest.raises(KeyError, match="not one of"):
        ll.surfaces()["nope"]
    lessons = ll.lessons()
    assert [l.number for l in lessons] == sorted(l.number for l in lessons)
    for lesson in lessons:
        expected = _page.normalize({**lesson.scene, "lesson": lesson.id})
        with warnings.catch_warnings():
            warnings.simplefilter("error", ll.LinkWarning)  # every lesson is a valid scene
            assert ll.Scene.from_lesson(lesson.id).to_dict() == expected
        assert ll.Scene.from_lesson(lesson.number) == ll.Scene.from_lesson(lesson.id)


def test_theory_on_the_quadratic():
    t = ll.Scene("quadratic", lambda_1=1, lambda_2=100).theory()
    assert t["quadratic"] == engine.theory.quadratic_theory(1.0, 100.0)
    assert t["start"]["eigenvalues"] == pytest.approx([1.0, 100.0])


# --- (η, β) maps -------------------------------------------------------------------

def test_sweep_equals_the_engines_sweep_with_the_analytic_rate():
    scene = ll.Scene("quadratic", lambda_1=1, lambda_2=20).start(-2, -0.5)
    lrs, betas = np.geomspace(0.01, 0.2, 7), np.linspace(0, 0.9, 5)
    m = scene.sweep("momentum", lrs=lrs, betas=betas, steps=150, tol=1e-6)
    ref = engine.sweep(scene.engine_surface, "momentum", lrs, betas, start=[-2, -0.5], steps=150, tol=1e-6)
    assert np.array_equal(m.steps_to_tol, ref.steps_to_tol)
    assert np.array_equal(m.diverged, ref.diverged)
    assert np.array_equal(m.final_loss, ref.final_loss, equal_nan=True)
    assert np.array_equal(m.rate, engine.theory.rate_map([1.0, 20.0], lrs, betas))
    best = m.best
    j, i = list(betas).index(best["beta"]), list(lrs).index(best["lr"])
    assert m.steps_to_tol[j, i] == best["steps"] == m.steps_to_tol[m.steps_to_tol >= 0].min()
    rows = m.to_rows()
    assert len(rows) == 35 and rows[0]["lr"] == lrs[0] and rows[0]["beta"] == 0.0


def test_sweep_in_blocks_with_progress_gives_the_same_cells():
    scene = ll.Scene("quadratic", lambda_1=1, lambda_2=20).start(-2, -0.5)
    seen = []
    whole = scene.sweep("momentum", steps=80)
    blocks = scene.sweep("momentum", steps=80, progress=lambda done, total: seen.append((done, total)))
    assert np.array_equal(whole.steps_to_tol, blocks.steps_to_tol)
    assert np.array_equal(whole.final_loss, blocks.final_loss, equal_nan=True)
    assert seen[0] == (0, 2500) and seen[-1] == (2500, 2500) and len(seen) >= 3
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    gd_whole = scene.sweep("gd", steps=80)
    gd_blocks = scene.sweep("gd", steps=80, progress=lambda *_: None)
    assert gd_whole.betas is None and gd_whole.steps_to_tol.shape == (1, 50)
    assert np.array_equal(gd_whole.steps_to_tol, gd_blocks.steps_to_tol)


def test_sweep_without_theory_and_refusals():
    m = ll.sweep("rosenbrock", "adam", lrs=[0.01, 0.1], steps=50)
    assert m.rate is None and m.betas is None and m.theory is None
    nest = ll.Scene("quadratic").sweep("nesterov", lrs=[0.1], betas=[0.5], steps=20)
    # Nesterov's map is its own rate (declared on its catalog entry), not the heavy ball's
    assert nest.rate.tolist() == [[float(engine.theory.nesterov_rate(0.1, 0.5, [1.0, 10.0]))]]
    assert nest.rate[0, 0] != engine.theory.heavy_ball_rate(0.1, 0.5, [1.0, 10.0])
    # a schedule voids every closed form: the service and the Python API agree (issue 12)
    assert ll.Scene("quadratic").sweep("momentum", lrs=[0.1], betas=[0.5], steps=5,
                                        params={"schedule": "inverse"}).rate is None
    with pytest.raises(ll.ParamError, match="set by the map's axes"):
        ll.sweep("quadratic", "momentum", params={"lr": 0.1})
    with pytest.raises(ll.ParamError, match="gd has no momentum"):
        ll.sweep("quadratic", "gd", betas=[0.5])


# --- the JavaScript number formats ----------------------------------------------------

@pytest.mark.parametrize("value, text", [
    (0.09, "0.09"), (20.0, "20"), (-0.0, "0"), (1e-7, "1e-7"), (1e-6, "0.000001"), (1e21, "1e+21"),
    (1e20, "100000000000000000000"), (123456789.125, "123456789.125"), (5e-324, "5e-324"),
    (1.7976931348623157e308, "1.7976931348623157e+308"), (-2.5e-7, "-2.5e-7"), (float("inf"), "Infinity"),
])
def test_numbers_are_written_as_javascript_writes_them(value, text):
    assert _js.to_string(value) == text


@pytest.mark.parametrize("text, value", [
    ("12", 12.0), (" 1e3 ", 1000.0), ("0x1f", 31.0), ("0b101", 5.0), (".5", 0.5), ("5.", 5.0), ("", 0.0),
    ("-Infinity", float("-inf")), ("1_0", None), ("inf", None), ("-0x10", None), ("1e", None), ("abc", None),
])
def test_numbers_are_read_as_javascript_reads_them(text, value):
    got = _js.number(text)
    assert (np.isnan(got) if value is None else got == value)


def test_a_lesson_step_link_opens_that_steps_scene_as_on_the_page():
    third = ll.Scene.from_url("#lesson=newton&step=3")
    assert third == ll.Scene.from_lesson("newton", step=3) and third.surface == "rosenbrock"
    assert ll.Scene.from_url("#lesson=newton&step=99") == third  # the page clamps to the last step
    with pytest.raises(ll.ParamError, match="1 to 3"):
        ll.Scene.from_lesson("newton", step=4)


# --- one owner for the scene's limits (issue 12) ------------------------------------------

@pytest.mark.parametrize("change", [dict(seed=2**40), dict(steps=50_000), dict(steps=0), dict(tol=-1.0), dict(tol=1e7)])
def test_a_scene_outside_the_pages_limits_is_refused_not_silently_clamped(change):
    (name, value), = change.items()
    with pytest.raises(ll.ParamError, match=f"^{name} = "):
        ll.Scene().add("gd").replace(**change)
    with pytest.raises(ll.ParamError, match=f"^{name} = "):
        ll.Scene().add("gd").run(**change) if name != "steps" else ll.Scene().add("gd").run(value)


@pytest.mark.parametrize("change", [dict(seed=2**31 - 1, steps=20_000), dict(seed=0, steps=1, tol=0.0),
                                    dict(seed=12345, steps=777, tol=0.003)])
def test_every_scene_inside_the_limits_round_trips_through_its_link(change):
    s = ll.Scene("saddle").start(0.5, -0.25).add("sgd", lr=0.02, noise=0.5).add("adam", beta2=0.99999).replace(**change)
    assert ll.Scene.from_url(s.to_url()) == s
    from engine import defaults
    assert _page.STEPS == (1, defaults.MAX_STEPS) and _page.SEEDS == (0, defaults.SEED_MAX)
