"""``tccas uncertainty``: tables (CSV) and figures (PNG) of a posterior store.

Reads the store written by ``tccas assimilate`` (:mod:`tccas.pipeline.assimilate`) and
writes:

* ``controls.csv``: per control element its units, prior and posterior value and sigma,
  and the uncertainty reduction 1 - sigma_post/sigma_prior;
* ``targets.csv``: per target quantity (mean GPP, NEE, ET per PFT and in total; carbon at
  the start and end of the window) its value and prior and posterior sigma;
* ``correlation.csv`` and ``correlation.png``: the posterior correlation matrix;
* ``uncertainty_reduction.png``: a bar chart of the reductions;
* with ``--leave-one-out``: ``leave_one_out.csv`` (reduction of every element and sigma
  of every target for all streams and for each stream left out, from the stored
  Jacobian) and ``leave_one_out.png`` (grouped bars).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tccas.model.errors import TccasInputError
from tccas.pipeline.assimilate import jacobian_from_store
from tccas.pipeline.uncertainty import posterior_covariance_z


def experiments(streams: tuple[str, ...]) -> dict[str, list[str]]:
    """All streams, then each left out in turn (SCIENCE.md information content)."""
    out = {"all": list(streams)}
    for stream in streams:
        out[f"without_{stream}"] = [s for s in streams if s != stream]
    return out


def write_report(posterior: str | Path, out: str | Path, leave_one_out: bool = False
                 ) -> list[Path]:
    """Write the tables and figures; returns the paths written."""
    jac, root = jacobian_from_store(posterior)
    if root.attrs.get("status") != "complete":
        raise TccasInputError(f"{posterior}: the assimilation has not finished "
                              f"(status {root.attrs.get('status')!r})")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    names = [str(n) for n in root["name"].values]
    written = []
    controls = pd.DataFrame({
        "name": names, "units": [str(u) for u in root["units"].values],
        "x_prior": root["x_prior"].values, "x_post": root["x_post"].values,
        "sigma_prior": root["sigma_prior"].values, "sigma_post": root["sigma_post"].values,
        "uncertainty_reduction": root["uncertainty_reduction"].values})
    written.append(_csv(controls, folder / "controls.csv"))
    targets = pd.DataFrame({
        "name": [str(t) for t in root["target"].values],
        "value": root["target_value"].values,
        "sigma_prior": root["target_sigma_prior"].values,
        "sigma_post": root["target_sigma_post"].values})
    targets["uncertainty_reduction"] = 1.0 - targets["sigma_post"] / targets["sigma_prior"]
    written.append(_csv(targets, folder / "targets.csv"))
    correlation = pd.DataFrame(root["correlation"].values, index=names, columns=names)
    written.append(_csv(correlation, folder / "correlation.csv", index=True))
    written.append(_correlation_figure(correlation, folder / "correlation.png"))
    written.append(_bars({"all": controls["uncertainty_reduction"].to_numpy()}, names,
                         folder / "uncertainty_reduction.png"))
    if leave_one_out:
        rows, reductions = [], {}
        g = jac.target_gradients
        for label, include in experiments(jac.streams).items():
            a_z = posterior_covariance_z(jac, include)
            reduction = 1.0 - np.sqrt(np.diag(a_z))
            reductions[label] = reduction
            sigma_t = np.sqrt(np.einsum("ti,ij,tj->t", g, a_z, g))
            rows.append({"experiment": label, **dict(zip(names, reduction, strict=True)),
                         **{f"sigma_{t}": s for t, s in zip(jac.target_names, sigma_t,
                                                             strict=True)}})
        written.append(_csv(pd.DataFrame(rows), folder / "leave_one_out.csv"))
        written.append(_bars(reductions, names, folder / "leave_one_out.png"))
    return written


def _csv(frame: pd.DataFrame, path: Path, index: bool = False) -> Path:
    frame.to_csv(path, index=index, float_format="%.10g")
    return path


def _bars(series: dict[str, np.ndarray], names: list[str], path: Path) -> Path:
    fig = Figure(figsize=(max(8.0, 0.35 * len(names)), 4.5))
    ax = fig.add_subplot()
    width = 0.8 / len(series)
    positions = np.arange(len(names))
    for k, (label, values) in enumerate(series.items()):
        ax.bar(positions + (k - (len(series) - 1) / 2) * width, values, width, label=label)
    ax.set_xticks(positions, names, rotation=90, fontsize=7)
    ax.set_ylabel("uncertainty reduction 1 - sigma_post / sigma_prior")
    ax.set_ylim(0.0, 1.0)
    if len(series) > 1:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def _correlation_figure(correlation: pd.DataFrame, path: Path) -> Path:
    n = correlation.shape[0]
    fig = Figure(figsize=(max(6.0, 0.25 * n), max(5.0, 0.25 * n)))
    ax = fig.add_subplot()
    image = ax.imshow(correlation.to_numpy(), cmap="RdBu_r", vmin=-1.0, vmax=1.0)
    ax.set_xticks(range(n), correlation.columns, rotation=90, fontsize=6)
    ax.set_yticks(range(n), correlation.index, fontsize=6)
    fig.colorbar(image, ax=ax, label="posterior correlation")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path

