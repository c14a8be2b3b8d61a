"""DALEC2 carbon pools: day-of-year phenology, allocation, turnover, decomposition.

Bloom & Williams (2015) Biogeosciences 12:1299, doi:10.5194/bg-12-1299-2015, as the
CARDAMOM ``DALEC_CDEA`` code (MODEL_SPEC 1.4-1.6); GPP and autotrophic respiration come
from the BETHY part of D&B (MODEL_SPEC 2.6).

Units: pools gC m-2; fluxes gC m-2 d-1; rates d-1; the hourly step is dt = 1/24 d with
CARDAMOM's discrete exponential loss C (1 - (1 - k)^dt) / dt.
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
