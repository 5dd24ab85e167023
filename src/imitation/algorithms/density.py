"""Density-based reward modelling: reward is the log-density of the expert's data.

A kernel density estimate (scikit-learn's ``KernelDensity``) is fitted to the
demonstrations' states, state-action pairs or state-next-state pairs (dict
observations are featurised key by key and concatenated in sorted key
order); the
reward of a transition is its log-likelihood under that estimate, so the
agent is paid for doing what the expert was seen doing. With
``is_stationary=False`` there is one estimate per timestep, which rewards
following the expert's trajectories in time rather than sitting in the
states the expert visited most.

:class:`DensityAlgorithm` is itself a reward function (``RewardFn``), and
optionally trains an SB3 algorithm on it in :attr:`DensityAlgorithm.venv_wrapped`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from sklearn.neighbors import KernelDensity
from sklearn.preprocessing import StandardScaler
from stable_baselines3.common import base_class, policies
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from imitation.algorithms import base as algo_base
from imitation.algorithms import learner_on_reward
from imitation.data import rollout, types
from imitation.rewards import reward_wrapper
from imitation.rewards.reward_nets import base as reward_nets
from imitation.util import logger as imit_logger
from imitation.util import progress, util

KERNELS = ("gaussian", "tophat", "epanechnikov", "exponential", "linear", "cosine")
"""The kernels scikit-learn's ``KernelDensity`` supports."""


class DensityType(enum.Enum):
    """What the density is estimated over."""

    STATE_DENSITY = enum.auto()
    """p(s): the state a transition starts in."""
    STATE_ACTION_DENSITY = enum.auto()
    """p(s, a): the state and the action taken."""
    STATE_STATE_DENSITY = enum.auto()
    """p(s, s'): the state and the next state."""


STATE_DENSITY = DensityType.STATE_DENSITY
STATE_ACTION_DENSITY = DensityType.STATE_ACTION_DENSITY
STATE_STATE_DENSITY = DensityType.STATE_STATE_DENSITY


def _flatten_batch(space: gym.Space, values: Any, name: str) -> np.ndarray:
    """A batch from ``space`` as float features, shape ``(batch, n_features)``.

    Box and MultiBinary values are flattened; Discrete and MultiDiscrete
    values are one-hot encoded, so distances between them are meaningful.
    ``Dict`` values (a mapping or ``DictObs``) are featurised key by key and
    concatenated in sorted key order; with ``standardise_inputs`` every
    feature, hence every key, is then scaled on its own.

    Raises:
        TypeError: For unsupported spaces (or a non-dict batch of a Dict space).
        ValueError: If a dict batch's keys or per-key shapes do not fit the space.
    """
    if isinstance(space, gym.spaces.Dict):
        if not isinstance(values, types.DictObs | Mapping):
            raise TypeError(
                f"The {name} space is a Dict space; pass a dict of arrays or a "
                f"DictObs, not {type(values).__name__}.",
            )
        if isinstance(values, types.DictObs):
            values = values.unwrap()
        reward_nets.check_dict_obs(values, space, name)
        return np.concatenate(
            [
                _flatten_batch(space[key], values[key], f"{name}[{key!r}]")
                for key in reward_nets.dict_keys(space)
            ],
            axis=1,
        )
    arr = np.asarray(values)
    if isinstance(space, gym.spaces.Box | gym.spaces.MultiBinary):
        return arr.reshape(len(arr), -1).astype(np.float64, copy=False)
    if isinstance(space, gym.spaces.Discrete):
        return np.eye(int(space.n))[arr.reshape(-1) - int(space.start)]
    if isinstance(space, gym.spaces.MultiDiscrete):
        flat = arr.reshape(len(arr), -1)
        return np.concatenate(
            [np.eye(int(n))[flat[:, i]] for i, n in enumerate(space.nvec.reshape(-1))],
            axis=1,
        )
    raise TypeError(
        f"DensityAlgorithm supports Box, Discrete, MultiDiscrete and MultiBinary "
        f"{name} spaces, not {space}.",
    )


class _EpisodeClock(VecEnvWrapper):
    """Counts each environment's timestep, for per-timestep densities.

    After a step, :attr:`last_timesteps` holds the timestep of the transition
    just taken; lengths of finished episodes are kept for the horizon check.
    """

    def __init__(self, venv: VecEnv) -> None:
        super().__init__(venv)
        self._t = np.zeros(venv.num_envs, dtype=np.int64)
        self.last_timesteps = np.zeros(venv.num_envs, dtype=np.int64)
        self.finished_lengths: list[int] = []

    def reset(self, **kwargs: Any) -> Any:
        self._t[:] = 0
        return self.venv.reset(**kwargs)

    def step_async(self, actions: np.ndarray) -> None:
        self.venv.step_async(actions)

    def step_wait(self) -> Any:
        obs, rews, dones, infos = self.venv.step_wait()
        self.last_timesteps = self._t.copy()
        self._t += 1
        if dones.any():
            self.finished_lengths.extend(self._t[dones].tolist())
            self._t[dones] = 0
        return obs, rews, dones, infos

    def pop_finished_lengths(self) -> list[int]:
        lengths, self.finished_lengths = self.finished_lengths, []
        return lengths


class DensityAlgorithm(algo_base.DemonstrationAlgorithm[types.TransitionsMinimal]):
    """Reward from a kernel density estimate of the demonstrations.

    ``transitions`` maps each timestep (``None`` when stationary) to the
    demonstration features the density for it is fitted on. Calling the
    object on a batch ``(state, action, next_state, done)`` returns the
    log-densities as rewards.

    A simple IRL baseline of this library (Gleave et al., "imitation: Clean
    Imitation Learning Implementations", 2022, https://arxiv.org/abs/2211.11972):
    states or state-action pairs the expert visits often are rewarded.
    """

    _logger_shared_with = ("rl_algo",)

    transitions: dict[int | None, np.ndarray]
    venv: VecEnv
    venv_wrapped: reward_wrapper.RewardVecEnvWrapper
    wrapper_callback: reward_wrapper.WrappedRewardCallback

    def __init__(
        self,
        *,
        demonstrations: algo_base.AnyTransitions | None,
        venv: VecEnv,
        rng: np.random.Generator,
        density_type: DensityType = DensityType.STATE_ACTION_DENSITY,
        kernel: str = "gaussian",
        kernel_bandwidth: float = 0.5,
        rl_algo: base_class.BaseAlgorithm | None = None,
        is_stationary: bool = True,
        standardise_inputs: bool = True,
        custom_logger: imit_logger.HierarchicalLogger | None = None,
        allow_variable_horizon: bool = False,
    ) -> None:
        """Build the density model (fit it with :meth:`train`).

        Args:
            demonstrations: Expert trajectories, or transitions (only with
                ``is_stationary=True``; ``STATE_STATE_DENSITY`` needs
                ``types.Transitions`` with next observations).
            venv: The environment: its spaces define the features, and
                ``rl_algo`` is trained in it (with the density reward).
            rng: Generator for the evaluation rollouts of :meth:`test_policy`.
            density_type: Estimate p(s), p(s, a) or p(s, s').
            kernel: A ``KernelDensity`` kernel (see :data:`KERNELS`). Compact
                kernels (all but gaussian and exponential) give reward
                ``-inf`` outside the data's support.
            kernel_bandwidth: Kernel bandwidth; with standardised inputs and
                a Gaussian kernel, values between 0.1 and 1 are sensible.
            rl_algo: An SB3 algorithm to train on the learned reward (optional).
                Its environment is replaced by :attr:`venv_wrapped`.
            is_stationary: One density for all timesteps (True), or one per
                timestep (False; demonstrations must then be trajectories).
            standardise_inputs: Scale each feature to zero mean and unit
                variance over the demonstrations before estimating densities.
            custom_logger: Where to log to; if None, a new logger is created.
            allow_variable_horizon: Accept episodes of different lengths (see
                ``docs/variable-horizon.md`` for why this is dangerous).

        Raises:
            ValueError: If ``kernel`` is unknown, ``kernel_bandwidth`` is not
                positive, ``density_type`` is not a ``DensityType``, or the
                demonstrations are invalid (see :meth:`set_demonstrations`).
            TypeError: If ``venv``'s spaces are not supported.
        """
        if not isinstance(density_type, DensityType):
            raise ValueError(
                f"density_type must be a DensityType, got {density_type!r}.",
            )
        if kernel not in KERNELS:
            raise ValueError(f"Unknown kernel {kernel!r}; choose one of {KERNELS}.")
        if not (np.isfinite(kernel_bandwidth) and kernel_bandwidth > 0):
            raise ValueError(
                "kernel_bandwidth must be positive and finite, got "
                f"{kernel_bandwidth}.",
            )
        self.venv = util.check_vec_env(venv)
        self.rng = util.check_rng(rng)
        self.density_type = density_type
        self.kernel = kernel
        self.kernel_bandwidth = kernel_bandwidth
        self.is_stationary = is_stationary
        self.standardise = standardise_inputs
        self.transitions = {}
        self._models: dict[int | None, KernelDensity] = {}
        self._scaler: StandardScaler | None = None
        # Fail early on unsupported spaces, not at the first reward call.
        probe = types.stack_maybe_dictobs([venv.observation_space.sample()])
        _flatten_batch(venv.observation_space, probe, "observation")
        _flatten_batch(
            venv.action_space, np.stack([venv.action_space.sample()]), "action"
        )
        super().__init__(
            demonstrations=None,
            custom_logger=custom_logger,
            allow_variable_horizon=allow_variable_horizon,
        )
        self._clock = _EpisodeClock(venv)
        self._learner: learner_on_reward.LearnerOnReward | None = None
        if rl_algo is None:
            self.venv_wrapped = reward_wrapper.RewardVecEnvWrapper(
                self._clock, self._wrapped_reward
            )
            self.wrapper_callback = self.venv_wrapped.make_log_callback()
        else:
            # The reward stays fixed while rl_algo trains (only train() refits
            # it), so replayed transitions keep the rewards they were stored
            # with; relabelling them would also need each one's timestep.
            self._learner = learner_on_reward.LearnerOnReward(
                rl_algo, self._clock, self._wrapped_reward, self.logger, relabel=False
            )
            wrapped, callback = self._learner.venv_wrapped, self._learner.log_callback
            assert isinstance(wrapped, reward_wrapper.RewardVecEnvWrapper)
            assert callback is not None
            self.venv_wrapped, self.wrapper_callback = wrapped, callback
        if demonstrations is not None:
            self.set_demonstrations(demonstrations)

    def _features(self, obs: Any, acts: Any, next_obs: Any) -> np.ndarray:
        parts = [_flatten_batch(self.venv.observation_space, obs, "observation")]
        if self.density_type is DensityType.STATE_ACTION_DENSITY:
            parts.append(_flatten_batch(self.venv.action_space, acts, "action"))
        elif self.density_type is DensityType.STATE_STATE_DENSITY:
            parts.append(
                _flatten_batch(self.venv.observation_space, next_obs, "observation")
            )
        return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]

    def set_demonstrations(self, demonstrations: algo_base.AnyTransitions) -> None:
        """Set the data the densities are fitted on (call :meth:`train` after).

        Args:
            demonstrations: In any accepted form (see
                :func:`imitation.algorithms.base.normalize_demonstrations`);
                batches are concatenated.

        Raises:
            ValueError: If they are empty, do not fit ``venv``'s spaces, are
                not trajectories while ``is_stationary`` is False, lack next
                observations needed by ``STATE_STATE_DENSITY``, or have
                episodes of different lengths (unless allowed).
            TypeError: If they are none of the accepted forms.
        """
        demos = self._normalize_demonstrations(
            demonstrations, self.venv.observation_space, self.venv.action_space
        )
        if not self.is_stationary and demos.trajectories is None:
            raise ValueError(
                "is_stationary=False fits one density per timestep, but transitions "
                "carry no timesteps: pass trajectories instead.",
            )
        flat = demos.transitions
        next_obs = getattr(flat, "next_obs", None)
        if self.density_type is DensityType.STATE_STATE_DENSITY and next_obs is None:
            raise ValueError(
                "STATE_STATE_DENSITY needs next observations, which these "
                f"demonstrations ({type(demonstrations).__name__}) lack: pass "
                "trajectories, types.Transitions, or batches with 'next_obs' and "
                "'dones'.",
            )
        features = self._features(flat.obs, flat.acts, next_obs)
        if self.is_stationary:
            self.transitions = {None: features}
            return
        timesteps = np.concatenate([np.arange(n) for n in demos.episode_lengths])
        order = np.argsort(timesteps, kind="stable")
        bounds = np.cumsum(np.bincount(timesteps))[:-1]
        self.transitions = dict(enumerate(np.split(features[order], bounds)))

    def train(self, progress_bar: bool = True) -> None:
        """Fit the density model(s) to the demonstrations.

        With ``standardise_inputs``, one scaling (fit on all demonstrations)
        is shared by every timestep's model.

        Args:
            progress_bar: Show a bar of the models fitted (in a terminal only).

        Raises:
            ValueError: If no demonstrations were set.
        """
        if not self.transitions:
            raise ValueError("No demonstrations: call set_demonstrations() first.")
        data = self.transitions
        self._scaler = None
        if self.standardise:
            self._scaler = StandardScaler().fit(np.concatenate(list(data.values())))
            data = {t: self._scaler.transform(x) for t, x in data.items()}
        # Ball tree with large leaves: measured fastest for scoring thousands
        # of low-dimensional points at the bandwidths used here.
        self._models = {}
        with progress.progress_bar(
            len(data), desc="DensityAlgorithm", unit="model", enabled=progress_bar
        ) as bar:
            for t, x in data.items():
                self._models[t] = KernelDensity(
                    kernel=self.kernel,
                    bandwidth=self.kernel_bandwidth,
                    algorithm="ball_tree",
                    leaf_size=100,
                ).fit(x)
                bar.update(1)

    def __call__(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
        steps: np.ndarray | None = None,
    ) -> np.ndarray:
        """Rewards (log-densities) for a batch of transitions.

        Args:
            state: Observations, shape ``(batch,) + obs_shape``.
            action: Actions, shape ``(batch,) + act_shape``.
            next_state: Next observations, like ``state``.
            done: Episode-end flags, shape ``(batch,)`` (unused).
            steps: Timestep of each transition; required when not stationary.

        Returns:
            The log-density of each transition, shape ``(batch,)``.

        Raises:
            ValueError: If :meth:`train` has not been called, ``steps`` is
                missing for a non-stationary model, or a timestep has no
                density (it is beyond the demonstrations' episodes).
        """
        del done
        if not self._models:
            raise ValueError("The density model is not fitted: call train() first.")
        features = self._features(state, action, next_state)
        if self._scaler is not None:
            features = self._scaler.transform(features)
        if self.is_stationary:
            return self._models[None].score_samples(features)
        if steps is None:
            raise ValueError(
                "A non-stationary density model needs the timestep of each "
                "transition: pass steps=...",
            )
        steps = np.asarray(steps).reshape(-1)
        rewards = np.empty(len(features))
        for t in np.unique(steps).tolist():
            model = self._models.get(int(t))
            if model is None:
                raise ValueError(
                    f"No density for timestep {t}: the demonstrations' episodes "
                    f"cover timesteps 0..{len(self._models) - 1}.",
                )
            rows = steps == t
            rewards[rows] = model.score_samples(features[rows])
        return rewards

    def _wrapped_reward(
        self, state: Any, action: np.ndarray, next_state: Any, done: np.ndarray
    ) -> np.ndarray:
        return self(state, action, next_state, done, steps=self._clock.last_timesteps)

    @property
    def rl_algo(self) -> base_class.BaseAlgorithm | None:
        """The SB3 algorithm trained on the learned reward, if one was given."""
        return None if self._learner is None else self._learner.algorithm

    def _require_learner(self) -> learner_on_reward.LearnerOnReward:
        if self._learner is None:
            raise ValueError(
                "This DensityAlgorithm has no rl_algo: pass one (e.g. a PPO "
                "instance) to the constructor to train or test a policy.",
            )
        return self._learner

    @property
    def policy(self) -> policies.BasePolicy:
        """The policy of ``rl_algo``.

        Raises:
            ValueError: If there is no ``rl_algo``.
        """
        return self._require_learner().algorithm.policy

    def train_policy(self, n_timesteps: int = int(1e6), **kwargs: Any) -> None:
        """Train ``rl_algo`` on the learned reward for ``n_timesteps`` env steps.

        Args:
            n_timesteps: Number of environment steps.
            kwargs: Passed to ``rl_algo.learn`` (a ``callback`` is combined with
                the one logging the learned-reward return).

        Raises:
            ValueError: If there is no ``rl_algo``, or the episodes seen have
                different lengths (unless allowed).
        """
        self._require_learner().learn(n_timesteps, **kwargs)
        self._check_fixed_horizon(self._clock.pop_finished_lengths())

    def test_policy(
        self, *, n_trajectories: int = 10, true_reward: bool = True
    ) -> Mapping[str, float]:
        """Roll out the current policy and summarise its episodes.

        Args:
            n_trajectories: Minimum number of episodes to collect.
            true_reward: Report the environment's reward (True) or the learned
                one (False).

        Returns:
            Statistics from :func:`imitation.data.rollout.rollout_stats`.

        Raises:
            ValueError: If there is no ``rl_algo``, or the episodes have
                different lengths (unless allowed).
        """
        learner = self._require_learner()
        venv = self._clock if true_reward else self.venv_wrapped
        trajs = rollout.generate_trajectories(
            learner.algorithm,
            venv,
            rollout.make_min_episodes(n_trajectories),
            rng=self.rng,
        )
        # The rollout reset the environment under rl_algo: make its next
        # learn() start from a fresh reset instead of a stale observation.
        learner.restart_episodes()
        self._clock.pop_finished_lengths()
        self._check_fixed_horizon([len(t) for t in trajs])
        return rollout.rollout_stats(trajs)
