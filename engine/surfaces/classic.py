"""Closed-form test functions: the lecture's quadratic bowl, a saddle and the classics."""

from __future__ import annotations

import numpy as np

from engine.params import Param
from engine.surfaces.base import Surface, as_points
from engine.surfaces.critical import refine
from engine.twins import twin


def _powers(y):
    """1, y, y², y³ as products (numpy's SIMD pow may round y**3 differently from C's pow)."""
    y2 = y * y
    return 1.0, y, y2, y2 * y


def _sym(xx, xy, yy) -> np.ndarray:
    """Stack three arrays into symmetric 2×2 matrices of shape (..., 2, 2)."""
    return np.stack([np.stack([xx, xy], -1), np.stack([xy, yy], -1)], -2)


class Quadratic(Surface):
    """f(x) = ½ xᵀAx with A = R(θ) diag(λ1, λ2) R(θ)ᵀ.

    R(θ) rotates counter-clockwise, so λ1's eigenvector is (cos θ, sin θ) and
    λ2's is (−sin θ, cos θ). Gradient Ax, Hessian A, minimum at the origin.
    """

    NAME = "quadratic"
    TITLE = "Quadratic bowl"
    DESCRIPTION = (
        "The lecture's A matrix: f(x) = ½ xᵀAx, a bowl whose slope differs along its two "
        "eigendirections. λ1 and λ2 are the curvatures along them and the rotation turns the bowl. "
        "When λ1 and λ2 differ a lot (a large condition number κ = λmax/λmin) gradient descent "
        "zig-zags across the narrow valley; a step above 2/λmax diverges."
    )
    DEFAULT_START = (-2.0, -0.5)
    STEP_SIZES = {"gd": 0.09, "momentum": 0.04, "nesterov": 0.04, "newton": 1.0, "preconditioned": 1.0,
                  "adagrad": 0.5, "rmsprop": 0.05, "adam": 0.1, "sgd": 0.09}
    PARAMS = (
        Param("lambda_1", 1.0, 1e-3, 1e3, "Curvature along the first eigenvector (cos θ, sin θ).", log=True, label="λ1", symbol="λ1"),
        Param("lambda_2", 10.0, 1e-3, 1e3, "Curvature along the second eigenvector (−sin θ, cos θ).", log=True, label="λ2", symbol="λ2"),
        Param("rotation", 30.0, -180.0, 180.0, "Counter-clockwise rotation θ of the eigenvectors, in degrees.", label="Rotation θ (°)", symbol="θ"),
    )

    def setup(self, lambda_1, lambda_2, rotation):
        t = np.deg2rad(rotation)
        self.rotation_matrix = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
        self.eigenvalues = np.array([lambda_1, lambda_2])
        a = self.rotation_matrix @ np.diag(self.eigenvalues) @ self.rotation_matrix.T
        self.A = 0.5 * (a + a.T)  # exactly symmetric; the products above can differ by an ulp

    def value_and_grad(self, p):
        p = as_points(p)
        # Elementwise, not p @ A: a matrix product may round differently for one point
        # and for many, and a race must give each run exactly the trajectory it has alone.
        a = self.A
        g = np.stack([a[0, 0] * p[..., 0] + a[0, 1] * p[..., 1], a[1, 0] * p[..., 0] + a[1, 1] * p[..., 1]], -1)
        return 0.5 * (p[..., 0] * g[..., 0] + p[..., 1] * g[..., 1]), g

    def hessian(self, p):
        p = as_points(p)
        return np.broadcast_to(self.A, p.shape[:-1] + (2, 2)).copy()

    @property
    def view(self):
        return (-2.5, 2.5, -2.5, 2.5)

    @property
    def minima(self):
        return [(0.0, 0.0)]

    TWIN = "quadratic"

    def twin_data(self):
        return self.A.ravel().copy(), np.zeros(0, np.int64)


@twin
def quadratic_twin(sp, ip, loops, work, x, y):
    """``Quadratic.value_and_grad`` at one point; sp = A00, A01, A10, A11."""
    gx = sp[0] * x + sp[1] * y
    gy = sp[2] * x + sp[3] * y
    return 0.5 * (x * gx + y * gy), gx, gy


@twin
def quadratic_hessian_twin(sp, ip, loops, work, x, y):
    """(∂²f/∂x², ∂²f/∂x∂y, ∂²f/∂y²): ``Quadratic.hessian`` at one point."""
    return sp[0], sp[2], sp[3]


class Saddle(Surface):
    """f(x, y) = x² − r·y² + w·y⁴ (by default x² − y² + ½y⁴, the saddle lesson's).

    With w = 0 this is the classic saddle (r = 1 gives x² − y²): the origin is a
    critical point whose Hessian diag(2, −2r) has one negative eigenvalue. A positive
    quartic wall w gives two minima at y = ±√(r / 2w) so escaping runs have somewhere to go.
    """

    NAME = "saddle"
    TITLE = "Saddle point"
    DESCRIPTION = (
        "f = x² − r·y² (+ w·y⁴): downhill in y, uphill in x. The origin has zero gradient but is no "
        "minimum: its Hessian has one negative eigenvalue. Gradient descent started close to the x-axis "
        "(the stable manifold) slows to a crawl near the saddle before it escapes; Newton's method is drawn to it."
    )
    # Just off the stable manifold (the x-axis): gradient descent crawls past the saddle, Newton lands on it.
    DEFAULT_START = (-1.8, 0.01)
    DEFAULT_STEPS = 150
    STEP_SIZES = {"gd": 0.1, "momentum": 0.03, "nesterov": 0.05, "newton": 1.0, "preconditioned": 0.5,
                  "adagrad": 0.5, "rmsprop": 0.05, "adam": 0.1, "sgd": 0.1}
    PARAMS = (
        Param("curvature_ratio", 1.0, 0.01, 10.0, "r: how steeply the surface falls along y, relative to its rise along x.", log=True, label="Curvature ratio r"),
        # The default wall bounds the surface below (w = 0 sends every escaping run to −∞).
        Param("wall", 0.5, 0.0, 10.0, "w: a quartic term w·y⁴ that bounds the surface and creates two minima "
              "(0 leaves it unbounded below).", label="Quartic wall w"),
    )

    def setup(self, curvature_ratio, wall):
        self.r, self.w = curvature_ratio, wall

    def value_and_grad(self, p):
        p = as_points(p)
        x, y = p[..., 0], p[..., 1]
        y2 = y * y  # powers as products: numpy's SIMD pow may round y**3 differently from C
        f = x * x - self.r * y2 + self.w * (y2 * y2)
        g = np.stack([2 * x, -2 * self.r * y + 4 * self.w * (y2 * y)], -1)
        return f, g

    def hessian(self, p):
        p = as_points(p)
        x, y = p[..., 0], p[..., 1]
        return _sym(np.full_like(x, 2.0), np.zeros_like(x), -2 * self.r + 12 * self.w * (y * y))

    @property
    def view(self):
        return (-2.0, 2.0, -2.0, 2.0)

    @property
    def minima(self):
        if self.w == 0:
            return []
        y = float(np.sqrt(self.r / (2 * self.w)))
        return [(0.0, y), (0.0, -y)]

    @property
    def saddles(self):
        return [(0.0, 0.0)]

    TWIN = "saddle"

    def twin_data(self):
        return np.array([self.r, self.w]), np.zeros(0, np.int64)


@twin
def saddle_twin(sp, ip, loops, work, x, y):
    """``Saddle.value_and_grad`` at one point; sp = r, w."""
    r, w = sp[0], sp[1]
    y2 = y * y
    return x * x - r * y2 + w * (y2 * y2), 2.0 * x, (-2.0 * r) * y + (4.0 * w) * (y2 * y)


@twin
def saddle_hessian_twin(sp, ip, loops, work, x, y):
    r, w = sp[0], sp[1]
    return 2.0, 0.0, (-2.0 * r) + (12.0 * w) * (y * y)


class Rosenbrock(Surface):
    """f(x, y) = (a − x)² + b(y − x²)², minimum at (a, a²): a long curved valley."""

    NAME = "rosenbrock"
    TITLE = "Rosenbrock's valley"
    DESCRIPTION = (
        "(a − x)² + b(y − x²)²: a narrow, curved, almost flat-bottomed valley. Finding the valley is "
        "easy, following it to the minimum at (a, a²) is hard: at the minimum the curvature across the valley "
        "is about 2500 times the curvature along it (a = 1, b = 100; λmax/λmin of the Hessian)."
    )
    # Across the valley from the minimum: finding the valley is quick, following it is slow.
    DEFAULT_START = (-1.5, 2.0)
    DEFAULT_STEPS = 2000
    STEP_SIZES = {"gd": 0.001, "momentum": 0.0013, "nesterov": 0.0006, "newton": 0.75, "preconditioned": 0.1,
                  "adagrad": 0.5, "rmsprop": 0.004, "adam": 0.1, "sgd": 0.001}
    PARAMS = (
        Param("a", 1.0, -2.0, 2.0, "Position of the minimum (a, a²).", label="a"),
        Param("b", 100.0, 0.0, 1000.0, "Steepness of the valley walls.", label="b"),
    )

    def setup(self, a, b):
        self.a, self.b = a, b

    def value_and_grad(self, p):
        p = as_points(p)
        x, y = p[..., 0], p[..., 1]
        r = y - x * x
        f = (self.a - x) ** 2 + self.b * r * r
        g = np.stack([-2 * (self.a - x) - 4 * self.b * x * r, 2 * self.b * r], -1)
        return f, g

    def hessian(self, p):
        p = as_points(p)
        x, y = p[..., 0], p[..., 1]
        b = self.b
        return _sym(2 - 4 * b * y + 12 * b * x * x, -4 * b * x, np.full_like(x, 2 * b))

    @property
    def view(self):
        return (-2.0, 2.0, -1.0, 3.0)

    @property
    def minima(self):
        # With b = 0 the loss is (a − x)²: every point of the line x = a is a minimum, none isolated.
        return [(self.a, self.a**2)] if self.b > 0 else []

    TWIN = "rosenbrock"

    def twin_data(self):
        return np.array([self.a, self.b]), np.zeros(0, np.int64)


@twin
def rosenbrock_twin(sp, ip, loops, work, x, y):
    """``Rosenbrock.value_and_grad`` at one point; sp = a, b."""
    a, b = sp[0], sp[1]
    r = y - x * x
    return (a - x) * (a - x) + b * r * r, -2.0 * (a - x) - (4.0 * b) * x * r, (2.0 * b) * r


@twin
def rosenbrock_hessian_twin(sp, ip, loops, work, x, y):
    b = sp[1]
    return 2.0 - (4.0 * b) * y + (12.0 * b) * x * x, (-4.0 * b) * x, 2.0 * b


class Himmelblau(Surface):
    """f(x, y) = (x² + y − 11)² + (x + y² − 7)²: four minima of equal depth (f = 0)."""

    NAME = "himmelblau"
    TITLE = "Himmelblau's four valleys"
    DESCRIPTION = (
        "(x² + y − 11)² + (x + y² − 7)²: four minima, all with loss 0, separated by four saddles "
        "around a local maximum. Which minimum a run reaches depends on where it starts and how it steps."
    )
    # Near the central maximum: which of the four minima a run reaches depends on how it steps.
    DEFAULT_START = (0.0, 0.5)
    DEFAULT_STEPS = 200
    # GD below 2/λmax ≈ 0.0149 of the steepest minimum (−3.78, −3.28), so it settles in any of the four.
    STEP_SIZES = {"gd": 0.014, "momentum": 0.005, "nesterov": 0.008, "newton": 1.0, "preconditioned": 0.5,
                  "adagrad": 1.0, "rmsprop": 0.1, "adam": 0.3, "sgd": 0.014}
    _MIN_GUESSES = ((3.0, 2.0), (-2.805, 3.131), (-3.779, -3.283), (3.584, -1.848))
    _SADDLE_GUESSES = ((0.087, 2.884), (-3.073, -0.081), (3.385, 0.074), (-0.128, -1.954))

    def setup(self):
        self._minima = [tuple(map(float, refine(self, g))) for g in self._MIN_GUESSES]
        self._saddles = [tuple(map(float, refine(self, g))) for g in self._SADDLE_GUESSES]

    def value_and_grad(self, p):
        p = as_points(p)
        x, y = p[..., 0], p[..., 1]
        u = x * x + y - 11
        v = x + y * y - 7
        f = u * u + v * v
        g = np.stack([4 * x * u + 2 * v, 2 * u + 4 * y * v], -1)
        return f, g

    def hessian(self, p):
        p = as_points(p)
        x, y = p[..., 0], p[..., 1]
        xx = 12 * x * x + 4 * y - 42
        xy = 4 * (x + y)
        yy = 4 * x + 12 * y * y - 26
        return _sym(xx, xy, yy)

    @property
    def view(self):
        return (-5.0, 5.0, -5.0, 5.0)

    @property
    def minima(self):
        return self._minima

    @property
    def saddles(self):
        return self._saddles


    TWIN = "himmelblau"

    def twin_data(self):
        return np.zeros(0), np.zeros(0, np.int64)


@twin
def himmelblau_twin(sp, ip, loops, work, x, y):
    """``Himmelblau.value_and_grad`` at one point."""
    u = x * x + y - 11.0
    v = x + y * y - 7.0
    return u * u + v * v, 4.0 * x * u + 2.0 * v, 2.0 * u + 4.0 * y * v


@twin
def himmelblau_hessian_twin(sp, ip, loops, work, x, y):
    return 12.0 * x * x + 4.0 * y - 42.0, 4.0 * (x + y), 4.0 * x + 12.0 * y * y - 26.0


class Beale(Surface):
    """f(x, y) = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)², minimum at (3, 0.5)."""

    NAME = "beale"
    TITLE = "Beale's function"
    DESCRIPTION = (
        "A classic benchmark with a minimum at (3, 0.5) hidden at the end of a flat, curving arm, and walls that "
        "steepen fast towards the corners. Which method wins depends on the start: from (−2, −0.5) gradient "
        "descent with a small step follows the arm to the minimum, while Adam's steps, about η long whatever the "
        "slope, carry it off into the flat region; from (−3, −3), where the gradient is huge, gradient descent "
        "diverges and Adam and RMSprop stay stable."
    )
    DEFAULT_START = (1.0, 1.5)
    DEFAULT_STEPS = 2000
    # RMSprop steps about η whatever the slope: at 0.3 it bounces off the arm's walls for good.
    STEP_SIZES = {"gd": 0.015, "momentum": 0.004, "nesterov": 0.003, "newton": 1.0, "preconditioned": 1.0,
                  "adagrad": 1.0, "rmsprop": 0.01, "adam": 0.3, "sgd": 0.015}
    _C = (1.5, 2.25, 2.625)

    def value_and_grad(self, p):
        p = as_points(p)
        x, y = p[..., 0], p[..., 1]
        yp = _powers(y)
        f = 0.0
        gx = 0.0
        gy = 0.0
        for i, c in enumerate(self._C, start=1):
            a = c - x + x * yp[i]
            f = f + a * a
            gx = gx + 2 * a * (yp[i] - 1)
            gy = gy + 2 * a * i * x * yp[i - 1]
        return f, np.stack([gx, gy], -1)

    def hessian(self, p):
        p = as_points(p)
        x, y = p[..., 0], p[..., 1]
        yp = _powers(y)
        xx = xy = yy = 0.0
        for i, c in enumerate(self._C, start=1):
            a = c - x + x * yp[i]
            ax, ay = yp[i] - 1, i * x * yp[i - 1]
            axy = i * yp[i - 1]
            ayy = i * (i - 1) * x * yp[i - 2] if i >= 2 else 0.0 * x
            xx = xx + 2 * ax * ax
            xy = xy + 2 * (ax * ay + a * axy)
            yy = yy + 2 * (ay * ay + a * ayy)
        return _sym(xx + 0 * x, xy + 0 * x, yy + 0 * x)

    @property
    def view(self):
        return (-4.5, 4.5, -4.5, 4.5)

    @property
    def minima(self):
        return [(3.0, 0.5)]

    TWIN = "beale"

    def twin_data(self):
        return np.array(self._C), np.zeros(0, np.int64)


@twin
def beale_twin(sp, ip, loops, work, x, y):
    """``Beale.value_and_grad`` at one point, its loop over i = 1, 2, 3 written out; sp = 1.5, 2.25, 2.625."""
    y2 = y * y
    y3 = y2 * y
    a1 = sp[0] - x + x * y
    a2 = sp[1] - x + x * y2
    a3 = sp[2] - x + x * y3
    f = 0.0 + a1 * a1
    f = f + a2 * a2
    f = f + a3 * a3
    gx = 0.0 + 2.0 * a1 * (y - 1.0)
    gx = gx + 2.0 * a2 * (y2 - 1.0)
    gx = gx + 2.0 * a3 * (y3 - 1.0)
    gy = 0.0 + 2.0 * a1 * 1.0 * x * 1.0
    gy = gy + 2.0 * a2 * 2.0 * x * y
    gy = gy + 2.0 * a3 * 3.0 * x * y2
    return f, gx, gy


@twin
def beale_hessian_twin(sp, ip, loops, work, x, y):
    hxx = hxy = hyy = 0.0
    y2 = y * y
    for i in range(1, 4):
        ypi = y if i == 1 else (y2 if i == 2 else y2 * y)
        ypm = 1.0 if i == 1 else (y if i == 2 else y2)
        a = sp[i - 1] - x + x * ypi
        ax, ay = ypi - 1.0, float(i) * x * ypm
        axy = float(i) * ypm
        if i >= 2:
            ayy = float(i * (i - 1)) * x * (1.0 if i == 2 else y)
        else:
            ayy = 0.0 * x
        hxx = hxx + 2.0 * ax * ax
        hxy = hxy + 2.0 * (ax * ay + a * axy)
        hyy = hyy + 2.0 * (ay * ay + a * ayy)
    return hxx + 0.0 * x, hxy + 0.0 * x, hyy + 0.0 * x
