"""Writer of FLUXNET2015 FULLSET-style CSV files (half-hourly HH and daily DD), format only.

It lays out tower records as the FLUXNET2015 FULLSET product does (EO_FORMATS.md 5.1,
5.2, 5.4; Pastorello et al. 2020), so that :func:`tccas.catalog.fluxnet.read_fullset` and
:func:`tccas.catalog.fluxnet.daily_observed_fluxes` read a written file exactly as a real
one. The synthetic generator (:mod:`tccas.catalog.synth`) decides the values.

* File name ``FLX_<SITE>_FLUXNET2015_FULLSET_<RES>_<Y1>-<Y2>_<ver>.csv`` ([F1]).
* Time stamps in local *standard* time (no daylight saving): HH files have
  ``TIMESTAMP_START`` and ``TIMESTAMP_END`` as integers ``YYYYMMDDHHMM`` (the record
  covers ``[START, END)``); DD files have ``TIMESTAMP`` as ``YYYYMMDD``.
* Missing values are ``-9999``; other numbers are written with 6 significant digits
  (``%.6g``; QC flags and fractions therefore exactly), so a value reads back as
  ``float(f"{value:.6g}")``.
* Columns in the FULLSET order of :data:`FULLSET_COLUMNS` (meteorology, energy, NEE,
  respiration and GPP): only those given are written, in that order. Units are the
  product's: HH carbon fluxes in umol CO2 m-2 s-1, DD in gC m-2 d-1; ``TA_F`` in degC,
  ``VPD_F`` in hPa, ``PA_F`` in kPa, ``P_F`` in mm per record, radiation and energy in
  W m-2, ``SWC_F_MDS_1`` in %. HH ``_QC`` columns hold 0 (measured) to 3 (poor
  gap-fill); DD ``_QC`` columns the fraction of measured or good-quality gap-filled
  records.

References
----------
Pastorello, G. et al. (2020): The FLUXNET2015 dataset and the ONEFlux processing pipeline
for eddy covariance data. Sci. Data 7, 225, doi:10.1038/s41597-020-0534-3.
[F1] http://fluxnet.fluxdata.org/data/fluxnet2015-dataset/fullset-data-product/
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from tccas.catalog.fluxnet import MISSING_VALUE
from tccas.model.errors import TccasInputError

#: FULLSET variables in product order (a subset: what a model validation uses).
FULLSET_COLUMNS: tuple[str, ...] = (
    "TA_F", "TA_F_QC", "SW_IN_POT", "SW_IN_F", "SW_IN_F_QC", "LW_IN_F", "LW_IN_F_QC",
    "VPD_F", "VPD_F_QC", "PA_F", "PA_F_QC", "P_F", "P_F_QC", "WS_F", "WS_F_QC",
    "CO2_F_MDS", "CO2_F_MDS_QC", "SWC_F_MDS_1", "SWC_F_MDS_1_QC", "NETRAD",
    "LE_F_MDS", "LE_F_MDS_QC", "H_F_MDS", "H_F_MDS_QC",
    "NEE_VUT_REF", "NEE_VUT_REF_QC", "NEE_VUT_REF_RANDUNC",
    "RECO_NT_VUT_REF", "GPP_NT_VUT_REF", "RECO_DT_VUT_REF", "GPP_DT_VUT_REF",
)
RESOLUTIONS = ("HH", "DD")
VERSION = "1-4"
FLOAT_FORMAT = "%.6g"
_HALF_HOUR = pd.Timedelta(minutes=30)


def fullset_filename(site_id: str, resolution: str, first_year: int, last_year: int,
                     version: str = VERSION) -> str:
    """``FLX_<SITE>_FLUXNET2015_FULLSET_<RES>_<Y1>-<Y2>_<ver>.csv``."""
    return f"FLX_{site_id}_FLUXNET2015_FULLSET_{resolution}_{first_year}-{last_year}_{version}.csv"


def write_fullset(folder: str | Path, site_id: str, resolution: str,
                  records: pd.DataFrame) -> Path:
    """Write a FULLSET CSV of one resolution.

    Parameters
    ----------
    folder : the directory (created if missing); the file gets the product's name
        (:func:`fullset_filename`, years from the first and last record) and appears there
        only once complete (written under a temporary name, then moved).
    site_id : FLUXNET site id, e.g. ``"ES-LM1"``.
    resolution : ``"HH"`` (records every 30 min) or ``"DD"`` (one per day).
    records : indexed by the local-standard start time of each record (naive,
        regular: 30 min for HH, one day at midnight for DD), columns among
        :data:`FULLSET_COLUMNS` in the product's units; NaN is written as -9999.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    TccasInputError
        Unknown resolution or columns, no records, or an irregular time index.
    """
    if resolution not in RESOLUTIONS:
        raise TccasInputError(f"FLUXNET writer: resolution {resolution!r} must be one of "
                              f"{', '.join(RESOLUTIONS)}")
    unknown = [c for c in records.columns if c not in FULLSET_COLUMNS]
    if unknown:
        raise TccasInputError(f"FLUXNET writer ({site_id} {resolution}): unknown column(s) "
                              f"{', '.join(map(str, unknown))}; known: "
                              f"{', '.join(FULLSET_COLUMNS)}")
    if records.empty:
        raise TccasInputError(f"FLUXNET writer ({site_id} {resolution}): no records")
    index = pd.DatetimeIndex(records.index)
    step = _HALF_HOUR if resolution == "HH" else pd.Timedelta(days=1)
    if index.tz is not None or np.any(np.diff(index.values) != step.to_timedelta64()):
        raise TccasInputError(f"FLUXNET writer ({site_id} {resolution}): records must be "
                              f"naive local standard times every {step}")
    if resolution == "DD" and np.any(index != index.normalize()):
        raise TccasInputError(f"FLUXNET writer ({site_id} DD): records must start at midnight")
    columns = [c for c in FULLSET_COLUMNS if c in records.columns]
    table = records[columns].astype(np.float64).copy()
    if resolution == "HH":
        stamps = {"TIMESTAMP_START": index.strftime("%Y%m%d%H%M").astype(np.int64),
                  "TIMESTAMP_END": (index + step).strftime("%Y%m%d%H%M").astype(np.int64)}
    else:
        stamps = {"TIMESTAMP": index.strftime("%Y%m%d").astype(np.int64)}
    table = pd.concat([pd.DataFrame(stamps, index=table.index), table], axis=1)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    name = fullset_filename(site_id, resolution, int(index[0].year), int(index[-1].year))
    target = folder / name
    staging = folder / f".{name}.tmp-{uuid.uuid4().hex}"
    try:
        table.to_csv(staging, index=False, float_format=FLOAT_FORMAT,
                     na_rep=str(MISSING_VALUE), lineterminator="\n")
        os.replace(staging, target)
    finally:
        if staging.exists():
            staging.unlink()
    return target


def as_written(values: np.ndarray) -> np.ndarray:
    """The values a reader gets back from :func:`write_fullset` (6 significant digits,
    NaN kept)."""
    values = np.asarray(values, dtype=np.float64)
    text = np.char.mod(FLOAT_FORMAT, np.where(np.isfinite(values), values, 0.0))
    return np.where(np.isfinite(values), text.astype(np.float64), np.nan)
