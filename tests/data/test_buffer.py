"""Tests for imitation.data.buffer."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from imitation.data import buffer, types


def _buf(capacity=5, rng=None):
    return buffer.Buffer(
        capacity, {"a": (2,), "b": ()}, {"a": np.float32, "b": np.int64}, rng=rng
    )


def _data(start, n):
    return {
        "a": np.arange(start, start + n, dtype=np.float32)[:, None].repeat(2, 1),
        "b": np.arange(start, start + n),
    }


def test_store_and_wrap_around_fifo():
    buf = _buf(5)
    buf.store(_data(0, 3))
    assert buf.size() == 3
    buf.store(_data(3, 4))  # wraps: 0..2 then 3..6, oldest (0, 1) overwritten
    assert buf.size() == 5
    assert sorted(buf._arrays["b"].tolist()) == [2, 3, 4, 5, 6]


def test_truncation():
    buf = _buf(3)
    with pytest.raises(ValueError, match="exceed the capacity"):
        buf.store(_data(0, 4))
    buf.store(_data(0, 10), truncate_ok=True)
    assert sorted(buf._arrays["b"].tolist()) == [7, 8, 9]


def test_sample_uniform_and_reproducible():
    buf = _buf(4, rng=np.random.default_rng(0))
    buf.store(_data(0, 4))
    samples = buf.sample(4000)
    counts = np.bincount(samples["b"], minlength=4)
    assert np.all(np.abs(counts - 1000) < 150)
    np.testing.assert_array_equal(samples["a"][:, 0], samples["b"])
    again = _buf(4, rng=np.random.default_rng(0))
    again.store(_data(0, 4))
    np.testing.assert_array_equal(again.sample(10)["b"], samples["b"][:10])


def test_errors():
    buf = _buf()
    with pytest.raises(ValueError, match="empty"):
        buf.sample(1)
    with pytest.raises(ValueError, match="keys"):
        buf.store({"a": np.zeros((1, 2), np.float32)})
    with pytest.raises(ValueError, match="shape"):
        buf.store({"a": np.zeros((1, 3), np.float32), "b": np.zeros(1, np.int64)})
    with pytest.raises(ValueError, match="different lengths"):
        buf.store({"a": np.zeros((2, 2), np.float32), "b": np.zeros(1, np.int64)})
    with pytest.raises(ValueError, match="dtype"):
        buf.store({"a": np.zeros((1, 2), np.float32), "b": np.zeros(1, np.float64)})
    with pytest.raises(ValueError, match="positive"):
        buffer.Buffer(0, {"a": ()}, {"a": float})


def test_from_data():
    buf = buffer.Buffer.from_data(_data(0, 6))
    assert buf.capacity == 6 and buf.size() == 6


def _transitions(n, dict_obs=False):
    obs = np.arange(n + 1, dtype=np.float32)[:, None]
    o, no = obs[:-1], obs[1:]
    if dict_obs:
        # Keys, shapes and dtypes of CountingEnv's dict observations.
        o = types.DictObs({"t": o, "act": 2 * o})
        no = types.DictObs({"t": no, "act": 2 * no})
    return types.Transitions(
        obs=o,
        acts=np.arange(n),
        infos=np.array([{}] * n),
        next_obs=no,
        dones=np.zeros(n, dtype=bool),
    )


@pytest.mark.parametrize("dict_obs", [False, True])
def test_replay_buffer_round_trip(dict_obs):
    trans = _transitions(20, dict_obs)
    rb = buffer.ReplayBuffer.from_data(trans, rng=np.random.default_rng(0))
    sample = rb.sample(50)
    assert isinstance(sample, types.Transitions) and len(sample) == 50
    obs = sample.obs.get("t") if dict_obs else sample.obs
    next_obs = sample.next_obs.get("t") if dict_obs else sample.next_obs
    np.testing.assert_array_equal(obs[:, 0], sample.acts)
    np.testing.assert_array_equal(next_obs[:, 0], sample.acts + 1)
    if dict_obs:
        np.testing.assert_array_equal(sample.obs.get("act")[:, 0], 2 * sample.acts)


def test_replay_buffer_from_spaces_and_venv(make_counting_venv):
    venv = make_counting_venv([3], dict_obs=True)
    rb = buffer.ReplayBuffer(10, venv)
    rb.store(_transitions(4, dict_obs=True))
    assert rb.size() == 4
    box = buffer.ReplayBuffer(
        10,
        obs_space=gym.spaces.Box(0, 1, shape=(1,)),
        act_space=gym.spaces.Discrete(3),
    )
    box.store(_transitions(12))  # truncated to the newest 10
    assert box.size() == 10


def test_replay_buffer_needs_one_specification(make_counting_venv):
    venv = make_counting_venv([3])
    with pytest.raises(ValueError, match="either"):
        buffer.ReplayBuffer(10)
    with pytest.raises(ValueError, match="either"):
        buffer.ReplayBuffer(10, venv, obs_shape=(1,))
    with pytest.raises(ValueError, match="both"):
        buffer.ReplayBuffer(10, obs_space=gym.spaces.Box(0, 1, shape=(1,)))
