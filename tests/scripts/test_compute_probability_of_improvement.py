"""imitation.scripts.compute_probability_of_improvement on runs with known numbers."""

from __future__ import annotations

import re

import benchmark_fixtures as bf
import numpy as np
import pytest

from imitation.scripts import compute_probability_of_improvement as poi_tool

TOOL = "python -m imitation.scripts.compute_probability_of_improvement"


def _per_env(text: str) -> dict[str, float]:
    return {
        env: float(poi)
        for env, poi in re.findall(r"^\| (seals/\S+) \| ([0-9.]+) \|", text, re.M)
    }


def _overall(text: str) -> tuple[float, float, float]:
    match = re.search(
        r"Probability of improvement: ([0-9.]+), 95% CI \[([0-9.]+), ([0-9.]+)\]",
        text,
    )
    assert match is not None, text
    point, low, high = (float(g) for g in match.groups())
    return point, low, high


def test_documented_commands(tmp_path):
    workspace = bf.write_workspace(tmp_path)
    commands = bf.documented_commands("compute_probability_of_improvement")
    assert len(commands) == 2
    against_release, with_algo = commands

    # Your GAIL (output/sacred) against the benchmark's GAIL. Hopper: yours
    # 300, 300, 20 vs 10, 20, 300: 2.5 + 2.5 + 1.5 of 9 pairs. Swimmer: yours
    # 100 (x3) vs 50, 100, 5: 2.5 of 3 pairs each.
    result = bf.run_shell(workspace, against_release)
    assert result.returncode == 0, result.stderr
    assert _per_env(result.stdout) == {
        bf.HOPPER: round(6.5 / 9, 3),
        bf.SWIMMER: round(7.5 / 9, 3),
    }
    assert _overall(result.stdout)[0] == round((6.5 / 9 + 7.5 / 9) / 2, 3)
    assert result.stdout == bf.documented_output("# Probability of improvement")
    assert "skipped 3 of 16 run directories" in result.stderr
    assert "left out environments only gail (benchmark_runs)" in result.stderr

    # Benchmark GAIL over benchmark BC. Hopper: 10, 20, 300 vs 0, -20, 300
    # (2 + 2 + 2.5 of 9 pairs); Swimmer: the same scores on both sides (1/2).
    result = bf.run_shell(workspace, with_algo)
    assert result.returncode == 0, result.stderr
    assert _per_env(result.stdout) == {bf.HOPPER: 0.722, bf.SWIMMER: 0.5}
    assert _overall(result.stdout)[0] == round((6.5 / 9 + 0.5) / 2, 3)
    assert result.stderr.count("skipped 3 of 16") == 1  # one folder, read once


def _loop_interval(xs, ys, reps, seed):
    """Independent resampling of both sides per task, one replicate at a time."""
    rng = np.random.default_rng(seed)
    x_idx = [rng.integers(0, len(x), size=(reps, len(x))) for x in xs]
    y_idx = [rng.integers(0, len(y), size=(reps, len(y))) for y in ys]
    values = []
    for rep in range(reps):
        per_task = []
        for x, y, xi, yi in zip(xs, ys, x_idx, y_idx):
            xr, yr = np.asarray(x)[xi[rep]], np.asarray(y)[yi[rep]]
            pairs = [(a > b) + 0.5 * (a == b) for a in xr for b in yr]
            per_task.append(np.mean(pairs))
        values.append(np.mean(per_task))
    return np.percentile(values, [2.5, 97.5])


def test_interval_matches_a_plain_loop(tmp_path, capsys):
    workspace = bf.write_workspace(tmp_path)
    poi_tool.main(
        [
            str(workspace / "output" / "sacred"),
            str(workspace / "benchmark_runs"),
            "--baseline-algo",
            "gail",
            "--reps",
            "1500",
            "--seed",
            "5",
        ]
    )
    _, low, high = _overall(capsys.readouterr().out)
    expected = _loop_interval(
        [bf.MY_GAIL_HOPPER, bf.MY_GAIL_SWIMMER],
        [bf.GAIL_HOPPER, bf.GAIL_SWIMMER],
        reps=1500,
        seed=5,
    )
    assert (low, high) == pytest.approx(tuple(expected), abs=5e-4)


def _write(root, algo, scores_by_env):
    run_id = 1
    for env, scores in scores_by_env.items():
        for score in scores:
            bf.write_run(root, run_id, algo=algo, env=env, score=score)
            run_id += 1


def test_interval_derived_by_hand_and_verdicts(tmp_path, capsys):
    """Hopper: 300 always beats 100. Swimmer: yours 0 and 100 against 50.

    Resampled, Swimmer's figure is 0 (both runs 0, P 1/4), 1/2 or 1 (P 1/4),
    so the overall (1 + that) / 2 is 0.5, 0.75 or 1: CI [0.5, 1], point 0.75.
    """
    _write(tmp_path / "new", "new", {bf.HOPPER: [300.0], bf.SWIMMER: [0.0, 100.0]})
    _write(tmp_path / "base", "bc", {bf.HOPPER: [100.0], bf.SWIMMER: [50.0]})
    _write(tmp_path / "best", "best", {bf.HOPPER: [400, 500], bf.SWIMMER: [60, 70]})
    new, base, best = (str(tmp_path / d) for d in ("new", "base", "best"))
    poi_tool.main([new, base, "--baseline-algo", "bc", "--reps", "4000"])
    out = capsys.readouterr().out
    assert _overall(out) == (0.75, 0.5, 1.0)
    assert "No significant difference from bc: the 95% CI holds 0.5." in out
    poi_tool.main([best, base, "--baseline-algo", "bc", "--reps", "1000"])
    out = capsys.readouterr().out
    assert _overall(out) == (1.0, 1.0, 1.0)
    assert "Yours (best) is better than bc: the 95% CI lies above 0.5." in out
    poi_tool.main([base, best, "--baseline-algo", "best", "--reps", "1000"])
    out = capsys.readouterr().out
    assert _overall(out) == (0.0, 0.0, 0.0)
    assert "Yours (bc) is worse than best: the 95% CI lies below 0.5." in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            "benchmark_runs benchmark_runs --algo nope --baseline-algo bc",
            "No completed runs of --algo 'nope' in benchmark_runs; it has runs of: "
            "bc, gail.",
        ),
        (
            "output/sacred benchmark_runs --baseline-algo nope",
            "No completed runs of --baseline-algo 'nope' in benchmark_runs",
        ),
        (
            "benchmark_runs output/sacred --baseline-algo gail",
            "benchmark_runs holds runs of several algorithms (bc, gail); choose one "
            "with --algo.",
        ),
        ("empty benchmark_runs --baseline-algo bc", "No Sacred runs under empty"),
        ("output/sacred other --baseline-algo bc", "share no environment"),
    ],
)
def test_bad_input_is_one_line_and_status_1(tmp_path, args, expected):
    workspace = bf.write_workspace(tmp_path)
    (workspace / "empty").mkdir()
    bf.write_run(workspace / "other", 1, env="Pendulum-v1")
    result = bf.run_shell(workspace, f"{TOOL} {args}")
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("compute_probability_of_improvement: error: ")
    assert expected in errors[0]
    assert result.stdout == ""
