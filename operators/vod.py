"""L-band vegetation optical depth of a tile (SMOS; ELBARA-II), the empirical D&B operator.

tau = f(T) (l_wd C_wood + l_fol C_fol) (l_s f_soil + l_f f_E + l_0), with the freezing
factor f(T) = 0.25 + 0.75 / (1 + exp(-0.5 (T + 3))) of the air temperature T [degC]
(TCCAS 2025 presentation; reconstructed against D&B output, MODEL_SPEC 6.4). C_wood, C_fol
[gC m-2]; l_wd, l_fol [m2 gC-1]; f_soil the root-zone water index w_r / w_r,max and
f_E = E_tr / E_demand the plant water status (both [-], PROPOSED definitions of MODEL_SPEC
6.4); l_s, l_f, l_0 [-]. tau [-] (nepers).
"""

import math

from tccas.model.kernels import kernel


@kernel
def freezing_factor(t_air_c: float) -> float:
    """0.25 + 0.75 / (1 + exp(-0.5 (T + 3))) [-]: frozen vegetation shows 25 % of its VOD."""
    return 0.25 + 0.75 / (1.0 + math.exp(-0.5 * (t_air_c + 3.0)))


@kernel
def vod(c_wood: float, c_foliage: float, f_soil: float, f_e: float, t_air_c: float,
        l_wd: float, l_fol: float, l_s: float, l_f: float, l_0: float) -> float:
    """L-VOD of a tile [-]."""
    biomass = l_wd * c_wood + l_fol * c_foliage
    water = l_s * f_soil + l_f * f_e + l_0
    return freezing_factor(t_air_c) * biomass * water


@kernel
def vod_tl(c_wood: float, c_foliage: float, f_soil: float, f_e: float, t_air_c: float,
           l_wd: float, l_fol: float, l_s: float, l_f: float, l_0: float,
           c_wood_d: "float[:]", c_foliage_d: "float[:]", f_soil_d: "float[:]",
           f_e_d: "float[:]", l_wd_d: "float[:]", l_fol_d: "float[:]", l_s_d: "float[:]",
           l_f_d: "float[:]", l_0_d: "float[:]", vod_d: "float[:]") -> float:
    """Tangent of :func:`vod`; active: c_wood, c_foliage, f_soil, f_e and the five
    coefficients (the air temperature is forcing)."""
    f = freezing_factor(t_air_c)
    biomass = l_wd * c_wood + l_fol * c_foliage
    water = l_s * f_soil + l_f * f_e + l_0
    for i in range(vod_d.shape[0]):
        d_biomass = (l_wd * c_wood_d[i] + c_wood * l_wd_d[i] + l_fol * c_foliage_d[i]
                     + c_foliage * l_fol_d[i])
        d_water = (l_s * f_soil_d[i] + f_soil * l_s_d[i] + l_f * f_e_d[i] + f_e * l_f_d[i]
                   + l_0_d[i])
        vod_d[i] = f * (d_biomass * water + biomass * d_water)
    return f * biomass * water


@kernel
def vod_ad(c_wood: float, c_foliage: float, f_soil: float, f_e: float, t_air_c: float,
           l_wd: float, l_fol: float, l_s: float, l_f: float, l_0: float, vod_b: float
           ) -> tuple[float, float, float, float, float, float, float, float, float]:
    """Adjoint of :func:`vod`: (c_wood_b, c_foliage_b, f_soil_b, f_e_b, l_wd_b, l_fol_b,
    l_s_b, l_f_b, l_0_b)."""
    f = freezing_factor(t_air_c)
    biomass_b = f * (l_s * f_soil + l_f * f_e + l_0) * vod_b
    water_b = f * (l_wd * c_wood + l_fol * c_foliage) * vod_b
    return (l_wd * biomass_b, l_fol * biomass_b, l_s * water_b, l_f * water_b,
            c_wood * biomass_b, c_foliage * biomass_b, f_soil * water_b, f_e * water_b,
            water_b)
