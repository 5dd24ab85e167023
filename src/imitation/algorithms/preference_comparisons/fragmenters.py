"""Cutting trajectories into pairs of fragments to ask preferences about."""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Sequence

import numpy as np

from imitation.algorithms.preference_comparisons.preference_model import (
    PreferenceModel,
    TrajectoryWithRewPair,
)
from imitation.data import types
from imitation.util import logger as imit_logger
from imitation.util import networks, util

UNCERTAINTY_MEASURES = ("logit", "probability", "label")
"""What :class:`ActiveSelectionFragmenter` measures the members' disagreement on."""


class Fragmenter(abc.ABC):
    """Makes pairs of fragments from trajectories."""

    def __init__(self, custom_logger: imit_logger.HierarchicalLogger | None = None):
        """Set up logging.

        Args:
            custom_logger: Where to log to; if None, a new logger is created.
        """
        self.logger = custom_logger or imit_logger.configure()

    @abc.abstractmethod
    def __call__(
        self,
        trajectories: Sequence[types.TrajectoryWithRew],
        fragment_length: int,
        num_pairs: int,
    ) -> Sequence[TrajectoryWithRewPair]:
        """Make ``num_pairs`` pairs of fragments of ``fragment_length`` transitions.

        Args:
            trajectories: Where to cut fragments from.
            fragment_length: Transitions per fragment.
            num_pairs: Number of pairs.

        Returns:
            The pairs.
        """


def _fragment(
    traj: types.TrajectoryWithRew, start: int, length: int
) -> types.TrajectoryWithRew:
    end = start + length
    return dataclasses.replace(
        traj,
        obs=traj.obs[start : end + 1],
        acts=traj.acts[start:end],
        infos=None if traj.infos is None else traj.infos[start:end],
        terminal=bool(traj.terminal and end == len(traj)),
        rews=traj.rews[start:end],
    )


class RandomFragmenter(Fragmenter):
    """Cuts fragments at uniformly random positions of the trajectories.

    Every window of ``fragment_length`` transitions of every (long enough)
    trajectory is equally likely; fragments are drawn independently, so the
    same transitions may appear in several.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        warning_threshold: int = 10,
        custom_logger: imit_logger.HierarchicalLogger | None = None,
    ) -> None:
        """Set up the fragmenter.

        Args:
            rng: Chooses the windows.
            warning_threshold: Log a warning when the trajectories hold fewer
                than this many transitions per transition the fragments need
                (0: never warn).
            custom_logger: Where to log to; if None, a new logger is created.

        Raises:
            ValueError: If ``warning_threshold`` is negative.
        """
        super().__init__(custom_logger=custom_logger)
        if warning_threshold < 0:
            raise ValueError(f"warning_threshold={warning_threshold} is negative.")
        self.rng = util.check_rng(rng)
        self.warning_threshold = warning_threshold

    def __call__(
        self,
        trajectories: Sequence[types.TrajectoryWithRew],
        fragment_length: int,
        num_pairs: int,
    ) -> Sequence[TrajectoryWithRewPair]:
        """Random pairs of fragments (see the class docstring).

        Raises:
            ValueError: If ``fragment_length`` or ``num_pairs`` is not positive,
                or every trajectory is shorter than ``fragment_length``.
        """
        if fragment_length < 1:
            raise ValueError(f"fragment_length={fragment_length} must be positive.")
        if num_pairs < 1:
            raise ValueError(f"num_pairs={num_pairs} must be positive.")
        lengths = np.array([len(t) for t in trajectories], dtype=np.int64)
        windows = np.maximum(lengths - fragment_length + 1, 0)
        if windows.sum() == 0:
            longest = int(lengths.max()) if len(lengths) else 0
            raise ValueError(
                f"fragment_length={fragment_length} is longer than every trajectory "
                f"(the longest has {longest} transitions): use a shorter "
                "fragment_length or longer trajectories.",
            )
        n_fragments = 2 * num_pairs
        needed = n_fragments * fragment_length
        available = int(lengths[windows > 0].sum())
        if available < self.warning_threshold * needed:
            self.logger.warn(
                f"Fragments need {needed} transitions but the trajectories long "
                f"enough hold only {available} (warning_threshold="
                f"{self.warning_threshold}): fragments will overlap a lot.",
            )
        which = self.rng.choice(
            len(trajectories), size=n_fragments, p=windows / windows.sum()
        )
        starts = (self.rng.random(n_fragments) * windows[which]).astype(np.int64)
        fragments = [
            _fragment(trajectories[i], int(s), fragment_length)
            for i, s in zip(which, starts)
        ]
        return list(zip(fragments[::2], fragments[1::2]))


class ActiveSelectionFragmenter(Fragmenter):
    """Keeps the candidate pairs an ensemble disagrees about most.

    ``fragment_sample_factor * num_pairs`` candidate pairs come from
    ``base_fragmenter``; the ``num_pairs`` with the highest variance across
    ensemble members are returned. The variance is of the members' logits
    (return differences), of their probabilities that fragment 1 is
    preferred, or of their predicted labels (``probability > 0.5``).
    """

    def __init__(
        self,
        preference_model: PreferenceModel,
        base_fragmenter: Fragmenter,
        fragment_sample_factor: float,
        uncertainty_on: str = "logit",
        custom_logger: imit_logger.HierarchicalLogger | None = None,
    ) -> None:
        """Set up active selection.

        Args:
            preference_model: A preference model over a reward ensemble.
            base_fragmenter: Makes the candidate pairs.
            fragment_sample_factor: Candidates per returned pair (at least 1).
            uncertainty_on: ``"logit"``, ``"probability"`` or ``"label"``.
            custom_logger: Where to log to; if None, a new logger is created.

        Raises:
            ValueError: If ``uncertainty_on`` is unknown, the model is not an
                ensemble, or ``fragment_sample_factor`` is below 1.
        """
        super().__init__(custom_logger=custom_logger)
        if uncertainty_on not in UNCERTAINTY_MEASURES:
            raise ValueError(
                f"uncertainty_on={uncertainty_on!r} is not one of "
                f"{UNCERTAINTY_MEASURES}.",
            )
        if not preference_model.is_ensemble:
            raise ValueError(
                "Active selection measures disagreement between ensemble members: "
                "build the PreferenceModel on a RewardEnsemble.",
            )
        if not fragment_sample_factor >= 1:
            raise ValueError(
                f"fragment_sample_factor={fragment_sample_factor} must be at least 1.",
            )
        self.preference_model = preference_model
        self.base_fragmenter = base_fragmenter
        self.fragment_sample_factor = fragment_sample_factor
        self.uncertainty_on = uncertainty_on

    def disagreement(
        self, fragment_pairs: Sequence[TrajectoryWithRewPair]
    ) -> np.ndarray:
        """Variance across members of each pair's logit, probability or label."""
        model = self.preference_model
        with networks.predicting(model):
            logits = model.logits(model.returns(fragment_pairs))
        if self.uncertainty_on == "probability":
            values = model.probability(logits)
        elif self.uncertainty_on == "label":
            values = (model.probability(logits) > 0.5).to(logits.dtype)
        else:
            values = logits
        return values.var(dim=-1).cpu().numpy()

    def __call__(
        self,
        trajectories: Sequence[types.TrajectoryWithRew],
        fragment_length: int,
        num_pairs: int,
    ) -> Sequence[TrajectoryWithRewPair]:
        """The ``num_pairs`` most disputed of the candidate pairs."""
        n_candidates = int(np.ceil(self.fragment_sample_factor * num_pairs))
        candidates = self.base_fragmenter(trajectories, fragment_length, n_candidates)
        variance = self.disagreement(candidates)
        chosen = np.argsort(-variance, kind="stable")[:num_pairs]
        self.logger.record(
            "active_selection/chosen_variance", float(variance[chosen].mean())
        )
        self.logger.record(
            "active_selection/candidate_variance", float(variance.mean())
        )
        return [candidates[i] for i in chosen]
