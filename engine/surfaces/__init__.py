"""Loss surfaces: every one gives loss, gradient and Hessian for points of shape (..., 2)."""

from engine.params import ParamError
from engine.surfaces.base import DataSurface, Surface, as_points
from engine.surfaces.classic import Beale, Himmelblau, Quadratic, Rosenbrock, Saddle
from engine.surfaces.custom import CustomSurface, FormulaError
from engine.surfaces.data import LogisticNeuron, TwoWeightNet
from engine.surfaces.landscape import Landscape
from engine.surfaces.net221 import Net221
from engine.surfaces.random_field import RandomField
from engine.surfaces.softmax3 import Softmax3

SURFACES: dict[str, type[Surface]] = {
    cls.NAME: cls
    for cls in (Quadratic, Saddle, Rosenbrock, Himmelblau, Beale, Landscape, TwoWeightNet, LogisticNeuron, Softmax3, RandomField, Net221)
}
#: Surfaces defined by text, not by numbers: make_surface builds them, but they stay out of
#: SURFACES, whose every parameter the catalog, the page's links and their tests treat as a
#: number or a choice. GET /api/formula describes the custom surface instead.
TEXT_SURFACES: dict[str, type[Surface]] = {CustomSurface.NAME: CustomSurface}


def make_surface(name: str, **params) -> Surface:
    """Build the surface called ``name`` with ``params`` (validated; defaults filled in).

    >>> make_surface("quadratic", lambda_1=1, lambda_2=4, rotation=0).hessian([0.0, 0.0]).tolist()
    [[1.0, 0.0], [0.0, 4.0]]
    >>> make_surface("custom", formula="x**2 + 3*y**2", view=(-2, 2, -2, 2)).grad([1.0, 1.0]).tolist()
    [2.0, 6.0]
    """
    try:
        cls = SURFACES[name] if name in SURFACES else TEXT_SURFACES[name]
    except (KeyError, TypeError):
        raise ParamError("surface", name, f"one of {', '.join(SURFACES)}") from None
    return cls(**params)


__all__ = [
    "SURFACES", "TEXT_SURFACES", "make_surface", "Surface", "DataSurface", "as_points",
    "Quadratic", "Saddle", "Rosenbrock", "Himmelblau", "Beale", "Landscape", "TwoWeightNet", "LogisticNeuron", "Softmax3", "RandomField", "Net221",
    "CustomSurface", "FormulaError",
]
