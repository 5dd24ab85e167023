"""Tests for imitation.data.buffer."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imitation.data import buffer, types


class _AllIndices:
    """Stand-in generator whose draws are every held index, in slot order.

    ``sample(buf.size())`` with it returns the exact contents of a buffer, which
    lets tests compare them with a model of FIFO behaviour.
    """

    def integers(self, low, high, size):
        assert size == high - low
        return np.arange(low, high)


def _buf(capacity=5, rng=None):
    return buffer.Buffer(
        capacity,
        {"a": (2,), "b": ()},
        {"a": np.float32, "b": np.int64},
        rng=np.random.default_rng(0) if rng is None else rng,
    )


def _data(start, n):
    """Samples numbered ``start .. start + n - 1``; row i of "a" is [i, -i]."""
    b = np.arange(start, start + n, dtype=np.int64)
    return {"a": np.stack([b, -b], axis=1).astype(np.float32), "b": b}


def _contents(buf):
    """Exact contents of a buffer built with ``rng=_AllIndices()``, as a sorted list."""
    return sorted(buf.sample(buf.size())["b"].tolist())


def test_new_buffer_is_empty():
    buf = _buf(7)
    assert buf.capacity == 7 and buf.size() == 0
    with pytest.raises(ValueError, match="empty buffer"):
        buf.sample(1)


def test_store_below_capacity():
    buf = _buf(5, rng=_AllIndices())
    buf.store(_data(100, 3))
    assert buf.size() == 3
    assert _contents(buf) == [100, 101, 102]


def test_wrap_around_overwrites_oldest():
    buf = _buf(5, rng=_AllIndices())
    buf.store(_data(0, 3))
    buf.store(_data(3, 4))  # 2 samples fit before the end, 2 wrap to the front
    assert buf.size() == 5
    assert _contents(buf) == [2, 3, 4, 5, 6]
    sample = buf.sample(5)
    np.testing.assert_array_equal(sample["a"][:, 0], sample["b"])
    np.testing.assert_array_equal(sample["a"][:, 1], -sample["b"])


def test_fifo_order_with_single_samples():
    buf = _buf(3, rng=_AllIndices())
    for i in range(7):
        buf.store(_data(i, 1))
        assert _contents(buf) == list(range(max(0, i - 2), i + 1))


@settings(max_examples=25, deadline=None)
@given(
    capacity=st.integers(1, 8),
    batch_sizes=st.lists(st.integers(0, 12), min_size=1, max_size=8),
)
def test_matches_fifo_model(capacity, batch_sizes):
    buf = _buf(capacity, rng=_AllIndices())
    model: list[int] = []
    start = 0
    for n in batch_sizes:
        buf.store(_data(start, n), truncate_ok=True)
        model = (model + list(range(start, start + n)))[-capacity:]
        start += n
        assert buf.size() == len(model)
        if model:
            assert _contents(buf) == sorted(model)


class _CountingArray(np.ndarray):
    """An ndarray that counts item assignments made to it."""

    assignments = 0

    def __setitem__(self, key, value):
        type(self).assignments += 1
        super().__setitem__(key, value)


@pytest.mark.parametrize("filled", [0, 3, 9])
def test_store_is_vectorised(filled):
    buf = _buf(10)
    buf.store(_data(0, filled))
    buf._arrays = {k: v.view(_CountingArray) for k, v in buf._arrays.items()}
    _CountingArray.assignments = 0
    buf.store(_data(100, 8))
    assert 0 < _CountingArray.assignments <= 2 * len(buf._arrays)


def test_batch_larger_than_capacity():
    buf = _buf(3, rng=_AllIndices())
    buf.store(_data(0, 2))
    with pytest.raises(ValueError, match="exceeds the capacity 3.*truncate_ok"):
        buf.store(_data(10, 4))
    assert _contents(buf) == [0, 1]  # a rejected batch changes nothing
    buf.store(_data(10, 10), truncate_ok=True)
    assert buf.size() == 3
    assert _contents(buf) == [17, 18, 19]


def test_batch_of_exactly_capacity_replaces_everything():
    buf = _buf(4, rng=_AllIndices())
    buf.store(_data(0, 3))
    buf.store(_data(10, 4))
    assert _contents(buf) == [10, 11, 12, 13]


def test_empty_batch_is_a_no_op():
    buf = _buf(4, rng=_AllIndices())
    buf.store(_data(0, 2))
    buf.store(_data(5, 0))
    assert _contents(buf) == [0, 1]


def test_sampling_is_uniform_over_held_samples():
    buf = _buf(10, rng=np.random.default_rng(1))
    buf.store(_data(100, 4))  # only 4 of 10 slots are filled
    n = 8000
    sample = buf.sample(n)
    assert sample["b"].shape == (n,) and sample["a"].shape == (n, 2)
    assert set(sample["b"].tolist()) == {100, 101, 102, 103}
    counts = np.bincount(sample["b"] - 100, minlength=4)
    chi2 = np.sum((counts - n / 4) ** 2 / (n / 4))
    assert chi2 < 16.3  # 99.9th percentile of chi-squared with 3 dof
    np.testing.assert_array_equal(sample["a"][:, 0], sample["b"])


def test_sampling_reproducible_with_seeded_rng():
    draws = []
    for _ in range(2):
        buf = _buf(6, rng=np.random.default_rng(42))
        buf.store(_data(0, 6))
        draws.append(buf.sample(20)["b"])
    np.testing.assert_array_equal(draws[0], draws[1])


def test_sample_returns_copies():
    buf = _buf(3, rng=_AllIndices())
    buf.store(_data(0, 3))
    sample = buf.sample(3)
    sample["b"][:] = -1
    assert _contents(buf) == [0, 1, 2]
    before = buf.sample(3)["b"].copy()
    taken = buf.sample(3)
    buf.store(_data(50, 3))
    np.testing.assert_array_equal(taken["b"], before)


def test_sample_zero_and_negative():
    buf = _buf(3)
    buf.store(_data(0, 2))
    assert buf.sample(0)["a"].shape == (0, 2)
    with pytest.raises(ValueError, match="non-negative"):
        buf.sample(-1)
    with pytest.raises(TypeError):
        buf.sample(1.5)


def test_same_kind_casting_allowed():
    buf = _buf(3, rng=_AllIndices())
    data = _data(0, 2)
    buf.store({"a": data["a"].astype(np.float64), "b": data["b"].astype(np.int32)})
    sample = buf.sample(2)
    assert sample["a"].dtype == np.float32 and sample["b"].dtype == np.int64


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"a": np.zeros((1, 2), np.float32)}, r"Expected fields \['a', 'b'\]"),
        (
            {**_data(0, 1), "c": np.zeros(1)},
            r"Expected fields \['a', 'b'\], got \['a', 'b', 'c'\]",
        ),
        (
            {"a": np.zeros((1, 3), np.float32), "b": np.zeros(1, np.int64)},
            r"a: expected a batch of shape \(n, \*\(2,\)\), got shape \(1, 3\)",
        ),
        (
            {"a": np.zeros((1, 2), np.float32), "b": np.zeros((1, 1), np.int64)},
            r"b: expected a batch of shape",
        ),
        (
            {"a": np.zeros((2, 2), np.float32), "b": np.zeros(1, np.int64)},
            r"different lengths: \{'a': 2, 'b': 1\}",
        ),
        (
            {"a": np.zeros((1, 2), np.float32), "b": np.zeros(1, np.float64)},
            "b: dtype float64 cannot be stored as int64",
        ),
        (
            {"a": np.zeros((1, 2), np.complex64), "b": np.zeros(1, np.int64)},
            "a: dtype complex64 cannot be stored as float32",
        ),
        (
            {"a": np.zeros((1, 2), np.float32), "b": np.array(3)},
            "'b' needs a leading batch axis",
        ),
        (
            {"a": types.DictObs({"x": np.zeros((1, 2))}), "b": np.zeros(1, np.int64)},
            "'a' holds arrays; got dict observations",
        ),
    ],
)
def test_store_errors(data, match):
    buf = _buf(4, rng=_AllIndices())
    buf.store(_data(0, 2))
    with pytest.raises(ValueError, match=match):
        buf.store(data)
    assert _contents(buf) == [0, 1]


def test_store_rejects_non_arrays():
    with pytest.raises(TypeError, match="'b' must be a numpy array"):
        _buf().store({"a": np.zeros((1, 2), np.float32), "b": [0]})


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((0, {"a": ()}, {"a": float}), ValueError, "capacity must be positive"),
        ((-3, {"a": ()}, {"a": float}), ValueError, "capacity must be positive"),
        ((2.5, {"a": ()}, {"a": float}), TypeError, "integer"),
        ((2, {}, {}), ValueError, "at least one field"),
        ((2, {"a": ()}, {"b": float}), ValueError, "differ from dtypes keys"),
        ((2, {"a": (-1,)}, {"a": float}), ValueError, "negative dimension"),
        ((2, {"a": {"x": ()}}, {"a": float}), ValueError, "mapping for both"),
        ((2, {"a": ()}, {"a": {"x": float}}), ValueError, "mapping for both"),
        ((2, {"a": {}}, {"a": {}}), ValueError, "equal and non-empty"),
        ((2, {"a": {"x": ()}}, {"a": {"y": float}}), ValueError, "equal and non"),
        (
            (2, {"o": {"x": ()}, "o/x": ()}, {"o": {"x": float}, "o/x": float}),
            ValueError,
            "both stored under the name 'o/x'",
        ),
    ],
)
def test_constructor_errors(args, error, match):
    with pytest.raises(error, match=match):
        buffer.Buffer(*args)


def test_from_data():
    data = _data(0, 6)
    buf = buffer.Buffer.from_data(data, rng=_AllIndices())
    assert buf.capacity == 6 and buf.size() == 6
    sample = buf.sample(6)
    assert sample["a"].dtype == np.float32 and sample["b"].dtype == np.int64
    np.testing.assert_array_equal(sample["a"], data["a"])

    bigger = buffer.Buffer.from_data(data, capacity=10)
    assert bigger.capacity == 10 and bigger.size() == 6

    with pytest.raises(ValueError, match="exceeds the capacity"):
        buffer.Buffer.from_data(data, capacity=4)
    smaller = buffer.Buffer.from_data(
        data, capacity=4, truncate_ok=True, rng=_AllIndices()
    )
    assert _contents(smaller) == [2, 3, 4, 5]

    empty = buffer.Buffer.from_data(_data(0, 0), capacity=3)
    assert empty.size() == 0


@pytest.mark.parametrize(
    ("data", "kwargs", "match"),
    [
        ({}, {}, "at least one field"),
        (_data(0, 0), {}, "Cannot infer the capacity"),
        (
            {"a": np.zeros(3), "b": np.zeros(2)},
            {},
            r"different lengths: \{'a': 3, 'b': 2\}",
        ),
    ],
)
def test_from_data_errors(data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        buffer.Buffer.from_data(data, **kwargs)


def _dict_data(start, n):
    t = np.arange(start, start + n)
    return {
        "obs": types.DictObs(
            {"t": t[:, None].astype(np.float32), "img": np.full((n, 2, 2), t[0])}
        ),
        "b": t,
    }


def test_buffer_dict_field_round_trip():
    buf = buffer.Buffer.from_data(_dict_data(0, 4), capacity=6, rng=_AllIndices())
    buf.store({"obs": _dict_data(4, 3)["obs"].unwrap(), "b": np.arange(4, 7)})
    assert buf.size() == 6
    sample = buf.sample(6)
    obs = sample["obs"]
    assert isinstance(obs, types.DictObs)
    assert set(obs.keys()) == {"t", "img"}
    assert obs.dtype == {"t": np.dtype(np.float32), "img": np.dtype(np.int64)}
    assert obs.shape == {"t": (6, 1), "img": (6, 2, 2)}
    np.testing.assert_array_equal(obs.get("t")[:, 0], sample["b"])
    assert sorted(sample["b"].tolist()) == [1, 2, 3, 4, 5, 6]


def test_buffer_dict_field_declared_by_shapes():
    buf = buffer.Buffer(
        3,
        {"obs": {"x": (2,), "y": ()}, "done": ()},
        {"obs": {"x": np.float32, "y": np.int8}, "done": bool},
    )
    obs = types.DictObs({"x": np.ones((2, 2)), "y": np.array([1, 2], np.int8)})
    buf.store({"obs": obs, "done": np.array([True, False])})
    sample = buf.sample(5)
    assert isinstance(sample["obs"], types.DictObs) and len(sample["obs"]) == 5


@pytest.mark.parametrize(
    ("obs", "match"),
    [
        (np.zeros((2, 1)), "'obs' holds dict observations; got an array"),
        (
            types.DictObs({"t": np.zeros((2, 1), np.float32)}),
            r"expected observation keys \['img', 't'\], got \['t'\]",
        ),
        (
            types.DictObs(
                {"t": np.zeros((2, 3), np.float32), "img": np.zeros((2, 2, 2))}
            ),
            r"obs/t: expected a batch of shape \(n, \*\(1,\)\)",
        ),
        (
            types.DictObs(
                {"t": np.zeros((2, 1), np.float32), "img": np.zeros((2, 2, 2))}
            ),
            "obs/img: dtype float64 cannot be stored as int64",
        ),
    ],
)
def test_buffer_dict_field_errors(obs, match):
    buf = buffer.Buffer.from_data(_dict_data(0, 2))
    with pytest.raises(ValueError, match=match):
        buf.store({"obs": obs, "b": np.arange(2)})


def _transitions(start, n, dict_obs=False, cls=types.Transitions, **extra):
    """Transitions whose obs is the step number and next_obs is one more."""
    t = np.arange(start, start + n + 1, dtype=np.float32)[:, None]
    obs, next_obs = t[:-1], t[1:]
    if dict_obs:
        # Keys, shapes and dtypes of CountingEnv's dict observations.
        obs = types.DictObs({"t": obs, "act": obs % 3})
        next_obs = types.DictObs({"t": next_obs, "act": next_obs % 3})
    return cls(
        obs=obs,
        acts=np.arange(start, start + n) % 3,
        infos=np.array([{"step": i} for i in range(n)]),
        next_obs=next_obs,
        dones=np.arange(n) % 4 == 3,
        **extra,
    )


def _check_transitions(sample, dict_obs):
    assert type(sample) is types.Transitions
    obs = sample.obs.get("t") if dict_obs else sample.obs
    next_obs = sample.next_obs.get("t") if dict_obs else sample.next_obs
    np.testing.assert_array_equal(next_obs, obs + 1)
    np.testing.assert_array_equal(obs[:, 0] % 3, sample.acts)
    if dict_obs:
        np.testing.assert_array_equal(sample.obs.get("act"), obs % 3)
        np.testing.assert_array_equal(sample.next_obs.get("act"), next_obs % 3)


@pytest.mark.parametrize("dict_obs", [False, True])
def test_replay_buffer_round_trip(dict_obs):
    trans = _transitions(0, 20, dict_obs)
    rb = buffer.ReplayBuffer.from_data(trans, rng=np.random.default_rng(0))
    assert rb.capacity == 20 and rb.size() == 20
    sample = rb.sample(50)
    assert len(sample) == 50
    _check_transitions(sample, dict_obs)
    assert sample.obs.dtype == trans.obs.dtype
    assert sample.acts.dtype == trans.acts.dtype
    assert sample.dones.dtype == np.bool_
    assert sample.infos.shape == (50,)
    assert all(info == {} for info in sample.infos)


@pytest.mark.parametrize("dict_obs", [False, True])
def test_replay_buffer_fifo(dict_obs):
    trans = _transitions(0, 3, dict_obs)
    rb = buffer.ReplayBuffer.from_data(trans, capacity=5, rng=_AllIndices())
    rb.store(_transitions(3, 4, dict_obs))
    assert rb.size() == 5
    sample = rb.sample(5)
    obs = sample.obs.get("t") if dict_obs else sample.obs
    assert sorted(obs[:, 0].tolist()) == [2, 3, 4, 5, 6]
    _check_transitions(sample, dict_obs)


def test_replay_buffer_truncates_by_default():
    rb = buffer.ReplayBuffer.from_data(_transitions(0, 4), rng=_AllIndices())
    rb.store(_transitions(10, 9))
    assert sorted(rb.sample(4).obs[:, 0].tolist()) == [15, 16, 17, 18]
    with pytest.raises(ValueError, match="exceeds the capacity"):
        rb.store(_transitions(0, 9), truncate_ok=False)
    with pytest.raises(ValueError, match="exceeds the capacity"):
        buffer.ReplayBuffer.from_data(_transitions(0, 9), capacity=4)
    truncated = buffer.ReplayBuffer.from_data(
        _transitions(0, 9), capacity=4, truncate_ok=True
    )
    assert truncated.size() == 4


def test_replay_buffer_from_empty_transitions():
    with pytest.raises(ValueError, match="Cannot infer the capacity"):
        buffer.ReplayBuffer.from_data(_transitions(0, 0))
    rb = buffer.ReplayBuffer.from_data(_transitions(0, 0), capacity=3)
    assert rb.size() == 0
    with pytest.raises(ValueError, match="empty buffer"):
        rb.sample(1)


def test_replay_buffer_accepts_transitions_with_rew():
    trans = _transitions(0, 5, cls=types.TransitionsWithRew, rews=np.ones(5))
    rb = buffer.ReplayBuffer.from_data(trans)
    assert type(rb.sample(3)) is types.Transitions


def test_replay_buffer_rejects_transitions_minimal():
    rb = buffer.ReplayBuffer.from_data(_transitions(0, 5))
    minimal = types.TransitionsMinimal(
        obs=np.zeros((2, 1), np.float32),
        acts=np.zeros(2, int),
        infos=np.array([{}] * 2),
    )
    with pytest.raises(TypeError, match="Expected Transitions"):
        rb.store(minimal)


@pytest.mark.parametrize("dict_obs", [False, True])
def test_replay_buffer_from_venv(make_counting_venv, dict_obs):
    venv = make_counting_venv([3, 4], dict_obs=dict_obs)
    rb = buffer.ReplayBuffer(10, venv, rng=np.random.default_rng(0))
    assert rb.capacity == 10 and rb.size() == 0
    if dict_obs:
        rb.store(_transitions(0, 4, dict_obs=True))
        _check_transitions(rb.sample(8), dict_obs=True)
    else:
        obs = np.zeros((4, 2), np.float32)
        trans = types.Transitions(
            obs=obs,
            acts=np.arange(4),
            infos=np.array([{}] * 4),
            next_obs=obs + 1,
            dones=np.zeros(4, bool),
        )
        rb.store(trans)
        sample = rb.sample(8)
        assert sample.obs.shape == (8, 2) and sample.obs.dtype == np.float32
        assert sample.acts.dtype == np.int64
    assert rb.size() == 4
    with pytest.raises(ValueError, match="obs"):
        rb.store(_transitions(0, 4, dict_obs=not dict_obs))
    venv.close()


def test_replay_buffer_from_spaces():
    rb = buffer.ReplayBuffer(
        8,
        obs_space=gym.spaces.Box(0, 1, shape=(1,)),
        act_space=gym.spaces.Discrete(3),
    )
    rb.store(_transitions(0, 12))  # truncated to the newest 8
    assert rb.size() == 8
    _check_transitions(rb.sample(10), dict_obs=False)

    dict_space = gym.spaces.Dict(
        {
            "t": gym.spaces.Box(0, np.inf, shape=(1,)),
            "act": gym.spaces.Box(0, np.inf, shape=(1,)),
        }
    )
    rb = buffer.ReplayBuffer(8, obs_space=dict_space, act_space=gym.spaces.Discrete(3))
    rb.store(_transitions(0, 5, dict_obs=True))
    _check_transitions(rb.sample(10), dict_obs=True)


def test_replay_buffer_discrete_observations():
    rb = buffer.ReplayBuffer(
        4,
        obs_space=gym.spaces.Discrete(10),
        act_space=gym.spaces.MultiBinary(2),
    )
    trans = types.Transitions(
        obs=np.arange(3),
        acts=np.ones((3, 2), np.int8),
        infos=np.array([{}] * 3),
        next_obs=np.arange(1, 4),
        dones=np.zeros(3, bool),
    )
    rb.store(trans)
    sample = rb.sample(6)
    assert sample.obs.shape == (6,) and sample.obs.dtype == np.int64
    assert sample.acts.shape == (6, 2) and sample.acts.dtype == np.int8
    np.testing.assert_array_equal(sample.next_obs, sample.obs + 1)


def test_replay_buffer_from_shapes():
    rb = buffer.ReplayBuffer(
        6, obs_shape=(1,), act_shape=(), obs_dtype=np.float32, act_dtype=np.int64
    )
    rb.store(_transitions(0, 3))
    _check_transitions(rb.sample(4), dict_obs=False)
    rb = buffer.ReplayBuffer(
        6,
        obs_shape={"t": (1,), "act": (1,)},
        act_shape=(),
        obs_dtype={"t": np.float32, "act": np.float32},
        act_dtype=np.int64,
    )
    rb.store(_transitions(0, 3, dict_obs=True))
    _check_transitions(rb.sample(4), dict_obs=True)


def test_replay_buffer_store_errors():
    rb = buffer.ReplayBuffer(
        6, obs_shape=(2,), act_shape=(), obs_dtype=np.float32, act_dtype=np.int64
    )
    with pytest.raises(ValueError, match=r"^obs: expected a batch of shape"):
        rb.store(_transitions(0, 3))
    rb = buffer.ReplayBuffer(
        6, obs_shape=(1,), act_shape=(), obs_dtype=np.int64, act_dtype=np.int64
    )
    with pytest.raises(ValueError, match="obs: dtype float32 cannot be stored as int"):
        rb.store(_transitions(0, 3))
    assert rb.size() == 0


_BOX = gym.spaces.Box(0, 1, shape=(1,))
_DISCRETE = gym.spaces.Discrete(3)
_SHAPES = dict(obs_shape=(1,), act_shape=(), obs_dtype=np.float32, act_dtype=int)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "exactly one way"),
        ({"use_venv": True, "obs_space": _BOX, "act_space": _DISCRETE}, "one way"),
        ({"use_venv": True, "obs_shape": (1,)}, "exactly one way"),
        ({"obs_space": _BOX, "act_space": _DISCRETE, **_SHAPES}, "one way"),
        ({"obs_space": _BOX}, "both obs_space and act_space"),
        ({"act_space": _DISCRETE}, "both obs_space and act_space"),
        ({"obs_shape": (1,), "act_shape": ()}, "must all be given"),
        ({**_SHAPES, "act_dtype": None}, "must all be given"),
        (
            {"obs_space": gym.spaces.Tuple([_BOX]), "act_space": _DISCRETE},
            "obs_space: samples of a Tuple space",
        ),
        (
            {"obs_space": gym.spaces.Text(4), "act_space": _DISCRETE},
            "obs_space: samples of a Text space",
        ),
        (
            {
                "obs_space": gym.spaces.Dict({"a": gym.spaces.Dict({"b": _BOX})}),
                "act_space": _DISCRETE,
            },
            r"obs_space\['a'\]: samples of a Dict space",
        ),
        (
            {"obs_space": _BOX, "act_space": gym.spaces.Dict({"a": _DISCRETE})},
            "act_space: samples of a Dict space",
        ),
        ({**_SHAPES, "obs_shape": {"a": (1,)}}, "mapping for both"),
    ],
)
def test_replay_buffer_constructor_errors(make_counting_venv, kwargs, match):
    kwargs = dict(kwargs)
    venv = make_counting_venv([3]) if kwargs.pop("use_venv", False) else None
    with pytest.raises(ValueError, match=match):
        buffer.ReplayBuffer(10, venv, **kwargs)
    if venv is not None:
        venv.close()


def test_replay_buffer_capacity_must_be_positive():
    with pytest.raises(ValueError, match="capacity must be positive"):
        buffer.ReplayBuffer(0, obs_space=_BOX, act_space=_DISCRETE)


def test_num_samples():
    data = {
        "a": np.zeros((4, 2)),
        "b": np.zeros(4),
        "obs": types.DictObs({"x": np.zeros((4, 3))}),
        "next_obs": {"x": np.zeros((4, 3))},
    }
    assert buffer.num_samples(data) == 4
    assert buffer.num_samples({"a": np.zeros((0, 2))}) == 0


def test_num_samples_refuses_different_lengths_and_empty():
    with pytest.raises(ValueError, match=r"different lengths: \{'a': 3, 'b': 2\}"):
        buffer.num_samples({"a": np.zeros(3), "b": np.zeros(2)})
    with pytest.raises(ValueError, match="at least one field"):
        buffer.num_samples({})
