"""A time-dependent policy given as a table over states, usable like an SB3 policy."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common import policies

from imitation.util import util


class TabularPolicy(policies.BasePolicy):
    """A time-dependent stochastic policy given as a table ``pi[t, state, action]``.

    Observations are state indices (e.g. from
    ``seals.base_envs.ExposePOMDPStateWrapper``). The timestep of each
    environment is carried in ``predict``'s recurrent ``state``: it starts at
    0 where ``episode_start`` is True and advances by one per call. Past the
    table's last step, the last step's distribution is used (the episode is
    then longer than the horizon the table was planned for).
    """

    def __init__(
        self,
        state_space: gym.Space,
        action_space: gym.Space,
        pi: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        """Build the policy.

        Args:
            state_space: The environment's state space (``Discrete``).
            action_space: The environment's action space (``Discrete``).
            pi: Action probabilities, shape ``(H, n_states, n_actions)``.
            rng: Generator for sampling actions.

        Raises:
            TypeError: If either space is not ``Discrete``.
            ValueError: If ``pi`` has the wrong shape or is not a distribution
                over actions.
        """
        if not isinstance(state_space, gym.spaces.Discrete) or not isinstance(
            action_space, gym.spaces.Discrete
        ):
            raise TypeError(
                "TabularPolicy needs Discrete state and action spaces, got "
                f"{state_space} and {action_space}.",
            )
        super().__init__(state_space, action_space)  # type: ignore[arg-type]
        self.rng = util.check_rng(rng)
        self.set_pi(pi)

    def set_pi(self, pi: np.ndarray) -> None:
        """Replace the action probabilities.

        Raises:
            ValueError: If ``pi`` has the wrong shape or its rows do not sum to 1.
        """
        n_states = int(self.observation_space.n)  # type: ignore[attr-defined]
        n_actions = int(self.action_space.n)  # type: ignore[attr-defined]
        if pi.ndim != 3 or pi.shape[1:] != (n_states, n_actions):
            raise ValueError(
                f"pi has shape {pi.shape}; expected (horizon, {n_states}, "
                f"{n_actions}).",
            )
        if not np.allclose(pi.sum(axis=-1), 1.0, atol=1e-5) or (pi < 0).any():
            raise ValueError(
                "pi[t, s] must be a probability distribution over actions."
            )
        self.pi = pi
        # Cumulative probabilities, last column forced to 1: sampling is then
        # one comparison against a uniform draw per environment.
        cdf = np.cumsum(pi, axis=-1)
        cdf[..., -1] = 1.0
        self._cdf = cdf

    def _predict(self, observation: Any, deterministic: bool = False) -> th.Tensor:
        """Refused: the policy depends on the timestep, which only ``predict`` has.

        Raises:
            TypeError: Always; call :meth:`predict` with ``state`` and
                ``episode_start`` instead.
        """
        raise TypeError(
            "TabularPolicy is time-dependent: call predict(obs, state, "
            "episode_start) so it can track each environment's timestep.",
        )

    def predict(
        self,
        observation: Any,
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """Actions for a batch of states.

        Args:
            observation: State indices, shape ``(n_envs,)`` (or a single int).
            state: ``(timesteps,)`` returned by the previous call, or None at
                the start (every environment at step 0).
            episode_start: Environments whose episode starts now (their
                timestep is reset to 0).
            deterministic: Take the most likely action instead of sampling.

        Returns:
            The actions, and the new recurrent state ``(timesteps,)``.

        Raises:
            ValueError: If an observation is not a valid state index.
        """
        obs = np.asarray(observation)
        single = obs.ndim == 0
        states = obs.reshape(-1)
        n_states = self._cdf.shape[1]
        if states.dtype.kind not in "iu" or (
            len(states) and (states.min() < 0 or states.max() >= n_states)
        ):
            raise ValueError(
                "TabularPolicy observations must be state indices in "
                f"[0, {n_states}); got {obs!r}. Wrap the environment in "
                "seals.base_envs.ExposePOMDPStateWrapper to observe states.",
            )
        if state is None:
            timesteps = np.zeros(len(states), dtype=np.int64)
        else:
            timesteps = np.array(state[0], dtype=np.int64)
        if episode_start is not None:
            timesteps[np.asarray(episode_start, dtype=bool).reshape(-1)] = 0
        t = np.minimum(timesteps, len(self.pi) - 1)
        if deterministic:
            actions = self.pi[t, states].argmax(axis=-1)
        else:
            draws = self.rng.random(len(states))
            actions = (self._cdf[t, states] < draws[:, None]).sum(axis=-1)
        if single:
            return actions[0], (timesteps + 1,)
        return actions, (timesteps + 1,)
