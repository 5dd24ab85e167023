"""Reward nets for tests: a constant net, and a small ensemble factory."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch as th

from imitation.rewards import reward_nets


class MockRewardNet(reward_nets.RewardNet):
    """A reward net without parameters that gives the same reward everywhere.

    Useful where a test needs a ``RewardNet`` but not a learned one, e.g. to
    check plumbing or to give a known reward.
    """

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        value: float = 0.0,
    ) -> None:
        """Build the net.

        Args:
            observation_space: The environment's observation space.
            action_space: The environment's action space.
            value: The reward of every transition.
        """
        super().__init__(observation_space, action_space)
        self.value = value

    def forward(
        self,
        state: th.Tensor,
        action: th.Tensor,
        next_state: th.Tensor,
        done: th.Tensor,
    ) -> th.Tensor:
        """``value`` for every transition of the batch, shape ``(batch,)``."""
        return th.full((len(done),), self.value, dtype=th.float32, device=done.device)


def make_ensemble(
    obs_space: gym.Space,
    action_space: gym.Space,
    num_members: int = 2,
    **kwargs: Any,
) -> reward_nets.RewardEnsemble:
    """An ensemble of freshly initialised ``BasicRewardNet`` members.

    Args:
        obs_space: The environment's observation space.
        action_space: The environment's action space.
        num_members: Number of members (at least two).
        kwargs: Passed to each ``BasicRewardNet``.

    Returns:
        The ensemble.
    """
    return reward_nets.RewardEnsemble(
        obs_space,
        action_space,
        [
            reward_nets.BasicRewardNet(obs_space, action_space, **kwargs)
            for _ in range(num_members)
        ],
    )
