"""Dask clusters from the ``cluster:`` configuration: local sizing, the kernel warm-up
plugin on every worker, connecting to a running scheduler, dask-jobqueue job scripts and
submissions (through stand-in sbatch/qsub commands), the Kubernetes DaskCluster resource,
and the deployment files of deploy/."""

from __future__ import annotations

import os
import re
import shlex
import socket
import stat
import sys
import time
import tomllib
from pathlib import Path

import cloudpickle
import dask.config
import dask_jobqueue  # noqa: F401  (loads dask-jobqueue's configuration defaults)
import numba
import pytest
import yaml
from dask.system import CPU_COUNT
from dask.utils import parse_bytes
from distributed import Client
from distributed.system import MEMORY_LIMIT

from tccas.model.errors import TccasInputError
from tccas.pipeline.cli import build_parser
from tccas.pipeline.cluster import (
    CACHE_FOLDER,
    CACHE_VARIABLE,
    PLUGIN_NAME,
    kubernetes_cluster_spec,
    local_cluster,
    open_cluster,
    warm_kernels,
    warmup_records,
)
from tccas.pipeline.config import ClusterConfig, load_config

cloudpickle.register_pickle_by_value(sys.modules[__name__])

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


@pytest.fixture(scope="module")
def warm_cache() -> str:
    """Compile the kernels into this process's cache once, so that the workers (which seed
    from it or share it) load them instead of compiling on the test machine's cores."""
    assert warm_kernels() > 0.0
    return numba.config.CACHE_DIR


def worker_pids(client: Client) -> set[int]:
    return set(client.run(os.getpid).values())


def test_local_cluster_is_sized_to_the_machine_and_warmed_on_every_worker(warm_cache,
                                                                          tmp_path):
    scratch = tmp_path / "scratch"
    before = os.environ.get(CACHE_VARIABLE)
    config = ClusterConfig(local_directory=str(scratch))
    # Workers import the model before the plugin runs, as they do when the client is the
    # tccas command (spawned workers re-import the main module): Numba has then created
    # the cache folders, and the seeding must fill them all the same.
    opened = time.time()
    with dask.config.set({"distributed.worker.preload": ["tccas.model.driver"]}), \
            open_cluster(config) as client:
        info = client.scheduler_info()["workers"]
        assert sorted(client.nthreads().values()) == [1] * CPU_COUNT
        assert [w["memory_limit"] for w in info.values()] == [MEMORY_LIMIT // CPU_COUNT] * \
            CPU_COUNT
        assert client.cluster.scheduler_spec["options"]["dashboard"] is False
        assert set(client.run(lambda: "tccas.model.driver" in sys.modules).values()) == {True}
        records = warmup_records(client)
        assert {r.pid for r in records.values()} == worker_pids(client)
        # the cache moved to node-local disk, one folder per source fingerprint, seeded
        # with every file of this process's cache, and no kernel compiled again (other
        # processes on this machine may add to the shared cache meanwhile)
        seed = Path(warm_cache)
        local_cache = scratch / CACHE_FOLDER / seed.name
        seed_files = {p.relative_to(seed) for p in seed.rglob("*") if p.is_file()}
        earlier = {f for f in seed_files if (seed / f).stat().st_mtime < opened}
        assert len(earlier) > 100
        assert sum(r.seeded_files for r in records.values()) >= len(earlier)
        local_files = {p.relative_to(local_cache) for p in local_cache.rglob("*")
                       if p.is_file()}
        assert earlier <= local_files <= seed_files
        assert all((local_cache / f).stat().st_mtime <= (seed / f).stat().st_mtime
                   for f in local_files)
        for record in records.values():
            assert record.cache_directory == str(local_cache)
            assert 0.0 < record.seconds < 120.0
        assert client.run(lambda: os.environ[CACHE_VARIABLE]) == {
            address: str(scratch / CACHE_FOLDER) for address in records}
    assert os.environ.get(CACHE_VARIABLE) == before


def test_address_kind_registers_the_warmup_on_present_and_later_workers(warm_cache):
    explicit = ClusterConfig(workers=2, threads_per_worker=1, memory_per_worker="1GiB")
    with local_cluster(explicit) as cluster:
        assert [w["memory_limit"] for w in cluster.scheduler_info["workers"].values()] == \
            [2**30, 2**30]
        config = ClusterConfig(kind="address", address=cluster.scheduler_address,
                               connect_timeout=10)
        with open_cluster(config) as client:
            assert client.scheduler.address == cluster.scheduler_address
            assert dask.config.get("scheduler", None) is None   # not the process default
            records = warmup_records(client)
            assert len(records) == 2
            assert all(r.seconds > 0.0 and r.cache_directory == warm_cache
                       for r in records.values())
            cluster.scale(3)
            client.wait_for_workers(3, timeout=120)
            deadline = time.monotonic() + 120
            while any(r.seconds is None for r in warmup_records(client).values()) and \
                    time.monotonic() < deadline:
                time.sleep(0.5)
            records = warmup_records(client)
            assert len(records) == 3
            assert all(r.seconds > 0.0 for r in records.values())
            assert set(client.run(lambda dask_worker: PLUGIN_NAME in dask_worker.plugins
                                  ).values()) == {True}
        # closing the client leaves the scheduler and its workers running
        assert len(cluster.scheduler_info["workers"]) == 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_address_kind_fails_clearly_without_a_scheduler():
    address = f"tcp://127.0.0.1:{free_port()}"
    config = ClusterConfig(kind="address", address=address, connect_timeout=1.5)
    start = time.monotonic()
    message = (f"cluster.address '{address}': no Dask scheduler answered within "
               "cluster.connect_timeout 1.5 s")
    with pytest.raises(TccasInputError, match=re.escape(message)), open_cluster(config):
        pass
    assert time.monotonic() - start < 30.0
    bad = ClusterConfig(kind="address", address="nonsense://scheduler:8786")
    message = "cluster.address 'nonsense://scheduler:8786'"
    with pytest.raises(TccasInputError, match=re.escape(message)), open_cluster(bad):
        pass
    # the failed clients leave no distributed scheduler behind in this process's config
    # (xarray.to_netcdf would ask for it and fail)
    assert dask.config.get("scheduler", None) is None


@pytest.mark.parametrize(("kind", "module", "extra"), [
    ("slurm", "dask_jobqueue", "tccas[hpc]"),
    ("pbs", "dask_jobqueue", "tccas[hpc]"),
    ("kubernetes", "dask_kubernetes.operator", "tccas[kubernetes]"),
])
def test_missing_extra_is_a_clear_error(monkeypatch, kind, module, extra):
    monkeypatch.setitem(sys.modules, module, None)   # import raises ImportError
    config = ClusterConfig(kind=kind, workers=2, memory_per_worker="2GiB",
                           image="tccas:test")
    with pytest.raises(TccasInputError, match=rf"cluster.kind '{kind}' needs .*install "
                                              rf"{re.escape(extra)}"), open_cluster(config):
        pass


def test_cluster_config_errors_name_the_key_and_value():
    cases = [
        ({"kind": "slurm", "workers": 4}, "cluster.kind 'slurm' needs "
                                          "cluster.memory_per_worker as a size"),
        ({"kind": "pbs", "memory_per_worker": "2GiB"}, "cluster.kind 'pbs' needs "
                                                       "cluster.workers >= 1"),
        ({"kind": "kubernetes", "workers": 2}, "cluster.kind 'kubernetes' needs "
                                               "cluster.image"),
        ({"memory_per_worker": "lots"}, "cluster.memory_per_worker 'lots' is not a size"),
        ({"kind": "pbs", "workers": 1, "memory_per_worker": "2GiB",
          "walltime": "1-00:00:00"}, "cluster.walltime '1-00:00:00' is not HH:MM:SS"),
        ({"kind": "slurm", "workers": 1, "memory_per_worker": "2GiB", "walltime": "00:09:00"},
         "cluster.walltime '00:09:00' leaves no worker lifetime"),
        ({"kind": "slurm", "workers": 1, "memory_per_worker": "2GiB",
          "worker_lifetime": "2h"}, "cluster.worker_lifetime '2h' plus "
                                    "cluster.lifetime_stagger '5m' must be shorter"),
        ({"kind": "slurm", "workers": 1, "memory_per_worker": "2GiB",
          "lifetime_stagger": "soon"}, "cluster.lifetime_stagger 'soon' is not a time"),
    ]
    for overrides, message in cases:
        assignments = [f"cluster.{key}={value}" for key, value in overrides.items()]
        with pytest.raises(TccasInputError, match=re.escape(message)):
            load_config("majadas-site", assignments)
    config = ClusterConfig(kind="slurm", workers=1, memory_per_worker="2GiB",
                           walltime="1-02:00:00", lifetime_stagger="10m")
    assert (config.walltime_seconds, config.lifetime_seconds, config.stagger_seconds) == \
        (93600, 93600 - 1200, 600)


@pytest.fixture
def batch_system(tmp_path, monkeypatch) -> Path:
    """Stand-in sbatch/qsub (copy the job script whole into the queue folder, print a job
    id) and scancel/qdel (log the ids) first on PATH; returns the queue folder."""
    queue = tmp_path / "queue"
    queue.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    submit = ('#!/bin/sh\ncopy=$(mktemp "$FAKE_QUEUE/.partial-XXXXXX")\ncp "$1" "$copy"\n'
              'mv "$copy" "$FAKE_QUEUE/job-${{copy##*-}}"\necho "{prefix}$$"\n')
    cancel = '#!/bin/sh\necho "$@" >> "$FAKE_QUEUE/cancelled"\n'
    scripts = {"sbatch": submit.format(prefix="Submitted batch job "),
               "qsub": submit.format(prefix=""), "scancel": cancel, "qdel": cancel}
    for name, text in scripts.items():
        path = bin_dir / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_QUEUE", str(queue))
    return queue


def submitted(queue: Path, count: int, timeout: float = 30.0) -> list[str]:
    """The job scripts submitted, once there are ``count`` (or at the timeout)."""
    deadline = time.monotonic() + timeout
    while len(list(queue.glob("job-*"))) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    return [p.read_text() for p in sorted(queue.glob("job-*"))]


JOBQUEUE = {"workers": 4, "processes_per_job": 2, "threads_per_worker": 1,
            "memory_per_worker": "3GiB", "queue": "short", "walltime": "01:30:00",
            "local_directory": "$TMPDIR", "prologue": ["module load python/3.11"]}


def test_slurm_cluster_job_script_and_submissions(batch_system):
    config = ClusterConfig(kind="slurm", **JOBQUEUE)
    with open_cluster(config) as client:
        assert type(client.cluster).__name__ == "SLURMCluster"
        script = client.cluster.job_script()
        for line in ("#SBATCH -J tccas-worker", "#SBATCH -p short", "#SBATCH -n 1",
                     "#SBATCH --cpus-per-task=2", "#SBATCH --mem=6G",
                     "#SBATCH -t 01:30:00", "module load python/3.11",
                     "export NUMBA_NUM_THREADS=1"):
            assert line in script.splitlines()
        command = script.splitlines()[-1]
        # walltime 90 min less twice the 5 min stagger; each worker retires 75-85 min in
        for flags in ("--nthreads 1", "--memory-limit 3.00GiB", "--nworkers 2",
                      "--local-directory $TMPDIR", "--lifetime 4800s",
                      "--lifetime-stagger 300s", "--nanny"):
            assert flags in command
        assert shlex.split(command)[0] == sys.executable
        scripts = submitted(batch_system, 2)
        assert len(scripts) == 2   # 4 workers in jobs of 2
        assert all("#SBATCH -p short" in s and "--lifetime 4800s" in s for s in scripts)
        assert len({re.search(r"--name (\S+)", s).group(1) for s in scripts}) == 2
    assert len((batch_system / "cancelled").read_text().split()) == 2


def test_pbs_cluster_job_script_and_submissions(batch_system):
    config = ClusterConfig(kind="pbs", **{**JOBQUEUE, "workers": 3})
    with open_cluster(config) as client:
        assert type(client.cluster).__name__ == "PBSCluster"
        lines = client.cluster.job_script().splitlines()
        for line in ("#PBS -N tccas-worker", "#PBS -q short",
                     "#PBS -l select=1:ncpus=2:mem=6144MB", "#PBS -l walltime=01:30:00",
                     "module load python/3.11"):
            assert line in lines
        assert "--lifetime 4800s --lifetime-stagger 300s" in lines[-1]
        assert len(submitted(batch_system, 2)) == 2   # 3 workers: 2 jobs of 2
    assert len((batch_system / "cancelled").read_text().split()) == 2


def test_kubernetes_cluster_spec():
    config = ClusterConfig(kind="kubernetes", image="registry.example.org/tccas:1.2",
                           workers=5, threads_per_worker=2, memory_per_worker="3GiB",
                           local_directory="/scratch", volume_claims={"tccas-data": "/data"})
    spec = kubernetes_cluster_spec(config, name="twin")
    assert (spec["apiVersion"], spec["kind"], spec["metadata"]["name"]) == (
        "kubernetes.dask.org/v1", "DaskCluster", "twin")
    worker_group = spec["spec"]["worker"]
    assert worker_group["replicas"] == 5
    (worker,) = worker_group["spec"]["containers"]
    assert worker["image"] == "registry.example.org/tccas:1.2"
    args = worker["args"]
    assert args[:2] == ["dask", "worker"]
    assert args[args.index("--nthreads") + 1] == "2"
    assert args[args.index("--memory-limit") + 1] == str(3 * 2**30)
    assert args[args.index("--local-directory") + 1] == "/scratch"
    assert worker["resources"]["limits"] == {"cpu": "2", "memory": str(3 * 2**30)}
    assert worker["resources"]["requests"] == worker["resources"]["limits"]
    assert {"name": "NUMBA_NUM_THREADS", "value": "2"} in worker["env"]
    assert worker["volumeMounts"] == [{"name": "scratch", "mountPath": "/scratch"},
                                      {"name": "tccas-data", "mountPath": "/data"}]
    assert worker_group["spec"]["volumes"] == [
        {"name": "scratch", "emptyDir": {}},
        {"name": "tccas-data", "persistentVolumeClaim": {"claimName": "tccas-data"}}]
    (scheduler,) = spec["spec"]["scheduler"]["spec"]["containers"]
    assert scheduler["image"] == config.image
    assert scheduler["args"][:2] == ["dask", "scheduler"]
    service = spec["spec"]["scheduler"]["service"]
    assert service["selector"] == {"dask.org/cluster-name": "twin",
                                   "dask.org/component": "scheduler"}
    assert [p["port"] for p in service["ports"]] == [8786, 8787]
    auto = kubernetes_cluster_spec(ClusterConfig(kind="kubernetes", image="tccas:1",
                                                 workers=1), name="small")
    (small,) = auto["spec"]["worker"]["spec"]["containers"]
    assert small["args"][small["args"].index("--memory-limit") + 1] == "auto"
    assert small["resources"]["limits"] == {"cpu": "1"}
    assert "volumeMounts" not in small and "volumes" not in auto["spec"]["worker"]["spec"]


# Deployment files (deploy/): they cannot be run here (no docker daemon, no batch system,
# no Kubernetes API), so their contents are checked against the package.

def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def test_dockerfile_installs_the_package_and_bakes_the_kernels():
    lines = (DEPLOY / "Dockerfile").read_text().splitlines()
    assert lines[[ln.startswith("FROM") for ln in lines].index(True)] == \
        "FROM python:3.11-slim"
    project = pyproject()
    copied = [ln.split()[1:-1] for ln in lines if ln.startswith("COPY")]
    sources = {source for group in copied for source in group}
    assert set(project["tool"]["setuptools"]["package-dir"].values()) <= sources
    assert {"pyproject.toml", project["project"]["readme"]} <= sources
    assert all((REPO / source).exists() for source in sources)
    ignored = set((DEPLOY / "Dockerfile.dockerignore").read_text().splitlines())
    assert "**" in ignored and {f"!{source}" for source in sources} <= ignored
    text = "\n".join(lines)
    extras = re.search(r'pip install "\.\[([a-z,]+)\]"', text).group(1).split(",")
    assert extras == ["hpc", "kubernetes"]
    optional = project["project"]["optional-dependencies"]
    assert optional["hpc"] == ["dask-jobqueue>=0.8"]
    assert optional["kubernetes"] == ["dask-kubernetes>=2024.1"]
    module, name = re.search(r"from ([\w.]+) import (\w+); print", text).groups()
    assert (module, name) == ("tccas.pipeline.cluster", "warm_kernels")
    assert "TCCAS_NUMBA_CACHE=/opt/tccas/numba-cache" in text
    assert 'CMD ["tccas", "--help"]' in text
    assert "tccas" in project["project"]["scripts"]
    # the Helm chart runs dask-scheduler and dask-worker: the image provides both
    assert "exec dask scheduler" in text and "exec dask worker" in text


@pytest.mark.parametrize(("system", "script"), [("slurm", "assimilate.sbatch"),
                                                ("pbs", "assimilate.pbs")])
def test_batch_examples_are_valid_configurations(system, script, monkeypatch):
    config = load_config(str(DEPLOY / system / "experiment.yaml"))
    cluster = config.cluster
    assert cluster.kind == system
    assert cluster.workers % cluster.processes_per_job == 0
    assert cluster.lifetime_seconds + cluster.stagger_seconds < cluster.walltime_seconds
    assert cluster.local_directory == "$TMPDIR"
    assert any(line.startswith("source ") for line in cluster.prologue)
    text = (DEPLOY / system / script).read_text()
    assert text.startswith("#!/bin/bash\n")
    (command,) = re.findall(r"^tccas assimilate .*$", text, flags=re.MULTILINE)
    words = shlex.split(command)[1:]
    if words[-1] == "$@":   # the script's arguments after the experiment follow
        words[-1:] = ["--catalogue", "c.zarr", "--out", "p.zarr"]
    args = build_parser().parse_args([w.replace("$", "") for w in words])
    assert (args.func.__name__, args.config, args.resume) == ("_assimilate", "CONFIG", True)
    assert "from tccas.pipeline.cluster import warm_kernels" in text
    site = yaml.safe_load((DEPLOY / system / "jobqueue.yaml").read_text())
    known = set(dask.config.get(f"jobqueue.{system}"))
    assert set(site["jobqueue"][system]) <= known


def test_kubernetes_files_match_the_builder(tmp_path):
    config = load_config(str(DEPLOY / "kubernetes" / "experiment.yaml"))
    manifest = yaml.safe_load((DEPLOY / "kubernetes" / "daskcluster.yaml").read_text())
    assert manifest == kubernetes_cluster_spec(config.cluster, name="tccas")
    image, tag = config.cluster.image.rsplit(":", 1)
    values = yaml.safe_load((DEPLOY / "kubernetes" / "helm-values.yaml").read_text())
    for part in ("scheduler", "worker"):
        assert (values[part]["image"]["repository"], values[part]["image"]["tag"]) == \
            (image, tag)
    assert values["fullnameOverride"] == "tccas"
    assert values["scheduler"]["servicePort"] == 8786
    assert values["worker"]["replicas"] == config.cluster.workers
    assert parse_bytes(values["worker"]["resources"]["limits"]["memory"]) == \
        parse_bytes(config.cluster.memory_per_worker)
    assert values["jupyter"]["enabled"] is False
    mounts = {m["name"]: m["mountPath"] for m in values["worker"]["mounts"]["volumeMounts"]}
    assert mounts == {"scratch": config.cluster.local_directory,
                      **config.cluster.volume_claims}
    config_map, job = yaml.safe_load_all((DEPLOY / "kubernetes" /
                                          "assimilate-job.yaml").read_text())
    experiment = tmp_path / "experiment.yaml"
    experiment.write_text(config_map["data"]["experiment.yaml"])
    in_cluster = load_config(str(experiment))
    assert in_cluster.cluster.kind == "address"
    assert in_cluster.cluster.address == "tcp://tccas-scheduler:8786"
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["image"] == config.cluster.image
    assert container["args"][0] == "tccas"
    args = build_parser().parse_args(container["args"][1:])
    assert (args.func.__name__, args.config, args.resume) == (
        "_assimilate", "/etc/tccas/experiment.yaml", True)
    assert Path(args.catalogue).parent == Path(args.out).parent == Path("/data")
    job_mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert job_mounts["data"] == config.cluster.volume_claims["tccas-data"]
