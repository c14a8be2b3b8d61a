"""``tccas demo``: the main job on built-in data.

For now (forward-model stage): the Majadas site 2015-2021 on the built-in weather, with the
two-year TCCAS spin-up window; prints annual GPP, NEE and ET per PFT and cover-weighted,
and writes the daily output (Zarr) and PNG figures of daily GPP, NEE, LAI and surface soil
moisture per PFT.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import xarray as xr

from tccas.pipeline.simulate import (
    EQUIVALENTS_GROUP,
    annual_summary,
    forward_dataset,
    observation_equivalents,
    run,
    site_simulation,
    write_zarr_atomic,
)

DEMO_SITE = "majadas"
DEMO_START = "2015-01-01"
DEMO_END = "2021-12-31"
UNITS = {"gpp": "gC m-2 yr-1", "nee": "gC m-2 yr-1", "et": "mm yr-1"}


def plot_daily(dataset: xr.Dataset, path: Path) -> Path:
    """Four panels of daily GPP, NEE, LAI and surface soil moisture, one line per PFT and
    the cover-weighted mean for the fluxes."""
    fig, axes = plt.subplots(4, 1, figsize=(11, 10), sharex=True)
    panels = (("gpp", "GPP [gC m-2 d-1]"), ("nee", "NEE [gC m-2 d-1]"),
              ("lai", "LAI [m2 m-2]"), ("sm_surface", "surface soil moisture [m3 m-3]"))
    time = dataset["time"].values
    for ax, (name, label) in zip(axes, panels, strict=True):
        for t in range(dataset.sizes["tile"]):
            ax.plot(time, dataset[name].values[t], lw=0.7,
                    label=f"{dataset['pft'].values[t]} ({dataset['cover_fraction'].values[t]:.2f})")
        if name in ("gpp", "nee"):
            ax.plot(time, dataset[f"{name}_cell"].values[0], lw=0.9, color="k",
                    label="cover-weighted")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    spinup_end = time[dataset["spinup"].values.sum()] if dataset["spinup"].values.any() else None
    if spinup_end is not None:
        for ax in axes:
            ax.axvspan(time[0], spinup_end, color="0.9", zorder=0)
    axes[0].legend(loc="upper right", fontsize=8, ncols=3)
    axes[0].set_title(f"D&B forward run, {dataset.attrs.get('site', '')} "
                      "(grey: spin-up window)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def format_summary(summary: dict[str, dict[int, dict[str, float]]]) -> str:
    lines = []
    for name, per_year in summary.items():
        labels = list(next(iter(per_year.values())))
        lines.append(f"annual {name.upper()} [{UNITS[name]}]")
        lines.append("  year " + "".join(f"{label:>16}" for label in labels))
        for year, row in per_year.items():
            lines.append(f"  {year} " + "".join(f"{row[label]:16.1f}" for label in labels))
        means = {label: sum(r[label] for r in per_year.values()) / len(per_year)
                 for label in labels}
        lines.append("  mean " + "".join(f"{means[label]:16.1f}" for label in labels))
    return "\n".join(lines)


def run_demo(out_dir: str | Path = "tccas-demo", seed: int = 0) -> dict[str, Path]:
    """Run the demo; return the paths it wrote."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    simulation = site_simulation(DEMO_SITE, DEMO_START, DEMO_END, seed=seed)
    result = run(simulation)
    dataset = forward_dataset(simulation, result)
    store = write_zarr_atomic(dataset, out / f"{DEMO_SITE}_forward.zarr",
                              {EQUIVALENTS_GROUP: observation_equivalents(simulation, result)})
    figure = plot_daily(dataset, out / f"{DEMO_SITE}_daily.png")
    print(f"D&B forward run at {DEMO_SITE} {DEMO_START} .. {DEMO_END} "
          f"(spin-up window {result.spinup_days} days, built-in weather, seed {seed})")
    print(format_summary(annual_summary(dataset)))
    print(f"wrote {store}")
    print(f"wrote {figure}")
    return {"store": store, "figure": figure}
