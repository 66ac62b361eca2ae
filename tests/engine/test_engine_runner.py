"""The runner: reproducible, chunk-invariant, and batching that changes nothing.

Races, replays and streamed runs are only trustworthy if the numbers do not depend on
how the work was cut up: each comparison here is bit-for-bit.
"""

import numpy as np
import pytest

from engine import make_surface, run, run_chunks
from engine.runner import Trajectory

RACE = [
    ("gd", dict(lr=0.05)),
    ("momentum", dict(lr=0.02, momentum=0.9)),
    ("nesterov", dict(lr=0.02, momentum=0.8)),
    ("adam", dict(lr=0.05)),
    ("rmsprop", dict(lr=0.01)),
    ("adagrad", dict(lr=0.5)),
    ("newton", dict(lr=0.5)),
    ("preconditioned", dict(lr=0.3)),
    ("sgd", dict(lr=0.05, noise=0.5, seed=3)),
    ("sgd", dict(lr=0.05, momentum=0.5, noise=0.1, seed=4)),
    ("gd", dict(lr=0.03, schedule="inverse_sqrt")),
    ("momentum", dict(lr=0.01, momentum=0.5, schedule="step", decay_every=10)),
    ("gd", dict(lr=5.0)),  # diverges on most surfaces: a race must survive a dead runner
]
DATA_RACE = RACE + [("sgd", dict(lr=0.2, batch_size=4, seed=5)), ("sgd", dict(lr=0.2, batch_size=1, momentum=0.5))]

PROBLEMS = [
    ("quadratic", {}, (-1.5, 2.0)),
    ("rosenbrock", {}, (-1.2, 1.0)),
    ("beale", {}, (1.0, 1.0)),
    ("himmelblau", {}, (0.5, -0.5)),
    ("landscape", {}, (2.0, 2.0)),
    ("saddle", dict(wall=1.0), (1.0, 0.01)),
    ("two_weight_net", dict(loss="l2"), (0.5, -0.5)),
    ("logistic_neuron", dict(label_smoothing=0.1), (0.0, 0.0)),
]
IDS = [p[0] for p in PROBLEMS]
STEPS = 150


def race_for(surface):
    return DATA_RACE if surface.IS_DATA else RACE


def assert_same(a: Trajectory, b: Trajectory):
    assert (a.optimizer, a.params, a.status, a.steps_taken) == (b.optimizer, b.params, b.status, b.steps_taken)
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.losses, b.losses)
    np.testing.assert_array_equal(a.grad_norms, b.grad_norms)


@pytest.mark.parametrize("name, sp, start", PROBLEMS, ids=IDS)
def test_same_inputs_give_bit_identical_runs(name, sp, start):
    s = make_surface(name, **sp)
    first = run(s, race_for(s), start=start, steps=STEPS, seed=11)
    again = run(make_surface(name, **sp), race_for(s), start=start, steps=STEPS, seed=11)
    for a, b in zip(first, again):
        assert_same(a, b)


@pytest.mark.parametrize("name, sp, start", PROBLEMS, ids=IDS)
def test_racing_together_equals_running_alone(name, sp, start):
    s = make_surface(name, **sp)
    together = run(s, race_for(s), start=start, steps=STEPS)
    for cfg, t in zip(race_for(s), together):
        [alone] = run(s, [cfg], start=start, steps=STEPS)
        assert_same(alone, t)


@pytest.mark.parametrize("chunk_size", [1, 7, STEPS - 1, STEPS, 1000])
@pytest.mark.parametrize("name, sp, start", [PROBLEMS[1], PROBLEMS[6]], ids=[IDS[1], IDS[6]])
def test_chunks_concatenate_to_the_full_run(name, sp, start, chunk_size):
    s = make_surface(name, **sp)
    race = race_for(s)
    full = run(s, race, start=start, steps=STEPS, tol=1e-9)
    parts = [[] for _ in race]
    chunks = list(run_chunks(s, race, start, STEPS, tol=1e-9, chunk_size=chunk_size))
    for chunk in chunks:
        for rc in chunk.runs:
            assert rc.first == sum(len(p[0]) for p in parts[rc.run])  # contiguous, nothing skipped
            parts[rc.run].append((rc.points, rc.losses, rc.grad_norms))
    assert [c.done for c in chunks] == [False] * (len(chunks) - 1) + [True]
    assert chunks[-1].status == [t.status for t in full]
    assert chunks[-1].steps_taken == [t.steps_taken for t in full]
    for i, t in enumerate(full):
        pts, losses, gnorms = (np.concatenate(a) for a in zip(*parts[i]))
        np.testing.assert_array_equal(pts, t.points)
        np.testing.assert_array_equal(losses, t.losses)
        np.testing.assert_array_equal(gnorms, t.grad_norms)


def test_first_chunk_holds_the_start_and_the_status_is_running():
    s = make_surface("quadratic")
    chunks = run_chunks(s, ["gd", "adam"], [1.0, 2.0], 50, chunk_size=10)
    first = next(chunks)
    assert [(rc.run, rc.first, rc.points.tolist()) for rc in first.runs] == [(0, 0, [[1.0, 2.0]]), (1, 0, [[1.0, 2.0]])]
    assert first.status == ["running", "running"] and not first.done
    second = next(chunks)
    assert [(rc.first, len(rc.points)) for rc in second.runs] == [(1, 10), (1, 10)]


def test_each_run_stops_on_its_own():
    # On the bowl with λ = (1, 10): gd at η = 0.1 converges, at η = 0.25 > 2/λmax it
    # diverges, and adam is still on its way; the others go on after the first has stopped.
    s = make_surface("quadratic")
    conv, div, slow = run(s, [("gd", dict(lr=0.1)), ("gd", dict(lr=0.25)), ("adam", dict(lr=0.001))],
                          start=[-1.5, 2.0], steps=500, tol=1e-6)
    assert (conv.status, div.status, slow.status) == ("converged", "diverged", "max_steps")
    assert conv.steps_taken < 500 and div.steps_taken < 500 and slow.steps_taken == 500
    assert conv.grad_norms[-1] < 1e-6 <= conv.grad_norms[-2]
    for t in (conv, div, slow):
        assert len(t.points) == len(t.losses) == len(t.grad_norms) == t.steps_taken + 1


def test_zero_steps_and_a_converged_start():
    s = make_surface("quadratic")
    [t] = run(s, ["gd"], start=[1.0, 1.0], steps=0)
    assert (t.status, t.steps_taken, t.points.tolist()) == ("max_steps", 0, [[1.0, 1.0]])
    [t] = run(s, ["gd"], start=[0.0, 0.0], steps=10, tol=1e-8)
    assert (t.status, t.steps_taken, t.points.tolist()) == ("converged", 0, [[0.0, 0.0]])


def test_losses_and_gradient_norms_are_those_of_the_points():
    s = make_surface("beale")
    for t in run(s, RACE[:8], start=[1.0, 1.0], steps=100):
        f, g = s.value_and_grad(t.points)
        np.testing.assert_array_equal(t.losses, f)
        np.testing.assert_allclose(t.grad_norms, np.linalg.norm(g, axis=1), rtol=1e-15)


def test_trajectory_to_dict_round_trips():
    s = make_surface("quadratic")
    [t] = run(s, [("momentum", dict(lr=0.05))], start=[1.0, 2.0], steps=5)
    d = t.to_dict()
    assert d["optimizer"] == "momentum" and d["params"]["lr"] == 0.05 and d["params"]["momentum"] == 0.9
    assert np.array_equal(d["points"], t.points) and d["steps_taken"] == 5 and d["status"] == "max_steps"
