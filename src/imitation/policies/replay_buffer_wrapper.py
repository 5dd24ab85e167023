"""A replay buffer whose sampled rewards come from a (learned) reward function.

Off-policy learners (SAC, TD3, DQN) keep old transitions for a long time; when
the reward is being learned at the same time, the rewards stored with those
transitions go stale. :class:`ReplayBufferRewardWrapper` stores transitions as
usual but recomputes the reward of every sampled batch with the current reward
function::

    from stable_baselines3 import SAC
    from stable_baselines3.common.buffers import ReplayBuffer

    model = SAC(
        "MlpPolicy",
        venv,
        replay_buffer_class=ReplayBufferRewardWrapper,
        replay_buffer_kwargs=dict(replay_buffer_class=ReplayBuffer, reward_fn=fn),
    )

What ``reward_fn`` sees, and what the learner gets back:

* Observations are the raw ones. SB3 stores un-normalised observations even
  when training on a ``VecNormalize`` env, and normalises them when sampling;
  the wrapper calls ``reward_fn`` before that normalisation, then normalises the
  observations for the learner exactly as SB3 does.
* Actions are in the env's action space. For ``Box`` action spaces SB3's
  off-policy algorithms store actions rescaled to ``[-1, 1]``; the wrapper maps
  them back to ``[low, high]`` first (disable with ``unscale_actions=False`` if
  you fill the buffer with env actions yourself).
* ``dones`` are the flags the learner sees: True at real terminations, False at
  time-limit truncations when the inner buffer handles timeouts.
* The rewards returned replace the stored ones, and are then normalised by a
  ``VecNormalize`` env's return statistics like SB3 normalises stored rewards
  (a no-op unless the env has ``norm_reward=True``).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer
from stable_baselines3.common.type_aliases import ReplayBufferSamples
from stable_baselines3.common.vec_env import VecNormalize

from imitation.data import types
from imitation.rewards.reward_function import RewardFn
from imitation.util import sb3_compat, util


def _check_one_step(replay_buffer_class: type[ReplayBuffer]) -> None:
    if issubclass(replay_buffer_class, NStepReplayBuffer):
        raise ValueError(
            "ReplayBufferRewardWrapper cannot relabel n-step returns; use a "
            "one-step replay_buffer_class such as ReplayBuffer.",
        )


def _unscale_target(
    action_space: gym.Space, unscale_actions: bool
) -> gym.spaces.Box | None:
    """The Box stored actions are mapped back to, or None to leave them."""
    if not (unscale_actions and isinstance(action_space, gym.spaces.Box)):
        return None
    if not action_space.is_bounded():
        raise ValueError(
            f"Cannot unscale actions of the unbounded space {action_space}; "
            "pass unscale_actions=False if the buffer holds env actions.",
        )
    return action_space


class ReplayBufferRewardWrapper(sb3_compat.ReplayBufferView):
    """Drop-in replacement for an SB3 replay buffer that relabels sampled rewards.

    Transitions are stored in an inner buffer of ``replay_buffer_class`` (kept as
    :attr:`replay_buffer`); this object owns no storage, and every attribute it
    does not define is the inner buffer's (see
    :class:`~imitation.util.sb3_compat.ReplayBufferView`). See the module
    docstring for what ``reward_fn`` is called with.

    The wrapper is a ``ReplayBuffer`` subclass, so it passes SB3's type and
    ``isinstance`` checks (``replay_buffer_class``, ``load_replay_buffer``).
    Saving the buffer with ``save_replay_buffer`` pickles ``reward_fn`` too, so
    that needs a picklable ``reward_fn``. :func:`relabel_rewards` wraps a
    buffer that already exists.
    """

    def __init__(
        self,
        buffer_size: int,
        observation_space: gym.Space,
        action_space: gym.Space,
        *,
        replay_buffer_class: type[ReplayBuffer],
        reward_fn: RewardFn,
        unscale_actions: bool = True,
        **kwargs: Any,
    ) -> None:
        """Build the inner buffer.

        Args:
            buffer_size: Capacity, as for ``ReplayBuffer`` (split across envs).
            observation_space: Observation space.
            action_space: Action space.
            replay_buffer_class: Class of the inner buffer, e.g. ``ReplayBuffer``
                or ``DictReplayBuffer``.
            reward_fn: Computes the rewards of every sampled batch.
            unscale_actions: For a ``Box`` action space, map stored actions from
                ``[-1, 1]`` back to the space's bounds before calling
                ``reward_fn`` (SB3's off-policy algorithms store them rescaled).
            kwargs: Passed on to ``replay_buffer_class``: ``device``,
                ``n_envs``, ``optimize_memory_usage``,
                ``handle_timeout_termination``, ...

        Raises:
            ValueError: If ``replay_buffer_class`` is an n-step buffer (its
                rewards are multi-step returns, which a per-transition reward
                function cannot replace), or if actions should be unscaled but
                the ``Box`` action space is unbounded.
        """
        _check_one_step(replay_buffer_class)
        unscale_to = _unscale_target(action_space, unscale_actions)
        super().__init__(
            replay_buffer_class(
                buffer_size,
                observation_space,
                action_space,
                **kwargs,
            )
        )
        self._unscale_to = unscale_to
        self.reward_fn = reward_fn

    def process_samples(
        self,
        samples: ReplayBufferSamples,
        env: VecNormalize | None,
    ) -> ReplayBufferSamples:
        """Compute rewards on the raw batch, then normalise for ``env`` like SB3.

        Args:
            samples: Transitions of the inner buffer, not normalised.
            env: A ``VecNormalize`` env whose statistics normalise the
                observations and rewards handed to the learner, as in SB3.

        Returns:
            ``samples`` (tensors on :attr:`device`), with ``rewards`` of shape
            ``(batch_size, 1)`` replaced.

        Raises:
            ValueError: If ``reward_fn`` returns the wrong number of rewards.
        """
        obs = types.to_numpy_maybe_dict(samples.observations)
        next_obs = types.to_numpy_maybe_dict(samples.next_observations)
        acts = samples.actions.cpu().numpy()
        if self._unscale_to is not None:
            acts = util.unscale_from_unit_box(acts, self._unscale_to)
        dones = samples.dones.cpu().numpy().reshape(-1).astype(bool)
        n = len(dones)
        rewards = np.asarray(self.reward_fn(obs, acts, next_obs, dones))
        if rewards.shape != (n,):
            raise ValueError(
                f"reward_fn returned shape {rewards.shape}; expected ({n},).",
            )
        rewards = sb3_compat.normalize_reward(rewards.reshape(n, 1), env)
        replaced: dict[str, Any] = {
            "rewards": self.to_torch(rewards.astype(np.float32)),
        }
        if env is not None:
            replaced["observations"] = self._obs_to_torch(env.normalize_obs(obs))
            replaced["next_observations"] = self._obs_to_torch(
                env.normalize_obs(next_obs),
            )
        return samples._replace(**replaced)

    def _obs_to_torch(self, obs: Any) -> Any:
        return types.map_maybe_dict(self.to_torch, obs)


class _RelabelledBuffer(ReplayBufferRewardWrapper):
    """A :class:`ReplayBufferRewardWrapper` around a buffer built elsewhere."""

    def __init__(
        self, replay_buffer: ReplayBuffer, reward_fn: RewardFn, unscale_actions: bool
    ) -> None:
        _check_one_step(type(replay_buffer))
        unscale_to = _unscale_target(replay_buffer.action_space, unscale_actions)
        sb3_compat.ReplayBufferView.__init__(self, replay_buffer)
        self._unscale_to = unscale_to
        self.reward_fn = reward_fn


def relabel_rewards(
    replay_buffer: ReplayBuffer, reward_fn: RewardFn, unscale_actions: bool = True
) -> ReplayBufferRewardWrapper:
    """Wrap a buffer that already exists, e.g. an algorithm's ``replay_buffer``.

    The transitions it holds stay; from now on every sampled batch carries
    ``reward_fn``'s rewards, as with :class:`ReplayBufferRewardWrapper`.

    Args:
        replay_buffer: The buffer, e.g. ``algo.replay_buffer``.
        reward_fn: Computes the rewards of every sampled batch.
        unscale_actions: As for :class:`ReplayBufferRewardWrapper`.

    Returns:
        The wrapper; assign it to ``algo.replay_buffer``.

    Raises:
        ValueError: As :class:`ReplayBufferRewardWrapper`.
    """
    return _RelabelledBuffer(replay_buffer, reward_fn, unscale_actions)
