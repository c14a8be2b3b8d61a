"""Tangent-linear and adjoint of the water-store kernels (model/kernels/hydrology.py).

Each kernel, seen as a map of its active inputs, passes a Taylor test along a random
direction and along every input, a dot-product test, and gives for k directions at once
what k single directions give; hypothesis draws snow present and absent, frozen and
thawing air, dry and saturated soils, stores near capacity, leaf-off canopies and night
(no potential evaporation). The helpers are those of test_derivatives_smooth.
"""

import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tccas.model.kernels.hydrology import (
    INFILTRATION_MAX,
    K_DRAIN,
    W_CANOPY_PER_LAI,
    interception,
    interception_ad,
    interception_tl,
    snow_cover_fraction,
    snow_cover_fraction_ad,
    snow_cover_fraction_tl,
    snow_pack,
    snow_pack_ad,
    snow_pack_tl,
    soil_water,
    soil_water_ad,
    soil_water_tl,
)
from tccas.model.kernels.smooth import excess, limited_loss, maxx
from tccas.model.verification import check_kernel

SEEDS = st.integers(0, 2**32 - 1)
# Kinks of the smooth switches (where they reach their constant branch) are kept at least
# MARGIN of the store's capacity away: the Taylor test's steps would cross them.
MARGIN = 2e-3


def away(value, kink, size):
    return abs(value - kink) > MARGIN * size


# --- snow cover: no snow to deep packs of fresh or old snow

@settings(max_examples=60, deadline=None)
@given(snow=st.one_of(st.just(0.0), st.floats(1e-3, 1.0), st.floats(1.0, 500.0)),
       density=st.floats(30.0, 500.0), seed=SEEDS)
def test_snow_cover_fraction_derivatives(snow, density, seed):
    # smooth through snow = 0, so an empty pack is perturbed too
    check_kernel(snow_cover_fraction, snow_cover_fraction_tl, snow_cover_fraction_ad,
                 (snow, density), (0, 1), (0.1 * snow + 1e-3, 0.1 * density), seed)


# --- interception: dry, wet and full canopies, leaf-off, no rain to heavy rain, night

@settings(max_examples=100, deadline=None)
@given(fill=st.one_of(st.just(0.0), st.floats(1e-4, 1.0)),
       rain=st.one_of(st.just(0.0), st.floats(1e-3, 20.0)),
       lai=st.one_of(st.floats(1e-4, 1e-2), st.floats(0.1, 8.0)), cover=st.floats(0.2, 1.0),
       potential=st.one_of(st.just(0.0), st.floats(1e-4, 1.0)), seed=SEEDS)
def test_interception_derivatives(fill, rain, lai, cover, potential, seed):
    capacity = W_CANOPY_PER_LAI * lai
    canopy_water = fill * capacity
    store = canopy_water + cover * (1.0 - math.exp(-0.5 * lai / cover)) * rain
    wet_fraction = min(store / (capacity + 1e-9), 1.0)
    left = store - limited_loss(potential * wet_fraction, store)
    assume(away(store, 1.01 * (capacity + 1e-9), capacity))
    assume(away(left, 0.99 * capacity, capacity))
    # an empty store (no rain on a dry canopy) has no tangent: it stays unperturbed
    check_kernel(interception, interception_tl, interception_ad,
                 (canopy_water, rain, lai, cover, potential), (0, 2, 4),
                 (0.05 * canopy_water, 0.05 * lai, 0.1 * potential), seed)


# --- snow pack: no snow, thin and deep packs, fresh snowfall, frozen and thawing air,
# sublimation from none to more than the pack

@settings(max_examples=120, deadline=None)
@given(snow=st.one_of(st.just(0.0), st.floats(1e-3, 1.0), st.floats(1.0, 300.0)),
       density=st.floats(50.0, 450.0), albedo=st.floats(0.52, 0.85),
       snowfall=st.one_of(st.just(0.0), st.floats(1e-2, 10.0)),
       t_c=st.one_of(st.floats(-35.0, -0.05), st.floats(0.05, 15.0)),
       potential=st.one_of(st.just(0.0), st.floats(1e-4, 0.5)), seed=SEEDS)
def test_snow_pack_derivatives(snow, density, albedo, snowfall, t_c, potential, seed):
    # keep off the 30 kg m-3 density floor, reached by cold fresh snow
    assume(snow_pack(snow, density, albedo, snowfall, t_c, potential)[1] > 30.5)
    # an empty pack under no snowfall has no tangent: it stays unperturbed
    check_kernel(snow_pack, snow_pack_tl, snow_pack_ad,
                 (snow, density, albedo, snowfall, t_c, potential), (0, 1, 2, 5),
                 (0.1 * snow, 0.05 * density, 0.01, 0.1 * potential), seed)


def test_snow_pack_derivatives_without_snow_are_zero_but_for_albedo():
    """No snow and no snowfall: snow, melt, sublimation and density do not change."""
    outputs = [np.empty(2) for _ in range(5)]
    ones = np.ones(2)
    snow_pack_tl(0.0, 200.0, 0.7, 0.0, 5.0, 0.1, np.zeros(2), ones, ones, ones, *outputs)
    snow_d, density_d, albedo_d, melt_d, sublimation_d = outputs
    assert not snow_d.any() and not melt_d.any() and not sublimation_d.any()
    np.testing.assert_allclose(density_d, 1.0, rtol=1e-15)
    np.testing.assert_allclose(albedo_d, math.exp(-0.01), rtol=1e-15)


# --- soil water: dry to saturated surface layers and root zones, infiltration excess,
# drainage above field capacity, overflow of full stores, night and drought

@st.composite
def soil_states(draw):
    surface_capacity = draw(st.floats(5.0, 30.0))
    field_capacity = surface_capacity * draw(st.floats(0.3, 0.8))
    root_capacity = draw(st.floats(20.0, 400.0))
    surface = surface_capacity * draw(st.one_of(st.floats(1e-4, 0.05), st.floats(0.05, 1.0)))
    root = root_capacity * draw(st.one_of(st.floats(1e-3, 0.05), st.floats(0.05, 1.0)))
    water_input = draw(st.one_of(st.just(0.0), st.floats(1e-3, 5.0), st.floats(5.0, 60.0)))
    demand = draw(st.one_of(st.just(0.0), st.floats(1e-3, 1.0)))
    transpiration = 0.5 * root / root_capacity * draw(st.floats(0.0, 1.0))
    return (surface, root, water_input, demand, transpiration, surface_capacity,
            field_capacity, root_capacity)


@settings(max_examples=120, deadline=None)
@given(args=soil_states(), seed=SEEDS)
def test_soil_water_derivatives(args, seed):
    (surface, root, water_input, demand, transpiration, surface_capacity, field_capacity,
     root_capacity) = args
    assume(abs(water_input - INFILTRATION_MAX + 0.1) > 0.01)
    wet = surface + water_input - maxx(water_input - INFILTRATION_MAX, 0.0, 0.1)
    left = wet - limited_loss(demand * wet / surface_capacity, wet)
    assume(away(left, 0.99 * surface_capacity, surface_capacity))
    below = left - excess(left, surface_capacity)
    assume(away(below, 0.99 * field_capacity, field_capacity))
    drainage = K_DRAIN * maxx(below - field_capacity, 0.0, 0.01 * field_capacity)
    filled = root + left - below + drainage - transpiration
    assume(away(filled, 0.99 * root_capacity, root_capacity))
    scale = (0.01 * surface_capacity, 0.01 * root_capacity, 0.05 * water_input,
             0.1 * demand, 0.1 * transpiration, 0.01 * root_capacity)
    check_kernel(soil_water, soil_water_tl, soil_water_ad, args, (0, 1, 2, 3, 4, 7), scale,
                 seed)
