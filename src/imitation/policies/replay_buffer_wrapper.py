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
import torch as th
from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer
from stable_baselines3.common.type_aliases import ReplayBufferSamples
from stable_baselines3.common.vec_env import VecNormalize

from imitation.data import types
from imitation.rewards.reward_function import RewardFn
from imitation.util import sb3_compat, util


def _to_numpy(x: th.Tensor | dict[str, th.Tensor]) -> Any:
    return types.map_maybe_dict(lambda v: v.cpu().numpy(), x)


class ReplayBufferRewardWrapper(ReplayBuffer):
    """Drop-in replacement for an SB3 replay buffer that relabels sampled rewards.

    Transitions are stored in an inner buffer of ``replay_buffer_class`` (kept as
    :attr:`replay_buffer`); this object owns no storage. ``pos``, ``full`` and
    ``device`` read and write the inner buffer's, and any other attribute SB3
    or a user reads (``buffer_size``, ``observations``, ``dones``,
    ``optimize_memory_usage``, ...) is looked up on the inner buffer too. See
    the module docstring for what ``reward_fn`` is called with.

    The wrapper subclasses ``ReplayBuffer`` so it passes SB3's type and
    ``isinstance`` checks (``replay_buffer_class``, ``load_replay_buffer``).
    Saving the buffer with ``save_replay_buffer`` pickles ``reward_fn`` too, so
    that needs a picklable ``reward_fn``.
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

        The storage lives in the inner buffer, so ``ReplayBuffer.__init__`` is
        deliberately not called (it would allocate a second, unused copy).

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
        if issubclass(replay_buffer_class, NStepReplayBuffer):
            raise ValueError(
                "ReplayBufferRewardWrapper cannot relabel n-step returns; use a "
                "one-step replay_buffer_class such as ReplayBuffer.",
            )
        self._unscale_to: gym.spaces.Box | None = None
        if unscale_actions and isinstance(action_space, gym.spaces.Box):
            if not action_space.is_bounded():
                raise ValueError(
                    f"Cannot unscale actions of the unbounded space {action_space}; "
                    "pass unscale_actions=False if the buffer holds env actions.",
                )
            self._unscale_to = action_space
        self.replay_buffer = replay_buffer_class(
            buffer_size,
            observation_space,
            action_space,
            **kwargs,
        )
        self.reward_fn = reward_fn

    def __getattr__(self, name: str) -> Any:
        """Read attributes this wrapper does not define from the inner buffer."""
        # Look in __dict__ directly: during unpickling ``replay_buffer`` is not
        # set yet, and ``self.replay_buffer`` would recurse into __getattr__.
        inner = self.__dict__.get("replay_buffer")
        if inner is None:
            raise AttributeError(name)
        return getattr(inner, name)

    @property
    def pos(self) -> int:
        """Write position of the inner buffer."""
        return self.replay_buffer.pos

    @pos.setter
    def pos(self, value: int) -> None:
        self.replay_buffer.pos = value

    @property
    def full(self) -> bool:
        """Whether the inner buffer has wrapped around."""
        return self.replay_buffer.full

    @full.setter
    def full(self, value: bool) -> None:
        self.replay_buffer.full = value

    @property
    def device(self) -> th.device:
        """Device the sampled tensors are put on (the inner buffer's)."""
        return self.replay_buffer.device

    @device.setter
    def device(self, value: th.device) -> None:
        self.replay_buffer.device = value

    def size(self) -> int:
        """Number of stored transitions (per env)."""
        return self.replay_buffer.size()

    def add(self, *args: Any, **kwargs: Any) -> None:
        """Store transitions in the inner buffer (same arguments as its ``add``)."""
        self.replay_buffer.add(*args, **kwargs)

    def reset(self) -> None:
        """Empty the inner buffer."""
        self.replay_buffer.reset()

    def sample(
        self,
        batch_size: int,
        env: VecNormalize | None = None,
    ) -> ReplayBufferSamples:
        """Sample transitions, with rewards from ``reward_fn``.

        Args:
            batch_size: Number of transitions.
            env: A ``VecNormalize`` env whose statistics normalise the
                observations and rewards handed to the learner, as in SB3.

        Returns:
            The inner buffer's samples (tensors on :attr:`device`), with
            ``rewards`` of shape ``(batch_size, 1)`` replaced.

        Raises:
            ValueError: If ``reward_fn`` returns the wrong number of rewards.
        """
        return self._relabel(self.replay_buffer.sample(batch_size, env=None), env)

    def _get_samples(
        self,
        batch_inds: np.ndarray,
        env: VecNormalize | None = None,
    ) -> ReplayBufferSamples:
        samples = sb3_compat.replay_samples(self.replay_buffer, batch_inds)
        return self._relabel(samples, env)

    def _relabel(
        self,
        samples: ReplayBufferSamples,
        env: VecNormalize | None,
    ) -> ReplayBufferSamples:
        """Compute rewards on the raw batch, then normalise for ``env`` like SB3."""
        obs = _to_numpy(samples.observations)
        next_obs = _to_numpy(samples.next_observations)
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
        rewards = self._normalize_reward(rewards.reshape(n, 1), env)
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
