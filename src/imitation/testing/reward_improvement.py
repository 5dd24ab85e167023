"""Checks that one set of episode returns beats another.

Typical use: compare the returns of two policies, each evaluated on many
episodes (e.g. ``evaluate_policy(..., return_episode_rewards=True)`` or the
``r`` column of monitor CSVs)::

    if is_significant_reward_improvement(old_returns, new_returns, 0.05):
        print("new policy is significantly better")
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

import numpy as np

_N_RESAMPLES = 10_000
"""Random relabellings used when the exact permutation test is too large."""

_BATCH_ELEMENTS = 1_000_000
"""Bound on the array size of one batch of random relabellings."""


def _as_returns(name: str, values: Iterable[float]) -> np.ndarray:
    """``values`` (a list, array or pandas Series) as a 1-D float array.

    Raises:
        ValueError: If ``values`` is empty, not one-dimensional, or not finite.
    """
    arr = np.asarray(list(values), dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D collection of returns, got shape "
            f"{arr.shape}.",
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    return arr


def _permutation_p_value(old: np.ndarray, new: np.ndarray) -> float:
    """One-sided p-value of ``mean(new) - mean(old)`` under random relabelling.

    Every relabelling splits the pooled returns into groups of the original
    sizes. Since the group sizes are fixed, the difference of means grows with
    the sum of the ``new`` group, so that sum serves as the statistic.
    """
    pooled = np.concatenate([new, old])
    n_new, n_total = len(new), len(pooled)
    total = pooled.sum()
    observed = new.sum()
    # Sums equal up to rounding count as ties, i.e. as at least as extreme.
    tolerance = 1e-9 * max(1.0, float(np.abs(pooled).sum()))
    # Enumerate (or sample) the smaller group; the other group's sum follows.
    n_small = min(n_new, n_total - n_new)
    n_splits = math.comb(n_total, n_small)
    if n_splits <= _N_RESAMPLES:
        subsets = np.array(list(itertools.combinations(range(n_total), n_small)))
        small_sums = pooled[subsets].sum(axis=1)
        new_sums = small_sums if n_small == n_new else total - small_sums
        return float(np.mean(new_sums >= observed - tolerance))
    rng = np.random.default_rng(0)
    batch_size = max(1, _BATCH_ELEMENTS // n_total)
    n_extreme, n_drawn = 0, 0
    while n_drawn < _N_RESAMPLES:
        n_batch = min(batch_size, _N_RESAMPLES - n_drawn)
        shuffled = rng.permuted(np.tile(pooled, (n_batch, 1)), axis=1)
        new_sums = shuffled[:, :n_new].sum(axis=1)
        n_extreme += int(np.count_nonzero(new_sums >= observed - tolerance))
        n_drawn += n_batch
    # Counting the observed labelling as one draw keeps the p-value valid.
    return (n_extreme + 1) / (_N_RESAMPLES + 1)


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
        ValueError: If an input is empty, not one-dimensional or contains NaN
            or infinite values, or ``p_value`` is outside (0, 1).
    """
    if not 0 < p_value < 1:
        raise ValueError(f"p_value={p_value} must be in (0, 1).")
    old = _as_returns("old_rewards", old_rewards)
    new = _as_returns("new_rewards", new_rewards)
    return _permutation_p_value(old, new) < p_value


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
        ValueError: If an input is empty, not one-dimensional or contains NaN
            or infinite values.
    """
    old = _as_returns("old_rews", old_rews)
    new = _as_returns("new_rews", new_rews)
    return bool(np.mean(new) - np.mean(old) >= min_improvement)
