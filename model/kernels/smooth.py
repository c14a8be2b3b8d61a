"""Smooth (differentiable) replacements for min, max and switches.

BETHY writes every switch of its physics with these so that tangent-linear and adjoint
code are well defined (Knorr et al. 2010, JGR 115 G04017, doi:10.1029/2009JG001119;
``mo_helper.f90`` of the BETHY code, MODEL_SPEC 3.4).
"""

import math

from tccas.model.kernels import kernel


@kernel
def minx(x: float, y: float, x0: float) -> float:
    """Smooth min(x, y): equals y for x >= y + x0, tends to x for x << y; C1 everywhere.

    The result never exceeds min(x, y) (BETHY ``minx``).
    """
    if x <= y + x0:
        z = (x - y) / x0 - 1.0
        # exp(-40) x0 is below the rounding of x wherever z < -40: skip the call
        return x if z < -40.0 else x - x0 * math.exp(z)
    return y


@kernel
def maxx(x: float, y: float, x0: float) -> float:
    """Smooth max(x, y): equals y for x <= y - x0, tends to x for x >> y; C1 everywhere.

    The result is never below max(x, y) (BETHY ``maxx``).
    """
    if x >= y - x0:
        z = -(x - y) / x0 - 1.0
        return x if z < -40.0 else x + x0 * math.exp(z)
    return y


@kernel
def mins(x: float, y: float, eta: float) -> float:
    """Co-limitation (hyperbolic) minimum of two positive rates with curvature ``eta``.

    The smaller root of eta z^2 - (x + y) z + x y = 0 (Collatz et al. 1991, Agric. For.
    Meteorol. 54:107, doi:10.1016/0168-1923(91)90002-8); eta -> 1 gives min(x, y).
    """
    s = x + y
    return (s - math.sqrt(max(s * s - 4.0 * eta * x * y, 0.0))) / (2.0 * eta)


@kernel
def logistic(x: float, width: float) -> float:
    """Logistic step 1 / (1 + exp(-x / width)), 0.5 at x = 0."""
    z = -x / width
    if z > 700.0:
        return 0.0
    return 1.0 / (1.0 + math.exp(z))


@kernel
def limited_loss(demand: float, available: float) -> float:
    """Amount removed from a store by a demand, never more than the store holds.

    ``available * (1 - exp(-demand / available))``: the exact solution of an hour's
    depletion dW/dt = -(demand / W0) W (PROPOSED: a smooth, non-negative and
    mass-conserving replacement for min(demand, available) used for evaporation from the
    canopy store, snow melt and sublimation, and soil evaporation). [same unit as inputs]
    """
    if available <= 1e-12 or demand <= 0.0:
        return 0.0
    return available * -math.expm1(-demand / available)


@kernel
def excess(x: float, capacity: float) -> float:
    """Smooth overflow max(x - capacity, 0) of a store, leaving at least 0.99 capacity.

    Uses :func:`maxx` with a transition width of 1 % of the capacity so that the water
    left in a full store stays within [0.99, 1] x capacity and never goes negative.
    """
    return maxx(x - capacity, 0.0, 0.01 * capacity + 1e-12)
