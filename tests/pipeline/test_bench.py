"""``tccas bench`` prints its figures and one JSON object last (small sizes here; the
figures themselves live in BENCHMARKS.md, never in tests)."""

import json

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
