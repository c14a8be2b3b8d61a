"""Short-wave partitioning and canopy radiative transfer of PAR (BETHY).

Sources: Knorr (2000) Glob. Ecol. Biogeogr. 9:225, doi:10.1046/j.1365-2699.2000.00159.x
(three-layer two-stream after Sellers 1985, Int. J. Remote Sens. 6:1335,
doi:10.1080/01431168508948283); BETHY ``mo_carbon.f90`` (FAPARL, NSCALE) and
``mo_climate.f90`` (PAR fraction, direct fraction), MODEL_SPEC 2.1, 2.2, 3.2.

Each differentiable kernel ``f`` has its tangent-linear ``f_tl`` and adjoint ``f_ad``
beside it (convention in :mod:`tccas.model.kernels`); both take their local partial
derivatives from one private ``_f_partials``, so they are consistent by construction, and
``f_tl`` returns the outputs of ``f`` itself (those of the forward model, up to the last bit
where fast-math code inlined beside the partials fuses differently). The active inputs are
those that depend on the state or the parameters (LAI, the background albedo); the sun
(mu, mu_noon), the direct fraction and the fractional cover are inactive.
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
def _background_par_albedo_partials(albedo: float) -> float:
    """Derivative of the PAR albedo by the broadband albedo (0 on the clamped branch)."""
    return 0.92 if 0.92 * albedo - 0.015 > 0.0 else 0.0


@kernel
def background_par_albedo_tl(albedo: float, albedo_d: "float[:]",
                             rho_soil_d: "float[:]") -> float:
    """Tangent-linear of :func:`background_par_albedo`; active input ``albedo`` [-].

    Writes the tangents of the PAR albedo to ``rho_soil_d`` and returns the PAR albedo.
    """
    rho_albedo = _background_par_albedo_partials(albedo)
    for i in range(rho_soil_d.shape[0]):
        rho_soil_d[i] = rho_albedo * albedo_d[i]
    return background_par_albedo(albedo)


@kernel
def background_par_albedo_ad(albedo: float, rho_soil_b: float) -> float:
    """Adjoint of :func:`background_par_albedo`: the adjoint of ``albedo`` [-]."""
    return _background_par_albedo_partials(albedo) * rho_soil_b


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
def _net_flux_partials(depth: float, lai_eff: float, mu: float, f_dir: float,
                       rho_soil: float) -> tuple[float, float, float]:
    """Partial derivatives of :func:`_two_stream_net_flux` by ``depth``, ``lai_eff`` and
    ``rho_soil`` (differentiated line by line; X1, X0, X2 scale with exp(+-h L),
    exp(-k L), so their L-derivatives are h X1, -h X0, -k X2)."""
    omega = OMEGA_PAR
    k = 0.5 / mu
    h = math.sqrt(1.0 - omega)
    p1 = (1.0 - omega / 2.0 + h) / (omega / 2.0)
    p2 = 1.0 / p1
    d = 1.0 - 4.0 * mu * mu * h * h
    q1 = ((1.0 + 2.0 * mu) * omega / 2.0) / d
    q2 = ((1.0 - 2.0 * mu) * omega / 2.0) / d
    e_h = math.exp(-h * lai_eff)
    e_k = math.exp(-k * lai_eff)
    x1 = (p1 - rho_soil) / e_h
    x0 = (p2 - rho_soil) * e_h
    x2 = (rho_soil * (1.0 - q1) - q2) * e_k
    f = 1.0 - f_dir + q1 * f_dir
    den = x1 - x0
    b1 = (x2 * f_dir - f * x0) / den
    b2 = (f * x1 - x2 * f_dir) / den
    c_dir = (1.0 - q1 - q2) * f_dir
    g_k = math.exp(-k * depth)
    g_up = math.exp(h * depth)
    g_down = math.exp(-h * depth)
    x1_l, x0_l, x2_l = h * x1, -h * x0, -k * x2
    x1_r, x0_r, x2_r = -1.0 / e_h, -e_h, (1.0 - q1) * e_k
    den_l = x1_l - x0_l
    den_r = x1_r - x0_r
    b1_l = (x2_l * f_dir - f * x0_l - b1 * den_l) / den
    b1_r = (x2_r * f_dir - f * x0_r - b1 * den_r) / den
    b2_l = (f * x1_l - x2_l * f_dir - b2 * den_l) / den
    b2_r = (f * x1_r - x2_r * f_dir - b2 * den_r) / den
    n_depth = (-k * c_dir * g_k + h * (1.0 - p1) * b1 * g_up
               - h * (1.0 - p2) * b2 * g_down)
    n_lai = (1.0 - p1) * b1_l * g_up + (1.0 - p2) * b2_l * g_down
    n_rho = (1.0 - p1) * b1_r * g_up + (1.0 - p2) * b2_r * g_down
    return n_depth, n_lai, n_rho


@kernel
def _two_stream_net_flux_partials(depth: float, lai_eff: float, mu: float, f_dir: float,
                                  rho_soil: float) -> tuple[float, float, float]:
    """Partials of :func:`two_stream_net_flux` by ``depth``, ``lai_eff``, ``rho_soil``;
    inside the resonance window the interpolation weight depends on mu only,
    so the partials are interpolated with the same weight."""
    if abs(mu - MU_RESONANCE) < MU_RESONANCE_HALF_WIDTH:
        lo = MU_RESONANCE - MU_RESONANCE_HALF_WIDTH
        hi = MU_RESONANCE + MU_RESONANCE_HALF_WIDTH
        w = (mu - lo) / (hi - lo)
        depth_lo, lai_lo, rho_lo = _net_flux_partials(depth, lai_eff, lo, f_dir, rho_soil)
        depth_hi, lai_hi, rho_hi = _net_flux_partials(depth, lai_eff, hi, f_dir, rho_soil)
        return ((1.0 - w) * depth_lo + w * depth_hi, (1.0 - w) * lai_lo + w * lai_hi,
                (1.0 - w) * rho_lo + w * rho_hi)
    return _net_flux_partials(depth, lai_eff, mu, f_dir, rho_soil)


@kernel
def two_stream_net_flux_tl(depth: float, lai_eff: float, mu: float, f_dir: float,
                           rho_soil: float, depth_d: "float[:]", lai_eff_d: "float[:]",
                           rho_soil_d: "float[:]", n_d: "float[:]") -> float:
    """Tangent-linear of :func:`two_stream_net_flux`; active inputs ``depth`` and
    ``lai_eff`` [m2 m-2] and the background PAR albedo ``rho_soil`` [-].

    Writes the tangents of the net flux to ``n_d`` and returns the net flux [-].
    """
    n_depth, n_lai, n_rho = _two_stream_net_flux_partials(depth, lai_eff, mu, f_dir,
                                                          rho_soil)
    for i in range(n_d.shape[0]):
        n_d[i] = n_depth * depth_d[i] + n_lai * lai_eff_d[i] + n_rho * rho_soil_d[i]
    return two_stream_net_flux(depth, lai_eff, mu, f_dir, rho_soil)


@kernel
def two_stream_net_flux_ad(depth: float, lai_eff: float, mu: float, f_dir: float,
                           rho_soil: float, n_b: float) -> tuple[float, float, float]:
    """Adjoint of :func:`two_stream_net_flux`: (depth_b, lai_eff_b, rho_soil_b) for the
    adjoint ``n_b`` of the net flux."""
    n_depth, n_lai, n_rho = _two_stream_net_flux_partials(depth, lai_eff, mu, f_dir,
                                                          rho_soil)
    return n_depth * n_b, n_lai * n_b, n_rho * n_b


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
def _canopy_par_absorption_partials(lai: float, cover: float, mu: float, f_dir: float,
                                    rho_soil: float) -> tuple[float, ...]:
    """Partials of the three layer fractions (apar_1, apar_2, apar_3) by ``lai``
    [per m2 m-2], then by ``rho_soil`` [-] (FAPAR's are their sums); 0 at night.

    The layer borders l_i = i L_eff / 3 move with LAI, so dN(l_i)/dL_eff =
    (i / 3) dN/dl + dN/dL_eff.
    """
    if mu < MU_NIGHT or lai <= 0.0:
        return 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    lai_eff = lai / cover
    step = lai_eff / N_LAYER
    _, n0_lai, n0_rho = _two_stream_net_flux_partials(0.0, lai_eff, mu, f_dir, rho_soil)
    n1_depth, n1_lai, n1_rho = _two_stream_net_flux_partials(step, lai_eff, mu, f_dir,
                                                             rho_soil)
    n2_depth, n2_lai, n2_rho = _two_stream_net_flux_partials(2.0 * step, lai_eff, mu, f_dir,
                                                             rho_soil)
    n3_depth, n3_lai, n3_rho = _two_stream_net_flux_partials(lai_eff, lai_eff, mu, f_dir,
                                                             rho_soil)
    # d(layer border)/d(lai_eff) is 0, 1/3, 2/3, 1; apar_i = (N_i-1 - N_i) fc with
    # d(lai_eff)/d(lai) = 1 / fc, so fc cancels in the LAI partials
    n0_l = n0_lai
    n1_l = n1_depth / N_LAYER + n1_lai
    n2_l = 2.0 * n2_depth / N_LAYER + n2_lai
    n3_l = n3_depth + n3_lai
    return (n0_l - n1_l, n1_l - n2_l, n2_l - n3_l,
            (n0_rho - n1_rho) * cover, (n1_rho - n2_rho) * cover, (n2_rho - n3_rho) * cover)


@kernel
def canopy_par_absorption_tl(lai: float, cover: float, mu: float, f_dir: float,
                             rho_soil: float, lai_d: "float[:]", rho_soil_d: "float[:]",
                             a1_d: "float[:]", a2_d: "float[:]", a3_d: "float[:]",
                             fapar_d: "float[:]") -> tuple[float, float, float, float]:
    """Tangent-linear of :func:`canopy_par_absorption`; active inputs ``lai`` [m2 m-2] and
    the background PAR albedo ``rho_soil`` [-] (``mu``, ``f_dir``, ``cover`` inactive).

    Writes the tangents of the three layer fractions and FAPAR (all zero at night) and
    returns (apar_1, apar_2, apar_3, fapar) [-].
    """
    a1_lai, a2_lai, a3_lai, a1_rho, a2_rho, a3_rho = _canopy_par_absorption_partials(
        lai, cover, mu, f_dir, rho_soil)
    for i in range(a1_d.shape[0]):
        a1_d[i] = a1_lai * lai_d[i] + a1_rho * rho_soil_d[i]
        a2_d[i] = a2_lai * lai_d[i] + a2_rho * rho_soil_d[i]
        a3_d[i] = a3_lai * lai_d[i] + a3_rho * rho_soil_d[i]
        fapar_d[i] = a1_d[i] + a2_d[i] + a3_d[i]
    return canopy_par_absorption(lai, cover, mu, f_dir, rho_soil)


@kernel
def canopy_par_absorption_ad(lai: float, cover: float, mu: float, f_dir: float,
                             rho_soil: float, a1_b: float, a2_b: float, a3_b: float,
                             fapar_b: float) -> tuple[float, float]:
    """Adjoint of :func:`canopy_par_absorption`: (lai_b, rho_soil_b) for the adjoints of
    (apar_1, apar_2, apar_3, fapar)."""
    a1_lai, a2_lai, a3_lai, a1_rho, a2_rho, a3_rho = _canopy_par_absorption_partials(
        lai, cover, mu, f_dir, rho_soil)
    b1 = a1_b + fapar_b
    b2 = a2_b + fapar_b
    b3 = a3_b + fapar_b
    return (a1_lai * b1 + a2_lai * b2 + a3_lai * b3,
            a1_rho * b1 + a2_rho * b2 + a3_rho * b3)


@kernel
def nitrogen_scaling(lai_above: float, mu_noon: float, scaled: bool) -> float:
    """Relative leaf capacity exp(-k12 L_above), k12 = 0.5 / max(mu_noon, 1e-3) (BETHY
    NSCALE); 1 for PFTs without canopy scaling (grasses) [-]."""
    if not scaled:
        return 1.0
    return math.exp(-0.5 / max(mu_noon, 1e-3) * lai_above)


@kernel
def _nitrogen_scaling_partials(lai_above: float, mu_noon: float, scaled: bool) -> float:
    """Derivative of the relative leaf capacity by ``lai_above``: -k12 exp(-k12 L)."""
    if not scaled:
        return 0.0
    k12 = 0.5 / max(mu_noon, 1e-3)
    return -k12 * math.exp(-k12 * lai_above)


@kernel
def nitrogen_scaling_tl(lai_above: float, mu_noon: float, scaled: bool,
                        lai_above_d: "float[:]", nscale_d: "float[:]") -> float:
    """Tangent-linear of :func:`nitrogen_scaling`; active input ``lai_above`` [m2 m-2].

    Writes the tangents of the relative capacity to ``nscale_d`` and returns it [-].
    """
    nscale_lai = _nitrogen_scaling_partials(lai_above, mu_noon, scaled)
    for i in range(nscale_d.shape[0]):
        nscale_d[i] = nscale_lai * lai_above_d[i]
    return nitrogen_scaling(lai_above, mu_noon, scaled)


@kernel
def nitrogen_scaling_ad(lai_above: float, mu_noon: float, scaled: bool,
                        nscale_b: float) -> float:
    """Adjoint of :func:`nitrogen_scaling`: the adjoint of ``lai_above``."""
    return _nitrogen_scaling_partials(lai_above, mu_noon, scaled) * nscale_b


@kernel
def longwave_transmissivity(lai: float, cover: float) -> float:
    """Long-wave canopy transmissivity (1 - fc) + fc exp(-LAI / fc) [-] (D&B, checked
    numerically against D&B output, MODEL_SPEC 3.2)."""
    return (1.0 - cover) + cover * math.exp(-lai / cover)


@kernel
def _longwave_transmissivity_partials(lai: float, cover: float) -> float:
    """Derivative of the long-wave transmissivity by ``lai``: -exp(-LAI / fc)."""
    return -math.exp(-lai / cover)


@kernel
def longwave_transmissivity_tl(lai: float, cover: float, lai_d: "float[:]",
                               transmissivity_d: "float[:]") -> float:
    """Tangent-linear of :func:`longwave_transmissivity`; active input ``lai`` [m2 m-2].

    Writes the tangents to ``transmissivity_d`` and returns the transmissivity [-].
    """
    transmissivity_lai = _longwave_transmissivity_partials(lai, cover)
    for i in range(transmissivity_d.shape[0]):
        transmissivity_d[i] = transmissivity_lai * lai_d[i]
    return longwave_transmissivity(lai, cover)


@kernel
def longwave_transmissivity_ad(lai: float, cover: float, transmissivity_b: float) -> float:
    """Adjoint of :func:`longwave_transmissivity`: the adjoint of ``lai``."""
    return _longwave_transmissivity_partials(lai, cover) * transmissivity_b
