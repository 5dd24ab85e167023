"""The ``train_rl`` experiment: train an RL agent (e.g. an expert) and save rollouts."""

from __future__ import annotations

from typing import Any

import sacred

from imitation.scripts.config import common
from imitation.scripts.ingredients import environment, logging, policy_evaluation, rl

train_rl_ex = sacred.Experiment(
    "train_rl",
    ingredients=[
        logging.logging_ingredient,
        environment.environment_ingredient,
        rl.rl_ingredient,
        policy_evaluation.policy_evaluation_ingredient,
    ],
)


@train_rl_ex.config
def train_rl_defaults() -> None:
    """Training budget, reward and what to save."""
    total_timesteps = int(1e6)  # environment steps
    normalize_reward = True  # train on VecNormalize-scaled rewards
    normalize_kwargs = dict(norm_obs=False)  # more VecNormalize arguments
    reward_type = (
        None  # train on a learned reward: its type (e.g. "RewardNet_unshaped")
    )
    reward_path = None  # ... and the saved reward net's path
    load_reward_kwargs = dict[str, Any]()  # more arguments of serialize.load_reward
    rollout_save_final = True  # save rollouts of the final policy
    rollout_save_n_timesteps = 2000  # at least this many steps ...
    rollout_save_n_episodes = None  # ... and at least this many episodes
    policy_save_interval = 10_000  # steps between checkpoints (<= 0: none)
    policy_save_final = True  # save the final policy
    agent_path = None  # resume from this saved agent (an SB3 zip)


@train_rl_ex.named_config
def fast() -> None:
    """A few hundred steps, for smoke tests."""
    total_timesteps = 256
    policy_save_interval = 128
    rollout_save_n_timesteps = 40


common.add_environment_configs(train_rl_ex, common.RL_ENVIRONMENTS)
common.record_cpu_time(train_rl_ex)
