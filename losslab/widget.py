"""The page's contour, runs and sliders live in a notebook: ``scene.widget()``.

An `anywidget <https://anywidget.dev>`_ widget (Jupyter, JupyterLab, Notebook 7, VS Code): the
front end (``widget.js``) draws the contour, every run's path and a step-size and a momentum
slider per optimizer; a slider sends the new parameters to the kernel, where the engine runs
the scene again and sends the paths back, as the page's server does. No server is needed.

>>> import losslab as ll
>>> w = ll.Scene("quadratic", lambda_1=1, lambda_2=20).add("gd", lr=0.09).add("momentum", lr=0.04).widget(steps=50)
>>> [s["name"] for s in w.controls[1]["sliders"]]
['lr', 'momentum']
>>> len(w.runs[0]["points"])
51
>>> w.params = [{"lr": 0.05}, {"lr": 0.04, "momentum": 0.5}]   # what moving the sliders does
>>> w.scene.optimizers[1].params["momentum"], len(w.runs[1]["points"])
(0.5, 51)
>>> w.scene.to_url("").split("&")[1]
'o=gd:lr=0.05,schedule=constant,decay_every=100|momentum:lr=0.04,momentum=0.5,schedule=constant,decay_every=100'
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import anywidget
import numpy as np
import traitlets

from losslab import figures

if TYPE_CHECKING:
    from losslab.api import Scene

#: The sliders a widget shows for each optimizer, when it has the parameter.
SLIDER_PARAMS = ("lr", "momentum")
#: Most steps the widget runs after each slider move (the page's limit).
MAX_STEPS = 20_000


def slider_range(p) -> dict:
    """A parameter's slider as the page builds it (static/js/controls.js ``sliderScale``): bounds and scale."""
    lo, hi = float(p.low), float(p.high)
    if p.log:
        lo = max(lo, min(float(p.default) / 100, hi * 1e-4), 1e-12)
    return {"name": p.name, "label": p.label or p.name, "min": lo, "max": hi, "log": bool(p.log)}


def _viridis() -> list:
    import plotly.colors as pc

    scale = pc.get_colorscale("Viridis")
    return [[float(t), c] for t, c in scale]


class SceneWidget(anywidget.AnyWidget):
    """A scene in a notebook: contour, runs and sliders; ``.scene`` is the scene as the sliders left it."""

    _esm = Path(__file__).with_name("widget.js")
    _css = Path(__file__).with_name("widget.css")

    surface = traitlets.Dict().tag(sync=True)
    controls = traitlets.List().tag(sync=True)
    params = traitlets.List().tag(sync=True)
    runs = traitlets.List().tag(sync=True)
    start = traitlets.List().tag(sync=True)
    steps = traitlets.Int(100).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)

    def __init__(self, scene: "Scene", *, steps: int | None = None, n: int = 100, **kwargs):
        import engine

        if not scene.optimizers:
            raise ValueError("the scene has no optimizer: add one first, e.g. scene.add('gd', lr=0.1)")
        self._base = scene
        xs, ys, z, f, label = figures._grid(scene, n, tuple(scene.engine_surface.view))
        zt = f(z)
        surf = scene.engine_surface
        controls = []
        for o in scene.optimizers:
            spec = engine.get_spec(o.name)
            sliders = [slider_range(p) for p in spec.params if p.name in SLIDER_PARAMS]
            controls.append({"name": o.name, "title": spec.title, "color": figures.color_of(len(controls)),
                             "label": f"{len(controls) + 1}. {spec.title}", "sliders": sliders})
        super().__init__(
            surface={"title": figures._title(scene), "view": list(map(float, surf.view)), "label": label,
                     "x": xs.tolist(), "y": ys.tolist(),
                     "z": [[float(v) if math.isfinite(v) else None for v in row] for row in np.asarray(zt)],
                     "minima": [list(map(float, m)) for m in surf.minima],
                     "saddles": [list(map(float, s)) for s in surf.saddles], "colorscale": _viridis()},
            controls=controls,
            params=[{k: o.params[k] for k in SLIDER_PARAMS if k in o.params} for o in scene.optimizers],
            start=list(map(float, scene.start_point)),
            steps=int(min(MAX_STEPS, steps if steps is not None else scene.steps)),
            **kwargs)
        self._rerun()

    @property
    def scene(self) -> "Scene":
        """The scene with the sliders' current values (``.to_url()`` gives the page's link, ``.run()`` the runs)."""
        s = self._base._evolve(optimizers=())
        for o, p in zip(self._base.optimizers, self.params):
            s = s.add(o.name, **{**o.params, **p})
        return s.replace(steps=self.steps)

    @traitlets.observe("params", "steps")
    def _on_change(self, change) -> None:
        if len(self.params) == len(self._base.optimizers):
            self._rerun()

    def _rerun(self) -> None:
        from engine.params import ParamError

        try:
            result = self.scene.run(self.steps)
        except ParamError as e:  # a value the engine refuses: say so in the widget, keep the paths
            self.error = str(e)
            return
        self.error = ""
        self.runs = [{"points": np.round(r.points, 12).tolist(), "losses": [float(v) for v in r.losses],
                      "status": r.status, "steps_taken": r.steps_taken} for r in result]
