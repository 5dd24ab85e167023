"""A replay buffer whose sampled rewards come from a (learned) reward function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.buffers import BaseBuffer, ReplayBuffer
from stable_baselines3.common.vec_env import VecNormalize

RewardFn = Callable[[Any, np.ndarray, Any, np.ndarray], np.ndarray]


def _to_numpy(x: th.Tensor | dict[str, th.Tensor]) -> Any:
    if isinstance(x, dict):
        return {k: v.cpu().numpy() for k, v in x.items()}
    return x.cpu().numpy()


class ReplayBufferRewardWrapper(BaseBuffer):
    """Drop-in replacement for an SB3 replay buffer that relabels rewards.

    Transitions are stored in an inner buffer of ``replay_buffer_class``; every
    sampled batch gets its rewards from ``reward_fn(obs, acts, next_obs,
    dones)`` (numpy in, numpy out), so an off-policy learner always trains on
    the current reward. Use it as::

        SAC(..., replay_buffer_class=ReplayBufferRewardWrapper,
            replay_buffer_kwargs=dict(replay_buffer_class=ReplayBuffer,
                                      reward_fn=reward_fn))

    With a ``VecNormalize`` env, ``reward_fn`` sees the raw observations and the
    learner gets normalised ones (the reward is the reward function's, never
    normalised).
    """

    def __init__(
        self,
        buffer_size: int,
        observation_space: gym.Space,
        action_space: gym.Space,
        *,
        replay_buffer_class: type[ReplayBuffer],
        reward_fn: RewardFn,
        **kwargs: Any,
    ) -> None:
        """Build the inner buffer.

        Args:
            buffer_size: Capacity of the inner buffer.
            observation_space: Observation space.
            action_space: Action space.
            replay_buffer_class: Class of the inner buffer (e.g. ``ReplayBuffer``
                or ``DictReplayBuffer``).
            reward_fn: Reward function applied to every sampled batch.
            kwargs: Passed to ``replay_buffer_class`` (``device``, ``n_envs``,
                ``optimize_memory_usage``, ...).
        """
        self.replay_buffer = replay_buffer_class(
            buffer_size, observation_space, action_space, **kwargs
        )
        self.reward_fn = reward_fn
        # Mirror the inner buffer's public configuration (no storage of our own).
        self.buffer_size = self.replay_buffer.buffer_size
        self.observation_space = observation_space
        self.action_space = action_space
        self.obs_shape = self.replay_buffer.obs_shape
        self.action_dim = self.replay_buffer.action_dim
        self.device = self.replay_buffer.device
        self.n_envs = self.replay_buffer.n_envs

    @property
    def pos(self) -> int:  # type: ignore[override]
        """Write position of the inner buffer."""
        return self.replay_buffer.pos

    @pos.setter
    def pos(self, value: int) -> None:
        self.replay_buffer.pos = value

    @property
    def full(self) -> bool:  # type: ignore[override]
        """Whether the inner buffer has wrapped around."""
        return self.replay_buffer.full

    @full.setter
    def full(self, value: bool) -> None:
        self.replay_buffer.full = value

    def size(self) -> int:
        """Number of stored transitions."""
        return self.replay_buffer.size()

    def add(self, *args: Any, **kwargs: Any) -> None:
        """Store transitions in the inner buffer."""
        self.replay_buffer.add(*args, **kwargs)

    def reset(self) -> None:
        """Empty the inner buffer."""
        self.replay_buffer.reset()

    def sample(self, batch_size: int, env: VecNormalize | None = None) -> Any:
        """Sample a batch and replace its rewards by ``reward_fn``'s."""
        return self._relabel(self.replay_buffer.sample(batch_size, env=None), env)

    def _get_samples(
        self,
        batch_inds: np.ndarray,
        env: VecNormalize | None = None,
    ) -> Any:
        return self._relabel(self.replay_buffer._get_samples(batch_inds, env=None), env)

    def _relabel(self, samples: Any, env: VecNormalize | None) -> Any:
        """Compute rewards on the raw batch; normalise observations for ``env``."""
        obs = _to_numpy(samples.observations)
        next_obs = _to_numpy(samples.next_observations)
        n = len(samples.actions)
        rewards = np.asarray(
            self.reward_fn(
                obs,
                samples.actions.cpu().numpy(),
                next_obs,
                samples.dones.cpu().numpy().reshape(-1),
            ),
            dtype=np.float32,
        )
        if rewards.shape != (n,):
            raise ValueError(
                f"reward_fn returned shape {rewards.shape}; expected ({n},)."
            )
        replaced: dict[str, Any] = {"rewards": self.to_torch(rewards.reshape(-1, 1))}
        if env is not None:
            replaced["observations"] = self._as_torch(env.normalize_obs(obs))
            replaced["next_observations"] = self._as_torch(env.normalize_obs(next_obs))
        return samples._replace(**replaced)

    def _as_torch(self, obs: Any) -> Any:
        if isinstance(obs, dict):
            return {k: self.to_torch(v) for k, v in obs.items()}
        return self.to_torch(obs)
