"""Beta schedules: how often the expert, rather than the learner, acts each round.

The schedules are pickled into DAgger checkpoints under the package's name
(``imitation.algorithms.dagger.LinearBetaSchedule``, ...), the name they had
before :mod:`imitation.algorithms.dagger` became a package; their
``__module__`` stays that name, so checkpoints saved before and after load
alike, and they register with the allow-list of :mod:`imitation.util.safe_pickle`
under that name.
"""

from __future__ import annotations

import abc

from imitation.util import safe_pickle

_PICKLED_AS = "imitation.algorithms.dagger"


class BetaSchedule(abc.ABC):
    """Maps the round number to beta, the probability of the expert's action."""

    __module__ = _PICKLED_AS

    @abc.abstractmethod
    def __call__(self, round_num: int) -> float:
        """Beta for round ``round_num`` (0-based)."""


@safe_pickle.register_safe_class  # DAgger checkpoints hold the schedule
class LinearBetaSchedule(BetaSchedule):
    """Beta falls linearly from 1 to 0 over ``rampdown_rounds`` rounds, then stays 0."""

    __module__ = _PICKLED_AS

    def __init__(self, rampdown_rounds: int) -> None:
        """Make the schedule.

        Raises:
            ValueError: If ``rampdown_rounds`` is not positive.
        """
        if rampdown_rounds <= 0:
            raise ValueError(f"rampdown_rounds={rampdown_rounds} must be positive.")
        self.rampdown_rounds = rampdown_rounds

    def __call__(self, round_num: int) -> float:
        """Beta for round ``round_num``."""
        return min(
            1.0, max(0.0, (self.rampdown_rounds - round_num) / self.rampdown_rounds)
        )


@safe_pickle.register_safe_class
class ExponentialBetaSchedule(BetaSchedule):
    """Beta is ``decay_probability ** round_num``."""

    __module__ = _PICKLED_AS

    def __init__(self, decay_probability: float) -> None:
        """Make the schedule.

        Raises:
            ValueError: If ``decay_probability`` is outside (0, 1].
        """
        if not 0 < decay_probability <= 1:
            raise ValueError(
                f"decay_probability={decay_probability} must be in (0, 1].",
            )
        self.decay_probability = decay_probability

    def __call__(self, round_num: int) -> float:
        """Beta for round ``round_num``."""
        return float(self.decay_probability**round_num)
