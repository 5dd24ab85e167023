"""The reward-function protocol used to relabel environment rewards."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np


class RewardFn(Protocol):
    """Rewards for a batch of transitions.

    Called with numpy batches ``state``, ``action``, ``next_state`` (arrays, or
    dicts of arrays for dict observations) and ``done`` (shape ``(batch,)``);
    returns rewards of shape ``(batch,)``. ``RewardNet.predict_processed`` is
    one.
    """

    def __call__(
        self,
        state: Any,
        action: np.ndarray,
        next_state: Any,
        done: np.ndarray,
        /,
    ) -> np.ndarray:
        """Compute the rewards."""
