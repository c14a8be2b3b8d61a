"""``tccas check-derivatives``: Taylor and dot-product tests of the whole model at a site.

The map under test takes every parameter and initial pool of the site's PFT tiles to the
final state, daily GPP, NEE, ET and LAI, and the snapshots at the TROPOMI overpass hours,
through the full multi-year run with the spin-up recycling. The Taylor test runs once per
parameter group (directions drawn in that group only, scaled to 1 % of each value); the
dot-product test compares the tangent and adjoint drivers for directions in all
parameters. Directions come from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from tccas.model.adjoint import run_adjoint
from tccas.model.driver import Samples, SpinUp, run_forward
from tccas.model.errors import TccasInputError
from tccas.model.layout import N_SNAPSHOT, N_STATE
from tccas.model.parameters import PARAMETER_NAMES
from tccas.model.run_maps import run_maps
from tccas.model.tangent import run_tangent
from tccas.model.verification import dot_product_test, taylor_test
from tccas.operators.streams import overpass_hours
from tccas.pipeline.simulate import site_simulation

OUTPUTS = ("gpp", "nee", "et", "lai")
PARAMETER_GROUPS: dict[str, tuple[str, ...]] = {
    "photosynthesis": ("vcmax25", "a_jv"),
    "water": ("water_capacity_factor",),
    "allocation": ("f_auto", "f_fol", "f_roo", "f_lab"),
    "turnover": ("theta_min", "theta_woo", "theta_roo", "theta_lit", "theta_som",
                 "temp_sensitivity", "c_eff"),
    "phenology": ("clspan", "d_onset", "cr_onset", "d_fall", "cr_fall", "lma"),
    "initial pools": ("c_labile_init", "c_foliage_init", "c_root_init", "c_wood_init",
                      "c_litter_init", "c_som_init"),
}
DAY_OF_YEAR_PARAMETERS = ("d_onset", "d_fall")


@dataclass(frozen=True)
class GroupResult:
    group: str
    min_relative_error: float
    second_order: bool

    @property
    def passed(self) -> bool:
        return self.min_relative_error < 1e-6 and self.second_order


def check_site(site: str, years: int, seed: int) -> dict:
    """Run the checks; return the per-group Taylor results, the dot-product result and
    the timings [s]."""
    if years < 1:
        raise TccasInputError(f"--years must be at least 1, got {years}")
    start = 2015
    simulation = site_simulation(site, f"{start}-01-01", f"{start + years - 1}-12-31")
    tiles, forcing = simulation.tiles, simulation.forcing
    spinup = SpinUp(years=min(2, years), cycles=1)
    n_day = forcing.n_hour // 24
    samples = Samples.same_for_all(tiles.n_tile, overpass_hours(
        float(tiles.static[0, 1]), 13.5, n_day)[::5])
    shape = simulation.parameters.shape
    x0 = simulation.parameters.ravel()
    maps = run_maps(tiles, forcing, shape[1], spinup, samples, OUTPUTS)
    function, tangent, adjoint = maps.function, maps.tangent, maps.adjoint
    sizes = maps.sizes

    rng = np.random.default_rng(seed)
    groups = []
    for group, names in PARAMETER_GROUPS.items():
        direction = np.zeros(shape)
        for name in names:
            column = PARAMETER_NAMES.index(name)
            scale = 1.0 if name in DAY_OF_YEAR_PARAMETERS else 0.01 * np.abs(
                simulation.parameters[:, column])
            direction[:, column] = rng.standard_normal(tiles.n_tile) * scale
        taylor = taylor_test(function, tangent, x0, direction.ravel(),
                             steps=np.logspace(-2, -8, 13))
        groups.append(GroupResult(group, taylor.min_relative_error, taylor.second_order))
    dx = rng.standard_normal(x0.size) * 0.01 * np.abs(x0)
    dy = rng.standard_normal(sum(sizes))
    dot = dot_product_test(tangent, adjoint, x0, dx, dy)

    timer = time.perf_counter()
    run_forward(tiles, simulation.parameters, forcing, spinup, samples=samples, threads=1)
    forward_seconds = time.perf_counter() - timer
    final_b, daily_b, snapshots_b = np.split(dy, np.cumsum(sizes)[:2])
    timer = time.perf_counter()
    run_adjoint(tiles, simulation.parameters, forcing, spinup, samples=samples,
                outputs=OUTPUTS, daily_b=daily_b.reshape(tiles.n_tile, n_day, len(OUTPUTS)),
                snapshots_b=snapshots_b.reshape(-1, N_SNAPSHOT),
                final_state_b=final_b.reshape(tiles.n_tile, N_STATE), threads=1)
    adjoint_seconds = time.perf_counter() - timer
    directions = np.eye(x0.size).reshape(x0.size, *shape).transpose(1, 2, 0)
    timer = time.perf_counter()
    run_tangent(tiles, simulation.parameters, forcing, np.ascontiguousarray(directions),
                spinup, samples=samples, outputs=OUTPUTS, threads=1)
    tangent_seconds = (time.perf_counter() - timer) / x0.size
    return {
        "site": site, "years": years, "seed": seed, "n_tile": tiles.n_tile,
        "n_control": int(x0.size),
        "groups": groups,
        "taylor_min_rel_error": max(g.min_relative_error for g in groups),
        "taylor_second_order": all(g.second_order for g in groups),
        "dot_product_rel_error": dot.relative_error,
        "forward_seconds": forward_seconds,
        "adjoint_seconds": adjoint_seconds,
        "tangent_seconds_per_direction": tangent_seconds,
        "passed": all(g.passed for g in groups) and dot.passed,
    }


def format_report(report: dict) -> str:
    lines = [f"derivative checks at {report['site']}, {report['years']} years "
             f"(spin-up included), {report['n_tile']} tiles, {report['n_control']} "
             f"parameters, seed {report['seed']}",
             f"  {'parameter group':16s} {'Taylor rel. error':>18s} {'h^2 remainder':>14s}  "
             "result"]
    for g in report["groups"]:
        lines.append(f"  {g.group:16s} {g.min_relative_error:18.2e} "
                     f"{'yes' if g.second_order else 'no':>14s}  "
                     f"{'pass' if g.passed else 'FAIL'}")
    dot_ok = report["dot_product_rel_error"] < 1e-12
    lines.append(f"  {'dot product':16s} {report['dot_product_rel_error']:18.2e} "
                 f"{'':>14s}  {'pass' if dot_ok else 'FAIL'}")
    lines.append(f"  forward {report['forward_seconds']:.3f} s, adjoint "
                 f"{report['adjoint_seconds']:.3f} s, tangent per direction "
                 f"{report['tangent_seconds_per_direction']:.4f} s (one core)")
    return "\n".join(lines)


def json_fields(report: dict) -> dict:
    keys = ("site", "years", "seed", "taylor_min_rel_error", "taylor_second_order",
            "dot_product_rel_error", "forward_seconds", "adjoint_seconds",
            "tangent_seconds_per_direction", "passed")
    return {k: report[k] for k in keys} | {
        "groups": {g.group: g.min_relative_error for g in report["groups"]}}

