"""Forward simulations of sites and flux towers, written as daily Zarr stores.

A run is built from tiles (``tccas.model.tiles``), per-tile prior parameters from the
parameter table, and forcing from the built-in weather generator or a tower file. The
output holds daily values per tile and cover-weighted per cell (a site is one cell).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np
import xarray as xr
import zarr

from tccas.catalog.fluxnet import read_erai_forcing, read_plumber_forcing
from tccas.catalog.sites import Site, get_site
from tccas.catalog.weather import site_forcing
from tccas.model.driver import ForwardResult, Samples, SpinUp, run_forward
from tccas.model.errors import TccasInputError
from tccas.model.forcing import Forcing
from tccas.model.outputs import DAILY_OUTPUTS
from tccas.model.parameters import OPERATOR_PARAMETERS, PARAMETERS, prior_table
from tccas.model.tiles import Tiles, make_tiles
from tccas.operators.mixing import mix_linear, mix_transmissivity
from tccas.operators.streams import DAILY_EQUIVALENTS, STREAMS, operator_prior, overpass_hours

STREAMS_PARAMETER_NAMES = tuple(p.name for p in OPERATOR_PARAMETERS)
EQUIVALENTS_GROUP = "observation_equivalents"


@dataclass(frozen=True)
class Simulation:
    """Everything a forward run needs, and a label for its provenance."""

    tiles: Tiles
    parameters: np.ndarray
    forcing: Forcing
    spinup: SpinUp
    description: dict[str, str]


def parse_date(text: str, what: str) -> np.datetime64:
    """A calendar date ``YYYY-MM-DD`` as datetime64[D]; a clear error otherwise."""
    try:
        return np.datetime64(str(text), "D")
    except ValueError:
        raise TccasInputError(f"{what}: '{text}' is not a date (YYYY-MM-DD)") from None


def check_period(start: str, end: str) -> tuple[np.datetime64, np.datetime64]:
    """Start and end dates (both included); end must not be before start."""
    first = parse_date(start, "--start")
    last = parse_date(end, "--end")
    if last < first:
        raise TccasInputError(f"--start {first} is after --end {last}")
    return first, last


def parse_pft_option(text: str) -> tuple[str, float | None]:
    """``EvCn`` or ``EvCn:0.6`` -> (name, fraction or None)."""
    name, _, fraction = text.partition(":")
    if not fraction:
        return name, None
    try:
        return name, float(fraction)
    except ValueError:
        raise TccasInputError(
            f"--pft {text}: cover fraction '{fraction}' is not a number") from None


def tower_pfts(options: list[str]) -> tuple[list[str], list[float]]:
    """PFT names and cover fractions from ``--pft`` options; missing fractions share the
    cover left by the given ones equally."""
    if not options:
        raise TccasInputError("at least one --pft is needed for a tower run")
    parsed = [parse_pft_option(o) for o in options]
    given = sum(f for _, f in parsed if f is not None)
    open_slots = sum(1 for _, f in parsed if f is None)
    share = (1.0 - given) / open_slots if open_slots else 0.0
    fractions = [f if f is not None else share for _, f in parsed]
    return [name for name, _ in parsed], fractions


def site_simulation(site_name: str, start: str, end: str, seed: int = 0,
                    spinup: SpinUp | None = None) -> Simulation:
    """A built-in site (``majadas``, ``sodankyla``, ``reusel``) on generated weather."""
    site = get_site(site_name)
    first, last = check_period(start, end)
    forcing = site_forcing(site, str(first), str(last), seed=seed)
    tiles = site_tiles(site)
    return Simulation(tiles=tiles, parameters=prior_table(tiles.pft), forcing=forcing,
                      spinup=SpinUp() if spinup is None else spinup,
                      description={"site": site.name, "forcing": f"tccas weather generator, "
                                   f"seed {seed}", "fluxnet_id": site.fluxnet_id})


def site_tiles(site: Site) -> Tiles:
    names = [name for name, _ in site.pfts]
    fractions = [fraction for _, fraction in site.pfts]
    return make_tiles(names, fractions, site.latitude, site.longitude, site.soil)


def tower_simulation(forcing_path: str, latitude: float, longitude: float, pfts: list[str],
                     start: str, end: str, soil: str = "loam", utc_offset: float | None = None,
                     spinup: SpinUp | None = None) -> Simulation:
    """A flux tower forced by its own meteorology: a FLUXNET2015 ERAI half-hourly CSV
    (local standard time, ``utc_offset`` defaults to round(longitude / 15)) or a
    PLUMBER2/ALMA Met netCDF."""
    first, last = check_period(start, end)
    names, fractions = tower_pfts(pfts)
    tiles = make_tiles(names, fractions, latitude, longitude, soil)
    path = Path(forcing_path)
    if not path.exists():
        raise TccasInputError(f"{path}: forcing file not found")
    if path.suffix.lower() == ".csv":
        offset = round(longitude / 15.0) if utc_offset is None else utc_offset
        forcing = read_erai_forcing(path, offset, str(first), str(last))
    elif path.suffix.lower() in (".nc", ".nc4"):
        forcing, _ = read_plumber_forcing(path, str(first), str(last))
    else:
        raise TccasInputError(
            f"{path}: unknown forcing format (expected a FLUXNET ERAI .csv or PLUMBER2 .nc)")
    return Simulation(tiles=tiles, parameters=prior_table(tiles.pft), forcing=forcing,
                      spinup=SpinUp() if spinup is None else spinup,
                      description={"site": path.stem, "forcing": str(path)})


def overpass_samples(tiles: Tiles, n_day: int) -> Samples:
    """Samples at the overpass hours of every daily observation equivalent
    (:data:`tccas.operators.streams.DAILY_EQUIVALENTS`) of every tile."""
    longitudes = tiles.static[:, 1]
    per_tile = [np.unique(np.concatenate([
        overpass_hours(lon, STREAMS[name].overpass_local_hour, n_day)
        for name in DAILY_EQUIVALENTS])) for lon in longitudes]
    pointer = np.concatenate([[0], np.cumsum([h.size for h in per_tile])]).astype(np.int64)
    return Samples(pointer=pointer, hours=np.concatenate(per_tile))


def run(simulation: Simulation) -> ForwardResult:
    """Validate the forcing and run the model, sampling the overpass hours of the daily
    observation equivalents."""
    simulation.forcing.validate(simulation.description.get("forcing", "forcing"))
    samples = overpass_samples(simulation.tiles, simulation.forcing.n_hour // 24)
    return run_forward(simulation.tiles, simulation.parameters, simulation.forcing,
                       simulation.spinup, samples=samples)


def cover_weights(tiles: Tiles) -> np.ndarray:
    """(n_cell, n_tile) matrix of cover fractions: the footprint of one cell."""
    n_cell = int(tiles.cell.max()) + 1
    weights = np.zeros((n_cell, tiles.n_tile))
    weights[tiles.cell, np.arange(tiles.n_tile)] = tiles.cover_fraction
    return weights


def observation_equivalents(simulation: Simulation, result: ForwardResult,
                            operator_parameters: np.ndarray | None = None) -> xr.Dataset:
    """Daily observation equivalents at each stream's overpass time, per tile
    ``(tile, time)`` and per cell ``<name>_cell`` mixed by the stream's rule (cover-weighted
    mean, or transmissivity for L-VOD)."""
    parameters = operator_prior() if operator_parameters is None else operator_parameters
    tiles = simulation.tiles
    n_day = result.days.size
    weights = cover_weights(tiles)
    samples = overpass_samples(tiles, n_day)
    data_vars: dict[str, xr.DataArray] = {}
    for name in DAILY_EQUIVALENTS:
        stream = STREAMS[name]
        values = np.empty((tiles.n_tile, n_day))
        for t in range(tiles.n_tile):
            hours = samples.hours[samples.pointer[t]:samples.pointer[t + 1]]
            wanted = overpass_hours(tiles.static[t, 1], stream.overpass_local_hour, n_day)
            rows = samples.pointer[t] + np.searchsorted(hours, wanted)
            values[t] = stream.evaluate(result.snapshots[rows], parameters)
        mixed = (mix_transmissivity(weights, values) if stream.mixing == "transmissivity"
                 else mix_linear(weights, values))
        attrs = {"units": stream.units, "long_name": stream.long_name,
                 "overpass_local_solar_hour": stream.overpass_local_hour,
                 "footprint_mixing": stream.mixing}
        data_vars[name] = xr.DataArray(values, dims=("tile", "time"), attrs=attrs)
        data_vars[f"{name}_cell"] = xr.DataArray(mixed, dims=("cell", "time"), attrs=attrs)
    coords = {"time": ("time", result.days.astype("datetime64[ns]")),
              "tile": ("tile", np.arange(tiles.n_tile)),
              "pft": ("tile", np.array(tiles.pft_names, dtype=object)),
              "cover_fraction": ("tile", tiles.cover_fraction, {"units": "1"}),
              "cell": ("cell", np.arange(weights.shape[0]))}
    return xr.Dataset(data_vars, coords=coords,
                      attrs={"title": "daily observation equivalents at overpass time",
                             "operator_parameters": json.dumps(
                                 dict(zip(STREAMS_PARAMETER_NAMES, parameters.tolist(),
                                          strict=True)))})


def forward_dataset(simulation: Simulation, result: ForwardResult) -> xr.Dataset:
    """The daily output as a CF-style dataset.

    Per tile: every variable of :data:`tccas.model.outputs.DAILY_OUTPUTS` on
    ``(tile, time)`` with tile coordinates ``pft``, ``pft_code``, ``cover_fraction`` and
    ``cell``. Cover-weighted per cell: the same variables with the suffix ``_cell`` on
    ``(cell, time)``. The parameters used are in ``parameter(tile, parameter_name)``.
    """
    tiles = simulation.tiles
    weights = cover_weights(tiles)
    n_cell = weights.shape[0]
    time = result.days.astype("datetime64[ns]")
    data_vars: dict[str, xr.DataArray] = {}
    for index, variable in enumerate(DAILY_OUTPUTS):
        attrs = {"units": variable.unit, "long_name": variable.long_name,
                 "cell_methods": f"time: {variable.aggregation}"}
        if variable.standard_name:
            attrs["standard_name"] = variable.standard_name
        values = result.daily[:, :, index]
        data_vars[variable.name] = xr.DataArray(values, dims=("tile", "time"), attrs=attrs)
        data_vars[f"{variable.name}_cell"] = xr.DataArray(
            weights @ values, dims=("cell", "time"),
            attrs={**attrs, "long_name": f"{variable.long_name}, cover-weighted mean of the "
                                         "cell's tiles"})
    data_vars["parameter"] = xr.DataArray(
        simulation.parameters, dims=("tile", "parameter_name"),
        attrs={"long_name": "model parameters used for each tile",
               "units_by_parameter": json.dumps({p.name: p.unit for p in PARAMETERS})})
    coords = {
        "time": ("time", time, {"long_name": "day (UTC)"}),
        "spinup": ("time", np.arange(time.size) < result.spinup_days,
                   {"long_name": "day lies in the spin-up window"}),
        "tile": ("tile", np.arange(tiles.n_tile)),
        "pft": ("tile", np.array(tiles.pft_names, dtype=object), {"long_name": "PFT"}),
        "pft_code": ("tile", tiles.pft, {"long_name": "BETHY PFT code"}),
        "cover_fraction": ("tile", tiles.cover_fraction, {"units": "1"}),
        "cell_index": ("tile", tiles.cell, {"long_name": "cell of the tile"}),
        "cell": ("cell", np.arange(n_cell)),
        "parameter_name": ("parameter_name", np.array([p.name for p in PARAMETERS],
                                                      dtype=object)),
    }
    attrs = {
        "title": "D&B forward run (tccas)",
        "tccas_version": version("tccas"),
        "spinup_years": simulation.spinup.years,
        "spinup_cycles": simulation.spinup.cycles,
        "Conventions": "CF-1.10",
        **simulation.description,
    }
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def write_zarr_atomic(dataset: xr.Dataset, path: str | os.PathLike,
                      groups: dict[str, xr.Dataset] | None = None) -> Path:
    """Write ``dataset`` (and named sub-``groups``) as a Zarr store at ``path`` without
    ever leaving a half-written store there: write beside it under a temporary name, then
    move it into place (an existing store is replaced only once the new one is
    complete)."""
    target = Path(path)
    if target.exists() and not (target / ".zgroup").exists() and not (
            target / "zarr.json").exists():
        raise TccasInputError(f"{target}: exists and is not a Zarr store; not overwriting")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex}")
    try:
        dataset.to_zarr(staging, mode="w", zarr_format=2, consolidated=False)
        for name, group in (groups or {}).items():
            group.to_zarr(staging, group=name, mode="w", zarr_format=2, consolidated=False)
        zarr.consolidate_metadata(str(staging))
        replace_folder(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return target


def replace_folder(staging: Path, target: Path) -> None:
    """Move the complete folder ``staging`` to ``target`` (same file system), replacing an
    existing ``target`` only once the new one is in place: the old folder is first renamed
    aside under a hidden temporary name, then removed, so ``target`` is never missing for
    longer than between two renames and never half-written. Used by
    :func:`write_zarr_atomic` and by ``tccas synth`` for its whole output folder."""
    if target.exists():
        retired = target.with_name(f".{target.name}.old-{uuid.uuid4().hex}")
        os.replace(target, retired)
        os.replace(staging, target)
        shutil.rmtree(retired)
    else:
        os.replace(staging, target)


def annual_summary(dataset: xr.Dataset, variables: tuple[str, ...] = ("gpp", "nee", "et")
                   ) -> dict[str, dict[int, dict[str, float]]]:
    """Annual totals per PFT and cover-weighted: {variable: {year: {label: total}}}.

    Units: gC m-2 yr-1 for carbon, kg m-2 yr-1 (mm) for water.
    """
    years = dataset["time"].dt.year
    summary: dict[str, dict[int, dict[str, float]]] = {}
    for name in variables:
        per_year: dict[int, dict[str, float]] = {}
        tile_totals = dataset[name].groupby(years).sum("time")
        cell_totals = dataset[f"{name}_cell"].groupby(years).sum("time")
        for year in tile_totals["year"].values:
            row = {str(dataset["pft"].values[t]): float(tile_totals.sel(year=year)[t])
                   for t in range(dataset.sizes["tile"])}
            row["cover-weighted"] = float(cell_totals.sel(year=year)[0])
            per_year[int(year)] = row
        summary[name] = per_year
    return summary
