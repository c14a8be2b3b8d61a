"""Benchmark of ``tccas ingest``: one year of synthetic TROPOSIF and SMOS over Lapland.

The region is the built-in ``lapland-0.25deg`` (500 x 500 km around Sodankyla, 19 x 47
cells of 0.25 degree, blocks of 8 x 8 cells). The raw files of 2019 are written with the
format writers (:mod:`tccas.catalog.troposif_writer`, :mod:`tccas.catalog.smos_writer`)
from a simple observing pattern, no model run (values are irrelevant to the cost):

* TROPOSIF L2B, one file a day: pixels of 3.5 km across x 5.5 km along track on a
  lattice over the region at the 13:30 local overpass (about 11:45 UTC), thinned by a
  daily cloud field (L2B keeps cloud fraction <= 0.8); no soundings when the noon solar
  zenith angle at Sodankyla exceeds 70 degrees (the L2B upstream filter), i.e. from
  October to early March.
* SMOS L2 SM, two half-orbit granules a day (ascending about 04:15 UTC, descending about
  16:15 UTC): DGG-like points every 15 km over the region with AFP 20-27 km; from
  November to April the points carry the FROST flag (frozen soil fails the screening),
  otherwise a tenth fails the RFI probability.

Figures (BENCHMARKS.md records them):

* ``ingest_files_year``, ``ingest_seconds_year``: files and wall time of ingesting the
  whole year into a new catalogue (two worker threads, ``ingest.workers = 2``);
* ``ingest_peak_memory_mb_year`` and ``ingest_peak_memory_mb_june``: peak resident memory
  of the ingesting process for the year and for June alone (90 files): the ingest must
  not need more memory for more files;
* ``ingest_rows_<stream>``: observation rows in the catalogue;
* ``ingest_catalogue_mb``: size of the catalogue on disk.

Each ingest runs in a fresh subprocess (``python -m tccas.pipeline.bench_ingest RAW OUT``)
so that its peak memory is its own.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tccas.catalog.catalogue import open_catalogue
from tccas.catalog.smos_writer import SmosGranule, write_smos_l2sm
from tccas.catalog.troposif_writer import write_troposif_l2b
from tccas.pipeline.config import load_config
from tccas.pipeline.ingest import run_ingest

CONFIG = "lapland-0.25deg"
OVERRIDES = ("ingest.workers=2",)
YEAR = 2019
#: [km] TROPOMI pixel across and along track at nadir (since August 2019, EO_FORMATS 1.1).
PIXEL_ACROSS_KM, PIXEL_ALONG_KM = 3.5, 5.5
#: [km] spacing of the SMOS points (DGG ISEA 4H9, EO_FORMATS 2.2).
SMOS_SPACING_KM = 15.0
KM_PER_DEGREE = 111.2
LOCAL_OVERPASS_HOURS = {"troposif": 13.5, "smos_ascending": 6.0, "smos_descending": 18.0}


def _noon_zenith(day: dt.date, latitude: float) -> float:
    """[degree] solar zenith angle at noon from the declination (Cooper 1969)."""
    declination = 23.44 * math.sin(2.0 * math.pi * (day.timetuple().tm_yday - 81) / 365.0)
    return abs(latitude - declination)


def _utc(day: dt.date, local_hours: float, longitude: float) -> np.datetime64:
    seconds = round((local_hours - longitude / 15.0) * 3600.0)
    return np.datetime64(day, "s") + np.timedelta64(seconds, "s")


def write_troposif_day(folder: Path, day: dt.date, box: tuple[float, float, float, float],
                       rng: np.random.Generator) -> Path:
    """One L2B file of pixels over ``box`` (west, south, east, north) [degree]."""
    west, south, east, north = box
    centre_lat, centre_lon = 0.5 * (south + north), 0.5 * (west + east)
    dlat = PIXEL_ALONG_KM / KM_PER_DEGREE
    lat = np.arange(south + rng.uniform(0.0, dlat), north, dlat)
    dlon = PIXEL_ACROSS_KM / (KM_PER_DEGREE * np.cos(np.radians(lat)))
    rows = [(np.full(n, y), west + step * (np.arange(n) + rng.uniform()))
            for y, step in zip(lat, dlon, strict=True)
            for n in [int((east - west) / step)]]
    lat = np.concatenate([r[0] for r in rows])
    lon = np.concatenate([r[1] for r in rows])
    half_lon = 0.5 * PIXEL_ACROSS_KM / (KM_PER_DEGREE * np.cos(np.radians(lat)))
    cloud = np.clip(rng.uniform(0.0, 1.0) + 0.4 * rng.standard_normal(lat.size), 0.0, 1.0)
    sunlit = _noon_zenith(day, centre_lat) <= 70.0
    keep = np.flatnonzero((cloud <= 0.8) & sunlit)
    lat, lon, half_lon, cloud = lat[keep], lon[keep], half_lon[keep], cloud[keep]
    seconds = (lat - south) / (north - south) * 70.0  # a 500 km pass takes about 70 s
    time = (_utc(day, LOCAL_OVERPASS_HOURS["troposif"], centre_lon).astype("datetime64[ms]")
            + np.round(seconds * 1000.0).astype("timedelta64[ms]"))
    n = lat.size
    half_lat = 0.5 * dlat
    return write_troposif_l2b(folder / (
        f"S5P_PAL__L2B_SIF____{day:%Y%m%d}T000000_{day + dt.timedelta(days=1):%Y%m%d}"
        f"T000000_{day:%Y%m%d}T120000.nc"), {
        "time": time.astype("datetime64[ns]"), "latitude": lat, "longitude": lon,
        "latitude_bounds": np.stack([lat - half_lat, lat - half_lat, lat + half_lat,
                                     lat + half_lat], 1),
        "longitude_bounds": np.stack([lon - half_lon, lon + half_lon, lon + half_lon,
                                      lon - half_lon], 1),
        "SIF_743": rng.normal(0.3, 0.4, n), "SIF_735": rng.normal(0.3, 0.3, n),
        "SIF_ERROR_743": rng.uniform(0.3, 0.5, n), "SIF_ERROR_735": rng.uniform(0.2, 0.4, n),
        "solar_zenith_angle": np.full(n, _noon_zenith(day, centre_lat)),
        "viewing_zenith_angle": rng.uniform(0.0, 60.0, n), "cloud_fraction_L2": cloud},
        day)


def smos_points(box: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude [degree] of a hexagonal lattice of SMOS points over ``box``."""
    west, south, east, north = box
    dlat = SMOS_SPACING_KM * math.sqrt(3.0) / 2.0 / KM_PER_DEGREE
    lons, lats = [], []
    for row, y in enumerate(np.arange(south, north, dlat)):
        dlon = SMOS_SPACING_KM / (KM_PER_DEGREE * math.cos(math.radians(y)))
        x = np.arange(west + 0.5 * dlon * (row % 2), east, dlon)
        lons.append(x)
        lats.append(np.full(x.size, y))
    return np.concatenate(lons), np.concatenate(lats)


def write_smos_day(folder: Path, day: dt.date, points: tuple[np.ndarray, np.ndarray],
                   orbit: int, rng: np.random.Generator) -> list[Path]:
    """The ascending and descending granules of a day over the points."""
    lon, lat = points
    n = lon.size
    frozen = day.month in (11, 12, 1, 2, 3, 4)
    paths = []
    for k, (name, ascending) in enumerate((("smos_ascending", True),
                                           ("smos_descending", False))):
        start = _utc(day, LOCAL_OVERPASS_HOURS[name], float(lon.mean())) - np.timedelta64(
            300, "s")
        granule = SmosGranule(
            sensing_start=start, sensing_stop=start + np.timedelta64(3000, "s"),
            ascending=ascending, absolute_orbit=orbit + k, utc_at_anx=start,
            longitude_at_anx=float(lon.mean()))
        x_swath = rng.uniform(-500.0, 500.0)
        across = x_swath + (lon - lon.mean()) * KM_PER_DEGREE * np.cos(np.radians(lat))
        paths.append(write_smos_l2sm(folder, {
            "Latitude": lat, "Longitude": lon,
            "Grid_Point_ID": 2_000_000 + np.arange(n),
            "time": np.datetime64(start, "us") + np.timedelta64(600, "s")
            + ((lat - lat.min()) * 1.5e7).astype("timedelta64[us]"),
            "Soil_Moisture": rng.uniform(0.1, 0.4, n), "Soil_Moisture_DQX": np.full(n, 0.04),
            "Optical_Thickness_Nad": rng.uniform(0.2, 0.6, n),
            "Optical_Thickness_Nad_DQX": np.full(n, 0.09),
            "AFP": 20.4 + 6.5 * (np.abs(across) / 500.0) ** 2, "X_Swath": across,
            "RFI_Prob": np.where(rng.uniform(size=n) < 0.1, 0.5, 0.02),
            "Chi_2_P": np.full(n, 0.5), "Chi_2": np.full(n, 10.0),
            "Science_Flags": np.full(n, 1 << 11 if frozen else 0),  # bit 11: FL_FROST
            "Confidence_Flags": np.zeros(n)}, granule))
    return paths


def write_days(folder: Path, box: tuple[float, float, float, float], first: dt.date,
               n_days: int) -> dict[dt.date, list[Path]]:
    """The raw files of ``n_days`` days from ``first`` into ``folder``, by day."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(first.toordinal())
    points = smos_points(box)
    files = {}
    for k in range(n_days):
        day = first + dt.timedelta(days=k)
        files[day] = [write_troposif_day(folder, day, box, rng),
                      *write_smos_day(folder, day, points, 2 * day.toordinal(), rng)]
    return files


def measure_ingest(raw: Path, out: Path) -> dict[str, float]:
    """Ingest ``raw`` into ``out`` in this process: wall time and peak memory."""
    config = load_config(CONFIG, list(OVERRIDES))
    start = time.perf_counter()
    run_ingest(config, raw, out, show_progress=False)
    return {"seconds": time.perf_counter() - start,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}


def _ingest_subprocess(raw: Path, out: Path) -> dict[str, float]:
    result = subprocess.run([sys.executable, "-m", "tccas.pipeline.bench_ingest", str(raw),
                             str(out)], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def ingest_benchmarks() -> dict[str, float]:
    """Write a year of raw files, ingest June alone and the whole year (fresh processes)."""
    box = load_config(CONFIG).region.model_grid().bounds
    with tempfile.TemporaryDirectory(prefix="tccas-bench-ingest-") as tmp:
        folder = Path(tmp)
        year, june = folder / "year", folder / "june"
        june.mkdir()
        first = dt.date(YEAR, 1, 1)
        files = write_days(year, box, first, (dt.date(YEAR + 1, 1, 1) - first).days)
        for day, paths in files.items():
            for path in paths if day.month == 6 else ():
                (june / path.name).hardlink_to(path)
        june_figures = _ingest_subprocess(june, folder / "june.zarr")
        year_figures = _ingest_subprocess(year, folder / "year.zarr")
        catalogue = open_catalogue(folder / "year.zarr")
        size = sum(p.stat().st_size for p in (folder / "year.zarr").rglob("*") if p.is_file())
        figures = {
            "ingest_files_year": float(sum(len(paths) for paths in files.values())),
            "ingest_seconds_year": year_figures["seconds"],
            "ingest_peak_memory_mb_year": year_figures["peak_mb"],
            "ingest_files_june": float(len(list(june.iterdir()))),
            "ingest_seconds_june": june_figures["seconds"],
            "ingest_peak_memory_mb_june": june_figures["peak_mb"],
            "ingest_catalogue_mb": size / 2**20,
        }
        for stream in catalogue.streams:
            figures[f"ingest_rows_{stream}"] = float(
                catalogue.observation_table(stream).sizes["obs"])
        return figures


if __name__ == "__main__":
    if len(sys.argv) == 3:
        print(json.dumps(measure_ingest(Path(sys.argv[1]), Path(sys.argv[2]))))
    else:
        print(json.dumps(ingest_benchmarks()))
