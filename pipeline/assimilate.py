"""``tccas assimilate``: variational assimilation of a catalogue's streams into D&B.

From the configuration and the catalogue (:mod:`tccas.catalog.catalogue`) it builds the
control space (:mod:`tccas.pipeline.control`), the assimilated streams (rows that passed
quality screening inside the assimilation window; sigma = product sigma and the stream's
model error in quadrature), one loader per block of tiles, the cost on the configured
cluster (:mod:`tccas.pipeline.cost`), runs L-BFGS-B with a checkpoint per iteration
(:mod:`tccas.pipeline.optimise`), and at the optimum the Jacobian and the posterior
uncertainty (:mod:`tccas.pipeline.uncertainty`).

The posterior store (Zarr, written atomically at every checkpoint and at the end):

* over ``control`` (coordinate ``name``, e.g. ``C3Gr.vcmax25``; ``units``): ``x_prior``,
  ``x_post``, ``sigma_prior``, ``sigma_post``, ``uncertainty_reduction``; ``A`` and
  ``correlation`` over (``control``, ``control_2``);
* ``cost`` over (``iteration``, ``term``): one term per stream, ``prior`` and ``total``;
* ``target_value``, ``target_sigma_prior``, ``target_sigma_post`` over ``target``;
* attributes: the resolved configuration (``config_yaml``), software versions, the
  catalogue, ``status`` (running | complete), ``converged``, ``message``, and after a
  synthetic run the twin scores ``truth_within_2sigma_fraction`` (over the elements whose
  uncertainty reduction exceeds 10 %; ``n_constrained`` of them), the same over the
  elements whose reduction is at least 50 % (``truth_within_2sigma_fraction_halved``,
  ``n_halved``) and ``chi2_per_obs`` = 2 J_obs / n_obs, with
  ``n_obs``, the number of assimilated observations;
* group ``optimiser``: every evaluation (z, J, terms, gradient) and the iterates, from
  which ``--resume`` replays an interrupted minimisation exactly;
* group ``jacobian``: H_z of every stream (``h_<stream>``) with the total sigmas
  (``sigma_<stream>``), and the target gradients, for ``tccas uncertainty``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np
import xarray as xr

from tccas.catalog.catalogue import Catalogue, open_catalogue
from tccas.model.driver import SpinUp
from tccas.model.errors import TccasInputError
from tccas.operators.observe import FootprintObservations
from tccas.pipeline.config import ExperimentConfig, resolved_yaml
from tccas.pipeline.control import ControlSpace, control_space
from tccas.pipeline.cost import BlockProblem, CostFunction, StreamData
from tccas.pipeline.optimise import OptimisationResult, Record, minimise
from tccas.pipeline.simulate import write_zarr_atomic
from tccas.pipeline.uncertainty import Jacobian, jacobian, uncertainty

OPTIMISER_GROUP = "optimiser"
JACOBIAN_GROUP = "jacobian"
#: Elements whose uncertainty falls by more than this count as constrained in the twin
#: score (an element the data do not see keeps its prior and says nothing).
CONSTRAINED_REDUCTION = 0.1
#: Uncertainty reduction from which the data at least halve an element's sigma.
HALVED_REDUCTION = 0.5


@dataclass(frozen=True)
class Window:
    """Assimilation window of a catalogue: the first day and its hour in the period."""

    start: np.datetime64
    start_hour: int
    start_day: int


def assimilation_window(config: ExperimentConfig, catalogue: Catalogue) -> Window:
    """The window of the configuration inside the catalogue's period."""
    start = np.datetime64(config.period.assimilation_start, "h")
    hour = int((start - np.datetime64(catalogue.period_start, "h")) // np.timedelta64(1, "h"))
    if not 0 <= hour < catalogue.n_hours:
        raise TccasInputError(f"{catalogue.path}: the assimilation window starts at {start}, "
                              f"outside the catalogue's period")
    return Window(np.datetime64(config.period.assimilation_start, "D"), hour, hour // 24)


def stream_data(config: ExperimentConfig, catalogue: Catalogue, window: Window
                ) -> tuple[list[StreamData], list[np.ndarray]]:
    """The assimilated streams (rows with qc == 0 in the window) and their global rows."""
    streams, rows = [], []
    for name in config.assimilated_streams:
        if name not in catalogue.streams:
            raise TccasInputError(f"{catalogue.path}: stream '{name}' is assimilated in the "
                                  f"configuration but the catalogue has no observations of "
                                  f"it (streams: {', '.join(catalogue.streams) or 'none'})")
        table = catalogue.observation_table(name)
        time = table["time"].values
        keep = np.flatnonzero((table["qc"].values == 0) & (time >= window.start))
        streams.append(StreamData.combined(name, table["value"].values[keep],
                                           table["sigma"].values[keep],
                                           config.streams[name].sigma_model))
        rows.append(keep.astype(np.int64))
    return streams, rows


def load_block_problem(catalogue_path: str, block: int, streams: tuple[str, ...],
                       rows: tuple[np.ndarray, ...], window_start_hour: int,
                       spinup: SpinUp, tile_offset: int) -> BlockProblem:
    """One block of the catalogue as a :class:`BlockProblem` (a Dask task: pure in its
    arguments, so a lost result is rebuilt from them)."""
    catalogue = open_catalogue(catalogue_path)
    tiles, cell_ids = catalogue.block_tiles(block)
    forcing = catalogue.block_forcing(block)
    observations, ids = [], []
    for name, selected in zip(streams, rows, strict=True):
        seen = catalogue.observations(name, block)
        inside = np.flatnonzero(seen.hour >= window_start_hour)
        position = np.searchsorted(selected, seen.obs[inside])
        found = (position < selected.size) & (selected[np.minimum(position,
                                                                    selected.size - 1)]
                                             == seen.obs[inside])
        inside, position = inside[found], position[found]
        whole = seen.footprint_observations()
        observations.append(FootprintObservations(name, whole.hours[inside],
                                                  whole.weights[inside],
                                                  whole.non_vegetated[inside]))
        ids.append(position)
    area = tiles.cover_fraction * catalogue.grid.cell_area(cell_ids[tiles.cell])
    return BlockProblem(index=block, tiles=tiles,
                        tile_ids=tile_offset + np.arange(tiles.n_tile), forcing=forcing,
                        spinup=spinup, observations=tuple(observations),
                        observation_ids=tuple(ids), tile_area=area)


def _tile_layout(catalogue: Catalogue) -> tuple[np.ndarray, np.ndarray]:
    tiles = xr.open_zarr(catalogue.path, group="tiles", consolidated=False)
    return tiles["block_start"].values.astype(np.int64), tiles["pft"].values.astype(np.int64)


def build_cost(config: ExperimentConfig, catalogue_path: str, client=None
               ) -> tuple[CostFunction, Catalogue, Window]:
    """The cost function of an experiment over a catalogue (on ``client`` if given)."""
    catalogue = open_catalogue(catalogue_path)
    window = assimilation_window(config, catalogue)
    streams, rows = stream_data(config, catalogue, window)
    block_start, tile_pfts = _tile_layout(catalogue)
    space = control_space(config.control, np.unique(tile_pfts), tile_pfts)
    names = tuple(s.name for s in streams)
    loaders = [functools.partial(load_block_problem, str(catalogue.path), b, names,
                                 tuple(rows), window.start_hour, config.period.spinup,
                                 int(block_start[b]))
               for b in range(len(catalogue.blocks)) if block_start[b + 1] > block_start[b]]
    return CostFunction(space, streams, loaders, client=client), catalogue, window


def record_dataset(record: Record) -> xr.Dataset:
    """The optimiser record as a dataset (group ``optimiser``)."""
    return xr.Dataset(
        {"z": (("evaluation", "control"), np.array(record.z)),
         "cost": ("evaluation", np.array(record.cost)),
         "terms": (("evaluation", "term"), np.array(record.terms)),
         "gradient": (("evaluation", "control"), np.array(record.gradient)),
         "iterate": ("iteration", np.array(record.iterations, dtype=np.int64))},
        coords={"term": list(record.term_names)})


def record_from_store(path: Path) -> Record:
    """The optimiser record of an interrupted run, for ``--resume``."""
    try:
        ds = xr.open_zarr(path, group=OPTIMISER_GROUP, consolidated=False).load()
    except (FileNotFoundError, KeyError, ValueError, OSError) as err:
        raise TccasInputError(f"{path}: no optimiser checkpoint to resume from ({err})") from None
    return Record(term_names=tuple(str(t) for t in ds["term"].values),
                  z=list(ds["z"].values), cost=[float(c) for c in ds["cost"].values],
                  terms=list(ds["terms"].values), gradient=list(ds["gradient"].values),
                  iterations=[int(i) for i in ds["iterate"].values])


def _control_coords(space: ControlSpace) -> dict:
    return {"name": ("control", list(space.names)), "units": ("control", list(space.units))}


def _versions() -> str:
    names = ("tccas", "numpy", "numba", "scipy", "xarray", "zarr", "dask", "distributed")
    return json.dumps({name: version(name) for name in names})


def posterior_dataset(config: ExperimentConfig, space: ControlSpace, record: Record,
                      catalogue: str, status: str,
                      result: OptimisationResult | None = None,
                      jac: Jacobian | None = None) -> tuple[xr.Dataset, dict[str, xr.Dataset]]:
    """The posterior store's root dataset and groups at a checkpoint or at the end."""
    cost = np.column_stack([np.array([record.terms[i] for i in record.iterations]),
                            [record.cost[i] for i in record.iterations]])
    data = {
        "x_prior": ("control", space.x0), "sigma_prior": ("control", space.sigma_prior),
        "cost": (("iteration", "term"), cost),
    }
    attrs = {"config_yaml": resolved_yaml(config), "software_versions": _versions(),
             "catalogue": catalogue, "status": status}
    groups = {OPTIMISER_GROUP: record_dataset(record)}
    if result is not None and jac is not None:
        post = uncertainty(space, jac)
        data |= {
            "x_post": ("control", space.x_from_z(result.z)),
            "sigma_post": ("control", post.sigma_post),
            "uncertainty_reduction": ("control", post.reduction),
            "A": (("control", "control_2"), post.a_x),
            "correlation": (("control", "control_2"), post.correlation),
            "target_value": ("target", jac.target_values),
            "target_sigma_prior": ("target", post.target_sigma_prior),
            "target_sigma_post": ("target", post.target_sigma_post),
        }
        attrs |= {"converged": int(result.converged), "message": result.message}
        groups[JACOBIAN_GROUP] = jacobian_dataset(space, jac)
    coords = {**_control_coords(space), "term": [*record.term_names, "total"],
              "iteration": np.arange(len(record.iterations))}
    if jac is not None:
        coords["target"] = list(jac.target_names)
    return xr.Dataset(data, coords=coords, attrs=attrs), groups


def jacobian_dataset(space: ControlSpace, jac: Jacobian) -> xr.Dataset:
    """H_z per stream with its sigmas, and the target gradients (group ``jacobian``)."""
    data = {"z": ("control", jac.z),
            "target_gradient": (("target", "control"), jac.target_gradients),
            "target_value": ("target", jac.target_values)}
    for name, h, sigma in zip(jac.streams, jac.h, jac.sigma, strict=True):
        data[f"h_{name}"] = ((f"obs_{name}", "control"), h)
        data[f"sigma_{name}"] = (f"obs_{name}", sigma)
    return xr.Dataset(data, coords={**_control_coords(space), "target": list(jac.target_names)},
                      attrs={"streams": json.dumps(list(jac.streams))})


def jacobian_from_store(path: str | Path) -> tuple[Jacobian, xr.Dataset]:
    """The Jacobian and the root dataset of a posterior store."""
    try:
        root = xr.open_zarr(path, consolidated=True).load()
        group = xr.open_zarr(path, group=JACOBIAN_GROUP, consolidated=True).load()
    except (FileNotFoundError, KeyError, ValueError, OSError) as err:
        raise TccasInputError(f"{path}: not a complete posterior store ({err})") from None
    streams = tuple(json.loads(group.attrs["streams"]))
    jac = Jacobian(z=group["z"].values, streams=streams,
                   h=tuple(group[f"h_{s}"].values for s in streams),
                   sigma=tuple(group[f"sigma_{s}"].values for s in streams),
                   target_names=tuple(str(t) for t in group["target"].values),
                   target_values=group["target_value"].values,
                   target_gradients=group["target_gradient"].values)
    return jac, root


def twin_scores(space: ControlSpace, catalogue: Catalogue, x_post: np.ndarray,
                reduction: np.ndarray) -> dict[str, float] | None:
    """Scores of a synthetic run against the catalogue's truth (None without one): the
    fraction of constrained elements whose truth lies within 2 posterior sigmas (in
    whitened space, where the posterior is Gaussian to first order), the same over the
    elements whose sigma the data at least halve."""
    truth = catalogue.truth()
    if truth is None or "x_true" not in truth:
        return None
    names = [str(n) for n in truth["control"].values]
    values = dict(zip(names, truth["x_true"].values, strict=True))
    missing = [n for n in space.names if n.split("@")[0] not in values]
    if missing:
        raise TccasInputError(f"{catalogue.path}: truth has no value for {', '.join(missing)}")
    x_true = np.array([values[n.split("@")[0]] for n in space.names])
    z_true, z_post = space.z_from_x(x_true), space.z_from_x(x_post)
    sd_z = 1.0 - reduction
    constrained = reduction > CONSTRAINED_REDUCTION
    within = np.abs(z_true - z_post) <= 2.0 * sd_z
    halved = reduction >= HALVED_REDUCTION
    return {"truth_within_2sigma_fraction": float(within[constrained].mean())
            if constrained.any() else float("nan"),
            "n_constrained": int(constrained.sum()),
            "truth_within_2sigma_fraction_halved": float(within[halved].mean())
            if halved.any() else float("nan"),
            "n_halved": int(halved.sum())}


def run_assimilation(config: ExperimentConfig, catalogue_path: str, out: str | Path,
                     resume: bool = False, client=None, log=print) -> xr.Dataset:
    """The whole experiment; returns the posterior store's root dataset."""
    out = Path(out)
    if out.exists() and not resume:
        raise TccasInputError(f"{out}: exists; give --resume to continue it or another --out")
    record = record_from_store(out) if resume and out.exists() else None
    cost, catalogue, window = build_cost(config, catalogue_path, client)
    space = cost.space
    log(f"assimilating {cost.n_obs} observations of {', '.join(s.name for s in cost.streams)}"
        f" into {space.n} control elements over {len(cost.problems)} blocks from "
        f"{window.start}")

    def checkpoint(current: Record) -> None:
        root, groups = posterior_dataset(config, space, current, str(catalogue.path),
                                         "running")
        write_zarr_atomic(root, out, groups)

    result = minimise(cost, config.optimiser, record=record, checkpoint=checkpoint, log=log)
    jac = jacobian(cost, result.z, window.start_day)
    root, groups = posterior_dataset(config, space, result.record, str(catalogue.path),
                                     "complete", result, jac)
    obs_cost = float(result.record.cost[result.best] - result.record.terms[result.best][0])
    scores = twin_scores(space, catalogue, root["x_post"].values,
                         root["uncertainty_reduction"].values)
    root.attrs["chi2_per_obs"] = 2.0 * obs_cost / cost.n_obs
    root.attrs["n_obs"] = cost.n_obs
    if scores is not None:
        root.attrs |= scores
        log(f"twin: truth within 2 sigma for {scores['truth_within_2sigma_fraction']:.0%} of "
            f"{scores['n_constrained']} constrained elements; chi2 per observation "
            f"{root.attrs['chi2_per_obs']:.3f}")
    write_zarr_atomic(root, out, groups)
    log(f"wrote {out} ({'converged' if result.converged else 'not converged'}: "
        f"{result.message})")
    return root
