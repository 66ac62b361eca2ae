"""Bad parameters fail at once, with a message naming the parameter, its value and the range.

The web app shows these messages to the learner as they are, so the text is checked.
"""

import math

import numpy as np
import pytest

from engine import OPTIMIZERS, SURFACES, ParamError, catalog, configure, make_surface, run, run_chunks, sweep
from engine.optimizers import make_optimizer

BOWL = make_surface("quadratic")
NEURON = make_surface("logistic_neuron")

# (what is called, the exact message)
BAD = [
    # surfaces
    (lambda: make_surface("quadratic", lambda_1=-1), "quadratic.lambda_1 = -1.0 is not allowed: a finite number with 0.001 ≤ lambda_1 ≤ 1000"),
    (lambda: make_surface("quadratic", lambda_2=0), "quadratic.lambda_2 = 0.0 is not allowed: a finite number with 0.001 ≤ lambda_2 ≤ 1000"),
    (lambda: make_surface("quadratic", rotation=math.nan), "quadratic.rotation = nan is not allowed: a finite number with -180 ≤ rotation ≤ 180"),
    (lambda: make_surface("quadratic", lambda_1=math.inf), "quadratic.lambda_1 = inf is not allowed: a finite number with 0.001 ≤ lambda_1 ≤ 1000"),
    (lambda: make_surface("quadratic", lambda_1="1"), "quadratic.lambda_1 = '1' is not allowed: a finite number with 0.001 ≤ lambda_1 ≤ 1000"),
    (lambda: make_surface("rosenbrock", b=-5), "rosenbrock.b = -5.0 is not allowed: a finite number with 0 ≤ b ≤ 1000"),
    (lambda: make_surface("two_weight_net", loss="mse"), "two_weight_net.loss = 'mse' is not allowed: one of ce, l2"),
    (lambda: make_surface("two_weight_net", activation="gelu"), "two_weight_net.activation = 'gelu' is not allowed: one of tanh, sigmoid, relu"),
    (lambda: make_surface("logistic_neuron", label_smoothing=0.5),
     "logistic_neuron.label_smoothing = 0.5 is not allowed: a finite number with 0 ≤ label_smoothing ≤ 0.49"),
    (lambda: make_surface("quadrat"),
     "surface = 'quadrat' is not allowed: one of quadratic, saddle, rosenbrock, himmelblau, beale, booth, landscape, two_weight_net, logistic_neuron, softmax3, random_field, net221"),
    (lambda: make_surface("quadratic", lam=1), "quadratic.lam = 1 is not allowed: unknown parameter; quadratic takes: lambda_1, lambda_2, rotation"),
    (lambda: make_surface("beale", a=1), "beale.a = 1 is not allowed: unknown parameter; beale takes: none"),
    # optimizers
    (lambda: configure("gd", {"lr": 0}), "gd.lr = 0.0 is not allowed: a finite number with 0 < lr ≤ 10"),
    (lambda: configure("gd", {"lr": -0.1}), "gd.lr = -0.1 is not allowed: a finite number with 0 < lr ≤ 10"),
    (lambda: configure("adam", {"lr": math.nan}), "adam.lr = nan is not allowed: a finite number with 0 < lr ≤ 10"),
    (lambda: configure("adam", {"lr": math.inf}), "adam.lr = inf is not allowed: a finite number with 0 < lr ≤ 10"),
    (lambda: configure("adam", {"lr": -math.inf}), "adam.lr = -inf is not allowed: a finite number with 0 < lr ≤ 10"),
    (lambda: configure("gd", {"lr": True}), "gd.lr = True is not allowed: a finite number with 0 < lr ≤ 10"),
    (lambda: configure("gd", {"lr": None}), "gd.lr = None is not allowed: a finite number with 0 < lr ≤ 10"),
    (lambda: configure("gd", {"lr": 11}), "gd.lr = 11.0 is not allowed: a finite number with 0 < lr ≤ 10"),
    (lambda: configure("momentum", {"momentum": 1.0}), "momentum.momentum = 1.0 is not allowed: a finite number with 0 ≤ momentum ≤ 0.999"),
    (lambda: configure("adam", {"beta2": -0.1}), "adam.beta2 = -0.1 is not allowed: a finite number with 0 ≤ beta2 ≤ 0.99999"),
    (lambda: configure("sgdd"),
     "optimizer = 'sgdd' is not allowed: one of gd, momentum, nesterov, newton, preconditioned, adagrad, rmsprop, adam, sgd"),
    (lambda: configure("gd", {"learning_rate": 0.1}),
     "gd.learning_rate = 0.1 is not allowed: unknown parameter; gd takes: lr, schedule, decay_every"),
    (lambda: configure("newton", {"momentum": 0.9}), "newton.momentum = 0.9 is not allowed: unknown parameter; newton takes: lr"),
    (lambda: configure("gd", {"schedule": "cosine"}),
     "gd.schedule = 'cosine' is not allowed: one of constant, inverse, inverse_sqrt, step"),
    (lambda: configure("gd", {"decay_every": 2.5}), "gd.decay_every = 2.5 is not allowed: an integer with 1 ≤ decay_every ≤ 100000"),
    (lambda: configure("sgd", {"batch_size": 0}), "sgd.batch_size = 0 is not allowed: an integer with 1 ≤ batch_size ≤ 10000"),
    (lambda: configure("sgd", {"seed": -1}), "sgd.seed = -1 is not allowed: an integer with 0 ≤ seed ≤ 2147483647"),
    (lambda: make_optimizer("gd", lr=-1), "gd.lr = -1.0 is not allowed: a finite number with 0 < lr ≤ 10"),
    # runs
    (lambda: run(BOWL, [("gd", {"lr": -1})], start=[1, 2], steps=5), "gd.lr = -1.0 is not allowed: a finite number with 0 < lr ≤ 10"),
    (lambda: run(BOWL, ["gd"], start=[1, 2, 3], steps=1), "start = [1, 2, 3] is not allowed: a point [x, y] of two finite numbers"),
    (lambda: run(BOWL, ["gd"], start=[[1, 2]], steps=1), "start = [[1, 2]] is not allowed: a point [x, y] of two finite numbers"),
    (lambda: run(BOWL, ["gd"], start=5, steps=1), "start = 5 is not allowed: a point [x, y] of two finite numbers"),
    (lambda: run(BOWL, ["gd"], start=[1, math.nan], steps=1), "start = [1.0, nan] is not allowed: a point [x, y] of two finite numbers"),
    (lambda: run(BOWL, ["gd"], start=[1, 2], steps=-1), "steps = -1 is not allowed: an integer with 0 ≤ steps ≤ 10000000"),
    (lambda: run(BOWL, ["gd"], start=[1, 2], steps=1.5), "steps = 1.5 is not allowed: an integer with 0 ≤ steps ≤ 10000000"),
    (lambda: run(BOWL, ["gd"], start=[1, 2], steps=1, tol=-1), "tol = -1 is not allowed: a finite number with tol ≥ 0"),
    (lambda: run(BOWL, ["gd"], start=[1, 2], steps=1, tol=math.nan), "tol = nan is not allowed: a finite number with tol ≥ 0"),
    (lambda: run(BOWL, ["gd"], start=[1, 2], steps=1, seed=-1), "seed = -1 is not allowed: an integer with 0 ≤ seed < 2**63"),
    (lambda: run(BOWL, [], start=[1, 2], steps=1), "optimizers = [] is not allowed: at least one optimizer"),
    (lambda: run("quadratic", ["gd"], start=[1, 2], steps=1),
     "surface = 'quadratic' is not allowed: a Surface, e.g. make_surface('quadratic')"),
    (lambda: run(NEURON, [("sgd", {"batch_size": 9})], start=[1, 2], steps=1),
     "sgd.batch_size = 9 is not allowed: an integer with 1 ≤ batch_size ≤ 8, the number of examples of logistic_neuron"),
    (lambda: next(run_chunks(NEURON, [("sgd", {"batch_size": 9})], [1, 2], 1)),
     "sgd.batch_size = 9 is not allowed: an integer with 1 ≤ batch_size ≤ 8, the number of examples of logistic_neuron"),
    # sweeps
    (lambda: sweep(BOWL, "gd", lrs=[0.1, -1], start=[1, 1], steps=10), "gd.lr = -1.0 is not allowed: a finite number with 0 < lr ≤ 10"),
    (lambda: sweep(BOWL, "gd", lrs=[0.1, math.nan], start=[1, 1], steps=10), "gd.lr = nan is not allowed: a finite number with 0 < lr ≤ 10"),
    (lambda: sweep(BOWL, "gd", lrs=[], start=[1, 1], steps=10), "lrs = [] is not allowed: at least one step size"),
    (lambda: sweep(BOWL, "momentum", lrs=[0.1], betas=[], start=[1, 1], steps=10),
     "betas = [] is not allowed: at least one momentum, or None to sweep η alone"),
    (lambda: sweep(BOWL, "momentum", lrs=[0.1], betas=[0.5, 1.5], start=[1, 1], steps=10),
     "momentum.momentum = 1.5 is not allowed: a finite number with 0 ≤ momentum ≤ 0.999"),
    (lambda: sweep(BOWL, "gd", lrs=[0.1], betas=[0.5], start=[1, 1], steps=10),
     "betas = 'given' is not allowed: gd has no momentum; sweep η alone or use momentum, nesterov or sgd"),
    (lambda: sweep(BOWL, "momentum", lrs=np.full(600, 0.1), betas=np.full(600, 0.5), start=[1, 1], steps=10),
     "cells = 360000 is not allowed: at most 250000 (len(lrs) × len(betas))"),
    (lambda: sweep(BOWL, "adam", lrs=[0.1], params={"beta1": 2}, start=[1, 1], steps=10),
     "adam.beta1 = 2.0 is not allowed: a finite number with 0 ≤ beta1 ≤ 0.9999"),
    (lambda: sweep(BOWL, "gd", lrs=[0.1], start=[1, 1, 3], steps=10), "start = [1, 1, 3] is not allowed: a point [x, y] of two finite numbers"),
    (lambda: sweep(BOWL, "gd", lrs=[0.1], start=[1, 1], steps=-3), "steps = -3 is not allowed: an integer with 0 ≤ steps ≤ 10000000"),
]


@pytest.mark.parametrize("call, message", BAD, ids=[m.split(" is not")[0] for _, m in BAD])
def test_bad_parameter_names_itself_its_value_and_the_range(call, message):
    with pytest.raises(ParamError) as info:
        call()
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)
    assert info.value.param == message.split(" = ")[0]


@pytest.mark.parametrize("value", [0.001, 1000, 1, 5.5, np.float64(2.0), np.int64(3)])
def test_good_values_at_and_inside_the_bounds_are_accepted(value):
    s = make_surface("quadratic", lambda_1=value)
    assert s.params["lambda_1"] == float(value) and type(s.params["lambda_1"]) is float


def test_defaults_fill_in_and_ints_stay_ints():
    cfg = configure("sgd", {"lr": 1, "batch_size": 4.0})
    assert cfg.params == dict(lr=1.0, momentum=0.0, batch_size=4, noise=0.0, seed=0, schedule="constant", decay_every=100)
    assert type(cfg.params["batch_size"]) is int and type(cfg.params["lr"]) is float


def test_every_default_is_valid():
    # The catalog drives the page's controls: each default must pass its own validation.
    for cls in SURFACES.values():
        for p in cls.PARAMS:
            assert p.validate(p.default) == p.default
    for spec in OPTIMIZERS.values():
        for p in spec.params:
            assert p.validate(p.default) == p.default
            if p.kind != "choice":
                assert p.low <= p.default <= p.high


def test_catalog_lists_every_surface_and_optimizer_with_ranges():
    cat = catalog()
    assert [s["name"] for s in cat["surfaces"]] == list(SURFACES)
    assert [o["name"] for o in cat["optimizers"]] == list(OPTIMIZERS)
    lr = next(p for p in cat["optimizers"][0]["params"] if p["name"] == "lr")
    assert (lr["min"], lr["max"], lr["min_exclusive"], lr["default"]) == (0.0, 10.0, True, 0.1)
