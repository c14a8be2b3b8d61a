"""The study sites of TCCAS (SCIENCE.md, MODEL_SPEC.md 1.1): position, PFT mixture, soil.

PFT fractions for Majadas and Sodankyla are those of the TCCAS training runs (MODEL_SPEC
1.1; Majadas fraction PROPOSED from the dehesa tree cover of about 20-30 %). Reusel's mix is
PROPOSED (agricultural landscape with woodlots in North Brabant). Soil classes are PROPOSED
from the regional soil maps: sandy-loam Cambisols at Majadas, sandy podzol at Sodankyla,
sandy (cover-sand) soils at Reusel.
"""

from __future__ import annotations

from dataclasses import dataclass

from tccas.model.errors import TccasInputError


@dataclass(frozen=True)
class Site:
    """A study site: one model grid cell with its PFT tiles.

    Attributes
    ----------
    name : short lower-case name used on the command line.
    latitude, longitude : [degree] WGS84 position of the tower.
    elevation : [m] above sea level.
    pfts : (PFT short name, cover fraction) pairs, fractions summing to 1.
    soil : soil class name of :data:`tccas.model.parameters.SOIL_CLASSES`.
    utc_offset : [h] local standard time minus UTC (FLUXNET time stamps use it).
    fluxnet_id : the FLUXNET site id.
    """

    name: str
    latitude: float
    longitude: float
    elevation: float
    pfts: tuple[tuple[str, float], ...]
    soil: str
    utc_offset: float
    fluxnet_id: str


SITES: dict[str, Site] = {
    "majadas": Site(
        name="majadas", latitude=39.9426, longitude=-5.7786, elevation=265.0,
        pfts=(("TmEv", 0.25), ("C3Gr", 0.75)), soil="sandy_loam", utc_offset=1.0,
        fluxnet_id="ES-LM1",
    ),
    "sodankyla": Site(
        name="sodankyla", latitude=67.3624, longitude=26.6386, elevation=180.0,
        pfts=(("EvCn", 0.67), ("EShr", 0.33)), soil="sand", utc_offset=2.0,
        fluxnet_id="FI-Sod",
    ),
    "reusel": Site(
        name="reusel", latitude=51.36, longitude=5.16, elevation=30.0,
        pfts=(("ArbC", 0.45), ("C3Gr", 0.30), ("TmSg", 0.15), ("EvCn", 0.10)), soil="sand",
        utc_offset=1.0, fluxnet_id="NL-Reu",
    ),
}


def get_site(name: str) -> Site:
    """The built-in site called ``name`` (case-insensitive)."""
    try:
        return SITES[name.lower()]
    except KeyError:
        raise TccasInputError(
            f"unknown site '{name}'; built-in sites are: {', '.join(sorted(SITES))}"
        ) from None
