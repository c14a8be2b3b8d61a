"""Short-wave partitioning and canopy radiative transfer of PAR (BETHY).

Sources: Knorr (2000) Glob. Ecol. Biogeogr. 9:225, doi:10.1046/j.1365-2699.2000.00159.x
(three-layer two-stream after Sellers 1985, Int. J. Remote Sens. 6:1335,
doi:10.1080/01431168508948283); BETHY ``mo_carbon.f90`` (FAPARL, NSCALE) and
``mo_climate.f90`` (PAR fraction, direct fraction), MODEL_SPEC 2.1, 2.2, 3.2.
"""

import math

from tccas.model.kernels import kernel
from tccas.model.parameters import constant

OMEGA_PAR = constant("OMEGA_PAR")
SOLAR_CONSTANT = constant("SOLAR_CONSTANT")
N_LAYER = int(constant("N_LAYER"))
MU_NIGHT = 1e-3
P0 = 101325.0


@kernel
def par_partition(shortwave: float, mu_mean: float, mu_toa: float, day_factor: float,
                  pressure: float) -> tuple[float, float]:
    """PAR share of short-wave and its direct-beam fraction (BETHY; hourly use PROPOSED).

    Parameters
    ----------
    shortwave : [W m-2] hour-mean downward short-wave at the surface.
    mu_mean : [-] cos zenith averaged over the sunlit part of the hour.
    mu_toa : [-] hour mean of max(cos zenith, 0) (for the extraterrestrial irradiance).
    day_factor : [-] Earth-Sun distance factor (r0/r)^2.
    pressure : [Pa] surface pressure.

    Returns
    -------
    par : [W m-2] photosynthetically active radiation, c_PAR * SW with
        c_PAR = 0.43 + 0.25 (1 - r) mu, r = min(SW / SW_toa, 0.9).
    f_dir : [-] direct fraction of PAR,
        t/(0.4 + 0.6 t) * clamp(1 - ((0.9 - r)/0.7)^(2/3), 0, 1), t = exp(-0.185 p/(p0 mu)).
    """
    if mu_mean < MU_NIGHT or shortwave <= 0.0:
        return 0.0, 0.0
    toa = SOLAR_CONSTANT * day_factor * mu_toa
    r = min(shortwave / toa, 0.9) if toa > 0.0 else 0.9
    c_par = 0.43 + 0.25 * (1.0 - r) * mu_mean
    t_dir = math.exp(-0.185 * pressure / (P0 * mu_mean))
    ratio = max(0.9 - r, 0.0) / 0.7
    cloud_term = min(max(1.0 - ratio ** (2.0 / 3.0), 0.0), 1.0)
    return c_par * shortwave, t_dir / (0.4 + 0.6 * t_dir) * cloud_term


@kernel
def background_par_albedo(albedo: float) -> float:
    """PAR albedo of the canopy background from its broadband albedo (BETHY):
    max(0.92 albedo - 0.015, 0) [-]."""
    return max(0.92 * albedo - 0.015, 0.0)


@kernel
def _two_stream_net_flux(depth: float, lai_eff: float, mu: float, f_dir: float,
                         rho_soil: float) -> float:
    omega = OMEGA_PAR
    k = 0.5 / mu
    h = math.sqrt(1.0 - omega)
    p1 = (1.0 - omega / 2.0 + h) / (omega / 2.0)
    p2 = 1.0 / p1
    d = 1.0 - 4.0 * mu * mu * h * h
    q1 = ((1.0 + 2.0 * mu) * omega / 2.0) / d
    q2 = ((1.0 - 2.0 * mu) * omega / 2.0) / d
    e_h = math.exp(-h * lai_eff)
    x1 = (p1 - rho_soil) / e_h
    x0 = (p2 - rho_soil) * e_h
    x2 = (rho_soil * (1.0 - q1) - q2) * math.exp(-k * lai_eff)
    f = 1.0 - f_dir + q1 * f_dir
    b1 = (x2 * f_dir - f * x0) / (x1 - x0)
    b2 = (x2 * f_dir - f * x1) / (x0 - x1)
    return ((1.0 - q1 - q2) * f_dir * math.exp(-k * depth)
            + (1.0 - p1) * b1 * math.exp(h * depth) + (1.0 - p2) * b2 * math.exp(-h * depth))


MU_RESONANCE = 0.5 / math.sqrt(1.0 - OMEGA_PAR)
MU_RESONANCE_HALF_WIDTH = 0.01


@kernel
def two_stream_net_flux(depth: float, lai_eff: float, mu: float, f_dir: float,
                        rho_soil: float) -> float:
    """Net downward PAR flux N(l) at cumulative effective LAI ``depth`` [fraction of the
    incoming PAR], isotropic leaves with reflectance = transmittance, omega = 0.12
    (MODEL_SPEC 2.1).

    The particular solution has a removable singularity where the direct-beam and diffuse
    extinction coincide (2 mu h = 1, mu = 0.533); within +-0.01 of it the flux is
    interpolated linearly in mu between the two edges of the window (PROPOSED; the error
    is below 1e-4 of the incoming PAR and the LAI derivatives stay smooth).
    """
    if abs(mu - MU_RESONANCE) < MU_RESONANCE_HALF_WIDTH:
        lo = MU_RESONANCE - MU_RESONANCE_HALF_WIDTH
        hi = MU_RESONANCE + MU_RESONANCE_HALF_WIDTH
        w = (mu - lo) / (hi - lo)
        return ((1.0 - w) * _two_stream_net_flux(depth, lai_eff, lo, f_dir, rho_soil)
                + w * _two_stream_net_flux(depth, lai_eff, hi, f_dir, rho_soil))
    return _two_stream_net_flux(depth, lai_eff, mu, f_dir, rho_soil)


@kernel
def canopy_par_absorption(lai: float, cover: float, mu: float, f_dir: float,
                          rho_soil: float) -> tuple[float, float, float, float]:
    """Fractions of incoming PAR absorbed by the three canopy layers and their sum (FAPAR).

    Layers of equal LAI; effective LAI = LAI / cover (clumping by the fractional cover).
    Returns (apar_1, apar_2, apar_3, fapar), each [-] relative to incoming PAR; all zero at
    night (mu < 1e-3).
    """
    if mu < MU_NIGHT or lai <= 0.0:
        return 0.0, 0.0, 0.0, 0.0
    lai_eff = lai / cover
    step = lai_eff / N_LAYER
    n0 = two_stream_net_flux(0.0, lai_eff, mu, f_dir, rho_soil)
    n1 = two_stream_net_flux(step, lai_eff, mu, f_dir, rho_soil)
    n2 = two_stream_net_flux(2.0 * step, lai_eff, mu, f_dir, rho_soil)
    n3 = two_stream_net_flux(lai_eff, lai_eff, mu, f_dir, rho_soil)
    a1 = (n0 - n1) * cover
    a2 = (n1 - n2) * cover
    a3 = (n2 - n3) * cover
    return a1, a2, a3, a1 + a2 + a3


@kernel
def nitrogen_scaling(lai_above: float, mu_noon: float, scaled: bool) -> float:
    """Relative leaf capacity exp(-k12 L_above), k12 = 0.5 / max(mu_noon, 1e-3) (BETHY
    NSCALE); 1 for PFTs without canopy scaling (grasses) [-]."""
    if not scaled:
        return 1.0
    return math.exp(-0.5 / max(mu_noon, 1e-3) * lai_above)


@kernel
def longwave_transmissivity(lai: float, cover: float) -> float:
    """Long-wave canopy transmissivity (1 - fc) + fc exp(-LAI / fc) [-] (D&B, checked
    numerically against D&B output, MODEL_SPEC 3.2)."""
    return (1.0 - cover) + cover * math.exp(-lai / cover)
