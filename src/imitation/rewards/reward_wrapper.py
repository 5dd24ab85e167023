"""Replace a vectorised environment's reward with a reward function."""

from __future__ import annotations

import collections
from typing import Any

import numpy as np
from stable_baselines3.common import callbacks
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from imitation.rewards.reward_function import RewardFn


class WrappedRewardCallback(callbacks.BaseCallback):
    """Log the mean episode return under the wrapped reward at each rollout end."""

    def __init__(
        self, episode_rewards: collections.deque, *args: Any, **kwargs: Any
    ) -> None:
        """Log from ``episode_rewards`` (a ``RewardVecEnvWrapper``'s deque)."""
        self.episode_rewards = episode_rewards
        super().__init__(*args, **kwargs)

    def _on_step(self) -> bool:
        return True

    def _on_rollout_start(self) -> None:
        if self.episode_rewards:
            self.logger.record(
                "rollout/ep_rew_wrapped_mean", float(np.mean(self.episode_rewards))
            )


def _with_terminal_obs(obs: Any, dones: np.ndarray, infos: list[dict[str, Any]]) -> Any:
    """``obs`` with each finished env's row replaced by its true final observation."""
    done_idx = np.flatnonzero(dones)
    if len(done_idx) == 0:
        return obs
    if isinstance(obs, dict):
        fixed = {k: v.copy() for k, v in obs.items()}
        for i in done_idx:
            for k in fixed:
                fixed[k][i] = infos[i]["terminal_observation"][k]
        return fixed
    fixed = obs.copy()
    for i in done_idx:
        fixed[i] = infos[i]["terminal_observation"]
    return fixed


class RewardVecEnvWrapper(VecEnvWrapper):
    """Rewards come from ``reward_fn`` instead of the environment.

    The environment's own reward stays available in ``info["original_env_rew"]``.
    At an episode end the reward function sees the episode's true final
    observation (not the reset observation the ``VecEnv`` returns).
    ``episode_rewards`` keeps the returns of the last ``ep_history`` episodes
    under the new reward (see :meth:`make_log_callback`).
    """

    def __init__(
        self, venv: VecEnv, reward_fn: RewardFn, ep_history: int = 100
    ) -> None:
        """Wrap ``venv``.

        Args:
            venv: The environment.
            reward_fn: The new reward.
            ep_history: Number of episode returns kept for logging.
        """
        super().__init__(venv)
        self.reward_fn = reward_fn
        self.episode_rewards: collections.deque = collections.deque(maxlen=ep_history)
        self._cumulative_rew = np.zeros(venv.num_envs)
        self._old_obs: Any = None
        self._actions: np.ndarray | None = None

    def make_log_callback(self) -> WrappedRewardCallback:
        """A callback logging the mean return under the wrapped reward."""
        return WrappedRewardCallback(self.episode_rewards)

    def reset(self, **kwargs: Any) -> Any:
        """Reset the env and the running returns."""
        self._old_obs = self.venv.reset(**kwargs)
        self._cumulative_rew[:] = 0
        return self._old_obs

    def step_async(self, actions: np.ndarray) -> None:
        """Remember the actions, then forward them."""
        self._actions = actions
        self.venv.step_async(actions)

    def step_wait(self) -> Any:
        """Step, and replace the rewards.

        Raises:
            RuntimeError: If ``reset`` was not called first.
            ValueError: If the reward function returns the wrong shape.
        """
        if self._old_obs is None:
            raise RuntimeError("Call reset() before step().")
        assert self._actions is not None
        obs, old_rews, dones, infos = self.venv.step_wait()
        next_obs = _with_terminal_obs(obs, dones, infos)
        rews = np.asarray(self.reward_fn(self._old_obs, self._actions, next_obs, dones))
        if rews.shape != old_rews.shape:
            raise ValueError(
                f"reward_fn returned shape {rews.shape}; expected {old_rews.shape} "
                "(one reward per env).",
            )
        for info, old_rew in zip(infos, old_rews.tolist()):
            info["original_env_rew"] = old_rew
        self._cumulative_rew += rews
        for i in np.flatnonzero(dones):
            self.episode_rewards.append(float(self._cumulative_rew[i]))
            self._cumulative_rew[i] = 0.0
        self._old_obs = obs
        return obs, rews, dones, infos
