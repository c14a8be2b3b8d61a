"""SIF at 743 nm from a tile (TROPOMI units), after the D&B ``l2sm-sif`` module.

Leaf level (Gu et al. 2019, New Phytol. 223:1179, doi:10.1111/nph.15796): the
fluorescence photon flux of layer l is
SIF_leaf,l = s J_l (1 - Phi_PSIImax) / (q_L Phi_PSIImax (1 + k_D/k_F)), with
Phi_PSIImax = 0.83, q_L = 0.8, k_D/k_F = 19 (about 1.3 % of the electron flux) and J_l the
actual electron transport of the layer per ground area [mol m-2 s-1] from the model;
s is the operator parameter ``sif_scale``.

Canopy escape (MODEL_SPEC 6.3): from the middle of layer l of N = 3, light travels up through
L_above = (l + 0.5) LAI / N and down through L_below = (N - l - 0.5) LAI / N, with the soil
under the lower stack; SIF_toc = sum_l 0.5 SIF_leaf,l T_a (1 + R_b) / (1 - R_a R_b)
[mol m-2 s-1]. Leaf r_l = t_l = 0.40 and soil albedo 0.25 at 743 nm (PROPOSED defaults of
MODEL_SPEC 6.3).

Units: SIF743 [mW m-2 sr-1 nm-1] = CONV743 x 1e3 x SIF_toc [mol m-2 s-1], CONV743 =
360.528344 (D&B ``obs.nml``). Unit check (documented and tested in
tests/operators/test_sif.py): a photon at 743 nm carries h c N_A / lambda = 1.6101e5 J mol-1;
an isotropic radiance divides by pi sr; with the effective spectral width of the leaf SIF
spectrum, delta_lambda ~ 142 nm, 1 mmol m-2 s-1 gives 1.6101e5 / (pi 142) = 360.9 mW m-2
sr-1 nm-1 -- so CONV743 applies to SIF in mmol m-2 s-1, hence the factor 1e3 for the
model's mol m-2 s-1.
"""

from tccas.model.kernels import kernel
from tccas.operators.canopy_rt import layer_reflectance_transmittance, with_background

PHI_PSII_MAX = 0.83
Q_L = 0.8
KD_OVER_KF = 19.0
LEAF_REFLECTANCE_743 = 0.40
LEAF_TRANSMITTANCE_743 = 0.40
SOIL_ALBEDO_743 = 0.25
CONV743 = 360.528344
MOL_TO_TROPOMI = CONV743 * 1.0e3
N_LAYER = 3
FLUORESCENCE_YIELD = (1.0 - PHI_PSII_MAX) / (Q_L * PHI_PSII_MAX * (1.0 + KD_OVER_KF))


@kernel
def _escape(layer: int, lai: float) -> tuple[float, float]:
    """Escape factor of fluorescence emitted in layer ``layer`` and its LAI derivative."""
    share_above = (layer + 0.5) / N_LAYER
    share_below = (N_LAYER - layer - 0.5) / N_LAYER
    r_a, t_a, dr_a, dt_a = layer_reflectance_transmittance(
        share_above * lai, LEAF_REFLECTANCE_743, LEAF_TRANSMITTANCE_743)
    r_b0, t_b0, dr_b0, dt_b0 = layer_reflectance_transmittance(
        share_below * lai, LEAF_REFLECTANCE_743, LEAF_TRANSMITTANCE_743)
    dr_a *= share_above
    dt_a *= share_above
    r_b, dr_b = with_background(r_b0, t_b0, dr_b0 * share_below, dt_b0 * share_below,
                                SOIL_ALBEDO_743)
    m = 1.0 / (1.0 - r_a * r_b)
    dm = m * m * (dr_a * r_b + r_a * dr_b)
    value = 0.5 * t_a * (1.0 + r_b) * m
    derivative = 0.5 * (dt_a * (1.0 + r_b) * m + t_a * dr_b * m + t_a * (1.0 + r_b) * dm)
    return value, derivative


@kernel
def _sif743_partials(j1: float, j2: float, j3: float, lai: float, sif_scale: float
                     ) -> tuple[float, float, float, float, float, float]:
    e1, de1 = _escape(0, lai)
    e2, de2 = _escape(1, lai)
    e3, de3 = _escape(2, lai)
    c = MOL_TO_TROPOMI * FLUORESCENCE_YIELD
    emitted = j1 * e1 + j2 * e2 + j3 * e3
    value = c * sif_scale * emitted
    return (value, c * sif_scale * e1, c * sif_scale * e2, c * sif_scale * e3,
            c * sif_scale * (j1 * de1 + j2 * de2 + j3 * de3), c * emitted)


@kernel
def sif743(j1: float, j2: float, j3: float, lai: float, sif_scale: float) -> float:
    """Top-of-canopy SIF at 743 nm [mW m-2 sr-1 nm-1] of a tile from its layer electron
    transport j1..j3 [mol m-2 s-1 per ground area], LAI [m2 m-2] and ``sif_scale`` [-]."""
    return _sif743_partials(j1, j2, j3, lai, sif_scale)[0]


@kernel
def sif743_tl(j1: float, j2: float, j3: float, lai: float, sif_scale: float,
              j1_d: "float[:]", j2_d: "float[:]", j3_d: "float[:]", lai_d: "float[:]",
              sif_scale_d: "float[:]", sif_d: "float[:]") -> float:
    """Tangent of :func:`sif743`; active inputs j1, j2, j3, lai, sif_scale."""
    value, p1, p2, p3, p_lai, p_scale = _sif743_partials(j1, j2, j3, lai, sif_scale)
    for i in range(sif_d.shape[0]):
        sif_d[i] = (p1 * j1_d[i] + p2 * j2_d[i] + p3 * j3_d[i] + p_lai * lai_d[i]
                    + p_scale * sif_scale_d[i])
    return value


@kernel
def sif743_ad(j1: float, j2: float, j3: float, lai: float, sif_scale: float,
              sif_b: float) -> tuple[float, float, float, float, float]:
    """Adjoint of :func:`sif743`: (j1_b, j2_b, j3_b, lai_b, sif_scale_b)."""
    _, p1, p2, p3, p_lai, p_scale = _sif743_partials(j1, j2, j3, lai, sif_scale)
    return p1 * sif_b, p2 * sif_b, p3 * sif_b, p_lai * sif_b, p_scale * sif_b
