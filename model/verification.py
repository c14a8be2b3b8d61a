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
