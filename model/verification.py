"""Derivative verification harness: Taylor test and dot-product test.

Used by the tests of every differentiable kernel, operator and driver, and by
``tccas check-derivatives``. Functions are seen as maps R^n -> R^m on flat numpy arrays:

* ``function(x) -> y``
* ``tangent(x, dx) -> dy``  (tangent-linear: dy = J dx)
* ``adjoint(x, y_bar) -> x_bar``  (adjoint: x_bar = J' y_bar)

Taylor test: the remainder of the tangent-linear approximation,
|f(x + h dx) - f(x) - h J dx|, must fall like h^2 (by at least 50 over the decade of the
smallest steps at which it still stands above rounding); and the relative agreement of the
tangent with
central finite differences, min over h of |(f(x + h dx) - f(x - h dx)) / 2h - J dx| / |J dx|,
must be below 1e-6. Both are needed: a tangent wrong by 1e-5 can meet the second alone
when the truncation error happens to cancel its error at one step, but at small steps its
remainder is dominated by a first-order part that falls only tenfold per decade. Larger
steps are not judged: across a smoothed switch (a smooth min/max of small width) the
remainder is first order until h is inside the smoothing width.

Dot-product test: <J dx, dy> = <dx, J' dy> for random dx, dy; the relative difference
must be at the level of rounding (1e-12).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Function = Callable[[np.ndarray], np.ndarray]
Tangent = Callable[[np.ndarray, np.ndarray], np.ndarray]
Adjoint = Callable[[np.ndarray, np.ndarray], np.ndarray]

TAYLOR_TOLERANCE = 1e-6
DOT_PRODUCT_TOLERANCE = 1e-12


@dataclass(frozen=True)
class TaylorResult:
    """Steps h, the relative central-difference error at each, the first-order remainders
    and the best (smallest) relative error."""

    steps: np.ndarray
    relative_errors: np.ndarray
    remainders: np.ndarray
    min_relative_error: float
    second_order: bool

    @property
    def passed(self) -> bool:
        return self.min_relative_error < TAYLOR_TOLERANCE and self.second_order


@dataclass(frozen=True)
class DotProductResult:
    tangent_side: float
    adjoint_side: float
    relative_error: float

    @property
    def passed(self) -> bool:
        return self.relative_error < DOT_PRODUCT_TOLERANCE


def taylor_test(function: Function, tangent: Tangent, x: np.ndarray, dx: np.ndarray,
                steps: np.ndarray | None = None) -> TaylorResult:
    """Compare the tangent-linear ``J dx`` with finite differences of ``function``.

    ``second_order`` reports whether the one-sided remainder fell by at least a factor 50
    over the decade of the smallest steps at which it stands clearly above rounding (exact
    h^2 gives 100; a remainder at rounding level everywhere, as for a linear map, counts
    as second order).
    """
    x = np.asarray(x, dtype=np.float64)
    dx = np.asarray(dx, dtype=np.float64)
    steps = np.logspace(-1, -9, 17) if steps is None else np.asarray(steps, dtype=np.float64)
    y0 = np.asarray(function(x), dtype=np.float64)
    jdx = np.asarray(tangent(x, dx), dtype=np.float64)
    scale = max(np.linalg.norm(jdx), np.finfo(float).tiny)
    relative = np.empty(steps.size)
    remainders = np.empty(steps.size)
    for i, h in enumerate(steps):
        plus = np.asarray(function(x + h * dx), dtype=np.float64)
        minus = np.asarray(function(x - h * dx), dtype=np.float64)
        relative[i] = np.linalg.norm((plus - minus) / (2.0 * h) - jdx) / scale
        remainders[i] = np.linalg.norm(plus - y0 - h * jdx)
    decade = round(1.0 / abs(float(np.log10(steps[1] / steps[0])))) if steps.size > 1 else 1
    # rounding: machine rounding of f, or the function's own noise where it is larger
    # (cancellation), which the remainders show as a plateau at the smallest steps
    rounding = np.maximum(1e4 * np.finfo(float).eps * (np.linalg.norm(y0) + steps * scale),
                          30.0 * remainders.min())
    above = np.nonzero(remainders[decade:] > rounding[decade:])[0]
    if above.size == 0:
        second_order = True
    else:
        last = above[-1]
        second_order = bool(remainders[last] > 50.0 * remainders[last + decade])
    return TaylorResult(steps=steps, relative_errors=relative, remainders=remainders,
                        min_relative_error=float(relative.min()), second_order=second_order)


def dot_product_test(tangent: Tangent, adjoint: Adjoint, x: np.ndarray, dx: np.ndarray,
                     dy: np.ndarray) -> DotProductResult:
    """<tangent(x, dx), dy> against <dx, adjoint(x, dy)>."""
    left = float(np.dot(np.ravel(tangent(x, dx)), np.ravel(dy)))
    right = float(np.dot(np.ravel(dx), np.ravel(adjoint(x, dy))))
    scale = max(abs(left), abs(right), np.finfo(float).tiny)
    return DotProductResult(tangent_side=left, adjoint_side=right,
                            relative_error=abs(left - right) / scale)


def random_directions(seed: int, *shapes: tuple[int, ...]) -> list[np.ndarray]:
    """Standard-normal directions of the given shapes from ``numpy.random.default_rng(seed)``
    (tests draw a fresh seed each run and print it)."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


# --- kernel-level checks shared by the derivative tests of every kernel module -----------
# (Taylor tests along a random direction and every active input with the function's own
# rounding noise measured, the dot-product test, and k directions at once.)

# dot products whose terms cancel by more than this factor are redrawn: rounding, not the
# adjoint, would decide a 1e-12 comparison of such sums
MAX_CANCELLATION = 1e3


def kernel_maps(primal, tangent_linear, adjoint, args, active):
    """The kernel ``primal(*args)`` as maps of its active arguments (positions ``active``):
    ``function(x) -> y``, ``tangent(x, dx) -> dy`` (dx of shape (n,) or (n, k)) and
    ``adjoint(x, y_b) -> x_b``."""

    def inputs(x):
        values = list(args)
        for position, value in zip(active, x, strict=True):
            values[position] = float(value)
        return values

    def function(x):
        return np.atleast_1d(np.asarray(primal(*inputs(x)), dtype=np.float64))

    def tangent(x, dx):
        dx = np.asarray(dx, dtype=np.float64)
        directions = np.ascontiguousarray(dx.reshape(len(active), -1))
        out = np.empty((function(x).size, directions.shape[1]))
        value = tangent_linear(*inputs(x), *directions, *out)
        # the primal that the tangent-linear returns: the same up to fused multiply-adds,
        # whose rounding exp(-x) amplifies x-fold
        primal_value = function(x)
        if not np.all(np.abs(np.atleast_1d(value) - primal_value)
                      <= 1e-12 * np.abs(primal_value)):
            raise AssertionError(("tangent-linear primal differs", value, primal_value))
        return out[:, 0] if dx.ndim == 1 else out

    def adjoint_map(x, y_b):
        return np.atleast_1d(np.asarray(adjoint(*inputs(x), *y_b), dtype=np.float64))

    return function, tangent, adjoint_map


def assert_taylor(function, tangent, x, direction):
    """Taylor test along ``direction``: :func:`tccas.model.verification.taylor_test`, whose
    verdict is checked again where it fails, with the rounding of the function measured
    instead of assumed to be eps |f|, and with an h^2 criterion that tolerates the dip of
    the remainder where its h^2 and h^3 terms cancel.

    A quartic fitted to the function at 13 irregularly spaced points within 1e-2
    direction of x (regular steps from round inputs can round alike and hide the noise)
    gives a finite-difference slope; its residual, the second differences at the five
    smallest Taylor steps (where a nearly flat function that loses digits to cancellation
    shows its rare jumps) and eps |f| over the outputs that vary bound the rounding noise.

    The best central-difference agreement must be below 1e-6, unless the noise alone puts
    the rounding error of the central difference at the best step above 1e-7: finite
    differences cannot check such a direction, the dot-product test still covers it. The
    effect of the direction is the larger of the tangent's and the fitted slope, so that a
    tangent missing a dependence is not excused. Wherever the remainder r(h) stands above
    rounding (and 100 times the noise), r(h) / h^2 must stay within 10 times its largest
    value over the first two decades of steps: a first-order part, from a wrong tangent,
    makes it grow like 1 / h.
    """
    offsets = np.sin(np.arange(13.0))
    line = np.array([function(x + 1e-2 * t * direction) for t in offsets])
    basis = np.vander(offsets, 5)
    coefficients = np.linalg.lstsq(basis, line, rcond=None)[0]
    varying = np.ptp(line, axis=0) > 0.0
    second_differences = [function(x + h * direction) + function(x - h * direction) - 2 * line[0]
                          for h in np.logspace(-7.0, -9.0, 5)]
    noise = max(np.finfo(float).eps * np.linalg.norm(line[0][varying]),
                np.linalg.norm(line - basis @ coefficients, axis=1).max(),
                0.5 * np.linalg.norm(second_differences, axis=1).max())
    jdx = np.linalg.norm(tangent(x, direction))
    effect = max(jdx, np.linalg.norm(coefficients[3]) / 1e-2)
    result = taylor_test(function, tangent, x, direction)
    if result.passed:
        return
    best_step = result.steps[np.argmin(result.relative_errors)]
    accurate = result.min_relative_error < 1e-6 or noise > 1e-7 * best_step * effect
    rounding = np.maximum(1e4 * np.finfo(float).eps * (np.linalg.norm(line[0])
                                                        + result.steps * jdx), 100.0 * noise)
    above = result.remainders > rounding
    curvature = result.remainders[above] / result.steps[above] ** 2
    second_order = curvature.size == 0 or curvature.max() <= 10.0 * curvature[:4].max()
    if not (accurate and second_order):
        raise AssertionError((x, direction, result))


def check_derivatives(function, tangent, adjoint, x, scale, seed):
    """Taylor tests (a random direction and every input), the dot-product test, and k
    directions at once, for maps of the form of :func:`kernel_maps` at ``x``.

    ``scale`` is the size of the perturbation of each input: small enough to keep the
    Taylor steps inside the input's domain and on its branch; 0 leaves an input
    unperturbed in the Taylor tests (an empty store, whose tangent is 0 in the model).
    """
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), x.shape)
    rng = np.random.default_rng(seed)
    assert_taylor(function, tangent, x, rng.standard_normal(x.size) * scale)
    for i in np.flatnonzero(scale):
        assert_taylor(function, tangent, x, np.eye(x.size)[i] * scale[i])

    dot_scale = np.where(scale > 0.0, scale, 1.0)
    columns = tangent(x, np.diag(dot_scale))
    dx = rng.standard_normal(x.size)
    dy = rng.standard_normal(columns.shape[0])
    while abs(dy @ columns @ dx) * MAX_CANCELLATION < np.abs(dy) @ np.abs(columns) @ np.abs(dx):
        dx = rng.standard_normal(x.size)
        dy = rng.standard_normal(columns.shape[0])
    dot = dot_product_test(tangent, adjoint, x, dx * dot_scale, dy)
    if not dot.passed:
        raise AssertionError(dot)

    block = rng.standard_normal((x.size, 3)) * dot_scale[:, None]
    together = tangent(x, block)
    for j in range(block.shape[1]):
        np.testing.assert_allclose(together[:, j], tangent(x, block[:, j]), rtol=1e-14,
                                   atol=0.0)


def check_kernel(primal, tangent_linear, adjoint, args, active, scale, seed):
    """:func:`check_derivatives` for the kernel ``primal(*args)`` and its ``_tl``/``_ad``
    pair over the arguments at positions ``active``."""
    x = np.array([float(args[i]) for i in active])
    check_derivatives(*kernel_maps(primal, tangent_linear, adjoint, args, active), x, scale,
                      seed)


# --- component-wise kernel checks (radiation and photosynthesis tests) --------------------
# the best central difference is only good to about (noise / change)^(2/3) (truncation
# against rounding), so directions along which the primal's rounding noise exceeds this
# fraction of the change of its outputs per unit step are not Taylor-tested; the
# dot-product test still covers them
RESOLVABLE = 3e-11


def kernel_value_maps(primal, tangent_linear, adjoint, args, active):
    """The kernel ``primal(*args)`` as maps of its active arguments (positions ``active``):
    ``function(x) -> y``, ``tangent(x, dx) -> dy`` (dx of shape (n,) or (n, k)) and
    ``adjoint(x, y_b) -> x_b``; ``value(x)`` gives the primal outputs that the
    tangent-linear kernel returns."""

    def inputs(x):
        values = list(args)
        for position, value in zip(active, x, strict=True):
            values[position] = float(value)
        return values

    def function(x):
        return np.atleast_1d(np.asarray(primal(*inputs(x)), dtype=np.float64))

    def tangent(x, dx):
        dx = np.asarray(dx, dtype=np.float64)
        directions = np.ascontiguousarray(dx.reshape(len(active), -1))
        out = np.empty((function(x).size, directions.shape[1]))
        tangent_linear(*inputs(x), *directions, *out)
        return out[:, 0] if dx.ndim == 1 else out

    def value(x):
        directions = np.zeros((len(active), 1))
        out = np.empty((function(x).size, 1))
        return np.atleast_1d(np.asarray(tangent_linear(*inputs(x), *directions, *out)))

    def adjoint_map(x, y_b):
        return np.atleast_1d(np.asarray(adjoint(*inputs(x), *y_b), dtype=np.float64))

    return function, tangent, adjoint_map, value


def rounding_noise(function, x, direction):
    """Rounding noise of each output of the primal near ``x``: the rounding of the output
    or, where larger, the departure of f(x +- h dx) from the straight line through f(x)
    with the central-difference slope at 1e-4, for h of 1e-7 to 1e-9 (the curvature is far
    below rounding there; an output that moves in steps, or not at all, shows its steps)."""
    y = function(x)
    slope = (function(x + 1e-4 * direction) - function(x - 1e-4 * direction)) / 2e-4
    noise = np.finfo(float).eps * np.abs(y)
    for h in (1e-7, 1e-8, 1e-9):
        for step in (h, -h):
            noise = np.maximum(noise, np.abs(function(x + step * direction) - y - step * slope))
    return noise


def resolvable(function, x, direction):
    """Whether central differences of ``function`` along ``direction`` can check a tangent
    to 1e-6: the rounding noise against the change of the outputs per unit step (a central
    difference at 1e-4). Both come from the primal only, so a wrong tangent cannot exempt
    itself."""
    change = np.linalg.norm(function(x + 1e-4 * direction)
                            - function(x - 1e-4 * direction)) / 2e-4
    return np.linalg.norm(rounding_noise(function, x, direction)) < RESOLVABLE * change


def assert_taylor_resolved(function, tangent, x, direction):
    """Taylor test: best central-difference agreement below 1e-6, and a first-order
    remainder r(h) = |f(x + h dx) - f(x) - h J dx| that falls like h^2 down to the rounding
    noise of the primal: by more than 5 over the last half decade of h where it stands 20
    times clear of the noise (h^2 gives 10; a tangent off by delta leaves delta h |J dx|,
    which gives 3.2). Where the h^2 term shows only above its asymptotic range or hides
    below the noise, r(h) must instead reach 1e-7 of h |J dx| at some step or never exceed
    ten times the noise.

    (The minimum over h of the central-difference error alone can pass a tangent off by
    1e-5: the truncation error sweeps through that value at some step.)
    """
    result = taylor_test(function, tangent, x, direction)
    if result.min_relative_error >= TAYLOR_TOLERANCE:
        raise AssertionError((x, direction, result.relative_errors))
    remainders = result.remainders
    noise = np.linalg.norm(rounding_noise(function, x, direction))
    clear = np.flatnonzero(remainders > 20.0 * noise)
    last = clear[-1] if clear.size else 0
    falls_like_h2 = (last > 0 and last - 1 in clear
                     and remainders[last - 1] > 5.0 * remainders[last])
    one_sided = remainders / (result.steps * np.linalg.norm(tangent(x, direction)))
    if not (falls_like_h2 or one_sided.min() < 1e-7 or remainders.max() <= 10.0 * noise):
        raise AssertionError((remainders, noise))


def check_kernel_by_component(primal, tangent_linear, adjoint, args, active, scale, seed):
    """Taylor, dot-product and k-direction tests of a kernel at ``args``, with Taylor
    tests of every output component along a random direction and every active input
    (directions that central differences cannot resolve are left to the dot product).

    ``scale`` is the size of the perturbation of each active input: small enough to keep
    the Taylor steps inside the input's domain and on its branch.
    """
    function, tangent, adjoint_map, value = kernel_value_maps(primal, tangent_linear,
                                                              adjoint, args, active)
    x = np.array([float(args[i]) for i in active])
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), x.shape)
    y = function(x)
    rng = np.random.default_rng(seed)
    columns = tangent(x, np.diag(scale))

    random_direction = rng.standard_normal(x.size) * scale
    # the tangent-linear kernel returns the primal outputs (to their rounding: fast-math
    # code inlined beside the partials may fuse operations differently)
    if not np.all(np.abs(value(x) - y) <= 4.0 * rounding_noise(function, x, random_direction)):
        raise AssertionError(("tangent-linear primal differs", value(x), y))
    if resolvable(function, x, random_direction):
        assert_taylor_resolved(function, tangent, x, random_direction)
    for i in range(y.size):
        def component(x, i=i):
            return function(x)[i:i + 1]

        def component_tangent(x, dx, i=i):
            return tangent(x, dx)[i:i + 1]

        for direction in [random_direction, *np.diag(scale)]:
            if resolvable(component, x, direction):
                assert_taylor_resolved(component, component_tangent, x, direction)

    dx = rng.standard_normal(x.size)
    dy = rng.standard_normal(y.size)
    while abs(dy @ columns @ dx) * MAX_CANCELLATION < np.abs(dy) @ np.abs(columns) @ np.abs(dx):
        dx = rng.standard_normal(x.size)
        dy = rng.standard_normal(y.size)
    dot = dot_product_test(tangent, adjoint_map, x, dx * scale, dy)
    if not dot.passed:
        raise AssertionError(dot)

    block = rng.standard_normal((x.size, 3)) * scale[:, None]
    together = tangent(x, block)
    for j in range(block.shape[1]):
        np.testing.assert_allclose(together[:, j], tangent(x, block[:, j]), rtol=1e-14,
                                   atol=0.0)
