"""The command line: help and version, and one clear error line for each bad input with
nothing written."""

import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from tccas.pipeline.cli import main

DK_FOU_MET = "fluxnet/DK-Fou_2005-2005_FLUXNET2015_Met.nc"


def run_cli(capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version_and_help_from_the_console_script():
    version = subprocess.run(["tccas", "--version"], capture_output=True, text=True,
                             check=True)
    assert version.stdout.startswith("tccas ")
    helptext = subprocess.run([sys.executable, "-m", "tccas.pipeline.cli", "--help"],
                              capture_output=True, text=True, check=True)
    for command in ("demo", "simulate", "bench"):
        assert command in helptext.stdout


def assert_one_error_line(code, err, *fragments):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tccas: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def tower_args(forcing, out, *pfts):
    args = ["simulate", "--forcing", str(forcing), "--lat", "56.48", "--lon", "9.59",
            "--start", "2005-01-01", "--end", "2005-01-31", "--out", str(out)]
    for pft in pfts:
        args += ["--pft", pft]
    return args


def test_missing_forcing_variable(capsys, tmp_path, fixture_file):
    broken = tmp_path / "no_tair.nc"
    xr.open_dataset(fixture_file(DK_FOU_MET)).drop_vars("Tair").to_netcdf(broken)
    out = tmp_path / "out.zarr"
    code, _, err = run_cli(capsys, *tower_args(broken, out, "ArbC"))
    assert_one_error_line(code, err, "no_tair.nc", "Tair")
    assert not out.exists()


def test_nan_in_forcing(capsys, tmp_path, fixture_file):
    with xr.open_dataset(fixture_file(DK_FOU_MET)) as met:
        data = met.load()
    tair = data["Tair"].values
    tair[200:240] = np.nan  # a 20 h gap: too long to interpolate
    data["Tair"].values[:] = tair
    broken = tmp_path / "nan_tair.nc"
    data.to_netcdf(broken)
    out = tmp_path / "out.zarr"
    code, _, err = run_cli(capsys, *tower_args(broken, out, "ArbC"))
    assert_one_error_line(code, err, "nan_tair.nc", "Tair", "2005-01-0")
    assert not out.exists()


def test_unknown_pft(capsys, tmp_path, fixture_file):
    out = tmp_path / "out.zarr"
    code, _, err = run_cli(capsys, *tower_args(fixture_file(DK_FOU_MET), out, "Oak"))
    assert_one_error_line(code, err, "unknown PFT 'Oak'")
    assert not out.exists()


def test_cover_fractions_not_summing_to_one(capsys, tmp_path, fixture_file):
    out = tmp_path / "out.zarr"
    code, _, err = run_cli(capsys, *tower_args(fixture_file(DK_FOU_MET), out, "EvCn:0.5",
                                               "C3Gr:0.3"))
    assert_one_error_line(code, err, "sum to 0.8")
    assert not out.exists()


def test_start_after_end(capsys, tmp_path):
    out = tmp_path / "out.zarr"
    code, _, err = run_cli(capsys, "simulate", "--site", "majadas", "--start", "2016-01-01",
                           "--end", "2015-12-31", "--out", str(out))
    assert_one_error_line(code, err, "2016-01-01", "after", "2015-12-31")
    assert not out.exists()


def test_unknown_site_and_bad_date(capsys, tmp_path):
    out = tmp_path / "out.zarr"
    code, _, err = run_cli(capsys, "simulate", "--site", "atlantis", "--start", "2015-01-01",
                           "--end", "2015-12-31", "--out", str(out))
    assert_one_error_line(code, err, "unknown site 'atlantis'")
    code, _, err = run_cli(capsys, "simulate", "--site", "majadas", "--start", "2015-13-01",
                           "--end", "2015-12-31", "--out", str(out))
    assert_one_error_line(code, err, "--start", "2015-13-01")
    assert not out.exists()


def test_unknown_bench_suite(capsys):
    code, _, err = run_cli(capsys, "bench", "--suite", "warp")
    assert_one_error_line(code, err, "warp")


@pytest.mark.slow
def test_tower_run_writes_store(capsys, tmp_path, fixture_file):
    out = tmp_path / "dkfou.zarr"
    code, stdout, _ = run_cli(capsys, *tower_args(fixture_file(DK_FOU_MET), out, "ArbC"))
    assert code == 0 and "wrote" in stdout
    with xr.open_zarr(out) as ds:
        assert ds.sizes["time"] == 31 and ds.sizes["tile"] == 1
        assert ds["pft"].values.tolist() == ["ArbC"]
