"""Cost and adjoint gradient over blocks: Taylor test of the full cost (model, operators,
footprints, mixing), distributed = single-process, and fault reports."""

from __future__ import annotations

import os
import re
import signal
import threading
import time

import numpy as np
import pytest
from distributed import LocalCluster

from tccas.model.errors import NonFiniteModelError
from tccas.model.verification import taylor_test
from tccas.pipeline.cluster import cluster_client
from tccas.pipeline.cost import CostFunction, block_forward, block_gradient


def test_cost_terms_and_observation_count(twin):
    control, streams, loaders, z_true = twin
    cost = CostFunction(control, streams, loaders)
    names = ["sif743", "vod", "sm_surface", "fapar"]
    assert [s.name for s in streams] == names
    assert cost.n_obs == 4 * 40
    at_truth = cost(z_true)
    assert set(at_truth.terms) == {"prior", *names}
    assert at_truth.terms["prior"] == pytest.approx(0.5 * z_true @ z_true)
    # at the truth each stream's misfit is chi-square with 40 degrees of freedom
    for name in names:
        assert 0.5 * 40 * 0.4 < at_truth.terms[name] < 0.5 * 40 * 1.8
    at_prior = cost(np.zeros(control.n))
    assert sum(at_prior.terms[n] for n in names) > 10 * sum(at_truth.terms[n] for n in names)
    assert at_prior.cost == pytest.approx(sum(at_prior.terms.values()))


def test_adjoint_gradient_of_the_full_cost_passes_the_taylor_test(twin):
    control, streams, loaders, _ = twin
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
                      dashboard_address=None) as local, cluster_client(local) as client:
        yield local, client


def test_distributed_gradient_equals_single_process(twin, cluster):
    control, streams, loaders, _ = twin
    _, client = cluster
    z = np.random.default_rng(3).standard_normal(control.n) * 0.5
    single = CostFunction(control, streams, loaders)(z)
    distributed = CostFunction(control, streams, loaders, client=client)(z)
    assert distributed.cost == pytest.approx(single.cost, rel=1e-12)
    np.testing.assert_allclose(distributed.gradient, single.gradient, rtol=1e-10, atol=0.0)
    # the blocks really ran on both workers
    assert len(client.has_what()) == 2


def test_a_worker_killed_during_an_evaluation_changes_nothing(twin, cluster):
    control, streams, loaders, _ = twin
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


def test_nan_in_the_model_names_block_tile_pft_and_time(twin):
    control, streams, loaders, _ = twin
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


def test_a_non_finite_gradient_names_the_control_element_tile_and_pft(twin):
    control, streams, loaders, _ = twin
    cost = CostFunction(control, streams, loaders)
    problem = cost.problems[0]
    x = control.x0
    forward = block_forward(problem, control, x)
    seeds = [np.zeros(s.n_obs) for s in streams]
    seeds[0][0] = np.nan          # a NaN reaching the adjoint through one SIF observation
    with pytest.raises(NonFiniteModelError) as error:
        block_gradient(problem, control, x, forward, seeds)
    message = str(error.value)
    assert message.startswith("block 0: non-finite gradient with respect to ")
    assert any(f"with respect to {name} " in message for name in control.names)
    assert re.search(r"from tile \d+ \(PFT (TmEv|C3Gr), cell \d+\)", message)
