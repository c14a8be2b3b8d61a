"""DALEC2 carbon pools: day-of-year phenology, allocation, turnover, decomposition.

Bloom & Williams (2015) Biogeosciences 12:1299, doi:10.5194/bg-12-1299-2015, as the
CARDAMOM ``DALEC_CDEA`` code (MODEL_SPEC 1.4-1.6); GPP and autotrophic respiration come
from the BETHY part of D&B (MODEL_SPEC 2.6).

Units: pools gC m-2; fluxes gC m-2 d-1; rates d-1; the hourly step is dt = 1/24 d with
CARDAMOM's discrete exponential loss C (1 - (1 - k)^dt) / dt.

Every kernel has the ``_tl``/``_ad`` pair of the convention in :mod:`tccas.model.kernels`.
"""

import math

from tccas.model.kernels import kernel
from tccas.model.layout import (
    S_C_FOL,
    S_C_LAB,
    S_C_LIT,
    S_C_ROOT,
    S_C_SOM,
    S_C_WOOD,
    V_FALL_OFFSET,
    V_FALL_PEAK,
    V_FALL_WIDTH,
    V_ONSET_OFFSET,
    V_ONSET_PEAK,
    V_ONSET_WIDTH,
    V_ROOT_LOSS,
    V_WOOD_LOSS,
)
from tccas.model.parameters import (
    P_D_FALL,
    P_D_ONSET,
    P_F_FOL,
    P_F_LAB,
    P_F_ROO,
    P_TEMP_SENSITIVITY,
    P_THETA_LIT,
    P_THETA_MIN,
    P_THETA_SOM,
)

SOFF_COEFFICIENTS = (2.359978471e-5, 3.32730053021e-4, 9.01865258885e-4,
                     -5.437736864888e-3, -2.0836027517787e-2, 0.126972018064287,
                     -0.188459767342504)
SF = 365.25 / math.pi
SQRT_PI = math.sqrt(math.pi)


@kernel
def _offset(lifespan: float, width: float) -> float:
    """CARDAMOM phenology offset w sum_k c_k ln(L - 1)^(6 - k) [d]."""
    x = math.log(lifespan - 1.0)
    total = 0.0
    for c in SOFF_COEFFICIENTS:
        total = total * x + c
    return width * total


@kernel
def phenology_constants(lifespan: float, duration: float) -> tuple[float, float, float]:
    """(width [d], offset [d], peak rate [d-1]) of a DALEC2 phenology pulse of the given
    duration (cr_onset or cr_fall) for leaf lifespan L (1.001 for the labile release).

    width w = duration sqrt(2)/2, magnitude f = [ln L - ln(L - 1)] / 2,
    peak 2 f / (sqrt(pi) w).
    """
    width = duration * math.sqrt(2.0) / 2.0
    magnitude = (math.log(lifespan) - math.log(lifespan - 1.0)) / 2.0
    return width, _offset(lifespan, width), 2.0 / SQRT_PI * magnitude / width


@kernel
def phenology_pulse(day_of_year: float, centre: float, width: float, offset: float,
                    peak: float) -> float:
    """DALEC2 day-of-year release factor peak exp(-[sin((t - d + os)/s_f) s_f / w]^2)
    [d-1] (phi_on for the labile release, phi_fall for leaf fall); s_f = 365.25 / pi."""
    arg = math.sin((day_of_year - centre + offset) / SF) * SF / width
    return peak * math.exp(-arg * arg)


@kernel
def loss_factor(rate: float, dt: float) -> float:
    """(1 - (1 - k)^dt) / dt: the fraction of a pool lost per day over a step dt [d] at
    rate k [d-1] (CARDAMOM discrete exponential loss)."""
    return -math.expm1(dt * math.log1p(-rate)) / dt


@kernel
def discrete_loss(pool: float, rate: float, dt: float) -> float:
    """CARDAMOM loss C (1 - (1 - k)^dt) / dt [gC m-2 d-1] of a pool at rate k [d-1]."""
    return pool * loss_factor(rate, dt)


@kernel
def carbon_step(state: "float[:]", params: "float[:]", derived: "float[:]", gpp: float,
                ra: float, t_air_c: float, day_of_year: float, dt: float) -> float:
    """Advance the six DALEC2 pools of ``state`` by ``dt`` days in place; return the
    heterotrophic respiration [gC m-2 d-1].

    NPP = GPP - Ra [gC m-2 d-1] (negative NPP is allocated with the same fractions) goes
    down the cascade foliage -> labile -> roots -> wood; labile release and leaf fall follow
    the day-of-year pulses, wood and root turnover are first order, litter and SOM
    decomposition scale with exp(Theta T_air) (MODEL_SPEC 1.4).
    """
    temprate = math.exp(params[P_TEMP_SENSITIVITY] * t_air_c)
    npp = gpp - ra
    f_leaf = npp * params[P_F_FOL]
    f_labile = (npp - f_leaf) * params[P_F_LAB]
    f_root = (npp - f_leaf - f_labile) * params[P_F_ROO]
    f_wood = npp - f_leaf - f_labile - f_root
    phi_on = phenology_pulse(day_of_year, params[P_D_ONSET], derived[V_ONSET_WIDTH],
                             derived[V_ONSET_OFFSET], derived[V_ONSET_PEAK])
    phi_fall = phenology_pulse(day_of_year, params[P_D_FALL], derived[V_FALL_WIDTH],
                               derived[V_FALL_OFFSET], derived[V_FALL_PEAK])
    labile_release = discrete_loss(state[S_C_LAB], phi_on, dt)
    leaf_litter = discrete_loss(state[S_C_FOL], phi_fall, dt)
    wood_litter = state[S_C_WOOD] * derived[V_WOOD_LOSS]
    root_litter = state[S_C_ROOT] * derived[V_ROOT_LOSS]
    rh_litter = discrete_loss(state[S_C_LIT], params[P_THETA_LIT] * temprate, dt)
    rh_som = discrete_loss(state[S_C_SOM], params[P_THETA_SOM] * temprate, dt)
    litter_to_som = discrete_loss(state[S_C_LIT], params[P_THETA_MIN] * temprate, dt)
    state[S_C_LAB] += (f_labile - labile_release) * dt
    state[S_C_FOL] += (f_leaf + labile_release - leaf_litter) * dt
    state[S_C_ROOT] += (f_root - root_litter) * dt
    state[S_C_WOOD] += (f_wood - wood_litter) * dt
    state[S_C_LIT] += (leaf_litter + root_litter - rh_litter - litter_to_som) * dt
    state[S_C_SOM] += (wood_litter + litter_to_som - rh_som) * dt
    return rh_litter + rh_som


# --- derivatives -------------------------------------------------------------------------
# Active inputs: pools, the DALEC parameters and the derived phenology and turnover
# constants, GPP and Ra; air temperature, day of year and the step are forcing or
# constants. Each ``_*_partials`` returns the value and its partial derivatives; ``*_tl``
# and ``*_ad`` apply them and their transpose.


@kernel
def _offset_partials(lifespan: float, width: float) -> tuple[float, float, float]:
    """:func:`_offset` and its partial derivatives (d/d lifespan, d/d width)."""
    x = math.log(lifespan - 1.0)
    total = 0.0
    slope = 0.0
    for c in SOFF_COEFFICIENTS:
        slope = slope * x + total
        total = total * x + c
    return width * total, width * slope / (lifespan - 1.0), total


@kernel
def _offset_tl(lifespan: float, width: float, lifespan_d: "float[:]", width_d: "float[:]",
               offset_d: "float[:]") -> float:
    """Tangent-linear of :func:`_offset`; active inputs lifespan [yr] and width [d].

    Parameters
    ----------
    lifespan, width : float
        Leaf lifespan [yr] and pulse width [d].
    lifespan_d, width_d : ndarray (k,)
        Their tangents.
    offset_d : ndarray (k,)
        Overwritten with the tangents of the offset [d].

    Returns
    -------
    float
        ``_offset(lifespan, width)`` [d].
    """
    offset, o_lifespan, o_width = _offset_partials(lifespan, width)
    for j in range(offset_d.size):
        offset_d[j] = o_lifespan * lifespan_d[j] + o_width * width_d[j]
    return offset


@kernel
def _offset_ad(lifespan: float, width: float, offset_b: float) -> tuple[float, float]:
    """Adjoint of :func:`_offset`: (lifespan_b, width_b) for the offset's adjoint."""
    _, o_lifespan, o_width = _offset_partials(lifespan, width)
    return o_lifespan * offset_b, o_width * offset_b


@kernel
def _phenology_constants_partials(lifespan: float, duration: float) -> tuple[float, ...]:
    """Outputs of :func:`phenology_constants` (width, offset, peak), then d width /
    d duration, d offset / d (lifespan, duration), d peak / d (lifespan, duration)."""
    width_duration = math.sqrt(2.0) / 2.0
    width = duration * math.sqrt(2.0) / 2.0
    magnitude = (math.log(lifespan) - math.log(lifespan - 1.0)) / 2.0
    magnitude_lifespan = (1.0 / lifespan - 1.0 / (lifespan - 1.0)) / 2.0
    offset, o_lifespan, o_width = _offset_partials(lifespan, width)
    peak = 2.0 / SQRT_PI * magnitude / width
    return (width, offset, peak, width_duration, o_lifespan, o_width * width_duration,
            2.0 / SQRT_PI * magnitude_lifespan / width, -peak / width * width_duration)


@kernel
def phenology_constants_tl(lifespan: float, duration: float, lifespan_d: "float[:]",
                           duration_d: "float[:]", width_d: "float[:]", offset_d: "float[:]",
                           peak_d: "float[:]") -> tuple[float, float, float]:
    """Tangent-linear of :func:`phenology_constants`; active inputs lifespan (clspan, a
    parameter; the labile release's 1.001 is a constant) and duration (cr_onset or cr_fall).

    Parameters
    ----------
    lifespan, duration : float
        Leaf lifespan [yr] and pulse duration [d].
    lifespan_d, duration_d : ndarray (k,)
        Their tangents.
    width_d, offset_d, peak_d : ndarray (k,)
        Overwritten with the tangents of width [d], offset [d] and peak rate [d-1].

    Returns
    -------
    tuple of float
        ``phenology_constants(lifespan, duration)``: (width, offset, peak).
    """
    (width, offset, peak, w_duration, o_lifespan, o_duration, p_lifespan,
     p_duration) = _phenology_constants_partials(lifespan, duration)
    for j in range(width_d.size):
        l_d = lifespan_d[j]
        d_d = duration_d[j]
        width_d[j] = w_duration * d_d
        offset_d[j] = o_lifespan * l_d + o_duration * d_d
        peak_d[j] = p_lifespan * l_d + p_duration * d_d
    return width, offset, peak


@kernel
def phenology_constants_ad(lifespan: float, duration: float, width_b: float, offset_b: float,
                           peak_b: float) -> tuple[float, float]:
    """Adjoint of :func:`phenology_constants`: (lifespan_b, duration_b) for the adjoints of
    (width, offset, peak)."""
    (_, _, _, w_duration, o_lifespan, o_duration, p_lifespan,
     p_duration) = _phenology_constants_partials(lifespan, duration)
    return (o_lifespan * offset_b + p_lifespan * peak_b,
            w_duration * width_b + o_duration * offset_b + p_duration * peak_b)


@kernel
def _phenology_pulse_partials(day_of_year: float, centre: float, width: float, offset: float,
                              peak: float) -> tuple[float, float, float, float, float]:
    """:func:`phenology_pulse` and its partial derivatives by (centre, width, offset,
    peak)."""
    phase = (day_of_year - centre + offset) / SF
    arg = math.sin(phase) * SF / width
    shape = math.exp(-arg * arg)
    pulse = peak * shape
    # d pulse / d arg, and d arg / d offset (= -d arg / d centre)
    p_arg = -2.0 * arg * pulse
    arg_offset = math.cos(phase) / width
    return pulse, -p_arg * arg_offset, -p_arg * arg / width, p_arg * arg_offset, shape


@kernel
def phenology_pulse_tl(day_of_year: float, centre: float, width: float, offset: float,
                       peak: float, centre_d: "float[:]", width_d: "float[:]",
                       offset_d: "float[:]", peak_d: "float[:]",
                       pulse_d: "float[:]") -> float:
    """Tangent-linear of :func:`phenology_pulse`; active inputs centre (d_onset or d_fall)
    [DOY], width [d], offset [d] and peak [d-1]; the day of year is forcing.

    Parameters
    ----------
    day_of_year, centre, width, offset, peak : float
        Primal inputs as in :func:`phenology_pulse`.
    centre_d, width_d, offset_d, peak_d : ndarray (k,)
        Tangents of the active inputs.
    pulse_d : ndarray (k,)
        Overwritten with the tangents of the release factor [d-1].

    Returns
    -------
    float
        ``phenology_pulse(...)`` [d-1].
    """
    pulse, p_centre, p_width, p_offset, p_peak = _phenology_pulse_partials(
        day_of_year, centre, width, offset, peak)
    for j in range(pulse_d.size):
        pulse_d[j] = (p_centre * centre_d[j] + p_width * width_d[j] + p_offset * offset_d[j]
                      + p_peak * peak_d[j])
    return pulse


@kernel
def phenology_pulse_ad(day_of_year: float, centre: float, width: float, offset: float,
                       peak: float, pulse_b: float) -> tuple[float, float, float, float]:
    """Adjoint of :func:`phenology_pulse`: (centre_b, width_b, offset_b, peak_b) for the
    release factor's adjoint."""
    _, p_centre, p_width, p_offset, p_peak = _phenology_pulse_partials(
        day_of_year, centre, width, offset, peak)
    return p_centre * pulse_b, p_width * pulse_b, p_offset * pulse_b, p_peak * pulse_b


@kernel
def _loss_factor_partials(rate: float, dt: float) -> tuple[float, float]:
    """:func:`loss_factor` and its derivative (1 - k)^(dt - 1) by the rate."""
    log_remaining = math.log1p(-rate)
    return -math.expm1(dt * log_remaining) / dt, math.exp((dt - 1.0) * log_remaining)


@kernel
def loss_factor_tl(rate: float, dt: float, rate_d: "float[:]", factor_d: "float[:]") -> float:
    """Tangent-linear of :func:`loss_factor`; active input the rate [d-1] (the step is a
    constant).

    Parameters
    ----------
    rate, dt : float
        Loss rate [d-1] and step [d].
    rate_d : ndarray (k,)
        Tangents of the rate.
    factor_d : ndarray (k,)
        Overwritten with the tangents of the loss factor [d-1].

    Returns
    -------
    float
        ``loss_factor(rate, dt)`` [d-1].
    """
    factor, f_rate = _loss_factor_partials(rate, dt)
    for j in range(factor_d.size):
        factor_d[j] = f_rate * rate_d[j]
    return factor


@kernel
def loss_factor_ad(rate: float, dt: float, factor_b: float) -> float:
    """Adjoint of :func:`loss_factor`: rate_b for the loss factor's adjoint."""
    return _loss_factor_partials(rate, dt)[1] * factor_b


@kernel
def discrete_loss_tl(pool: float, rate: float, dt: float, pool_d: "float[:]",
                     rate_d: "float[:]", loss_d: "float[:]") -> float:
    """Tangent-linear of :func:`discrete_loss`; active inputs pool [gC m-2] and rate
    [d-1].

    Parameters
    ----------
    pool, rate, dt : float
        Pool [gC m-2], rate [d-1] and step [d].
    pool_d, rate_d : ndarray (k,)
        Tangents of pool and rate.
    loss_d : ndarray (k,)
        Overwritten with the tangents of the loss [gC m-2 d-1].

    Returns
    -------
    float
        ``discrete_loss(pool, rate, dt)`` [gC m-2 d-1].
    """
    factor, f_rate = _loss_factor_partials(rate, dt)
    for j in range(loss_d.size):
        loss_d[j] = factor * pool_d[j] + pool * f_rate * rate_d[j]
    return pool * factor


@kernel
def discrete_loss_ad(pool: float, rate: float, dt: float, loss_b: float) -> tuple[float, float]:
    """Adjoint of :func:`discrete_loss`: (pool_b, rate_b) for the loss's adjoint."""
    factor, f_rate = _loss_factor_partials(rate, dt)
    return factor * loss_b, pool * f_rate * loss_b


@kernel
def _carbon_rates(params: "float[:]", derived: "float[:]", t_air_c: float,
                  day_of_year: float, dt: float) -> tuple[float, ...]:
    """The pool-independent factors of :func:`carbon_step` and their partial derivatives:
    temprate; the onset pulse's partials by (d_onset, width, offset, peak) and the labile
    release's loss factor with its derivative by the pulse; the same for leaf fall; the
    loss factors of litter respiration, SOM respiration and litter -> SOM with their
    derivatives by their rates."""
    temprate = math.exp(params[P_TEMP_SENSITIVITY] * t_air_c)
    phi_on, on_centre, on_width, on_offset, on_peak = _phenology_pulse_partials(
        day_of_year, params[P_D_ONSET], derived[V_ONSET_WIDTH], derived[V_ONSET_OFFSET],
        derived[V_ONSET_PEAK])
    phi_fall, fall_centre, fall_width, fall_offset, fall_peak = _phenology_pulse_partials(
        day_of_year, params[P_D_FALL], derived[V_FALL_WIDTH], derived[V_FALL_OFFSET],
        derived[V_FALL_PEAK])
    release, release_rate = _loss_factor_partials(phi_on, dt)
    fall, fall_rate = _loss_factor_partials(phi_fall, dt)
    litter, litter_rate = _loss_factor_partials(params[P_THETA_LIT] * temprate, dt)
    som, som_rate = _loss_factor_partials(params[P_THETA_SOM] * temprate, dt)
    humification, humification_rate = _loss_factor_partials(params[P_THETA_MIN] * temprate,
                                                            dt)
    return (temprate, on_centre, on_width, on_offset, on_peak, release, release_rate,
            fall_centre, fall_width, fall_offset, fall_peak, fall, fall_rate, litter,
            litter_rate, som, som_rate, humification, humification_rate)


@kernel
def carbon_step_tl(state: "float[:]", state_d: "float[:, :]", params: "float[:]",
                   params_d: "float[:, :]", derived: "float[:]", derived_d: "float[:, :]",
                   gpp: float, gpp_d: "float[:]", ra: float, ra_d: "float[:]",
                   t_air_c: float, day_of_year: float, dt: float, rh_d: "float[:]") -> float:
    """Tangent-linear of :func:`carbon_step`: advance the pools of ``state`` and their
    tangents ``state_d`` in place; return the heterotrophic respiration [gC m-2 d-1].

    Active inputs: the six pools [gC m-2]; the parameters f_fol, f_lab, f_roo, d_onset,
    d_fall, theta_lit, theta_som, theta_min and Theta; the derived onset and fall pulse
    widths, offsets and peaks and the wood and root loss factors; GPP and Ra
    [gC m-2 d-1]. Air temperature, day of year and dt are forcing or constants.

    Parameters
    ----------
    state : ndarray (n_state,)
        State before the step, updated in place (carbon pools only).
    state_d : ndarray (n_state, k)
        Tangents of the state, updated in place (carbon rows only).
    params, params_d : ndarray (n_param,), (n_param, k)
        Parameters and their tangents (rows of inactive parameters are not read).
    derived, derived_d : ndarray (n_derived,), (n_derived, k)
        Derived tile constants and their tangents (rows of inactive constants not read).
    gpp, ra : float
        GPP and autotrophic respiration [gC m-2 d-1].
    gpp_d, ra_d : ndarray (k,)
        Their tangents.
    t_air_c, day_of_year, dt : float
        Air temperature [degC], fractional day of year, step [d].
    rh_d : ndarray (k,)
        Overwritten with the tangents of the heterotrophic respiration [gC m-2 d-1].

    Returns
    -------
    float
        The heterotrophic respiration of :func:`carbon_step` [gC m-2 d-1].
    """
    (temprate, on_centre, on_width, on_offset, on_peak, release, release_rate, fall_centre,
     fall_width, fall_offset, fall_peak, fall, fall_rate, litter, litter_rate, som, som_rate,
     humification, humification_rate) = _carbon_rates(params, derived, t_air_c, day_of_year,
                                                       dt)
    f_fol = params[P_F_FOL]
    f_lab = params[P_F_LAB]
    f_roo = params[P_F_ROO]
    theta_lit = params[P_THETA_LIT]
    theta_som = params[P_THETA_SOM]
    theta_min = params[P_THETA_MIN]
    c_lab = state[S_C_LAB]
    c_fol = state[S_C_FOL]
    c_root = state[S_C_ROOT]
    c_wood = state[S_C_WOOD]
    c_lit = state[S_C_LIT]
    c_som = state[S_C_SOM]
    npp = gpp - ra
    f_leaf = npp * f_fol
    after_leaf = npp - f_leaf
    f_labile = after_leaf * f_lab
    after_labile = after_leaf - f_labile
    f_root = after_labile * f_roo
    for j in range(rh_d.size):
        npp_d = gpp_d[j] - ra_d[j]
        leaf_d = npp_d * f_fol + npp * params_d[P_F_FOL, j]
        after_leaf_d = npp_d - leaf_d
        labile_d = after_leaf_d * f_lab + after_leaf * params_d[P_F_LAB, j]
        after_labile_d = after_leaf_d - labile_d
        root_d = after_labile_d * f_roo + after_labile * params_d[P_F_ROO, j]
        phi_on_d = (on_centre * params_d[P_D_ONSET, j] + on_width * derived_d[V_ONSET_WIDTH, j]
                    + on_offset * derived_d[V_ONSET_OFFSET, j]
                    + on_peak * derived_d[V_ONSET_PEAK, j])
        phi_fall_d = (fall_centre * params_d[P_D_FALL, j]
                      + fall_width * derived_d[V_FALL_WIDTH, j]
                      + fall_offset * derived_d[V_FALL_OFFSET, j]
                      + fall_peak * derived_d[V_FALL_PEAK, j])
        temprate_d = temprate * t_air_c * params_d[P_TEMP_SENSITIVITY, j]
        release_d = release * state_d[S_C_LAB, j] + c_lab * release_rate * phi_on_d
        leaf_litter_d = fall * state_d[S_C_FOL, j] + c_fol * fall_rate * phi_fall_d
        wood_litter_d = (derived[V_WOOD_LOSS] * state_d[S_C_WOOD, j]
                         + c_wood * derived_d[V_WOOD_LOSS, j])
        root_litter_d = (derived[V_ROOT_LOSS] * state_d[S_C_ROOT, j]
                         + c_root * derived_d[V_ROOT_LOSS, j])
        rh_litter_d = litter * state_d[S_C_LIT, j] + c_lit * litter_rate * (
            params_d[P_THETA_LIT, j] * temprate + theta_lit * temprate_d)
        rh_som_d = som * state_d[S_C_SOM, j] + c_som * som_rate * (
            params_d[P_THETA_SOM, j] * temprate + theta_som * temprate_d)
        humification_d = humification * state_d[S_C_LIT, j] + c_lit * humification_rate * (
            params_d[P_THETA_MIN, j] * temprate + theta_min * temprate_d)
        state_d[S_C_LAB, j] += (labile_d - release_d) * dt
        state_d[S_C_FOL, j] += (leaf_d + release_d - leaf_litter_d) * dt
        state_d[S_C_ROOT, j] += (root_d - root_litter_d) * dt
        state_d[S_C_WOOD, j] += (after_labile_d - root_d - wood_litter_d) * dt
        state_d[S_C_LIT, j] += (leaf_litter_d + root_litter_d - rh_litter_d
                                - humification_d) * dt
        state_d[S_C_SOM, j] += (wood_litter_d + humification_d - rh_som_d) * dt
        rh_d[j] = rh_litter_d + rh_som_d
    # the primal update, with the expressions of carbon_step
    f_wood = npp - f_leaf - f_labile - f_root
    labile_release = c_lab * release
    leaf_litter = c_fol * fall
    wood_litter = c_wood * derived[V_WOOD_LOSS]
    root_litter = c_root * derived[V_ROOT_LOSS]
    rh_litter = c_lit * litter
    rh_som = c_som * som
    litter_to_som = c_lit * humification
    state[S_C_LAB] += (f_labile - labile_release) * dt
    state[S_C_FOL] += (f_leaf + labile_release - leaf_litter) * dt
    state[S_C_ROOT] += (f_root - root_litter) * dt
    state[S_C_WOOD] += (f_wood - wood_litter) * dt
    state[S_C_LIT] += (leaf_litter + root_litter - rh_litter - litter_to_som) * dt
    state[S_C_SOM] += (wood_litter + litter_to_som - rh_som) * dt
    return rh_litter + rh_som


@kernel
def carbon_step_ad(state: "float[:]", params: "float[:]", derived: "float[:]", gpp: float,
                   ra: float, t_air_c: float, day_of_year: float, dt: float,
                   state_b: "float[:]", params_b: "float[:]", derived_b: "float[:]",
                   rh_b: float) -> tuple[float, float]:
    """Adjoint of :func:`carbon_step`, given the state before the step.

    Active inputs as in :func:`carbon_step_tl`.

    Parameters
    ----------
    state : ndarray (n_state,)
        State before the step (not modified).
    params, derived : ndarray (n_param,), (n_derived,)
        Parameters and derived tile constants.
    gpp, ra : float
        GPP and autotrophic respiration [gC m-2 d-1].
    t_air_c, day_of_year, dt : float
        Air temperature [degC], fractional day of year, step [d].
    state_b : ndarray (n_state,)
        In: adjoint of the state after the step; out: adjoint of the state before it (only
        the carbon rows change).
    params_b, derived_b : ndarray (n_param,), (n_derived,)
        Adjoints of parameters and derived constants, accumulated (+=) in place.
    rh_b : float
        Adjoint of the heterotrophic respiration.

    Returns
    -------
    tuple of float
        (gpp_b, ra_b).
    """
    (temprate, on_centre, on_width, on_offset, on_peak, release, release_rate, fall_centre,
     fall_width, fall_offset, fall_peak, fall, fall_rate, litter, litter_rate, som, som_rate,
     humification, humification_rate) = _carbon_rates(params, derived, t_air_c, day_of_year,
                                                       dt)
    c_lab = state[S_C_LAB]
    c_fol = state[S_C_FOL]
    c_root = state[S_C_ROOT]
    c_wood = state[S_C_WOOD]
    c_lit = state[S_C_LIT]
    c_som = state[S_C_SOM]
    lab_b = state_b[S_C_LAB]
    fol_b = state_b[S_C_FOL]
    root_b = state_b[S_C_ROOT]
    wood_b = state_b[S_C_WOOD]
    lit_b = state_b[S_C_LIT]
    som_b = state_b[S_C_SOM]
    # adjoints of the fluxes, from the pool updates and Rh
    release_b = (fol_b - lab_b) * dt
    leaf_litter_b = (lit_b - fol_b) * dt
    wood_litter_b = (som_b - wood_b) * dt
    root_litter_b = (lit_b - root_b) * dt
    rh_litter_b = rh_b - lit_b * dt
    rh_som_b = rh_b - som_b * dt
    humification_b = (som_b - lit_b) * dt
    # pools before the step: carried over, plus the losses they feed
    state_b[S_C_LAB] = lab_b + release * release_b
    state_b[S_C_FOL] = fol_b + fall * leaf_litter_b
    state_b[S_C_ROOT] = root_b + derived[V_ROOT_LOSS] * root_litter_b
    state_b[S_C_WOOD] = wood_b + derived[V_WOOD_LOSS] * wood_litter_b
    state_b[S_C_LIT] = lit_b + litter * rh_litter_b + humification * humification_b
    state_b[S_C_SOM] = som_b + som * rh_som_b
    derived_b[V_WOOD_LOSS] += c_wood * wood_litter_b
    derived_b[V_ROOT_LOSS] += c_root * root_litter_b
    phi_on_b = c_lab * release_rate * release_b
    params_b[P_D_ONSET] += on_centre * phi_on_b
    derived_b[V_ONSET_WIDTH] += on_width * phi_on_b
    derived_b[V_ONSET_OFFSET] += on_offset * phi_on_b
    derived_b[V_ONSET_PEAK] += on_peak * phi_on_b
    phi_fall_b = c_fol * fall_rate * leaf_litter_b
    params_b[P_D_FALL] += fall_centre * phi_fall_b
    derived_b[V_FALL_WIDTH] += fall_width * phi_fall_b
    derived_b[V_FALL_OFFSET] += fall_offset * phi_fall_b
    derived_b[V_FALL_PEAK] += fall_peak * phi_fall_b
    # decomposition rates theta temprate
    litter_rate_b = c_lit * litter_rate * rh_litter_b
    som_rate_b = c_som * som_rate * rh_som_b
    humification_rate_b = c_lit * humification_rate * humification_b
    params_b[P_THETA_LIT] += temprate * litter_rate_b
    params_b[P_THETA_SOM] += temprate * som_rate_b
    params_b[P_THETA_MIN] += temprate * humification_rate_b
    temprate_b = (params[P_THETA_LIT] * litter_rate_b + params[P_THETA_SOM] * som_rate_b
                  + params[P_THETA_MIN] * humification_rate_b)
    params_b[P_TEMP_SENSITIVITY] += temprate * t_air_c * temprate_b
    # allocation cascade, reversed: wood takes what roots leave after labile and foliage
    npp = gpp - ra
    after_leaf = npp - npp * params[P_F_FOL]
    after_labile = after_leaf - after_leaf * params[P_F_LAB]
    root_share_b = (root_b - wood_b) * dt
    after_labile_b = wood_b * dt + params[P_F_ROO] * root_share_b
    params_b[P_F_ROO] += after_labile * root_share_b
    labile_share_b = lab_b * dt - after_labile_b
    after_leaf_b = after_labile_b + params[P_F_LAB] * labile_share_b
    params_b[P_F_LAB] += after_leaf * labile_share_b
    leaf_share_b = fol_b * dt - after_leaf_b
    npp_b = after_leaf_b + params[P_F_FOL] * leaf_share_b
    params_b[P_F_FOL] += npp * leaf_share_b
    return npp_b, -npp_b
