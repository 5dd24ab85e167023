"""The preference-comparison loop: sample, compare, fit the reward, train the agent."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from imitation.algorithms import base
from imitation.algorithms.preference_comparisons.fragmenters import (
    Fragmenter,
    RandomFragmenter,
)
from imitation.algorithms.preference_comparisons.preference_model import (
    PreferenceModel,
)
from imitation.algorithms.preference_comparisons.preferences import (
    PreferenceDataset,
    PreferenceGatherer,
    SyntheticGatherer,
)
from imitation.algorithms.preference_comparisons.reward_trainers import (
    BasicRewardTrainer,
    CrossEntropyRewardLoss,
    EnsembleTrainer,
    RewardTrainer,
)
from imitation.algorithms.preference_comparisons.trajectory_generators import (
    TrajectoryGenerator,
)
from imitation.rewards import reward_nets
from imitation.util import logger as imit_logger
from imitation.util import progress, util

QUERY_SCHEDULES: dict[str, Callable[[float], float]] = {
    "constant": lambda t: 1.0,
    "hyperbolic": lambda t: 1.0 / (1.0 + t),
    "inverse_quadratic": lambda t: 1.0 / (1.0 + t) ** 2,
}
"""Named query schedules: relative number of comparisons at training progress t."""


def _nets_of(net: reward_nets.RewardNet) -> list[reward_nets.RewardNet]:
    chain = [net]
    while isinstance(net, reward_nets.RewardNetWrapper):
        net = net.base
        chain.append(net)
    return chain


class PreferenceComparisons(base.BaseImitationAlgorithm):
    """Learns a reward from preferences between trajectory fragments.

    Each of ``num_iterations`` iterations samples trajectories from the
    trajectory generator, cuts them into pairs of fragments, gathers a
    preference for each pair, trains the reward model on all comparisons so
    far, and trains the generator's agent (if any) on the learned reward.
    """

    _logger_shared_with = (
        "reward_trainer",
        "trajectory_generator",
        "fragmenter",
        "preference_gatherer",
    )

    def __init__(
        self,
        trajectory_generator: TrajectoryGenerator,
        reward_model: reward_nets.RewardNet,
        num_iterations: int,
        fragmenter: Fragmenter | None = None,
        preference_gatherer: PreferenceGatherer | None = None,
        reward_trainer: RewardTrainer | None = None,
        comparison_queue_size: int | None = None,
        fragment_length: int = 100,
        transition_oversampling: float = 1,
        initial_comparison_frac: float = 0.1,
        initial_epoch_multiplier: float = 200.0,
        custom_logger: imit_logger.HierarchicalLogger | None = None,
        allow_variable_horizon: bool = False,
        rng: np.random.Generator | None = None,
        query_schedule: str | Callable[[float], float] = "hyperbolic",
    ) -> None:
        """Set up the algorithm; the subcomponents' loggers become this one.

        Args:
            trajectory_generator: Gives trajectories, and trains the agent on
                the learned reward (a fixed dataset trains nothing).
            reward_model: The reward net learned.
            num_iterations: Iterations of sampling, comparing and training.
            fragmenter: Makes fragment pairs (default: ``RandomFragmenter``).
            preference_gatherer: Gives preferences (default:
                ``SyntheticGatherer``, from the true rewards).
            reward_trainer: Trains the reward model (default: cross-entropy
                with ``BasicRewardTrainer``, or ``EnsembleTrainer`` for an
                ensemble).
            comparison_queue_size: Keep at most this many comparisons, the
                newest (None: all).
            fragment_length: Transitions per fragment.
            transition_oversampling: Sample this many times the transitions
                the fragments need (fragments are drawn with replacement).
            initial_comparison_frac: Fraction of ``total_comparisons`` gathered
                before the agent is first trained. Comparisons that the query
                schedule cannot split evenly are added to these.
            initial_epoch_multiplier: The first reward training runs for this
                many times the usual epochs.
            custom_logger: Where to log to; if None, a new logger is created.
            allow_variable_horizon: Accept episodes of different lengths (see
                ``docs/variable-horizon.md`` first).
            rng: Seeds the default subcomponents; required if any is defaulted.
            query_schedule: ``"constant"``, ``"hyperbolic"``,
                ``"inverse_quadratic"``, or a function of training progress
                in [0, 1] giving the relative number of comparisons to gather.

        Raises:
            ValueError: If an argument is out of range, ``query_schedule`` is
                unknown, a default subcomponent is needed without ``rng``, or
                ``reward_trainer`` trains another net than ``reward_model``.
            TypeError: If ``rng`` is given but is not a numpy ``Generator``.
        """
        super().__init__(
            custom_logger=custom_logger, allow_variable_horizon=allow_variable_horizon
        )
        if num_iterations < 1:
            raise ValueError(f"num_iterations={num_iterations} must be positive.")
        if fragment_length < 1:
            raise ValueError(f"fragment_length={fragment_length} must be positive.")
        if rng is not None:
            util.check_rng(rng)
        if not transition_oversampling > 0:
            raise ValueError(
                f"transition_oversampling={transition_oversampling} must be positive.",
            )
        if not 0.0 <= initial_comparison_frac < 1.0:
            raise ValueError(
                f"initial_comparison_frac={initial_comparison_frac} must be in [0, 1).",
            )
        if not initial_epoch_multiplier > 0:
            raise ValueError(
                f"initial_epoch_multiplier={initial_epoch_multiplier} must be "
                "positive.",
            )
        if isinstance(query_schedule, str):
            if query_schedule not in QUERY_SCHEDULES:
                raise ValueError(
                    f"query_schedule={query_schedule!r} is not one of "
                    f"{sorted(QUERY_SCHEDULES)} (or pass a callable).",
                )
            query_schedule = QUERY_SCHEDULES[query_schedule]
        elif not callable(query_schedule):
            raise ValueError(
                "query_schedule must be a schedule name or a callable, got "
                f"{query_schedule!r}.",
            )
        missing = [
            name
            for name, component in (
                ("fragmenter", fragmenter),
                ("preference_gatherer", preference_gatherer),
                ("reward_trainer", reward_trainer),
            )
            if component is None
        ]
        if missing and rng is None:
            raise ValueError(
                f"Pass rng to seed the default {', '.join(missing)} (or pass your "
                "own seeded components).",
            )
        self.model = reward_model
        if reward_trainer is None:
            assert rng is not None
            preference_model = PreferenceModel(reward_model)
            trainer_cls = (
                EnsembleTrainer if preference_model.is_ensemble else BasicRewardTrainer
            )
            reward_trainer = trainer_cls(
                preference_model, CrossEntropyRewardLoss(), rng=rng
            )
        else:
            trained = _nets_of(reward_trainer.preference_model.model)
            if not any(net in trained for net in _nets_of(reward_model)):
                raise ValueError(
                    "reward_trainer trains a different reward net than reward_model: "
                    "build its PreferenceModel on reward_model.",
                )
        self.reward_trainer = reward_trainer
        self.trajectory_generator = trajectory_generator
        self.fragmenter = fragmenter or RandomFragmenter(rng=rng)  # type: ignore[arg-type]
        self.preference_gatherer = preference_gatherer or SyntheticGatherer(rng=rng)
        for component in (
            self.reward_trainer,
            self.trajectory_generator,
            self.fragmenter,
            self.preference_gatherer,
        ):
            component.logger = self.logger
        self.fragment_length = fragment_length
        self.transition_oversampling = transition_oversampling
        self.initial_comparison_frac = initial_comparison_frac
        self.initial_epoch_multiplier = initial_epoch_multiplier
        self.num_iterations = num_iterations
        self.query_schedule = query_schedule
        self.dataset = PreferenceDataset(max_size=comparison_queue_size)
        self._iteration = 0
        self._reward_trained = False

    def comparison_schedule(self, total_comparisons: int) -> list[int]:
        """Comparisons to gather: the initial ones, then those of each iteration.

        Raises:
            ValueError: If ``total_comparisons`` is not positive or the query
                schedule gives negative, non-finite or all-zero values.
        """
        if total_comparisons < 1:
            raise ValueError(
                f"total_comparisons={total_comparisons}: at least one comparison is "
                "needed to learn a reward.",
            )
        progress = np.linspace(0, 1, self.num_iterations)
        weights = np.array([self.query_schedule(t) for t in progress], dtype=float)
        if not np.isfinite(weights).all() or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(
                f"The query schedule gave {weights.tolist()}: values must be finite, "
                "non-negative and not all zero.",
            )
        initial = int(total_comparisons * self.initial_comparison_frac)
        # Largest-remainder rounding: the shares sum to the remaining total.
        shares = util.oric((total_comparisons - initial) * weights / weights.sum())
        return [initial, *shares.tolist()]

    def train(
        self,
        total_timesteps: int,
        total_comparisons: int,
        callback: Callable[[int], None] | None = None,
        progress_bar: bool = True,
    ) -> Mapping[str, Any]:
        """Train the reward model, and the agent if the generator has one.

        Args:
            total_timesteps: Environment steps of agent training, in total; the
                agent's schedules (e.g. a decaying learning rate) run once over
                them, not once per iteration.
            total_comparisons: Preferences to gather, in total.
            callback: Called with the iteration number after each iteration.
            progress_bar: Show a bar of the iterations (in a terminal only).

        Returns:
            ``reward_loss`` and ``reward_accuracy`` of the last reward training.

        Raises:
            ValueError: If ``total_comparisons`` is not positive or
                ``total_timesteps`` is negative, or (unless
                ``allow_variable_horizon``) episodes differ in length.
        """
        if total_timesteps < 0:
            raise ValueError(f"total_timesteps={total_timesteps} must not be negative.")
        schedule = self.comparison_schedule(total_comparisons)
        self.logger.log(f"Query schedule: {schedule}")
        steps, extra = divmod(total_timesteps, self.num_iterations)
        metrics: Mapping[str, float] = {}
        if schedule[0] > 0:
            # Pretraining on fragments of the untrained agent.
            self._gather(schedule[0])
            metrics = self._train_reward()
        with (
            self.trajectory_generator.training_run(total_timesteps),
            progress.progress_bar(
                len(schedule) - 1,
                desc="PreferenceComparisons",
                unit="iteration",
                enabled=progress_bar,
            ) as bar,
        ):
            for i, num_pairs in enumerate(schedule[1:]):
                if num_pairs > 0:
                    self._gather(num_pairs)
                    metrics = self._train_reward()
                agent_steps = steps + (1 if i < extra else 0)
                if agent_steps > 0:
                    self.logger.log(f"Training agent for {agent_steps} timesteps")
                    self.trajectory_generator.train(steps=agent_steps)
                self.logger.dump(self._iteration)
                if callback is not None:
                    callback(self._iteration)
                self._iteration += 1
                bar.update(1)
        return {
            "reward_loss": metrics.get("loss", math.nan),
            "reward_accuracy": metrics.get("accuracy", math.nan),
        }

    def _train_reward(self) -> Mapping[str, float]:
        """Train the reward model; the first time for the longer initial epochs."""
        multiplier = 1.0 if self._reward_trained else self.initial_epoch_multiplier
        self._reward_trained = True
        with self.logger.accumulate_means("reward"):
            return self.reward_trainer.train(self.dataset, epoch_multiplier=multiplier)

    def _gather(self, num_pairs: int) -> None:
        num_steps = math.ceil(
            self.transition_oversampling * 2 * num_pairs * self.fragment_length
        )
        self.logger.log(
            f"Collecting {2 * num_pairs} fragments ({num_steps} transitions)",
        )
        trajectories = self.trajectory_generator.sample(num_steps)
        self._check_fixed_horizon(len(t) for t in trajectories if t.terminal)
        self.logger.log("Creating fragment pairs")
        fragments = self.fragmenter(trajectories, self.fragment_length, num_pairs)
        self.logger.log("Gathering preferences")
        with self.logger.accumulate_means("preferences"):
            fragments, preferences = self.preference_gatherer.gather(fragments)
        self.dataset.push(fragments, preferences)
        self.logger.log(f"Dataset now contains {len(self.dataset)} comparisons")
