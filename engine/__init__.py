"""Loss Lab's engine: loss surfaces, optimizers, a batched runner, sweeps and theory, in numpy.

>>> from engine import make_surface, run
>>> bowl = make_surface("quadratic", lambda_1=1, lambda_2=10, rotation=30)
>>> [gd] = run(bowl, [("gd", {"lr": 0.1})], start=[-1.5, 2.0], steps=200, tol=1e-8)
>>> gd.status, gd.steps_taken
('converged', 164)
"""

from engine.optimizers import OPTIMIZERS, Optimizer, OptimizerSpec, apply_updates, chain, get_spec, make_optimizer
from engine.params import Param, ParamError
from engine.runner import Chunk, OptimizerConfig, RunChunk, Trajectory, configure, run, run_chunks
from engine.surfaces import SURFACES, DataSurface, Surface, make_surface
from engine.sweep import SweepResult, sweep, sweep_in_slices
from engine.tune import TuneResult, tune
from engine import theory


def catalog() -> dict:
    """Every surface and optimizer with its parameters' defaults, ranges and descriptions."""
    return {
        "surfaces": [cls.catalog_entry() for cls in SURFACES.values()],
        "optimizers": [spec.to_dict() for spec in OPTIMIZERS.values()],
    }


__all__ = [
    "OPTIMIZERS", "SURFACES", "Chunk", "DataSurface", "Optimizer", "OptimizerConfig", "OptimizerSpec", "Param",
    "ParamError", "RunChunk", "Surface", "SweepResult", "Trajectory", "TuneResult", "apply_updates", "catalog", "chain",
    "configure", "get_spec", "make_optimizer", "make_surface", "run", "run_chunks", "sweep", "sweep_in_slices", "theory", "tune",
]
