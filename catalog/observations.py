"""The canonical observation table: one xarray Dataset per product file and stream.

Every product reader (``tccas.catalog.smos``, ``tccas.catalog.troposif``, ...) returns this
schema, the catalogue stores it under ``obs/<stream>/`` (ARCHITECTURE.md section 5) and the
observation operators consume it, so a new data stream only needs a reader.

Schema (dimension ``obs``, one row per retrieval; ``corner`` = 4 for quadrilaterals):

* ``time`` (obs, datetime64[ns]): acquisition time of the retrieval, naive but always UTC.
* ``value`` (obs, float): the observed quantity, in ``attrs["units"]``.
* ``sigma`` (obs, float): its 1-sigma retrieval uncertainty, same units, > 0.
* ``qc`` (obs, uint16): quality bit field. 0 = passed every screen of the reader; bit
  ``i`` set = failed the screen named by word ``i`` of ``qc.attrs["flag_meanings"]``
  (CF ``flag_masks`` 1, 2, 4, ...). Screening never removes rows, so thresholds can be
  changed later from the stored table.
* ``latitude``, ``longitude`` (obs, float) [degree_north, degree_east]: footprint centre
  (WGS84), longitude in [-180, 180].
* ``source`` (obs, object): the file name (no folder) the row was read from, one shared
  ``str`` object (a fixed-width text array would cost 4 bytes per character per row on
  the 3 M rows of a TROPOSIF L2B day).
* footprint, by ``attrs["footprint_model"]``:

  - ``"corners"``: ``corner_latitude``, ``corner_longitude`` (obs, corner) [degree],
    counter-clockwise and *unwrapped* around the centre, ``|corner_longitude -
    longitude| <= 180``, so a pixel across the dateline stays one planar polygon (its
    corner longitudes may pass +-180);
  - ``"ellipse"``: ``footprint_semi_major_km``, ``footprint_semi_minor_km`` (obs) [km]
    (0 < minor <= major) and ``footprint_orientation_deg`` (obs) [degree], azimuth of the
    major axis clockwise from true north in [0, 180);
  - ``"circle_afp"``: the ellipse variables with equal semi-axes, the radius taken from
    the SMOS L2 ``AFP`` (see :mod:`tccas.catalog.smos`) and orientation 0.

Attributes: ``stream`` (e.g. ``"sif743"``, ``"vod"``, ``"sm_surface"``), ``units`` (of
``value`` and ``sigma``), ``footprint_model``, ``reader`` (the function that made the
table) and ``qc_thresholds`` (JSON text of the screening thresholds, so that it survives
netCDF and Zarr alike). Readers may add per-row variables over ``obs`` (angles, cloud
fraction, grid-point ids) and product attributes; the validator ignores them.

A table may have zero rows (a granule with no retrieval in it is not an error).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
import xarray as xr

from tccas.model.errors import TccasInputError

OBS_DIM = "obs"
CORNER_DIM = "corner"
N_CORNERS = 4

FOOTPRINT_CORNERS = "corners"
FOOTPRINT_ELLIPSE = "ellipse"
FOOTPRINT_CIRCLE_AFP = "circle_afp"
FOOTPRINT_MODELS = (FOOTPRINT_CORNERS, FOOTPRINT_ELLIPSE, FOOTPRINT_CIRCLE_AFP)

CORNER_VARIABLES = ("corner_latitude", "corner_longitude")
ELLIPSE_VARIABLES = (
    "footprint_semi_major_km",
    "footprint_semi_minor_km",
    "footprint_orientation_deg",
)
REQUIRED_VARIABLES = ("time", "value", "sigma", "qc", "latitude", "longitude", "source")


def build_observations(
    *,
    stream: str,
    units: str,
    source: str,
    time: np.ndarray,
    value: np.ndarray,
    sigma: np.ndarray,
    qc: np.ndarray,
    qc_meanings: Sequence[str],
    latitude: np.ndarray,
    longitude: np.ndarray,
    footprint_model: str,
    footprint: Mapping[str, np.ndarray],
    reader: str,
    qc_thresholds: Mapping[str, object],
    extra: Mapping[str, tuple[np.ndarray, str | None]] | None = None,
    attrs: Mapping[str, str] | None = None,
) -> xr.Dataset:
    """Assemble and validate an observation table.

    Parameters
    ----------
    stream : observation stream name (``"sif743"``, ``"sm_surface"``, ...).
    units : units of ``value`` and ``sigma`` (UDUNITS spelling, e.g. ``"m3 m-3"``).
    source : file name recorded in every row's ``source`` and in error messages.
    time : (n,) UTC times, converted to ``datetime64[ns]``.
    value, sigma : (n,) observation and its 1-sigma uncertainty [units].
    qc : (n,) unsigned bit field, 0 = passed; bit ``i`` belongs to ``qc_meanings[i]``.
    qc_meanings : one upper-case word per qc bit (at most 16).
    latitude, longitude : (n,) [degree] footprint centre.
    footprint_model : one of :data:`FOOTPRINT_MODELS`.
    footprint : the footprint variables of that model (``CORNER_VARIABLES`` as (n, 4)
        arrays or ``ELLIPSE_VARIABLES`` as (n,) arrays).
    reader : dotted name of the reader function (provenance).
    qc_thresholds : the screening thresholds used; stored as JSON text.
    extra : further (n,) per-row variables to carry along, as ``name: (array, units)``
        (units ``None`` for identifiers).
    attrs : further dataset attributes (product metadata such as the orbit direction).

    Returns
    -------
    xarray.Dataset
        The table, already checked by :func:`validate_observations`.
    """
    if len(qc_meanings) > 16:
        raise ValueError(f"at most 16 qc bits fit in uint16, got {len(qc_meanings)}")
    qc_attrs = {
        "flag_masks": np.array([1 << i for i in range(len(qc_meanings))], dtype=np.uint16),
        "flag_meanings": " ".join(qc_meanings),
        "comment": "0 = passed every screen; a set bit names the screen that failed",
    }
    data_vars: dict[str, tuple] = {
        "time": (OBS_DIM, np.asarray(time, dtype="datetime64[ns]")),
        "value": (OBS_DIM, np.asarray(value, dtype=np.float64), {"units": units}),
        "sigma": (OBS_DIM, np.asarray(sigma, dtype=np.float64), {"units": units}),
        "qc": (OBS_DIM, np.asarray(qc, dtype=np.uint16), qc_attrs),
        "latitude": (OBS_DIM, np.asarray(latitude, dtype=np.float64),
                     {"units": "degree_north"}),
        "longitude": (OBS_DIM, np.asarray(longitude, dtype=np.float64),
                      {"units": "degree_east"}),
        "source": (OBS_DIM, np.full(np.shape(value), source, dtype=object)),
    }
    for name, array in footprint.items():
        array = np.asarray(array, dtype=np.float64)
        dims = (OBS_DIM, CORNER_DIM) if array.ndim == 2 else (OBS_DIM,)
        data_vars[name] = (dims, array)
    for name, (array, units_of_extra) in (extra or {}).items():
        extra_attrs = {} if units_of_extra is None else {"units": units_of_extra}
        data_vars[name] = (OBS_DIM, np.asarray(array), extra_attrs)
    ds = xr.Dataset(
        data_vars,
        attrs={
            "stream": stream,
            "units": units,
            "footprint_model": footprint_model,
            "reader": reader,
            "qc_thresholds": json.dumps(dict(qc_thresholds), sort_keys=True),
            **(attrs or {}),
        },
    )
    return validate_observations(ds, source)


def passed_qc(ds: xr.Dataset) -> xr.Dataset:
    """The rows of an observation table that passed every quality screen (``qc == 0``)."""
    return ds.isel({OBS_DIM: np.flatnonzero(ds["qc"].values == 0)})


def validate_observations(ds: xr.Dataset, source: str) -> xr.Dataset:
    """Check that ``ds`` follows the canonical observation schema.

    Parameters
    ----------
    ds : the table to check.
    source : the file (or other origin) named in error messages.

    Returns
    -------
    xarray.Dataset
        ``ds`` itself, unchanged, so that calls can be chained.

    Raises
    ------
    TccasInputError
        Naming ``source`` and the first offending variable or attribute: a missing
        variable, wrong dimensions or dtype, a non-finite value, a coordinate out of range,
        a non-positive sigma, an inconsistent footprint or missing attributes.
    """
    if not isinstance(ds, xr.Dataset):
        raise TccasInputError(f"{source}: observation table is a {type(ds).__name__}, "
                              "expected an xarray.Dataset")
    for key in ("stream", "units", "footprint_model"):
        if not isinstance(ds.attrs.get(key), str) or not ds.attrs[key]:
            raise TccasInputError(f"{source}: observation table lacks attribute '{key}'")
    model = ds.attrs["footprint_model"]
    if model not in FOOTPRINT_MODELS:
        raise TccasInputError(f"{source}: attribute 'footprint_model' is {model!r}, "
                              f"expected one of {', '.join(FOOTPRINT_MODELS)}")
    footprint = CORNER_VARIABLES if model == FOOTPRINT_CORNERS else ELLIPSE_VARIABLES
    for name in REQUIRED_VARIABLES + footprint:
        if name not in ds.variables:
            raise TccasInputError(f"{source}: observation table lacks variable '{name}'")
        expected = (OBS_DIM, CORNER_DIM) if name in CORNER_VARIABLES else (OBS_DIM,)
        if ds[name].dims != expected:
            raise TccasInputError(f"{source}: variable '{name}' has dimensions "
                                  f"{ds[name].dims}, expected {expected}")
    if model == FOOTPRINT_CORNERS and ds.sizes[CORNER_DIM] != N_CORNERS:
        raise TccasInputError(f"{source}: dimension '{CORNER_DIM}' has size "
                              f"{ds.sizes[CORNER_DIM]}, expected {N_CORNERS}")
    if ds["time"].dtype != np.dtype("datetime64[ns]"):
        raise TccasInputError(f"{source}: variable 'time' has dtype {ds['time'].dtype}, "
                              "expected datetime64[ns] (UTC)")
    _check(source, "time", ~np.isnat(ds["time"].values), "is not a valid time (NaT)")
    if not np.issubdtype(ds["qc"].dtype, np.unsignedinteger):
        raise TccasInputError(f"{source}: variable 'qc' has dtype {ds['qc'].dtype}, "
                              "expected an unsigned integer bit field")
    names = pd.unique(ds["source"].values.ravel())
    if not all(isinstance(name, str) and name for name in names):
        raise TccasInputError(f"{source}: variable 'source' holds a value that is not a "
                              "non-empty file name")
    floats = ("value", "sigma", "latitude", "longitude", *footprint)
    for name in floats:
        if not np.issubdtype(ds[name].dtype, np.floating):
            raise TccasInputError(f"{source}: variable '{name}' has dtype "
                                  f"{ds[name].dtype}, expected float")
        _check(source, name, np.isfinite(ds[name].values), "is not finite")
    lat = ds["latitude"].values
    lon = ds["longitude"].values
    _check(source, "sigma", ds["sigma"].values > 0, "is not positive")
    _check(source, "latitude", np.abs(lat) <= 90, "is outside [-90, 90] degree_north")
    _check(source, "longitude", np.abs(lon) <= 180, "is outside [-180, 180] degree_east")
    if model == FOOTPRINT_CORNERS:
        corner_lat = ds["corner_latitude"].values
        offset = ds["corner_longitude"].values - lon[:, None]
        _check(source, "corner_latitude", np.abs(corner_lat) <= 90,
               "is outside [-90, 90] degree_north")
        _check(source, "corner_longitude", np.abs(offset) <= 180,
               "is more than 180 degree from the centre longitude (not unwrapped)")
    else:
        major = ds["footprint_semi_major_km"].values
        minor = ds["footprint_semi_minor_km"].values
        angle = ds["footprint_orientation_deg"].values
        _check(source, "footprint_semi_minor_km", (minor > 0) & (minor <= major),
               "is not in (0, footprint_semi_major_km]")
        _check(source, "footprint_orientation_deg", (angle >= 0) & (angle < 180),
               "is outside [0, 180) degree")
        if model == FOOTPRINT_CIRCLE_AFP:
            _check(source, "footprint_semi_minor_km", minor == major,
                   "differs from footprint_semi_major_km for a circle_afp footprint")
    return ds


@contextmanager
def open_product(path: str | Path) -> Iterator[netCDF4.Dataset]:
    """Open a netCDF-4 product file for raw reading, turning I/O failures into user errors.

    The dataset is returned with automatic masking and scaling switched off: readers apply
    ``_FillValue``, ``scale_factor`` and flag decoding themselves, because several products
    declare misleading attributes (EO_FORMATS.md gotchas 3 and 6).

    Parameters
    ----------
    path : the product file.

    Yields
    ------
    netCDF4.Dataset
        Closed again when the ``with`` block ends.

    Raises
    ------
    TccasInputError
        Naming the file, when it does not exist, cannot be opened (empty, truncated, not
        netCDF/HDF5) or fails while being read inside the block (corrupt data).
    """
    path = Path(path)
    if not path.is_file():
        raise TccasInputError(f"{path}: file not found")
    try:
        dataset = netCDF4.Dataset(path, "r")
    except OSError as err:
        raise TccasInputError(
            f"{path}: cannot be opened as netCDF-4 ({err.strerror or err}); the file is "
            f"empty, truncated or not netCDF ({path.stat().st_size} bytes)"
        ) from err
    try:
        dataset.set_auto_maskandscale(False)
        yield dataset
    except (OSError, RuntimeError) as err:
        raise TccasInputError(f"{path}: reading failed ({err}); the file is corrupt") from err
    finally:
        dataset.close()


def _check(source: str, name: str, ok: np.ndarray, what: str) -> None:
    """Raise TccasInputError naming ``source``, ``name`` and the first row where ``ok`` fails."""
    if ok.all():
        return
    index = np.argwhere(~ok)[0]
    raise TccasInputError(f"{source}: variable '{name}' {what} at {OBS_DIM} {int(index[0])}")
