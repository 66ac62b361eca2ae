"""The Surface interface: loss, gradient and Hessian, batched over leading axes."""

from __future__ import annotations

import functools
from typing import ClassVar, Sequence

import numpy as np

from engine.params import Param, ParamError, resolve


def as_points(p) -> np.ndarray:
    """Return ``p`` as a float array of shape ``(..., 2)`` or raise ValueError."""
    arr = np.asarray(p, dtype=float)
    if arr.ndim == 0 or arr.shape[-1] != 2:
        raise ValueError(f"points must have shape (..., 2); got shape {arr.shape}")
    return arr


class Surface:
    """A smooth function of two variables with analytic derivatives.

    Subclasses declare ``NAME``, ``TITLE``, ``DESCRIPTION``, ``PARAMS`` and implement
    ``value_and_grad`` and ``hessian`` for points of shape ``(..., 2)``. The same code
    evaluates one point while stepping and a whole grid for plotting.
    """

    NAME: ClassVar[str]
    TITLE: ClassVar[str]
    DESCRIPTION: ClassVar[str]
    PARAMS: ClassVar[Sequence[Param]] = ()
    #: Surfaces built on a dataset expose per-example losses for SGD.
    IS_DATA: ClassVar[bool] = False
    #: The name of this surface's compiled twin in ``engine.kernel`` (its ``@twin`` functions sit
    #: beside the class); None: only the numpy reference runs it.
    TWIN: ClassVar[str | None] = None
    #: The names of the two coordinates (a network's are its weights).
    AXES: ClassVar[tuple[str, str]] = ("x", "y")
    #: Where the page starts when this surface is picked, and how many steps it runs: chosen with
    #: STEP_SIZES so that every optimizer's run converges (or, on a surface without a finite
    #: minimum, keeps going) and shows the surface's character. None starts at ``default_start``.
    DEFAULT_START: ClassVar[tuple[float, float] | None] = None
    DEFAULT_STEPS: ClassVar[int] = 100
    #: The step size η each optimizer takes on this surface when it is picked (its catalog
    #: default where missing). ``tests/engine/test_surface_defaults.py`` runs every pair.
    STEP_SIZES: ClassVar[dict[str, float]] = {}

    def __init__(self, **params):
        self.params = resolve(self.PARAMS, params, self.NAME)
        self.setup(**self.params)

    def setup(self, **params) -> None:
        """Precompute whatever the parameters imply (matrices, datasets)."""

    # --- evaluation -------------------------------------------------------
    def value_and_grad(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def hessian(self, p) -> np.ndarray:
        raise NotImplementedError

    def twin_data(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(floats, ints) the compiled twin reads (parameters, a dataset, a program), or None if it cannot run this one."""
        return None

    @functools.cached_property
    def twin_arrays(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``twin_data()``, built once per surface (the service caches surfaces: a formula's program is read once)."""
        return self.twin_data() if self.TWIN is not None else None

    def value(self, p) -> np.ndarray:
        return self.value_and_grad(as_points(p))[0]

    def grad(self, p) -> np.ndarray:
        return self.value_and_grad(as_points(p))[1]

    def grid(self, n: int = 100, view=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Loss on an ``n × n`` grid over ``view``: returns ``(xs, ys, z)`` with ``z[j, i] = f(xs[i], ys[j])``."""
        x0, x1, y0, y1 = view or self.view
        xs = np.linspace(x0, x1, n)
        ys = np.linspace(y0, y1, n)
        pts = np.stack(np.meshgrid(xs, ys), axis=-1)
        with np.errstate(all="ignore"):
            z = self.value(pts)
        return xs, ys, z

    # --- description ------------------------------------------------------
    @property
    def view(self) -> tuple[float, float, float, float]:
        """Default plot box ``(xmin, xmax, ymin, ymax)``."""
        raise NotImplementedError

    @property
    def minima(self) -> list[tuple[float, float]]:
        return []

    @property
    def saddles(self) -> list[tuple[float, float]]:
        return []

    @property
    def view_radius(self) -> float:
        x0, x1, y0, y1 = self.view
        return float(max(abs(x0), abs(x1), abs(y0), abs(y1)))

    @property
    def default_start(self) -> tuple[float, float]:
        """The declared DEFAULT_START, else a point a fifth of the way in from the view's upper-left corner."""
        if self.DEFAULT_START is not None:
            return tuple(map(float, self.DEFAULT_START))
        x0, x1, y0, y1 = self.view
        # 12 significant digits, as the page writes numbers: (-1.8, 1.8), not (-1.7999999999999998, …)
        return (float(f"{x0 + 0.2 * (x1 - x0):.12g}"), float(f"{y1 - 0.2 * (y1 - y0):.12g}"))

    def describe(self) -> dict:
        return {
            "name": self.NAME,
            "title": self.TITLE,
            "description": self.DESCRIPTION,
            "params": dict(self.params),
            "view": list(self.view),
            "minima": [list(map(float, m)) for m in self.minima],
            "saddles": [list(map(float, s)) for s in self.saddles],
            "is_data": self.IS_DATA,
            "axes": list(self.AXES),
            "default_start": list(self.default_start),
            "default_steps": self.DEFAULT_STEPS,
            "step_sizes": dict(self.STEP_SIZES),
        }

    @classmethod
    def catalog_entry(cls) -> dict:
        default = cls()
        entry = default.describe()
        entry["params"] = [p.to_dict() for p in cls.PARAMS]
        return entry

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"


class DataSurface(Surface):
    """A loss that is the mean of per-example losses over a fixed dataset.

    Subclasses implement ``example_value_and_grad(p) -> (losses (..., N), grads (..., N, 2))``.
    """

    IS_DATA = True
    inputs: np.ndarray
    targets: np.ndarray

    @property
    def n_examples(self) -> int:
        return int(self.inputs.shape[0])

    def example_value_and_grad(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def example_value(self, p: np.ndarray) -> np.ndarray:
        """Per-example losses alone (grids need no gradient); the same numbers as example_value_and_grad."""
        return self.example_value_and_grad(p)[0]

    def value_and_grad(self, p):
        losses, grads = self.example_value_and_grad(as_points(p))
        return losses.mean(axis=-1), grads.mean(axis=-2)

    def value(self, p):
        return self.example_value(as_points(p)).mean(axis=-1)

    def describe(self) -> dict:
        d = super().describe()
        d["data"] = {"inputs": self.inputs.tolist(), "targets": self.targets.tolist()}
        return d


def check_shape(p, name="start") -> np.ndarray:
    arr = np.asarray(p, dtype=float)
    if arr.shape != (2,):
        raise ParamError(name, p if arr.size < 8 else f"array of shape {arr.shape}", "a point [x, y] of two finite numbers")
    if not np.all(np.isfinite(arr)):
        raise ParamError(name, list(map(float, arr)), "a point [x, y] of two finite numbers")
    return arr
