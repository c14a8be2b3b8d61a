"""``tccas bench`` prints its figures and one JSON object last (small sizes here; the
figures themselves live in BENCHMARKS.md, never in tests)."""

import json

import pytest

from tccas.pipeline import bench
from tccas.pipeline.cli import main


def test_bench_json_fields(capsys, monkeypatch):
    monkeypatch.setattr(bench, "N_TILE", 8)
    monkeypatch.setattr(bench.forward_benchmark, "__defaults__", (8, 1))
    assert main(["bench", "--json", "--suite", "forward"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    figures = json.loads(last)
    assert figures["forward_us_per_tile_hour"] > 0.0
    assert figures["forward_peak_memory_mb"] > 0.0


def test_named_only_suites_stay_out_of_the_default_run(monkeypatch):
    ran = []
    monkeypatch.setattr(bench, "suites", lambda: {"a": lambda: ran.append("a") or {"x": 1.0}})
    monkeypatch.setattr(bench, "named_only_suites",
                        lambda: {"long": lambda: ran.append("long") or {"y": 2.0}})
    assert bench.run_benchmarks() == {"x": 1.0}
    assert bench.run_benchmarks(["long"]) == {"y": 2.0}
    assert ran == ["a", "long"]


def test_unknown_suite_is_a_clear_error(capsys):
    assert main(["bench", "--suite", "forwards"]) == 2
    err = capsys.readouterr().err
    assert "unknown benchmark suite(s) forwards" in err and "lapland-gradient" in err


def test_lapland_gradient_benchmark_on_one_block(monkeypatch):
    from tccas.pipeline import bench_assimilation

    monkeypatch.setattr(bench_assimilation, "LAPLAND_TILES", 64)
    monkeypatch.setattr(bench_assimilation, "LAPLAND_HOURS", 8766)
    figures = bench_assimilation.lapland_gradient_benchmark(workers=1)
    assert figures["lapland_gradient_tiles"] == 64.0
    assert figures["lapland_gradient_hours"] == 8760.0
    assert figures["lapland_gradient_s"] > 0.0
    assert figures["lapland_gradient_s_full"] == pytest.approx(
        figures["lapland_gradient_s"] * 8766 / 8760)
