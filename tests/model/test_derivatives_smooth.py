"""Tangent-linear and adjoint of the smooth switches (model/kernels/smooth.py).

Each kernel, seen as a map of its active inputs, passes a Taylor test along a random
direction and along every input, a dot-product test, and gives for k directions at once
what k single directions give; inputs are drawn by hypothesis on every branch.
"""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tccas.model.kernels.smooth import (
    excess,
    excess_ad,
    excess_tl,
    limited_loss,
    limited_loss_ad,
    limited_loss_tl,
    logistic,
    logistic_ad,
    logistic_tl,
    maxx,
    maxx_ad,
    maxx_tl,
    mins,
    mins_ad,
    mins_tl,
    minx,
    minx_ad,
    minx_tl,
)
from tccas.model.verification import check_kernel

SEEDS = st.integers(0, 2**32 - 1)
# --- minx and maxx: both branches, the exp(-40) cut-off, never within 1 % of x0 of the
# branch boundary (C1 only: finite differences across it lose an order)

@settings(max_examples=100, deadline=None)
@given(x=st.floats(-10.0, 10.0), y=st.floats(-10.0, 10.0), x0=st.floats(1e-3, 1.0),
       seed=SEEDS)
def test_minx_derivatives(x, y, x0, seed):
    assume(abs(x - y - x0) > 0.01 * x0)
    check_kernel(minx, minx_tl, minx_ad, (x, y, x0), (0, 1), 0.01 * x0, seed)


@settings(max_examples=100, deadline=None)
@given(x=st.floats(-10.0, 10.0), y=st.floats(-10.0, 10.0), x0=st.floats(1e-3, 1.0),
       seed=SEEDS)
def test_maxx_derivatives(x, y, x0, seed):
    assume(abs(x - y + x0) > 0.01 * x0)
    check_kernel(maxx, maxx_tl, maxx_ad, (x, y, x0), (0, 1), 0.01 * x0, seed)


def test_minx_maxx_derivatives_on_each_branch():
    """Far below the switch minx follows x (d/dx = 1), above it y (d/dy = 1); maxx the
    mirror image."""
    out = np.empty(1)
    assert minx_tl(-5.0, 1.0, 0.1, np.ones(1), np.zeros(1), out) == -5.0 and out[0] == 1.0
    assert minx_ad(3.0, 1.0, 0.1, 1.0) == (0.0, 1.0)
    assert maxx_tl(5.0, 1.0, 0.1, np.ones(1), np.zeros(1), out) == 5.0 and out[0] == 1.0
    assert maxx_ad(-3.0, 1.0, 0.1, 1.0) == (0.0, 1.0)


# --- mins: co-limited rates, one much smaller than the other or both alike

@settings(max_examples=100, deadline=None)
@given(x=st.floats(1e-3, 10.0), ratio=st.sampled_from([1e-3, 0.1, 0.9, 1.0, 1.1, 10.0, 1e3]),
       eta=st.sampled_from([0.5, 0.9, 0.99, 0.999]), seed=SEEDS)
def test_mins_derivatives(x, ratio, eta, seed):
    y = x * ratio
    check_kernel(mins, mins_tl, mins_ad, (x, y, eta), (0, 1), (0.1 * x, 0.1 * y), seed)


# --- logistic: frozen, thawing and thawed soil, and the underflow branch

@settings(max_examples=60, deadline=None)
@given(x=st.one_of(st.floats(-20.0, 20.0), st.floats(-400.0, -360.0)),
       width=st.sampled_from([0.5, 0.1, 2.0]), seed=SEEDS)
def test_logistic_derivatives(x, width, seed):
    check_kernel(logistic, logistic_tl, logistic_ad, (x, width), (0,), 0.1 * width, seed)


# --- limited_loss: empty stores and zero demand (night) stay unperturbed (kink at 0; their
# tangents are 0 in the model), demand far below and far above the store

STORES = st.one_of(st.just(0.0), st.floats(1e-6, 1e-2), st.floats(1e-2, 100.0))


@settings(max_examples=100, deadline=None)
@given(demand=STORES, available=STORES, seed=SEEDS)
def test_limited_loss_derivatives(demand, available, seed):
    check_kernel(limited_loss, limited_loss_tl, limited_loss_ad, (demand, available),
                      (0, 1), (0.1 * demand, 0.1 * available), seed)


def test_limited_loss_derivatives_at_empty_store_are_zero():
    assert limited_loss_ad(1.0, 0.0, 1.0) == (0.0, 0.0)
    assert limited_loss_ad(0.0, 5.0, 1.0) == (0.0, 0.0)


# --- excess: stores from empty to over capacity, away from the start of the transition

@settings(max_examples=100, deadline=None)
@given(fill=st.one_of(st.floats(0.0, 0.98), st.floats(0.985, 1.05), st.floats(1.05, 3.0)),
       capacity=st.floats(1e-3, 500.0), seed=SEEDS)
def test_excess_derivatives(fill, capacity, seed):
    x = fill * capacity
    check_kernel(excess, excess_tl, excess_ad, (x, capacity), (0, 1),
                      (1e-4 * capacity, 1e-4 * capacity), seed)
