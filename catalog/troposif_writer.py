"""Writer of TROPOSIF-format files: L2B (daily) and L2 (per orbit), format only.

Tests use it to make files that :func:`tccas.catalog.troposif.read_troposif` must read; the
synthetic product generator will use it to emit its soundings. It decides nothing about
the values (that is the generator's physics); it only lays them out as the real product
does (EO_FORMATS.md sections 1.2 and 1.7, sources [S3][S5][S6]):

* groups ``/PRODUCT``, ``/PRODUCT/SUPPORT_DATA/{GEOLOCATIONS,INPUT_DATA,DETAILED_RESULTS}``
  and ``/METADATA/ALGORITHM_SETTINGS``; dimensions ``n_elem``, ``ncorner`` = 4,
  ``n_toa_bands`` = 7 (for ``TOA_RFL``; this dimension name is PROPOSED) and ``time`` = 1,
  declared in ``/PRODUCT``;
* ``/PRODUCT/time`` (int32, "seconds since 2010-01-01 00:00:00") = 00:00 UTC of the
  reference day, and ``delta_time`` (int32, "milliseconds since <day> 00:00:00"), the
  sounding time rounded to the millisecond; soundings after midnight have
  ``delta_time`` > 86 400 000 (an L2B file spans midnight);
* ``SIF_735`` is written *without* ``_FillValue`` and holds the netCDF default float fill
  9.96921e36 where it is missing (gotcha 3); every other float variable declares that
  value as ``_FillValue``;
* ``/METADATA/ALGORITHM_SETTINGS`` attributes with spaces in their names
  (:data:`DEFAULT_ALGORITHM_SETTINGS`);
* the per-orbit L2 adds ``QA_value_743``/``QA_value_735`` (0-1) under DETAILED_RESULTS,
  the azimuth angles under GEOLOCATIONS and the global attribute ``orbit``.

Sounding variables are given by their product names (``SIF_743``, ``latitude_bounds``,
``cloud_fraction_L2``, ...) plus ``time`` (datetime64, UTC, one per sounding); NaN means
missing. Optional variables that are not given are written as all fill, so the layout is
always complete.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import netCDF4
import numpy as np
import xarray as xr

from tccas.catalog.troposif import (
    ALGORITHM_SETTINGS,
    DETAILED_RESULTS,
    GEOLOCATIONS,
    INPUT_DATA,
    PRODUCT,
    SIF_UNITS,
)
from tccas.model.errors import TccasInputError

TIME_UNITS = "seconds since 2010-01-01 00:00:00"
TIME_EPOCH = np.datetime64("2010-01-01T00:00:00", "ns")
NETCDF_FLOAT_FILL = float(netCDF4.default_fillvals["f4"])  # 9.969209968386869e36
LC_MASK_FILL = 255
N_TOA_BANDS = 7

# /METADATA/ALGORITHM_SETTINGS of the real L2B: the filter thresholds are those measured
# by [S5] (M), the fitting windows and reference wavelength those of section 1.1 (H).
DEFAULT_ALGORITHM_SETTINGS: dict[str, float | str] = {
    "Cloud fraction threshold": 0.8,
    "SZA threshold": 70.0,
    "VZA threshold": 60.0,
    "Quality level threshold": 80.0,
    "SIF reference wavelength (nm)": 740.0,
    "Fitting window win-743 nm (nm)": "743-758",
    "Fitting window win-735 nm (nm)": "735-758",
}


@dataclass(frozen=True)
class _Field:
    """One sounding variable of the layout."""

    group: str
    name: str
    units: str
    shape: str = "n"  # "n", "corners" (n, 4) or "toa" (n, 7)
    required: bool = False
    level: str = "both"  # "both" or "L2" (per-orbit only)
    dtype: str = "f4"


_FIELDS = (
    _Field(PRODUCT, "latitude", "degrees_north", required=True),
    _Field(PRODUCT, "longitude", "degrees_east", required=True),
    _Field(PRODUCT, "SIF_743", SIF_UNITS, required=True),
    _Field(PRODUCT, "SIF_735", SIF_UNITS, required=True),
    _Field(PRODUCT, "SIF_ERROR_743", SIF_UNITS, required=True),
    _Field(PRODUCT, "SIF_ERROR_735", SIF_UNITS, required=True),
    _Field(PRODUCT, "SIF_Corr_743", SIF_UNITS),
    _Field(PRODUCT, "SIF_Corr_735", SIF_UNITS),
    _Field(GEOLOCATIONS, "latitude_bounds", "degrees_north", "corners", required=True),
    _Field(GEOLOCATIONS, "longitude_bounds", "degrees_east", "corners", required=True),
    _Field(GEOLOCATIONS, "solar_zenith_angle", "degree", required=True),
    _Field(GEOLOCATIONS, "viewing_zenith_angle", "degree", required=True),
    _Field(GEOLOCATIONS, "phase_angle", "degree"),
    _Field(GEOLOCATIONS, "solar_azimuth_angle", "degree", level="L2"),
    _Field(GEOLOCATIONS, "viewing_azimuth_angle", "degree", level="L2"),
    _Field(INPUT_DATA, "cloud_fraction_L2", "1", required=True),
    _Field(INPUT_DATA, "LC_MASK", "1", dtype="u1"),
    _Field(DETAILED_RESULTS, "TOA_RFL", "1", "toa"),
    _Field(DETAILED_RESULTS, "Mean_TOA_RAD_743", SIF_UNITS),
    _Field(DETAILED_RESULTS, "QA_value_743", "1", required=True, level="L2"),
    _Field(DETAILED_RESULTS, "QA_value_735", "1", required=True, level="L2"),
)
_DIMS = {"n": ("n_elem",), "corners": ("n_elem", "ncorner"), "toa": ("n_elem", "n_toa_bands")}


def write_troposif_l2b(
    path: str | Path,
    soundings: Mapping[str, np.ndarray] | xr.Dataset,
    day: dt.date,
    settings: Mapping[str, float | str] | None = None,
    *,
    sif735_fill_fraction: float = 0.003,
) -> Path:
    """Write a TROPOSIF L2B (daily) file.

    Parameters
    ----------
    path : the file to create (overwritten).
    soundings : per-sounding arrays by product name (see the module docstring); required
        ``time`` (datetime64, UTC), ``latitude``, ``longitude`` [degree], ``SIF_743``,
        ``SIF_735``, ``SIF_ERROR_743``, ``SIF_ERROR_735`` [mW m-2 sr-1 nm-1],
        ``latitude_bounds``, ``longitude_bounds`` (n, 4) [degree], ``solar_zenith_angle``,
        ``viewing_zenith_angle`` [degree], ``cloud_fraction_L2`` [1]; optional
        ``SIF_Corr_*``, ``phase_angle``, ``LC_MASK`` (IGBP class), ``TOA_RFL`` (n, 7),
        ``Mean_TOA_RAD_743``.
    day : the reference day: ``time`` is its 00:00 UTC and ``delta_time`` counts from it.
    settings : ``/METADATA/ALGORITHM_SETTINGS`` attributes, merged over
        :data:`DEFAULT_ALGORITHM_SETTINGS`.
    sif735_fill_fraction : fraction of soundings whose ``SIF_735`` is replaced by the
        undeclared default fill, evenly spread over the file (about 0.3 % in the real
        product [S5]); NaN inputs are written as that fill too.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    TccasInputError
        If a required variable is missing or an array has the wrong shape.
    """
    return _write(Path(path), soundings, day, settings, "L2B", None, sif735_fill_fraction)


def write_troposif_l2(
    path: str | Path,
    soundings: Mapping[str, np.ndarray] | xr.Dataset,
    day: dt.date,
    orbit: int,
    settings: Mapping[str, float | str] | None = None,
    *,
    sif735_fill_fraction: float = 0.003,
) -> Path:
    """Write a TROPOSIF L2 per-orbit file: the L2B layout plus quality values.

    Parameters
    ----------
    path, soundings, day, settings, sif735_fill_fraction : as :func:`write_troposif_l2b`;
        ``soundings`` must also hold ``QA_value_743`` and ``QA_value_735`` [0-1] and may
        hold ``solar_azimuth_angle``, ``viewing_azimuth_angle`` [degree].
    orbit : absolute orbit number (global attribute ``orbit``).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    TccasInputError
        If a required variable is missing or an array has the wrong shape.
    """
    return _write(Path(path), soundings, day, settings, "L2", orbit, sif735_fill_fraction)


def _write(
    path: Path,
    soundings: Mapping[str, np.ndarray] | xr.Dataset,
    day: dt.date,
    settings: Mapping[str, float | str] | None,
    level: str,
    orbit: int | None,
    sif735_fill_fraction: float,
) -> Path:
    """Check the soundings against the layout of ``level`` and write the file."""
    arrays = {name: np.asarray(soundings[name]) for name in soundings}
    fields = [f for f in _FIELDS if f.level in ("both", level)]
    missing = [f.name for f in fields if f.required and f.name not in arrays]
    missing += [] if "time" in arrays else ["time"]
    if missing:
        raise TccasInputError(f"TROPOSIF {level} writer ({path}): soundings lack "
                              f"{', '.join(missing)}")
    n = arrays["latitude"].size
    expected = {"n": (n,), "corners": (n, 4), "toa": (n, N_TOA_BANDS)}
    for field in fields:
        if field.name in arrays and arrays[field.name].shape != expected[field.shape]:
            raise TccasInputError(f"TROPOSIF {level} writer ({path}): '{field.name}' has "
                                  f"shape {arrays[field.name].shape}, expected "
                                  f"{expected[field.shape]}")
    time = arrays["time"]
    day_start = np.datetime64(day, "D").astype("datetime64[ns]")
    if time.dtype.kind != "M" or time.shape != (n,) or np.isnat(time).any():
        raise TccasInputError(f"TROPOSIF {level} writer ({path}): 'time' must hold one "
                              "datetime64 (UTC) per sounding")
    since_day = (time.astype("datetime64[ns]") - day_start).astype(np.int64)
    delta_ms = np.floor_divide(since_day + 500_000, 1_000_000)
    if np.abs(delta_ms).max(initial=0) >= 2**31:
        raise TccasInputError(f"TROPOSIF {level} writer ({path}): 'time' must lie within "
                              f"24 days of {day} (int32 milliseconds)")
    if not 0.0 <= sif735_fill_fraction <= 1.0:
        raise TccasInputError(f"TROPOSIF {level} writer ({path}): sif735_fill_fraction "
                              f"{sif735_fill_fraction} is not in [0, 1]")
    sif735 = np.where(np.isfinite(arrays["SIF_735"]), arrays["SIF_735"], NETCDF_FLOAT_FILL)
    n_fill = round(sif735_fill_fraction * n)
    sif735[np.linspace(0, n - 1, n_fill).round().astype(int)] = NETCDF_FLOAT_FILL
    arrays["SIF_735"] = sif735

    times = time.astype("datetime64[s]")
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        nc.setncatts({
            "Conventions": "CF-1.7",
            "title": f"TROPOSIF {level} solar-induced fluorescence (TCCAS format writer)",
            "time_coverage_start": f"{times.min()}Z" if n else f"{day}T00:00:00Z",
            "time_coverage_end": f"{times.max()}Z" if n else f"{day}T00:00:00Z",
            "processor_version": "tccas",
            **({} if orbit is None else {"orbit": np.int32(orbit)}),
        })
        product = nc.createGroup(PRODUCT)
        product.createDimension("time", 1)
        product.createDimension("n_elem", n)
        product.createDimension("ncorner", 4)
        product.createDimension("n_toa_bands", N_TOA_BANDS)
        reference = product.createVariable("time", "i4", ("time",))
        reference.units = TIME_UNITS
        reference[:] = (day_start - TIME_EPOCH) // np.timedelta64(1, "s")
        delta = product.createVariable("delta_time", "i4", ("n_elem",))
        delta.units = f"milliseconds since {day:%Y-%m-%d} 00:00:00"
        delta[:] = delta_ms
        for field in fields:
            group = nc.createGroup(field.group)
            fill = LC_MASK_FILL if field.dtype == "u1" else NETCDF_FLOAT_FILL
            variable = group.createVariable(
                field.name, field.dtype, _DIMS[field.shape],
                fill_value=False if field.name == "SIF_735" else fill,
            )
            variable.units = field.units
            values = arrays.get(field.name, np.full(expected[field.shape], np.nan))
            variable[:] = np.where(np.isfinite(values), values, fill)
        metadata = nc.createGroup(ALGORITHM_SETTINGS)
        metadata.setncatts({**DEFAULT_ALGORITHM_SETTINGS, **(settings or {})})
    return path
