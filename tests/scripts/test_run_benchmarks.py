"""``imitation.scripts.run_benchmarks``: the suite's sweeps, and a fast run on Ray."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest
from ray import tune
from ray_helpers import (
    completed,
    documented,
    ray_env,
    run_script,
    sacred_runs,
    short_temp_dir,
)

from imitation.scripts import run_benchmarks
from imitation.testing import hub_cache


def _sweeps(**overrides):
    config = run_benchmarks.run_benchmarks_ex.run("print_config").config
    settings = {k: v for k, v in config.items() if k not in ("seed", "__doc__")}
    settings.update(overrides)
    return run_benchmarks.benchmark_sweeps(**settings)


def test_default_suite_is_four_algorithms_on_five_envs_times_ten_seeds():
    sweeps = _sweeps(run_name="suite")
    assert [s["search_space"]["command_name"] for s in sweeps] == [
        "bc",
        "dagger",
        "gail",
        "airl",
    ]
    assert [s["sacred_ex_name"] for s in sweeps] == [
        "train_imitation",
        "train_imitation",
        "train_adversarial",
        "train_adversarial",
    ]
    for sweep in sweeps:
        algo = sweep["search_space"]["command_name"]
        assert sweep["run_name"] == f"suite_{algo}"
        envs = ["ant", "half_cheetah", "hopper", "swimmer", "walker"]
        assert sweep["search_space"]["named_configs"] == tune.grid_search(
            [[f"{algo}_seals_{env}"] for env in envs]
        )
        assert sweep["search_space"]["config_updates"] == {
            "seed": tune.grid_search(list(range(10)))
        }
        assert sweep["resources_per_trial"] == {"cpu": 1}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (dict(algos=["sqil"]), "the benchmarked algorithms are bc, dagger"),
        (dict(environments=["seals_cartpole"]), "no named config bc_seals_cartpole"),
        (dict(seeds=[]), "at least one entry"),
    ],
)
def test_bad_suites_fail_clearly(overrides, message):
    with pytest.raises(ValueError, match=message):
        _sweeps(**overrides)


@pytest.mark.ray
def test_run_benchmarks_fast(tmp_path):
    """The suite's machinery on the fast tuned DAgger config, two seeds, offline."""
    hub = tmp_path / "hub"
    hub_cache.populate_hub_cache(hub, env_names=["seals/CartPole-v0"], n_episodes=2)
    env = ray_env(
        HF_HUB_CACHE=str(hub), HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / ".hf")
    )
    with short_temp_dir() as temp_dir:
        run_script(
            tmp_path,
            env,
            "run_benchmarks",
            *documented("run_benchmarks"),
            "with",
            'algos=["dagger"]',
            'environments=["seals_cartpole"]',
            "seeds=[0, 1]",
            "named_config_pattern=fast_{algo}_{env}",
            "run_name=bench",
            "init_kwargs.num_cpus=2",
            f"init_kwargs._temp_dir={temp_dir}",
        )
    output = tmp_path / "output"
    runs = completed(sacred_runs(output, "train_imitation"))
    assert sorted(r["config"]["seed"] for r in runs) == [0, 1]
    for run in runs:
        assert run["command"] == "dagger"
        assert run["meta"]["named_configs"] == ["fast_dagger_seals_cartpole"]
        assert run["config"]["environment"]["gym_id"] == "seals/CartPole-v0"
        assert "monitor_return_mean" in run["result"]["imit_stats"]
    assert len(list((output / "dagger" / "seals-CartPole-v0").iterdir())) == 2
    (record,) = sacred_runs(output, "run_benchmarks")
    assert sorted(record["result"]["dagger"]["sacred_run_dirs"]) == sorted(
        str(r["dir"]) for r in runs
    )
    assert record["result"]["dagger"]["experiment_path"] == str(
        output / "parallel" / "bench_dagger"
    )


def _session_processes(sid: int) -> dict[int, bytes]:
    """The processes of session ``sid`` (Ray's workers take process groups of
    their own, but stay in the session), with their command lines."""
    found = {}
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) == sid:
                found[int(entry.name)] = (entry / "cmdline").read_bytes()
        except OSError:
            continue
    return found


def _kill_session(proc: subprocess.Popen) -> None:
    """SIGKILL the driver and every process of its session."""
    for pid in _session_processes(proc.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.mark.ray
def test_run_benchmarks_killed_then_run_again(tmp_path):
    """SIGKILL a trial, then the whole chunk (driver and Ray); the same command
    again runs only what is missing: each seed completes exactly once."""
    hub = tmp_path / "hub"
    hub_cache.populate_hub_cache(hub, env_names=["seals/CartPole-v0"], n_episodes=2)
    env = ray_env(
        HF_HUB_CACHE=str(hub), HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / ".hf")
    )
    output = tmp_path / "output"
    seeds = [0, 1, 2, 3]
    with short_temp_dir() as temp_dir:
        args = [
            *documented("run_benchmarks"),
            "with",
            'algos=["dagger"]',
            'environments=["seals_cartpole"]',
            f"seeds={json.dumps(seeds)}",
            "named_config_pattern=fast_{algo}_{env}",
            "init_kwargs.num_cpus=1",  # one trial at a time: the kills land mid-suite
            f"init_kwargs._temp_dir={temp_dir}",
        ]
        proc = subprocess.Popen(
            [sys.executable, "-m", "imitation.scripts.run_benchmarks", *args],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a session of its own: Ray's processes too
        )
        try:
            deadline = time.monotonic() + 240

            def wait_completed(n: int) -> None:
                while len(completed(sacred_runs(output, "train_imitation"))) < n:
                    assert proc.poll() is None, "the suite ended early"
                    assert time.monotonic() < deadline, f"{n} runs not done in time"
                    time.sleep(0.1)

            wait_completed(1)
            workers = []
            while not workers:  # the next trial's worker
                assert time.monotonic() < deadline, "no trial worker found"
                workers = [
                    pid
                    for pid, cmdline in _session_processes(proc.pid).items()
                    if cmdline.startswith(b"ray::ImplicitFunc")
                ]
                time.sleep(0.05)
            for pid in workers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            wait_completed(2)
        finally:
            _kill_session(proc)
        before = completed(sacred_runs(output, "train_imitation"))
        assert 2 <= len(before) < len(seeds)

        run_script(tmp_path, env, "run_benchmarks", *args)

    runs = completed(sacred_runs(output, "train_imitation"))
    assert sorted(r["config"]["seed"] for r in runs) == seeds  # none lost, none twice
    assert {r["dir"] for r in before} <= {r["dir"] for r in runs}
    records = completed(sacred_runs(output, "run_benchmarks"))
    assert len(records) == 1
    assert sorted(records[0]["result"]["dagger"]["sacred_run_dirs"]) == sorted(
        str(r["dir"]) for r in runs
    )
