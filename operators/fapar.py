"""FAPAR operators.

* Default: the model's own instantaneous FAPAR of the three-layer two-stream at the
  observation hour (MODEL_SPEC 6.2; one code path with photosynthesis):
  :func:`fapar_two_stream` of the tile's LAI and broadband background albedo (snow or
  soil) at the hour's sun (mu) and direct fraction, exactly the model's ``fapar``
  diagnostic. Active inputs LAI and background albedo.
* JRC-TIP-consistent variant (PROPOSED, MODEL_SPEC 6.2): the quantities the JRC-TIP
  inversion uses (Pinty et al. 2006, JGR 111 D02116, doi:10.1029/2005JD005952; Pinty et
  al. 2011, doi:10.1029/2010JD015372): an effective LAI, a leaf single-scattering albedo in
  the visible omega = 0.17 (reflectance = transmittance = 0.085) and the background
  albedo, in one Meador-Weaver layer under isotropic diffuse illumination:
  FAPAR = (1 - R - T)(1 + T rho / (1 - R rho)). The diffuse illumination is our
  simplification of TIP's collimated-plus-diffuse case; it changes FAPAR by a few hundredths
  at moderate sun.
"""

from tccas.model.kernels import kernel
from tccas.model.kernels.radiation import (
    background_par_albedo,
    background_par_albedo_ad,
    background_par_albedo_tl,
    canopy_par_absorption,
    canopy_par_absorption_ad,
    canopy_par_absorption_tl,
)
from tccas.operators.canopy_rt import layer_reflectance_transmittance

TIP_LEAF_REFLECTANCE = 0.085
TIP_LEAF_TRANSMITTANCE = 0.085
CANOPY_COVER = 1.0  # clumping off, as in the model (MODEL_SPEC 2.1)


@kernel
def fapar_two_stream(lai: float, background_albedo: float, mu: float, f_dir: float) -> float:
    """The model's FAPAR [-] for LAI [m2 m-2], broadband background albedo [-], the
    sunlit-mean cos zenith mu [-] and the direct PAR fraction [-] of the hour."""
    return canopy_par_absorption(lai, CANOPY_COVER, mu, f_dir,
                                 background_par_albedo(background_albedo))[3]


@kernel
def fapar_two_stream_tl(lai: float, background_albedo: float, mu: float, f_dir: float,
                        lai_d: "float[:]", background_albedo_d: "float[:]",
                        fapar_d: "float[:]", workspace: "float[:, :]") -> float:
    """Tangent of :func:`fapar_two_stream`; active: lai, background_albedo.
    ``workspace`` has shape (4, k) (scratch for the layer tangents; no allocation)."""
    rho = background_par_albedo_tl(background_albedo, background_albedo_d, workspace[0])
    return canopy_par_absorption_tl(lai, CANOPY_COVER, mu, f_dir, rho, lai_d, workspace[0],
                                    workspace[1], workspace[2], workspace[3], fapar_d)[3]


@kernel
def fapar_two_stream_ad(lai: float, background_albedo: float, mu: float, f_dir: float,
                        fapar_b: float) -> tuple[float, float]:
    """Adjoint of :func:`fapar_two_stream`: (lai_b, background_albedo_b)."""
    rho = background_par_albedo(background_albedo)
    lai_b, rho_b = canopy_par_absorption_ad(lai, CANOPY_COVER, mu, f_dir, rho, 0.0, 0.0,
                                            0.0, fapar_b)
    return lai_b, background_par_albedo_ad(background_albedo, rho_b)


@kernel
def _tip_partials(lai: float, background: float) -> tuple[float, float, float]:
    r, t, dr, dt = layer_reflectance_transmittance(lai, TIP_LEAF_REFLECTANCE,
                                                   TIP_LEAF_TRANSMITTANCE)
    a = 1.0 - r - t
    da = -dr - dt
    denominator = 1.0 - r * background
    boost = 1.0 + t * background / denominator
    d_boost_lai = (dt * background * denominator + t * background * background * dr) / (
        denominator * denominator)
    d_boost_background = t / (denominator * denominator)
    return a * boost, da * boost + a * d_boost_lai, a * d_boost_background


@kernel
def fapar_tip(lai: float, background_albedo: float) -> float:
    """JRC-TIP-consistent FAPAR [-] of effective LAI [m2 m-2] over a background of
    visible albedo [-]."""
    return _tip_partials(lai, background_albedo)[0]


@kernel
def fapar_tip_tl(lai: float, background_albedo: float, lai_d: "float[:]",
                 background_albedo_d: "float[:]", fapar_d: "float[:]") -> float:
    """Tangent of :func:`fapar_tip`; active: lai, background_albedo."""
    value, p_lai, p_background = _tip_partials(lai, background_albedo)
    for i in range(fapar_d.shape[0]):
        fapar_d[i] = p_lai * lai_d[i] + p_background * background_albedo_d[i]
    return value


@kernel
def fapar_tip_ad(lai: float, background_albedo: float, fapar_b: float
                 ) -> tuple[float, float]:
    """Adjoint of :func:`fapar_tip`: (lai_b, background_albedo_b)."""
    _, p_lai, p_background = _tip_partials(lai, background_albedo)
    return p_lai * fapar_b, p_background * fapar_b
