"""The control vector: what the assimilation optimises, its prior, and the maps between
the whitened space of the optimiser, physical values and per-tile parameter arrays.

Elements (ARCHITECTURE.md section 4, MODEL_SPEC 5):

* per-PFT process parameters and initial carbon pools, named ``<PFT>.<parameter>`` (e.g.
  ``C3Gr.vcmax25``, ``TmEv.c_wood_init``), shared by every tile of the PFT over the
  region (``control.sharing: pft``, the default, which keeps the high-resolution
  composition of ARCHITECTURE.md section 8 valid), or one per tile, named
  ``<PFT>.<parameter>@<tile>`` (``sharing: tile``);
* global observation-operator parameters, named as in the table (``vod_l_0``).

Prior: the parameter table's values x0 and relative sigmas (TCCAS: 20 % for process
parameters and pools, 50 % for operator parameters; ``tccas.model.parameters``). The
optimiser works in whitened space z, where the prior is N(0, I):

* parameters that must stay positive (every process parameter and pool, and operator
  parameters with a positive lower bound) are log-normal: x = x0 exp(s z) with s the
  relative sigma, so that the prior sigma of x is s x0 to first order (PROPOSED: the
  TCCAS prior is Gaussian with that sigma; the log transform keeps x > 0 without a
  bound becoming active and equals it to first order);
* the others are Gaussian: x = x0 + s |x0| z.

The box bounds of the table map to bounds on z. The cost's gradient with respect to z is
the gradient with respect to x times dx/dz (diagonal), and the posterior covariance in x
is A = D A_z D with D = diag(dx/dz) at the optimum (ARCHITECTURE.md section 7).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tccas.model.errors import TccasInputError
from tccas.model.parameters import (
    OPERATOR_PARAMETERS,
    PARAMETER_BY_NAME,
    PARAMETERS,
    PFT_BY_SHORT,
    PFTS,
    prior_table,
)
from tccas.pipeline.config import ControlConfig

KIND_MODEL = 0
KIND_OPERATOR = 1
PARAMETER_COLUMN = {p.name: i for i, p in enumerate(PARAMETERS)}
OPERATOR_COLUMN = {p.name: i for i, p in enumerate(OPERATOR_PARAMETERS)}


@dataclass(frozen=True)
class ControlSpace:
    """The control elements and their prior.

    Attributes (arrays of length n, the number of elements)
    ----------
    names, units : element names (see the module docstring) and units of x.
    kind : :data:`KIND_MODEL` or :data:`KIND_OPERATOR`.
    column : parameter column (``tccas.model.parameters.PARAMETERS`` order) or operator
        parameter index.
    pft : PFT code (1..13) of model elements, 0 for operator parameters.
    tile : global tile index of per-tile elements, -1 for shared ones.
    x0 : prior values [units].
    spread : relative sigma (log elements) or absolute sigma (Gaussian elements).
    log : whether the element is log-normal.
    lower, upper : box bounds [units].
    """

    names: tuple[str, ...]
    units: tuple[str, ...]
    kind: np.ndarray
    column: np.ndarray
    pft: np.ndarray
    tile: np.ndarray
    x0: np.ndarray
    spread: np.ndarray
    log: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    @property
    def n(self) -> int:
        """Number of control elements."""
        return len(self.names)

    @property
    def sigma_prior(self) -> np.ndarray:
        """Prior sigma of x [units] (to first order for log-normal elements)."""
        return np.where(self.log, self.spread * self.x0, self.spread)

    def x_from_z(self, z: np.ndarray) -> np.ndarray:
        """Physical values from whitened ones."""
        z = np.asarray(z, dtype=np.float64)
        return np.where(self.log, self.x0 * np.exp(self.spread * z), self.x0 + self.spread * z)

    def z_from_x(self, x: np.ndarray) -> np.ndarray:
        """Whitened values from physical ones (log elements need x > 0)."""
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log(x / self.x0) / self.spread
        return np.where(self.log, logs, (x - self.x0) / self.spread)

    def dx_dz(self, z: np.ndarray) -> np.ndarray:
        """Diagonal of the Jacobian dx/dz at z."""
        return np.where(self.log, self.spread * self.x_from_z(z), self.spread)

    def z_bounds(self) -> list[tuple[float, float]]:
        """Box bounds of z for L-BFGS-B."""
        low, high = self.z_from_x(self.lower), self.z_from_x(self.upper)
        return [(float(a), float(b)) for a, b in zip(low, high, strict=True)]

    def tile_parameters(self, x: np.ndarray, pft_codes: np.ndarray,
                        tile_ids: np.ndarray | None = None) -> np.ndarray:
        """Per-tile model parameters (n_tile, N_PARAMETER): the prior table of each tile's
        PFT with the controlled entries set from x. ``tile_ids`` are the tiles' global
        indices (needed for per-tile elements)."""
        table = prior_table(pft_codes)
        for element in np.flatnonzero(self.kind == KIND_MODEL):
            target = self.tiles_of(element, pft_codes, tile_ids)
            table[target, self.column[element]] = x[element]
        return table

    def operator_parameters(self, x: np.ndarray) -> np.ndarray:
        """Global operator parameters (table order), controlled ones from x."""
        values = np.array([p.prior for p in OPERATOR_PARAMETERS])
        chosen = self.kind == KIND_OPERATOR
        values[self.column[chosen]] = np.asarray(x)[chosen]
        return values

    def gradient(self, parameters_b: np.ndarray, pft_codes: np.ndarray,
                 tile_ids: np.ndarray | None, operator_b: np.ndarray) -> np.ndarray:
        """Gradient with respect to x from the gradient with respect to per-tile parameters
        (n_tile, N_PARAMETER) and operator parameters: the adjoint of
        :meth:`tile_parameters` and :meth:`operator_parameters`."""
        g = np.zeros(self.n)
        for element in range(self.n):
            if self.kind[element] == KIND_OPERATOR:
                g[element] = operator_b[self.column[element]]
            else:
                target = self.tiles_of(element, pft_codes, tile_ids)
                g[element] = parameters_b[target, self.column[element]].sum()
        return g

    def draw(self, rng: np.random.Generator, spread: float = 1.0) -> np.ndarray:
        """A random x from the prior, its whitened deviation scaled by ``spread`` and kept
        inside the bounds (for the truth of twin experiments)."""
        bounds = np.array(self.z_bounds())
        z = np.clip(spread * rng.standard_normal(self.n), bounds[:, 0], bounds[:, 1])
        return self.x_from_z(z)

    def tiles_of(self, element: int, pft_codes: np.ndarray,
                 tile_ids: np.ndarray | None) -> np.ndarray:
        """Indices of the tiles (given their PFT codes and global ids) that control
        element ``element`` sets."""
        if self.tile[element] < 0:
            return np.flatnonzero(np.asarray(pft_codes) == self.pft[element])
        if tile_ids is None:
            raise TccasInputError("per-tile control elements need the tiles' global ids")
        return np.flatnonzero(np.asarray(tile_ids) == self.tile[element])


def control_space(config: ControlConfig, pfts_present: Sequence[int],
                  tile_pfts: Sequence[int] | None = None) -> ControlSpace:
    """The control space of a configuration for a region.

    Parameters
    ----------
    config : the ``control`` section of the experiment configuration.
    pfts_present : PFT codes with at least one tile in the region.
    tile_pfts : PFT code of every tile (global order), needed for ``sharing: tile``.
    """
    present = sorted({int(code) for code in pfts_present})
    by_code = {p.code: p for p in PFTS}
    if config.pfts:
        codes = [PFT_BY_SHORT[name].code for name in config.pfts]
        missing = [name for name, code in zip(config.pfts, codes, strict=True)
                   if code not in present]
        if missing:
            raise TccasInputError(f"control.pfts: {', '.join(missing)} has no tile in the "
                                  "region")
    else:
        codes = present
    if config.sharing == "tile" and tile_pfts is None:
        raise TccasInputError("control.sharing 'tile' needs the region's tiles")
    fixed = set(config.fixed)
    rows: list[tuple] = []
    for code in codes:
        short = by_code[code].short
        owners = [(-1, "")] if config.sharing == "pft" else [
            (t, f"@{t}") for t, c in enumerate(tile_pfts or []) if int(c) == code]
        for name in [*config.parameters, *config.initial_pools]:
            spec = PARAMETER_BY_NAME[name]
            prior = spec.prior[code - 1]
            for tile, suffix in owners:
                element = f"{short}.{name}{suffix}"
                if element in fixed or f"{short}.{name}" in fixed:
                    continue
                rows.append((element, spec.unit, KIND_MODEL, PARAMETER_COLUMN[name], code,
                             tile, prior, spec.sigma_relative, spec.positive, spec.lower,
                             spec.upper))
    for name in config.operator_parameters:
        if name in fixed:
            continue
        spec = OPERATOR_PARAMETERS[OPERATOR_COLUMN[name]]
        log = spec.lower > 0.0
        spread = spec.sigma_relative if log else spec.sigma_relative * abs(spec.prior)
        rows.append((name, spec.unit, KIND_OPERATOR, OPERATOR_COLUMN[name], 0, -1,
                     spec.prior, spread, log, spec.lower, spec.upper))
    known = {row[0] for row in rows} | {f"{by_code[c].short}.{n}" for c in codes
                                        for n in [*config.parameters, *config.initial_pools]}
    unknown = sorted(fixed - known - {p.name for p in OPERATOR_PARAMETERS})
    if unknown:
        raise TccasInputError(f"control.fixed: {', '.join(unknown)} is not a control element")
    if not rows:
        raise TccasInputError("the control vector is empty (everything fixed?)")
    columns = list(zip(*rows, strict=True))
    space = ControlSpace(
        names=tuple(columns[0]), units=tuple(columns[1]),
        kind=np.array(columns[2], dtype=np.int64), column=np.array(columns[3], dtype=np.int64),
        pft=np.array(columns[4], dtype=np.int64), tile=np.array(columns[5], dtype=np.int64),
        x0=np.array(columns[6], dtype=np.float64), spread=np.array(columns[7], dtype=np.float64),
        log=np.array(columns[8], dtype=bool), lower=np.array(columns[9], dtype=np.float64),
        upper=np.array(columns[10], dtype=np.float64))
    outside = np.flatnonzero((space.x0 < space.lower) | (space.x0 > space.upper))
    if outside.size:
        i = outside[0]
        raise TccasInputError(f"prior of {space.names[i]} = {space.x0[i]} lies outside its "
                              f"bounds [{space.lower[i]}, {space.upper[i]}]")
    return space

