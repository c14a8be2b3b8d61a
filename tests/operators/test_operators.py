"""Tile-level observation operators: numeric checks against D&B output and physics,
and Taylor / dot-product tests of every tangent and adjoint."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tccas.model.verification import dot_product_test, random_directions, taylor_test
from tccas.operators.fapar import (
    fapar_tip,
    fapar_tip_ad,
    fapar_tip_tl,
)
from tccas.operators.insitu import (
    above_ground_biomass,
    flux_to_umol,
    surface_soil_moisture,
    surface_soil_moisture_factor,
)
from tccas.operators.sif import (
    CONV743,
    FLUORESCENCE_YIELD,
    sif743,
    sif743_ad,
    sif743_tl,
)
from tccas.operators.vod import freezing_factor, vod, vod_ad, vod_tl

PLANCK = 6.62607015e-34
LIGHT = 2.99792458e8
AVOGADRO = 6.02214076e23


# --- L-VOD: MODEL_SPEC 6.4 / 8.3 item 7 (FI-Sod EvCn, deep frost on 5 January 2015)

def test_vod_structure_matches_dnb_output():
    """VOD / f(T) = 2e-4 (C_wood + C_fol) x 1.6 = 0.99187 with the water term 1.6 of
    mid-winter (f_E = 0, l_s f_soil + l_0 = 1.6); D&B output VOD 0.248 at T = -27.2 C."""
    tau = vod(3070.29, 29.28, 1.0, 0.0, -27.2, 2e-4, 2e-4, 1.2, 2.0, 0.4)
    assert tau / freezing_factor(-27.2) == pytest.approx(0.99187, abs=5e-5)
    assert tau == pytest.approx(0.248, abs=5e-4)


def test_vod_in_deep_frost_is_a_quarter_of_unfrozen():
    frozen = vod(3070.0, 29.0, 0.8, 0.0, -25.0, 2e-4, 2e-4, 1.2, 2.0, 0.4)
    thawed = vod(3070.0, 29.0, 0.8, 0.0, 20.0, 2e-4, 2e-4, 1.2, 2.0, 0.4)
    assert frozen / thawed == pytest.approx(0.25, abs=1e-3)
    assert freezing_factor(-3.0) == pytest.approx(0.625)


# --- SIF

def test_conv743_unit_check():
    """CONV743 applies to SIF in mmol m-2 s-1: photon energy at 743 nm over pi sr and an
    effective leaf SIF spectral width of about 142 nm."""
    photon_energy = PLANCK * LIGHT / 743e-9 * AVOGADRO
    assert photon_energy == pytest.approx(1.6101e5, rel=1e-4)
    width = photon_energy * 1e-3 * 1e3 / (math.pi * CONV743)  # mmol -> mW, per nm
    assert width == pytest.approx(142.0, abs=1.0)


def test_sif_zero_without_electron_transport_and_scaling():
    assert sif743(0.0, 0.0, 0.0, 2.0, 1.0) == 0.0
    one = sif743(60e-6, 40e-6, 20e-6, 3.0, 1.0)
    assert sif743(60e-6, 40e-6, 20e-6, 3.0, 2.5) == pytest.approx(2.5 * one)
    # about 1.3 % of the electron flux is re-emitted; less escapes the canopy
    assert FLUORESCENCE_YIELD == pytest.approx(0.0128, abs=2e-4)
    emitted = 120e-6 * FLUORESCENCE_YIELD * CONV743 * 1e3
    assert 0.1 * emitted < one < emitted
    # midday summer canopy: a few tenths of a TROPOMI unit
    assert 0.05 < one < 1.0


def test_sif_escape_falls_for_deep_layers():
    top = sif743(1e-4, 0.0, 0.0, 5.0, 1.0)
    bottom = sif743(0.0, 0.0, 1e-4, 5.0, 1.0)
    assert bottom < top


# --- TIP FAPAR

@settings(max_examples=100, deadline=None)
@given(lai=st.floats(0.0, 10.0), background=st.floats(0.0, 0.6))
def test_tip_fapar_in_unit_interval(lai, background):
    assert 0.0 <= fapar_tip(lai, background) <= 1.0


def test_tip_fapar_increases_with_lai():
    values = [fapar_tip(lai, 0.1) for lai in (0.0, 0.5, 1.0, 3.0, 6.0)]
    assert values[0] == 0.0
    assert values == sorted(values)
    assert values[-1] > 0.85


# --- in situ

def test_insitu_conversions():
    assert surface_soil_moisture(10.0, 0.04, 0.05) == pytest.approx(0.24)
    assert surface_soil_moisture_factor(0.05) == pytest.approx(0.02)
    assert flux_to_umol(12.011 * 86400 / 1e6) == pytest.approx(1.0)
    # 100 MgC ha-1 of above-ground wood = 212.8 Mg dry matter ha-1
    assert above_ground_biomass(1.0e4 / 0.8, 0.0) == pytest.approx(100.0 / 0.47)


# --- derivatives

def _check(function, tangent, adjoint, x, seed):
    dx, dy = random_directions(seed, x.shape, (1,))
    taylor = taylor_test(function, tangent, x, dx * np.abs(x + 1e-3) * 0.1)
    assert taylor.min_relative_error < 1e-6, taylor.relative_errors
    dot = dot_product_test(tangent, adjoint, x, dx, dy)
    assert dot.relative_error < 1e-12, (seed, dot)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), lai=st.floats(0.05, 8.0),
       j=st.lists(st.floats(0.0, 2e-4), min_size=3, max_size=3),
       scale=st.floats(0.2, 6.0))
def test_sif_derivatives(seed, lai, j, scale):
    x = np.array([*j, lai, scale])

    def function(v):
        return np.array([sif743(*v)])

    def tangent(v, dv):
        out = np.empty(1)
        sif743_tl(*v, dv[0:1], dv[1:2], dv[2:3], dv[3:4], dv[4:5], out)
        return out

    def adjoint(v, yb):
        return np.array(sif743_ad(*v, yb[0]))

    _check(function, tangent, adjoint, x, seed)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), t=st.floats(-30.0, 30.0),
       wood=st.floats(10.0, 8000.0), fol=st.floats(1.0, 400.0), f_soil=st.floats(0.0, 1.0),
       f_e=st.floats(0.0, 1.0))
def test_vod_derivatives(seed, t, wood, fol, f_soil, f_e):
    x = np.array([wood, fol, f_soil, f_e, 2e-4, 2e-4, 1.2, 2.0, 0.4])

    def function(v):
        return np.array([vod(v[0], v[1], v[2], v[3], t, v[4], v[5], v[6], v[7], v[8])])

    def tangent(v, dv):
        out = np.empty(1)
        vod_tl(v[0], v[1], v[2], v[3], t, v[4], v[5], v[6], v[7], v[8],
               *[dv[i:i + 1] for i in range(9)], out)
        return out

    def adjoint(v, yb):
        return np.array(vod_ad(v[0], v[1], v[2], v[3], t, v[4], v[5], v[6], v[7], v[8],
                               yb[0]))

    _check(function, tangent, adjoint, x, seed)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), lai=st.floats(0.01, 8.0),
       background=st.floats(0.0, 0.6))
def test_tip_fapar_derivatives(seed, lai, background):
    x = np.array([lai, background])

    def function(v):
        return np.array([fapar_tip(*v)])

    def tangent(v, dv):
        out = np.empty(1)
        fapar_tip_tl(*v, dv[0:1], dv[1:2], out)
        return out

    def adjoint(v, yb):
        return np.array(fapar_tip_ad(*v, yb[0]))

    _check(function, tangent, adjoint, x, seed)


def test_many_directions_equal_single_directions():
    args = (60e-6, 40e-6, 20e-6, 3.0, 1.3)
    (directions,) = random_directions(5, (5, 7))
    many = np.empty(7)
    sif743_tl(*args, *directions, many)
    for k in range(7):
        one = np.empty(1)
        sif743_tl(*args, *[d[k:k + 1] for d in directions], one)
        assert one[0] == many[k]
