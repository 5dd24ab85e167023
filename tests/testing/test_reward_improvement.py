"""Tests for imitation.testing.reward_improvement."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from imitation.testing.reward_improvement import (
    is_significant_reward_improvement,
    mean_reward_improved_by,
)

# Episode returns quoted in the "Reliably compare algorithm performance" guide.
CLONED_EXPERT = [121.0, 140.0, 155.0, 140.0, 124.0, 113.0, 139.0, 116.0, 108.0, 134.0]
CLONED_NOT_EXPERT = [47.0, 102.0, 76.0, 56.0, 77.0, 103.0, 69.0, 80.0, 98.0, 65.0]
CLONE = [108.0, 133.0, 158.0, 144.0, 136.0, 116.0, 115.0, 129.0, 117.0, 115.0]
EXPERT = [140.0, 132.0, 154.0, 126.0, 121.0, 138.0, 175.0, 132.0, 132.0, 139.0]


def test_guide_examples():
    assert is_significant_reward_improvement(CLONED_NOT_EXPERT, CLONED_EXPERT, 0.05)
    assert is_significant_reward_improvement(CLONED_NOT_EXPERT, CLONED_EXPERT, 0.001)
    assert not is_significant_reward_improvement(CLONE, EXPERT, 0.05)


def test_clear_improvement_is_significant_only_in_that_direction():
    rng = np.random.default_rng(0)
    old = rng.normal(0, 1, size=50)
    new = rng.normal(2, 1, size=50)
    assert is_significant_reward_improvement(old, new, 0.001)
    assert not is_significant_reward_improvement(new, old, 0.05)


def test_noise_and_equal_samples_are_not_significant():
    rng = np.random.default_rng(1)
    old, new = rng.normal(size=30), rng.normal(size=30)
    assert not is_significant_reward_improvement(old, new, 0.05)
    same = [1.0, 2.0, 3.0]
    assert not is_significant_reward_improvement(same, same, 0.5)
    assert not is_significant_reward_improvement([5.0] * 4, [5.0] * 4, 0.99)


def test_small_samples_use_the_exact_test():
    # Of the 6 ways to split {1, 2, 3, 4} in two pairs, only the observed one
    # has a mean difference as large, so the exact p-value is 1/6.
    assert is_significant_reward_improvement([1.0, 2.0], [3.0, 4.0], 0.17)
    assert not is_significant_reward_improvement([1.0, 2.0], [3.0, 4.0], 0.16)
    # With one return each, the p-value is 1/2 at best.
    assert not is_significant_reward_improvement([0.0], [100.0], 0.5)
    assert is_significant_reward_improvement([0.0], [100.0], 0.51)


def test_one_sided_group_sizes_are_enumerated_exactly():
    # One baseline return: the candidate group is every split but one element.
    # The observed split (leaving out the smallest) is the most extreme of 10.
    old, new = [0.0], [float(x) for x in range(1, 10)]
    assert is_significant_reward_improvement(old, new, 0.11)
    assert not is_significant_reward_improvement(old, new, 0.1)
    assert not is_significant_reward_improvement(new, old, 0.5)


def test_sample_sizes_may_differ():
    old = [10.0, 11.0, 9.0, 10.5, 9.5, 10.2, 9.8]
    new = [20.0, 21.0, 19.0]
    assert is_significant_reward_improvement(old, new, 0.05)
    assert not is_significant_reward_improvement(new, old, 0.05)


@pytest.mark.parametrize(
    "convert",
    [
        list,
        tuple,
        np.asarray,
        lambda xs: np.asarray(xs, dtype=np.int64),
        lambda xs: pd.Series(xs, index=range(100, 100 + len(xs))),
        iter,
    ],
)
def test_accepts_common_input_types(convert):
    old, new = [1, 2, 3, 2, 1, 2], [5, 6, 7, 6, 5, 6]
    assert is_significant_reward_improvement(convert(old), convert(new), 0.05)
    assert mean_reward_improved_by(convert(old), convert(new), 4.0)


def test_monitor_dataframe_column():
    rng = np.random.default_rng(2)
    expert = pd.DataFrame({"r": rng.normal(150, 20, size=40), "l": 1})
    non_expert = pd.DataFrame({"r": rng.normal(30, 10, size=60), "l": 1})
    combined = pd.concat([expert, expert])  # duplicated index, as after pd.concat
    assert is_significant_reward_improvement(non_expert["r"], combined["r"], 0.05)


def test_is_deterministic_near_the_threshold():
    # CLONE vs EXPERT has a p-value near 0.055, estimated from random
    # relabellings: unseeded, answers at thresholds this close would vary.
    thresholds = np.linspace(0.050, 0.061, 12)
    answers = [
        {is_significant_reward_improvement(CLONE, EXPERT, p) for _ in range(3)}
        for p in thresholds
    ]
    assert all(len(a) == 1 for a in answers)
    flat = [a.pop() for a in answers]
    assert flat == sorted(flat)  # monotone in the threshold
    assert not flat[0] and flat[-1]


def test_more_data_makes_a_small_improvement_significant():
    rng = np.random.default_rng(4)
    few_old, few_new = rng.normal(0, 1, size=5), rng.normal(0.8, 1, size=5)
    many_old, many_new = rng.normal(0, 1, size=300), rng.normal(0.8, 1, size=300)
    assert not is_significant_reward_improvement(few_old, few_new, 0.001)
    assert is_significant_reward_improvement(many_old, many_new, 0.001)


@pytest.mark.parametrize("p", [0.0, 1.0, -0.1, 1.5, float("nan")])
def test_bad_p_value(p):
    with pytest.raises(ValueError, match="p_value"):
        is_significant_reward_improvement([1.0, 2.0], [2.0, 3.0], p)


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        ([], [1.0], "old_rewards must be a non-empty"),
        ([1.0], np.array([]), "new_rewards must be a non-empty"),
        (pd.Series([], dtype=float), [1.0], "old_rewards must be a non-empty"),
        ([[1.0, 2.0]], [1.0], "old_rewards must be a non-empty 1-D"),
        ([1.0, float("nan")], [1.0], "old_rewards contains NaN"),
        ([1.0], [2.0, float("inf")], "new_rewards contains NaN or infinite"),
    ],
)
def test_bad_rewards(old, new, match):
    with pytest.raises(ValueError, match=match):
        is_significant_reward_improvement(old, new)


def test_mean_reward_improved_by():
    assert mean_reward_improved_by([1, 2, 3], [3, 4, 5], 2.0)
    assert not mean_reward_improved_by([1, 2, 3], [3, 4, 5], 2.1)
    assert mean_reward_improved_by([1.0], [1.0], 0.0)
    # A negative threshold allows a bounded decline.
    assert mean_reward_improved_by([10.0, 12.0], [9.0, 10.0], -1.5)
    assert not mean_reward_improved_by([10.0, 12.0], [9.0, 10.0], -1.0)


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        ([1.0], [], "new_rews must be a non-empty"),
        ([], [1.0], "old_rews must be a non-empty"),
        ([float("nan")], [1.0], "old_rews contains NaN"),
        ([1.0], [-float("inf")], "new_rews contains NaN or infinite"),
    ],
)
def test_mean_reward_improved_by_bad_rewards(old, new, match):
    with pytest.raises(ValueError, match=match):
        mean_reward_improved_by(old, new, 0.0)
