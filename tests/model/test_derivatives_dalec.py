"""Tangent-linear and adjoint of the DALEC2 kernels (model/kernels/dalec.py).

Each kernel, seen as a map of its active inputs, passes a Taylor test along a random
direction and along every input, a dot-product test, and gives for k directions at once
what k single directions give; hypothesis draws every PFT's priors, leaf-off and full
canopies, night (no GPP), negative NPP, frozen and warm air, and days at the onset and
fall pulses and between them. The helpers are those of test_derivatives_smooth.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tccas.model.kernels.dalec import (
    _offset,
    _offset_ad,
    _offset_tl,
    carbon_step,
    carbon_step_ad,
    carbon_step_tl,
    discrete_loss,
    discrete_loss_ad,
    discrete_loss_tl,
    loss_factor,
    loss_factor_ad,
    loss_factor_tl,
    phenology_constants,
    phenology_constants_ad,
    phenology_constants_tl,
    phenology_pulse,
    phenology_pulse_ad,
    phenology_pulse_tl,
)
from tccas.model.layout import (
    CARBON_STATES,
    N_DERIVED,
    N_STATE,
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
    N_PARAMETER,
    P_C_LABILE_INIT,
    P_CLSPAN,
    P_CR_FALL,
    P_CR_ONSET,
    P_D_FALL,
    P_D_ONSET,
    P_F_FOL,
    P_F_LAB,
    P_F_ROO,
    P_TEMP_SENSITIVITY,
    P_THETA_LIT,
    P_THETA_MIN,
    P_THETA_ROO,
    P_THETA_SOM,
    P_THETA_WOO,
    PFTS,
    prior_table,
)
from tccas.model.verification import check_derivatives, check_kernel

DT = 1.0 / 24.0

SEEDS = st.integers(0, 2**32 - 1)
LIFESPANS = st.one_of(st.just(1.001), st.floats(1.002, 1.2), st.floats(1.2, 8.0))


# --- phenology constants and pulses: the labile release (lifespan 1.001), deciduous and
# evergreen lifespans, short and long pulses, days at the peaks and far from them

@settings(max_examples=60, deadline=None)
@given(lifespan=LIFESPANS, width=st.floats(5.0, 110.0), seed=SEEDS)
def test_offset_derivatives(lifespan, width, seed):
    check_kernel(_offset, _offset_tl, _offset_ad, (lifespan, width), (0, 1),
                 (0.01 * (lifespan - 1.0), 0.01 * width), seed)


@settings(max_examples=60, deadline=None)
@given(lifespan=LIFESPANS, duration=st.floats(5.0, 150.0), seed=SEEDS)
def test_phenology_constants_derivatives(lifespan, duration, seed):
    check_kernel(phenology_constants, phenology_constants_tl, phenology_constants_ad,
                 (lifespan, duration), (0, 1), (0.01 * (lifespan - 1.0), 0.01 * duration),
                 seed)


@settings(max_examples=100, deadline=None)
@given(centre=st.floats(1.0, 365.0), distance=st.one_of(st.floats(-30.0, 30.0),
                                                        st.floats(-365.0, 365.0)),
       lifespan=LIFESPANS, duration=st.floats(5.0, 150.0), seed=SEEDS)
def test_phenology_pulse_derivatives(centre, distance, lifespan, duration, seed):
    width, offset, peak = phenology_constants(lifespan, duration)
    args = (centre - offset + distance, centre, width, offset, peak)
    check_kernel(phenology_pulse, phenology_pulse_tl, phenology_pulse_ad, args, (1, 2, 3, 4),
                 (0.5, 0.01 * width, 0.5, 0.01 * peak), seed)


# --- discrete exponential loss: slow to fast rates, empty to large pools

@settings(max_examples=60, deadline=None)
@given(rate=st.one_of(st.floats(1e-7, 1e-3), st.floats(1e-3, 0.95)), seed=SEEDS)
def test_loss_factor_derivatives(rate, seed):
    check_kernel(loss_factor, loss_factor_tl, loss_factor_ad, (rate, DT), (0,), 0.01 * rate,
                 seed)


@settings(max_examples=60, deadline=None)
@given(pool=st.one_of(st.just(0.0), st.floats(1e-3, 1.0), st.floats(1.0, 5e4)),
       rate=st.one_of(st.floats(1e-7, 1e-3), st.floats(1e-3, 0.95)), seed=SEEDS)
def test_discrete_loss_derivatives(pool, rate, seed):
    # linear in the pool, so an empty pool is perturbed too
    check_kernel(discrete_loss, discrete_loss_tl, discrete_loss_ad, (pool, rate, DT), (0, 1),
                 (0.01 * pool + 1e-3, 0.01 * rate), seed)


# --- carbon step

ACTIVE_PARAMS = (P_F_FOL, P_F_LAB, P_F_ROO, P_D_ONSET, P_D_FALL, P_THETA_LIT, P_THETA_SOM,
                 P_THETA_MIN, P_TEMP_SENSITIVITY)
ACTIVE_DERIVED = (V_ONSET_WIDTH, V_ONSET_OFFSET, V_ONSET_PEAK, V_FALL_WIDTH, V_FALL_OFFSET,
                  V_FALL_PEAK, V_WOOD_LOSS, V_ROOT_LOSS)
POOLS = np.array(CARBON_STATES)
N_POOL = POOLS.size
N_ACTIVE = N_POOL + len(ACTIVE_PARAMS) + len(ACTIVE_DERIVED) + 2


def dalec_derived(params):
    """The derived constants of carbon_step (as tile_hour.tile_constants fills them)."""
    derived = np.zeros(N_DERIVED)
    derived[[V_ONSET_WIDTH, V_ONSET_OFFSET, V_ONSET_PEAK]] = phenology_constants(
        1.001, params[P_CR_ONSET])
    derived[[V_FALL_WIDTH, V_FALL_OFFSET, V_FALL_PEAK]] = phenology_constants(
        params[P_CLSPAN], params[P_CR_FALL])
    derived[V_WOOD_LOSS] = loss_factor(params[P_THETA_WOO], DT)
    derived[V_ROOT_LOSS] = loss_factor(params[P_THETA_ROO], DT)
    return derived


def carbon_maps(state, params, derived, gpp, ra, t_air_c, day_of_year):
    """carbon_step as maps of x = (pools, active parameters, active derived constants, GPP,
    Ra) -> (pools after the step, Rh), in the form of :func:`kernel_maps`.

    Each output is divided by its size at the drawn point (a pool's larger value before
    or after the step, which sets its rounding), so that a parameter moving a 30 gC m-2
    labile pool counts as much as one moving 40 000 gC m-2 of soil carbon.
    """

    def unpack(x):
        state_x, params_x, derived_x = state.copy(), params.copy(), derived.copy()
        state_x[POOLS] = x[:N_POOL]
        params_x[list(ACTIVE_PARAMS)] = x[N_POOL:N_POOL + len(ACTIVE_PARAMS)]
        derived_x[list(ACTIVE_DERIVED)] = x[N_POOL + len(ACTIVE_PARAMS):-2]
        return state_x, params_x, derived_x, x[-2], x[-1]

    def step(x):
        state_x, params_x, derived_x, gpp, ra = unpack(x)
        rh = carbon_step(state_x, params_x, derived_x, gpp, ra, t_air_c, day_of_year, DT)
        return np.append(state_x[POOLS], rh)

    size = np.abs(step(np.concatenate([state[POOLS], params[list(ACTIVE_PARAMS)],
                                       derived[list(ACTIVE_DERIVED)], [gpp, ra]])))
    size[:N_POOL] = np.maximum(size[:N_POOL], np.abs(state[POOLS]))

    def function(x):
        return step(x) / size

    def tangent(x, dx):
        dx = np.asarray(dx, dtype=np.float64)
        directions = dx.reshape(N_ACTIVE, -1)
        k = directions.shape[1]
        state_x, params_x, derived_x, gpp, ra = unpack(x)
        state_d, params_d, derived_d = (np.zeros((N_STATE, k)), np.zeros((N_PARAMETER, k)),
                                        np.zeros((N_DERIVED, k)))
        state_d[POOLS] = directions[:N_POOL]
        params_d[list(ACTIVE_PARAMS)] = directions[N_POOL:N_POOL + len(ACTIVE_PARAMS)]
        derived_d[list(ACTIVE_DERIVED)] = directions[N_POOL + len(ACTIVE_PARAMS):-2]
        rh_d = np.empty(k)
        rh = carbon_step_tl(state_x, state_d, params_x, params_d, derived_x, derived_d, gpp,
                            np.ascontiguousarray(directions[-2]), ra,
                            np.ascontiguousarray(directions[-1]), t_air_c, day_of_year, DT,
                            rh_d)
        np.testing.assert_allclose(np.append(state_x[POOLS], rh), step(x), rtol=1e-12,
                                   atol=0.0)
        out = np.vstack([state_d[POOLS], rh_d]) / size[:, None]
        return out[:, 0] if dx.ndim == 1 else out

    def adjoint(x, y_b):
        y_b = np.asarray(y_b) / size
        state_x, params_x, derived_x, gpp, ra = unpack(x)
        before = state_x.copy()
        state_b = np.zeros(N_STATE)
        state_b[POOLS] = y_b[:N_POOL]
        params_b, derived_b = np.zeros(N_PARAMETER), np.zeros(N_DERIVED)
        gpp_b, ra_b = carbon_step_ad(state_x, params_x, derived_x, gpp, ra, t_air_c,
                                     day_of_year, DT, state_b, params_b, derived_b, y_b[-1])
        np.testing.assert_array_equal(state_x, before)
        return np.concatenate([state_b[POOLS], params_b[list(ACTIVE_PARAMS)],
                               derived_b[list(ACTIVE_DERIVED)], [gpp_b, ra_b]])

    return function, tangent, adjoint


@st.composite
def carbon_cases(draw):
    """A PFT's priors (fractions and rates varied), pools from leaf-off to 3 x the prior
    initial values, GPP from night to noon with Ra above it at times (negative NPP), air
    from frozen to hot, days around the onset and fall pulses or anywhere."""
    pft = draw(st.sampled_from(PFTS))
    params = prior_table([pft.code])[0]
    for index in (P_F_FOL, P_F_LAB, P_F_ROO, P_THETA_LIT, P_THETA_SOM, P_THETA_MIN):
        params[index] = min(params[index] * draw(st.floats(0.5, 1.5)), 0.95)
    pools = params[P_C_LABILE_INIT:P_C_LABILE_INIT + N_POOL] * np.array(
        draw(st.lists(st.floats(0.01, 3.0), min_size=N_POOL, max_size=N_POOL)))
    state = np.zeros(N_STATE)
    state[POOLS] = pools
    if draw(st.booleans()):
        state[CARBON_STATES[1]] = draw(st.floats(1e-3, 0.1))  # leaf-off
    gpp = draw(st.one_of(st.just(0.0), st.floats(0.01, 30.0)))
    ra = draw(st.floats(0.01, 10.0))
    t_air_c = draw(st.floats(-35.0, 40.0))
    centre = draw(st.sampled_from([params[P_D_ONSET], params[P_D_FALL]]))
    day = draw(st.one_of(st.floats(centre - 20.0, centre + 20.0), st.floats(1.0, 366.0)))
    return state, params, dalec_derived(params), gpp, ra, t_air_c, day % 365.25


@settings(max_examples=40, deadline=None)
@given(case=carbon_cases(), seed=SEEDS)
def test_carbon_step_derivatives(case, seed):
    state, params, derived, gpp, ra, t_air_c, day = case
    x = np.concatenate([state[POOLS], params[list(ACTIVE_PARAMS)],
                        derived[list(ACTIVE_DERIVED)], [gpp, ra]])
    scale = 0.01 * np.abs(x)
    # days [d] by half a day; GPP also at night, where it is 0
    for index in (P_D_ONSET, P_D_FALL):
        scale[N_POOL + ACTIVE_PARAMS.index(index)] = 0.5
    for index in (V_ONSET_OFFSET, V_FALL_OFFSET):
        scale[N_POOL + len(ACTIVE_PARAMS) + ACTIVE_DERIVED.index(index)] = 0.5
    scale[-2] += 0.01
    check_derivatives(*carbon_maps(state, params, derived, gpp, ra, t_air_c, day), x, scale,
                      seed)


def test_carbon_step_tl_leaves_other_state_and_tangent_rows_alone():
    params = prior_table([PFTS[4].code])[0]
    state = np.arange(1.0, N_STATE + 1.0) * 10.0
    state_d = np.ones((N_STATE, 2))
    others = np.setdiff1d(np.arange(N_STATE), POOLS)
    carbon_step_tl(state, state_d, params, np.ones((N_PARAMETER, 2)), dalec_derived(params),
                   np.ones((N_DERIVED, 2)), 5.0, np.ones(2), 1.0, np.ones(2), 10.0, 150.0, DT,
                   np.empty(2))
    np.testing.assert_array_equal(state[others], (others + 1.0) * 10.0)
    np.testing.assert_array_equal(state_d[others], 1.0)
