"""imitation.scripts.sacred_output_to_markdown_summary on runs with known numbers."""

from __future__ import annotations

import json
import re
import statistics

import benchmark_fixtures as bf
import matplotlib.image
import numpy as np
import pytest
from cli_helpers import run

from imitation.scripts import sacred_output_to_markdown_summary as summary_tool

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _section(markdown: str, algo: str) -> str:
    return markdown.split(f"## {algo}\n", 1)[1].split("\n## ", 1)[0]


def _table(section: str) -> dict[str, list[str]]:
    """First cell -> the other cells, for every table row of ``section``."""
    rows = {}
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = cells[1:]
    return rows


def _ci(cell: str) -> tuple[float, float]:
    low, high = re.fullmatch(r"\[(.+), (.+)\]", cell).groups()
    return float(low), float(high)


def _mean_std(values) -> str:
    return f"{statistics.mean(values):.3f} / {statistics.stdev(values):.3f}"


def test_documented_commands_and_hand_computed_numbers(tmp_path):
    workspace = bf.write_workspace(tmp_path)
    commands = bf.documented_commands("sacred_output_to_markdown_summary")
    assert len(commands) == 2
    single, several = commands

    result = bf.run_shell(workspace, single)
    assert result.returncode == 0, result.stderr
    mine = _table(_section((workspace / "summary.md").read_text(), "GAIL"))
    assert mine[bf.HOPPER] == [_mean_std(bf.MY_GAIL_HOPPER), "0.689 / 0.539", "3"]

    result = bf.run_shell(workspace, several)
    assert result.returncode == 0, result.stderr
    markdown = (workspace / "summary.md").read_text()
    assert "skipped 3 of 16 run directories: 1 FAILED" in result.stderr
    assert "gail: some runs recorded no random-policy or expert" in result.stderr

    # BC: normalised 0, 0, 1 on Hopper (each run with its own random and
    # expert returns) and 1, 1, 1 on Swimmer.
    bc = _table(_section(markdown, "BC"))
    hopper = [s for s, _, _ in bf.BC_HOPPER]
    swimmer = [s for s, _, _ in bf.BC_SWIMMER]
    assert bc[bf.HOPPER] == [_mean_std(hopper), "0.333 / 0.577", "3"]
    assert bc[bf.SWIMMER] == [_mean_std(swimmer), "1.000 / 0.000", "3"]
    # Derived in tests/util/test_stats.py::test_bootstrap_ci_derived_by_hand:
    # Mean (1/3 + 1) / 2, IQM of 0 0 1 1 1 1 minus the ends; both CIs [0.5, 1].
    assert bc["Mean"] == ["0.667", "[0.500, 1.000]"]
    assert bc["IQM"] == ["0.750", "[0.500, 1.000]"]

    gail_section = _section(markdown, "GAIL")
    gail = _table(gail_section)
    assert gail[bf.WALKER] == ["1000.000 / n/a", "n/a", "1"]
    assert "Left out (no random-policy or expert return recorded" in gail_section
    # Mean of Hopper's (10 + 20 + 300) / 900 and Swimmer's (0.5 + 1 + 0.05) / 3.
    assert float(gail["Mean"][0]) == pytest.approx((330 / 900 + 1.55 / 3) / 2, abs=5e-4)
    # Six pooled runs 1/30, 0.05, 1/15, 0.5, 1, 1: one cut from each end.
    assert float(gail["IQM"][0]) == pytest.approx(
        (20 / 300 + 0.05 + 0.5 + 1.0) / 4, abs=5e-4
    )

    # Figures, linked from the summary relative to it.
    links = re.findall(r"!\[[^]]*\]\(([^)]+)\)", markdown)
    assert links == ["figures/aggregate_scores.png", "figures/environment_scores.png"]
    for link in links:
        path = workspace / link
        assert path.read_bytes().startswith(PNG_SIGNATURE)
        height, width = matplotlib.image.imread(path).shape[:2]
        assert 200 < height < 1000 and 400 < width < 1500


def _loop_interval(per_task, statistic, reps, seed=0):
    """The stratified bootstrap written as a plain loop over replicates."""
    rng = np.random.default_rng(seed)
    indices = [rng.integers(0, len(t), size=(reps, len(t))) for t in per_task]
    values = []
    for rep in range(reps):
        values.append(
            statistic([np.asarray(t)[idx[rep]] for t, idx in zip(per_task, indices)])
        )
    return np.percentile(values, [2.5, 97.5])


def _iqm(tasks):
    pooled = sorted(np.concatenate(tasks))
    cut = len(pooled) // 4
    return float(np.mean(pooled[cut : len(pooled) - cut]))


def test_intervals_match_a_plain_loop(tmp_path, capsys):
    workspace = bf.write_workspace(tmp_path)
    summary_tool.main(
        [str(workspace / "benchmark_runs"), "--reps", "1500", "--seed", "3"]
    )
    gail = _table(_section(capsys.readouterr().out, "GAIL"))
    norm = [
        [s / 300 for s in bf.GAIL_HOPPER],
        [s / 100 for s in bf.GAIL_SWIMMER],
    ]
    for metric, statistic in (
        ("Mean", lambda tasks: np.mean([t.mean() for t in tasks])),
        ("IQM", _iqm),
    ):
        low, high = _loop_interval(norm, statistic, reps=1500, seed=3)
        assert _ci(gail[metric][1]) == pytest.approx((low, high), abs=5e-4)


def test_prints_without_output_and_is_reproducible(tmp_path, capsys):
    workspace = bf.write_workspace(tmp_path)
    args = [str(workspace / "output" / "sacred"), "--reps", "500"]
    summary_tool.main(args)
    first = capsys.readouterr().out
    summary_tool.main(args)
    assert capsys.readouterr().out == first
    assert first.startswith("# Benchmark Summary\n")
    assert "500 replicates, seed 0" in first


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["empty"], "No Sacred runs under empty"),
        (["runs", "--reps", "0"], "--reps must be at least 1"),
    ],
)
def test_bad_input_is_one_line_and_status_1(tmp_path, args, expected):
    (tmp_path / "empty").mkdir()
    bf.write_run(tmp_path / "runs", 1)
    result = bf.run_shell(
        tmp_path,
        "python -m imitation.scripts.sacred_output_to_markdown_summary "
        + " ".join(args),
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sacred_output_to_markdown_summary: error: ")
    assert expected in lines[0]


def test_summarises_a_real_training_run(tmp_path):
    """A run of train_imitation records the random return the summary needs."""
    run(
        tmp_path,
        "train_imitation",
        "bc",
        "with",
        "seals_cartpole",
        "fast",
        "expert.policy_type=bundled",
        "demonstrations.source=generated",
        "seed=0",
    )
    (run_dir,) = (tmp_path / "output" / "sacred" / "train_imitation").glob("[0-9]*")
    result = json.loads((run_dir / "run.json").read_text())["result"]
    score, random, expert = (
        result[key]["monitor_return_mean"]
        for key in ("imit_stats", "random_stats", "expert_stats")
    )
    assert result["random_stats"]["n_traj"] >= 1
    # The whole output folder: the run is also reached through the `sacred`
    # link of output/bc/seals-CartPole-v0/<timestamp>/, and counted once.
    out = run(tmp_path, "sacred_output_to_markdown_summary", "output", "--reps", "100")
    row = _table(_section(out.stdout, "BC"))["seals/CartPole-v0"]
    assert (expert, random) == (20.0, 15.0)  # fast CartPole (20 steps), seed 0
    normalized = (score - random) / (expert - random)
    assert row == [f"{score:.3f} / n/a", f"{normalized:.3f} / n/a", "1"]
