"""Replace a vectorised environment's reward with a reward function."""

from __future__ import annotations

import collections
from typing import Any

import numpy as np
from stable_baselines3.common import callbacks
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from imitation.rewards.reward_function import RewardFn
from imitation.util import sb3_compat


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
    if not dones.any():
        return obs
    done_idx = np.flatnonzero(dones)
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


def _concat_steps(values: list[Any]) -> Any:
    """Concatenate per-step arrays (or dicts of arrays) along the env axis."""
    if isinstance(values[0], dict):
        return {k: np.concatenate([v[k] for v in values]) for k in values[0]}
    return np.concatenate(values)


class RewardVecEnvWrapper(VecEnvWrapper):
    """Rewards come from ``reward_fn`` instead of the environment.

    The environment's own reward stays available in ``info["original_env_rew"]``.
    At an episode end the reward function sees the episode's true final
    observation (not the reset observation the ``VecEnv`` returns).
    ``episode_rewards`` keeps the returns of the last ``ep_history`` episodes
    under the new reward (see :meth:`make_log_callback`).

    A caller that can fill rewards in after the fact (an on-policy learner's
    rollout buffer) may :meth:`defer_rewards`: steps then return zero rewards
    and :meth:`compute_deferred_rewards` computes all of them in one
    ``reward_fn`` call, which saves the per-step cost of the reward network.
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
        self._deferred: list[tuple[Any, np.ndarray, Any, np.ndarray]] | None = None

    def make_log_callback(self) -> WrappedRewardCallback:
        """A callback logging the mean return under the wrapped reward."""
        return WrappedRewardCallback(self.episode_rewards)

    @property
    def deferring(self) -> bool:
        """Whether steps are recorded for :meth:`compute_deferred_rewards`."""
        return self._deferred is not None

    def defer_rewards(self, enable: bool = True) -> None:
        """Start (or, with ``enable=False``, stop) deferring the rewards.

        While deferring, ``step`` returns zero rewards and records each step's
        transition. Starting again, or stopping, discards what was recorded.

        Args:
            enable: Whether to defer from now on.
        """
        self._deferred = [] if enable else None

    def compute_deferred_rewards(self) -> np.ndarray:
        """The rewards of the steps recorded since :meth:`defer_rewards`, in one call.

        Episodes that ended during those steps are added to
        ``episode_rewards``. Deferring continues with an empty record.

        Returns:
            Rewards of shape ``(n_steps, num_envs)``, in step order.

        Raises:
            RuntimeError: If rewards are not being deferred.
            ValueError: If the reward function returns the wrong shape.
        """
        if self._deferred is None:
            raise RuntimeError(
                "Call defer_rewards() before compute_deferred_rewards()."
            )
        steps, self._deferred = self._deferred, []
        n_envs = self.num_envs
        if not steps:
            return np.zeros((0, n_envs))
        obs, acts, next_obs, dones = (
            _concat_steps([step[k] for step in steps]) for k in range(4)
        )
        rews = np.asarray(self.reward_fn(obs, acts, next_obs, dones))
        if rews.shape != (len(steps) * n_envs,):
            raise ValueError(
                f"reward_fn returned shape {rews.shape} for {len(steps) * n_envs} "
                "transitions; expected one reward per transition.",
            )
        rews = rews.reshape(len(steps), n_envs)
        self._add_to_returns(rews, dones.reshape(len(steps), n_envs))
        return rews

    def _add_to_returns(self, rews: np.ndarray, dones: np.ndarray) -> None:
        """Accumulate per-step rewards ``(n_steps, num_envs)``; log ended episodes."""
        for step_rews, step_dones in zip(rews, dones):
            self._cumulative_rew += step_rews
            self._end_episodes(step_dones)

    def _end_episodes(self, dones: np.ndarray) -> None:
        """Log the returns of the envs that are done, and restart their sums."""
        for i in np.flatnonzero(dones):
            self.episode_rewards.append(float(self._cumulative_rew[i]))
            self._cumulative_rew[i] = 0.0

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
        for info, old_rew in zip(infos, old_rews.tolist()):
            info["original_env_rew"] = old_rew
        if self._deferred is not None:
            self._deferred.append(
                (self._old_obs, np.array(self._actions), next_obs, dones)
            )
            rews = np.zeros_like(old_rews)
        else:
            rews = np.asarray(
                self.reward_fn(self._old_obs, self._actions, next_obs, dones)
            )
            if rews.shape != old_rews.shape:
                raise ValueError(
                    f"reward_fn returned shape {rews.shape}; expected "
                    f"{old_rews.shape} (one reward per env).",
                )
            self._cumulative_rew += rews
            if dones.any():
                self._end_episodes(dones)
        self._old_obs = obs
        return obs, rews, dones, infos


class DeferredRewardCallback(callbacks.BaseCallback):
    """Reward an on-policy learner's rollout with one ``reward_fn`` call at its end.

    Pass it to the ``learn`` of an SB3 on-policy algorithm (PPO, A2C) whose env
    is ``wrapper`` (possibly under further wrappers that leave rewards alone).

    While the rollout is collected, ``wrapper`` defers the rewards, so the
    rollout buffer receives zeros plus SB3's timeout bootstrap terms
    (``gamma * V(final obs)`` at truncations). At the rollout's end the learned
    rewards of all its steps are added in one batch, and the returns and
    advantages are recomputed from the final values SB3 computed. Outside
    rollouts the wrapper gives per-step rewards. This callback is the only
    thing that switches deferral on and off.
    """

    def __init__(self, wrapper: RewardVecEnvWrapper) -> None:
        """Defer ``wrapper``'s rewards during each rollout of the callback's model."""
        super().__init__()
        self.wrapper = wrapper

    def _init_callback(self) -> None:
        if not isinstance(self.model, OnPolicyAlgorithm):
            raise TypeError(
                "DeferredRewardCallback needs an on-policy learner (PPO, A2C), "
                f"whose rollouts can be rewarded afterwards; got "
                f"{type(self.model).__name__}.",
            )

    def _on_rollout_start(self) -> None:
        self.wrapper.defer_rewards()

    def _on_training_end(self) -> None:
        self.wrapper.defer_rewards(False)  # in case learn stopped mid-rollout

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        rews = self.wrapper.compute_deferred_rewards()
        # Deferring only while a rollout is collected: this callback is the one
        # owner of the switch, and outside rollouts the wrapper rewards each step.
        self.wrapper.defer_rewards(False)
        assert isinstance(self.model, OnPolicyAlgorithm)
        rollout_buffer = self.model.rollout_buffer
        if rews.shape != rollout_buffer.rewards.shape:
            raise RuntimeError(
                f"Deferred rewards of shape {rews.shape} do not fit the rollout "
                f"buffer's {rollout_buffer.rewards.shape}: was the learner's env "
                "stepped outside its rollouts?",
            )
        rollout_buffer.rewards += rews
        last_values, dones = sb3_compat.rollout_end_values(self)
        rollout_buffer.compute_returns_and_advantage(
            last_values=last_values, dones=dones
        )
