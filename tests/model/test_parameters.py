"""The parameter table: complete, consistent with the kernels' indices, priors inside
bounds, TCCAS site priors exact."""

import numpy as np
import pytest

from tccas.model import parameters
from tccas.model.errors import TccasInputError


def test_index_constants_match_parameter_names():
    for i, name in enumerate(parameters.PARAMETER_NAMES):
        assert getattr(parameters, f"P_{name.upper()}") == i
    assert parameters.N_PARAMETER == 26


def test_every_parameter_has_13_priors_inside_its_bounds_and_a_unit():
    for spec in parameters.PARAMETERS:
        assert len(spec.prior) == parameters.N_PFT, spec.name
        assert spec.unit and spec.source
        prior = np.array(spec.prior)
        assert np.all(prior >= spec.lower) and np.all(prior <= spec.upper), spec.name
        assert 0.0 < spec.sigma_relative <= 1.0


def test_tccas_site_priors_are_copied_exactly():
    codes = [parameters.pft_code(name) for name in ("TmEv", "C3Gr", "EvCn", "EShr")]
    table = parameters.prior_table(codes)
    col = parameters.PARAMETER_NAMES.index
    assert table[:, col("vcmax25")].tolist() == [41e-6, 42e-6, 29e-6, 52e-6]
    assert table[:, col("f_fol")].tolist() == [0.04981, 0.3613, 0.1181, 0.1666]
    assert table[:, col("lma")].tolist() == [67.67, 46.94, 36.11, 69.86]
    assert table[:, col("c_wood_init")].tolist() == [6737.0, 89.57, 3072.0, 500.7]
    assert table[2, col("c_foliage_init")] == 29.29


def test_pft_codes_and_errors():
    assert [p.code for p in parameters.PFTS] == list(range(1, 14))
    assert parameters.pft_code("C4Gr") == 10 and parameters.PFTS[9].is_c4
    with pytest.raises(TccasInputError, match="unknown PFT 'Oak'"):
        parameters.pft_code("Oak")
    with pytest.raises(TccasInputError, match="unknown PFT code 14"):
        parameters.prior_table([14])


def test_soil_classes_are_ordered_hydraulically():
    for soil in parameters.SOIL_CLASSES.values():
        assert soil.theta_res < soil.theta_wp < soil.theta_fc < soil.theta_sat
        assert soil.albedo_wet < soil.albedo_dry


def test_operator_parameters_have_tccas_priors():
    priors = [p.prior for p in parameters.OPERATOR_PARAMETERS]
    assert priors == [2e-4, 1.2, 2e-4, 2.0, 0.4, 1.0]
