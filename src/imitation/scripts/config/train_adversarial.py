"""The ``train_adversarial`` experiment: GAIL and AIRL (commands)."""

from __future__ import annotations

import sacred

from imitation.scripts.config import common
from imitation.scripts.ingredients import (
    demonstrations,
    environment,
    expert,
    logging,
    policy,
    policy_evaluation,
    reward,
    rl,
)

train_adversarial_ex = sacred.Experiment(
    "train_adversarial",
    ingredients=[
        logging.logging_ingredient,
        demonstrations.demonstrations_ingredient,
        environment.environment_ingredient,
        expert.expert_ingredient,
        reward.reward_ingredient,
        rl.rl_ingredient,
        policy.policy_ingredient,
        policy_evaluation.policy_evaluation_ingredient,
    ],
)


@train_adversarial_ex.config
def defaults() -> None:
    """Budget, checkpoints and the trainer's settings."""
    total_timesteps = int(1e6)  # environment steps of the generator
    show_config = False  # log the whole configuration at the start
    checkpoint_interval = 0  # rounds between checkpoints (0: final only; -1: none)
    agent_path = None  # start the generator from this saved agent (an SB3 zip)
    algorithm_kwargs = dict(
        demo_batch_size=1024,  # expert samples per discriminator update
        n_disc_updates_per_round=4,  # discriminator updates per round
        gen_replay_buffer_capacity=2048,  # generator samples kept for the discriminator
    )  # more arguments of GAIL / AIRL


@train_adversarial_ex.named_config
def fast() -> None:
    """Tiny budgets, for smoke tests (also set the ingredients' fast configs)."""
    total_timesteps = 50
    algorithm_kwargs = dict(
        demo_batch_size=1,
        n_disc_updates_per_round=1,
        gen_replay_buffer_capacity=4,
    )


common.add_environment_configs(
    train_adversarial_ex,
    [
        "acrobot",
        "cartpole",
        "half_cheetah",
        "mountain_car",
        "pendulum",
        "reacher",
        "seals_cartpole",
        "seals_humanoid",
        "seals_mountain_car",
    ],
)
common.add_tuned_configs(train_adversarial_ex, ["gail", "airl"])
common.record_cpu_time(train_adversarial_ex)
