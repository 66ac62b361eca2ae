"""The custom surface: a typed formula, its exact derivatives, and the whitelist that guards it.

Derivatives are checked against central differences; the Beale and Rosenbrock formulas
typed as text against the built-in surfaces; a table of hostile strings against the
whitelist, which must refuse each at once, name the column, and run nothing.
"""

import builtins
import os
import subprocess
import time

import numpy as np
import pytest

import engine
from engine import ParamError, make_surface, run
from engine.formula import loader, parser, workers
from engine.surfaces import custom
from engine.surfaces.custom import CustomSurface, FormulaError, check_formula, compile_formula

EYE = np.eye(2)

# (formula, view): every operator and function, on a box where the formula is smooth.
FORMULAS = [
    ("x**2 + 3*y**2", (-2, 2, -2, 2)),
    ("x^3 - 3*x*y^2", (-2, 2, -2, 2)),
    ("(1.5 - x + x*y)**2 + sin(3*x)*y**2", (-2, 2, -2, 2)),
    ("exp(-(x**2 + y**2)/2) * cos(pi*x) + e*y", (-2, 2, -2, 2)),
    ("log(1 + x**2 + y**2) + sqrt(2 + sin(x*y))", (-2, 2, -2, 2)),
    ("x/(1 + y**2) - 1/(3 + x**2)", (-2, 2, -2, 2)),
    ("tanh(x - y) + sinh(x/2)*cosh(y/3) + atan(x*y)", (-2, 2, -2, 2)),
    ("sigmoid(2*x + y) + softplus(x - 3*y) + tan(x/3)", (-2, 2, -2, 2)),
    ("2**x + x**(1/3)*y + y**-2 + x**0.5", (0.5, 2, 0.5, 2)),
    ("abs(x - 1)*y**2 + relu(y - x)**2", (-2, 2, -2, 2)),  # points on the kinks are skipped
    ("π*x**2 + 0.001*y**10 - 7", (-2, 2, -2, 2)),
]


def random_points(view, n=40, seed=0):
    x0, x1, y0, y1 = view
    rng = np.random.default_rng(seed)
    return np.stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)], -1)


@pytest.mark.parametrize("formula,view", FORMULAS, ids=[f for f, _ in FORMULAS])
def test_gradient_and_hessian_match_central_differences(formula, view):
    s = CustomSurface(formula=formula, view=view)
    p = random_points(view)
    if "abs" in formula:  # stay off the kinks x = 1 and y = x
        p = p[(np.abs(p[:, 0] - 1) > 1e-2) & (np.abs(p[:, 1] - p[:, 0]) > 1e-2)]
    f, g = s.value_and_grad(p)
    h = 1e-6
    fd_g = np.stack([(s.value(p + h * EYE[i]) - s.value(p - h * EYE[i])) / (2 * h) for i in range(2)], -1)
    np.testing.assert_allclose(g, fd_g, rtol=1e-6, atol=1e-6)
    fd_h = np.stack([(s.grad(p + h * EYE[i]) - s.grad(p - h * EYE[i])) / (2 * h) for i in range(2)], -2)
    hess = s.hessian(p)
    np.testing.assert_allclose(hess, fd_h, rtol=1e-5, atol=1e-5)
    assert np.array_equal(hess, np.swapaxes(hess, -1, -2))  # exactly symmetric, for Newton


@pytest.mark.parametrize("formula", ["3", "x", "y - 2*x", "x*y"])
def test_constant_derivatives_broadcast_to_the_batch_as_fresh_arrays(formula):
    s = CustomSurface(formula=formula)
    for shape in [(2,), (5, 2), (4, 3, 2)]:
        p = np.ones(shape)
        f, g = s.value_and_grad(p)
        assert f.shape == shape[:-1] and g.shape == shape and s.hessian(p).shape == shape + (2,)
        f[...] = 7.0  # the runner writes into what it gets back: never a view of its points
        assert np.all(p == 1.0)


# --- the built-in surfaces, typed --------------------------------------------

TYPED = [
    ("beale", {}, "(1.5 - x + x*y)**2 + (2.25 - x + x*y**2)**2 + (2.625 - x + x*y**3)**2", [1.0, 1.5]),
    ("rosenbrock", {}, "(1 - x)**2 + 100*(y - x**2)**2", [-1.5, 2.0]),
    ("rosenbrock", {"a": 0.5, "b": 10.0}, "(0.5 - x)^2 + 10*(y - x^2)^2", [-1.0, 0.0]),
]
OPTIMIZERS = [("gd", {"lr": 1e-3}), ("momentum", {"lr": 1e-3, "momentum": 0.9}), ("adam", {"lr": 0.05}),
              ("newton", {})]


@pytest.mark.parametrize("name,params,formula,start", TYPED, ids=[t[2][:20] for t in TYPED])
def test_typed_classics_give_the_built_in_trajectories(name, params, formula, start):
    """Agreement to a few ulps, not bitwise: sympy evaluates the same polynomials in another
    order (its gradient of Beale is (2y − 2)(xy − x + 1.5) + …, the built-in one 2a(y − 1) + …)
    and floating-point arithmetic is not associative. Over 300 steps the rounding differences
    stay at the 1e-12 level because these runs contract; bitwise equality is not expected."""
    built_in = make_surface(name, **params)
    typed = make_surface("custom", formula=formula, view=built_in.view)
    p = random_points(built_in.view, 50)
    np.testing.assert_allclose(typed.value(p), built_in.value(p), rtol=1e-13, atol=1e-12)
    np.testing.assert_allclose(typed.grad(p), built_in.grad(p), rtol=1e-13, atol=1e-11)
    np.testing.assert_allclose(typed.hessian(p), built_in.hessian(p), rtol=1e-13, atol=1e-11)
    for a, b in zip(run(built_in, OPTIMIZERS, start=start, steps=300), run(typed, OPTIMIZERS, start=start, steps=300)):
        assert (a.status, a.steps_taken) == (b.status, b.steps_taken), a.optimizer
        np.testing.assert_allclose(b.points, a.points, rtol=1e-10, atol=1e-12, err_msg=a.optimizer)
        np.testing.assert_allclose(b.losses, a.losses, rtol=1e-10, atol=1e-12, err_msg=a.optimizer)
    np.testing.assert_allclose(typed.minima, built_in.minima, atol=1e-12)


# --- where the formula is undefined --------------------------------------------

def test_undefined_points_are_gaps_in_the_grid():
    s = CustomSurface(formula="log(x) + 1/y", view=(-1, 1, -1, 1))
    xs, ys, z = s.grid(5)
    assert np.all(np.isnan(z[:, xs < 0]))  # log of a negative
    assert np.all(np.isfinite(z[ys != 0][:, xs > 0]))
    assert not np.isfinite(z[ys == 0][:, xs > 0]).any()  # 1/0


def test_a_run_stepping_where_the_formula_is_undefined_ends_diverged_with_finite_output():
    s = CustomSurface(formula="x**2 + y**2 - log(x + 2)")
    [t] = run(s, [("gd", {"lr": 2.0})], start=[-1.0, 1.0], steps=50)
    assert t.status == "diverged" and t.steps_taken == 1
    assert np.isfinite(t.points).all() and np.isfinite(t.losses).all() and np.isfinite(t.grad_norms).all()
    [t] = run(s, ["newton"], start=[-2.5, 0.0], steps=5)  # undefined at the start itself
    assert t.status == "diverged" and t.steps_taken == 0 and len(t.points) == 0


def test_critical_points_must_be_where_the_formula_is_defined():
    s = CustomSurface(formula="x**2 + y**2 - log(x + 2)")
    # ∂f/∂x = 2x − 1/(x + 2) also vanishes at x = −1 − √1.5 < −2, where log is undefined.
    np.testing.assert_allclose(s.minima, [(-1 + np.sqrt(1.5), 0.0)], atol=1e-12)
    camel = CustomSurface(formula="(4 - 2.1*x**2 + x**4/3)*x**2 + x*y + (4*y**2 - 4)*y**2", view=(-2, 2, -1.2, 1.2))
    assert len(camel.minima) == 6 and (0.0, 0.0) in camel.saddles


# --- the whitelist ----------------------------------------------------------------

SENTINEL = "losslab_custom_sentinel"

# (text, column of the first offending character, 1-based)
HOSTILE = [
    ("x.__class__", 2),
    ("x.__class__.__mro__[1].__subclasses__()", 2),
    ("().__class__.__bases__[0].__subclasses__()", 1),
    ("__import__('os').system('touch " + SENTINEL + "')", 1),
    ("open('" + SENTINEL + "', 'w')", 1),
    ("eval('1')", 1),
    ("exec('x = 1')", 1),
    ("getattr(x, 'real')", 1),
    ("globals()", 1),
    ("__builtins__", 1),
    ("sin.__call__(x)", 1),
    ("x + __import__", 5),
    ("lambda: 0", 1),
    ("(lambda: 0)()", 2),
    ("[x for x in (1, 2)]", 1),
    ("{x: 1}", 1),
    ("sum(i for i in (1, 2))", 1),
    ("x if y else 2", 1),
    ("sin(x=1)", 5),
    ("sin(*[x])", 5),
    ("sin(**{})", 5),
    ("'x'", 1),
    ("b'x'", 1),
    ("f'{x}'", 1),
    ("(y := 2)", 2),
    ("x[0]", 2),
    ("x < y", 3),
    ("x and y", 3),
    ("not x", 1),
    ("~x", 1),
    ("x @ y", 3),
    ("x // 2", 3),
    ("x % 2", 3),
    ("x << 2", 3),
    ("1j*x", 1),
    ("True*x", 1),
    ("None", 1),
    ("x(y)", 1),
    ("(sin(x))(y)", 9),
    ("sin(x, y)", 8),
    ("x; import os", 2),
    ("x\nimport os", 2),
    ("9**9**9", 4),
    ("9**9**9**9", 7),  # 9**(9**(9**9)): 9**9 is the first exponent too large
    ("(x**99999)", 5),
    ("x**10**10", 4),
    ("((x**10)**10)**10", 16),
    ("2**1e6", 4),
    ("exp(exp(exp(exp(10))))", 9),
    ("99999999999999999999*x", 1),
    ("1e999*x", 1),
    ("x**-1e9", 5),
    ("x**y", 4),
    ("(-2)**x", 2),
    ("1/0", 3),
    ("log(-1) + x", 1),
    ("(-8)**(1/3) + x", 1),
    ("-" * 45 + "x", 41),
    ("sin(" * 41 + "x" + ")" * 41, 161),
    ("x" + "+x" * 200, 1),  # 201 names and 200 operations: too many nodes (reported at some node)
    ("x + y.z", 6),
    ("π*x + y.z", 8),  # columns count characters, not UTF-8 bytes
    ("x^2 + y.z", 8),  # and the original text, though ^ is read as **
    ("x" * 10**6, 501),  # a megabyte
    ("(" * 10_000 + "x" + ")" * 10_000, 501),
    ("", 1),
    ("   ", 1),
]


def refuse_with_tripwires(monkeypatch, text):
    """compile_formula(text)'s FormulaError, checking that meanwhile nothing tried to evaluate,
    import, open a file or start a process (each such call is recorded and fails loudly)."""
    calls = []

    def trip(name):
        def tripped(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"{name} was called while checking a formula")
        return tripped

    real_import = builtins.__import__

    def guarded_import(name, *args, **kwargs):
        if name == "unicodedata":  # Python's parser normalizes non-ASCII names (π) with it
            return real_import(name, *args, **kwargs)
        return trip(f"__import__({name!r})")()

    with monkeypatch.context() as m:
        m.setattr(os, "system", trip("os.system"))
        m.setattr(subprocess, "Popen", trip("subprocess.Popen"))
        m.setattr(loader, "derive_in_worker", trip("the sympy worker"))  # refused by the whitelist alone
        for name in ("eval", "exec", "open"):  # not compile: ast.parse uses it, to parse only
            m.setattr(builtins, name, trip(name))
        m.setattr(builtins, "__import__", guarded_import)  # last: setattr itself imports
        try:
            compile_formula(text)
        except FormulaError as e:
            error = e
        else:
            error = None
    assert calls == []
    assert error is not None, f"{text!r} was accepted"
    return error


@pytest.mark.parametrize("text,column", HOSTILE, ids=[repr(t)[:40] for t, _ in HOSTILE])
def test_hostile_formulas_are_refused_at_once_with_the_column(text, column, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    t0 = time.perf_counter()
    e = refuse_with_tripwires(monkeypatch, text)
    assert time.perf_counter() - t0 < 1.0
    if not text.startswith("x+x+x"):
        assert e.column == column, e.problem
    assert f"at column {e.column};" in str(e) and "allowed: numbers" in str(e) and "sin cos tan" in str(e)
    assert isinstance(e, ParamError) and e.param == "custom.formula"
    assert not (tmp_path / SENTINEL).exists()


def test_the_whitelist_check_runs_no_sympy(monkeypatch):
    # check_formula is what the server runs before any worker: it must not build expressions.
    import sympy

    monkeypatch.setattr(sympy, "Add", None)
    monkeypatch.setattr(sympy, "Mul", None)
    check_formula("(1.5 - x + x*y)**2 + sin(3*x)*y**2 - log(2 + x^2)")


@pytest.mark.parametrize("text", ["x**2 + 3*y**2", "sin(x)*cos(y)"])
def test_a_megabyte_is_refused_before_it_is_hashed_or_parsed(text, monkeypatch):
    monkeypatch.setattr(parser.ast, "parse", None)
    with pytest.raises(FormulaError, match="more than 500"):
        make_surface("custom", formula=text + " " * 10**6)


def test_printed_code_naming_anything_else_is_refused():
    source = "def _lambdifygenerated(x, y):\n    return [__import__('os').system('true'), x, y]\n"
    with pytest.raises(FormulaError, match="__import__"):
        loader.load_code("x", source)
    fn = loader.load_code("x", "def _lambdifygenerated(x, y):\n    x0 = sin(x)\n    return [x0, arctan(y), pi]\n")
    assert fn(0.0, 1.0) == [0.0, np.arctan(1.0), np.pi]


# --- the worker's deadline ---------------------------------------------------------

def test_slow_sympy_work_is_stopped_at_the_deadline(monkeypatch):
    # Short, whitelisted, and yet sympy's assumption queries take seconds on its derivative.
    slow = "tanh((((x*(8-x))*(softplus(1)*(((x+e)*atan(y))+(((1.75*(x)**0.5)+x)*0.39)))))**5)"
    compile_formula("x*y")  # a worker is running and warm
    monkeypatch.setattr(workers, "FORMULA_TIMEOUT", 0.5)
    t0 = time.perf_counter()
    with pytest.raises(FormulaError, match="longer than 0.5 s"):
        compile_formula(slow)
    assert time.perf_counter() - t0 < 1.5
    t0 = time.perf_counter()
    with pytest.raises(FormulaError, match="longer than 0.5 s"):
        compile_formula(slow)  # refusals are cached
    assert time.perf_counter() - t0 < 0.01


@pytest.mark.parametrize("text,column,match", [
    ("x - x + 1/(x - x)", 12, "identically zero"),
    ("(-cosh(x))^(1/3) + y", 1, "complex number"),  # sympy: (-1)**(1/3)*cosh(x)**(1/3)
    ("log(x - x)", 1, "not a real number anywhere"),
])
def test_what_only_sympy_can_see_is_refused_by_the_worker(text, column, match):
    check_formula(text)  # the whitelist lets it through
    with pytest.raises(FormulaError, match=match) as info:
        compile_formula(text)
    assert info.value.column == column


def test_derivatives_too_large_to_evaluate_quickly_are_refused():
    product = "*".join(f"(x + {i}*y)**10" for i in range(1, 25))
    with pytest.raises(FormulaError, match="gradient is too large") as info:
        compile_formula(product)
    assert info.value.column == 1


def test_compiled_formulas_are_cached_by_text():
    a = compile_formula("x**2 + y**4 - x*y")
    assert compile_formula("x**2 + y**4 - x*y") is a
    assert a.gradient == ("2*x - y", "-x + 4*y**3")
    assert a.hessian == (("2", "-1"), ("-1", "12*y**2"))


# --- the surface --------------------------------------------------------------------

def test_make_surface_builds_it_and_the_catalog_describes_it():
    s = make_surface("custom", formula="x**2 + 3*y**2", view=(-1, 2, -3, 4))
    assert isinstance(s, CustomSurface) and s.view == (-1.0, 2.0, -3.0, 4.0) and s.minima == [(0.0, 0.0)]
    assert s.describe()["params"] == {"formula": "x**2 + 3*y**2"} and s.describe()["expression"] == "x**2 + 3*y**2"
    default = make_surface("custom")
    assert default.formula == custom.DEFAULT_FORMULA and default.view == (-3.0, 3.0, -3.0, 3.0)
    entry = CustomSurface.catalog_entry()
    assert entry["params"] == [{"name": "formula", "label": "f(x, y) =", "kind": "text", "default": custom.DEFAULT_FORMULA,
                                "description": entry["params"][0]["description"], "max_length": 500}]
    assert len(entry["examples"]) >= 5 and entry["grammar"]["functions"][:3] == ["sin", "cos", "tan"]
    for ex in entry["examples"]:  # every example compiles, on its own view
        CustomSurface(formula=ex["formula"], view=ex["view"])
    # Outside SURFACES: its parameter is text, which the generic catalog controls do not take.
    assert "custom" not in engine.SURFACES and "custom" in engine.surfaces.TEXT_SURFACES


@pytest.mark.parametrize("view", [(1, 0, 0, 1), (0, 1, 0), (0, 1e4, 0, 1), (0, 1, 0, float("nan")), "abcd", None])
def test_a_bad_view_names_itself(view):
    if view is None:
        assert CustomSurface(view=None).view == custom.DEFAULT_VIEW
        return
    with pytest.raises(ParamError, match="custom.view"):
        CustomSurface(view=view)


@pytest.mark.parametrize("params,match", [({"formula": 3}, "text of at most 500"), ({"a": 1}, "custom takes: formula")])
def test_bad_parameters_name_themselves(params, match):
    with pytest.raises(ParamError, match=match):
        make_surface("custom", **params)
