"""Request bodies the reliability tests send."""

#: Every optimizer at once: the most work one request may ask for (with steps at the limit).
ALL_EIGHT = [{"name": "gd", "params": {"lr": 0.01}}, {"name": "momentum"}, {"name": "nesterov"}, {"name": "adam"},
             {"name": "rmsprop"}, {"name": "adagrad"}, {"name": "newton", "params": {"lr": 0.001}},
             {"name": "sgd", "params": {"lr": 0.01, "noise": 0.5}}]


def big_run(rid=None, surface: str = "two_weight_net") -> dict:
    """8 optimizers × 20 000 steps on a data surface: seconds of work on the numpy reference, which the
    servers of the tests that need slow work run (LOSSLAB_ACCEL=0: the compiled path does it in milliseconds)."""
    body = {"surface": {"name": surface}, "optimizers": ALL_EIGHT, "start": [0.5, 0.5], "steps": 20000}
    return body if rid is None else {**body, "id": rid}


def small_run(rid=None, steps: int = 20) -> dict:
    body = {"surface": {"name": "quadratic"}, "optimizers": [{"name": "gd"}], "start": [1.0, 1.0], "steps": steps}
    return body if rid is None else {**body, "id": rid}
