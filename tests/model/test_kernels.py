"""Process kernels: the numeric checks of MODEL_SPEC 8.3 against D&B output, and
properties (ranges, limits, conservation) over hypothesis-drawn inputs."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tccas.model.kernels.astronomy import declination, equation_of_time, hour_cos_zenith
from tccas.model.kernels.dalec import carbon_step, discrete_loss, phenology_pulse
from tccas.model.kernels.hydrology import interception, snow_pack, soil_water
from tccas.model.kernels.micromet import aerodynamic_conductance, saturation_vapour_pressure
from tccas.model.kernels.photosynthesis import (
    c3_assimilation_coupled,
    c3_capacities,
    temperature_factors,
)
from tccas.model.kernels.radiation import canopy_par_absorption, longwave_transmissivity
from tccas.model.kernels.smooth import limited_loss, maxx, mins, minx
from tccas.model.kernels.tile_hour import tile_constants
from tccas.model.layout import N_DERIVED, N_STATE, S_C_LAB, S_C_LIT, S_C_SOM, S_C_WOOD
from tccas.model.parameters import PARAMETER_NAMES, pft_code, prior_table
from tccas.model.tiles import make_tiles

FI_SOD_EVCN = prior_table([pft_code("EvCn")])[0]


def fi_sod_derived():
    tiles = make_tiles(["EvCn"], [1.0], 67.36, 26.64, "sand")
    derived = np.empty(N_DERIVED)
    tile_constants(FI_SOD_EVCN, tiles.static[0], derived)
    return derived


# --- MODEL_SPEC 8.3 regression checks against D&B r10043 output (FI-Sod EvCn, Jan 2015)

def test_aerodynamic_conductance_matches_dnb_output():
    assert aerodynamic_conductance(15.0, 3.0) == pytest.approx(0.16681, abs=5e-5)


def test_longwave_transmissivity_matches_dnb_output():
    lai = 29.289239 / 36.1136
    assert lai == pytest.approx(0.81103, abs=1e-5)
    assert longwave_transmissivity(lai, 1.0) == pytest.approx(0.44440, abs=1e-5)


def test_negative_npp_allocation_matches_dnb_labile_change():
    """NPP = -0.0156 gC m-2 d-1 over one polar-night day changes C_lab by
    NPP (1 - f_fol) f_lab = -0.001870 (D&B output -0.001875; MODEL_SPEC 1.4)."""
    state = np.zeros(N_STATE)
    state[:6] = [30.48, 29.29, 17.86, 3072.0, 60.24, 4.091e4]
    derived = fi_sod_derived()
    start = state[S_C_LAB]
    for hour in range(24):
        carbon_step(state, FI_SOD_EVCN, derived, 0.0, 0.0156, -20.0, 1.0 + hour / 24, 1 / 24)
    f_fol, f_lab = FI_SOD_EVCN[PARAMETER_NAMES.index("f_fol")], FI_SOD_EVCN[
        PARAMETER_NAMES.index("f_lab")]
    expected = -0.0156 * (1 - f_fol) * f_lab
    assert expected == pytest.approx(-0.001870, abs=1e-6)
    # labile release on 1 January (onset DOY 156) is negligible
    assert state[S_C_LAB] - start == pytest.approx(expected, abs=2e-6)


def test_winter_wood_loss_and_heterotrophic_respiration():
    """Wood litter = theta_woo C_wood (0.3847 gC m-2 d-1 in D&B output) and
    Rh = (theta_lit C_lit + theta_som C_som) exp(Theta T)."""
    state = np.zeros(N_STATE)
    state[:6] = [30.48, 29.29, 17.86, 3072.0, 60.24, 4.091e4]
    derived = fi_sod_derived()
    wood0 = state[S_C_WOOD]
    rh = carbon_step(state, FI_SOD_EVCN, derived, 0.0, 0.0, -12.7, 4.0, 1 / 24)
    assert (wood0 - state[S_C_WOOD]) * 24 == pytest.approx(0.3846, abs=2e-4)
    p = dict(zip(PARAMETER_NAMES, FI_SOD_EVCN, strict=True))
    expected = (p["theta_lit"] * 60.24 + p["theta_som"] * 4.091e4) * math.exp(
        p["temp_sensitivity"] * -12.7)
    assert rh == pytest.approx(expected, rel=1e-3)


def test_fapar_is_zero_in_polar_night():
    mu_hour, sunlit, _ = hour_cos_zenith(math.sin(math.radians(67.36)),
                                         math.cos(math.radians(67.36)), 26.64,
                                         math.sin(declination(356.5)),
                                         math.cos(declination(356.5)),
                                         equation_of_time(356.5), 10.0)
    assert mu_hour == 0.0 and sunlit == 0.0
    assert canopy_par_absorption(0.8, 1.0, 0.0, 0.5, 0.1) == (0.0, 0.0, 0.0, 0.0)


# --- astronomy

def test_declination_extremes_and_equation_of_time():
    assert math.degrees(declination(172.0)) == pytest.approx(23.44, abs=0.1)
    assert math.degrees(declination(355.0)) == pytest.approx(-23.44, abs=0.1)
    # equation of time: about -14 min mid-February, +16 min early November
    assert equation_of_time(42.0) * 60 == pytest.approx(-14.2, abs=0.6)
    assert equation_of_time(307.0) * 60 == pytest.approx(16.4, abs=0.6)


def test_hour_mean_cosine_matches_numerical_average():
    lat, lon, doy = 39.94, -5.77, 100.5
    d = declination(doy)
    eot = equation_of_time(doy)
    for hour in (5.0, 6.0, 12.0, 18.0):
        mu, sunlit, _ = hour_cos_zenith(math.sin(math.radians(lat)), math.cos(math.radians(lat)),
                                        lon, math.sin(d), math.cos(d), eot, hour)
        minutes = hour + (np.arange(3600) + 0.5) / 3600
        h = ((minutes + lon / 15 + eot) - 12) * math.pi / 12
        cosz = math.sin(math.radians(lat)) * math.sin(d) + math.cos(math.radians(lat)) * \
            math.cos(d) * np.cos(h)
        assert mu == pytest.approx(np.maximum(cosz, 0).mean(), abs=1e-6)
        assert sunlit == pytest.approx((cosz > 0).mean(), abs=1e-3)


# --- radiation

@settings(max_examples=200, deadline=None)
@given(lai=st.floats(0.01, 10.0), mu=st.floats(0.01, 1.0), f_dir=st.floats(0.0, 1.0),
       rho=st.floats(0.0, 0.6))
def test_fapar_bounded_and_layers_positive(lai, mu, f_dir, rho):
    a1, a2, a3, fapar = canopy_par_absorption(lai, 1.0, mu, f_dir, rho)
    assert 0.0 <= fapar <= 1.0
    assert a1 >= 0.0 and a2 >= 0.0 and a3 >= 0.0
    assert fapar == pytest.approx(a1 + a2 + a3)


def test_fapar_increases_with_lai_and_saturates():
    values = [canopy_par_absorption(lai, 1.0, 0.6, 0.7, 0.1)[3] for lai in (0.1, 1, 3, 8)]
    assert values == sorted(values)
    assert 0.9 < values[-1] < 0.98


def test_fapar_smooth_across_the_two_stream_resonance():
    mus = np.linspace(0.50, 0.57, 141)
    fapar = np.array([canopy_par_absorption(3.0, 1.0, m, 0.7, 0.1)[3] for m in mus])
    assert np.max(np.abs(np.diff(fapar))) < 2e-3


# --- smooth helpers

@settings(max_examples=200, deadline=None)
@given(x=st.floats(-10, 10), y=st.floats(-10, 10), x0=st.floats(1e-3, 1.0))
def test_smooth_min_max_bounds(x, y, x0):
    assert minx(x, y, x0) <= min(x, y) + 1e-12
    assert maxx(x, y, x0) >= max(x, y) - 1e-12
    assert abs(minx(x, y, x0) - min(x, y)) <= x0
    assert abs(maxx(x, y, x0) - max(x, y)) <= x0


@settings(max_examples=200, deadline=None)
@given(demand=st.floats(0.0, 100.0), available=st.floats(0.0, 100.0))
def test_limited_loss_never_exceeds_demand_or_store(demand, available):
    loss = limited_loss(demand, available)
    assert 0.0 <= loss <= min(demand, available) + 1e-12


def test_mins_is_colimited_minimum():
    assert mins(1.0, 100.0, 0.99) == pytest.approx(1.0, rel=2e-3)
    assert mins(2.0, 2.0, 0.99) < 2.0


# --- photosynthesis

def test_c3_light_response_saturates_and_respects_compensation_point():
    f_v, f_rd, _, jmax_t, gamma_star, k2 = temperature_factors(25.0)
    gpp = []
    for par in (0.0, 2e-4, 5e-4, 1e-3, 2e-3):
        vcmax, j, rd = c3_capacities(42e-6, 1.9, 1.0, f_v, f_rd, jmax_t, par)
        a, _ = c3_assimilation_coupled(vcmax, j, rd, gamma_star, k2, 0.3, 400e-6, 1.0)
        gpp.append(a)
    assert gpp[0] == 0.0
    assert gpp == sorted(gpp)
    assert gpp[-1] < 42e-6  # below Vcmax25
    assert gpp[-1] - gpp[-2] < gpp[1] - gpp[0]  # saturating


def test_saturation_vapour_pressure_at_20c():
    es, slope = saturation_vapour_pressure(20.0)
    assert es == pytest.approx(2337.0, rel=3e-3)
    assert slope == pytest.approx(144.7, rel=5e-3)


# --- hydrology conservation of each store

@settings(max_examples=200, deadline=None)
@given(store=st.floats(0, 1), rain=st.floats(0, 20), lai=st.floats(0.01, 8),
       pot=st.floats(0, 2))
def test_interception_conserves_water(store, rain, lai, pot):
    new, throughfall, evaporation = interception(store, rain, lai, 1.0, pot)
    assert new >= 0.0 and throughfall >= 0.0 and evaporation >= 0.0
    assert new <= 0.1 * lai + 1e-12 or new <= store + rain
    assert store + rain - new - throughfall - evaporation == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(snow=st.floats(0, 300), snowfall=st.floats(0, 10), t=st.floats(-40, 20),
       sub=st.floats(0, 1))
def test_snow_pack_conserves_water(snow, snowfall, t, sub):
    new, density, albedo, melt, sublimation = snow_pack(snow, 200.0, 0.7, snowfall, t, sub)
    assert new >= 0.0 and melt >= 0.0 and sublimation >= 0.0
    assert density >= 30.0 and 0.5 <= albedo <= 0.85
    assert snow + snowfall - new - melt - sublimation == pytest.approx(0.0, abs=1e-10)


@settings(max_examples=300, deadline=None)
@given(surface=st.floats(0, 20), root=st.floats(0, 150), water=st.floats(0, 60),
       demand=st.floats(0, 1), transpiration_share=st.floats(0, 1))
def test_soil_water_conserves_and_stays_in_range(surface, root, water, demand,
                                                 transpiration_share):
    capacity, fc, root_capacity = 19.6, 8.3, 150.0
    transpiration = 0.5 * root / root_capacity * transpiration_share
    new_s, new_r, evaporation, runoff = soil_water(surface, root, water, demand,
                                                   transpiration, capacity, fc, root_capacity)
    assert -1e-12 <= new_s <= capacity + 1e-9
    assert -1e-12 <= new_r <= root_capacity + 1e-9
    assert evaporation >= 0.0 and runoff >= 0.0
    balance = surface + root + water - transpiration - new_s - new_r - evaporation - runoff
    assert balance == pytest.approx(0.0, abs=1e-10)


# --- DALEC

def test_phenology_pulse_integrates_to_the_leaf_loss_fraction():
    """The annual integral of phi_fall removes 1/clspan of the foliage (continuous
    limit): exp(-integral) = 1 - 1/clspan. CARDAMOM's offset polynomial is a fit, exact to
    about 5 % here (measured 0.1512 vs 0.1590)."""
    from tccas.model.kernels.dalec import phenology_constants

    clspan = 1.189
    width, offset, peak = phenology_constants(clspan, 50.86)
    days = np.arange(0, 365.25, 0.01)
    integral = sum(phenology_pulse(d, 230.3, width, offset, peak) for d in days) * 0.01
    assert math.exp(-integral) == pytest.approx(1 - 1 / clspan, rel=0.06)


def test_discrete_loss_matches_first_order_decay_over_a_day():
    pool = 100.0
    for _ in range(24):
        pool -= discrete_loss(pool, 0.1, 1 / 24) / 24
    assert pool == pytest.approx(100.0 * 0.9, rel=1e-12)


def test_carbon_step_conserves_carbon():
    state = np.zeros(N_STATE)
    state[:6] = [30.0, 40.0, 20.0, 3000.0, 60.0, 4.0e4]
    derived = fi_sod_derived()
    total = state[:6].sum()
    rh = carbon_step(state, FI_SOD_EVCN, derived, 3.0, 1.2, 15.0, 200.0, 1 / 24)
    assert state[:6].sum() - total == pytest.approx((3.0 - 1.2 - rh) / 24, abs=1e-10)
    assert state[S_C_LIT] > 0 and state[S_C_SOM] > 0
