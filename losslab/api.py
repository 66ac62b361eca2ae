"""Loss Lab from Python: scenes, runs and (η, β) maps on the engine that serves the page.

A :class:`Scene` is what the page shows: a surface with its parameters, a start point,
optimizers with theirs, a number of steps and a seed. Scenes are immutable; every
builder method returns a new one, so a scene can be reused, extended and compared.

>>> import losslab as ll
>>> scene = (ll.Scene("quadratic", lambda_1=1, lambda_2=20, rotation=30)
...          .start(-2, -0.5)
...          .add("gd", lr=0.09)
...          .add("momentum", lr=0.04, momentum=0.7))
>>> result = scene.run(steps=100)
>>> [(run.optimizer, run.status, run.steps_taken) for run in result]
[('gd', 'max_steps', 100), ('momentum', 'converged', 61)]
>>> result[1].points.shape, f"{result[1].final_loss:.2e}"
((62, 2), '1.40e-09')

A surface of your own, typed as on the page ("Your own formula…"), with the box it is drawn in;
its gradient and Hessian are exact, so Newton's method works on it too:

>>> valley = ll.Scene("custom", formula="(1 - x)**2 + 100*(y - x**2)**2", view=(-2, 2, -1, 3))
>>> run = valley.start(-1.5, 2).add("newton").run(steps=20, tol=1e-10)[0]
>>> run.status, run.steps_taken, [round(v, 9) for v in run.final_point]
('converged', 7, [1.0, 1.0])

The same scene as a page link, and back:

>>> url = scene.to_url()
>>> url
'http://127.0.0.1:8000/#s=quadratic:lambda_1=1,lambda_2=20,rotation=30&o=gd:lr=0.09,schedule=constant,decay_every=100|momentum:lr=0.04,momentum=0.7,schedule=constant,decay_every=100&start=-2,-0.5&steps=100&seed=0&tol=0.0001'
>>> ll.Scene.from_url(url) == scene
True
"""

from __future__ import annotations

from engine.params import ParamError
from losslab import sweeps as _sweeps
from losslab.catalog import Listing, OptimizerInfo, SurfaceInfo, lessons, optimizers, surfaces
from losslab.results import Result, Run
from losslab.scene import DEFAULT_BASE, LinkWarning, Scene
from losslab.sweeps import SweepMap, default_lrs

__all__ = [
    "LinkWarning", "Listing", "OptimizerInfo", "ParamError", "Result", "Run", "Scene", "SurfaceInfo", "SweepMap",
    "lessons", "optimizers", "surfaces", "sweep", "default_lrs", "DEFAULT_BASE",
]


def sweep(scene: Scene | str = "quadratic", optimizer: str = "momentum", **kwargs) -> SweepMap:
    """:func:`losslab.sweeps.sweep` on a scene, or on a surface name's default scene."""
    return _sweeps.sweep(Scene(scene) if isinstance(scene, str) else scene, optimizer, **kwargs)


sweep.__doc__ = _sweeps.sweep.__doc__
