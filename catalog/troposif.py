"""Reader for TROPOMI SIF (TROPOSIF, ESA S5P Innovation / S5P-PAL) L2B daily and L2 orbit files.

Both file types are netCDF-4 with ungridded soundings over one dimension ``n_elem`` and the
variables in groups (EO_FORMATS.md section 1.2, sources [S1][S3][S5][S6]):

* ``/PRODUCT``: ``latitude``, ``longitude``, ``time`` (1), ``delta_time``, ``SIF_743``,
  ``SIF_735``, ``SIF_ERROR_743``, ``SIF_ERROR_735`` (and ``SIF_Corr_*``);
* ``/PRODUCT/SUPPORT_DATA/GEOLOCATIONS``: ``latitude_bounds``, ``longitude_bounds``
  (n_elem, 4), ``solar_zenith_angle``, ``viewing_zenith_angle`` (and ``phase_angle``, the
  azimuths);
* ``/PRODUCT/SUPPORT_DATA/INPUT_DATA``: ``cloud_fraction_L2``;
* ``/PRODUCT/SUPPORT_DATA/DETAILED_RESULTS``: ``QA_value_743``/``QA_value_735`` in the
  per-orbit L2 only (``TOA_RFL``, ``Mean_TOA_RAD_743`` are not read);
* ``/METADATA/ALGORITHM_SETTINGS``: attributes whose names contain spaces, e.g.
  ``"Cloud fraction threshold"``.

A file whose DETAILED_RESULTS group holds ``QA_value_743`` is read as per-orbit L2; any
other TROPOSIF file as L2B, which has no per-sounding quality (it keeps only soundings
that passed the upstream filter, gotcha 2). Streams: ``"sif743"`` (baseline 743-758 nm
window) and ``"sif735"`` (735-758 nm), SIF at 740 nm in mW m-2 sr-1 nm-1, sigma from
``SIF_ERROR_*``. Negative SIF is kept (single soundings are noisy around zero).

Conventions of the reader:

* Fill: a value is missing when it equals ``_FillValue`` or ``missing_value``, is NaN, or
  has ``|x| >= 1e30``; the last catches ``SIF_735`` holding the netCDF default float fill
  9.96921e36 with no ``_FillValue`` attribute (gotcha 3, [S5]). Rows without value,
  sigma (> 0), centre, corners or time are dropped.
* Time: sounding time = ``time`` + ``delta_time``, each decoded with its own units string.
  When ``delta_time`` has units "milliseconds since <reference day>" it is absolute by
  itself and ``time`` is not needed; with bare units ("milliseconds") it is added to the
  decoded ``time`` (``seconds since 2010-01-01``). L2B files span midnight, so each
  sounding keeps its own UTC time, never the file's day (section 1.4).
* Corners are sorted counter-clockwise around the centre in the local east-north plane
  and unwrapped so that ``|corner_longitude - longitude| <= 180`` (dateline-safe, as
  SatelliteGridding.jl does [S7]); see :func:`sort_corners_counterclockwise`.
* Screening (:class:`TroposifScreening`) sets ``qc`` bits and never removes rows.

References
----------
TROPOSIF Product User Manual, Issue 3, NOV-FE-0956-MU-019 (2022) via the CODA definition
[S3]; HARP ``S5P_PAL_L2_SIF`` ingestion [S1][S2]; EO_FORMATS.md section 1 and sources
[S5] (third-party L2B measurements), [S6], [S7].
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
import xarray as xr

from tccas.catalog.gridded import qc_bit_field
from tccas.catalog.observations import (
    FOOTPRINT_CORNERS,
    N_CORNERS,
    build_observations,
    open_product,
    passed_qc,
)
from tccas.model.errors import TccasInputError

PRODUCT = "PRODUCT"
GEOLOCATIONS = "PRODUCT/SUPPORT_DATA/GEOLOCATIONS"
INPUT_DATA = "PRODUCT/SUPPORT_DATA/INPUT_DATA"
DETAILED_RESULTS = "PRODUCT/SUPPORT_DATA/DETAILED_RESULTS"
ALGORITHM_SETTINGS = "METADATA/ALGORITHM_SETTINGS"

SIF_UNITS = "mW m-2 sr-1 nm-1"
TROPOSIF_STREAMS: dict[str, str] = {"sif743": "743", "sif735": "735"}
FILL_LIMIT = 1.0e30

_NS_PER_UNIT: dict[str, int] = {
    **dict.fromkeys(("days", "day", "d"), 86_400_000_000_000),
    **dict.fromkeys(("hours", "hour", "h"), 3_600_000_000_000),
    **dict.fromkeys(("minutes", "minute", "min"), 60_000_000_000),
    **dict.fromkeys(("seconds", "second", "sec", "s"), 1_000_000_000),
    **dict.fromkeys(("milliseconds", "millisecond", "ms"), 1_000_000),
    **dict.fromkeys(("microseconds", "microsecond", "us"), 1_000),
}
_TIME_UNITS = re.compile(r"^\s*([A-Za-z]+)(?:\s+since\s+(.+?))?\s*$")


@dataclass(frozen=True)
class TroposifScreening:
    """Quality-screening thresholds for TROPOSIF soundings.

    The defaults reproduce the upstream L2B selection (``/METADATA/ALGORITHM_SETTINGS`` of
    the real L2B: cloud fraction 0.8, SZA 70, VZA 60, quality level 80 [S5], gotcha 2; the
    quality level is read as ``QA_value >= 0.8``, QA being 0-1 and HARP reporting it x100), so
    that screened per-orbit L2 and L2B agree; on L2B they are no-ops. A stricter cloud cut
    (``max_cloud_fraction=0.2`` keeps about 64 % of L2B soundings, 0.1 about 52 % [S5]) is
    the usual option. ``None`` switches a test off. Bits of ``qc``, in ``QC_MEANINGS``
    order, mark failed tests.

    Attributes
    ----------
    min_qa : per-orbit L2 only: ``QA_value_<window>`` (0-1) must be ``>= min_qa`` [1].
    max_cloud_fraction : ``cloud_fraction_L2`` must be ``<= max_cloud_fraction`` [1].
    max_solar_zenith_deg : ``solar_zenith_angle`` must be ``<=`` this [degree].
    max_viewing_zenith_deg : ``viewing_zenith_angle`` must be ``<=`` this [degree].
    """

    min_qa: float = 0.8
    max_cloud_fraction: float | None = 0.8
    max_solar_zenith_deg: float | None = 70.0
    max_viewing_zenith_deg: float | None = 60.0


QC_MEANINGS = ("QA_VALUE", "CLOUD_FRACTION", "SOLAR_ZENITH", "VIEWING_ZENITH")


def read_troposif(
    path: str | Path, stream: str = "sif743", screening: TroposifScreening | None = None
) -> xr.Dataset:
    """Read a TROPOSIF L2B (daily) or L2 (per-orbit) file into an observation table.

    Parameters
    ----------
    path : the netCDF-4 file.
    stream : ``"sif743"`` or ``"sif735"`` (fitting window of the SIF retrieval).
    screening : quality thresholds; default :class:`TroposifScreening` ().

    Returns
    -------
    xarray.Dataset
        The canonical table (:mod:`tccas.catalog.observations`), ``footprint_model =
        "corners"``, units mW m-2 sr-1 nm-1, with extra variables ``solar_zenith_angle`` and
        ``viewing_zenith_angle`` [degree], ``cloud_fraction`` [1] and, for L2, ``qa_value``
        [1]. Attributes add ``product_level`` (``"L2"`` or ``"L2B"``) and
        ``algorithm_settings`` (JSON of ``/METADATA/ALGORITHM_SETTINGS``).

    Raises
    ------
    TccasInputError
        If the file cannot be read or is not TROPOSIF (the message lists the missing
        variables, e.g. for an S5P CH4 or NO2 file), or a variable has the wrong shape,
        time units or range; the message names the file and the variable.
    """
    if stream not in TROPOSIF_STREAMS:
        raise TccasInputError(f"TROPOSIF stream {stream!r} is unknown; expected one of "
                              f"{', '.join(TROPOSIF_STREAMS)}")
    window = TROPOSIF_STREAMS[stream]
    rules = TroposifScreening() if screening is None else screening
    path = Path(path)
    with open_product(path) as nc:
        variables = _locate(nc, path, window)
        level = "L2" if "qa" in variables else "L2B"
        latitude = _floats(variables["latitude"]).ravel()
        shape = variables["latitude"].shape
        for key, variable in variables.items():
            expected = (*shape, N_CORNERS) if key.endswith("bounds") else shape
            if key != "time" and variable.shape != expected:
                raise TccasInputError(f"{path}: variable '{_path_of(variable)}' has shape "
                                      f"{variable.shape}, expected {expected}")
        longitude = (_floats(variables["longitude"]).ravel() + 180.0) % 360.0 - 180.0
        value = _floats(variables["value"]).ravel()
        sigma = _floats(variables["sigma"]).ravel()
        corner_lat = _floats(variables["latitude_bounds"]).reshape(-1, N_CORNERS)
        corner_lon = _floats(variables["longitude_bounds"]).reshape(-1, N_CORNERS)
        time = _sounding_time(variables, path).ravel()
        ancillary = {
            key: _floats(variables[key]).ravel()
            for key in ("solar_zenith_angle", "viewing_zenith_angle", "cloud_fraction")
        }
        qa = _quality_values(variables["qa"], path) if level == "L2" else None
        settings = _algorithm_settings(nc)
    rows = np.flatnonzero(
        np.isfinite(value) & (sigma > 0) & np.isfinite(latitude) & np.isfinite(longitude)
        & np.isfinite(corner_lat).all(axis=1) & np.isfinite(corner_lon).all(axis=1)
        & ~np.isnat(time)
    )
    corner_lat, corner_lon = sort_corners_counterclockwise(
        corner_lat[rows], corner_lon[rows], latitude[rows], longitude[rows]
    )
    ancillary = {key: values[rows] for key, values in ancillary.items()}
    failed = (
        np.zeros(rows.size, dtype=bool) if qa is None else ~(qa[rows] >= rules.min_qa),
        _above(ancillary["cloud_fraction"], rules.max_cloud_fraction),
        _above(ancillary["solar_zenith_angle"], rules.max_solar_zenith_deg),
        _above(ancillary["viewing_zenith_angle"], rules.max_viewing_zenith_deg),
    )
    qc = qc_bit_field(failed, rows.size)
    extra = {
        "solar_zenith_angle": (ancillary["solar_zenith_angle"], "degree"),
        "viewing_zenith_angle": (ancillary["viewing_zenith_angle"], "degree"),
        "cloud_fraction": (ancillary["cloud_fraction"], "1"),
    }
    if qa is not None:
        extra["qa_value"] = (qa[rows], "1")
    return build_observations(
        stream=stream,
        units=SIF_UNITS,
        source=path.name,
        time=time[rows],
        value=value[rows],
        sigma=sigma[rows],
        qc=qc,
        qc_meanings=QC_MEANINGS,
        latitude=latitude[rows],
        longitude=longitude[rows],
        footprint_model=FOOTPRINT_CORNERS,
        footprint={"corner_latitude": corner_lat, "corner_longitude": corner_lon},
        reader=f"{__name__}.read_troposif",
        qc_thresholds=asdict(rules),
        extra=extra,
        attrs={
            "product": "TROPOSIF",
            "product_level": level,
            "algorithm_settings": json.dumps(settings, sort_keys=True),
        },
    )


def inspect_troposif(path: str | Path) -> dict:
    """Summarise a TROPOSIF file: level, settings, time span and rows per stream.

    Parameters
    ----------
    path : a TROPOSIF L2B or L2 netCDF-4 file.

    Returns
    -------
    dict
        ``file``, ``product_level`` (``"L2"``/``"L2B"``), ``n_soundings`` (length of
        ``n_elem``), ``time_coverage_start``/``time_coverage_end`` and ``orbit`` (global
        attributes, None when absent), ``algorithm_settings`` (dict), and per stream
        (``"sif743"``, ``"sif735"``): ``n_valid`` (rows read), ``n_passed_qc``,
        ``time_min``/``time_max`` (ISO UTC of the soundings, None if no row).

    Raises
    ------
    TccasInputError
        As :func:`read_troposif`.
    """
    path = Path(path)
    streams = {}
    for stream in TROPOSIF_STREAMS:
        table = read_troposif(path, stream)
        times = table["time"].values
        streams[stream] = {
            "n_valid": times.size,
            "n_passed_qc": passed_qc(table).sizes["obs"],
            "time_min": _iso(times.min()) if times.size else None,
            "time_max": _iso(times.max()) if times.size else None,
        }
    with open_product(path) as nc:
        header = {
            "file": path.name,
            "product_level": table.attrs["product_level"],
            "n_soundings": int(nc[PRODUCT]["latitude"].size),
            "time_coverage_start": _plain(_attribute(nc, "time_coverage_start")),
            "time_coverage_end": _plain(_attribute(nc, "time_coverage_end")),
            "orbit": _plain(_attribute(nc, "orbit")),
            "algorithm_settings": _algorithm_settings(nc),
        }
    return {**header, **streams}


def sort_corners_counterclockwise(
    corner_lat: np.ndarray, corner_lon: np.ndarray, lat: np.ndarray, lon: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Order each footprint's corners counter-clockwise and unwrap them around the centre.

    Corner order is product-dependent (EO_FORMATS.md section 1.3), so the corners are sorted
    by their angle around the centre in a local east-north plane (longitude offsets scaled
    by ``cos(lat)``), starting from the first corner counter-clockwise from due west (the
    south-west corner of a north-up pixel). The
    longitude offsets are wrapped to [-180, 180) first, so a pixel across the dateline
    (centre 179.98, corner -179.97) keeps its shape: that corner becomes 180.03.

    Parameters
    ----------
    corner_lat, corner_lon : (n, 4) [degree] corners in any order, longitudes in any
        360-degree convention.
    lat, lon : (n,) [degree] centres.

    Returns
    -------
    tuple of numpy.ndarray
        (n, 4) corner latitudes and unwrapped longitudes [degree], counter-clockwise.
    """
    offset = (corner_lon - lon[:, None] + 180.0) % 360.0 - 180.0
    east = offset * np.cos(np.radians(lat))[:, None]
    north = corner_lat - lat[:, None]
    order = np.argsort(np.arctan2(north, east), axis=1, kind="stable")
    return (
        np.take_along_axis(corner_lat, order, axis=1),
        np.take_along_axis(lon[:, None] + offset, order, axis=1),
    )


def _locate(nc: netCDF4.Dataset, path: Path, window: str) -> dict[str, netCDF4.Variable]:
    """Find the variables the reader needs; raise listing every one that is missing."""
    wanted = {
        "latitude": (PRODUCT, "latitude"),
        "longitude": (PRODUCT, "longitude"),
        "delta_time": (PRODUCT, "delta_time"),
        "value": (PRODUCT, f"SIF_{window}"),
        "sigma": (PRODUCT, f"SIF_ERROR_{window}"),
        "latitude_bounds": (GEOLOCATIONS, "latitude_bounds"),
        "longitude_bounds": (GEOLOCATIONS, "longitude_bounds"),
        "solar_zenith_angle": (GEOLOCATIONS, "solar_zenith_angle"),
        "viewing_zenith_angle": (GEOLOCATIONS, "viewing_zenith_angle"),
        "cloud_fraction": (INPUT_DATA, "cloud_fraction_L2"),
    }
    found = {key: _variable(nc, *where) for key, where in wanted.items()}
    missing = [f"/{group}/{name}" for key, (group, name) in wanted.items() if found[key] is None]
    if missing:
        short_name = _attribute(nc, "ProductShortName", "METADATA/GRANULE_DESCRIPTION")
        kind = "" if short_name is None else f" (its ProductShortName is {short_name!r})"
        raise TccasInputError(f"{path}: not a TROPOSIF SIF file{kind}: missing "
                              f"{', '.join(missing)}")
    time = _variable(nc, PRODUCT, "time")
    if time is not None:
        found["time"] = time
    if _variable(nc, DETAILED_RESULTS, "QA_value_743") is not None:
        qa = _variable(nc, DETAILED_RESULTS, f"QA_value_{window}")
        if qa is None:
            raise TccasInputError(f"{path}: per-orbit L2 file lacks "
                                  f"/{DETAILED_RESULTS}/QA_value_{window}")
        found["qa"] = qa
    return found


def _group(nc: netCDF4.Dataset, path: str) -> netCDF4.Group | None:
    """The group at ``path`` ("" for the root), or None when any part of it is absent."""
    node = nc
    for part in filter(None, path.split("/")):
        if part not in node.groups:
            return None
        node = node.groups[part]
    return node


def _variable(nc: netCDF4.Dataset, group: str, name: str) -> netCDF4.Variable | None:
    """The variable ``/group/name`` or None when the group or the variable is absent."""
    node = _group(nc, group)
    return None if node is None else node.variables.get(name)


def _path_of(variable: netCDF4.Variable) -> str:
    """Full path of a variable in its file, e.g. ``/PRODUCT/SIF_743``."""
    return f"{variable.group().path.rstrip('/')}/{variable.name}"


def _floats(variable: netCDF4.Variable) -> np.ndarray:
    """A raw variable as float64 with fills (declared or ``|x| >= 1e30``) set to NaN and
    ``scale_factor``/``add_offset`` applied."""
    raw = variable[:]
    values = raw.astype(np.float64)
    attrs = variable.ncattrs()
    for key in ("_FillValue", "missing_value"):
        if key in attrs:
            values[np.isin(raw, np.atleast_1d(variable.getncattr(key)))] = np.nan
    values[np.abs(values) >= FILL_LIMIT] = np.nan
    if "scale_factor" in attrs:
        values *= float(variable.getncattr("scale_factor"))
    if "add_offset" in attrs:
        values += float(variable.getncattr("add_offset"))
    return values


def _sounding_time(variables: dict[str, netCDF4.Variable], path: Path) -> np.ndarray:
    """UTC time of every sounding, ``datetime64[ns]`` (NaT where ``delta_time`` is fill)."""
    delta_variable = variables["delta_time"]
    delta, delta_epoch = _decode_time(delta_variable, path)
    if delta_epoch is not None:
        return delta_epoch + delta
    if "time" not in variables:
        raise TccasInputError(f"{path}: '{_path_of(delta_variable)}' has units without an "
                              f"epoch and /{PRODUCT}/time is missing")
    reference, reference_epoch = _decode_time(variables["time"], path)
    if reference_epoch is None or reference.size not in (1, delta.size):
        raise TccasInputError(f"{path}: variable '/{PRODUCT}/time' must be one reference "
                              "time (or one per sounding) with units '<unit> since <epoch>'")
    offset = reference.reshape(-1)[0] if reference.size == 1 else reference.reshape(delta.shape)
    return reference_epoch + offset + delta


def _decode_time(
    variable: netCDF4.Variable, path: Path
) -> tuple[np.ndarray, np.datetime64 | None]:
    """Decode a CF time variable with its own units: (offsets as timedelta64[ns], epoch).

    The epoch is None for bare duration units (``"milliseconds"``). Fill values give NaT.
    """
    units = str(variable.getncattr("units")) if "units" in variable.ncattrs() else ""
    match = _TIME_UNITS.match(units)
    if match is None or match.group(1).lower() not in _NS_PER_UNIT:
        raise TccasInputError(f"{path}: variable '{_path_of(variable)}' has time units "
                              f"{units!r}, expected '<unit> [since <epoch>]'")
    ns_per_unit = _NS_PER_UNIT[match.group(1).lower()]
    epoch = None
    if match.group(2) is not None:
        text = re.sub(r"\s*(UTC|GMT)$", "", match.group(2).strip())
        try:
            stamp = pd.Timestamp(text)
        except ValueError as err:
            raise TccasInputError(f"{path}: variable '{_path_of(variable)}' has an "
                                  f"unreadable epoch in units {units!r}") from err
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        epoch = np.datetime64(stamp.as_unit("ns").to_datetime64(), "ns")
    raw = variable[:]
    values = _floats(variable)
    offsets = np.full(values.shape, np.timedelta64("NaT"), dtype="timedelta64[ns]")
    valid = np.isfinite(values)
    scaled = {"scale_factor", "add_offset"} & set(variable.ncattrs())
    if np.issubdtype(raw.dtype, np.integer) and not scaled:
        offsets[valid] = (raw[valid].astype(np.int64) * ns_per_unit).astype("timedelta64[ns]")
    else:
        offsets[valid] = np.round(values[valid] * ns_per_unit).astype("timedelta64[ns]")
    return offsets, epoch


def _quality_values(variable: netCDF4.Variable, path: Path) -> np.ndarray:
    """``QA_value_*`` as a flat float array, checked to be the 0-1 descriptor of [S1]."""
    qa = _floats(variable).ravel()
    outside = np.isfinite(qa) & ((qa < 0.0) | (qa > 1.0))
    if outside.any():
        raise TccasInputError(f"{path}: variable '{_path_of(variable)}' holds "
                              f"{qa[outside][0]!r}, expected quality values in [0, 1]")
    return qa


def _above(values: np.ndarray, limit: float | None) -> np.ndarray:
    """Rows failing ``values <= limit`` (NaN fails); none when the test is off."""
    if limit is None:
        return np.zeros(values.shape, dtype=bool)
    return ~(values <= limit)


def _algorithm_settings(nc: netCDF4.Dataset) -> dict:
    """Attributes of ``/METADATA/ALGORITHM_SETTINGS`` (names with spaces) as plain values."""
    group = _group(nc, ALGORITHM_SETTINGS)
    if group is None:
        return {}
    return {name: _plain(group.getncattr(name)) for name in group.ncattrs()}


def _attribute(nc: netCDF4.Dataset, name: str, group: str = "") -> object:
    """Attribute ``name`` of the root (or of ``group``), None when absent."""
    node = _group(nc, group)
    return None if node is None or name not in node.ncattrs() else node.getncattr(name)


def _plain(value: object) -> object:
    """A netCDF attribute value as JSON-friendly Python (numbers, str, lists)."""
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size != 1 else value.item()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return value.decode()
    return value


def _iso(time: np.datetime64) -> str:
    """ISO 8601 text of a UTC time to the microsecond."""
    return str(np.datetime_as_string(time, unit="us"))
