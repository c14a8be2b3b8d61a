"""Reader for ESA SMOS Level-2 soil-moisture user products (MIR_SMUDP2, netCDF, v700).

It turns one half-orbit granule into canonical observation tables
(:mod:`tccas.catalog.observations`) for two streams:

* ``"sm_surface"``: ``Soil_Moisture`` [m3 m-3], sigma ``Soil_Moisture_DQX``;
* ``"vod"``: nadir vegetation optical depth ``Optical_Thickness_Nad`` (nepers in the
  product, dimensionless: units ``"1"``), sigma ``Optical_Thickness_Nad_DQX``.

Rows are the *land retrievals* of the granule: grid points where ``Soil_Moisture`` was
retrieved and the stream's value and sigma are present (sigma > 0), with a position, a
time and a footprint. The optical depth that the processor also returns over open water,
snow and frozen scenes without a soil-moisture retrieval (the dielectric-constant branches;
on the real 2023-04-01 granules mostly sea) is not a vegetation optical depth and is left
out. Screening never removes rows: it sets bits of ``qc`` (see :class:`SmosScreening`).

Format traps handled here (EO_FORMATS.md gotcha 6, measured on the real files [M1]):

* the file is read raw (netCDF4 with automatic masking and scaling off, equivalent to
  xarray's ``mask_and_scale=False, decode_timedelta=False``), because the flag, count and
  probability variables declare ``_FillValue = 0`` although 0 is a legal value (no flag
  set, RFI probability 0, midnight in ``Seconds``), and ``Days`` has ``units = "days"``;
* float fields use ``_FillValue = -999`` (``Altitude`` -99999), replaced by NaN;
* scaled integers carry ``scale_factor`` with ``scale_offset`` (not CF ``add_offset``);
* ``Science_Flags:flag_masks`` is int16 and overflows from bit 15 on, so bit positions
  come from the *index* of the name in ``flag_meanings`` whenever the masks are not a
  set of distinct positive powers of two;
* time = 2000-01-01T00:00 UTC (the Earth Explorer MJD2000 epoch; the file states no epoch
  attribute) + ``Days`` + ``Seconds`` + ``Microseconds``; checked against the granule's
  ``FH:Validity_Period`` (Days 8491 decodes to 2023-04-01, the validity date of [M1]).

Footprint: the L2 product has no ellipse per observation, only ``AFP`` [km], SMOS-Box's
"mean surface of the antenna footprint ellipses" [M4], 20-27 km on the real granules. It
is taken as the *radius* of an equivalent circular footprint (``footprint_model =
"circle_afp"``): semi-major = semi-minor = AFP, orientation 0 (undefined for a circle).
Radius rather than diameter because AFP matches the L1C 3 dB semi-axes
(``Footprint_Axis1/2``, 20-35 km [M4]) and a 40-55 km diameter matches the 30-50 km SMOS
resolution [M5]. ``X_Swath`` (signed distance from the ground track [km]) and the DGG
``Grid_Point_ID`` are kept per row.

References
----------
EO_FORMATS.md section 2.3 and sources [M1] (the real xcube-smos test granules), [M4]
(SMOS-Box ``BandInfoRegistry``: AFP, DQX and flag meanings), [M5] (CMR C1214560179-ESA).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import netCDF4
import numpy as np
import xarray as xr

from tccas.catalog.gridded import screened_table
from tccas.catalog.observations import (
    FOOTPRINT_CIRCLE_AFP,
    open_product,
    passed_qc,
)
from tccas.model.errors import TccasInputError

SMOS_EPOCH = np.datetime64("2000-01-01T00:00:00", "ns")
PRODUCT_TYPE = "MIR_SMUDP2"
# A grid point's time may lie this far outside the granule's validity period (its stated
# start and stop are rounded to the second).
VALIDITY_TOLERANCE = np.timedelta64(60, "s")


@dataclass(frozen=True)
class SmosStream:
    """Which product variables make one observation stream."""

    variable: str
    sigma_variable: str
    units: str


SMOS_STREAMS: dict[str, SmosStream] = {
    "sm_surface": SmosStream("Soil_Moisture", "Soil_Moisture_DQX", "m3 m-3"),
    "vod": SmosStream("Optical_Thickness_Nad", "Optical_Thickness_Nad_DQX", "1"),
}


@dataclass(frozen=True)
class SmosScreening:
    """Quality-screening thresholds for one SMOS L2 stream.

    A row passes (``qc == 0``) when every test below holds; each failed test sets its bit
    (``QC_MEANINGS``, in this order). The community recipe of EO_FORMATS.md section 2.3 (M)
    gives ranges; the defaults (:data:`DEFAULT_SCREENING`) take its permissive end, and
    the VOD-only values are PROPOSED. On the real descending granule the defaults pass 497
    of 1650 soil-moisture and 219 of 1190 VOD retrievals.

    Attributes
    ----------
    value_min, value_max : value must lie in ``[value_min, value_max]`` [stream units];
        soil moisture [0, 0.6] m3 m-3 (recipe); VOD [0, 1.5] (PROPOSED: L-band optical
        depth of dense forest stays near or below 1.2; the land retrievals of the
        descending granule reach 0.79).
    max_sigma : DQX must be ``< max_sigma``; 0.06 m3 m-3 for soil moisture (recipe
        0.04-0.06; 0.04 would drop half of the Iberian retrievals, whose median DQX is
        0.040); 0.2 for VOD (PROPOSED, above the 0.17 95th percentile of [M1]).
    max_rfi_prob : ``RFI_Prob`` must be ``< max_rfi_prob``; 0.2 (recipe 0.1-0.2; the
        Iberian median is 0.14).
    min_chi2_p : ``Chi_2_P`` (probability of the retrieval fit's chi-square) must be
        ``> min_chi2_p``; 0.05 (recipe).
    science_flags : ``Science_Flags`` names that reject a row when set: frost, snow, ice,
        strong and moderate topography and open water above the processor's threshold
        (recipe).
    confidence_flags : ``Confidence_Flags`` names that reject a row when set: no product,
        retrieved value out of range, DQX too large (recipe).
    """

    value_min: float
    value_max: float
    max_sigma: float
    max_rfi_prob: float = 0.2
    min_chi2_p: float = 0.05
    science_flags: tuple[str, ...] = (
        "FL_FROST", "FL_SNOW_MIX", "FL_SNOW_WET", "FL_SNOW_DRY", "FL_ICE",
        "FL_TOPO_S", "FL_TOPO_M", "FL_OW",
    )
    confidence_flags: tuple[str, ...] = ("FL_NO_PROD", "FL_RANGE", "FL_DQX")


DEFAULT_SCREENING: dict[str, SmosScreening] = {
    "sm_surface": SmosScreening(value_min=0.0, value_max=0.6, max_sigma=0.06),
    "vod": SmosScreening(value_min=0.0, value_max=1.5, max_sigma=0.2),
}

QC_MEANINGS = (
    "VALUE_RANGE", "SIGMA_TOO_LARGE", "RFI_PROBABILITY", "CHI2_PROBABILITY",
    "SCIENCE_FLAGS", "CONFIDENCE_FLAGS",
)

_REQUIRED = (
    "Soil_Moisture", "Latitude", "Longitude", "Days", "Seconds", "Microseconds", "AFP",
    "X_Swath", "Grid_Point_ID", "RFI_Prob", "Chi_2_P", "Science_Flags", "Confidence_Flags",
)


def read_smos_l2sm(
    path: str | Path, stream: str, screening: SmosScreening | None = None
) -> xr.Dataset:
    """Read one SMOS L2 SM granule into a canonical observation table.

    Parameters
    ----------
    path : a ``SM_*_MIR_SMUDP2_*.nc`` file.
    stream : ``"sm_surface"`` or ``"vod"`` (see :data:`SMOS_STREAMS`).
    screening : quality thresholds; default ``DEFAULT_SCREENING[stream]``.

    Returns
    -------
    xarray.Dataset
        The canonical table (:mod:`tccas.catalog.observations`) with ``footprint_model =
        "circle_afp"`` and the extra variables ``x_swath_km`` [km] and ``grid_point_id``
        (DGG ISEA 4H9 id). Attributes add ``product`` and ``orbit_direction`` (``"A"``/``"D"``).

    Raises
    ------
    TccasInputError
        If the file cannot be read, is not a MIR_SMUDP2 product, lacks a variable, has a
        flag name missing from ``flag_meanings``, or decodes to times outside its validity
        period; the message names the file and the variable.
    """
    if stream not in SMOS_STREAMS:
        raise TccasInputError(f"SMOS stream {stream!r} is unknown; expected one of "
                              f"{', '.join(SMOS_STREAMS)}")
    spec = SMOS_STREAMS[stream]
    rules = DEFAULT_SCREENING[stream] if screening is None else screening
    path = Path(path)
    with open_product(path) as nc:
        _check_product(nc, path, (*_REQUIRED, spec.variable, spec.sigma_variable))
        retrieved = np.isfinite(_floats(nc["Soil_Moisture"]))
        value = _floats(nc[spec.variable])
        sigma = _floats(nc[spec.sigma_variable])
        latitude = _floats(nc["Latitude"])
        longitude = _floats(nc["Longitude"])
        afp = _floats(nc["AFP"])
        days = nc["Days"][:].astype(np.int64)
        rows = np.flatnonzero(
            retrieved & np.isfinite(value) & (sigma > 0) & np.isfinite(latitude)
            & np.isfinite(longitude) & (afp > 0) & (days > 0)
        )
        # whole-variable reads, then numpy indexing: netCDF4 index-array reads are slow
        seconds = nc["Seconds"][:][rows].astype(np.int64)
        microseconds = nc["Microseconds"][:][rows].astype(np.int64)
        nanoseconds = ((days[rows] * 86_400 + seconds) * 1_000_000 + microseconds) * 1_000
        time = SMOS_EPOCH + nanoseconds.astype("timedelta64[ns]")
        _check_validity(nc, path, time)
        rfi_prob = _scaled(nc["RFI_Prob"])[rows]
        chi2_p = _scaled(nc["Chi_2_P"])[rows]
        science = nc["Science_Flags"][:][rows].astype(np.uint64)
        confidence = nc["Confidence_Flags"][:][rows].astype(np.uint64)
        science_mask = _flag_mask(nc["Science_Flags"], rules.science_flags, path)
        confidence_mask = _flag_mask(nc["Confidence_Flags"], rules.confidence_flags, path)
        x_swath = _scaled(nc["X_Swath"])[rows]
        grid_point_id = nc["Grid_Point_ID"][:][rows].astype(np.uint32)
        direction = str(_attribute(nc, "VH:SPH:MI:TI:Ascending_Flag", ""))
    value, sigma = value[rows], sigma[rows]
    failed = (
        ~((value >= rules.value_min) & (value <= rules.value_max)),
        ~(sigma < rules.max_sigma),
        ~(rfi_prob < rules.max_rfi_prob),
        ~(chi2_p > rules.min_chi2_p),
        (science & science_mask) != 0,
        (confidence & confidence_mask) != 0,
    )
    return screened_table(
        path, stream=stream, units=spec.units, failed=failed, qc_meanings=QC_MEANINGS,
        rules=rules, reader=f"{__name__}.read_smos_l2sm",
        time=time,
        value=value,
        sigma=sigma,
        latitude=latitude[rows],
        longitude=longitude[rows],
        footprint_model=FOOTPRINT_CIRCLE_AFP,
        footprint={
            "footprint_semi_major_km": afp[rows],
            "footprint_semi_minor_km": afp[rows],
            "footprint_orientation_deg": np.zeros(rows.size),
        },
        extra={"x_swath_km": (x_swath, "km"), "grid_point_id": (grid_point_id, None)},
        attrs={"product": PRODUCT_TYPE, "orbit_direction": direction},
    )


def inspect_smos(path: str | Path) -> dict:
    """Summarise a SMOS L2 SM granule: header facts and the rows each stream yields.

    Parameters
    ----------
    path : a MIR_SMUDP2 netCDF file.

    Returns
    -------
    dict
        ``file``, ``file_type``, ``processor_version``, ``orbit_direction`` (``"A"`` or
        ``"D"``), ``absolute_orbit`` (None if absent), ``validity_start`` and
        ``validity_stop`` (ISO UTC), ``n_grid_points``, and per stream (``"sm_surface"``,
        ``"vod"``) a dict with ``n_retrievals``, ``n_passed_qc``, ``time_min``/``time_max``
        (ISO UTC) and ``value_min``/``value_max`` [stream units] (None when there is no
        retrieval).

    Raises
    ------
    TccasInputError
        As :func:`read_smos_l2sm`.
    """
    path = Path(path)
    streams = {}
    for stream in SMOS_STREAMS:
        table = read_smos_l2sm(path, stream)
        empty = table.sizes["obs"] == 0
        streams[stream] = {
            "n_retrievals": table.sizes["obs"],
            "n_passed_qc": passed_qc(table).sizes["obs"],
            "time_min": None if empty else _iso(table["time"].values.min()),
            "time_max": None if empty else _iso(table["time"].values.max()),
            "value_min": None if empty else float(table["value"].min()),
            "value_max": None if empty else float(table["value"].max()),
        }
    with open_product(path) as nc:
        header = {
            "file": path.name,
            "file_type": str(_attribute(nc, "FH:File_Type", "")),
            "processor_version": str(_attribute(nc, "FH:Source:Creator_Version", "")),
            "orbit_direction": str(_attribute(nc, "VH:SPH:MI:TI:Ascending_Flag", "")),
            "absolute_orbit": _orbit_number(_attribute(nc, "VH:SPH:MI:TI:Abs_Orbit_Start", "")),
            "validity_start": _utc_attribute(nc, "FH:Validity_Period:Validity_Start"),
            "validity_stop": _utc_attribute(nc, "FH:Validity_Period:Validity_Stop"),
            "n_grid_points": len(nc["Latitude"]),
        }
    return {**header, **streams}


def _check_product(nc: netCDF4.Dataset, path: Path, names: tuple[str, ...]) -> None:
    """Raise unless ``nc`` is a flat MIR_SMUDP2 file with 1-D ``names`` of one length."""
    file_type = _attribute(nc, "FH:File_Type", PRODUCT_TYPE)
    if file_type != PRODUCT_TYPE:
        raise TccasInputError(f"{path}: not a SMOS L2 SM product: attribute 'FH:File_Type' "
                              f"is {file_type!r}, expected {PRODUCT_TYPE!r}")
    missing = [name for name in names if name not in nc.variables]
    if missing:
        raise TccasInputError(f"{path}: not a SMOS L2 SM ({PRODUCT_TYPE}) file: variable(s) "
                              f"{', '.join(missing)} missing")
    size = nc["Latitude"].shape
    for name in names:
        if nc[name].ndim != 1 or nc[name].shape != size:
            raise TccasInputError(f"{path}: variable '{name}' has shape {nc[name].shape}, "
                                  f"expected {size} (one value per grid point)")


def _floats(variable: netCDF4.Variable) -> np.ndarray:
    """A float variable as float64 with its ``_FillValue`` (-999) replaced by NaN."""
    raw = variable[:]
    values = raw.astype(np.float64)
    if "_FillValue" in variable.ncattrs():
        values[raw == variable.getncattr("_FillValue")] = np.nan
    return values


def _scaled(variable: netCDF4.Variable) -> np.ndarray:
    """An integer-coded variable in physical units, *without* masking its fill value.

    These variables (probabilities, X_Swath) declare ``_FillValue = 0`` although 0 is a
    legal code (probability 0, on the ground track); rows without a retrieval are removed
    by the caller instead. The offset is ``scale_offset`` in this product (``add_offset``
    accepted too). The result is rounded to 1e-6 so that a quantised value meets a
    threshold as its nominal value: the stored float32 scale factors make code 40 of
    ``RFI_Prob`` 0.19999999 instead of 0.2.
    """
    attrs = variable.ncattrs()
    scale = float(variable.getncattr("scale_factor")) if "scale_factor" in attrs else 1.0
    offset = next(
        (float(variable.getncattr(a)) for a in ("add_offset", "scale_offset") if a in attrs),
        0.0,
    )
    return np.round(variable[:].astype(np.float64) * scale + offset, 6)


def _flag_mask(variable: netCDF4.Variable, names: tuple[str, ...], path: Path) -> np.uint64:
    """The OR of the bits of the named flags, positions decoded from ``flag_meanings``.

    ``flag_masks`` is used when it is a set of distinct positive powers of two, one per
    meaning (``Confidence_Flags``: 2, 4, 16, ...); otherwise (``Science_Flags``, whose int16
    masks overflow to -32768 and 0) bit ``i`` is meaning ``i``.
    """
    attrs = variable.ncattrs()
    if "flag_meanings" not in attrs:
        raise TccasInputError(f"{path}: variable '{variable.name}' has no flag_meanings")
    meanings = str(variable.getncattr("flag_meanings")).split()
    masks = np.atleast_1d(variable.getncattr("flag_masks") if "flag_masks" in attrs else [])
    usable = (
        masks.dtype.kind in "iu"
        and masks.size == len(meanings)
        and bool(np.all(masks > 0))
        and bool(np.all(masks & (masks - 1) == 0))
        and np.unique(masks).size == masks.size
    )
    mask = 0
    for name in names:
        if name not in meanings:
            raise TccasInputError(f"{path}: variable '{variable.name}' has no flag {name!r}; "
                                  f"its flag_meanings are {' '.join(meanings)}")
        index = meanings.index(name)
        mask |= int(masks[index]) if usable else 1 << index
    return np.uint64(mask)


def _check_validity(nc: netCDF4.Dataset, path: Path, time: np.ndarray) -> None:
    """Raise if decoded times fall outside the granule's stated validity period."""
    start = _utc_attribute(nc, "FH:Validity_Period:Validity_Start")
    stop = _utc_attribute(nc, "FH:Validity_Period:Validity_Stop")
    if start is None or stop is None or time.size == 0:
        return
    try:
        lower = np.datetime64(start, "ns") - VALIDITY_TOLERANCE
        upper = np.datetime64(stop, "ns") + VALIDITY_TOLERANCE
    except ValueError as err:
        raise TccasInputError(f"{path}: attribute 'FH:Validity_Period' holds unreadable "
                              f"times {start!r} .. {stop!r}") from err
    if time.min() < lower or time.max() > upper:
        raise TccasInputError(
            f"{path}: variables 'Days'/'Seconds'/'Microseconds' decode (epoch {SMOS_EPOCH}) "
            f"to {time.min()} .. {time.max()}, outside the validity period {start} .. {stop}"
        )


def _iso(time: np.datetime64) -> str:
    """ISO 8601 text of a UTC time to the microsecond."""
    return str(np.datetime_as_string(time, unit="us"))


def _attribute(nc: netCDF4.Dataset, name: str, default: object) -> object:
    """A global attribute, or ``default`` when the file lacks it."""
    return nc.getncattr(name) if name in nc.ncattrs() else default


def _orbit_number(text: object) -> int | None:
    """The orbit number of a header attribute such as ``"+70489"``, None if unreadable."""
    try:
        return int(str(text))
    except ValueError:
        return None


def _utc_attribute(nc: netCDF4.Dataset, name: str) -> str | None:
    """An Earth Explorer time attribute ``"UTC=2023-04-01T19:16:29"`` as ISO text."""
    text = _attribute(nc, name, None)
    return None if text is None else str(text).removeprefix("UTC=")
