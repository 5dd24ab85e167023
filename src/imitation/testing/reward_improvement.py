"""Statistical checks that one set of episode returns beats another."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy import stats


def _as_array(name: str, values: Iterable[float]) -> np.ndarray:
    arr = np.asarray(list(values), dtype=float)
    if arr.ndim != 1 or len(arr) == 0:
        raise ValueError(f"{name} must be a non-empty 1-D collection of returns.")
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN.")
    return arr


def is_significant_reward_improvement(
    old_rewards: Iterable[float],
    new_rewards: Iterable[float],
    p_value: float = 0.05,
) -> bool:
    """Whether ``new_rewards`` have a significantly higher mean than ``old_rewards``.

    A one-sided permutation test on the difference of means (exact when the
    number of relabellings is small, otherwise 10,000 random relabellings with
    a fixed seed, so the answer depends only on the inputs).

    Args:
        old_rewards: Episode returns of the baseline.
        new_rewards: Episode returns of the candidate.
        p_value: Significance level, in (0, 1).

    Returns:
        True if the improvement is significant at ``p_value``.

    Raises:
        ValueError: If an input is empty or ``p_value`` is outside (0, 1).
    """
    if not 0 < p_value < 1:
        raise ValueError(f"p_value={p_value} must be in (0, 1).")
    old = _as_array("old_rewards", old_rewards)
    new = _as_array("new_rewards", new_rewards)
    result = stats.permutation_test(
        (new, old),
        lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
        permutation_type="independent",
        alternative="greater",
        n_resamples=10_000,
        vectorized=True,
        rng=np.random.default_rng(0),
    )
    return bool(result.pvalue < p_value)


def mean_reward_improved_by(
    old_rews: Iterable[float],
    new_rews: Iterable[float],
    min_improvement: float,
) -> bool:
    """Whether ``mean(new_rews) - mean(old_rews) >= min_improvement``.

    Raises:
        ValueError: If an input is empty.
    """
    old = _as_array("old_rews", old_rews)
    new = _as_array("new_rews", new_rews)
    return bool(np.mean(new) - np.mean(old) >= min_improvement)
