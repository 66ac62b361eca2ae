"""Loss Lab from Python: the page's scenes, runs, (η, β) maps and figures, in a notebook or a shell.

>>> import losslab as ll
>>> result = ll.Scene("quadratic", lambda_1=1, lambda_2=20).add("gd", lr=0.09).run(steps=50)
>>> result[0].status, len(result[0].losses)
('max_steps', 51)

See :mod:`losslab.api` for scenes and results, :mod:`losslab.figures` for Plotly figures
and ``losslab --help`` for the command line.
"""

from engine.params import ParamError
from losslab.api import (
    LinkWarning, Listing, OptimizerInfo, Result, Run, Scene, SurfaceInfo, SweepMap, lessons, optimizers, surfaces,
    sweep,
)
from losslab.tuning import Tuning

__all__ = [
    "LinkWarning", "Listing", "OptimizerInfo", "ParamError", "Result", "Run", "Scene", "SurfaceInfo", "SweepMap",
    "Tuning", "lessons", "optimizers", "surfaces", "sweep",
]
