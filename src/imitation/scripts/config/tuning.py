"""The ``tuning`` experiment: search spaces of the algorithms' hyperparameters.

Each algorithm's named config sets ``parallel_run_config`` (the ``parallel``
script's settings: which script and command, the search space, the number of
samples) and ``num_eval_seeds``. Choose the environment with
``'parallel_run_config.base_named_configs=["<env>"]'``.
"""

from __future__ import annotations

from typing import Any

import sacred
from ray import tune

from imitation.scripts.config import common  # noqa: F401 - sets the capture mode
from imitation.util import util

tuning_ex = sacred.Experiment("tuning", save_git_info=False)


@tuning_ex.config
def config() -> None:
    """Settings of both phases (the named configs fill in the search)."""
    parallel_run_config = dict(
        sacred_ex_name="train_rl",  # the train script tuned
        run_name=f"tuning_{util.make_unique_timestamp()}",  # Ray Tune's name
        resources_per_trial=dict(cpu=1),
        base_named_configs=[],  # e.g. the environment's named config
        base_config_updates={},
        search_space={"named_configs": [], "config_updates": {}},
        num_samples=1,  # configurations Optuna proposes
        repeat=1,  # seeds per configuration (its score: their mean return)
        experiment_checkpoint_path="",  # resume phase 1 from here
        init_kwargs={},  # ray.init arguments (address: an existing cluster)
        tune_run_kwargs={},
    )
    num_eval_seeds = 5  # fresh seeds the best configuration is re-run on
    eval_best_trial_resource_multiplier = 1  # phase 2's resources per trial, times


@tuning_ex.named_config
def rl() -> None:
    """PPO (``train_rl``): rollout size, learning rate, minibatch size, epochs."""
    parallel_run_config = dict(
        sacred_ex_name="train_rl",
        run_name="rl_tuning",
        search_space={
            "config_updates": {
                "rl": {
                    "batch_size": tune.choice([512, 1024, 2048, 4096, 8192]),
                    "rl_kwargs": {
                        "learning_rate": tune.loguniform(1e-5, 1e-2),
                        "batch_size": tune.choice([64, 128, 256, 512]),
                        "n_epochs": tune.choice([5, 10, 20]),
                    },
                },
            },
        },
        num_samples=100,
        repeat=5,
        resources_per_trial=dict(cpu=1),
    )
    num_eval_seeds = 5


@tuning_ex.named_config
def bc() -> None:
    """Behavioural cloning: batch size, L2 weight, learning rate, epochs."""
    parallel_run_config = dict(
        sacred_ex_name="train_imitation",
        run_name="bc_tuning",
        base_config_updates={"environment": {"num_vec": 1}},
        search_space={
            "command_name": "bc",
            "config_updates": {
                "bc": {
                    "batch_size": tune.choice([8, 16, 32, 64]),
                    "l2_weight": tune.loguniform(1e-6, 1e-2),
                    "optimizer_kwargs": {"lr": tune.loguniform(1e-5, 1e-2)},
                    "train_kwargs": {"n_epochs": tune.choice([1, 5, 10, 20])},
                },
            },
        },
        num_samples=64,
        repeat=3,
        resources_per_trial=dict(cpu=1),
    )
    num_eval_seeds = 5


@tuning_ex.named_config
def dagger() -> None:
    """DAgger: the BC learner, the beta schedule's decay, episodes per round."""
    parallel_run_config = dict(
        sacred_ex_name="train_imitation",
        run_name="dagger_tuning",
        base_config_updates={"environment": {"num_vec": 1}},
        search_space={
            "command_name": "dagger",
            "config_updates": {
                "bc": {
                    "batch_size": tune.choice([8, 16, 32, 64]),
                    "l2_weight": tune.loguniform(1e-6, 1e-2),
                    "optimizer_kwargs": {"lr": tune.loguniform(1e-5, 1e-2)},
                },
                "dagger": {
                    "beta_schedule": {
                        "cls": "ExponentialBetaSchedule",
                        "decay_probability": tune.choice([0.5, 0.8, 0.95]),
                    },
                    "rollout_round_min_episodes": tune.choice([3, 5, 10]),
                },
            },
        },
        num_samples=50,
        repeat=3,
        resources_per_trial=dict(cpu=1),
    )
    num_eval_seeds = 5


def _adversarial(algo: str) -> dict[str, Any]:
    """GAIL's and AIRL's search: the trainer's batches and the generator's PPO."""
    return dict(
        sacred_ex_name="train_adversarial",
        run_name=f"{algo}_tuning",
        base_config_updates={"environment": {"num_vec": 1}},
        search_space={
            "command_name": algo,
            "config_updates": {
                "algorithm_kwargs": {
                    "demo_batch_size": tune.choice([512, 1024, 2048, 8192]),
                    "n_disc_updates_per_round": tune.choice([4, 8, 16]),
                    "gen_replay_buffer_capacity": tune.choice([512, 1024, 8192]),
                },
                "rl": {
                    "batch_size": tune.choice([2048, 4096, 8192, 16384]),
                    "rl_kwargs": {
                        "learning_rate": tune.loguniform(1e-5, 1e-2),
                        "ent_coef": tune.loguniform(1e-7, 1e-3),
                        "n_epochs": tune.choice([5, 10, 20]),
                    },
                },
            },
        },
        num_samples=100,
        repeat=3,
        resources_per_trial=dict(cpu=1),
    )


@tuning_ex.named_config
def gail() -> None:
    """GAIL: the discriminator's batches and the generator's PPO."""
    parallel_run_config = _adversarial("gail")
    num_eval_seeds = 5


@tuning_ex.named_config
def airl() -> None:
    """AIRL: the discriminator's batches and the generator's PPO."""
    parallel_run_config = _adversarial("airl")
    num_eval_seeds = 5


@tuning_ex.named_config
def pc() -> None:
    """Preference comparisons: fragments, comparisons, reward training, PPO."""
    parallel_run_config = dict(
        sacred_ex_name="train_preference_comparisons",
        run_name="pc_tuning",
        search_space={
            "config_updates": {
                "fragment_length": tune.choice([25, 50, 100]),
                "num_iterations": tune.choice([5, 10, 20]),
                "initial_comparison_frac": tune.uniform(0.05, 0.3),
                "transition_oversampling": tune.choice([1, 2]),
                "reward_trainer_kwargs": {"epochs": tune.choice([1, 3, 5])},
                "rl": {
                    "batch_size": tune.choice([512, 1024, 2048, 4096]),
                    "rl_kwargs": {
                        "learning_rate": tune.loguniform(1e-5, 1e-2),
                        "n_epochs": tune.choice([5, 10, 20]),
                    },
                },
            },
        },
        num_samples=100,
        repeat=3,
        resources_per_trial=dict(cpu=1),
    )
    num_eval_seeds = 5
