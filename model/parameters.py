"""The parameter table of D&B: every per-PFT parameter, operator parameter and constant.

This module is data, not code: one place for names, units, prior values, prior sigmas,
bounds and sources. Kernels read constants from here (as compile-time globals), the block
driver builds per-tile parameter arrays from here, and the assimilation builds its control
vector and prior from here.

Sources (keys used in the ``source`` fields):

* ``BETHY``  Knorr (2000) Glob. Ecol. Biogeogr. 9:225, doi:10.1046/j.1365-2699.2000.00159.x;
  Knorr et al. (2010) JGR 115 G04017, doi:10.1029/2009JG001119 (code S4 of MODEL_SPEC.md).
* ``DALEC2`` Bloom & Williams (2015) Biogeosciences 12:1299, doi:10.5194/bg-12-1299-2015.
* ``CARDAMOM`` parameter ranges of DALEC_1025 (``PARS_INFO_1025.c``, MODEL_SPEC 5.2).
* ``TCCAS`` prior of the TCCAS r10043 training configuration (MODEL_SPEC 5.2), used for the
  PFTs of the two TCCAS sites: TmEv and C3Gr (ES-LM1), EvCn and EShr (FI-Sod).
* ``RAWLS82`` Rawls, Brakensiek & Saxton (1982) Trans. ASAE 25:1316,
  doi:10.13031/2013.33720 (soil water retention by texture class).
* ``PROPOSED`` our choice where the sources are silent; the reason is in ``note``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tccas.model.errors import TccasInputError

# ---------------------------------------------------------------------------------------
# Plant functional types (MODEL_SPEC 4.3)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlantFunctionalType:
    """Structural (not optimised) properties of one BETHY PFT.

    Attributes
    ----------
    code : BETHY PFT code 1..13.
    short : short name, e.g. ``"EvCn"``.
    description : long name.
    is_c4 : C4 photosynthesis (Collatz et al. 1992) instead of C3 (Farquhar et al. 1980).
    vegetation_height : [m] canopy height for the aerodynamic conductance (BETHY / 10;
        checked for EvCn against D&B output, MODEL_SPEC 3.1).
    canopy_nitrogen_scaling : exponential Vcmax scaling through the canopy (trees, shrubs,
        crops); grasses use a uniform profile (MODEL_SPEC 2.2).
    rooting_depth : [m] depth of the root zone. PROPOSED: typical rooting depths by life
        form (Canadell et al. 1996, Oecologia 108:583, doi:10.1007/BF00329030, scaled to
        the depth holding most roots): trees 1.5 m, shrubs 1.0 m, grass 0.6 m, tundra and
        wetland 0.3 m, crops 1.0 m.
    """

    code: int
    short: str
    description: str
    is_c4: bool
    vegetation_height: float
    canopy_nitrogen_scaling: bool
    rooting_depth: float


PFTS: tuple[PlantFunctionalType, ...] = (
    PlantFunctionalType(1, "TrEv", "tropical broadleaf evergreen tree", False, 30.0, True, 1.5),
    PlantFunctionalType(2, "TrDD", "tropical broadleaf deciduous tree", False, 15.0, True, 1.5),
    PlantFunctionalType(3, "TmEv", "temperate broadleaf evergreen tree", False, 15.0, True, 1.5),
    PlantFunctionalType(4, "TmSg", "temperate broadleaf summergreen tree", False, 15.0, True, 1.5),
    PlantFunctionalType(5, "EvCn", "evergreen coniferous tree", False, 15.0, True, 1.5),
    PlantFunctionalType(6, "SgCn", "deciduous coniferous tree", False, 15.0, True, 1.5),
    PlantFunctionalType(7, "EShr", "evergreen shrub", False, 1.0, True, 1.0),
    PlantFunctionalType(8, "DShr", "deciduous shrub", False, 1.0, True, 1.0),
    PlantFunctionalType(9, "C3Gr", "C3 grass", False, 1.0, False, 0.6),
    PlantFunctionalType(10, "C4Gr", "C4 grass", True, 1.0, False, 0.6),
    PlantFunctionalType(11, "TunV", "tundra vegetation", False, 0.3, False, 0.3),
    PlantFunctionalType(12, "WetV", "wetland / swamp vegetation", False, 0.3, False, 0.3),
    PlantFunctionalType(13, "ArbC", "arable crop", False, 0.6, True, 1.0),
)
N_PFT = len(PFTS)
PFT_BY_SHORT = {p.short: p for p in PFTS}


def pft_code(short: str) -> int:
    """BETHY code of the PFT called ``short`` (e.g. ``"C3Gr"`` -> 9)."""
    try:
        return PFT_BY_SHORT[short].code
    except KeyError:
        raise TccasInputError(
            f"unknown PFT '{short}'; known PFTs are: {', '.join(PFT_BY_SHORT)}"
        ) from None


# ---------------------------------------------------------------------------------------
# Per-PFT process parameters and initial pools (the control-vector candidates)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParameterSpec:
    """One per-PFT parameter.

    ``prior`` holds the prior value for PFT codes 1..13 (index code - 1); ``sigma_relative``
    is the prior standard deviation as a fraction of the prior value (TCCAS: 20 % for
    process parameters and pools); ``lower``/``upper`` are the box bounds used by the
    optimiser; ``positive`` marks parameters optimised in log space.
    """

    name: str
    unit: str
    description: str
    prior: tuple[float, ...]
    sigma_relative: float
    lower: float
    upper: float
    source: str
    positive: bool = True
    note: str = ""


def _by_pft(**values: float) -> tuple[float, ...]:
    """Prior values given by PFT short name -> tuple in code order; all 13 required."""
    missing = set(PFT_BY_SHORT) - set(values)
    if missing:
        raise ValueError(f"missing PFT values: {sorted(missing)}")
    return tuple(float(values[p.short]) for p in PFTS)


# DALEC2 prior sets. TmEv and C3Gr come from ES-LM1, EvCn and EShr from FI-Sod (TCCAS).
# The other PFTs are PROPOSED: they borrow the closest TCCAS set and change what makes the
# life form (deciduous sets get clspan ~ 1, spring onset and autumn fall dates and a
# larger labile share; crops a short summer season, a small wood pool and a modest leaf
# allocation: with canopy nitrogen scaling deep leaves cost little respiration, and a
# leaf-heavy crop set (f_fol 0.4, LMA 30) ran away to LAI 14 at DK-Fou, VALIDATION.md).
_GENERIC_NOTE = (
    "TmEv/C3Gr from ES-LM1, EvCn/EShr from FI-Sod (TCCAS r10043 prior); other PFTs PROPOSED "
    "from the closest TCCAS set, adjusted for phenology type"
)

_DALEC_SETS: dict[str, dict[str, float]] = {
    "TmEv": dict(theta_min=3.039e-4, f_auto=0.4016, f_fol=0.04981, f_roo=0.3554, clspan=1.104,
                 theta_woo=6.647e-5, theta_roo=5.876e-3, theta_lit=6.875e-3, theta_som=2.479e-5,
                 temp_sensitivity=0.05102, c_eff=22.30, d_onset=74.31, f_lab=0.2200,
                 cr_onset=74.18, d_fall=157.4, cr_fall=54.63, lma=67.67,
                 c_labile_init=34.57, c_foliage_init=36.34, c_root_init=34.92,
                 c_wood_init=6737.0, c_litter_init=12.90, c_som_init=1.182e4),
    "C3Gr": dict(theta_min=2.585e-3, f_auto=0.5393, f_fol=0.3613, f_roo=0.7059, clspan=1.008,
                 theta_woo=7.321e-4, theta_roo=8.706e-3, theta_lit=5.507e-4, theta_som=3.957e-5,
                 temp_sensitivity=0.03425, c_eff=14.26, d_onset=77.34, f_lab=0.4193,
                 cr_onset=28.09, d_fall=122.0, cr_fall=65.05, lma=46.94,
                 c_labile_init=60.99, c_foliage_init=24.84, c_root_init=10.64,
                 c_wood_init=89.57, c_litter_init=16.35, c_som_init=1.547e4),
    "EvCn": dict(theta_min=4.564e-4, f_auto=0.4198, f_fol=0.1181, f_roo=0.2770, clspan=1.189,
                 theta_woo=1.252e-4, theta_roo=7.203e-3, theta_lit=5.907e-3, theta_som=1.565e-5,
                 temp_sensitivity=0.04813, c_eff=20.83, d_onset=156.1, f_lab=0.1359,
                 cr_onset=29.28, d_fall=230.3, cr_fall=50.86, lma=36.11,
                 c_labile_init=30.48, c_foliage_init=29.29, c_root_init=17.86,
                 c_wood_init=3072.0, c_litter_init=60.24, c_som_init=4.091e4),
    "EShr": dict(theta_min=3.316e-4, f_auto=0.4555, f_fol=0.1666, f_roo=0.3205, clspan=1.519,
                 theta_woo=1.318e-4, theta_roo=4.266e-3, theta_lit=1.320e-3, theta_som=3.61e-6,
                 temp_sensitivity=0.04045, c_eff=20.91, d_onset=69.18, f_lab=0.09313,
                 cr_onset=33.29, d_fall=258.5, cr_fall=40.57, lma=69.86,
                 c_labile_init=3.751, c_foliage_init=16.16, c_root_init=7.725,
                 c_wood_init=500.7, c_litter_init=41.04, c_som_init=3.489e4),
}
_DECIDUOUS_TREE = dict(clspan=1.001, d_onset=110.0, cr_onset=30.0, d_fall=285.0, cr_fall=30.0,
                       f_fol=0.20, f_lab=0.35, lma=35.0, c_labile_init=150.0,
                       c_foliage_init=5.0, c_root_init=200.0, c_wood_init=8000.0,
                       c_litter_init=200.0, c_som_init=1.0e4)
_DALEC_SETS["TrEv"] = dict(_DALEC_SETS["TmEv"])
_DALEC_SETS["TrDD"] = {**_DALEC_SETS["TmEv"], **_DECIDUOUS_TREE}
_DALEC_SETS["TmSg"] = {**_DALEC_SETS["TmEv"], **_DECIDUOUS_TREE}
_DALEC_SETS["SgCn"] = {**_DALEC_SETS["EvCn"], **_DECIDUOUS_TREE, "d_onset": 140.0,
                       "d_fall": 270.0, "lma": 40.0}
_DALEC_SETS["DShr"] = {**_DALEC_SETS["EShr"], "clspan": 1.001, "d_onset": 140.0,
                       "d_fall": 260.0, "cr_fall": 30.0, "f_lab": 0.30, "lma": 40.0,
                       "c_labile_init": 30.0, "c_foliage_init": 2.0}
_DALEC_SETS["C4Gr"] = dict(_DALEC_SETS["C3Gr"])
_DALEC_SETS["TunV"] = {**_DALEC_SETS["EShr"], "lma": 40.0, "c_wood_init": 100.0}
_DALEC_SETS["WetV"] = {**_DALEC_SETS["C3Gr"], "d_onset": 140.0, "d_fall": 250.0,
                       "cr_fall": 40.0}
_DALEC_SETS["ArbC"] = {**_DALEC_SETS["C3Gr"], "clspan": 1.001, "d_onset": 115.0,
                       "cr_onset": 20.0, "d_fall": 230.0, "cr_fall": 20.0, "f_fol": 0.12,
                       "f_lab": 0.30, "f_roo": 0.30, "lma": 45.0, "theta_woo": 1.0e-3,
                       "c_labile_init": 40.0, "c_foliage_init": 2.0, "c_wood_init": 20.0,
                       "c_som_init": 8.0e3}


def _dalec(name: str) -> tuple[float, ...]:
    return _by_pft(**{pft: values[name] for pft, values in _DALEC_SETS.items()})


_VCMAX25 = _by_pft(TrEv=60e-6, TrDD=90e-6, TmEv=41e-6, TmSg=35e-6, EvCn=29e-6, SgCn=53e-6,
                   EShr=52e-6, DShr=160e-6, C3Gr=42e-6, C4Gr=8e-6, TunV=20e-6, WetV=20e-6,
                   ArbC=117e-6)
_A_JV = _by_pft(TrEv=1.96, TrDD=1.99, TmEv=2.00, TmSg=2.00, EvCn=1.79, SgCn=1.79, EShr=1.96,
                DShr=1.66, C3Gr=1.90, C4Gr=1.90, TunV=1.85, WetV=1.85, ArbC=1.88)
_ONES = _by_pft(**{p.short: 1.0 for p in PFTS})

PARAMETERS: tuple[ParameterSpec, ...] = (
    ParameterSpec("vcmax25", "mol m-2 s-1", "maximum carboxylation rate at 25 C, canopy top",
                  _VCMAX25, 0.2, 1e-6, 3e-4, "BETHY"),
    ParameterSpec("a_jv", "1", "Jmax/Vcmax at 25 C (C3; unused for C4)", _A_JV, 0.05, 1.0,
                  3.5, "BETHY"),
    ParameterSpec("water_capacity_factor", "1",
                  "scaling of the plant-available root-zone water capacity", _ONES, 0.2, 0.2,
                  5.0, "PROPOSED",
                  note="TCCAS control entries n+1..2n (prior 1, 20 %) are unidentified "
                       "(MODEL_SPEC 5.1/9.2); we give them the role BETHY's CCDAS gives the "
                       "bucket size, the most influential water parameter"),
    ParameterSpec("theta_min", "d-1", "litter to SOM transfer rate", _dalec("theta_min"), 0.2,
                  1e-5, 1e-2, "TCCAS", note=_GENERIC_NOTE),
    ParameterSpec("f_auto", "1", "DALEC autotrophic fraction (inert: Ra comes from BETHY)",
                  _dalec("f_auto"), 0.2, 0.2, 0.8, "TCCAS", note=_GENERIC_NOTE),
    ParameterSpec("f_fol", "1", "fraction of NPP allocated to foliage", _dalec("f_fol"), 0.2,
                  0.01, 0.5, "TCCAS", note=_GENERIC_NOTE),
    ParameterSpec("f_roo", "1", "fraction of remaining NPP allocated to roots",
                  _dalec("f_roo"), 0.2, 0.01, 1.0, "TCCAS", note=_GENERIC_NOTE),
    ParameterSpec("clspan", "yr", "leaf lifespan (1 = deciduous)", _dalec("clspan"), 0.2,
                  1.001, 8.0, "TCCAS", note=_GENERIC_NOTE),
    ParameterSpec("theta_woo", "d-1", "wood turnover rate", _dalec("theta_woo"), 0.2, 2.5e-5,
                  1e-3, "TCCAS", note=_GENERIC_NOTE),
    ParameterSpec("theta_roo", "d-1", "fine-root turnover rate", _dalec("theta_roo"), 0.2,
                  1e-4, 1e-2, "TCCAS", note=_GENERIC_NOTE),
    ParameterSpec("theta_lit", "d-1", "litter decomposition rate", _dalec("theta_lit"), 0.2,
                  1e-4, 1e-2, "TCCAS", note=_GENERIC_NOTE),
    ParameterSpec("theta_som", "d-1", "SOM decomposition rate", _dalec("theta_som"), 0.2,
                  1e-7, 1e-3, "TCCAS", note=_GENERIC_NOTE),
    ParameterSpec("temp_sensitivity", "degC-1", "temperature sensitivity of decomposition",
                  _dalec("temp_sensitivity"), 0.2, 0.018, 0.08, "TCCAS", note=_GENERIC_NOTE),
    ParameterSpec("c_eff", "gC m-2 d-1", "ACM canopy efficiency (inert: GPP from BETHY)",
                  _dalec("c_eff"), 0.2, 5.0, 50.0, "TCCAS", note=_GENERIC_NOTE),
    ParameterSpec("d_onset", "day of year", "centre of the labile release (leaf onset)",
                  _dalec("d_onset"), 0.2, 1.0, 365.0, "TCCAS", note=_GENERIC_NOTE),
    ParameterSpec("f_lab", "1", "fraction of remaining NPP allocated to labile",
                  _dalec("f_lab"), 0.2, 0.01, 0.5, "TCCAS", note=_GENERIC_NOTE),
    ParameterSpec("cr_onset", "d", "duration of the labile release", _dalec("cr_onset"), 0.2,
                  10.0, 150.0, "TCCAS",
                  note=_GENERIC_NOTE + "; lower bound 10 d PROPOSED: the TCCAS priors (28.1, "
                       "29.3 d) lie below CARDAMOM's 365.25/12"),
    ParameterSpec("d_fall", "day of year", "centre of leaf fall", _dalec("d_fall"), 0.2, 1.0,
                  365.0, "TCCAS", note=_GENERIC_NOTE),
    ParameterSpec("cr_fall", "d", "duration of leaf fall", _dalec("cr_fall"), 0.2, 10.0,
                  150.0, "TCCAS", note=_GENERIC_NOTE + "; lower bound as cr_onset"),
    ParameterSpec("lma", "gC m-2", "leaf carbon mass per area", _dalec("lma"), 0.2, 5.0, 200.0,
                  "TCCAS", note=_GENERIC_NOTE),
    ParameterSpec("c_labile_init", "gC m-2", "initial labile carbon", _dalec("c_labile_init"),
                  0.2, 1.0, 2000.0, "TCCAS", note=_GENERIC_NOTE),
    ParameterSpec("c_foliage_init", "gC m-2", "initial foliage carbon",
                  _dalec("c_foliage_init"), 0.2, 0.5, 2000.0, "TCCAS", note=_GENERIC_NOTE),
    ParameterSpec("c_root_init", "gC m-2", "initial fine-root carbon", _dalec("c_root_init"),
                  0.2, 1.0, 2000.0, "TCCAS", note=_GENERIC_NOTE),
    ParameterSpec("c_wood_init", "gC m-2", "initial wood carbon", _dalec("c_wood_init"), 0.2,
                  5.0, 1.0e5, "TCCAS", note=_GENERIC_NOTE),
    ParameterSpec("c_litter_init", "gC m-2", "initial litter carbon", _dalec("c_litter_init"),
                  0.2, 1.0, 2000.0, "TCCAS", note=_GENERIC_NOTE),
    ParameterSpec("c_som_init", "gC m-2", "initial soil organic carbon", _dalec("c_som_init"),
                  0.2, 100.0, 2.0e5, "TCCAS", note=_GENERIC_NOTE),
)
PARAMETER_NAMES: tuple[str, ...] = tuple(p.name for p in PARAMETERS)
PARAMETER_BY_NAME = {p.name: p for p in PARAMETERS}
N_PARAMETER = len(PARAMETERS)

# Column indices of the per-tile parameter array (kernels use these as compile-time
# constants); tests/model/test_parameters.py checks they match PARAMETER_NAMES.
P_VCMAX25 = 0
P_A_JV = 1
P_WATER_CAPACITY_FACTOR = 2
P_THETA_MIN = 3
P_F_AUTO = 4
P_F_FOL = 5
P_F_ROO = 6
P_CLSPAN = 7
P_THETA_WOO = 8
P_THETA_ROO = 9
P_THETA_LIT = 10
P_THETA_SOM = 11
P_TEMP_SENSITIVITY = 12
P_C_EFF = 13
P_D_ONSET = 14
P_F_LAB = 15
P_CR_ONSET = 16
P_D_FALL = 17
P_CR_FALL = 18
P_LMA = 19
P_C_LABILE_INIT = 20
P_C_FOLIAGE_INIT = 21
P_C_ROOT_INIT = 22
P_C_WOOD_INIT = 23
P_C_LITTER_INIT = 24
P_C_SOM_INIT = 25

# ---------------------------------------------------------------------------------------
# Observation-operator parameters (global; MODEL_SPEC 5.1 and 6.4)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OperatorParameterSpec:
    """A global observation-operator parameter with its prior (TCCAS: 50 % sigma)."""

    name: str
    unit: str
    description: str
    prior: float
    sigma_relative: float
    lower: float
    upper: float
    source: str
    note: str = ""


OPERATOR_PARAMETERS: tuple[OperatorParameterSpec, ...] = (
    OperatorParameterSpec("vod_l_wd", "m2 gC-1", "L-VOD wood biomass coefficient", 2e-4, 0.5,
                          1e-6, 2e-3, "TCCAS", note="VOD reconstruction, MODEL_SPEC 6.4"),
    OperatorParameterSpec("vod_l_s", "1", "L-VOD soil-water coefficient", 1.2, 0.5, 0.0, 5.0,
                          "TCCAS", note="assignment of 1.2 vs 2.0 to l_s/l_f uncertain"),
    OperatorParameterSpec("vod_l_fol", "m2 gC-1", "L-VOD foliage biomass coefficient", 2e-4,
                          0.5, 1e-6, 2e-3, "TCCAS"),
    OperatorParameterSpec("vod_l_f", "1", "L-VOD plant-water-status coefficient", 2.0, 0.5,
                          0.0, 5.0, "TCCAS"),
    OperatorParameterSpec("vod_l_0", "1", "L-VOD constant water-status term", 0.4, 0.5, 0.0,
                          3.0, "TCCAS"),
    OperatorParameterSpec("sif_scale", "1", "scaling of leaf fluorescence yield", 1.0, 1.0,
                          0.05, 10.0, "PROPOSED",
                          note="sixth TCCAS operator entry (prior 1, sigma 1) is unidentified; "
                               "a SIF scaling is the most plausible candidate (MODEL_SPEC 5.1)"),
)

# ---------------------------------------------------------------------------------------
# Soil classes (static inputs, MODEL_SPEC 4.2)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SoilClass:
    """Hydraulic and optical constants of a soil texture class.

    Volumetric contents [m3 m-3] at saturation, field capacity (-33 kPa), wilting point
    (-1500 kPa) and residual, after RAWLS82 class means. Broadband dry/wet soil albedos are
    PROPOSED typical values for the texture (Wilson & Henderson-Sellers 1985, J. Climatol.
    5:119, doi:10.1002/joc.3370050202).
    """

    name: str
    theta_sat: float
    theta_fc: float
    theta_wp: float
    theta_res: float
    albedo_dry: float
    albedo_wet: float


SOIL_CLASSES: dict[str, SoilClass] = {
    s.name: s
    for s in (
        SoilClass("sand", 0.437, 0.091, 0.033, 0.020, 0.35, 0.20),
        SoilClass("loamy_sand", 0.437, 0.125, 0.055, 0.035, 0.32, 0.18),
        SoilClass("sandy_loam", 0.453, 0.207, 0.095, 0.041, 0.28, 0.15),
        SoilClass("loam", 0.463, 0.270, 0.117, 0.027, 0.24, 0.12),
        SoilClass("silt_loam", 0.501, 0.330, 0.133, 0.015, 0.22, 0.11),
        SoilClass("clay_loam", 0.464, 0.318, 0.197, 0.075, 0.20, 0.10),
        SoilClass("clay", 0.475, 0.396, 0.272, 0.090, 0.18, 0.09),
    )
}


def soil_class(name: str) -> SoilClass:
    """The soil class called ``name``."""
    try:
        return SOIL_CLASSES[name]
    except KeyError:
        raise TccasInputError(
            f"unknown soil class '{name}'; known classes are: {', '.join(SOIL_CLASSES)}"
        ) from None


# ---------------------------------------------------------------------------------------
# Fixed constants (MODEL_SPEC 2, 3, 5.3). Kernels import these names as floats.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Constant:
    value: float
    unit: str
    description: str
    source: str


CONSTANTS: dict[str, Constant] = {
    # physics
    "R_GAS": Constant(8.314, "J mol-1 K-1", "universal gas constant", "BETHY"),
    "T_ZERO": Constant(273.15, "K", "0 degC", "SI"),
    "STEFAN_BOLTZMANN": Constant(5.670374e-8, "W m-2 K-4", "Stefan-Boltzmann constant", "SI"),
    "CP_AIR": Constant(1005.46, "J kg-1 K-1", "specific heat of air", "BETHY"),
    "EPSILON_RATIO": Constant(0.622, "1", "R_dry/R_vapour", "BETHY"),
    "M_AIR": Constant(28.964e-3, "kg mol-1", "molar mass of dry air", "BETHY"),
    "SOLAR_CONSTANT": Constant(1361.0, "W m-2", "total solar irradiance",
                               "Kopp & Lean 2011, doi:10.1029/2010GL045777"),
    "M_CARBON": Constant(12.011e-3, "kg mol-1", "molar mass of carbon", "SI"),
    # photosynthesis (MODEL_SPEC 2.3-2.6, 5.3)
    "KC25": Constant(460e-6, "mol mol-1", "Michaelis constant CO2 at 25 C", "BETHY"),
    "KO25": Constant(0.33, "mol mol-1", "Michaelis constant O2 at 25 C", "BETHY"),
    "O2": Constant(0.21, "mol mol-1", "oxygen mole fraction", "BETHY"),
    "E_KC": Constant(59356.0, "J mol-1", "activation energy of Kc", "BETHY"),
    "E_KO": Constant(35948.0, "J mol-1", "activation energy of Ko", "BETHY"),
    "E_VCMAX": Constant(58520.0, "J mol-1", "activation energy of Vcmax", "BETHY"),
    "E_RD": Constant(45000.0, "J mol-1", "activation energy of dark respiration", "BETHY"),
    "E_K4": Constant(50967.0, "J mol-1", "activation energy of C4 PEPcase constant", "BETHY"),
    "GAMMA_STAR_SLOPE": Constant(1.7e-6, "mol mol-1 degC-1", "CO2 compensation point slope",
                                 "BETHY"),
    "ALPHA_C3": Constant(0.28, "mol mol-1", "electron yield of absorbed photons, C3",
                         "BETHY"),
    "ALPHA_C4": Constant(0.04, "mol mol-1", "quantum efficiency, C4", "BETHY"),
    "THETA_C4": Constant(0.83, "1", "curvature of the C4 light response", "BETHY"),
    "ETA_COLIMIT": Constant(0.99, "1", "co-limitation curvature", "BETHY"),
    "F_RD_C3": Constant(0.011, "1", "Rd25/Vcmax25 for C3", "BETHY"),
    "F_RD_C4": Constant(0.042, "1", "Rd25/Vcmax25 for C4", "BETHY"),
    "K_C4_FACTOR": Constant(17.5e3, "1", "C4 PEPcase constant K25 / Vcmax25", "BETHY"),
    "JMAX_T_SLOPE": Constant(0.04, "degC-1", "Jmax = Jmax25 * 0.04 * T", "BETHY"),
    "G_MIN": Constant(4e-5, "m s-1", "cuticular conductance for water vapour", "BETHY"),
    "F_CI_C3": Constant(0.65, "1", "unstressed Ci/Ca, C3", "BETHY"),
    "F_CI_C4": Constant(0.37, "1", "unstressed Ci/Ca, C4", "BETHY"),
    "F_AUTLEAF": Constant(0.40, "1", "leaf share of maintenance respiration", "BETHY"),
    "C_COST": Constant(0.20, "1", "growth respiration fraction", "BETHY"),
    "E_PAR": Constant(2.2e5, "J mol-1", "energy of PAR photons", "BETHY"),
    "OMEGA_PAR": Constant(0.12, "1", "leaf single-scattering albedo in PAR", "BETHY"),
    "N_LAYER": Constant(3.0, "1", "canopy layers", "BETHY"),
    # micrometeorology (MODEL_SPEC 3.1)
    "MAGNUS_E0": Constant(610.78, "Pa", "saturation vapour pressure at 0 C", "BETHY"),
    "MAGNUS_A_WATER": Constant(17.269, "1", "Magnus coefficient a over water",
                               "Murray 1967, doi:10.1175/1520-0450(1967)006<0203:OTCOSV>2.0.CO;2"),
    "MAGNUS_B_WATER": Constant(237.3, "degC", "Magnus coefficient b over water", "Murray 1967"),
    "MAGNUS_A_ICE": Constant(22.33, "1", "Magnus coefficient a over ice", "BETHY"),
    "MAGNUS_B_ICE": Constant(271.15, "degC", "Magnus coefficient b over ice", "BETHY"),
    "KARMAN": Constant(0.41, "1", "von Karman constant", "BETHY"),
    "Z_REF": Constant(2.0, "m", "reference height above the canopy", "BETHY"),
    "Z0_RATIO": Constant(0.1, "1", "roughness length / vegetation height", "BETHY"),
    "A_Z0": Constant(4.3568, "1", "offset in the log wind profile", "BETHY"),
    "WIND_SPEED": Constant(3.0, "m s-1", "wind speed of the aerodynamic conductance", "TCCAS"),
    "EMISSIVITY": Constant(0.97, "1", "surface long-wave emissivity", "BETHY"),
    "G_SOIL_FRACTION": Constant(0.036, "1", "ground heat flux / net radiation", "BETHY"),
    # water (MODEL_SPEC 3.3-3.5)
    "C_W": Constant(0.5, "kg m-2 h-1", "maximum plant water supply rate (CW0)", "BETHY"),
    "W_CANOPY_PER_LAI": Constant(0.1, "kg m-2", "interception capacity per unit LAI", "BETHY"),
    "SURFACE_DEPTH": Constant(0.05, "m", "surface soil layer depth (SMOS sensing depth)",
                              "PROPOSED"),
    "K_DRAIN": Constant(0.1, "h-1", "drainage rate of the surface layer above field capacity",
                        "PROPOSED"),
    "INFILTRATION_MAX": Constant(20.0, "kg m-2 h-1", "infiltration capacity", "PROPOSED"),
    "MELT_RATE": Constant(3.22, "kg m-2 degC-1 d-1", "degree-day snow melt factor", "BETHY"),
    "T_SNOW_ALL": Constant(-1.1, "degC", "all precipitation is snow below", "BETHY"),
    "T_RAIN_ALL": Constant(3.3, "degC", "all precipitation is rain above", "BETHY"),
    "SNOW_MASKING_DEPTH": Constant(0.05, "m", "snow depth covering half the ground",
                                   "PROPOSED"),
    "SOIL_T_TIMESCALE": Constant(30.0, "d", "relaxation time of the root-zone temperature",
                                 "PROPOSED"),
    "FROZEN_WIDTH": Constant(0.5, "K", "width of the logistic freezing of root-zone water",
                             "PROPOSED"),
}


def constant(name: str) -> float:
    """Value of the constant ``name`` (a plain float, so Numba freezes it)."""
    return float(CONSTANTS[name].value)


def prior_table(pft_codes: list[int] | np.ndarray) -> np.ndarray:
    """Prior parameter values, shape ``(len(pft_codes), N_PARAMETER)``, per-PFT rows."""
    codes = np.asarray(pft_codes, dtype=np.int64)
    if codes.size and (codes.min() < 1 or codes.max() > N_PFT):
        bad = codes[(codes < 1) | (codes > N_PFT)][0]
        raise TccasInputError(f"unknown PFT code {bad}; codes are 1..{N_PFT}")
    table = np.array([spec.prior for spec in PARAMETERS]).T  # (13, n_param)
    return np.ascontiguousarray(table[codes - 1])
