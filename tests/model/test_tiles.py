"""Tiles: cover validation and block subsets."""

import numpy as np
import pytest

from tccas.model.errors import TccasInputError
from tccas.model.tiles import make_tiles


def test_land_cover_cells_may_leave_ground_without_tiles_but_not_exceed_one():
    tiles = make_tiles(["EvCn", "EShr", "TunV"], [0.5, 0.3, 0.6], 67.4, 26.6, "sand",
                       cell=[0, 0, 1], full_cover=False)
    np.testing.assert_array_equal(tiles.cell, [0, 0, 1])
    with pytest.raises(TccasInputError, match=r"cell 0 sum to 0\.8, not 1"):
        make_tiles(["EvCn", "EShr"], [0.5, 0.3], 67.4, 26.6, "sand")
    with pytest.raises(TccasInputError, match=r"cell 0 sum to 1\.1, more than 1"):
        make_tiles(["EvCn", "EShr"], [0.5, 0.6], 67.4, 26.6, "sand", full_cover=False)


def test_subset_keeps_every_attribute_of_the_chosen_tiles():
    tiles = make_tiles(["TmEv", "C3Gr", "EvCn"], [0.3, 0.7, 1.0], [39.9, 39.9, 67.4],
                       [-5.8, -5.8, 26.6], ["sandy_loam", "sandy_loam", "sand"],
                       cell=[0, 0, 1], met_cell=[0, 0, 1])
    sub = tiles.subset(np.array([2, 0]))
    assert sub.n_tile == 2
    assert sub.pft_names == ["EvCn", "TmEv"]
    assert sub.soil == ("sand", "sandy_loam")
    np.testing.assert_array_equal(sub.cell, [1, 0])
    np.testing.assert_array_equal(sub.met_cell, [1, 0])
    np.testing.assert_array_equal(sub.cover_fraction, [1.0, 0.3])
    np.testing.assert_array_equal(sub.static, tiles.static[[2, 0]])
    assert sub.static.flags.c_contiguous
