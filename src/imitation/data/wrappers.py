"""Environment wrappers for collecting trajectories."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from imitation.data import types
from imitation.data.rollout import TrajectoryAccumulator, flatten_trajectories_with_rew


class RolloutInfoWrapper(gym.Wrapper):
    """Record the episode's original observations and rewards in the last info.

    At the final step of an episode, ``info["rollout"]`` holds ``{"obs": ...,
    "rews": ...}``: every observation (``len + 1`` of them) and reward exactly as
    this wrapper received them. Put it directly around the base env (e.g. as a
    ``post_wrappers`` entry of ``make_vec_env``) so that wrappers added later,
    such as a learned reward, do not affect what is saved;
    :func:`imitation.data.rollout.unwrap_traj` restores them.
    """

    def __init__(self, env: gym.Env) -> None:
        """Wrap ``env``."""
        super().__init__(env)
        self._obs: list[Any] = []
        self._rews: list[float] = []

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Reset the env and start recording a new episode."""
        obs, info = self.env.reset(**kwargs)
        self._obs = [obs]
        self._rews = []
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        """Step the env; at the episode's end, attach the recorded episode."""
        obs, rew, terminated, truncated, info = self.env.step(action)
        self._obs.append(obs)
        self._rews.append(float(rew))
        if terminated or truncated:
            if "rollout" in info:
                raise ValueError(
                    "info already has a 'rollout' key: is RolloutInfoWrapper "
                    "applied twice?",
                )
            info = dict(info)
            info["rollout"] = {
                "obs": types.stack_maybe_dictobs(self._obs),
                "rews": np.asarray(self._rews, dtype=np.float64),
            }
        return obs, rew, terminated, truncated, info


class BufferingWrapper(VecEnvWrapper):
    """Save every transition that passes through a ``VecEnv``.

    Adversarial algorithms wrap the generator's training env in this to collect
    the samples the generator produced. Completed episodes and the fragments
    of episodes still in progress are popped with :meth:`pop_trajectories`,
    :meth:`pop_finished_trajectories` or :meth:`pop_transitions`.
    """

    def __init__(self, venv: VecEnv, error_on_premature_reset: bool = True) -> None:
        """Wrap ``venv``.

        Args:
            venv: The environment to buffer.
            error_on_premature_reset: Raise ``RuntimeError`` if ``reset`` is
                called while collected samples have not been popped (they
                would otherwise be lost).
        """
        super().__init__(venv)
        self.error_on_premature_reset = error_on_premature_reset
        self._acc: TrajectoryAccumulator | None = None
        self._finished: list[types.TrajectoryWithRew] = []
        self._saved_acts: np.ndarray | None = None
        self.n_transitions: int | None = None
        # Steps since each env's last reset, kept across pops, so the length of
        # an episode that spans two pops is still known when it ends.
        self._episode_steps = np.zeros(self.num_envs, dtype=np.int64)
        self._episode_lengths: list[int] = []

    def reset(self, **kwargs: Any) -> Any:
        """Reset the env; see ``error_on_premature_reset``."""
        if self.error_on_premature_reset and self.n_transitions:
            raise RuntimeError(
                "BufferingWrapper.reset() with samples not yet popped; pop them "
                "first (or pass error_on_premature_reset=False).",
            )
        obs = self.venv.reset(**kwargs)
        self._acc = TrajectoryAccumulator(self.num_envs)
        self._acc.reset(types.maybe_wrap_in_dictobs(obs))
        self._finished = []
        self.n_transitions = 0
        self._episode_steps[:] = 0
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        """Remember the actions, then forward them."""
        if self._acc is None:
            raise RuntimeError("BufferingWrapper: call reset() before step().")
        self._saved_acts = actions
        self.venv.step_async(actions)

    def step_wait(self) -> Any:
        """Forward the step and record the transitions."""
        assert self._acc is not None and self._saved_acts is not None
        obs, rews, dones, infos = self.venv.step_wait()
        self._finished.extend(
            self._acc.add_step(
                self._saved_acts,
                types.maybe_wrap_in_dictobs(obs),
                rews,
                dones,
                infos,
            ),
        )
        self._saved_acts = None
        assert self.n_transitions is not None
        self.n_transitions += self.num_envs
        self._episode_steps += 1
        ended = np.asarray(dones, dtype=bool)
        if ended.any():
            self._episode_lengths.extend(self._episode_steps[ended].tolist())
            self._episode_steps[ended] = 0
        return obs, rews, dones, infos

    def pop_episode_lengths(self) -> list[int]:
        """Pop the full lengths of the episodes completed since the last call.

        Unlike the lengths of popped trajectories, these count an episode's
        steps from its reset even when it spanned several pops.
        """
        lengths, self._episode_lengths = self._episode_lengths, []
        return lengths

    def pop_finished_trajectories(
        self,
    ) -> tuple[Sequence[types.TrajectoryWithRew], Sequence[int]]:
        """Pop the episodes completed since the last pop.

        Returns:
            The trajectories, and the number of transitions of each.
        """
        finished = self._finished
        self._finished = []
        assert self.n_transitions is not None
        self.n_transitions -= sum(len(t) for t in finished)
        return finished, [len(t) for t in finished]

    def pop_trajectories(
        self,
    ) -> tuple[Sequence[types.TrajectoryWithRew], Sequence[int]]:
        """Pop completed episodes and the fragments of those still running.

        In-progress episodes continue: their later steps are returned by the
        next pop as a new fragment starting at the current observation.

        Returns:
            The trajectories (fragments are non-terminal), and their lengths.
        """
        if self._acc is None or self.n_transitions == 0:
            return [], []
        trajs = self._finished + self._acc.pop_partial()
        self._finished = []
        self.n_transitions = 0
        return trajs, [len(t) for t in trajs]

    def pop_transitions(self) -> types.TransitionsWithRew:
        """Pop everything collected since the last pop, as flat transitions.

        Raises:
            RuntimeError: If nothing has been collected.
        """
        if not self.n_transitions:
            raise RuntimeError("BufferingWrapper has no transitions to pop.")
        trajs, _ = self.pop_trajectories()
        return flatten_trajectories_with_rew(trajs)
