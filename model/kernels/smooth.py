"""Smooth (differentiable) replacements for min, max and switches.

BETHY writes every switch of its physics with these so that tangent-linear and adjoint
code are well defined (Knorr et al. 2010, JGR 115 G04017, doi:10.1029/2009JG001119;
``mo_helper.f90`` of the BETHY code, MODEL_SPEC 3.4).

Each switch ``f`` has ``f_partials`` (its value and partial derivatives, on the primal's
branch; the physics kernels chain these in their own derivatives) and the ``f_tl``/``f_ad``
pair of the convention in :mod:`tccas.model.kernels`.
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


# --- derivatives -------------------------------------------------------------------------
# ``*_tl`` applies the partials to k tangent directions and ``*_ad`` transposes them, so the
# pair is consistent by construction. Transition widths (x0) and curvatures (eta) are
# constants in the model and not active; excess differentiates through its capacity.


@kernel
def minx_partials(x: float, y: float, x0: float) -> tuple[float, float, float, float]:
    """:func:`minx` and its partial derivatives (d/dx, d/dy, d/dx0)."""
    if x <= y + x0:
        z = (x - y) / x0 - 1.0
        if z < -40.0:
            return x, 1.0, 0.0, 0.0
        e = math.exp(z)
        return x - x0 * e, 1.0 - e, e, z * e
    return y, 0.0, 1.0, 0.0


@kernel
def minx_tl(x: float, y: float, x0: float, x_d: "float[:]", y_d: "float[:]",
            out_d: "float[:]") -> float:
    """Tangent-linear of :func:`minx`; active inputs ``x``, ``y`` (``x0`` is a constant
    transition width).

    Parameters
    ----------
    x, y, x0 : float
        Primal inputs (any unit, the same for all three).
    x_d, y_d : ndarray (k,)
        Tangents of ``x`` and ``y``.
    out_d : ndarray (k,)
        Overwritten with the tangents of the result.

    Returns
    -------
    float
        ``minx(x, y, x0)``.
    """
    value, d_x, d_y, _ = minx_partials(x, y, x0)
    for j in range(out_d.size):
        out_d[j] = d_x * x_d[j] + d_y * y_d[j]
    return value


@kernel
def minx_ad(x: float, y: float, x0: float, out_b: float) -> tuple[float, float]:
    """Adjoint of :func:`minx`: (x_b, y_b) for the result's adjoint ``out_b``."""
    _, d_x, d_y, _ = minx_partials(x, y, x0)
    return d_x * out_b, d_y * out_b


@kernel
def maxx_partials(x: float, y: float, x0: float) -> tuple[float, float, float, float]:
    """:func:`maxx` and its partial derivatives (d/dx, d/dy, d/dx0)."""
    if x >= y - x0:
        z = -(x - y) / x0 - 1.0
        if z < -40.0:
            return x, 1.0, 0.0, 0.0
        e = math.exp(z)
        return x + x0 * e, 1.0 - e, e, -z * e
    return y, 0.0, 1.0, 0.0


@kernel
def maxx_tl(x: float, y: float, x0: float, x_d: "float[:]", y_d: "float[:]",
            out_d: "float[:]") -> float:
    """Tangent-linear of :func:`maxx`; active inputs ``x``, ``y`` (``x0`` is a constant
    transition width).

    Parameters
    ----------
    x, y, x0 : float
        Primal inputs (any unit, the same for all three).
    x_d, y_d : ndarray (k,)
        Tangents of ``x`` and ``y``.
    out_d : ndarray (k,)
        Overwritten with the tangents of the result.

    Returns
    -------
    float
        ``maxx(x, y, x0)``.
    """
    value, d_x, d_y, _ = maxx_partials(x, y, x0)
    for j in range(out_d.size):
        out_d[j] = d_x * x_d[j] + d_y * y_d[j]
    return value


@kernel
def maxx_ad(x: float, y: float, x0: float, out_b: float) -> tuple[float, float]:
    """Adjoint of :func:`maxx`: (x_b, y_b) for the result's adjoint ``out_b``."""
    _, d_x, d_y, _ = maxx_partials(x, y, x0)
    return d_x * out_b, d_y * out_b


@kernel
def mins_partials(x: float, y: float, eta: float) -> tuple[float, float, float]:
    """:func:`mins` and its partial derivatives (d/dx, d/dy)."""
    s = x + y
    root = math.sqrt(max(s * s - 4.0 * eta * x * y, 0.0))
    value = (s - root) / (2.0 * eta)
    if root <= 0.0:
        return value, 0.5 / eta, 0.5 / eta
    # d/dx = (r - a) / (2 eta r), a = x + (1 - 2 eta) y; with r^2 - a^2 = 4 eta (1 - eta) y^2
    # the form 2 (1 - eta) y^2 / (r (r + a)) keeps its digits where x > y (a > 0)
    a = x + (1.0 - 2.0 * eta) * y
    b = y + (1.0 - 2.0 * eta) * x
    d_x = 2.0 * (1.0 - eta) * y * y / (root * (root + a)) if a > 0.0 \
        else (root - a) / (2.0 * eta * root)
    d_y = 2.0 * (1.0 - eta) * x * x / (root * (root + b)) if b > 0.0 \
        else (root - b) / (2.0 * eta * root)
    return value, d_x, d_y


@kernel
def mins_tl(x: float, y: float, eta: float, x_d: "float[:]", y_d: "float[:]",
            out_d: "float[:]") -> float:
    """Tangent-linear of :func:`mins`; active inputs ``x``, ``y`` (``eta`` is a constant).

    Parameters
    ----------
    x, y : float
        Primal rates (any unit, the same for both).
    eta : float
        Curvature [-].
    x_d, y_d : ndarray (k,)
        Tangents of ``x`` and ``y``.
    out_d : ndarray (k,)
        Overwritten with the tangents of the result.

    Returns
    -------
    float
        ``mins(x, y, eta)``.
    """
    value, d_x, d_y = mins_partials(x, y, eta)
    for j in range(out_d.size):
        out_d[j] = d_x * x_d[j] + d_y * y_d[j]
    return value


@kernel
def mins_ad(x: float, y: float, eta: float, out_b: float) -> tuple[float, float]:
    """Adjoint of :func:`mins`: (x_b, y_b) for the result's adjoint ``out_b``."""
    _, d_x, d_y = mins_partials(x, y, eta)
    return d_x * out_b, d_y * out_b


@kernel
def logistic_partials(x: float, width: float) -> tuple[float, float]:
    """:func:`logistic` and its derivative d/dx."""
    z = -x / width
    if z > 700.0:
        return 0.0, 0.0
    e = math.exp(z)
    value = 1.0 / (1.0 + e)
    return value, e * value * value / width


@kernel
def logistic_tl(x: float, width: float, x_d: "float[:]", out_d: "float[:]") -> float:
    """Tangent-linear of :func:`logistic`; active input ``x`` (``width`` is a constant).

    Parameters
    ----------
    x, width : float
        Primal inputs (same unit).
    x_d : ndarray (k,)
        Tangents of ``x``.
    out_d : ndarray (k,)
        Overwritten with the tangents of the step [-].

    Returns
    -------
    float
        ``logistic(x, width)``.
    """
    value, d_x = logistic_partials(x, width)
    for j in range(out_d.size):
        out_d[j] = d_x * x_d[j]
    return value


@kernel
def logistic_ad(x: float, width: float, out_b: float) -> float:
    """Adjoint of :func:`logistic`: x_b for the step's adjoint ``out_b``."""
    return logistic_partials(x, width)[1] * out_b


@kernel
def limited_loss_partials(demand: float, available: float) -> tuple[float, float, float]:
    """:func:`limited_loss` and its partial derivatives (d/d demand, d/d available)."""
    if available <= 1e-12 or demand <= 0.0:
        return 0.0, 0.0, 0.0
    u = demand / available
    e = math.exp(-u)
    loss_fraction = -math.expm1(-u)
    return available * loss_fraction, e, loss_fraction - u * e


@kernel
def limited_loss_tl(demand: float, available: float, demand_d: "float[:]",
                    available_d: "float[:]", loss_d: "float[:]") -> float:
    """Tangent-linear of :func:`limited_loss`; active inputs ``demand``, ``available``.

    Parameters
    ----------
    demand, available : float
        Primal demand and store (same unit, e.g. kg m-2).
    demand_d, available_d : ndarray (k,)
        Their tangents.
    loss_d : ndarray (k,)
        Overwritten with the tangents of the loss.

    Returns
    -------
    float
        ``limited_loss(demand, available)``.
    """
    value, d_demand, d_available = limited_loss_partials(demand, available)
    for j in range(loss_d.size):
        loss_d[j] = d_demand * demand_d[j] + d_available * available_d[j]
    return value


@kernel
def limited_loss_ad(demand: float, available: float, loss_b: float) -> tuple[float, float]:
    """Adjoint of :func:`limited_loss`: (demand_b, available_b) for ``loss_b``."""
    _, d_demand, d_available = limited_loss_partials(demand, available)
    return d_demand * loss_b, d_available * loss_b


@kernel
def excess_partials(x: float, capacity: float) -> tuple[float, float, float]:
    """:func:`excess` and its partial derivatives (d/dx, d/d capacity)."""
    value, d_x, _, d_x0 = maxx_partials(x - capacity, 0.0, 0.01 * capacity + 1e-12)
    return value, d_x, 0.01 * d_x0 - d_x


@kernel
def excess_tl(x: float, capacity: float, x_d: "float[:]", capacity_d: "float[:]",
              out_d: "float[:]") -> float:
    """Tangent-linear of :func:`excess`; active inputs ``x``, ``capacity``.

    Parameters
    ----------
    x, capacity : float
        Primal store and capacity (same unit, e.g. kg m-2).
    x_d, capacity_d : ndarray (k,)
        Their tangents.
    out_d : ndarray (k,)
        Overwritten with the tangents of the overflow.

    Returns
    -------
    float
        ``excess(x, capacity)``.
    """
    value, d_x, d_capacity = excess_partials(x, capacity)
    for j in range(out_d.size):
        out_d[j] = d_x * x_d[j] + d_capacity * capacity_d[j]
    return value


@kernel
def excess_ad(x: float, capacity: float, out_b: float) -> tuple[float, float]:
    """Adjoint of :func:`excess`: (x_b, capacity_b) for the overflow's adjoint ``out_b``."""
    _, d_x, d_capacity = excess_partials(x, capacity)
    return d_x * out_b, d_capacity * out_b
