"""Tests for imitation.testing.reward_improvement."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from imitation.testing.reward_improvement import (
    is_significant_reward_improvement,
    mean_reward_improved_by,
)


def test_clear_improvement_is_significant():
    rng = np.random.default_rng(0)
    old = rng.normal(0, 1, size=50)
    new = rng.normal(2, 1, size=50)
    assert is_significant_reward_improvement(old, new, 0.001)
    assert not is_significant_reward_improvement(new, old, 0.05)


def test_noise_is_not_significant():
    rng = np.random.default_rng(1)
    old, new = rng.normal(size=30), rng.normal(size=30)
    assert not is_significant_reward_improvement(old, new, 0.01)


def test_accepts_lists_and_series_and_is_deterministic():
    old, new = [1.0, 2.0, 3.0, 2.0], pd.Series([5.0, 6.0, 7.0, 6.0])
    answers = {is_significant_reward_improvement(old, new, 0.05) for _ in range(3)}
    assert answers == {True}


@pytest.mark.parametrize("p", [0.0, 1.0, -0.1])
def test_bad_p_value(p):
    with pytest.raises(ValueError, match="p_value"):
        is_significant_reward_improvement([1.0], [2.0], p)


def test_empty_inputs():
    with pytest.raises(ValueError, match="non-empty"):
        is_significant_reward_improvement([], [1.0])
    with pytest.raises(ValueError, match="non-empty"):
        mean_reward_improved_by([1.0], [], 0.5)


def test_mean_reward_improved_by():
    assert mean_reward_improved_by([1, 2, 3], [3, 4, 5], 2.0)
    assert not mean_reward_improved_by([1, 2, 3], [3, 4, 5], 2.1)
