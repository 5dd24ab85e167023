"""A policy that sometimes acts at random, for exploration."""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv

from imitation.data import rollout


class ExplorationWrapper:
    """Per env, act either with the wrapped policy or uniformly at random.

    Each env is in one of two modes. At every step, each env independently
    switches with probability ``switch_prob``; when it does (and at the start of
    each episode) it picks random mode with probability ``random_prob``. Call it
    like any batched policy: ``wrapper(obs, state, episode_start)``.
    """

    def __init__(
        self,
        policy: rollout.AnyPolicy,
        venv: VecEnv,
        random_prob: float,
        switch_prob: float,
        rng: np.random.Generator,
        deterministic_policy: bool = False,
    ) -> None:
        """Wrap ``policy``.

        Args:
            policy: The policy to explore around (see ``rollout.policy_to_callable``).
            venv: The environment it acts in.
            random_prob: Probability of random mode when a mode is chosen.
            switch_prob: Per-step probability of choosing the mode again.
            rng: Generator for the mode choices and the random actions.
            deterministic_policy: Act with the policy's most likely action.

        Raises:
            ValueError: If a probability is outside [0, 1].
        """
        for name, p in (("random_prob", random_prob), ("switch_prob", switch_prob)):
            if not 0 <= p <= 1:
                raise ValueError(f"{name}={p} must be in [0, 1].")
        self.wrapped_policy = rollout.policy_to_callable(
            policy, venv, deterministic_policy
        )
        self.random_prob = random_prob
        self.switch_prob = switch_prob
        self.rng = rng
        self.action_space = venv.action_space
        self.action_space.seed(int(rng.integers(0, 2**31 - 1)))
        self.num_envs = venv.num_envs
        self.is_random = self.rng.random(self.num_envs) < random_prob

    def _random_actions(self, n: int) -> np.ndarray:
        return np.stack([self.action_space.sample() for _ in range(n)])

    def __call__(
        self,
        obs: Any,
        state: Any,
        episode_start: np.ndarray | None,
    ) -> tuple[np.ndarray, Any]:
        """Actions for a batch of observations, one per env."""
        rechoose = self.rng.random(self.num_envs) < self.switch_prob
        if episode_start is not None:
            rechoose |= np.asarray(episode_start, dtype=bool)
        self.is_random = np.where(
            rechoose,
            self.rng.random(self.num_envs) < self.random_prob,
            self.is_random,
        )
        acts, state = self.wrapped_policy(obs, state, episode_start)
        if self.is_random.any():
            acts = np.array(acts, copy=True)
            acts[self.is_random] = self._random_actions(int(self.is_random.sum()))
        return acts, state
