"""Control space: names, prior, whitening, bounds and the per-tile maps with adjoints."""

import numpy as np
import pytest

from tccas.model.errors import TccasInputError
from tccas.model.parameters import PARAMETER_BY_NAME, pft_code, prior_table
from tccas.pipeline.config import load_config
from tccas.pipeline.control import PARAMETER_COLUMN, control_space

MAJADAS = [pft_code("TmEv"), pft_code("C3Gr")]


def test_default_control_of_a_site():
    config = load_config("majadas-site")
    space = control_space(config.control, MAJADAS)
    per_pft = len(config.control.parameters) + len(config.control.initial_pools)
    assert space.n == 2 * per_pft + 6
    assert space.names[0] == "TmEv.vcmax25"
    assert "C3Gr.c_wood_init" in space.names
    assert space.names[-6:] == ("vod_l_wd", "vod_l_s", "vod_l_fol", "vod_l_f", "vod_l_0",
                                "sif_scale")
    i = space.names.index("C3Gr.vcmax25")
    spec = PARAMETER_BY_NAME["vcmax25"]
    assert space.x0[i] == spec.prior[pft_code("C3Gr") - 1]
    assert space.sigma_prior[i] == pytest.approx(0.2 * space.x0[i])
    assert space.units[i] == spec.unit
    j = space.names.index("vod_l_s")   # lower bound 0: Gaussian, 50 % sigma
    assert not space.log[j]
    assert space.sigma_prior[j] == pytest.approx(0.6)


def test_whitening_round_trip_jacobian_and_bounds():
    space = control_space(load_config("majadas-site").control, MAJADAS)
    rng = np.random.default_rng(5)
    z = rng.standard_normal(space.n)
    np.testing.assert_allclose(space.z_from_x(space.x_from_z(z)), z, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(space.x_from_z(np.zeros(space.n)), space.x0)
    h = 1e-6
    fd = (space.x_from_z(z + h) - space.x_from_z(z - h)) / (2 * h)
    np.testing.assert_allclose(space.dx_dz(z), fd, rtol=1e-8)
    bounds = np.array(space.z_bounds())
    np.testing.assert_allclose(space.x_from_z(bounds[:, 0]), space.lower, rtol=1e-12)
    np.testing.assert_allclose(space.x_from_z(bounds[:, 1]), space.upper, rtol=1e-12)
    truth = space.draw(np.random.default_rng(1), spread=3.0)
    assert np.all((truth >= space.lower) & (truth <= space.upper))


def test_tile_parameters_and_their_adjoint():
    config = load_config("majadas-site", ["control.pfts=[C3Gr]"])
    space = control_space(config.control, MAJADAS)
    pfts = np.array([pft_code("TmEv"), pft_code("C3Gr"), pft_code("C3Gr")])
    x = space.x_from_z(np.random.default_rng(2).standard_normal(space.n))
    table = space.tile_parameters(x, pfts)
    prior = prior_table(pfts)
    np.testing.assert_array_equal(table[0], prior[0])   # TmEv is not controlled
    column = PARAMETER_COLUMN["vcmax25"]
    assert table[1, column] == table[2, column] == x[space.names.index("C3Gr.vcmax25")]
    # adjoint: <d table, table_b> = <dx, gradient(table_b)> for the linear map x -> table
    rng = np.random.default_rng(3)
    dx = rng.standard_normal(space.n)
    table_b = rng.standard_normal(table.shape)
    operator_b = rng.standard_normal(6)
    d_table = space.tile_parameters(x + dx, pfts) - table
    d_operator = space.operator_parameters(x + dx) - space.operator_parameters(x)
    left = np.sum(d_table * table_b) + d_operator @ operator_b
    right = dx @ space.gradient(table_b, pfts, None, operator_b)
    assert left == pytest.approx(right, rel=1e-12)


def test_per_tile_sharing_and_fixed_entries():
    config = load_config("majadas-site", ["control.sharing=tile", "control.parameters=[lma]",
                                          "control.initial_pools=[]",
                                          "control.operator_parameters=[sif_scale]",
                                          "control.fixed=[TmEv.lma]"])
    space = control_space(config.control, MAJADAS, tile_pfts=[pft_code("C3Gr")] * 2
                          + [pft_code("TmEv")])
    assert space.names == ("C3Gr.lma@0", "C3Gr.lma@1", "sif_scale")
    x = space.x0 * np.array([1.1, 0.9, 1.0])
    table = space.tile_parameters(x, np.array([pft_code("C3Gr")] * 2), np.array([0, 1]))
    np.testing.assert_allclose(table[:, PARAMETER_COLUMN["lma"]], x[:2])


@pytest.mark.parametrize(("overrides", "message"), [
    (["control.pfts=[EvCn]"], "EvCn has no tile in the region"),
    (["control.fixed=[C3Gr.nothing]"], "C3Gr.nothing is not a control element"),
    (["control.parameters=[]", "control.initial_pools=[]", "control.operator_parameters=[]"],
     "the control vector is empty"),
])
def test_bad_control_configuration(overrides, message):
    with pytest.raises(TccasInputError, match=message):
        control_space(load_config("majadas-site", overrides).control, MAJADAS)


def test_a_prior_on_its_bound_is_a_valid_start():
    """ArbC's wood turnover prior sits on its upper bound (1e-3 d-1): the element starts
    on the bound and can only move inward."""
    space = control_space(load_config("majadas-site").control, [pft_code("ArbC")])
    i = space.names.index("ArbC.theta_woo")
    assert space.x0[i] == space.upper[i]
    assert space.z_bounds()[i][1] == 0.0
