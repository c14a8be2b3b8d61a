"""Hourly meteorological forcing in model units (SI), one time series per meteorology cell.

This is the single unit boundary of the model: readers and the weather generator convert
product units (ERA5, FLUXNET, ALMA) into this object with named conversion functions, and
the kernels only ever see these units.

Time convention: step ``i`` covers the hour ``[start + i h, start + (i + 1) h)`` in UTC.
Fluxes (radiation, precipitation) are means over that hour; state-like variables
(temperature, VPD, pressure, wind, CO2) are representative of the hour (its mid-point).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from tccas.model.errors import TccasInputError

# name -> (unit, physically plausible [min, max]) used by validate(); ranges are wide
# bounds that only catch unit mistakes and corrupt values, not climate extremes.
FORCING_VARIABLES: dict[str, tuple[str, float, float]] = {
    "air_temperature": ("K", 180.0, 340.0),
    "shortwave_down": ("W m-2", 0.0, 1500.0),
    "longwave_down": ("W m-2", 30.0, 700.0),
    "precipitation": ("kg m-2 s-1", 0.0, 0.1),
    "vapour_pressure_deficit": ("Pa", 0.0, 15000.0),
    "surface_pressure": ("Pa", 30000.0, 110000.0),
    "wind_speed": ("m s-1", 0.0, 75.0),
    "co2": ("mol mol-1", 1.0e-4, 2.0e-3),
}


@dataclass(frozen=True)
class Forcing:
    """Hourly forcing for ``n_met`` meteorology cells.

    Every array has shape ``(n_met, n_hour)``, float64, C-contiguous (one cell's series is
    contiguous, which is what the tile-outer, hour-inner model loop reads).

    Attributes
    ----------
    start : numpy.datetime64
        UTC start of the first hourly step (hour resolution).
    air_temperature : [K] 2 m air temperature.
    shortwave_down : [W m-2] downward short-wave radiation at the surface, hourly mean.
    longwave_down : [W m-2] downward long-wave radiation at the surface, hourly mean.
    precipitation : [kg m-2 s-1] total precipitation (rain + snow), hourly mean rate.
    vapour_pressure_deficit : [Pa] vapour pressure deficit of the air.
    surface_pressure : [Pa] surface air pressure.
    wind_speed : [m s-1] wind speed (10 m or tower height).
    co2 : [mol mol-1] atmospheric CO2 mole fraction.
    """

    start: np.datetime64
    air_temperature: np.ndarray
    shortwave_down: np.ndarray
    longwave_down: np.ndarray
    precipitation: np.ndarray
    vapour_pressure_deficit: np.ndarray
    surface_pressure: np.ndarray
    wind_speed: np.ndarray
    co2: np.ndarray

    @property
    def n_met(self) -> int:
        return self.air_temperature.shape[0]

    @property
    def n_hour(self) -> int:
        return self.air_temperature.shape[1]

    @property
    def times(self) -> np.ndarray:
        """UTC start time of every hourly step, ``datetime64[h]``."""
        return np.datetime64(self.start, "h") + np.arange(self.n_hour).astype("timedelta64[h]")

    def arrays(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "start"}

    def validate(self, source: str = "forcing") -> Forcing:
        """Check shapes, finiteness and plausible ranges; raise TccasInputError naming
        ``source``, the variable, the first offending value and its time."""
        shape = self.air_temperature.shape
        times = None
        for name, (unit, lo, hi) in FORCING_VARIABLES.items():
            values = getattr(self, name)
            if values.ndim != 2 or values.shape != shape:
                raise TccasInputError(
                    f"{source}: variable '{name}' has shape {values.shape}, expected {shape}"
                )
            bad = ~np.isfinite(values)
            what = "is not finite"
            if not bad.any():
                bad = (values < lo) | (values > hi)
                what = f"is outside the plausible range [{lo}, {hi}] {unit}"
            if bad.any():
                cell, hour = (int(i[0]) for i in np.nonzero(bad))
                times = self.times if times is None else times
                raise TccasInputError(
                    f"{source}: variable '{name}' value {values[cell, hour]!r} at "
                    f"{times[hour]} (cell {cell}) {what}"
                )
        return self

    def slice_hours(self, first: int, stop: int) -> Forcing:
        """The forcing of hours ``first .. stop - 1`` (a new object, arrays copied)."""
        start = np.datetime64(self.start, "h") + np.timedelta64(first, "h")
        return Forcing(
            start=start,
            **{k: np.ascontiguousarray(v[:, first:stop]) for k, v in self.arrays().items()},
        )


def make_forcing(start: np.datetime64 | str, **arrays: np.ndarray) -> Forcing:
    """Build a :class:`Forcing` from 1-D (one cell) or 2-D ``(n_met, n_hour)`` arrays."""
    missing = sorted(set(FORCING_VARIABLES) - set(arrays))
    if missing:
        raise TccasInputError(f"forcing: missing variable(s) {', '.join(missing)}")
    extra = sorted(set(arrays) - set(FORCING_VARIABLES))
    if extra:
        raise TccasInputError(f"forcing: unknown variable(s) {', '.join(extra)}")
    converted = {
        k: np.ascontiguousarray(np.atleast_2d(np.asarray(v, dtype=np.float64)))
        for k, v in arrays.items()
    }
    return Forcing(start=np.datetime64(start, "h"), **converted)
