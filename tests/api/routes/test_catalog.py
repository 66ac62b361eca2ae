"""GET /api/surfaces and GET /api/optimizers: the catalogs the page builds its controls from."""

import pytest

SURFACES = {"quadratic", "saddle", "rosenbrock", "himmelblau", "two_weight_net", "logistic_neuron"}
OPTIMIZERS = {"gd", "momentum", "nesterov", "newton", "adagrad", "rmsprop", "adam", "sgd", "preconditioned"}


@pytest.fixture(scope="module")
def surfaces(client, strict_json):
    r = client.get("/api/surfaces")
    assert r.status_code == 200
    return strict_json(r.text)["surfaces"]


@pytest.fixture(scope="module")
def optimizers(client, strict_json):
    r = client.get("/api/optimizers")
    assert r.status_code == 200
    return strict_json(r.text)["optimizers"]


def _check_params(owner: str, params: list[dict]):
    for p in params:
        where = f"{owner}.{p.get('name')}"
        assert p["description"].strip(), f"{where} has no description"
        assert "default" in p, f"{where} has no default"
        if p["kind"] == "choice":
            assert p["choices"], f"{where} has no choices"
            assert p["default"] in p["choices"], f"{where}: default {p['default']!r} not among {p['choices']}"
        elif p["kind"] == "text":
            assert isinstance(p["max_length"], int) and p["max_length"] > 0, f"{where} has no max_length"
            assert isinstance(p["default"], str) and len(p["default"]) <= p["max_length"], where
        else:
            assert p["kind"] in ("float", "int"), where
            lo, hi, d = p["min"], p["max"], p["default"]
            assert isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and lo < hi, where
            assert lo <= d <= hi, f"{where}: default {d} outside [{lo}, {hi}]"
            if p.get("min_exclusive"):
                assert d > lo, f"{where}: default {d} on the excluded bound {lo}"
            if p["kind"] == "int":
                assert isinstance(d, int), f"{where}: integer parameter with default {d!r}"


def test_surface_catalog_names_every_lecture_surface(surfaces):
    names = [s["name"] for s in surfaces]
    assert SURFACES <= set(names), f"missing: {SURFACES - set(names)}"
    assert len(names) == len(set(names)), "duplicate surface names"


def test_optimizer_catalog_names_every_lecture_optimizer(optimizers):
    names = [o["name"] for o in optimizers]
    assert OPTIMIZERS <= set(names), f"missing: {OPTIMIZERS - set(names)}"
    assert len(names) == len(set(names)), "duplicate optimizer names"


def test_every_surface_parameter_has_default_range_and_description(surfaces):
    for s in surfaces:
        assert s["title"] and s["description"], s["name"]
        x0, x1, y0, y1 = s["view"]
        assert x0 < x1 and y0 < y1, f"{s['name']} view {s['view']}"
        _check_params(s["name"], s["params"])


def test_every_optimizer_parameter_has_default_range_and_description(optimizers):
    for o in optimizers:
        assert o["title"] and o["description"] and o["formula"], o["name"]
        assert any(p["name"] == "lr" for p in o["params"]), f"{o['name']} has no step size"
        _check_params(o["name"], o["params"])


def test_quadratic_catalog_entry_matches_the_lecture(surfaces):
    [q] = [s for s in surfaces if s["name"] == "quadratic"]
    params = {p["name"]: p for p in q["params"]}
    assert set(params) == {"lambda_1", "lambda_2", "rotation"}
    assert params["rotation"]["min"] == -180 and params["rotation"]["max"] == 180
    assert q["minima"] == [[0.0, 0.0]]


def test_surface_defaults_validate_in_a_run(client, surfaces, strict_json):
    """Every surface's catalog defaults, sent back explicitly, are accepted and echoed by POST /api/run."""
    for s in surfaces:
        defaults = {p["name"]: p["default"] for p in s["params"]}
        x0, x1, y0, y1 = s["view"]
        body = {"surface": {"name": s["name"], "params": defaults}, "optimizers": [{"name": "gd"}],
                "start": [(x0 + x1) / 2, (y0 + y1) / 2], "steps": 3}
        r = client.post("/api/run", json=body)
        assert r.status_code == 200, (s["name"], r.text)
        out = strict_json(r.text)
        assert out["surface"]["name"] == s["name"]
        assert len(out["runs"][0]["points"]) == out["runs"][0]["steps_taken"] + 1


def test_optimizer_defaults_validate_in_a_run(client, optimizers, strict_json):
    """Every optimizer's catalog defaults are accepted, and the run echoes exactly those parameters."""
    for o in optimizers:
        defaults = {p["name"]: p["default"] for p in o["params"]}
        body = {"surface": {"name": "quadratic"}, "optimizers": [{"name": o["name"], "params": defaults}],
                "start": [1.0, 1.0], "steps": 3}
        r = client.post("/api/run", json=body)
        assert r.status_code == 200, (o["name"], r.text)
        [run] = strict_json(r.text)["runs"]
        assert run["optimizer"] == o["name"]
        assert run["params"] == defaults, o["name"]


def test_catalog_ranges_are_the_ones_the_api_enforces(client, optimizers, strict_json):
    """One source of truth: a value just past a catalog maximum is refused, naming that maximum."""
    [gd] = [o for o in optimizers if o["name"] == "gd"]
    lr = next(p for p in gd["params"] if p["name"] == "lr")
    body = {"surface": {"name": "quadratic"}, "optimizers": [{"name": "gd", "params": {"lr": lr["max"] * 1.5}}],
            "start": [1.0, 1.0], "steps": 3}
    r = client.post("/api/run", json=body)
    assert r.status_code == 422
    msg = strict_json(r.text)["message"]
    assert "optimizers.0.params.lr" in msg and f"lr ≤ {lr['max']:g}" in msg
