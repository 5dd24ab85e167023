"""``imitation.scripts.parallel``: sweeps on a real local Ray instance and cluster."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from ray import tune
from ray_helpers import (
    FAST_RL,
    NODE_IP,
    completed,
    documented,
    documented_commands,
    local_cluster,
    ray_env,
    run_script,
    sacred_runs,
    short_temp_dir,
)

from imitation.scripts import parallel


def test_merge_is_deep_and_leaves_inputs_alone():
    base = {"rl": {"batch_size": 8, "rl_kwargs": {"n_epochs": 3}}, "seed": 1}
    update = {"rl": {"rl_kwargs": {"learning_rate": 0.1}}, "seed": 2}
    merged = parallel.merge(base, update)
    assert merged == {
        "rl": {"batch_size": 8, "rl_kwargs": {"n_epochs": 3, "learning_rate": 0.1}},
        "seed": 2,
    }
    assert base["rl"]["rl_kwargs"] == {"n_epochs": 3}


def test_flatten_result_keeps_numbers_with_slash_keys():
    result = {"imit_stats": {"monitor_return_mean": 3, "n_traj": 2}, "note": "x"}
    assert parallel.flatten_result(result) == {
        "imit_stats/monitor_return_mean": 3.0,
        "imit_stats/n_traj": 2.0,
    }
    assert parallel.flatten_result(1.5) == {"result": 1.5}
    assert parallel.flatten_result(True) == {}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(sacred_ex_name="train_foo"), "train_rl, train_imitation"),
        (dict(search_space={"configs": {}}), "unknown keys ['configs']"),
        (
            dict(
                sacred_ex_name="train_imitation",
                search_space={"command_name": "bcc"},
            ),
            "its commands are",
        ),
        (
            dict(base_config_updates={"logging": {"log_dir": "x"}}),
            "set logging.log_root instead",
        ),
        (dict(tune_run_kwargs={"stopp": {}}), "unknown keys ['stopp']"),
        (dict(repeat=0), "repeat must be at least 1"),
        (dict(experiment_checkpoint_path="nowhere"), "holds no Ray Tune experiment"),
    ],
)
def test_bad_settings_fail_clearly_before_ray_starts(tmp_path, kwargs, message):
    settings = dict(sacred_ex_name="train_rl", run_name="x", search_space={})
    settings.update(kwargs)
    settings["base_config_updates"] = {
        "logging": {"log_root": str(tmp_path)},
        **settings.get("base_config_updates", {}),
    }
    with pytest.raises(
        (ValueError, FileNotFoundError), match=message.replace("[", r"\[")
    ):
        parallel.run_parallel(**settings)


def test_example_named_config_is_a_grid_of_four():
    run = parallel.parallel_ex.run(
        "print_config", named_configs=["example_cartpole_rl"]
    )
    space = run.config["search_space"]["config_updates"]
    assert space["seed"] == tune.grid_search([0, 1])
    assert run.config["base_named_configs"] == ["cartpole"]


def test_generate_test_data_names_train_rl_environments():
    config = parallel.parallel_ex.run(
        "print_config", named_configs=["generate_test_data"]
    ).config
    assert config["sacred_ex_name"] == "train_rl"
    grid = config["search_space"]["named_configs"]["grid_search"]
    train_rl_ex = parallel.get_experiment("train_rl")
    assert len(grid) == 4
    assert all(name in train_rl_ex.named_configs for (name,) in grid)


def test_every_documented_command_is_run_by_a_test():
    """docs/parallel-and-tuning.md: each command has a test (Ray ones below)."""
    tested = [
        ("train_imitation", "bc with bc_seals_hopper"),  # test_documented_commands
        ("run_benchmarks", ""),  # test_run_benchmarks
        ("parallel", "with example_cartpole_rl"),  # the cluster test, + address
        ("parallel", "with example_cartpole_rl init"),  # the cluster test
        ("parallel", "with run_name=cartpole-seeds"),  # the resume test
        ("parallel", "with experiment_checkpoint_path"),  # the resume test
        ("tuning", "with rl"),  # test_tuning
        ("train_rl", "with cartpole output/tuning"),  # test_tuning
    ]
    commands = documented_commands()
    assert len(commands) == len(tested)
    for command in commands:
        script = command[2].removeprefix("imitation.scripts.")
        args = " ".join(command[3:])
        assert any(script == s and args.startswith(start) for s, start in tested), (
            command
        )


def _popen_parallel(cwd, env, *args):
    return subprocess.Popen(
        [sys.executable, "-m", "imitation.scripts.parallel", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.ray
def test_sweep_interrupted_then_resumed(tmp_path):
    """Four train_rl trials on a local Ray; Ctrl-C after the first; resume the rest.

    Each configuration ends up with exactly one completed Sacred run in the
    documented layout (a run finished before the interruption is not redone).
    """
    env = ray_env()
    with short_temp_dir() as temp_dir:
        ray_args = ["init_kwargs.num_cpus=2", f"init_kwargs._temp_dir={temp_dir}"]
        # One trial at a time until the interruption: with two at a time, on a
        # quiet machine all four fast trials could finish before Ctrl-C landed.
        proc = _popen_parallel(
            tmp_path,
            env,
            *documented("parallel", "with run_name=cartpole-seeds"),
            f"base_named_configs={json.dumps(FAST_RL)}",  # fast settings
            "init_kwargs.num_cpus=1",
            f"init_kwargs._temp_dir={temp_dir}",
        )
        try:
            deadline = time.monotonic() + 240
            while not completed(sacred_runs(tmp_path / "output", "train_rl")):
                assert proc.poll() is None, proc.stderr.read()[-3000:]
                assert time.monotonic() < deadline, "no run completed in time"
                time.sleep(0.2)
            proc.send_signal(signal.SIGINT)
            _, stderr = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 2, stderr[-3000:]
        assert "parallel: interrupted" in stderr
        sweep = tmp_path / "output" / "parallel" / "cartpole-seeds"
        assert f"experiment_checkpoint_path={sweep}" in stderr
        before = completed(sacred_runs(tmp_path / "output", "train_rl"))
        assert 1 <= len(before) < 4

        run_script(
            tmp_path,
            env,
            "parallel",
            *documented("parallel", "with experiment_checkpoint_path"),
            *ray_args,
        )

    runs = completed(sacred_runs(tmp_path / "output", "train_rl"))
    assert sorted(r["config"]["seed"] for r in runs) == [0, 1, 2, 3]
    assert {r["dir"].name for r in before} <= {r["dir"].name for r in runs}
    for run in runs:
        assert run["meta"]["parallel_run"].startswith("cartpole-seeds/")
        assert run["config"]["environment"]["gym_id"] == "CartPole-v1"
        assert run["config"]["total_timesteps"] == 256
    # output/<algo>/<env>/<timestamp>/sacred -> ../../../sacred/train_rl/<id>
    links = {
        os.readlink(d / "sacred")
        for d in (tmp_path / "output" / "train_rl" / "CartPole-v1").iterdir()
    }
    for run in runs:
        assert f"../../../sacred/train_rl/{run['dir'].name}" in links
    # The resumed sweep's own record lists all four trials and their returns.
    (resumed,) = [
        r
        for r in completed(sacred_runs(tmp_path / "output", "parallel"))
        if r["config"]["experiment_checkpoint_path"]
    ]
    trials = resumed["result"]["trials"]
    assert len(trials) == 4
    by_dir = {str(r["dir"]): r for r in runs}
    for trial in trials:
        run = by_dir[trial["metrics"]["sacred_run_dirs"]]
        assert run["config"]["seed"] == trial["config"]["config_updates"]["seed"]
        assert trial["metrics"]["monitor_return_mean"] == pytest.approx(
            run["result"]["monitor_return_mean"]
        )


@pytest.mark.ray
def test_sweep_on_a_local_cluster(tmp_path):
    """``ray start`` a head and a worker node; the example sweep uses both.

    One seed only: two trials, one per node (each node has one CPU).
    """
    env = ray_env()
    with short_temp_dir() as temp_dir, local_cluster(tmp_path, env, temp_dir) as addr:
        run_script(
            tmp_path,
            env,
            "parallel",
            *(
                arg.replace("10.0.0.1:6379", addr)
                for arg in documented("parallel", "with example_cartpole_rl init")
            ),
            f"base_named_configs={json.dumps(FAST_RL)}",
            "base_config_updates.total_timesteps=256",
            'search_space.config_updates.seed={"grid_search": [0]}',
            f"init_kwargs._node_ip_address={NODE_IP}",
        )
    (record,) = sacred_runs(tmp_path / "output", "parallel")
    trials = record["result"]["trials"]
    assert len(trials) == 2
    assert len({t["metrics"]["node_id"] for t in trials}) == 2  # one on each node
    runs = completed(sacred_runs(tmp_path / "output", "train_rl"))
    assert sorted(str(r["dir"]) for r in runs) == sorted(
        t["metrics"]["sacred_run_dirs"] for t in trials
    )
    assert sorted(
        (r["config"]["rl"]["rl_kwargs"]["learning_rate"], r["config"]["seed"])
        for r in runs
    ) == [(3e-4, 0), (1e-3, 0)]
