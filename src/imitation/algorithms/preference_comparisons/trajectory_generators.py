"""Where the trajectories that preferences are asked about come from.

A :class:`TrajectoryGenerator` hands out trajectories with their true rewards
(``sample``) and may improve the behaviour it samples from (``train``).
:class:`TrajectoryDataset` samples from a fixed set of trajectories;
:class:`AgentTrainer` trains an SB3 agent on the learned reward and samples
from it, with a fraction of exploratory (partly random) behaviour.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from stable_baselines3.common import base_class
from stable_baselines3.common.vec_env import VecEnv

from imitation.algorithms import learner_on_reward
from imitation.data import rollout, types, wrappers
from imitation.policies.exploration_wrapper import ExplorationWrapper
from imitation.rewards import reward_function, reward_nets
from imitation.util import logger as imit_logger
from imitation.util import util


def _check_steps(steps: int) -> None:
    if steps < 0:
        raise ValueError(f"steps={steps} must not be negative.")


class TrajectoryGenerator(imit_logger.LoggingComponent, abc.ABC):
    """Produces trajectories (with true rewards) to cut fragments from."""

    def __init__(self, custom_logger: imit_logger.HierarchicalLogger | None = None):
        """Set up logging.

        Args:
            custom_logger: Where to log to; if None, a new logger is created.
        """
        self._logger = custom_logger or imit_logger.configure()

    @abc.abstractmethod
    def sample(self, steps: int) -> Sequence[types.TrajectoryWithRew]:
        """Trajectories with at least ``steps`` transitions in total, if possible.

        Args:
            steps: Number of transitions wanted.

        Returns:
            Trajectories with rewards (the ground truth, for synthetic
            preferences).
        """

    def train(self, steps: int, **kwargs: Any) -> None:
        """Improve the behaviour sampled from; a fixed dataset does nothing.

        Args:
            steps: Number of environment steps to train for.
            kwargs: Options of particular generators.
        """
        del steps, kwargs

    @contextlib.contextmanager
    def training_run(self, total_steps: int) -> Iterator[None]:
        """Mark ``train`` calls as parts of one run of ``total_steps`` steps.

        A generator with a learner uses it to run the learner's schedules
        (learning rate, clip range, exploration) once over the whole run
        rather than once per call; by default it does nothing.

        Args:
            total_steps: Environment steps of the whole run.
        """
        del total_steps
        yield


class TrajectoryDataset(TrajectoryGenerator):
    """Samples whole trajectories, without replacement, from a fixed set."""

    def __init__(
        self,
        trajectories: Sequence[types.TrajectoryWithRew],
        rng: np.random.Generator,
        custom_logger: imit_logger.HierarchicalLogger | None = None,
    ) -> None:
        """Hold ``trajectories``.

        Args:
            trajectories: The trajectories, with rewards.
            rng: Chooses which trajectories each sample holds.
            custom_logger: Where to log to; if None, a new logger is created.

        Raises:
            ValueError: If ``trajectories`` is empty.
            TypeError: If a trajectory has no rewards.
        """
        super().__init__(custom_logger=custom_logger)
        self._trajectories = list(trajectories)
        if not self._trajectories:
            raise ValueError("TrajectoryDataset needs at least one trajectory.")
        if not all(isinstance(t, types.TrajectoryWithRew) for t in self._trajectories):
            raise TypeError(
                "TrajectoryDataset needs trajectories with rewards "
                "(types.TrajectoryWithRew), e.g. from rollout.rollout or "
                "serialize.load_with_rewards.",
            )
        self._lengths = np.array([len(t) for t in self._trajectories])
        self.rng = util.check_rng(rng)

    def sample(self, steps: int) -> Sequence[types.TrajectoryWithRew]:
        """Random trajectories whose lengths add up to at least ``steps``.

        If the whole dataset holds fewer transitions, all of it is returned
        (in random order) and a message is logged.

        Raises:
            ValueError: If ``steps`` is negative.
        """
        _check_steps(steps)
        order = self.rng.permutation(len(self._trajectories))
        cumulative = np.cumsum(self._lengths[order])
        n = int(np.searchsorted(cumulative, steps)) + 1
        if n > len(order):
            self.logger.log(
                f"Requested {steps} transitions but the dataset has only "
                f"{int(cumulative[-1])}; returning all of them.",
            )
        return [self._trajectories[i] for i in order[:n]]


class AgentTrainer(TrajectoryGenerator):
    """Trains an SB3 agent on the learned reward; samples its behaviour.

    The agent is trained in ``venv`` with the reward replaced by ``reward_fn``
    (see :class:`~imitation.algorithms.learner_on_reward.LearnerOnReward`); an
    off-policy agent's replayed transitions carry the current ``reward_fn``.
    Complete episodes from its latest training phase are kept (with their true
    rewards) and handed out first by :meth:`sample`; more are generated with
    the agent when they do not suffice. A fraction ``exploration_frac`` of the
    sampled transitions comes from an :class:`ExplorationWrapper` around the
    agent, which acts at random some of the time.
    """

    _logger_shared_with = ("algorithm",)

    def __init__(
        self,
        algorithm: base_class.BaseAlgorithm,
        reward_fn: reward_function.RewardFn | reward_nets.RewardNet,
        venv: VecEnv,
        rng: np.random.Generator,
        exploration_frac: float = 0.0,
        switch_prob: float = 0.5,
        random_prob: float = 0.5,
        custom_logger: imit_logger.HierarchicalLogger | None = None,
    ) -> None:
        """Set up the agent's training environment.

        Args:
            algorithm: The SB3 agent; its environment is replaced by ``venv``
                with the learned reward.
            reward_fn: The learned reward: a reward net (its
                ``predict_processed`` is used) or a reward function.
            venv: The environment, with its true reward.
            rng: Seeds sampling and exploration.
            exploration_frac: Fraction of sampled transitions that come from
                exploratory behaviour.
            switch_prob: Per-step probability that exploration re-chooses
                between the agent and random actions.
            random_prob: Probability of choosing random actions when it does.
            custom_logger: Where to log to; if None, a new logger is created.

        Raises:
            ValueError: If a probability is outside [0, 1], ``venv`` has a
                different number of envs than the agent was built for, or an
                off-policy agent's replay buffer cannot be relabelled (n-step,
                HER).
            TypeError: If ``venv`` is not a ``VecEnv`` or ``rng`` not a numpy
                ``Generator``.
        """
        self.venv = util.check_vec_env(venv)
        self.rng = util.check_rng(rng)
        for name, p in (
            ("exploration_frac", exploration_frac),
            ("switch_prob", switch_prob),
            ("random_prob", random_prob),
        ):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name}={p} must be in [0, 1].")
        n_envs = getattr(algorithm, "n_envs", None)  # unset if built without env
        if n_envs is not None and n_envs != venv.num_envs:
            raise ValueError(
                f"The agent was built for {n_envs} envs but venv has "
                f"{venv.num_envs}: build it on the same venv.",
            )
        self.algorithm = algorithm
        self.reward_fn: reward_function.RewardFn = (
            reward_fn.predict_processed
            if isinstance(reward_fn, reward_nets.RewardNet)
            else reward_fn
        )
        self.exploration_frac = exploration_frac
        self.switch_prob = switch_prob
        self.random_prob = random_prob
        self.buffering_wrapper = wrappers.BufferingWrapper(
            venv, error_on_premature_reset=False
        )
        self._episodes: list[types.TrajectoryWithRew] = []
        super().__init__(custom_logger=custom_logger)
        self._learner = learner_on_reward.LearnerOnReward(
            algorithm,
            self.buffering_wrapper,
            self.reward_fn,
            self.logger,
            log_name="agent",
        )
        self.venv_wrapped = self._learner.venv_wrapped
        self.log_callback = self._learner.log_callback

    @contextlib.contextmanager
    def training_run(self, total_steps: int) -> Iterator[None]:
        """Run the agent's schedules once over ``total_steps``, across calls.

        Inside, each :meth:`train` call continues the agent's schedules where
        the previous one left them (see
        :class:`~imitation.util.sb3_compat.RunProgress`);
        :class:`PreferenceComparisons` wraps its iterations in this. Outside,
        each call is a ``learn`` call of its own, as in SB3.

        Args:
            total_steps: Environment steps of the whole run.
        """
        with self._learner.training_run(max(1, total_steps)):
            yield

    def train(self, steps: int, **kwargs: Any) -> None:
        """Train the agent on the learned reward for ``steps`` env steps.

        Its complete episodes from this phase replace the kept ones. Logged
        under ``agent/`` (raw values, and means in the main logger).

        Args:
            steps: Environment steps.
            kwargs: Passed to the agent's ``learn``.

        Raises:
            ValueError: If ``steps`` is negative.
        """
        _check_steps(steps)
        self._learner.learn(steps, **kwargs)
        self._episodes = list(self.buffering_wrapper.pop_finished_trajectories()[0])

    def sample(self, steps: int) -> Sequence[types.TrajectoryWithRew]:
        """Trajectories of the agent (and some exploration), ``steps`` in total.

        Kept episodes from the last training phase come first (most recent
        first); if they hold fewer than the agent's share of ``steps``, more
        are generated with the agent (its stochastic policy).

        Raises:
            ValueError: If ``steps`` is negative.
        """
        _check_steps(steps)
        exploration_steps = int(round(self.exploration_frac * steps))
        agent_steps = steps - exploration_steps
        kept = self._take_kept(agent_steps)
        n_kept = sum(len(t) for t in kept)
        trajectories = list(kept)
        if n_kept < agent_steps:
            self.logger.log(
                f"Requested {agent_steps} transitions but only {n_kept} in buffer. "
                f"Sampling {agent_steps - n_kept} additional transitions.",
            )
            trajectories += self._generate(self.algorithm, agent_steps - n_kept)
        if exploration_steps > 0:
            self.logger.log(f"Sampling {exploration_steps} exploratory transitions.")
            explorer = ExplorationWrapper(
                self.algorithm,
                self.venv,
                random_prob=self.random_prob,
                switch_prob=self.switch_prob,
                rng=self.rng,
            )
            trajectories += self._generate(explorer, exploration_steps)
        return trajectories

    def _take_kept(self, steps: int) -> list[types.TrajectoryWithRew]:
        taken: list[types.TrajectoryWithRew] = []
        total = 0
        for traj in reversed(self._episodes):
            if total >= steps:
                break
            taken.append(traj)
            total += len(traj)
        return taken

    def _generate(
        self, policy: rollout.AnyPolicy, steps: int
    ) -> list[types.TrajectoryWithRew]:
        # Sampling resets the shared venv: the agent's next training phase
        # starts from fresh episodes.
        self._learner.restart_episodes()
        return list(
            rollout.generate_trajectories(
                policy,
                self.venv,
                rollout.make_min_timesteps(max(1, steps)),
                rng=self.rng,
            ),
        )
