"""Cost and adjoint gradient over blocks: Taylor test of the full cost (model, operators,
footprints, mixing), distributed = single-process, and fault reports."""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
import time

import cloudpickle
import numpy as np
import pytest
import scipy.sparse as sp
from distributed import Client, LocalCluster

from tccas.catalog.weather import site_forcing
from tccas.model.driver import SpinUp
from tccas.model.errors import NonFiniteModelError
from tccas.model.parameters import pft_code
from tccas.model.tiles import make_tiles
from tccas.model.verification import taylor_test
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


def space():
    config = load_config("majadas-site", ["control.parameters=[vcmax25, f_fol, lma, c_eff, theta_lit]",
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


@pytest.fixture(scope="module")
def problem():
    control = space()
    z_true = np.random.default_rng(1).standard_normal(control.n) * 0.8
    streams = twin_streams(control, z_true)
    loaders = [functools.partial(load_block, b) for b in (0, 1)]
    return control, streams, loaders, z_true


def test_cost_terms_and_observation_count(problem):
    control, streams, loaders, z_true = problem
    cost = CostFunction(control, streams, loaders)
    assert cost.n_obs == 4 * N_OBS
    at_truth = cost(z_true)
    assert set(at_truth.terms) == {"prior", *STREAM_NAMES}
    assert at_truth.terms["prior"] == pytest.approx(0.5 * z_true @ z_true)
    # at the truth each stream's misfit is chi-square with N_OBS degrees of freedom
    for name in STREAM_NAMES:
        assert 0.5 * N_OBS * 0.4 < at_truth.terms[name] < 0.5 * N_OBS * 1.8
    at_prior = cost(np.zeros(control.n))
    assert sum(at_prior.terms[n] for n in STREAM_NAMES) > 10 * sum(
        at_truth.terms[n] for n in STREAM_NAMES)
    assert at_prior.cost == pytest.approx(sum(at_prior.terms.values()))


def test_adjoint_gradient_of_the_full_cost_passes_the_taylor_test(problem):
    control, streams, loaders, _ = problem
    cost = CostFunction(control, streams, loaders)
    seed = int(np.random.SeedSequence().entropy % 2**32)
    print(f"seed {seed}")
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(control.n) * 0.5
    direction = rng.standard_normal(control.n)
    gradient = cost(z).gradient
    result = taylor_test(lambda v: cost(v).cost, lambda _v, dv: gradient @ dv, z, direction,
                         steps=np.logspace(-1, -7, 13))
    assert result.min_relative_error < 1e-6, result
    assert result.second_order


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as local, Client(local) as client:
        yield local, client


def test_distributed_gradient_equals_single_process(problem, cluster):
    control, streams, loaders, _ = problem
    _, client = cluster
    z = np.random.default_rng(3).standard_normal(control.n) * 0.5
    single = CostFunction(control, streams, loaders)(z)
    distributed = CostFunction(control, streams, loaders, client=client)(z)
    assert distributed.cost == pytest.approx(single.cost, rel=1e-12)
    np.testing.assert_allclose(distributed.gradient, single.gradient, rtol=1e-10, atol=0.0)
    # the blocks really ran on both workers
    assert len(client.has_what()) == 2


def test_a_worker_killed_during_an_evaluation_changes_nothing(problem, cluster):
    control, streams, loaders, _ = problem
    _, client = cluster
    z = np.random.default_rng(4).standard_normal(control.n) * 0.5
    reference = CostFunction(control, streams, loaders)(z)
    cost = CostFunction(control, streams, loaders, client=client)
    before = set(client.scheduler_info()["workers"])
    victim = sorted(before)[0]
    pid = client.run(os.getpid, workers=[victim])[victim]

    def kill():   # as soon as the victim runs a block task; its nanny starts a new worker
        deadline = time.monotonic() + 60.0
        while not client.processing(workers=[victim]).get(victim) \
                and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(pid, signal.SIGKILL)

    killer = threading.Thread(target=kill)
    killer.start()
    result = cost(z)
    killer.join()
    deadline = time.monotonic() + 60.0
    while victim in client.scheduler_info()["workers"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert victim not in client.scheduler_info()["workers"]
    assert result.cost == pytest.approx(reference.cost, rel=1e-12)
    np.testing.assert_allclose(result.gradient, reference.gradient, rtol=1e-10, atol=0.0)


def test_nan_in_the_model_names_block_tile_pft_and_time(problem):
    control, streams, loaders, _ = problem
    cost = CostFunction(control, streams, loaders)
    x = control.x0.copy()
    x[control.names.index("C3Gr.theta_lit")] = 2.0    # litter turnover > 1 d-1: log of < 0
    z = control.z_from_x(x)
    with pytest.raises(NonFiniteModelError) as error:
        cost(z)
    message = str(error.value)
    assert message.startswith("block 0:")
    assert "PFT C3Gr" in message
    assert "2015-03-01" in message
