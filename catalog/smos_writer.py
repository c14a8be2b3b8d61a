"""Writer of ESA SMOS Level-2 soil-moisture user products (MIR_SMUDP2, netCDF, v700).

Format only: it lays out per-grid-point values exactly as the real half-orbit granules do
(measured on the two v700 granules of 2023-04-01 [M1], EO_FORMATS.md section 2.3 and
``smos_l2sm_v700_schema.json``), so that :func:`tccas.catalog.smos.read_smos_l2sm` reads a
written file exactly as it reads a real one. The synthetic product generator
(:mod:`tccas.catalog.synth`) decides the values.

What is reproduced:

* a flat NETCDF4 file, one dimension ``n_grid_points``, the 72 variables of v700 in the
  order of the real files, with their dtypes, ``units``, ``_FillValue`` (-999 for floats,
  -99999 for ``Altitude``, 0 for every integer), ``scale_factor`` with ``scale_offset``
  (not CF ``add_offset``), the string attribute ``_Unsigned = "true"`` on unsigned
  integers, and zlib level 5 + shuffle on one chunk per variable except the ``uint8``
  variables, which are contiguous as in the real files (within a variable the
  attributes come in netCDF4-python's order, ``_FillValue`` first; the real files list
  ``units`` first);
* the format traps of gotcha 6: flag and count variables declare ``_FillValue = 0``
  although 0 is a legal value, ``Days`` has ``units = "days"``, and ``Science_Flags``
  carries the int16 ``flag_masks`` that overflow from bit 15 on (-32768, then 0);
* the Earth Explorer header flattened into global attributes (``FH:*``, ``VH:SPH:*``,
  ``VH:MPH:*``, in the real order), with the validity period, the orbit, the ascending
  flag, the extent and node counts of the written points; auxiliary file references use
  the names of the real 2023-04-01 granules (only their dates move). The real files carry
  one retrieval-case statistic per surface case and the orbit state vector (364 and 385
  attributes); here one case ("Soil_cover") and no state vector are written (about 240
  attributes), since the generator has no retrieval cases and the reader needs neither;
* acquisition time = 2000-01-01T00:00 UTC + ``Days`` + ``Seconds`` + ``Microseconds``;
* the file name ``SM_OPER_MIR_SMUDP2_<start>_<stop>_700_001_1.nc`` with the validity
  start rounded up and the stop rounded down to the second, as on the real files.

Values are given per grid point by product variable name, in physical units (``X_Swath``
in km, probabilities as 0-1, ``Chi_2`` unscaled), NaN for missing; ``time`` (datetime64,
UTC) replaces ``Days``/``Seconds``/``Microseconds``. Scaled integers are quantised to the
nearest code of their scale factor. Variables that are not given are created but not
written, so they read as their ``_FillValue`` (the netCDF fill mode), which keeps such
files small and fast to write.

References
----------
EO_FORMATS.md section 2.3 and sources [M1] (the real granules of xcube-dev/xcube-smos
``testdata/SM``), [M3] (SNAP SMOS-Box data model), [M4] (SMOS-Box ``BandInfoRegistry``).
SMOS L2 SM Product Specification, SO-TN-IDR-GS-0006 (the ``VH:MPH:Ref_Doc`` of the files).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import netCDF4
import numpy as np
from numpy.typing import ArrayLike

from tccas.catalog.smos import PRODUCT_TYPE, SMOS_EPOCH
from tccas.model.errors import TccasInputError

PROCESSOR_VERSION = "700"
N_GRID_POINTS = "n_grid_points"
FLOAT_FILL = -999.0
ALTITUDE_FILL = -99999.0

_SCIENCE_MEANINGS = (
    "FL_NON_NOM FL_SCENE_T FL_BARREN FL_TOPO_S FL_TOPO_M FL_OW FL_SNOW_MIX FL_SNOW_WET "
    "FL_SNOW_DRY FL_FOREST FL_NOMINAL FL_FROST FL_ICE FL_WETLANDS FL_FLOOD_PROB "
    "FL_URBAN_LOW FL_URBAN_HIGH FL_SAND FL_SEA_ICE FL_COAST FL_OCCUR_T FL_LITTER FL_PR "
    "FL_INTERCEP FL_EXTERNAL FL_RAIN FL_TEC FL_TAU_FO FL_WINTER_FOREST FL_DUAL_RETR_FNO_FFO"
)
#: Bit positions of ``Science_Flags`` (bit i is word i of its flag_meanings).
SCIENCE_FLAGS: dict[str, int] = {name: 1 << i for i, name in enumerate(_SCIENCE_MEANINGS.split())}
_CONFIDENCE_MASKS = (2, 4, 16, 32, 64, 128, 256)
_CONFIDENCE_MEANINGS = ("FL_RFI_PRONE_H FL_RFI_PRONE_V FL_NO_PROD FL_RANGE FL_DQX FL_CHI2_P "
                        "FL_FARADAY_ROTATION_ANGLE")
#: Bit masks of ``Confidence_Flags`` (the real file's flag_masks).
CONFIDENCE_FLAGS: dict[str, int] = dict(
    zip(_CONFIDENCE_MEANINGS.split(), _CONFIDENCE_MASKS, strict=True))
_PROCESSING_MEANINGS = "FL_R4 FL_R3 FL_R2 FL_MD_A"
#: Bit masks of ``Processing_Flags``.
PROCESSING_FLAGS: dict[str, int] = {n: 1 << i for i, n in enumerate(_PROCESSING_MEANINGS.split())}
_DGG_MEANINGS = ("FL_CURRENT_TAU_NADIR_LV FL_CURRENT_TAU_NADIR_FO FL_CURRENT_HR "
                 "FL_CURRENT_RFI FL_CURRENT_FLOOD")

# Scale factors as stored (float64 attributes of the real files).
CHI_2_SCALE = 0.20784314954653382
CHI_2_P_SCALE = 0.003921568859368563
RFI_PROB_SCALE = 0.004999999888241291
X_SWATH_SCALE = 0.032044436782598495


@dataclass(frozen=True)
class _Variable:
    """One variable of the v700 layout."""

    name: str
    dtype: str
    units: str | None = None
    scale: float | None = None
    flags: tuple[np.ndarray, str] | None = None


def _flags(masks: tuple[int, ...], meanings: str) -> tuple[np.ndarray, str]:
    return np.array(masks, dtype=np.int64).astype(np.int16), meanings


# The 72 variables in the order of the real files [M1].
_VARIABLES: tuple[_Variable, ...] = (
    _Variable("Surface_Temperature_DQX", "f4", "K"),
    _Variable("Scattering_Albedo_H", "f4"),
    _Variable("Dielect_Const_MD_IM_DQX", "f4", "Fm-1"),
    _Variable("Tau_Cur_DQX", "f4"),
    _Variable("M_AVA0", "u2"),
    _Variable("DIFF_Albedos_DQX", "f4"),
    _Variable("Latitude", "f4", "deg"),
    _Variable("Roughness_Param_DQX", "f4", "K"),
    _Variable("TB_ASL_Theta_B_H_DQX", "f4", "K"),
    _Variable("DIFF_Albedos", "f4"),
    _Variable("Dielect_Const_Non_MD_RE_DQX", "f4", "Fm-1"),
    _Variable("N_RFI_Y", "u2"),
    _Variable("N_RFI_X", "u2"),
    _Variable("RTT_DQX", "f4"),
    _Variable("N_Sun_Tails", "u2"),
    _Variable("DGG_Current_Flags", "u1", flags=_flags((1, 2, 4, 8, 16), _DGG_MEANINGS)),
    _Variable("Optical_Thickness_Nad_DQX", "f4", "Np"),
    _Variable("N_Sun_Glint_Area", "u2"),
    _Variable("Longitude", "f4", "deg"),
    _Variable("GQX", "u1"),
    _Variable("TB_TOA_Theta_B_H_DQX", "f4", "K"),
    _Variable("N_Calibration_Error", "u2"),
    _Variable("Dielect_Const_Non_MD_RE", "f4", "Fm-1"),
    _Variable("Science_Flags", "u4",
              flags=_flags(tuple(1 << i for i in range(30)), _SCIENCE_MEANINGS)),
    _Variable("N_RFI_Mitigations", "u2"),
    _Variable("N_Wild", "u2"),
    _Variable("TTH", "f4"),
    _Variable("N_ADF_Error", "u2"),
    _Variable("AFP", "f4", "km"),
    _Variable("N_Software_Error", "u2"),
    _Variable("Dielect_Const_MD_IM", "f4", "Fm-1"),
    _Variable("Soil_Moisture_DQX", "f4", "m3 m-3"),
    _Variable("Dielect_Const_Non_MD_IM", "f4", "Fm-1"),
    _Variable("RTT", "f4"),
    _Variable("M_AVA", "u2"),
    _Variable("Roughness_Param", "f4", "K"),
    _Variable("Processing_Flags", "u2", flags=_flags((1, 2, 4, 8), _PROCESSING_MEANINGS)),
    _Variable("Chi_2", "u1", scale=CHI_2_SCALE),
    _Variable("Days", "i4", "days"),
    _Variable("RFI_Prob", "u1", scale=RFI_PROB_SCALE),
    _Variable("Scattering_Albedo_H_DQX", "f4"),
    _Variable("N_AF_FOV", "u2"),
    _Variable("N_Sun_FOV", "u2"),
    _Variable("TB_ASL_Theta_B_V", "f4", "K"),
    _Variable("Dielect_Const_Non_MD_IM_DQX", "f4", "Fm-1"),
    _Variable("TB_ASL_Theta_B_V_DQX", "f4", "K"),
    _Variable("S_Tree_1", "u1"),
    _Variable("S_Tree_2", "u1"),
    _Variable("X_Swath", "i2", "km", scale=X_SWATH_SCALE),
    _Variable("Chi_2_P", "u1", scale=CHI_2_P_SCALE),
    _Variable("Dielect_Const_MD_RE_DQX", "f4", "Fm-1"),
    _Variable("N_Sky", "u2"),
    _Variable("N_Strong_RFI", "u2"),
    _Variable("HR_Cur_DQX", "f4"),
    _Variable("Confidence_Flags", "u2", flags=_flags(_CONFIDENCE_MASKS, _CONFIDENCE_MEANINGS)),
    _Variable("Surface_Temperature", "f4", "K"),
    _Variable("TB_ASL_Theta_B_H", "f4", "K"),
    _Variable("TB_TOA_Theta_B_V_DQX", "f4", "K"),
    _Variable("Microseconds", "u4", "µs"),
    _Variable("N_Tails_Point_Source_RFI", "u2"),
    _Variable("TTH_DQX", "f4"),
    _Variable("Optical_Thickness_Nad", "f4", "Np"),
    _Variable("Grid_Point_ID", "u4"),
    _Variable("N_Instrument_Error", "u2"),
    _Variable("Soil_Moisture", "f4", "m3 m-3"),
    _Variable("TB_TOA_Theta_B_H", "f4", "K"),
    _Variable("TB_TOA_Theta_B_V", "f4", "K"),
    _Variable("Seconds", "u4", "s"),
    _Variable("N_Point_Source_RFI", "u2"),
    _Variable("N_X_Band", "u2"),
    _Variable("Altitude", "f4", "m"),
    _Variable("Dielect_Const_MD_RE", "f4", "Fm-1"),
)
VARIABLE_NAMES: tuple[str, ...] = tuple(v.name for v in _VARIABLES)
_TIME_VARIABLES = ("Days", "Seconds", "Microseconds")
_REQUIRED = ("Latitude", "Longitude", "Grid_Point_ID", "time")

# Auxiliary inputs listed in the header (VH:SPH:LODS), as on the real granules [M1]:
# (data set name, reference file name with {start}/{stop} for the granule's own times).
_LODS = (
    ("L1C_SM_FILE", "SM_OPER_MIR_SCLF1C_{start}_{stop}_724_001_1"),
    ("DFFG_FRACTIONS_FILE", "SM_OPER_AUX_DFFFRA_20050101T000000_20500101T000000_001_007_3"),
    ("DFFG_XYZ_FILE", "SM_OPER_AUX_DFFXYZ_20050101T000000_20500101T000000_001_003_3"),
    ("DFFG_LAI_FILE", "SM_OPER_AUX_DFFLAI_{start}_{stop}_600_001_3"),
    ("DFFG_LAI_MAX_FILE", "SM_OPER_AUX_DFFLMX_20050101T000000_20500101T000000_001_006_3"),
    ("DFFG_SNOW_FILE", "SM_OPER_AUX_DFFSNO_{start}_{stop}_102_001_3"),
    ("DGG_XYZ_FILE", "SM_OPER_AUX_DGGXYZ_20050101T000000_20500101T000000_001_004_3"),
    ("DGG_CUR_TAU_NAD_LV_FILE", "SM_OPER_AUX_DGGTLV_{start}_20500101T000000_600_001_1"),
    ("DGG_CUR_TAU_NAD_FO_FILE", "SM_OPER_AUX_DGGTFO_{start}_20500101T000000_600_001_1"),
    ("DGG_CUR_ROUGHNESS_H_FILE", "SM_OPER_AUX_DGGROU_{start}_20500101T000000_600_001_1"),
    ("DGG_CUR_RFI_FILE", "SM_OPER_AUX_DGGRFI_{start}_20500101T000000_600_001_1"),
    ("DGG_CUR_RFI_FILE", "SM_OPER_AUX_DGGRFI_{start}_20500101T000000_600_001_1"),
    ("ECMWF_FILE", "SM_OPER_AUX_ECMWF__{start}_{stop}_318_001_3"),
    ("WEIGHTING_FUNCTION_FILE", "SM_OPER_AUX_WEF____20050101T000000_20500101T000000_001_003_3"),
    ("MEAN_WEIGHTING_FUNCTION_FILE",
     "SM_OPER_AUX_MN_WEF_20050101T000000_20500101T000000_001_002_3"),
    ("DFFG_SOIL_PROPERTIES_FILE",
     "SM_OPER_AUX_DFFSOI_20050101T000000_20500101T000000_001_003_3"),
    ("GALAXY_SM_FILE", "SM_OPER_AUX_GAL_SM_20050101T000000_20500101T000000_001_003_3"),
    ("BULLETIN_B_FILE", "SM_OPER_AUX_BULL_B_20230102T000000_20500101T000000_120_001_3"),
    ("LAND_COVER_CLASSES_FILE", "SM_OPER_AUX_LANDCL_20050101T000000_20500101T000000_001_006_3"),
    ("SOIL_MOISTURE_CONFIG_FILE",
     "SM_OPER_AUX_CNFSMF_20050101T000000_20500101T000000_001_017_3"),
)
#: Size of one data-set record of the binary product (VH:SPH:LODS SM_SWATH DSR_Size).
_DSR_SIZE = 223


@dataclass(frozen=True)
class SmosGranule:
    """Header facts of one half-orbit granule.

    Attributes
    ----------
    sensing_start, sensing_stop : UTC start and stop of the half orbit (datetime64); the
        validity period of the header is these rounded inward to whole seconds.
    ascending : True for an ascending (about 06:00 local solar time) half orbit.
    absolute_orbit : absolute orbit number at the start of the granule.
    utc_at_anx : UTC of the ascending-node crossing of the orbit the granule refers to.
    longitude_at_anx : [degree_east] longitude of that ascending node.
    """

    sensing_start: np.datetime64
    sensing_stop: np.datetime64
    ascending: bool
    absolute_orbit: int
    utc_at_anx: np.datetime64
    longitude_at_anx: float

    @property
    def validity(self) -> tuple[np.datetime64, np.datetime64]:
        """The header's validity period: start rounded up, stop down, to the second."""
        start = np.datetime64(self.sensing_start, "us")
        stop = np.datetime64(self.sensing_stop, "us")
        start_s = start.astype("datetime64[s]")
        if start_s < start:
            start_s += np.timedelta64(1, "s")
        return start_s, stop.astype("datetime64[s]")


def smos_l2sm_filename(granule: SmosGranule, file_class: str = "OPER") -> str:
    """``SM_<class>_MIR_SMUDP2_<start>_<stop>_700_001_1.nc`` of a granule ([M10], [M1])."""
    start, stop = granule.validity
    return (f"SM_{file_class}_{PRODUCT_TYPE}_{_compact(start)}_{_compact(stop)}_"
            f"{PROCESSOR_VERSION}_001_1.nc")


def write_smos_l2sm(
    folder: str | Path,
    points: Mapping[str, ArrayLike],
    granule: SmosGranule,
    *,
    file_class: str = "OPER",
) -> Path:
    """Write one SMOS L2 SM granule (MIR_SMUDP2, v700 netCDF) into ``folder``.

    Parameters
    ----------
    folder : the directory; the file gets the product's own name
        (:func:`smos_l2sm_filename`) and is written to a temporary name first, then moved
        into place, so no half-written granule is ever visible.
    points : one array per product variable over the grid points (any name of
        :data:`VARIABLE_NAMES` except ``Days``/``Seconds``/``Microseconds``), physical units
        as listed in the module docstring, NaN (or absent) for missing; required
        ``Latitude``, ``Longitude`` [degree], ``Grid_Point_ID`` (DGG id, > 0) and ``time``
        (datetime64 UTC acquisition time, written to the microsecond).
    granule : the header facts (:class:`SmosGranule`); every point's time must lie in its
        sensing period.
    file_class : ``OPER`` or ``REPR`` (reprocessed) in the file name and header.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    TccasInputError
        A required variable is missing, a name is unknown, arrays differ in length, a
        value does not fit its integer type, or a time lies outside the sensing period.
    """
    folder = Path(folder)
    arrays = {name: np.asarray(values) for name, values in points.items()}
    name = smos_l2sm_filename(granule, file_class)
    missing = [key for key in _REQUIRED if key not in arrays]
    if missing:
        raise TccasInputError(f"SMOS L2 writer ({name}): points lack {', '.join(missing)}")
    unknown = sorted(set(arrays) - set(VARIABLE_NAMES) - {"time"}
                     | (set(arrays) & set(_TIME_VARIABLES)))
    if unknown:
        raise TccasInputError(f"SMOS L2 writer ({name}): unknown or derived variable(s) "
                              f"{', '.join(unknown)} (give 'time' instead of Days/Seconds/"
                              "Microseconds)")
    n = arrays["Latitude"].size
    for key, values in arrays.items():
        if values.shape != (n,):
            raise TccasInputError(f"SMOS L2 writer ({name}): '{key}' has shape "
                                  f"{values.shape}, expected ({n},)")
    encoded = {v.name: _encode(v, arrays, name) for v in _VARIABLES if v.name in arrays}
    encoded.update(_encode_time(arrays["time"], granule, name))
    if np.any(encoded["Grid_Point_ID"] == 0):
        raise TccasInputError(f"SMOS L2 writer ({name}): Grid_Point_ID must be > 0")
    attributes = _header(granule, arrays, file_class, name.removesuffix(".nc"))
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    staging = folder / f".{name}.tmp-{uuid.uuid4().hex}"
    try:
        with netCDF4.Dataset(staging, "w", format="NETCDF4") as nc:
            nc.setncatts(attributes)
            nc.createDimension(N_GRID_POINTS, n)
            for variable in _VARIABLES:
                _create(nc, variable, encoded.get(variable.name), n)
        os.replace(staging, target)
    finally:
        if staging.exists():
            staging.unlink()
    return target


def _fill(variable: _Variable) -> float | int:
    if variable.dtype == "f4":
        return ALTITUDE_FILL if variable.name == "Altitude" else FLOAT_FILL
    return 0


def _encode(variable: _Variable, arrays: Mapping[str, np.ndarray], name: str) -> np.ndarray:
    """Values of one variable in its storage dtype, fills in place of NaN."""
    values = np.asarray(arrays[variable.name], dtype=np.float64)
    missing = ~np.isfinite(values)
    if variable.dtype == "f4":
        return np.where(missing, _fill(variable), values).astype(np.float32)
    codes = np.where(missing, 0.0, values if variable.scale is None
                     else np.round(values / variable.scale))
    if variable.scale is None and np.any(codes != np.round(codes)):
        raise TccasInputError(f"SMOS L2 writer ({name}): '{variable.name}' holds "
                              "non-integer values")
    info = np.iinfo(np.dtype(variable.dtype))
    if codes.size and (codes.min() < info.min or codes.max() > info.max):
        bad = codes[(codes < info.min) | (codes > info.max)][0]
        raise TccasInputError(f"SMOS L2 writer ({name}): '{variable.name}' code {bad:g} "
                              f"does not fit {np.dtype(variable.dtype)}")
    return codes.astype(variable.dtype)


def _encode_time(time: np.ndarray, granule: SmosGranule, name: str) -> dict[str, np.ndarray]:
    """Days, Seconds, Microseconds since 2000-01-01 of each point's time."""
    if time.dtype.kind != "M" or np.isnat(time).any():
        raise TccasInputError(f"SMOS L2 writer ({name}): 'time' must hold one datetime64 "
                              "(UTC) per point")
    micro = (time.astype("datetime64[us]") - SMOS_EPOCH.astype("datetime64[us]")).astype(
        np.int64)
    start = np.datetime64(granule.sensing_start, "us")
    stop = np.datetime64(granule.sensing_stop, "us")
    us = time.astype("datetime64[us]")
    if us.size and (us.min() < start or us.max() > stop):
        raise TccasInputError(f"SMOS L2 writer ({name}): point times {us.min()} .. "
                              f"{us.max()} leave the sensing period {start} .. {stop}")
    days, rest = np.divmod(micro, 86_400_000_000)
    seconds, microseconds = np.divmod(rest, 1_000_000)
    return {"Days": days.astype(np.int32), "Seconds": seconds.astype(np.uint32),
            "Microseconds": microseconds.astype(np.uint32)}


def _create(nc: netCDF4.Dataset, variable: _Variable, data: np.ndarray | None,
            n: int) -> None:
    """Create one variable with the real file's storage settings and attributes."""
    contiguous = variable.dtype == "u1" or n == 0
    created = nc.createVariable(
        variable.name, variable.dtype, (N_GRID_POINTS,), fill_value=_fill(variable),
        zlib=not contiguous, complevel=5, shuffle=not contiguous, contiguous=contiguous,
        chunksizes=None if contiguous else (n,),
    )
    created.set_auto_maskandscale(False)
    attrs: dict[str, object] = {}
    if variable.units is not None:
        attrs["units"] = variable.units
    if variable.flags is not None:
        masks, meanings = variable.flags
        attrs.update(flag_masks=masks, flag_values=masks, flag_meanings=meanings)
    if variable.scale is not None:
        attrs.update(scale_factor=np.float64(variable.scale), scale_offset=np.float64(0.0))
    if variable.dtype.startswith("u"):
        attrs["_Unsigned"] = "true"
    created.setncatts(attrs)
    if n and data is not None:
        created[:] = data


def _compact(time: np.datetime64) -> str:
    return str(np.datetime64(time, "s")).replace("-", "").replace(":", "")


def _utc(time: np.datetime64, unit: str = "s", prefix: str = "UTC") -> str:
    return f"{prefix}={np.datetime_as_string(np.datetime64(time, unit), unit=unit)}"


def _signed(value: float, width: int, decimals: int) -> str:
    """Earth Explorer numbers: explicit sign, zero padded (``+075.763274``)."""
    return f"{value:+0{width}.{decimals}f}"


def _header(granule: SmosGranule, arrays: Mapping[str, np.ndarray], file_class: str,
            file_name: str) -> dict[str, str]:
    """The flattened Earth Explorer header as global attributes (real names, [M1])."""
    start, stop = granule.validity
    n = arrays["Latitude"].size
    sm = np.asarray(arrays.get("Soil_Moisture", np.full(n, np.nan)), dtype=np.float64)
    retrieved = int(np.isfinite(sm).sum())
    attempted = int(np.isfinite(np.asarray(arrays.get("AFP", np.full(n, np.nan)),
                                           dtype=np.float64)).sum())
    created = np.datetime64(granule.sensing_stop, "s") + np.timedelta64(6, "h")
    start_text, stop_text = _compact(start), _compact(stop)
    orbit_seconds = float((np.datetime64(granule.sensing_start, "us")
                           - np.datetime64(granule.utc_at_anx, "us")).astype(np.int64)) / 1e6
    stop_seconds = float((np.datetime64(granule.sensing_stop, "us")
                          - np.datetime64(granule.utc_at_anx, "us")).astype(np.int64)) / 1e6
    attrs = {
        "creation_date": _utc(created + np.timedelta64(90, "s")),
        "total_number_of_grid_points": str(n),
        "FH:File_Name": file_name,
        "FH:File_Description": "L2 Soil Moisture Output User Data Product",
        "FH:Mission": "SMOS",
        "FH:File_Class": file_class,
        "FH:File_Type": PRODUCT_TYPE,
        "FH:File_Version": "0001",
        "FH:Validity_Period:Validity_Start": _utc(start),
        "FH:Validity_Period:Validity_Stop": _utc(stop),
        "FH:Source:System": "DPGS",
        "FH:Source:Creator": "L2OP",
        "FH:Source:Creator_Version": PROCESSOR_VERSION,
        "FH:Source:Creation_Date": _utc(created),
        "VH:SPH:Chi_2_Scale": "5.000000e+00",
        "VH:SPH:QI:Overall_Quality": "1",
        "VH:SPH:QI:Overall_Quality_Threshold_Low": "00000",
        "VH:SPH:QI:Overall_Quality_Threshold_High": "06600",
        "VH:SPH:QI:Total_L1c_Nodes": str(n),
        "VH:SPH:QI:Total_Processed_L1c_Nodes": str(n),
        "VH:SPH:QI:Total_Retrieval_Attempted_L1c_Nodes": str(attempted),
        "VH:SPH:QI:Percentage_Rejected_TBs:Due_To_Amplitude_Range": "00000",
        "VH:SPH:QI:Percentage_Rejected_TBs:Due_To_TB_Range": "00000",
        "VH:SPH:QI:Percentage_Rejected_TBs:Due_To_4th_Stokes_Parameter": "00000",
        "VH:SPH:QI:Percentage_Rejected_TBs:Due_To_Sun_Point_Flag": "00000",
        "VH:SPH:QI:Percentage_Rejected_TBs:Due_To_Spatial_Resolution": "00000",
        "VH:SPH:QI:Percentage_Rejected_TBs:Due_To_1st_Stokes_Anomaly": "00000",
    }
    case = "VH:SPH:QI:List_of_Retrieval_Cases_Statistics:Retrieval_Case_Statistics_0"
    attrs.update({
        f"{case}:Retrieval_Case": "Soil_cover",
        f"{case}:Total_Nodes": str(attempted),
        f"{case}:Total_Failed_Nodes": str(attempted - retrieved),
        f"{case}:R2:Model_Opacity_Level:Model": "MN",
        f"{case}:R2:Model_Opacity_Level:Opacity_Level": "Med",
        f"{case}:R2:Model_Opacity_Level:Total_Successful_Nodes": str(retrieved),
    })
    attrs.update({
        "VH:SPH:MI:SPH_Descriptor": "MIR_SMUDP2_SPH",
        "VH:SPH:MI:Checksum": "0",
        "VH:SPH:MI:Header_Schema": "HDR_SM_XXXX_MIR_SMUDP2_0400.xsd",
        "VH:SPH:MI:Datablock_Schema": "DBL_SM_XXXX_MIR_SMUDP2_0400.binXschema.xml",
        "VH:SPH:MI:Header_Size": "025031",
        "VH:SPH:MI:Datablock_Size": f"{n * _DSR_SIZE + 4:011d}",
        "VH:SPH:MI:HW_Identifier": "0004",
        "VH:SPH:MI:TI:Precise_Validity_Start": _utc(granule.sensing_start, "us"),
        "VH:SPH:MI:TI:Precise_Validity_Stop": _utc(granule.sensing_stop, "us"),
        "VH:SPH:MI:TI:Abs_Orbit_Start": f"{granule.absolute_orbit:+06d}",
        "VH:SPH:MI:TI:Start_Time_ANX_T": f"{orbit_seconds:.6f}",
        "VH:SPH:MI:TI:Abs_Orbit_Stop": f"{granule.absolute_orbit:+06d}",
        "VH:SPH:MI:TI:Stop_Time_ANX_T": f"{stop_seconds:.6f}",
        "VH:SPH:MI:TI:UTC_at_ANX": _utc(granule.utc_at_anx, "us"),
        "VH:SPH:MI:TI:Long_at_ANX": _signed(granule.longitude_at_anx, 11, 6),
        "VH:SPH:MI:TI:Ascending_Flag": "A" if granule.ascending else "D",
        "VH:SPH:MI:TI:Polarisation_Flag": "F",
    })
    lods = [(ds, ref.format(start=start_text, stop=stop_text)) for ds, ref in _LODS]
    for index, (data_set, reference) in enumerate(lods):
        key = f"VH:SPH:LODS:Data_Set_{index}"
        attrs.update({f"{key}:DS_Name": data_set, f"{key}:DS_Type": "R",
                      f"{key}:DS_Size": "0000000000", f"{key}:DS_Offset": "0000000000",
                      f"{key}:Ref_Filename": reference, f"{key}:Num_DSR": "0000000000",
                      f"{key}:DSR_Size": "00000000", f"{key}:Byte_Order": "0000"})
    key = f"VH:SPH:LODS:Data_Set_{len(lods)}"
    attrs.update({f"{key}:DS_Name": "SM_SWATH", f"{key}:DS_Type": "M",
                  f"{key}:DS_Size": f"{n * _DSR_SIZE:010d}", f"{key}:DS_Offset": "0000000000",
                  f"{key}:Num_DSR": f"{n:010d}", f"{key}:DSR_Size": f"{_DSR_SIZE:08d}",
                  f"{key}:Byte_Order": "0123"})
    attrs.update(_extent(arrays))
    attrs.update({
        "VH:MPH:Ref_Doc": "SO-TN-IDR-GS-0006",
        "VH:MPH:Acquisition_Station": "ES-S",
        "VH:MPH:Processing_Centre": "ESAC",
        "VH:MPH:Logical_Proc_Centre": "FPC",
        "VH:MPH:Product_Confidence": "NOMINAL",
        "VH:MPH:OI:Phase": "+001",
        "VH:MPH:OI:Abs_Orbit": f"{granule.absolute_orbit:+06d}",
        "VH:MPH:OI:OSV_UTC": _utc(np.datetime64(granule.sensing_start, "m"), "us"),
        "VH:MPH:OI:Vector_Source": "FP",
    })
    return attrs


def _extent(arrays: Mapping[str, np.ndarray]) -> dict[str, str]:
    """``VH:SPH:L2PL:*``: first, last, middle and extreme points of the granule."""
    lat = np.asarray(arrays["Latitude"], dtype=np.float64)
    lon = np.asarray(arrays["Longitude"], dtype=np.float64)
    ids = np.asarray(arrays["Grid_Point_ID"], dtype=np.int64)
    if lat.size == 0:
        return {}
    order = np.argsort(np.asarray(arrays["time"]), kind="stable")
    first, last, middle = order[0], order[-1], order[order.size // 2]
    south, north = int(np.argmin(lat)), int(np.argmax(lat))
    east, west = int(np.argmax(lon)), int(np.argmin(lon))
    return {
        "VH:SPH:L2PL:Start_Lat": _signed(lat[first], 11, 6),
        "VH:SPH:L2PL:Start_Long": _signed(lon[first], 11, 6),
        "VH:SPH:L2PL:Stop_Lat": _signed(lat[last], 11, 6),
        "VH:SPH:L2PL:Stop_Long": _signed(lon[last], 11, 6),
        "VH:SPH:L2PL:Mid_Lat": _signed(lat[middle], 11, 6),
        "VH:SPH:L2PL:Mid_Lon": _signed(lon[middle], 11, 6),
        "VH:SPH:L2PL:Southernmost_Latitude": _signed(lat[south], 11, 6),
        "VH:SPH:L2PL:Southernmost_Gridpoint_ID": str(ids[south]),
        "VH:SPH:L2PL:Northernmost_Latitude": _signed(lat[north], 11, 6),
        "VH:SPH:L2PL:Northernmost_Gridpoint_ID": str(ids[north]),
        "VH:SPH:L2PL:Easternmost_Longitude": _signed(lon[east], 11, 6),
        "VH:SPH:L2PL:Easternmost_Gridpoint_ID": str(ids[east]),
        "VH:SPH:L2PL:Westernmost_Longitude": _signed(lon[west], 11, 6),
        "VH:SPH:L2PL:Westernmost_Gridpoint_ID": str(ids[west]),
    }
