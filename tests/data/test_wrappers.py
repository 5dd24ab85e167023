"""Tests for imitation.data.wrappers."""

from __future__ import annotations

import numpy as np
import pytest

from imitation.data import types
from imitation.data.wrappers import BufferingWrapper


def _step_random(venv, n_steps, rng):
    for _ in range(n_steps):
        venv.step(rng.integers(0, 3, size=venv.num_envs))


def test_buffering_wrapper_finished_trajectories(make_counting_venv, rng):
    venv = BufferingWrapper(make_counting_venv([2, 3]))
    venv.reset()
    _step_random(venv, 6, rng)
    trajs, lengths = venv.pop_finished_trajectories()
    # Env 0 finished 3 episodes of 2 steps, env 1 two episodes of 3 steps.
    assert sorted(lengths) == [2, 2, 2, 3, 3]
    for t in trajs:
        assert t.terminal
        np.testing.assert_array_equal(t.obs[:, 0], np.arange(len(t) + 1))
    assert venv.n_transitions == 0


def test_buffering_wrapper_fragments_continue(make_counting_venv, rng):
    venv = BufferingWrapper(make_counting_venv([5]))
    venv.reset()
    _step_random(venv, 3, rng)
    first, lengths = venv.pop_trajectories()
    assert lengths == [3] and not first[0].terminal
    _step_random(venv, 2, rng)
    second, lengths = venv.pop_trajectories()
    assert lengths == [2] and second[0].terminal
    # The second fragment starts where the first ended.
    np.testing.assert_array_equal(second[0].obs[0], first[0].obs[-1])
    # The episode's full length is known although it spanned two pops.
    assert venv.pop_episode_lengths() == [5]
    assert venv.pop_episode_lengths() == []


def test_buffering_wrapper_transitions_and_premature_reset(make_counting_venv, rng):
    venv = BufferingWrapper(make_counting_venv([4, 4, 4]))
    venv.reset()
    _step_random(venv, 7, rng)
    with pytest.raises(RuntimeError, match="not yet popped"):
        venv.reset()
    trans = venv.pop_transitions()
    assert isinstance(trans, types.TransitionsWithRew)
    assert len(trans) == 21
    np.testing.assert_array_equal(trans.next_obs[:, 0] % 4, (trans.obs[:, 0] + 1) % 4)
    with pytest.raises(RuntimeError, match="no transitions"):
        venv.pop_transitions()
    venv.reset()


def test_buffering_wrapper_long_run_compacts(make_counting_venv, rng):
    # Thousands of steps: the accumulator must keep only what is still needed.
    venv = BufferingWrapper(make_counting_venv([7, 300]))
    venv.reset()
    total = 0
    for _ in range(5):
        _step_random(venv, 400, rng)
        trans = venv.pop_transitions()
        total += len(trans)
        t_next, t = trans.next_obs[:, 0], trans.obs[:, 0]
        assert np.all((t_next == t + 1) | trans.dones)
    assert total == 5 * 400 * 2


def test_rollout_info_wrapper_records_episode(make_counting_venv):
    venv = make_counting_venv([3])
    venv.reset()
    for _ in range(3):
        _, _, dones, infos = venv.step(np.array([1]))
    assert dones[0]
    saved = infos[0]["rollout"]
    np.testing.assert_array_equal(saved["obs"][:, 0], [0, 1, 2, 3])
    np.testing.assert_array_equal(saved["rews"], [1, 2, 3])
