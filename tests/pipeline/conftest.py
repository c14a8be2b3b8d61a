"""A small twin problem shared by the assimilation tests: two 0.25 degree cells of
Majadas dehesa (TmEv + C3Gr), each its own block, six months of generated weather, and 40
observations per stream on footprints that span one or both cells."""

from __future__ import annotations

import functools
import sys

import cloudpickle
import numpy as np
import pytest
import scipy.sparse as sp

from tccas.catalog.weather import site_forcing
from tccas.model.driver import SpinUp
from tccas.model.parameters import pft_code
from tccas.model.tiles import make_tiles
from tccas.operators.observe import FootprintObservations
from tccas.operators.streams import STREAMS, overpass_hours
from tccas.pipeline.config import load_config
from tccas.pipeline.control import control_space
from tccas.pipeline.cost import BlockProblem, CostFunction, StreamData

cloudpickle.register_pickle_by_value(sys.modules[__name__])

PFTS = ("TmEv", "C3Gr", "TmEv", "C3Gr")
FRACTIONS = (0.3, 0.6, 0.25, 0.7)
CELL = np.array([0, 0, 1, 1])
STREAM_NAMES = ("sif743", "vod", "sm_surface", "fapar")
N_OBS = 40
START, END = "2015-03-01", "2015-08-31"


def footprints(seed: int = 4):
    """Per stream: observation hours and cell shares over the two cells (some footprints
    in one cell only, most across both)."""
    rng = np.random.default_rng(seed)
    n_day = 184
    out = {}
    for name in STREAM_NAMES:
        hours = overpass_hours(-5.78, STREAMS[name].overpass_local_hour, n_day)
        hours = np.sort(rng.choice(hours, N_OBS, replace=False))
        share = rng.uniform(0.1, 0.5, (N_OBS, 2))
        share[:5, 1] = 0.0
        share[5:10, 0] = 0.0
        out[name] = (hours, share)
    return out


def load_block(block: int) -> BlockProblem:
    """Block ``block`` is cell ``block`` with its two PFT tiles (the loader a Dask worker
    runs)."""
    index = np.flatnonzero(CELL == block)
    tiles = make_tiles([PFTS[i] for i in index], [FRACTIONS[i] for i in index], 39.94,
                       -5.78, "sandy_loam", cell=CELL[index], full_cover=False)
    forcing = site_forcing("majadas", START, END, seed=2)
    observations, ids = [], []
    for name, (hours, share) in footprints().items():
        seen = np.flatnonzero(share[:, block] > 0.0)
        weights = share[seen][:, [block]] * np.array([FRACTIONS[i] for i in index])
        bare = share[seen, block] * (1.0 - sum(FRACTIONS[i] for i in index))
        observations.append(FootprintObservations(name, hours[seen], sp.csr_matrix(weights),
                                                  bare))
        ids.append(seen)
    return BlockProblem(index=block, tiles=tiles, tile_ids=index, forcing=forcing,
                        spinup=SpinUp(0, 0), observations=tuple(observations),
                        observation_ids=tuple(ids))


def twin_space():
    config = load_config("majadas-site", [
        "control.parameters=[vcmax25, f_fol, lma, c_eff, theta_lit]",
        "control.initial_pools=[c_foliage_init]"])
    return control_space(config.control, [pft_code("TmEv"), pft_code("C3Gr")])


def twin_streams(control, z_true, seed=9):
    """Observations simulated at the truth plus noise of the stated sigma."""
    placeholder = [StreamData(n, np.zeros(N_OBS), np.ones(N_OBS)) for n in STREAM_NAMES]
    truth = CostFunction(control, placeholder, [functools.partial(load_block, b)
                                                for b in (0, 1)])(z_true)
    rng = np.random.default_rng(seed)
    streams = []
    for name, simulated in zip(STREAM_NAMES, truth.simulated, strict=True):
        sigma = 0.05 * np.abs(simulated).mean() + 1e-3 * np.ones(N_OBS)
        streams.append(StreamData(name, simulated + sigma * rng.standard_normal(N_OBS),
                                  sigma))
    return streams


@pytest.fixture(scope="session")
def twin():
    """(control space, streams, block loaders, true z) of the twin problem."""
    control = twin_space()
    z_true = np.random.default_rng(1).standard_normal(control.n) * 0.8
    streams = twin_streams(control, z_true)
    loaders = [functools.partial(load_block, b) for b in (0, 1)]
    return control, streams, loaders, z_true
