"""Checks that one set of episode returns beats another.

Typical use: compare the returns of two policies, each evaluated on many
episodes (e.g. ``evaluate_policy(..., return_episode_rewards=True)`` or the
``r`` column of monitor CSVs)::

    if is_significant_reward_improvement(old_returns, new_returns, 0.05):
        print("new policy is significantly better")
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy import stats

_N_RESAMPLES = 10_000
"""Random relabellings used when the exact permutation test is too large."""


def _as_returns(name: str, values: Iterable[float]) -> np.ndarray:
    """``values`` (a list, array or pandas Series) as a 1-D float array.

    Raises:
        ValueError: If ``values`` is empty, not one-dimensional, or has NaNs.
    """
    arr = np.asarray(list(values), dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D collection of returns, got shape "
            f"{arr.shape}.",
        )
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN.")
    return arr


def _mean_difference(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def is_significant_reward_improvement(
    old_rewards: Iterable[float],
    new_rewards: Iterable[float],
    p_value: float = 0.05,
) -> bool:
    """Whether ``new_rewards`` have a significantly higher mean than ``old_rewards``.

    Runs a one-sided permutation test of the difference of means: under the
    null hypothesis both samples come from the same distribution, so every
    relabelling of the pooled returns is equally likely. The test is exact
    when there are at most 10,000 relabellings, and otherwise uses 10,000
    random ones drawn with a fixed seed, so the answer depends only on the
    inputs. It makes no assumption about the distribution of returns.

    A False answer does not show that the two are equally good: with few
    episodes even a real improvement may not be significant.

    Args:
        old_rewards: Episode returns of the baseline (list, array or Series).
        new_rewards: Episode returns of the candidate (list, array or Series).
        p_value: Significance level, in (0, 1).

    Returns:
        True if the test's p-value is below ``p_value``.

    Raises:
        ValueError: If an input is empty, not one-dimensional or contains NaN,
            or ``p_value`` is outside (0, 1).
    """
    if not 0 < p_value < 1:
        raise ValueError(f"p_value={p_value} must be in (0, 1).")
    old = _as_returns("old_rewards", old_rewards)
    new = _as_returns("new_rewards", new_rewards)
    result = stats.permutation_test(
        (new, old),
        _mean_difference,
        permutation_type="independent",
        alternative="greater",
        n_resamples=_N_RESAMPLES,
        vectorized=True,
        rng=np.random.default_rng(0),
    )
    return bool(result.pvalue < p_value)


def mean_reward_improved_by(
    old_rews: Iterable[float],
    new_rews: Iterable[float],
    min_improvement: float,
) -> bool:
    """Whether the mean of ``new_rews`` exceeds that of ``old_rews`` by enough.

    Unlike :func:`is_significant_reward_improvement` this ignores the spread
    of the returns: it only compares the means.

    Args:
        old_rews: Episode returns of the baseline (list, array or Series).
        new_rews: Episode returns of the candidate (list, array or Series).
        min_improvement: Smallest required ``mean(new_rews) - mean(old_rews)``;
            may be negative to allow a bounded decline.

    Returns:
        True if ``mean(new_rews) - mean(old_rews) >= min_improvement``.

    Raises:
        ValueError: If an input is empty, not one-dimensional or contains NaN.
    """
    old = _as_returns("old_rews", old_rews)
    new = _as_returns("new_rews", new_rews)
    return bool(np.mean(new) - np.mean(old) >= min_improvement)
