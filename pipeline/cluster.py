"""Dask clusters for the cost and gradient map-reduce (ARCHITECTURE.md section 11).

:func:`open_cluster` turns the ``cluster:`` section of an experiment
(:class:`~tccas.pipeline.config.ClusterConfig`) into a connected ``distributed.Client``:

* ``local``: a LocalCluster on this machine, one single-threaded worker process per core
  by default, the machine's memory split between them, no dashboard unless asked for;
* ``address``: the scheduler already running at ``cluster.address``;
* ``slurm`` / ``pbs``: dask-jobqueue (extra ``tccas[hpc]``). The scheduler runs in this
  process (on the login node or in a small driver job); workers are batch jobs that retire
  after ``worker_lifetime`` (staggered) and are replaced by fresh jobs, so a run can last
  longer than the queue's walltime;
* ``kubernetes``: a DaskCluster of the dask-kubernetes operator (extra
  ``tccas[kubernetes]``) running the tccas image, built by
  :func:`kubernetes_cluster_spec`.

Every kind registers :class:`KernelWarmup` on its workers: each worker compiles the
Numba kernels, or loads them from the cache, once when it starts, before its first block
task, and keeps the cache on node-local disk when ``cluster.local_directory`` is set.

This module imports nothing from :mod:`tccas.model` at import time (only its error
class): a worker unpickles the plugin by importing this module, and the kernel cache
location must be chosen before the kernels are imported.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dask.config
import numpy as np
from dask.system import CPU_COUNT
from dask.utils import parse_bytes
from distributed import Client, LocalCluster, WorkerPlugin
from distributed.deploy import Cluster
from distributed.system import MEMORY_LIMIT

from tccas.model.errors import TccasInputError

if TYPE_CHECKING:
    from distributed import Worker

    from tccas.pipeline.config import ClusterConfig

logger = logging.getLogger(__name__)

#: Name under which :class:`KernelWarmup` is registered on the workers.
PLUGIN_NAME = "tccas-kernel-warmup"

#: Environment variable of the tccas Numba cache root (:mod:`tccas.model.kernels`).
CACHE_VARIABLE = "TCCAS_NUMBA_CACHE"

#: Sub-folder of ``cluster.local_directory`` that holds the Numba cache.
CACHE_FOLDER = "tccas-numba"

#: Scheduler port of the Kubernetes DaskCluster and the dashboard ports.
SCHEDULER_PORT = 8786
DASHBOARD_PORT = 8787
WORKER_DASHBOARD_PORT = 8788


def warm_kernels() -> float:
    """Compile every Numba kernel a block task runs, or load it from the cache, and
    return the time taken [s].

    Runs the model forward, its tangent-linear (one direction) and its adjoint on one
    tile (C3 grass at Majadas) for one day with snapshots at three hours, and the tile
    operator of every observation stream on those snapshots. The argument types are
    those of the block tasks, so the compiled specialisations are the ones they use.
    """
    # Imported here, not at module level: see the module docstring.
    from tccas.catalog.weather import site_forcing
    from tccas.model.adjoint import run_adjoint
    from tccas.model.driver import Samples, SpinUp, run_forward
    from tccas.model.parameters import N_PARAMETER, prior_table
    from tccas.model.tangent import run_tangent
    from tccas.model.tiles import make_tiles
    from tccas.operators.streams import STREAMS, operator_prior

    start = time.perf_counter()
    tiles = make_tiles(["C3Gr"], [1.0], 39.94, -5.78, "sandy_loam")
    parameters = prior_table(tiles.pft)
    forcing = site_forcing("majadas", "2015-06-01", "2015-06-01")
    samples = Samples.same_for_all(tiles.n_tile, np.array([6, 12, 13]))
    spinup = SpinUp(years=0, cycles=0)
    forward = run_forward(tiles, parameters, forcing, spinup, threads=1, samples=samples)
    run_tangent(tiles, parameters, forcing, np.ones((tiles.n_tile, N_PARAMETER, 1)), spinup,
                samples=samples, threads=1)
    run_adjoint(tiles, parameters, forcing, spinup, samples=samples,
                snapshots_b=np.ones_like(forward.snapshots), threads=1)
    operators = operator_prior()
    for stream in STREAMS.values():
        stream.partials(forward.snapshots, operators)
    return time.perf_counter() - start


def _expand(path: str) -> str:
    """``path`` with ``~`` and environment variables expanded (on the machine that runs
    this)."""
    return os.path.expanduser(os.path.expandvars(path))


def default_cache_root() -> str:
    """The tccas Numba cache root of this process: ``$TCCAS_NUMBA_CACHE``, else
    ``~/.cache/tccas/numba`` (:mod:`tccas.model.kernels`)."""
    return os.environ.get(CACHE_VARIABLE, str(Path.home() / ".cache" / "tccas" / "numba"))


def _seed_cache(shared: Path, local: Path) -> int:
    """Copy into the node-local cache folder every file of the shared one it lacks and
    return how many were copied.

    File by file, each written under a temporary name and renamed into place, so that a
    worker beside this one (or Numba writing an index) never reads half a file; files
    already there are kept, as they may hold entries the shared cache lacks. The folder
    itself may already exist: Numba creates it when the kernel modules are imported."""
    if not shared.is_dir() or shared.resolve() == local.resolve():
        return 0
    copied = 0
    for source in sorted(shared.rglob("*")):
        target = local / source.relative_to(shared)
        if not source.is_file() or target.exists():
            continue
        staging = target.with_name(f".{target.name}.{os.getpid()}")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, staging)
            staging.replace(target)
            copied += 1
        except OSError as error:
            logger.info("Numba cache file %s not seeded: %s", source, error)
            staging.unlink(missing_ok=True)
    return copied


class KernelWarmup(WorkerPlugin):
    """Worker plugin: points the Numba cache at node-local disk (when configured) and
    warms the kernels once when the worker starts (:func:`warm_kernels`).

    Parameters
    ----------
    local_directory : node-local scratch (environment variables expanded on the
        worker); the cache root becomes ``<local_directory>/tccas-numba`` (as
        ``$TCCAS_NUMBA_CACHE`` of the worker process, so that the cache keeps one folder
        per source fingerprint, :mod:`tccas.model.kernels`). None: the cache stays where
        the worker has it.
    seed_directory : cache root that seeds a node-local cache still empty for the current
        sources, so that only a new CPU type or new sources compile; None = the worker's
        own root as it started (``$TCCAS_NUMBA_CACHE``, else ``~/.cache/tccas/numba``; in
        the image, the cache baked in at build time).

    After setup, ``seconds`` holds the warm-up time [s], ``cache_directory`` the Numba
    cache folder in use and ``seeded_files`` the number of cache files copied from the
    seed (see :func:`warmup_records`).
    """

    name = PLUGIN_NAME

    def __init__(self, local_directory: str | None = None,
                 seed_directory: str | None = None) -> None:
        self.local_directory = local_directory
        self.seed_directory = seed_directory
        self.seconds: float | None = None
        self.cache_directory: str | None = None
        self.seeded_files = 0

    async def setup(self, worker: Worker) -> None:
        """Warm the kernels in a thread, so that the worker keeps answering the
        scheduler's heartbeats during a cold compilation (minutes)."""
        await asyncio.to_thread(self._warm)

    def _warm(self) -> None:
        start = time.perf_counter()
        local_root = None
        if self.local_directory is not None:
            local_root = Path(_expand(self.local_directory), CACHE_FOLDER)
        seed_root = Path(self.seed_directory or default_cache_root())
        if local_root is not None and "tccas.model.kernels" not in sys.modules:
            os.environ[CACHE_VARIABLE] = str(local_root)
        import numba

        import tccas.model.kernels  # noqa: F401  (fixes the cache folder)

        cache = Path(numba.config.CACHE_DIR)
        if local_root is not None:
            if cache.parent == local_root:
                self.seeded_files = _seed_cache(seed_root / cache.name, cache)
            else:
                logger.warning("tccas kernels were imported before the warm-up plugin ran; "
                               "the Numba cache stays in %s, not under %s", cache, local_root)
        warm_kernels()
        self.cache_directory = str(cache)
        self.seconds = time.perf_counter() - start


@dataclass(frozen=True)
class WarmupRecord:
    """What :class:`KernelWarmup` recorded on one worker: warm-up time [s] (None: not
    finished), the Numba cache folder, the number of cache files seeded into it and the
    worker's process id."""

    seconds: float | None
    cache_directory: str | None
    seeded_files: int
    pid: int


def _worker_record(dask_worker: Worker) -> WarmupRecord:
    plugin = dask_worker.plugins.get(PLUGIN_NAME)
    if plugin is None:
        return WarmupRecord(None, None, 0, os.getpid())
    return WarmupRecord(plugin.seconds, plugin.cache_directory, plugin.seeded_files,
                        os.getpid())


def warmup_records(client: Client) -> dict[str, WarmupRecord]:
    """The warm-up record of every worker, by worker address."""
    return client.run(_worker_record)


def _memory_limit(config: ClusterConfig, workers: int) -> int:
    """[bytes] memory limit of one worker."""
    if config.memory_per_worker == "auto":
        return MEMORY_LIMIT // workers
    return parse_bytes(config.memory_per_worker)


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables of this process for the duration (restored after)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def local_cluster(config: ClusterConfig) -> LocalCluster:
    """A LocalCluster sized by ``config``: ``workers`` processes (0 = one per core of the
    machine, or per ``threads_per_worker`` cores) of ``threads_per_worker`` threads,
    each limited to ``memory_per_worker`` (auto = the machine's memory split evenly)."""
    workers = config.workers or max(1, CPU_COUNT // config.threads_per_worker)
    dashboard = f":{DASHBOARD_PORT}" if config.dashboard else None
    return LocalCluster(n_workers=workers, threads_per_worker=config.threads_per_worker,
                        processes=True, memory_limit=_memory_limit(config, workers),
                        dashboard_address=dashboard,
                        # without a dashboard the scheduler still serves /health: any port
                        scheduler_kwargs=None if dashboard else {"dashboard_address": ":0"},
                        local_directory=None if config.local_directory is None
                        else _expand(config.local_directory))


def _job_script_prologue(config: ClusterConfig) -> list[str]:
    if config.prologue:
        prologue = list(config.prologue)
    else:
        activate = Path(sys.prefix, "bin", "activate")
        prologue = [f"source {activate}"] if activate.is_file() else []
    return [*prologue, f"export NUMBA_NUM_THREADS={config.threads_per_worker}"]


def jobqueue_cluster(config: ClusterConfig) -> Cluster:
    """A dask-jobqueue SLURMCluster or PBSCluster (no job submitted yet).

    One job runs ``processes_per_job`` workers of ``threads_per_worker`` threads and
    ``memory_per_worker`` each, in ``queue`` for ``walltime``; workers retire after
    ``--lifetime`` (spread by ``--lifetime-stagger``) before the walltime kills them. The
    job script starts with ``prologue`` and runs the worker with this process's Python.
    """
    try:
        import dask_jobqueue
    except ImportError:
        raise TccasInputError(f"cluster.kind '{config.kind}' needs dask-jobqueue: install "
                              "tccas[hpc] (python -m pip install 'tccas[hpc]')") from None
    cls = dask_jobqueue.SLURMCluster if config.kind == "slurm" else dask_jobqueue.PBSCluster
    processes = config.processes_per_job
    scheduler_options = dict(dask.config.get(f"jobqueue.{config.kind}.scheduler-options",
                                             default=None) or {})
    scheduler_options["dashboard_address"] = (f":{DASHBOARD_PORT}" if config.dashboard
                                              else None)
    options: dict[str, Any] = {
        "cores": processes * config.threads_per_worker,
        "processes": processes,
        "memory": f"{processes * parse_bytes(config.memory_per_worker)}B",
        "walltime": config.walltime,
        "job_name": "tccas-worker",
        "job_script_prologue": _job_script_prologue(config),
        "worker_extra_args": ["--lifetime", f"{config.lifetime_seconds}s",
                              "--lifetime-stagger", f"{config.stagger_seconds}s"],
        "scheduler_options": scheduler_options,
    }
    if config.queue is not None:
        options["queue"] = config.queue
    if config.local_directory is not None:
        options["local_directory"] = config.local_directory
    return cls(**options)


def _health_probe(**timing: int) -> dict[str, Any]:
    """A probe of the scheduler's /health page (as dask-kubernetes makes it)."""
    return {"httpGet": {"port": "http-dashboard", "path": "/health"}, **timing}


def kubernetes_cluster_spec(config: ClusterConfig, name: str = "tccas") -> dict[str, Any]:
    """The DaskCluster resource (``kubernetes.dask.org/v1``) of the dask-kubernetes
    operator for ``config``: ``workers`` worker pods of ``image`` with
    ``threads_per_worker`` CPUs and ``memory_per_worker`` each, a scheduler pod and its
    service. With ``local_directory`` the workers get an ``emptyDir`` volume there (node
    disk) for spilling and the Numba cache; ``volume_claims`` are mounted in every worker
    pod."""
    if not config.image:
        raise TccasInputError("cluster.kind 'kubernetes' needs cluster.image (the tccas "
                              "image, deploy/Dockerfile)")
    memory = ("auto" if config.memory_per_worker == "auto"
              else str(parse_bytes(config.memory_per_worker)))
    worker_args = ["dask", "worker", "--name", "$(DASK_WORKER_NAME)",
                   "--nthreads", str(config.threads_per_worker), "--memory-limit", memory,
                   "--dashboard-address", str(WORKER_DASHBOARD_PORT)]
    if config.local_directory is not None:
        worker_args += ["--local-directory", config.local_directory]
    limits = {"cpu": str(config.threads_per_worker)}
    if memory != "auto":
        limits["memory"] = memory
    worker: dict[str, Any] = {
        "name": "worker",
        "image": config.image,
        "args": worker_args,
        "env": [{"name": "NUMBA_NUM_THREADS", "value": str(config.threads_per_worker)}],
        "resources": {"requests": dict(limits), "limits": dict(limits)},
        "ports": [{"name": "http-dashboard", "containerPort": WORKER_DASHBOARD_PORT,
                   "protocol": "TCP"}],
    }
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, str]] = []
    if config.local_directory is not None:
        volumes.append({"name": "scratch", "emptyDir": {}})
        mounts.append({"name": "scratch", "mountPath": config.local_directory})
    for claim, path in config.volume_claims.items():
        volumes.append({"name": claim, "persistentVolumeClaim": {"claimName": claim}})
        mounts.append({"name": claim, "mountPath": path})
    worker_pod: dict[str, Any] = {"containers": [worker]}
    if volumes:
        worker["volumeMounts"] = mounts
        worker_pod["volumes"] = volumes
    scheduler = {
        "name": "scheduler",
        "image": config.image,
        "args": ["dask", "scheduler", "--host", "0.0.0.0", "--port", str(SCHEDULER_PORT),
                 "--dashboard-address", f":{DASHBOARD_PORT}"],
        "ports": [{"name": "tcp-comm", "containerPort": SCHEDULER_PORT, "protocol": "TCP"},
                  {"name": "http-dashboard", "containerPort": DASHBOARD_PORT,
                   "protocol": "TCP"}],
        "readinessProbe": _health_probe(initialDelaySeconds=0, periodSeconds=1,
                                        timeoutSeconds=300),
        "livenessProbe": _health_probe(initialDelaySeconds=15, periodSeconds=20),
    }
    service = {
        "type": "ClusterIP",
        "selector": {"dask.org/cluster-name": name, "dask.org/component": "scheduler"},
        "ports": [{"name": "tcp-comm", "protocol": "TCP", "port": SCHEDULER_PORT,
                   "targetPort": "tcp-comm"},
                  {"name": "http-dashboard", "protocol": "TCP", "port": DASHBOARD_PORT,
                   "targetPort": "http-dashboard"}],
    }
    return {
        "apiVersion": "kubernetes.dask.org/v1",
        "kind": "DaskCluster",
        "metadata": {"name": name},
        "spec": {
            "worker": {"replicas": config.workers, "spec": worker_pod},
            "scheduler": {"spec": {"containers": [scheduler]}, "service": service},
        },
    }


def kubernetes_cluster(config: ClusterConfig) -> Cluster:
    """A dask-kubernetes operator KubeCluster from :func:`kubernetes_cluster_spec`, in
    ``namespace``, deleted when closed."""
    try:
        from dask_kubernetes.operator import KubeCluster
    except ImportError:
        raise TccasInputError("cluster.kind 'kubernetes' needs dask-kubernetes: install "
                              "tccas[kubernetes] (python -m pip install "
                              "'tccas[kubernetes]')") from None
    name = f"tccas-{os.getpid()}-{int(time.time())}"
    return KubeCluster(custom_cluster_spec=kubernetes_cluster_spec(config, name),
                       namespace=config.namespace, shutdown_on_close=True)


#: Cluster back-ends by ``cluster.kind`` (``address`` connects instead of starting one).
CLUSTER_BACKENDS: dict[str, Callable[[ClusterConfig], Cluster]] = {
    "local": local_cluster,
    "slurm": jobqueue_cluster,
    "pbs": jobqueue_cluster,
    "kubernetes": kubernetes_cluster,
}


def cluster_client(target: Cluster | str, **options: Any) -> Client:
    """A ``distributed.Client`` of ``target`` (a cluster or a scheduler address) that
    leaves this process's Dask configuration alone.

    tccas hands its client to every call that computes, so the client is not made the
    process default (``set_as_default=False``). A default client writes
    ``scheduler: dask.distributed`` into the global Dask config and restores it only when
    no other default client is alive; a client whose connection failed stays alive until
    garbage collection, and meanwhile every later ``xarray.to_netcdf`` in the process
    asked for a distributed scheduler that no longer existed.
    """
    return Client(target, set_as_default=False, **options)


def _connect(config: ClusterConfig) -> Client:
    try:
        return cluster_client(config.address, timeout=config.connect_timeout)
    except (OSError, ValueError) as error:
        raise TccasInputError(f"cluster.address '{config.address}': no Dask scheduler "
                              f"answered within cluster.connect_timeout "
                              f"{config.connect_timeout:g} s ({error})") from None


@contextmanager
def open_cluster(config: ClusterConfig) -> Iterator[Client]:
    """A client of the cluster ``config`` describes, with :class:`KernelWarmup`
    registered on every worker (present and future); the cluster (not an ``address``
    scheduler) is shut down on exit.

    ``local``: the workers are started with ``$TCCAS_NUMBA_CACHE`` under
    ``local_directory`` (set in this process while the cluster is open, so that workers
    the nanny restarts inherit it too). ``slurm``/``pbs``: jobs are kept at
    ``ceil(workers / processes_per_job)`` by dask-jobqueue's adaptive scaling, which
    submits a fresh job whenever one retires at the end of its lifetime.
    """
    environment, seed = {}, None
    if config.kind == "local" and config.local_directory is not None:
        seed = default_cache_root()
        environment[CACHE_VARIABLE] = str(Path(_expand(config.local_directory), CACHE_FOLDER))
    with ExitStack() as stack:
        stack.enter_context(_environment(environment))
        if config.kind == "address":
            client = stack.enter_context(_connect(config))
        else:
            cluster = stack.enter_context(CLUSTER_BACKENDS[config.kind](config))
            if config.kind in ("slurm", "pbs"):
                jobs = math.ceil(config.workers / config.processes_per_job)
                cluster.adapt(minimum_jobs=jobs, maximum_jobs=jobs)
            client = stack.enter_context(cluster_client(cluster))
        client.register_plugin(KernelWarmup(config.local_directory, seed), name=PLUGIN_NAME)
        yield client
