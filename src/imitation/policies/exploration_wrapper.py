"""A policy that sometimes acts uniformly at random, for exploration.

Preference comparisons uses it to make a fraction (``exploration_frac``) of the
agent's fragments come from random behaviour::

    wrapper = ExplorationWrapper(agent, venv, random_prob=0.5, switch_prob=0.5,
                                 rng=rng)
    trajs = rollout.generate_trajectories(wrapper, venv, sample_until, rng=rng)
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv

from imitation.data import rollout
from imitation.policies import base


class ExplorationWrapper:
    """Per env, act either with the wrapped policy or uniformly at random.

    Each env is in one of two modes, "policy" or "random". When a mode is
    chosen, random is picked with probability ``random_prob``. A mode is chosen
    for every env at construction and at the start of each episode; on every
    other step each env independently chooses again with probability
    ``switch_prob`` (so it keeps a mode for ``1 / switch_prob`` steps on
    average, and may choose the same mode again).

    The wrapped policy is queried for all envs at every step, so a recurrent
    policy's state stays consistent; its actions are then overridden in the
    envs in random mode. Every random choice (modes and random actions) comes
    from ``rng``, so a fixed seed gives the same behaviour.

    Attributes:
        is_random: Boolean mask, shape ``(num_envs,)``: which envs acted at
            random at the last step (before the first step: the initial modes).
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
            policy: The policy to explore around, in any form
                ``rollout.policy_to_callable`` accepts (None: uniformly random,
                drawn from ``rng``).
            venv: The environment the wrapper acts in.
            random_prob: Probability of random mode each time a mode is chosen.
            switch_prob: Per-step probability that an env chooses its mode again.
            rng: Source of every random decision; also seeds the random actions.
            deterministic_policy: Act with the wrapped SB3 policy's most likely
                action.

        Raises:
            ValueError: If ``random_prob`` or ``switch_prob`` is outside [0, 1].
        """
        for name, p in (("random_prob", random_prob), ("switch_prob", switch_prob)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {p}.")
        self.random_prob = random_prob
        self.switch_prob = switch_prob
        self.rng = rng
        self.num_envs = venv.num_envs
        # A private copy, seeded from rng, leaves the env's own space untouched.
        self._action_space = copy.deepcopy(venv.action_space)
        self._action_space.seed(int(rng.integers(0, 2**31 - 1)))
        if policy is None:
            policy = base.RandomPolicy(
                venv.observation_space,
                venv.action_space,
                rng=rng,
            )
        self.wrapped_policy = rollout.policy_to_callable(
            policy,
            venv,
            deterministic_policy,
        )
        self.is_random = self.rng.random(self.num_envs) < self.random_prob

    def __call__(
        self,
        obs: Any,
        state: Any,
        episode_start: np.ndarray | None,
    ) -> tuple[np.ndarray, Any]:
        """Act in every env.

        Args:
            obs: Batch of observations, one per env.
            state: Recurrent state of the wrapped policy (None if it has none).
            episode_start: Boolean mask of envs starting an episode (None:
                treated as all False).

        Returns:
            The actions, shape ``(num_envs,) + action_shape``, and the wrapped
            policy's new state.
        """
        rechoose = self.rng.random(self.num_envs) < self.switch_prob
        if episode_start is not None:
            rechoose |= np.asarray(episode_start, dtype=bool)
        choice = self.rng.random(self.num_envs) < self.random_prob
        self.is_random = np.where(rechoose, choice, self.is_random)

        return self._act_in_modes(obs, state, episode_start)

    @property
    def current_policy(self) -> rollout.PolicyCallable:
        """The policy acting in the current modes, without choosing them again.

        A callable ``(obs, state, episode_start) -> (actions, state)`` that acts
        at random in the envs whose mode is random (:attr:`is_random`) and with
        the wrapped policy in the others. Calling the wrapper itself first
        re-chooses modes, then acts as this policy does.
        """
        return self._act_in_modes

    def _act_in_modes(
        self,
        obs: Any,
        state: Any,
        episode_start: np.ndarray | None,
    ) -> tuple[np.ndarray, Any]:
        acts, state = self.wrapped_policy(obs, state, episode_start)
        n_random = int(self.is_random.sum())
        if n_random:
            acts = np.array(acts, copy=True)
            acts[self.is_random] = np.stack(
                [self._action_space.sample() for _ in range(n_random)],
            )
        return acts, state
