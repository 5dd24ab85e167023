"""Tests for imitation.scripts.ingredients.policy_evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from imitation.data import types
from imitation.scripts.ingredients import policy_evaluation


def _episode(length: int, reward: float, infos=None) -> types.TrajectoryWithRew:
    return types.TrajectoryWithRew(
        obs=np.zeros((length + 1, 2), dtype=np.float32),
        acts=np.zeros(length, dtype=np.int64),
        infos=infos,
        terminal=True,
        rews=np.full(length, reward, dtype=np.float32),
    )


def test_expert_stats_without_monitor_data_report_monitor_returns():
    # Saved demonstrations often carry no Monitor infos (``info["episode"]``).
    trajs = [_episode(3, 1.0), _episode(5, 2.0)]
    stats = policy_evaluation.expert_stats(trajs)
    assert stats is not None
    assert stats["monitor_return_mean"] == pytest.approx(6.5)
    assert stats["monitor_return_len"] == 2
    assert stats["monitor_return_min"] == pytest.approx(3.0)
    assert stats["monitor_return_max"] == pytest.approx(10.0)
    assert stats["return_mean"] == stats["monitor_return_mean"]


def test_expert_stats_of_demonstrations_without_rewards_are_absent():
    trajs = [
        types.Trajectory(
            obs=np.zeros((3, 2)), acts=np.zeros(2), infos=None, terminal=True
        )
    ]
    assert policy_evaluation.expert_stats(trajs) is None
