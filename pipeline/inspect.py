"""``tccas inspect FILE``: recognise a product file and summarise what it holds.

Supported products (detection by file name first, then by content for netCDF files):

================== ============================================ ==============================
product            file name                                    content (netCDF)
================== ============================================ ==============================
TROPOSIF           ``S5P_*_L2B_SIF_*``, ``S5P_*_L2__SIF_*``,    group ``PRODUCT`` with
                   ``TROPOSIF_*``                               ``SIF_743``
SMOS L2 SM         ``SM_*_MIR_SMUDP2_*``                        ``Soil_Moisture`` +
                                                                ``Grid_Point_ID``
SMOS-IC            ``SM_*_MIR_CDF3S[AD]_*``                     ``Soil_Moisture`` +
                                                                ``Quality_Flag``
JRC-TIP            (none known)                                 ``fapar`` +
                                                                ``fapar_uncertainty``
CCI Land Cover PFT ``ESACCI-LC-L4-PFT-Map-*``                   ``TREES-BE``
CCI LC class map   ``ESACCI-LC-L4-LCCS-Map-*``,                 ``lccs_class``
                   ``C3S-LC-L4-LCCS-Map-*``
CCI Biomass AGB    ``[TILE_]ESACCI-BIOMASS-L4-AGB-*`` (.nc/.tif) ``agb``
Soil texture class ``*texture.class_usda*.tif`` (OpenLandMap)   (GeoTIFF)
ERA5 / ERA5-Land   (any)                                        an ERA5 short name (``t2m``,
                                                                ``ssrd``, ...) on latitude/
                                                                longitude
ERA5 geopotential  (any)                                        ``z`` on latitude/longitude
FLUXNET2015 CSV    ``*.csv``                                    (CSV with TIMESTAMP columns)
PLUMBER2 netCDF    ``*_Met.nc``, ``*_Flux.nc``                  ``Tair`` or ``NEE`` on (y, x)
================== ============================================ ==============================

Other Sentinel-5P L2 products (CH4, NO2, ...) are recognised and rejected by name.

Every summary has the same shape: ``file``, ``product``, ``time_start``/``time_end`` (ISO;
UTC except FLUXNET/PLUMBER, whose time axis is local standard time), ``n_records`` (the
file's records: soundings, grid points, cells, time steps x cells), ``streams`` (per stream
``n_valid``, the records holding a value, and ``n_after_qc``, those passing the reader's
default screening) and ``details`` (the product's own inspect dict).

Quality rules of the tower files: half-hourly and hourly QC 0 (measured) and 1 (good gap
fill) pass (FLUXNET2015, :data:`GOOD_QC_MAX`; GPP and RECO take the NEE flag), the default
screening of the ingest's reader of ``nee`` and ``gpp``
(:func:`tccas.catalog.fluxnet.read_tower_fluxes`), so that its counts are the rows a
catalogue gets from an HH/HR or PLUMBER2 Flux file; in aggregated files (DD, WW, MM, YY,
not ingested) the QC column is the fraction of good records and at least
:data:`AGGREGATED_GOOD_FRACTION` passes (PROPOSED: a majority of good records).
ERA5 has no quality information: ``n_after_qc == n_valid``; neither has the soil texture
map (a pixel with a USDA class is valid).

Any failure to read a file (corrupt, truncated, empty, wrong content) becomes a
:class:`~tccas.model.errors.TccasInputError` naming the file, which the command line prints
as one line.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from tccas.catalog.cci_biomass import FILE_NAME as BIOMASS_NAME
from tccas.catalog.cci_biomass import inspect_cci_biomass
from tccas.catalog.cci_landcover import inspect_cci_landcover
from tccas.catalog.cci_lccs import inspect_lccs_map
from tccas.catalog.era5 import ERA5_VARIABLES, GEOPOTENTIAL, open_era5, open_era5_geopotential
from tccas.catalog.fluxnet import GOOD_QC_MAX, read_fullset
from tccas.catalog.gridded import iso_time
from tccas.catalog.jrc_tip import TipVariables, inspect_jrc_tip
from tccas.catalog.observations import open_product
from tccas.catalog.smos import inspect_smos
from tccas.catalog.smos_ic import inspect_smos_ic
from tccas.catalog.soil_texture import inspect_soil_texture
from tccas.catalog.troposif import inspect_troposif
from tccas.model.errors import TccasInputError

PRODUCTS: dict[str, str] = {
    "troposif": "TROPOSIF SIF (TROPOMI L2/L2B)",
    "smos_l2": "SMOS L2 SM (MIR_SMUDP2)",
    "smos_ic": "SMOS-IC soil moisture and L-VOD",
    "jrc_tip": "JRC-TIP FAPAR",
    "cci_landcover": "ESA CCI Land Cover PFT",
    "cci_lccs": "ESA CCI Land Cover LCCS class map",
    "cci_biomass": "ESA CCI Biomass AGB",
    "era5": "ERA5 / ERA5-Land hourly single levels",
    "era5_geopotential": "ERA5 / ERA5-Land surface geopotential (invariant)",
    "soil_texture": "OpenLandMap soil texture class (USDA system)",
    "fluxnet_csv": "FLUXNET2015 CSV",
    "plumber": "PLUMBER2 tower netCDF",
}
AGGREGATED_GOOD_FRACTION = 0.5

_NAME_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(S5P_\w{4}_L2[B_]_SIF_|TROPOSIF_)"), "troposif"),
    (re.compile(r"^SM_\w{4}_MIR_SMUDP2_"), "smos_l2"),
    (re.compile(r"^SM_\w{4}_MIR_CDF3S[AD]_"), "smos_ic"),
    (re.compile(r"^ESACCI-LC-L4-PFT-Map"), "cci_landcover"),
    (re.compile(r"^(ESACCI|C3S)-LC-L4-LCCS-Map"), "cci_lccs"),
    (BIOMASS_NAME, "cci_biomass"),
    (re.compile(r"texture\.class_usda.*\.tiff?$", re.IGNORECASE), "soil_texture"),
    (re.compile(r"\.csv$", re.IGNORECASE), "fluxnet_csv"),
    (re.compile(r"_(Met|Flux)\.nc$"), "plumber"),
)
_S5P_NAME = re.compile(r"^S5P_(?:OFFL|NRTI|RPRO|PAL_)_(?P<short>L2\w{8})_")

# stream -> (FLUXNET CSV candidates (column, QC column or None), PLUMBER2 (variable, QC)).
TOWER_STREAMS: dict[str, tuple[tuple[tuple[str, str | None], ...], tuple[str, str]]] = {
    "nee": ((("NEE_VUT_REF", "NEE_VUT_REF_QC"),), ("NEE", "NEE_qc")),
    "gpp": ((("GPP_NT_VUT_REF", "NEE_VUT_REF_QC"),), ("GPP", "NEE_qc")),
    "reco": ((("RECO_NT_VUT_REF", "NEE_VUT_REF_QC"),), ("Resp", "NEE_qc")),
    "le": ((("LE_F_MDS", "LE_F_MDS_QC"),), ("Qle", "Qle_qc")),
    "h": ((("H_F_MDS", "H_F_MDS_QC"),), ("Qh", "Qh_qc")),
    "ta": ((("TA_F", "TA_F_QC"), ("TA_ERA", None)), ("Tair", "Tair_qc")),
    "sw_in": ((("SW_IN_F", "SW_IN_F_QC"), ("SW_IN_ERA", None)), ("SWdown", "SWdown_qc")),
    "lw_in": ((("LW_IN_F", "LW_IN_F_QC"), ("LW_IN_ERA", None)), ("LWdown", "LWdown_qc")),
    "vpd": ((("VPD_F", "VPD_F_QC"), ("VPD_ERA", None)), ("VPD", "VPD_qc")),
    "pa": ((("PA_F", "PA_F_QC"), ("PA_ERA", None)), ("Psurf", "Psurf_qc")),
    "p": ((("P_F", "P_F_QC"), ("P_ERA", None)), ("Precip", "Precip_qc")),
    "ws": ((("WS_F", "WS_F_QC"), ("WS_ERA", None)), ("Wind", "Wind_qc")),
    "co2": ((("CO2_F_MDS", "CO2_F_MDS_QC"),), ("CO2air", "CO2air_qc")),
}


def detect_product(path: str | Path) -> str:
    """The product key (one of :data:`PRODUCTS`) of a file, from its name or content.

    Raises
    ------
    TccasInputError
        If the file is missing or empty, is another Sentinel-5P product, or is not
        recognised (the message lists what was looked for).
    """
    path = Path(path)
    if not path.is_file():
        raise TccasInputError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise TccasInputError(f"{path}: the file is empty (0 bytes)")
    s5p = _S5P_NAME.match(path.name)
    if s5p and "SIF" not in s5p["short"]:
        raise _unsupported_s5p(path, s5p["short"])
    for pattern, product in _NAME_RULES:
        if pattern.search(path.name):
            return product
    if path.suffix.lower() in (".tif", ".tiff"):
        raise TccasInputError(f"{path}: GeoTIFF not recognised: the GeoTIFF products are "
                              "CCI Biomass, named <TILE>_ESACCI-BIOMASS-L4-AGB-MERGED-...tif, "
                              "and the OpenLandMap soil texture class, named "
                              "sol_texture.class_usda...tif")
    return _detect_netcdf(path)


def inspect_file(path: str | Path) -> dict:
    """Detect the product of a file and summarise it (see the module docstring).

    Returns
    -------
    dict
        ``file``, ``product``, ``time_start``, ``time_end`` (ISO 8601 to the second, or
        to the microsecond when the time has a fraction), ``n_records``, ``streams``
        (``{stream: {"n_valid": int, "n_after_qc": int}}``) and ``details``.

    Raises
    ------
    TccasInputError
        Naming the file, for any file that cannot be recognised or read.
    """
    path = Path(path)
    product = detect_product(path)
    summarise: Callable[[Path], dict] = _SUMMARISERS[product]
    try:
        summary = summarise(path)
    except TccasInputError:
        raise
    except (OSError, RuntimeError, ValueError, zipfile.BadZipFile) as err:
        raise TccasInputError(f"{path}: cannot be read as {PRODUCTS[product]} "
                              f"({type(err).__name__}: {err})") from err
    for key in ("time_start", "time_end"):
        if summary[key] is not None:
            summary[key] = iso_time(np.datetime64(summary[key], "us"))
    return {"file": path.name, "product": PRODUCTS[product], **summary}


def format_summary(summary: dict) -> str:
    """Human-readable text of an :func:`inspect_file` summary."""
    lines = [
        f"file:     {summary['file']}",
        f"product:  {summary['product']}",
        f"time:     {summary['time_start']} .. {summary['time_end']}",
        f"records:  {summary['n_records']}",
        f"{'stream':14s} {'n_valid':>12s} {'n_after_qc':>12s}",
    ]
    for stream, counts in summary["streams"].items():
        lines.append(f"{stream:14s} {counts['n_valid']:12d} {counts['n_after_qc']:12d}")
    return "\n".join(lines)


def summary_json(summary: dict) -> str:
    """One-line JSON text of a summary (numpy scalars and tuples made plain)."""
    return json.dumps(summary, default=_plain)


# --------------------------------------------------------------------------- detection
def _detect_netcdf(path: Path) -> str:
    """Recognise a netCDF product by its groups and variables."""
    with open_product(path) as nc:
        if "PRODUCT" in nc.groups:
            if "SIF_743" in nc["PRODUCT"].variables:
                return "troposif"
            description = nc.groups.get("METADATA")
            granule = None if description is None else description.groups.get(
                "GRANULE_DESCRIPTION")
            short = ("" if granule is None or "ProductShortName" not in granule.ncattrs()
                     else str(granule.getncattr("ProductShortName")))
            raise _unsupported_s5p(path, short or "unknown")
        names = set(nc.variables)
        dims = set(nc.dimensions)
    tip = TipVariables()
    rules = (
        ({"Soil_Moisture", "Grid_Point_ID"}, "smos_l2"),
        ({"Soil_Moisture", "Quality_Flag"}, "smos_ic"),
        ({"TREES-BE"}, "cci_landcover"),
        ({"lccs_class"}, "cci_lccs"),
        ({"agb"}, "cci_biomass"),
        ({tip.fapar, tip.fapar_sigma}, "jrc_tip"),
    )
    for required, product in rules:
        if required <= names:
            return product
    if {"x", "y"} <= dims and names & {"Tair", "NEE"}:
        return "plumber"
    if {"latitude", "longitude"} <= dims and names & set(ERA5_VARIABLES):
        return "era5"
    if {"latitude", "longitude"} <= dims and GEOPOTENTIAL in names:
        return "era5_geopotential"
    raise TccasInputError(f"{path}: not a product tccas inspect recognises "
                          f"({', '.join(PRODUCTS.values())}); its variables are "
                          f"{', '.join(sorted(names)[:12]) or 'none'}")


def _unsupported_s5p(path: Path, short_name: str) -> TccasInputError:
    return TccasInputError(f"{path}: Sentinel-5P product {short_name!r} is not supported "
                           "(of Sentinel-5P, tccas reads TROPOSIF SIF only)")


# --------------------------------------------------------------------------- summaries
def _gridded(inspect: Callable[[Path], dict]) -> Callable[[Path], dict]:
    """Summary from one of the gridded readers' inspect dicts (already in the shape)."""

    def summarise(path: Path) -> dict:
        details = inspect(path)
        keys = ("time_start", "time_end", "n_records", "streams")
        return {**{key: details[key] for key in keys},
                "details": {k: v for k, v in details.items() if k not in (*keys, "file")}}

    return summarise


def _troposif(path: Path) -> dict:
    details = inspect_troposif(path)
    streams = {s: details[s] for s in ("sif743", "sif735")}
    start, end = _span(streams, details["time_coverage_start"], details["time_coverage_end"])
    return {
        "time_start": start, "time_end": end, "n_records": details["n_soundings"],
        "streams": {s: {"n_valid": v["n_valid"], "n_after_qc": v["n_passed_qc"]}
                    for s, v in streams.items()},
        "details": details,
    }


def _smos_l2(path: Path) -> dict:
    details = inspect_smos(path)
    streams = {s: details[s] for s in ("sm_surface", "vod")}
    start, end = _span(streams, details["validity_start"], details["validity_stop"])
    return {
        "time_start": start, "time_end": end, "n_records": details["n_grid_points"],
        "streams": {s: {"n_valid": v["n_retrievals"], "n_after_qc": v["n_passed_qc"]}
                    for s, v in streams.items()},
        "details": details,
    }


def _era5(path: Path) -> dict:
    ds = open_era5(path)
    times = ds["valid_time"].values
    cells = int(np.prod([ds.sizes[d] for d in ("latitude", "longitude") if d in ds.sizes]))
    streams = {}
    for name in sorted(map(str, ds.data_vars)):
        valid = int(np.isfinite(ds[name].values).sum())
        streams[name] = {"n_valid": valid, "n_after_qc": valid}
    return {
        "time_start": _iso(times.min()) if times.size else None,
        "time_end": _iso(times.max()) if times.size else None,
        "n_records": int(times.size * cells),
        "streams": streams,
        "details": {"n_times": int(times.size), "n_cells": cells,
                    "accumulation_convention": ds.attrs.get("accumulation_convention", "")},
    }


def _era5_geopotential(path: Path) -> dict:
    elevation = open_era5_geopotential(path).values
    cells = int(elevation.size)
    return {
        "time_start": None, "time_end": None, "n_records": cells,
        "streams": {GEOPOTENTIAL: {"n_valid": cells, "n_after_qc": cells}},
        "details": {"n_cells": cells, "elevation_min_m": float(elevation.min()),
                    "elevation_max_m": float(elevation.max()),
                    "elevation_mean_m": float(elevation.mean())},
    }


def _fluxnet_csv(path: Path) -> dict:
    frame = read_fullset(path)
    sub_daily = frame.attrs["resolution"] in ("HH", "HR")
    streams = {}
    for stream, (candidates, _) in TOWER_STREAMS.items():
        column, qc = next(((c, q) for c, q in candidates if c in frame.columns), (None, None))
        if column is None:
            continue
        valid = frame[column].notna().to_numpy()
        quality = None if qc is None or qc not in frame.columns else frame[qc].to_numpy(float)
        streams[stream] = _tower_counts(valid, quality, sub_daily)
    if not streams:
        wanted = [column for csv, _ in TOWER_STREAMS.values() for column, _ in csv]
        raise TccasInputError(f"{path}: no FLUXNET flux or meteorology column found "
                              f"(looked for {', '.join(wanted)})")
    times = frame.index
    return {
        "time_start": _iso(times.min()) if times.size else None,
        "time_end": _iso(times.max()) if times.size else None,
        "n_records": len(frame),
        "streams": streams,
        "details": {"resolution": frame.attrs["resolution"],
                    "time_zone": frame.attrs["time_zone"],
                    "columns": {stream: next(c for c, _ in TOWER_STREAMS[stream][0]
                                             if c in frame.columns) for stream in streams}},
    }


def _plumber(path: Path) -> dict:
    with xr.open_dataset(path) as opened:
        ds = opened.load()
    if "time" not in ds.dims:
        raise TccasInputError(f"{path}: not a PLUMBER2 file: no 'time' dimension")
    streams = {}
    for stream, (_, (name, qc)) in TOWER_STREAMS.items():
        if name not in ds.variables:
            continue
        valid = np.isfinite(ds[name].values.reshape(-1))
        quality = ds[qc].values.reshape(-1).astype(float) if qc in ds.variables else None
        streams[stream] = _tower_counts(valid, quality, sub_daily=True)
    times = ds["time"].values
    return {
        "time_start": _iso(times.min()) if times.size else None,
        "time_end": _iso(times.max()) if times.size else None,
        "n_records": int(times.size),
        "streams": streams,
        "details": {"site_code": str(ds.attrs.get("site_code", "")),
                    "time_zone": "local standard time"},
    }


def _tower_counts(valid: np.ndarray, quality: np.ndarray | None, sub_daily: bool) -> dict:
    """n_valid and n_after_qc of one tower column under the QC rules of the docstring."""
    if quality is None:
        good = valid
    elif sub_daily:
        good = valid & (quality <= GOOD_QC_MAX)
    else:
        good = valid & (quality >= AGGREGATED_GOOD_FRACTION)
    return {"n_valid": int(valid.sum()), "n_after_qc": int(good.sum())}


_SUMMARISERS: dict[str, Callable[[Path], dict]] = {
    "troposif": _troposif,
    "smos_l2": _smos_l2,
    "smos_ic": _gridded(inspect_smos_ic),
    "jrc_tip": _gridded(inspect_jrc_tip),
    "cci_landcover": _gridded(inspect_cci_landcover),
    "cci_lccs": _gridded(inspect_lccs_map),
    "cci_biomass": _gridded(inspect_cci_biomass),
    "era5": _era5,
    "era5_geopotential": _era5_geopotential,
    "soil_texture": _gridded(inspect_soil_texture),
    "fluxnet_csv": _fluxnet_csv,
    "plumber": _plumber,
}


# ----------------------------------------------------------------------------- helpers
def _span(streams: dict[str, dict], start: str | None, end: str | None
          ) -> tuple[str | None, str | None]:
    """Earliest and latest record time over streams, else the header's period."""
    mins = [s["time_min"] for s in streams.values() if s["time_min"] is not None]
    maxs = [s["time_max"] for s in streams.values() if s["time_max"] is not None]
    return (min(mins) if mins else start), (max(maxs) if maxs else end)


def _iso(time: np.datetime64 | pd.Timestamp) -> str:
    """ISO 8601 text of a (naive) time (:func:`tccas.catalog.gridded.iso_time`)."""
    return iso_time(np.datetime64(time, "us"))


def _plain(value: object) -> object:
    """JSON fallback: numpy scalars as Python numbers, anything else as text."""
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
