"""The ``parallel`` experiment: run a train script's configurations on Ray Tune.

Values of ``search_space`` may be Ray Tune search primitives
(``tune.grid_search``, ``tune.choice``, ``tune.loguniform``, ...); on the
command line, a grid is written as ``{"grid_search": [...]}``.
"""

from __future__ import annotations

from typing import Any

import sacred
from ray import tune

from imitation.scripts.config import common  # noqa: F401 - sets the capture mode
from imitation.util import util

parallel_ex = sacred.Experiment("parallel", save_git_info=False)


@parallel_ex.config
def config() -> None:
    """What to run, how many times, and where."""
    sacred_ex_name = "train_rl"  # the train script whose experiment each trial runs
    run_name = f"DEFAULT_{util.make_unique_timestamp()}"  # Ray Tune experiment name
    resources_per_trial = dict[str, Any]()  # e.g. dict(cpu=1, gpu=0)
    base_named_configs = list[str]()  # named configs of every trial
    base_config_updates = dict[str, Any]()  # config updates of every trial
    search_space = dict(
        named_configs=list[str](),  # more named configs per trial (after the base's)
        config_updates=dict[str, Any](),  # merged over base_config_updates
    )  # may also set "command_name" (e.g. "bc"; default: the main command)
    num_samples = 1  # samples of the search space (each grid point this often)
    repeat = 1  # runs per trial, on seeds seed, seed + 1, ...; results averaged
    experiment_checkpoint_path = ""  # resume the Ray Tune experiment saved here
    init_kwargs = dict[str, Any]()  # ray.init arguments, e.g. address="IP:6379"
    tune_run_kwargs = dict[str, Any]()  # more tune.TuneConfig / tune.RunConfig


@parallel_ex.named_config
def example_cartpole_rl() -> None:
    """PPO on CartPole-v1: two learning rates times two seeds (four trials)."""
    sacred_ex_name = "train_rl"
    run_name = "example-cartpole"
    base_named_configs = ["cartpole"]
    base_config_updates = dict(total_timesteps=int(5e4))
    search_space = {
        "config_updates": {
            "rl": {"rl_kwargs": {"learning_rate": tune.grid_search([3e-4, 1e-3])}},
            "seed": tune.grid_search([0, 1]),
        },
    }
    resources_per_trial = dict(cpu=1)


@parallel_ex.named_config
def generate_test_data() -> None:
    """Small experts (policies and rollouts) on the test environments."""
    sacred_ex_name = "train_rl"
    run_name = "TEST_DATA"
    base_config_updates = dict(
        total_timesteps=int(4e4),
        rollout_save_n_episodes=50,
        logging=dict(log_root="output/test_data"),
    )
    search_space = {
        "named_configs": tune.grid_search(
            [["cartpole"], ["seals_cartpole"], ["mountain_car"], ["pendulum"]]
        ),
    }
    resources_per_trial = dict(cpu=1)
