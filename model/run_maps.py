"""A whole multi-year run as flat maps for derivative verification.

``function(x) -> y``, ``tangent(x, dx) -> dy`` and ``adjoint(x, y_bar) -> x_bar`` where x
holds every per-tile parameter (initial pools included) and y the final state, the
selected daily outputs and the snapshots at the sampled hours, in that order. Used by the
whole-model tests and by ``tccas check-derivatives`` with
:mod:`tccas.model.verification`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tccas.model.adjoint import run_adjoint
from tccas.model.driver import Samples, SpinUp, run_forward
from tccas.model.forcing import Forcing
from tccas.model.layout import N_SNAPSHOT, N_STATE
from tccas.model.outputs import OUTPUT_INDEX
from tccas.model.tangent import run_tangent
from tccas.model.tiles import Tiles


@dataclass(frozen=True)
class RunMaps:
    """The maps of one run set-up; ``sizes`` are the lengths of the three parts of y."""

    function: Callable[[np.ndarray], np.ndarray]
    tangent: Callable[[np.ndarray, np.ndarray], np.ndarray]
    adjoint: Callable[[np.ndarray, np.ndarray], np.ndarray]
    sizes: tuple[int, int, int]

    @property
    def n_out(self) -> int:
        return sum(self.sizes)


def run_maps(tiles: Tiles, forcing: Forcing, n_parameter: int, spinup: SpinUp,
             samples: Samples, outputs: tuple[str, ...]) -> RunMaps:
    """Flat maps of the run of ``tiles`` over ``forcing`` (x has n_tile x n_parameter
    values)."""
    shape = (tiles.n_tile, n_parameter)
    n_day = forcing.n_hour // 24
    columns = [OUTPUT_INDEX[o] for o in outputs]
    sizes = (tiles.n_tile * N_STATE, tiles.n_tile * n_day * len(outputs),
             samples.hours.size * N_SNAPSHOT)

    def function(x: np.ndarray) -> np.ndarray:
        result = run_forward(tiles, x.reshape(shape), forcing, spinup, samples=samples)
        return np.concatenate([result.final_state.ravel(),
                               result.daily[:, :, columns].ravel(),
                               result.snapshots.ravel()])

    def tangent(x: np.ndarray, dx: np.ndarray) -> np.ndarray:
        result = run_tangent(tiles, x.reshape(shape), forcing, dx.reshape(*shape, 1), spinup,
                             samples=samples, outputs=outputs)
        return np.concatenate([result.final_state_d[..., 0].ravel(),
                               result.daily_d[..., 0].ravel(),
                               result.snapshots_d[..., 0].ravel()])

    def adjoint(x: np.ndarray, y_bar: np.ndarray) -> np.ndarray:
        final_b, daily_b, snapshots_b = np.split(y_bar, np.cumsum(sizes)[:2])
        result = run_adjoint(tiles, x.reshape(shape), forcing, spinup, samples=samples,
                             outputs=outputs,
                             daily_b=daily_b.reshape(tiles.n_tile, n_day, len(outputs)),
                             snapshots_b=snapshots_b.reshape(-1, N_SNAPSHOT),
                             final_state_b=final_b.reshape(tiles.n_tile, N_STATE))
        return result.parameters_b.ravel()

    return RunMaps(function=function, tangent=tangent, adjoint=adjoint, sizes=sizes)
