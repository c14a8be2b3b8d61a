"""FAPAR operators.

* Default: the model's own instantaneous FAPAR of the three-layer two-stream at the
  observation hour (MODEL_SPEC 6.2; one code path with photosynthesis). The operator reads
  it from the model snapshot; its derivative is the model's.
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
from tccas.operators.canopy_rt import layer_reflectance_transmittance

TIP_LEAF_REFLECTANCE = 0.085
TIP_LEAF_TRANSMITTANCE = 0.085


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
