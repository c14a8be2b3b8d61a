"""Diffuse reflectance and transmittance of a canopy layer (two-stream with the
Meador-Weaver coefficients), shared by the SIF canopy escape and the JRC-TIP FAPAR.

Meador & Weaver (1980) J. Atmos. Sci. 37:630,
doi:10.1175/1520-0469(1980)037<0630:TSATRT>2.0.CO;2, in the form of the D&B SIF module
(MODEL_SPEC 6.3): leaf reflectance r_l and transmittance t_l, w = r_l + t_l,
d = r_l - t_l, G = 0.5, B = 0.5 (w + d/3)/w, g1 = 2 (1 - (1 - B) w), g2 = 2 w B,
k = sqrt(g1^2 - g2^2), tau = G L, D = k + g1 + (k - g1) exp(-2 k tau),
R = g2 (1 - exp(-2 k tau)) / D, T = 2 k exp(-k tau) / D. L in m2 m-2; R, T in [0, 1].
"""

import math

from tccas.model.kernels import kernel

G_PROJECTION = 0.5


@kernel
def layer_reflectance_transmittance(lai: float, leaf_reflectance: float,
                                    leaf_transmittance: float
                                    ) -> tuple[float, float, float, float]:
    """(R, T, dR/dL, dT/dL) of a layer of leaf area ``lai`` for diffuse light."""
    w = leaf_reflectance + leaf_transmittance
    d = leaf_reflectance - leaf_transmittance
    b = 0.5 * (w + d / 3.0) / w
    g1 = 2.0 * (1.0 - (1.0 - b) * w)
    g2 = 2.0 * w * b
    k = math.sqrt(g1 * g1 - g2 * g2)
    e1 = math.exp(-k * G_PROJECTION * lai)
    e2 = e1 * e1
    denominator = k + g1 + (k - g1) * e2
    reflectance = g2 * (1.0 - e2) / denominator
    transmittance = 2.0 * k * e1 / denominator
    d_e2 = -2.0 * k * G_PROJECTION * e2
    d_denominator = (k - g1) * d_e2
    d_reflectance = (-g2 * d_e2 - reflectance * d_denominator) / denominator
    d_transmittance = (-2.0 * k * k * G_PROJECTION * e1
                       - transmittance * d_denominator) / denominator
    return reflectance, transmittance, d_reflectance, d_transmittance


@kernel
def with_background(reflectance: float, transmittance: float, d_reflectance: float,
                    d_transmittance: float, background: float
                    ) -> tuple[float, float]:
    """Reflectance of a layer over a Lambertian background of albedo rho and its
    derivative: R + T^2 rho / (1 - rho R) (multiple reflections between layer and
    background)."""
    denominator = 1.0 - background * reflectance
    value = reflectance + transmittance * transmittance * background / denominator
    derivative = (d_reflectance
                  + 2.0 * transmittance * d_transmittance * background / denominator
                  + transmittance * transmittance * background * background * d_reflectance
                  / (denominator * denominator))
    return value, derivative
