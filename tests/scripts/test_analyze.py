"""imitation.scripts.analyze and imitation.util.sacred_file_parsing."""

from __future__ import annotations

import csv
import json
import pathlib

import pytest
from cli_helpers import run

from imitation.scripts import analyze
from imitation.util import sacred_file_parsing


def fake_run(
    root: pathlib.Path,
    run_id: str,
    *,
    experiment: str = "train_adversarial",
    command: str = "gail",
    gym_id: str = "seals/CartPole-v0",
    status: str = "COMPLETED",
    result: dict | None = None,
) -> pathlib.Path:
    """Write a run directory by hand, as Sacred's file observer would."""
    run_dir = root / experiment / run_id
    run_dir.mkdir(parents=True)
    config = {"environment": {"gym_id": gym_id}, "seed": 0}
    run_json = {
        "command": command,
        "status": status,
        "experiment": {"name": experiment},
        "result": result,
    }
    (run_dir / "config.json").write_text(json.dumps(config))
    (run_dir / "run.json").write_text(json.dumps(run_json))
    return run_dir


@pytest.fixture
def fake_runs(tmp_path) -> pathlib.Path:
    root = tmp_path / "sacred"
    stats = {
        "imit_stats": {"monitor_return_mean": 5.0, "return_mean": 4.0},
        "expert_stats": {"monitor_return_mean": 10.0},
    }
    fake_run(root, "1", result=stats)
    fake_run(root, "2", command="airl", status="FAILED")
    fake_run(root, "10", gym_id="Pendulum-v1", result=stats)
    fake_run(
        root,
        "1",
        experiment="train_rl",
        command="train_rl",
        result={"monitor_return_mean": 7.0},
    )
    fake_run(root, "1", experiment="analyze", command="analyze_imitation")
    (root / "train_rl" / "_sources").mkdir()
    return root


def test_find_sacred_runs(fake_runs):
    runs = sacred_file_parsing.find_sacred_runs(fake_runs)
    assert [(r.experiment_name, r.run_id) for r in runs] == [
        ("analyze", "1"),
        ("train_adversarial", "1"),
        ("train_adversarial", "2"),
        ("train_adversarial", "10"),
        ("train_rl", "1"),
    ]
    completed = sacred_file_parsing.find_sacred_runs(
        fake_runs, only_completed=True, exclude_experiments=["analyze"]
    )
    assert all(r.status == "COMPLETED" for r in completed)
    assert len(completed) == 3
    assert completed[0].env_id == "seals/CartPole-v0"
    assert completed[0].result_value("imit_stats.return_mean") == 4.0
    assert completed[0].result_value("nope.nothing", default=-1) == -1

    groups = sacred_file_parsing.group_runs_by_algo_and_env(runs)
    assert list(groups) == [
        ("analyze_imitation", "seals/CartPole-v0"),
        ("gail", "seals/CartPole-v0"),
        ("airl", "seals/CartPole-v0"),
        ("gail", "Pendulum-v1"),
        ("train_rl", "seals/CartPole-v0"),
    ]
    assert sacred_file_parsing.SacredConfAndRun is sacred_file_parsing.SacredRun


def test_find_sacred_runs_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        sacred_file_parsing.find_sacred_runs(tmp_path / "missing")
    bad = fake_run(tmp_path, "1")
    (bad / "run.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        sacred_file_parsing.find_sacred_runs(tmp_path)
    assert sacred_file_parsing.find_sacred_runs(tmp_path, skip_invalid=True) == []


def test_analyze_imitation_filters(fake_runs, tmp_path, capsys):
    out_csv = tmp_path / "table.csv"
    result = analyze.analysis_ex.run(
        config_updates={
            "source_dirs": [str(fake_runs)],
            "run_name": "train_adversarial",
            "env_names": ["seals_cartpole"],
            "statuses": "COMPLETED",
            "random_returns": {"CartPole-v1": 0.0, "seals/CartPole-v0": 0.0},
            "csv_output_path": str(out_csv),
        }
    )
    rows = result.result
    assert len(rows) == 1
    row = rows[0]
    assert row["algo"] == "gail" and row["run_id"] == "1"
    assert row["imit_return_mean"] == 5.0 and row["expert_return_mean"] == 10.0
    assert row["normalized_score"] == pytest.approx(0.5)
    with open(out_csv, newline="") as f:
        assert list(csv.DictReader(f))[0]["normalized_score"] == "0.5"
    out = capsys.readouterr().out
    assert "| train_adversarial | gail | seals/CartPole-v0 | 1 | COMPLETED |" in out

    # Without filters: everything but analyze's own runs; RL results too.
    result = analyze.analysis_ex.run(
        config_updates={"source_dirs": [str(fake_runs)], "print_markdown": False}
    )
    rows = {(r["experiment"], r["run_id"]): r for r in result.result}
    assert set(rows) == {
        ("train_adversarial", "1"),
        ("train_adversarial", "2"),
        ("train_adversarial", "10"),
        ("train_rl", "1"),
    }
    assert rows["train_rl", "1"]["imit_return_mean"] == 7.0
    assert rows["train_rl", "1"]["expert_return_mean"] is None
    assert rows["train_adversarial", "2"]["imit_return_mean"] is None
    assert "normalized_score" not in rows["train_rl", "1"]


@pytest.fixture(scope="module")
def real_run(tmp_path_factory) -> pathlib.Path:
    """One tiny BC run, recorded in ``<cwd>/output/sacred/train_imitation/1``."""
    cwd = tmp_path_factory.mktemp("analyze")
    run(
        cwd,
        "train_imitation",
        "bc",
        "with",
        "seals_cartpole",
        "fast",
        "expert.policy_type=bundled",
        "demonstrations.source=generated",
    )
    return cwd


def test_analyze_imitation_cli(real_run):
    result = run(
        real_run,
        "analyze",
        "analyze_imitation",
        "with",
        "source_dirs=['output/sacred']",
        "csv_output_path=out.csv",
    )
    with open(real_run / "out.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1  # analyze's own run is not listed
    row = rows[0]
    assert row["experiment"] == "train_imitation"
    assert row["algo"] == "bc"
    assert row["env"] == "seals/CartPole-v0"
    assert row["run_id"] == "1"
    assert row["status"] == "COMPLETED"
    assert float(row["imit_return_mean"]) > 0
    assert float(row["expert_return_mean"]) > 0
    log_dir = pathlib.Path(row["log_dir"])
    assert log_dir.parent.parent.name == "bc"
    assert (log_dir / "sacred").resolve() == (
        real_run / "output" / "sacred" / "train_imitation" / "1"
    ).resolve()

    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| experiment"))
    assert lines[header + 1].startswith("|---|")
    assert lines[header + 2].startswith(
        "| train_imitation | bc | seals/CartPole-v0 | 1 | COMPLETED |"
    )
    analyze_run = json.loads(
        (real_run / "output" / "sacred" / "analyze" / "1" / "run.json").read_text()
    )
    assert analyze_run["status"] == "COMPLETED"
    assert analyze_run["result"][0]["algo"] == "bc"


def test_gather_tb_directories(real_run, monkeypatch):
    monkeypatch.chdir(real_run)
    result = analyze.analysis_ex.run(
        "gather_tb_directories", config_updates={"tb_output_dir": "tb"}
    )
    links = list((real_run / "tb").iterdir())
    assert [p.name for p in links] == ["bc_seals-CartPole-v0_train_imitation_1"]
    assert links[0].is_symlink()
    assert list(links[0].glob("events.out.tfevents.*"))
    assert result.result == {links[0].name: str(links[0].resolve())}
    # Running it again replaces the links.
    analyze.analysis_ex.run(
        "gather_tb_directories", config_updates={"tb_output_dir": "tb"}
    )
    assert len(list((real_run / "tb").iterdir())) == 1


def test_missing_source_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        analyze.analysis_ex.run(
            config_updates={"source_dirs": [str(tmp_path / "nowhere")]}
        )


def test_experiment_keeps_the_original_name():
    from imitation.scripts.config import analyze as analyze_config

    assert analyze.analysis_ex is analyze_config.analysis_ex
    assert analyze.analysis_ex.path == "analyze"
