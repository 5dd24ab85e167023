"""``imitation.scripts.tuning``: the search spaces, and both phases on a local Ray."""

from __future__ import annotations

import json
import statistics
from collections import defaultdict

import pytest
from ray.tune.search.sample import Domain
from ray_helpers import (
    FAST_RL,
    completed,
    documented,
    ray_env,
    run_script,
    sacred_runs,
    short_temp_dir,
)

from imitation.scripts import parallel
from imitation.scripts.tuning import tuning_ex

ALGOS = ["rl", "bc", "dagger", "gail", "airl", "pc"]


def _leaves(tree, prefix=""):
    for key, value in tree.items():
        if isinstance(value, dict) and not isinstance(value, Domain):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


@pytest.mark.parametrize("algo", ALGOS)
def test_search_space_keys_exist_in_the_train_script(algo):
    config = tuning_ex.run("print_config", named_configs=[algo]).config
    run_config = parallel.plain(config["parallel_run_config"])
    assert run_config["resources_per_trial"] == {"cpu": 1}
    assert config["num_eval_seeds"] == 5
    assert run_config["num_samples"] > 1
    ex = parallel.get_experiment(run_config["sacred_ex_name"])
    space = run_config["search_space"]
    command = space.get("command_name")
    defaults = ex.run(
        "print_config", config_updates=run_config["base_config_updates"]
    ).config
    leaves = list(_leaves(space["config_updates"]))
    assert any(isinstance(value, Domain) for _, value in leaves)
    for key, _ in leaves:
        node = defaults
        for part in key.split("."):
            if node is None:  # a setting whose default is None, given as a dict
                break
            assert part in node, f"{algo}: {key} is not a config key of {ex.path}"
            node = node[part]
    assert command is None or command in ex.commands


@pytest.mark.ray
def test_tuning_both_phases(tmp_path):
    """RL, fast: two Optuna samples on two seeds each, then two fresh seeds."""
    with short_temp_dir() as temp_dir:
        run_script(
            tmp_path,
            ray_env(),
            "tuning",
            *documented("tuning"),  # then fast settings:
            f"parallel_run_config.base_named_configs={json.dumps(FAST_RL)}",
            "parallel_run_config.search_space.config_updates.rl.batch_size=64",
            "parallel_run_config.num_samples=2",
            "parallel_run_config.repeat=2",
            "num_eval_seeds=2",
            "parallel_run_config.init_kwargs.num_cpus=2",
            f"parallel_run_config.init_kwargs._temp_dir={temp_dir}",
        )
    output = tmp_path / "output"
    (record,) = sacred_runs(output, "tuning")
    result = record["result"]
    runs = completed(sacred_runs(output, "train_rl"))
    by_trial = defaultdict(list)
    for run in runs:
        trial = run["meta"]["parallel_run"].rsplit("/", 1)[0]
        by_trial[trial].append(run)
    search = {k: v for k, v in by_trial.items() if k.startswith("rl_tuning/")}
    evals = [
        r
        for k, v in by_trial.items()
        if k.startswith("rl_tuning_best_eval/")
        for r in v
    ]
    # Phase 1: two configurations sampled by Optuna, each on seeds 0 and 1.
    assert len(search) == 2
    for trial_runs in search.values():
        assert sorted(r["config"]["seed"] for r in trial_runs) == [0, 1]
    learning_rates = {
        r["config"]["rl"]["rl_kwargs"]["learning_rate"]
        for v in search.values()
        for r in v
    }
    assert len(learning_rates) == 2
    means = [
        statistics.fmean(r["result"]["monitor_return_mean"] for r in v)
        for v in search.values()
    ]
    assert result["search_return_mean"] == pytest.approx(max(means))
    # Phase 2: the best configuration on fresh seeds 2 and 3.
    assert sorted(r["config"]["seed"] for r in evals) == [2, 3] == result["eval_seeds"]
    returns = [r["result"]["monitor_return_mean"] for r in evals]
    assert result["eval_return_mean"] == pytest.approx(statistics.fmean(returns))
    assert result["eval_return_std"] == pytest.approx(statistics.pstdev(returns))
    best = json.loads(
        (output / "tuning" / "rl_tuning" / "best_config.json").read_text()
    )
    assert best == result["best_config"]
    for run in evals:
        for key, value in best["rl"]["rl_kwargs"].items():
            assert run["config"]["rl"]["rl_kwargs"][key] == pytest.approx(value)
    # The best configuration loads as a named config of train_rl (documented).
    run_script(
        tmp_path,
        ray_env(),
        "train_rl",
        *documented("train_rl"),
        *FAST_RL[1:],
        "total_timesteps=64",
    )
    (loaded,) = [
        r["config"]
        for r in completed(sacred_runs(output, "train_rl"))
        if "parallel_run" not in r["meta"]
    ]
    for key in ("learning_rate", "n_epochs"):  # (rl.fast sets the batch sizes)
        assert loaded["rl"]["rl_kwargs"][key] == pytest.approx(
            best["rl"]["rl_kwargs"][key]
        )


@pytest.mark.parametrize(
    ("updates", "message"),
    [
        ({"parallel_run_config": {"num_sample": 3}}, r"unknown keys \['num_sample'\]"),
        ({"num_eval_seeds": 0}, "num_eval_seeds must be at least 1"),
        ({"parallel_run_config": {"sacred_ex_name": "rl"}}, "is not a train script"),
    ],
)
def test_bad_settings_fail_before_the_search(updates, message):
    with pytest.raises(ValueError, match=message):
        tuning_ex.run(named_configs=["rl"], config_updates=updates)
