"""tools/seals_benchmark.py: keeping benchmark records and publishing their table."""

from __future__ import annotations

import json
import pathlib

import pytest

TOOL_NAME = "seals_benchmark"  # loaded by the ``tool`` fixture (conftest.py)


def _stats(mean: float) -> dict[str, float]:
    return {"n_traj": 5, "monitor_return_len": 5, "monitor_return_mean": mean}


def write_run(
    root: pathlib.Path,
    run_id: int,
    *,
    seed: int,
    score: float,
    status: str = "COMPLETED",
    start: str = "2026-12-06T10:00:00",
    cpu: float | None = 1800.0,
    command: str = "bc",
) -> pathlib.Path:
    """A run as ``run_benchmarks`` leaves it: Sacred's files and the extras."""
    run_dir = root / "sacred" / "train_imitation" / str(run_id)
    run_dir.mkdir(parents=True)
    config = {"environment": {"gym_id": "seals/Hopper-v1"}, "seed": seed}
    result = {
        "imit_stats": _stats(score),
        "expert_stats": _stats(100.0),
        "random_stats": _stats(0.0),
    }
    run = {
        "command": command,
        "status": status,
        "start_time": start,
        "meta": {"named_configs": ["bc_seals_hopper"], "config_updates": {}},
        "result": result if status == "COMPLETED" else None,
    }
    (run_dir / "config.json").write_text(json.dumps(config))
    (run_dir / "run.json").write_text(json.dumps(run))
    (run_dir / "cout.txt").write_text("not kept")
    if cpu is not None:
        (run_dir / "info.json").write_text(json.dumps({"cpu_seconds": cpu}))
    return run_dir


def test_collect_keeps_completed_runs_once(tool, tmp_path):
    out, results = tmp_path / "output", tmp_path / "results"
    write_run(out, 1, seed=0, score=90.0)
    write_run(out, 2, seed=1, score=100.0)
    write_run(out, 3, seed=2, score=50.0, status="INTERRUPTED")
    write_run(out, 4, seed=3, score=50.0, command="run_benchmarks")  # a sweep's
    assert tool.collect([out], results) == 2
    kept = results / "bc_seals_hopper" / "seed0"
    assert sorted(p.name for p in kept.iterdir()) == list(sorted(tool.KEPT_FILES))
    assert not (results / "bc_seals_hopper" / "seed2").exists()
    # Collecting again adds nothing; another run under a kept name is refused.
    assert tool.collect([out], results) == 0
    other = tmp_path / "other"
    write_run(other, 1, seed=0, score=10.0, start="2026-12-07T10:00:00")
    with pytest.raises(FileExistsError, match="another run"):
        tool.collect([other], results)


def test_summary_side_by_side_and_compute(tool, tmp_path):
    out, results = tmp_path / "output", tmp_path / "results"
    write_run(out, 1, seed=0, score=90.0)
    write_run(out, 2, seed=1, score=100.0, cpu=None)
    tool.collect([out], results)
    summary = tmp_path / "summary.md"
    tool.summary(results, summary)
    text = summary.read_text()
    assert "### Aggregate Normalized scores" in text  # the library's own, one down
    # Documented 1.003 beside ours (0.9 + 1.0) / 2 on 2 seeds.
    side = text.split("## Side by side")[1]
    row = next(line for line in side.splitlines() if line.startswith("| seals/Hop"))
    assert "1.003 / 0.950 (n=2)" in row
    assert "| BC | 0.941 |" in text
    compute = text.split("## Compute")[1]
    assert "0.50 (some unrecorded)" in compute
