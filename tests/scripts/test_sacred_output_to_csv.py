"""imitation.scripts.sacred_output_to_csv and the reading of benchmark runs."""

from __future__ import annotations

import csv
import importlib
import io
import pathlib
import tomllib

import benchmark_fixtures as bf
import pytest

from imitation.scripts import _benchmark_runs

REPO = pathlib.Path(__file__).parents[2]
SKIPPED = "skipped 3 of 16 run directories: 1 FAILED, 1 RUNNING, 1 without a "


def _rows(text: str) -> list[tuple[str, str, float, float | None]]:
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == ["algo", "env", "score", "expert_score"]
    return [
        (
            row["algo"],
            row["env"],
            float(row["score"]),
            float(row["expert_score"]) if row["expert_score"] else None,
        )
        for row in reader
    ]


def _expected_benchmark_rows() -> list[tuple[str, str, float, float | None]]:
    rows = [("bc", bf.HOPPER, s, e) for s, _, e in bf.BC_HOPPER]
    rows += [("bc", bf.SWIMMER, s, e) for s, _, e in bf.BC_SWIMMER]
    rows += [("gail", bf.HOPPER, s, 300.0) for s in bf.GAIL_HOPPER]
    rows += [("gail", bf.SWIMMER, s, 100.0) for s in bf.GAIL_SWIMMER]
    rows += [("gail", bf.WALKER, bf.GAIL_WALKER, 2000.0)]
    return rows


def test_documented_commands(tmp_path):
    workspace = bf.write_workspace(tmp_path)
    commands = bf.documented_commands("sacred_output_to_csv")
    assert len(commands) == 2
    single, several = commands

    result = bf.run_shell(workspace, single)
    assert result.returncode == 0, result.stderr
    text = (workspace / "summary.csv").read_text()
    head = bf.documented_output("algo,env,score,expert_score")
    assert text.startswith(head.split("...")[0])
    assert _rows(text) == [("gail", bf.HOPPER, s, 300.0) for s in bf.MY_GAIL_HOPPER] + [
        ("gail", bf.SWIMMER, s, 100.0) for s in bf.MY_GAIL_SWIMMER
    ]

    # Both machines' folders in one table; the run also reached through an
    # output folder's `sacred` link is listed once; the FAILED, RUNNING and
    # analyze runs are skipped and counted.
    result = bf.run_shell(workspace, several)
    assert result.returncode == 0, result.stderr
    rows = _rows((workspace / "summary.csv").read_text())
    assert rows == _expected_benchmark_rows()
    assert SKIPPED + "recorded score" in result.stderr


def test_several_folders_and_links(tmp_path, capsys):
    from imitation.scripts import sacred_output_to_csv

    workspace = bf.write_workspace(tmp_path)
    batches = workspace / "benchmark_runs"
    # Only the output folder: its `sacred` link leads to the run.
    sacred_output_to_csv.main([str(batches / "first_batch" / "bc")])
    assert _rows(capsys.readouterr().out) == [("bc", bf.HOPPER, 0.0, 100.0)]
    # Two folders, or a folder and one inside it: each run once.
    for args in (
        [batches / "first_batch", batches / "second_batch"],
        [batches, batches / "second_batch"],
    ):
        sacred_output_to_csv.main([str(a) for a in args])
        assert _rows(capsys.readouterr().out) == _expected_benchmark_rows()


def test_links_that_loop_are_visited_once(tmp_path):
    root = tmp_path / "runs"
    bf.write_run(root, 1, score=5.0)
    (root / "back_to_root").symlink_to(root)
    (root / "loop_a").symlink_to(root / "loop_b")
    (root / "loop_b").symlink_to(root / "loop_a")
    (root / "dangling").symlink_to(tmp_path / "nothing")
    loaded = _benchmark_runs.load_runs([root])
    assert [(r.algo, r.score) for r in loaded.runs] == [("bc", 5.0)]
    assert loaded.skipped == {}


def test_what_a_run_records(tmp_path):
    root = tmp_path / "runs"
    bf.write_run(root, 1, score=60.0, random=10.0, expert=110.0)
    bf.write_run(root, 2, score=3.0, random=None)
    bf.write_run(root, 3, score=3.0, random=7.0, expert=7.0)
    runs = _benchmark_runs.load_runs([root]).runs
    assert [(r.score, r.random_score, r.expert_score) for r in runs] == [
        (60.0, 10.0, 110.0),
        (3.0, None, 100.0),
        (3.0, 7.0, 7.0),
    ]
    # (60 - 10) / (110 - 10); unknown random return; expert equal to random.
    assert [r.normalized_score for r in runs] == [0.5, None, None]


@pytest.mark.parametrize("case", ["empty", "missing", "only_failed"])
def test_bad_input_is_one_line_and_status_1(tmp_path, case):
    folder = tmp_path / "runs"
    expected = "No Sacred runs under"
    if case == "empty":
        folder.mkdir()
    elif case == "missing":
        expected = "is not a directory of Sacred runs"
    else:
        bf.write_run(folder, 1, status="FAILED")
        expected = "No completed runs with a recorded score under"
    result = bf.run_shell(
        tmp_path, f"python -m imitation.scripts.sacred_output_to_csv {folder}"
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sacred_output_to_csv: error: ")
    assert expected in lines[0]
    assert result.stdout == ""


def test_console_scripts_are_declared():
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    for tool in (
        "sacred_output_to_csv",
        "sacred_output_to_markdown_summary",
        "compute_probability_of_improvement",
    ):
        target = scripts["imitation-" + tool.replace("_", "-")]
        assert target == f"imitation.scripts.{tool}:main_console"
        module, function = target.split(":")
        assert callable(getattr(importlib.import_module(module), function))


def test_skipped_runs_are_counted_by_reason(tmp_path):
    root = tmp_path / "runs"
    bf.write_run(root, 1)
    bf.write_run(root, 2, status="INTERRUPTED")
    bf.write_run(root, 3, score=None)
    (bf.write_run(root, 4) / "run.json").write_text("{not json")
    loaded = _benchmark_runs.load_runs([root])
    assert len(loaded.runs) == 1
    assert loaded.skip_message() == (
        "skipped 3 of 4 run directories: 1 INTERRUPTED, 1 unreadable, "
        "1 without a recorded score"
    )
