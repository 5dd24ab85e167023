"""Train GAIL or AIRL from the command line.

Run ``python -m imitation.scripts.train_adversarial {gail,airl} with <named
configs> <key=value ...>``. Output in ``<log_dir>``: ``log/``, ``monitor/``,
and ``checkpoints/<round>/`` (every ``checkpoint_interval`` rounds) and
``checkpoints/final/``, each with ``reward_train.pt``, ``reward_test.pt``
(load with :func:`imitation.rewards.serialize.load_reward_net`; see
:func:`save`) and ``gen_policy/model.zip``.
"""

from __future__ import annotations

import logging
import pathlib
import pprint
from collections.abc import Mapping
from typing import Any

import torch as th

from imitation.algorithms.adversarial import airl as airl_algorithm
from imitation.algorithms.adversarial import common as adversarial
from imitation.algorithms.adversarial import gail as gail_algorithm
from imitation.data import wrappers
from imitation.policies import serialize as policy_serialize
from imitation.rewards import reward_nets
from imitation.scripts._console import run_console
from imitation.scripts.config.train_adversarial import train_adversarial_ex
from imitation.scripts.ingredients import (
    demonstrations,
    environment,
    policy_evaluation,
    reward,
    rl,
)
from imitation.scripts.ingredients import logging as logging_ingredient
from imitation.util import util

logger = logging.getLogger(__name__)


def save(trainer: adversarial.AdversarialTrainer, save_path: pathlib.Path) -> None:
    """Save the trainer's reward nets and generator policy under ``save_path``.

    ``reward_train.pt`` is the discriminator's reward net (for AIRL its shaped
    ``f``: the generator's reward itself also depends on the policy),
    ``reward_test.pt`` the reward to train new policies on.
    """
    save_path.mkdir(parents=True, exist_ok=True)
    for name, net in (
        ("reward_train.pt", trainer.reward_net),
        ("reward_test.pt", trainer.reward_test),
    ):
        with util.atomic_write_path(save_path / name) as tmp:
            th.save(net, tmp)
    policy_serialize.save_stable_model(save_path / "gen_policy", trainer.gen_algo)


@train_adversarial_ex.capture
def train_adversarial(
    algo_cls: type[adversarial.AdversarialTrainer],
    default_net_cls: type[reward_nets.RewardNet],
    total_timesteps: int,
    checkpoint_interval: int,
    agent_path: str | None,
    algorithm_kwargs: Mapping[str, Any],
    show_config: bool,
    _config: Mapping[str, Any],
) -> Mapping[str, Any]:
    """Train ``algo_cls`` on the configured demonstrations and environment.

    Returns:
        ``imit_stats`` (the generator policy's rollout statistics) and
        ``expert_stats`` (the demonstrations').
    """
    custom_logger, log_dir = logging_ingredient.setup_logging()
    if show_config:
        logger.info("Configuration:\n%s", pprint.pformat(_config))
    expert_trajs = demonstrations.get_expert_trajectories()
    venv = environment.make_venv(
        log_dir=str(log_dir),
        post_wrappers=[lambda env, _: wrappers.RolloutInfoWrapper(env)],
    )
    try:
        reward_net = reward.make_reward_net(venv, default_net_cls=default_net_cls)
        if agent_path is None:
            gen_algo = rl.make_rl_algo(venv)
        else:
            gen_algo = rl.load_rl_algo_from_path(agent_path=agent_path, venv=venv)
        trainer = algo_cls(
            venv=venv,
            demonstrations=expert_trajs,
            gen_algo=gen_algo,
            reward_net=reward_net,
            log_dir=str(log_dir),
            custom_logger=custom_logger,
            **algorithm_kwargs,
        )

        def checkpoint(round_num: int) -> None:
            if checkpoint_interval > 0 and round_num % checkpoint_interval == 0:
                save(trainer, log_dir / "checkpoints" / f"{round_num:05d}")

        trainer.train(int(total_timesteps), callback=checkpoint)
        if checkpoint_interval >= 0:
            save(trainer, log_dir / "checkpoints" / "final")
        return policy_evaluation.results(trainer.policy, venv, expert_trajs)
    finally:
        venv.close()


@train_adversarial_ex.command
def gail() -> Mapping[str, Any]:
    """GAIL (reward net default: ``BasicRewardNet``)."""
    return train_adversarial(gail_algorithm.GAIL, reward_nets.BasicRewardNet)


@train_adversarial_ex.command
def airl() -> Mapping[str, Any]:
    """AIRL (reward net default: ``BasicShapedRewardNet``)."""
    return train_adversarial(airl_algorithm.AIRL, reward_nets.BasicShapedRewardNet)


def main_console() -> None:
    """Entry point of ``imitation-train-adversarial``."""
    run_console(train_adversarial_ex, "train_adversarial")


if __name__ == "__main__":  # pragma: no cover
    main_console()
