"""Tangent-linear and adjoint of the micrometeorology kernels (model/kernels/micromet.py).

Each kernel, seen as a map of its active inputs, passes a Taylor test along a random
direction and along every input, a dot-product test, and gives for k directions at once
what k single directions give; hypothesis draws day and night, frozen and warm air, wet
and dry canopies, drought and leaf-off. The helpers are those of test_derivatives_smooth.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tccas.model.kernels.micromet import (
    CP_AIR,
    air_density,
    canopy_temperature,
    canopy_temperature_ad,
    canopy_temperature_tl,
    latent_heat,
    net_radiation,
    net_radiation_ad,
    net_radiation_tl,
    penman_monteith,
    penman_monteith_ad,
    penman_monteith_tl,
    psychrometric_constant,
    saturation_vapour_pressure,
    water_limitation,
    water_limitation_ad,
    water_limitation_tl,
)
from tccas.model.kernels.smooth import logistic
from tccas.model.parameters import constant
from tccas.model.verification import check_kernel

C_W = constant("C_W")
ETA = constant("ETA_COLIMIT")

SEEDS = st.integers(0, 2**32 - 1)
def air(t_c, pressure):
    """Forcing-only quantities of tile_hour: slope [Pa K-1], gamma [Pa K-1], lambda
    [J kg-1], rho c_p [J m-3 K-1]."""
    lam = latent_heat(t_c)
    return (saturation_vapour_pressure(t_c)[1], psychrometric_constant(pressure, lam), lam,
            air_density(t_c, pressure) * CP_AIR)


# frozen to hot air, on both sides of the water/ice switch of the Magnus formula (air
# temperature is forcing: no kernel here is differentiated with respect to it)
AIR_TEMPERATURES = st.floats(-35.0, 40.0)
PRESSURES = st.floats(7.0e4, 1.03e5)
CONDUCTANCES = st.floats(0.01, 0.3)


# --- net radiation: night (no shortwave), snow-covered and dark ground, bare to closed canopy

@settings(max_examples=60, deadline=None)
@given(shortwave=st.one_of(st.just(0.0), st.floats(1.0, 1000.0)),
       longwave_net=st.floats(-150.0, 50.0), fapar=st.floats(0.0, 0.98),
       albedo_bg=st.floats(0.05, 0.85), tl=st.floats(0.0, 1.0), seed=SEEDS)
def test_net_radiation_derivatives(shortwave, longwave_net, fapar, albedo_bg, tl, seed):
    check_kernel(net_radiation, net_radiation_tl, net_radiation_ad,
                 (shortwave, longwave_net, fapar, albedo_bg, tl), (2, 3, 4), 0.01, seed)


# --- Penman-Monteith: net radiation from night to noon, wet (g_c = 0) and dry surfaces

@settings(max_examples=80, deadline=None)
@given(t_c=AIR_TEMPERATURES, pressure=PRESSURES, vpd=st.floats(0.0, 4000.0),
       rn=st.floats(-150.0, 700.0), g_a=CONDUCTANCES,
       g_c=st.one_of(st.just(0.0), st.floats(1e-5, 0.05)), seed=SEEDS)
def test_penman_monteith_derivatives(t_c, pressure, vpd, rn, g_a, g_c, seed):
    slope, gamma, lam, rho_cp = air(t_c, pressure)
    # the wet branch (g_c = 0) is called with the constant 0: g_c stays unperturbed there
    check_kernel(penman_monteith, penman_monteith_tl, penman_monteith_ad,
                 (slope, gamma, rn, rho_cp * vpd * g_a, g_a, g_c, lam), (2, 5),
                 (10.0, 0.1 * g_c), seed)


# --- water limitation: demand from Penman-Monteith as in tile_hour, supply from a wet to
# a dry or frozen root zone, and night (no demand: both outputs constant)

@settings(max_examples=100, deadline=None)
@given(t_c=AIR_TEMPERATURES, pressure=PRESSURES, vpd=st.floats(1.0, 4000.0),
       rn=st.one_of(st.floats(-150.0, -1.0), st.floats(1.0, 700.0)), g_a=CONDUCTANCES,
       g_c0=st.floats(1e-4, 0.05), root_fill=st.floats(1e-3, 1.0),
       t_soil=st.floats(-10.0, 15.0), seed=SEEDS)
def test_water_limitation_derivatives(t_c, pressure, vpd, rn, g_a, g_c0, root_fill, t_soil,
                                      seed):
    slope, gamma, lam, rho_cp = air(t_c, pressure)
    aero = rho_cp * vpd * g_a
    demand = penman_monteith(slope, gamma, rn, aero, g_a, g_c0, lam)
    supply = C_W * root_fill * logistic(t_soil, 0.5) / 3600.0
    args = (demand, supply, slope * rn + aero, slope, gamma, g_a, g_c0, lam, ETA)
    check_kernel(water_limitation, water_limitation_tl, water_limitation_ad, args,
                 (0, 1, 2, 6), (0.01 * abs(demand), 0.01 * supply, 0.01 * abs(args[2]),
                                0.01 * g_c0), seed)


def test_water_limitation_derivatives_vanish_at_night():
    transpiration_d, factor_d = np.empty(2), np.empty(2)
    ones = np.ones(2)
    result = water_limitation_tl(-1e-6, 1e-4, -50.0, 100.0, 66.0, 0.1, 0.01, 2.5e6, ETA,
                                 ones, ones, ones, ones, transpiration_d, factor_d)
    assert result == (0.0, 1.0)
    assert not transpiration_d.any() and not factor_d.any()
    assert water_limitation_ad(-1e-6, 1e-4, -50.0, 100.0, 66.0, 0.1, 0.01, 2.5e6, ETA,
                               1.0, 1.0) == (0.0, 0.0, 0.0, 0.0)


@pytest.mark.parametrize("supply", [0.0, 5e-324, 1e-25])
def test_water_limitation_derivatives_stay_finite_when_the_root_zone_runs_dry(supply):
    # after a long drought the root water (and the supply) underflows to 0: the factor is
    # 0 and its derivatives must stay finite (they were inf * 0 = NaN in the adjoint)
    transpiration_d, factor_d = np.empty(2), np.empty(2)
    ones = np.ones(2)
    transpiration, factor = water_limitation_tl(2e-5, supply, 4e4, 100.0, 66.0, 0.02, 0.01,
                                                2.5e6, ETA, ones, ones, ones, ones,
                                                transpiration_d, factor_d)
    assert 0.0 <= transpiration <= max(supply, 1e-30)
    assert 0.0 <= factor < 1e-15
    assert np.all(np.isfinite(transpiration_d)) and np.all(np.isfinite(factor_d))
    adjoint = water_limitation_ad(2e-5, supply, 4e4, 100.0, 66.0, 0.02, 0.01, 2.5e6, ETA,
                                  1.0, 1.0)
    assert np.all(np.isfinite(adjoint))


# --- canopy temperature: closed canopies and leaf-off (1 - tl under its floor of 1e-3),
# away from the floor by 10 %, with latent heat from none to strong evaporation

@settings(max_examples=100, deadline=None)
@given(t_c=AIR_TEMPERATURES, pressure=PRESSURES, longwave_net=st.floats(-150.0, 50.0),
       shortwave=st.one_of(st.just(0.0), st.floats(1.0, 1000.0)), fapar=st.floats(0.0, 0.98),
       albedo_bg=st.floats(0.05, 0.85),
       open_fraction=st.one_of(st.floats(1.1e-3, 1.0), st.floats(0.0, 0.9e-3)),
       latent_flux=st.floats(0.0, 500.0), g_a=CONDUCTANCES, seed=SEEDS)
def test_canopy_temperature_derivatives(t_c, pressure, longwave_net, shortwave, fapar,
                                        albedo_bg, open_fraction, latent_flux, g_a, seed):
    rho_cp = air(t_c, pressure)[3]
    tl = 1.0 - open_fraction
    _, _, ground_heat, a_v = net_radiation(shortwave, longwave_net, fapar, albedo_bg, tl)
    args = (t_c, longwave_net, ground_heat, a_v, tl, shortwave, latent_flux, rho_cp * g_a)
    scale = (1.0, 0.01, 0.05 * min(open_fraction, abs(open_fraction - 1e-3)), 10.0)
    check_kernel(canopy_temperature, canopy_temperature_tl, canopy_temperature_ad, args,
                 (2, 3, 4, 6), scale, seed)
