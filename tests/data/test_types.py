"""Property-based tests for imitation.data.types."""

from __future__ import annotations

import dataclasses
import pickle
import re

import numpy as np
import pytest
import torch as th
import torch.utils.data as th_data
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from imitation.data import types

fast = settings(max_examples=25, deadline=None)

DTYPES = [np.float32, np.float64, np.int64, np.uint8, np.bool_]
seeds = st.integers(0, 2**32 - 1)
lengths = st.integers(1, 10)
sample_shapes = hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3)
array_layouts = st.tuples(sample_shapes, st.sampled_from(DTYPES))
dict_layouts = st.dictionaries(
    st.sampled_from(["a", "b", "pos", "img"]), array_layouts, min_size=1, max_size=3
)
obs_layouts = array_layouts | dict_layouts


def _values(rng, n, layout):
    """A batch of ``n`` finite values with the given (shape, dtype) layout."""
    shape, dtype = layout
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random((n, *shape)) < 0.5
    if dtype.kind == "f":
        return rng.normal(size=(n, *shape)).astype(dtype)
    return rng.integers(0, 100, size=(n, *shape)).astype(dtype)


def _obs(rng, n, layout):
    """Observations: an array, or a DictObs for a dict layout."""
    if isinstance(layout, dict):
        return types.DictObs({k: _values(rng, n, v) for k, v in layout.items()})
    return _values(rng, n, layout)


def _infos(n):
    return np.array([{"i": i, "v": np.arange(i)} for i in range(n)])


@st.composite
def trajectories(draw, with_rew=None):
    n = draw(lengths)
    rng = np.random.default_rng(draw(seeds))
    fields = dict(
        obs=_obs(rng, n + 1, draw(obs_layouts)),
        acts=_values(rng, n, draw(array_layouts)),
        infos=_infos(n) if draw(st.booleans()) else None,
        terminal=draw(st.booleans()),
    )
    if with_rew is None:
        with_rew = draw(st.booleans())
    if with_rew:
        return types.TrajectoryWithRew(**fields, rews=rng.normal(size=n))
    return types.Trajectory(**fields)


@st.composite
def transitions(draw, cls=None, dict_obs=None):
    n = draw(lengths)
    rng = np.random.default_rng(draw(seeds))
    if dict_obs is None:
        layout = draw(obs_layouts)
    else:
        layout = draw(dict_layouts if dict_obs else array_layouts)
    if cls is None:
        cls = draw(
            st.sampled_from(
                [types.TransitionsMinimal, types.Transitions, types.TransitionsWithRew]
            )
        )
    fields = dict(
        obs=_obs(rng, n, layout),
        acts=_values(rng, n, draw(array_layouts)),
        infos=_infos(n),
    )
    if issubclass(cls, types.Transitions):
        fields["next_obs"] = _obs(rng, n, layout)
        fields["dones"] = rng.random(n) < 0.3
    if issubclass(cls, types.TransitionsWithRew):
        fields["rews"] = rng.normal(size=n)
    return cls(**fields)


def _bumped(x):
    """A value of the same type as ``x`` that differs from it."""
    return not x if isinstance(x, np.bool_) else x + 1


def _fields(obj):
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def _assert_same_obs(x, y):
    assert isinstance(x, types.DictObs) == isinstance(y, types.DictObs)
    if isinstance(x, types.DictObs):
        assert x == y
    else:
        np.testing.assert_array_equal(x, y)


# Trajectories: valid construction, equality, pickling.


@fast
@given(trajectories())
def test_valid_trajectory(traj):
    assert len(traj) == len(traj.acts) == len(traj.obs) - 1
    assert traj == dataclasses.replace(traj)
    assert traj != dataclasses.replace(traj, terminal=not traj.terminal)
    acts = traj.acts.copy()
    acts.flat[0] = _bumped(acts.flat[0])
    assert traj != dataclasses.replace(traj, acts=acts)


@fast
@given(trajectories(with_rew=True))
def test_trajectory_with_rew_differs_from_trajectory(traj):
    fields = _fields(traj)
    del fields["rews"]
    plain = types.Trajectory(**fields)
    assert plain != traj and traj != plain
    assert traj != dataclasses.replace(traj, rews=traj.rews + 1)


@fast
@given(st.one_of(trajectories(), transitions()))
def test_pickle_round_trip(obj):
    restored = pickle.loads(pickle.dumps(obj))
    assert type(restored) is type(obj)
    assert restored == obj
    _assert_same_obs(restored.obs, obj.obs)


# Construction and validation errors.


@fast
@given(lengths, st.integers(-5, 5).filter(lambda d: d != 1), st.booleans())
def test_trajectory_obs_acts_length_mismatch(n, delta, dict_obs):
    n_obs = max(n + delta, 1)
    obs = np.zeros((n_obs, 2))
    if dict_obs:
        obs = types.DictObs({"a": obs})
    with pytest.raises(ValueError, match=rf"len\(obs\)={n_obs}, len\(acts\)={n}\."):
        types.Trajectory(obs=obs, acts=np.zeros(n), infos=None, terminal=True)


@fast
@given(lengths, st.integers(1, 10))
def test_transitions_obs_acts_length_mismatch(n, m):
    if m == n:
        m += 1
    with pytest.raises(ValueError, match=rf"len\(obs\)={m}, len\(acts\)={n}\."):
        types.TransitionsMinimal(
            obs=np.zeros((m, 1)), acts=np.zeros(n), infos=np.array([{}] * n)
        )


@fast
@given(lengths, st.integers(0, 10), st.booleans())
def test_infos_length_mismatch(n, m, trajectory):
    if m == n:
        m += 1
    infos = np.array([{} for _ in range(m)])
    match = rf"len\(infos\)={m}, len\(acts\)={n}\."
    with pytest.raises(ValueError, match=match):
        if trajectory:
            types.Trajectory(
                obs=np.zeros((n + 1, 1)), acts=np.zeros(n), infos=infos, terminal=False
            )
        else:
            types.TransitionsMinimal(
                obs=np.zeros((n, 1)), acts=np.zeros(n), infos=infos
            )


@pytest.mark.parametrize("cls", [types.Trajectory, types.TrajectoryWithRew])
def test_empty_trajectory_rejected(cls):
    extra = {"rews": np.zeros(0)} if cls is types.TrajectoryWithRew else {}
    with pytest.raises(ValueError, match="at least one action"):
        cls(obs=np.zeros((1, 2)), acts=np.zeros(0), infos=None, terminal=True, **extra)


def _with_nan(rng, arr):
    arr = arr.astype(np.float64)
    arr[tuple(rng.integers(0, s) for s in arr.shape)] = np.nan
    return arr


@fast
@given(
    trajectories(with_rew=True),
    st.sampled_from(["obs", "acts", "rews"]),
    seeds,
)
def test_nan_rejected_in_trajectory(traj, field, seed):
    rng = np.random.default_rng(seed)
    value = getattr(traj, field)
    if isinstance(value, types.DictObs):
        key = next(iter(value.keys()))
        value = types.DictObs({**value.unwrap(), key: _with_nan(rng, value.get(key))})
    else:
        value = _with_nan(rng, value)
    with pytest.raises(ValueError, match=f"^{field} contains NaN"):
        dataclasses.replace(traj, **{field: value})


@fast
@given(transitions(cls=types.TransitionsWithRew, dict_obs=False), seeds)
def test_nan_rejected_in_transitions(trans, seed):
    rng = np.random.default_rng(seed)
    for field in ("obs", "next_obs"):
        value = _with_nan(rng, getattr(trans, field))
        other = "next_obs" if field == "obs" else "obs"
        with pytest.raises(ValueError, match=f"^{field} contains NaN"):
            dataclasses.replace(
                trans, **{field: value, other: getattr(trans, other).astype(float)}
            )


def _with_value(rng, arr, value):
    arr = arr.astype(np.float64)
    index = tuple(int(rng.integers(0, s)) for s in arr.shape)
    arr[index] = value
    return arr, index


_KIND = {np.inf: r"\+inf", -np.inf: "-inf"}


@fast
@given(
    trajectories(with_rew=True),
    st.sampled_from(["obs", "acts", "rews"]),
    st.sampled_from([np.inf, -np.inf]),
    seeds,
)
def test_inf_rejected_in_trajectory(traj, field, value, seed):
    rng = np.random.default_rng(seed)
    arr = getattr(traj, field)
    if isinstance(arr, types.DictObs):
        key = next(iter(arr.keys()))
        bad, index = _with_value(rng, arr.get(key), value)
        arr = types.DictObs({**arr.unwrap(), key: bad})
        where = rf"under key '{key}': 1 of {bad.size}"
    else:
        arr, index = _with_value(rng, arr, value)
        where = f"1 of {arr.size}"
    where += ", the first at index " + re.escape(
        str(index[0] if len(index) == 1 else index)
    )
    fix = "rewards must be finite" if field == "rews" else "clean the data"
    with pytest.raises(
        ValueError,
        match=f"^{field} contains {_KIND[value]} values \\({where}\\); {fix}",
    ):
        dataclasses.replace(traj, **{field: arr})


@fast
@given(transitions(cls=types.TransitionsWithRew, dict_obs=False), seeds)
def test_inf_rejected_in_transitions(trans, seed):
    rng = np.random.default_rng(seed)
    for field in ("obs", "next_obs", "rews"):
        value, _ = _with_value(rng, getattr(trans, field), -np.inf)
        changes = {field: value}
        if field != "rews":
            other = "next_obs" if field == "obs" else "obs"
            changes[other] = getattr(trans, other).astype(float)
        with pytest.raises(ValueError, match=f"^{field} contains -inf values"):
            dataclasses.replace(trans, **changes)


def test_non_finite_kinds_are_all_named():
    obs = np.zeros((4, 2))
    obs[1, 1], obs[2, 0], obs[3, 0] = np.inf, np.nan, -np.inf
    with pytest.raises(
        ValueError,
        match=r"^obs contains NaN and \+inf and -inf values \(3 of 8, the first at "
        r"index \(1, 1\)\); clean the data \(e\.g\. np\.nan_to_num",
    ):
        types.Trajectory(obs=obs, acts=np.zeros(3), infos=None, terminal=True)
    # Huge but finite values pass.
    big = np.full((4, 2), np.finfo(np.float64).max)
    types.Trajectory(obs=big, acts=np.zeros(3, int), infos=None, terminal=True)


@fast
@given(trajectories(), st.sampled_from(["obs", "acts"]), st.sampled_from([object, str]))
def test_non_numeric_dtype_rejected_in_trajectory(traj, field, dtype):
    value = getattr(traj, field)
    if isinstance(value, types.DictObs):
        key = next(iter(value.keys()))
        bad = types.DictObs({**value.unwrap(), key: value.get(key).astype(dtype)})
    else:
        bad = value.astype(dtype)
    with pytest.raises(ValueError, match=f"^{field} must have a numeric or bool"):
        dataclasses.replace(traj, **{field: bad})


@fast
@given(transitions(cls=types.Transitions, dict_obs=False))
def test_object_dtype_rejected_in_transitions(trans):
    for field in ("obs", "acts"):
        bad = getattr(trans, field).astype(object)
        with pytest.raises(ValueError, match=f"^{field} must have a numeric or bool"):
            dataclasses.replace(trans, **{field: bad})
    with pytest.raises(ValueError, match="obs and next_obs must have the same dtype"):
        dataclasses.replace(trans, next_obs=trans.next_obs.astype(object))


@fast
@given(
    trajectories(with_rew=True),
    hnp.array_shapes(min_dims=1, max_dims=2, max_side=12),
)
def test_rews_wrong_shape(traj, shape):
    if shape == (len(traj),):
        shape = (len(traj), 1)
    with pytest.raises(ValueError, match=re.escape(f"({len(traj)},), got {shape}.")):
        dataclasses.replace(traj, rews=np.zeros(shape))


@fast
@given(
    st.one_of(trajectories(with_rew=True), transitions(cls=types.TransitionsWithRew)),
    st.sampled_from([np.int64, np.int8, np.bool_, np.uint8, np.complex64]),
)
def test_rews_wrong_dtype(obj, dtype):
    with pytest.raises(ValueError, match=f"float dtype, got {np.dtype(dtype)}"):
        dataclasses.replace(obj, rews=obj.rews.astype(dtype))


def test_rews_must_be_an_array():
    with pytest.raises(ValueError, match="rews must be a numpy array, got list"):
        types.TrajectoryWithRew(
            obs=np.zeros((3, 1)),
            acts=np.zeros(2),
            infos=None,
            terminal=True,
            rews=[0.0, 1.0],
        )


@fast
@given(
    transitions(cls=types.Transitions),
    st.sampled_from([np.int64, np.uint8, np.float32, np.float64]),
)
def test_dones_wrong_dtype(trans, dtype):
    with pytest.raises(
        ValueError, match=f"dones must have dtype bool, got {np.dtype(dtype)}"
    ):
        dataclasses.replace(trans, dones=trans.dones.astype(dtype))


@fast
@given(transitions(cls=types.Transitions), st.integers(0, 10))
def test_dones_wrong_length(trans, m):
    n = len(trans)
    if m == n:
        m += 1
    with pytest.raises(ValueError, match=rf"dones.shape=\({m},\), len\(acts\)={n}\."):
        dataclasses.replace(trans, dones=np.zeros(m, dtype=bool))


@fast
@given(transitions(cls=types.Transitions, dict_obs=False), sample_shapes)
def test_obs_next_obs_shape_mismatch(trans, shape):
    n = len(trans)
    if (n, *shape) == trans.obs.shape:
        shape = (*shape, 2)
    next_obs = np.zeros((n, *shape), dtype=trans.obs.dtype)
    with pytest.raises(ValueError, match="obs and next_obs must have the same shape"):
        dataclasses.replace(trans, next_obs=next_obs)
    shapes = f"obs.shape={trans.obs.shape}, next_obs.shape={trans.obs[:-1].shape}"
    with pytest.raises(ValueError, match=re.escape(shapes)):
        dataclasses.replace(trans, next_obs=trans.next_obs[:-1])


@fast
@given(transitions(cls=types.Transitions, dict_obs=True))
def test_obs_next_obs_kind_and_keys_mismatch(trans):
    with pytest.raises(ValueError, match="both be DictObs or both arrays"):
        dataclasses.replace(trans, next_obs=next(iter(trans.next_obs.values())))
    renamed = types.DictObs({f"{k}_": v for k, v in trans.next_obs.items()})
    with pytest.raises(ValueError, match="same shape"):
        dataclasses.replace(trans, next_obs=renamed)


def test_other_validation_errors():
    with pytest.raises(ValueError, match="infos must be an array of dicts"):
        types.TransitionsMinimal(obs=np.zeros((2, 1)), acts=np.zeros(2), infos=None)
    with pytest.raises(ValueError, match="infos must be a numpy array"):
        types.Trajectory(
            obs=np.zeros((3, 1)), acts=np.zeros(2), infos={"a": 1}, terminal=True
        )
    with pytest.raises(ValueError, match="terminal must be a bool"):
        types.Trajectory(obs=np.zeros((3, 2)), acts=np.zeros(2), infos=None, terminal=1)
    with pytest.raises(ValueError, match="acts must be a numpy array"):
        types.Trajectory(obs=np.zeros((3, 2)), acts=[0, 1], infos=None, terminal=True)
    with pytest.raises(ValueError, match="obs must have a leading axis"):
        types.TransitionsMinimal(obs=np.array(1.0), acts=np.zeros(1), infos=None)


# Indexing and slicing of transitions.


@fast
@given(transitions(), st.data())
def test_transitions_int_index(trans, data):
    n = len(trans)
    i = data.draw(st.integers(-n, n - 1))
    item = trans[i]
    assert isinstance(item, dict)
    assert item.keys() == {f.name for f in dataclasses.fields(trans)}
    for name, value in _fields(trans).items():
        if isinstance(value, types.DictObs):
            assert isinstance(item[name], dict)
            for key, arr in value.items():
                np.testing.assert_array_equal(item[name][key], arr[i])
        elif name == "infos":
            assert item[name] is value[i]
        else:
            np.testing.assert_array_equal(item[name], value[i])
    assert trans[np.int64(i)].keys() == item.keys()
    with pytest.raises(IndexError):
        trans[n]


@fast
@given(transitions(), st.data())
def test_transitions_slice(trans, data):
    n = len(trans)
    bounds = st.none() | st.integers(-n - 2, n + 2)
    step = data.draw(st.none() | st.integers(1, 3) | st.integers(-3, -1))
    key = slice(data.draw(bounds), data.draw(bounds), step)
    part = trans[key]
    assert type(part) is type(trans)
    assert len(part) == len(range(n)[key])
    for name, value in _fields(trans).items():
        if name == "infos":
            assert list(getattr(part, name)) == list(value[key])
        else:
            _assert_same_obs(getattr(part, name), value[key])


@fast
@given(transitions(), st.data())
def test_transitions_index_array(trans, data):
    n = len(trans)
    idx = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=2 * n))
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    for key, expected in [
        (np.array(idx), np.array(idx)),
        (idx, np.array(idx)),
        (mask, np.flatnonzero(mask)),
    ]:
        part = trans[key]
        assert type(part) is type(trans) and len(part) == len(expected)
        np.testing.assert_array_equal(part.acts, trans.acts[expected])
        _assert_same_obs(part.obs, trans.obs[expected])


@fast
@given(transitions())
def test_transitions_iteration(trans):
    items = list(trans)
    assert len(items) == len(trans)
    for i, item in enumerate(items):
        np.testing.assert_array_equal(item["acts"], trans.acts[i])


@pytest.mark.parametrize("key", ["obs", 1.5, (0, 1)])
def test_transitions_bad_index_type(key):
    trans = types.TransitionsMinimal(
        obs=np.zeros((3, 1)), acts=np.zeros(3), infos=np.array([{}] * 3)
    )
    with pytest.raises(TypeError, match="indexed by int, slice or index array"):
        trans[key]


# DictObs.


@st.composite
def dict_obs(draw, min_len=0):
    n = draw(st.integers(min_len, 8))
    rng = np.random.default_rng(draw(seeds))
    return _obs(rng, n, draw(dict_layouts))


@fast
@given(dict_obs(), st.data())
def test_dictobs_indexing(d, data):
    n = len(d)
    assert all(len(v) == n for v in d.values())
    assert d.shape == {k: v.shape for k, v in d.items()}
    assert d.dtype == {k: v.dtype for k, v in d.items()}
    unwrapped = d.unwrap()
    assert unwrapped.keys() == d.keys()
    assert all(unwrapped[k] is d.get(k) for k in unwrapped)
    lo = data.draw(st.integers(-n, n))
    part = d[lo:]
    assert isinstance(part, types.DictObs) and len(part) == len(range(n)[lo:])
    key = next(iter(d.keys()))
    with pytest.raises(TypeError, match=rf"\.get\('{key}'\)"):
        d[key]
    if n == 0:
        return
    i = data.draw(st.integers(-n, n - 1))
    item = d[i]
    assert isinstance(item, dict) and item.keys() == d.keys()
    for k, v in d.items():
        np.testing.assert_array_equal(item[k], v[i])
    idx = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1)))
    chosen = d[idx]
    assert isinstance(chosen, types.DictObs) and len(chosen) == len(idx)
    for k, v in d.items():
        np.testing.assert_array_equal(chosen.get(k), v[idx])


@fast
@given(dict_layouts, st.integers(0, 6), st.integers(0, 6), seeds)
def test_dictobs_concatenate(layout, n1, n2, seed):
    rng = np.random.default_rng(seed)
    d1, d2 = _obs(rng, n1, layout), _obs(rng, n2, layout)
    both = types.DictObs.concatenate([d1, d2])
    assert len(both) == n1 + n2
    assert both[:n1] == d1 and both[n1:] == d2
    assert types.concatenate_maybe_dictobs([d1, d2]) == both
    assert types.DictObs.concatenate([d1]) == d1
    renamed = types.DictObs({f"{k}_": v for k, v in d2.items()})
    with pytest.raises(ValueError, match="Cannot concatenate DictObs with keys"):
        types.DictObs.concatenate([d1, renamed])


@fast
@given(dict_obs(min_len=1))
def test_dictobs_stack_round_trip(d):
    items = [d[i] for i in range(len(d))]
    assert types.DictObs.stack(items) == d
    assert types.DictObs.from_obs_list(items) == d
    assert types.stack_maybe_dictobs(items) == d
    stacked = types.DictObs.stack([d, d])
    assert stacked.shape == {k: (2, *s) for k, s in d.shape.items()}


@fast
@given(dict_obs())
def test_dictobs_equality(d):
    copy = types.DictObs({k: v.copy() for k, v in d.items()})
    assert d == copy
    assert not d != copy  # noqa: SIM202 - exercises __ne__
    assert d != types.DictObs({**d.unwrap(), "extra": np.zeros(len(d))})
    assert d.__eq__(d.unwrap()) is NotImplemented
    assert pickle.loads(pickle.dumps(d)) == d
    assert d.map_arrays(lambda a: a[:0]).shape == {
        k: (0, *s[1:]) for k, s in d.shape.items()
    }
    if len(d):
        key = next(iter(d.keys()))
        changed = d.get(key).copy()
        changed.flat[0] = _bumped(changed.flat[0])
        assert d != types.DictObs({**d.unwrap(), key: changed})


def test_dictobs_constructor_errors():
    with pytest.raises(ValueError, match="non-empty mapping"):
        types.DictObs({})
    with pytest.raises(ValueError, match="different leading lengths"):
        types.DictObs({"a": np.zeros(2), "b": np.zeros(3)})
    with pytest.raises(ValueError, match="'a' is a scalar"):
        types.DictObs({"a": np.float32(1.0)})
    with pytest.raises(ValueError, match="torch.Tensor"):
        types.DictObs({"a": th.zeros(2)})
    with pytest.raises(ValueError, match="empty list"):
        types.DictObs.from_obs_list([])
    with pytest.raises(ValueError, match="empty list"):
        types.DictObs.concatenate([])


# Helpers.


@fast
@given(
    st.lists(
        st.tuples(st.integers(0, 5), seeds),
        min_size=1,
        max_size=4,
    ),
    sample_shapes,
)
def test_concatenate_maybe_dictobs_arrays(parts, shape):
    arrs = [np.random.default_rng(s).normal(size=(n, *shape)) for n, s in parts]
    out = types.concatenate_maybe_dictobs(arrs)
    np.testing.assert_array_equal(out, np.concatenate(arrs))
    as_dicts = [types.DictObs({"x": a}) for a in arrs]
    out_dict = types.concatenate_maybe_dictobs(as_dicts)
    assert isinstance(out_dict, types.DictObs)
    np.testing.assert_array_equal(out_dict.get("x"), out)
    with pytest.raises(TypeError, match="mix"):
        types.concatenate_maybe_dictobs([*arrs, as_dicts[0]])
    with pytest.raises(TypeError, match="mix"):
        types.concatenate_maybe_dictobs([as_dicts[0], *arrs])


def test_concatenate_and_stack_maybe_dictobs_empty():
    with pytest.raises(ValueError, match="empty"):
        types.concatenate_maybe_dictobs([])
    with pytest.raises(ValueError, match="empty"):
        types.stack_maybe_dictobs([])


def test_wrap_and_unwrap_dictobs():
    arrays = {"a": np.zeros((2, 1))}
    wrapped = types.maybe_wrap_in_dictobs(arrays)
    assert isinstance(wrapped, types.DictObs)
    assert types.maybe_unwrap_dictobs(wrapped)["a"] is arrays["a"]
    arr = np.zeros(3)
    assert types.maybe_wrap_in_dictobs(arr) is arr
    assert types.maybe_unwrap_dictobs(arr) is arr
    with pytest.raises(TypeError, match="Tuple observation spaces"):
        types.maybe_wrap_in_dictobs((arr, arr))
    with pytest.raises(TypeError, match="dict observations"):
        types.assert_not_dictobs(wrapped)


@fast
@given(st.one_of(trajectories(), transitions()))
def test_dataclass_quick_asdict_is_shallow(obj):
    d = types.dataclass_quick_asdict(obj)
    assert list(d) == [f.name for f in dataclasses.fields(obj)]
    assert all(d[name] is getattr(obj, name) for name in d)


@fast
@given(transitions(), st.integers(1, 12))
def test_collate_fn_with_dataloader(trans, batch_size):
    loader = th_data.DataLoader(
        trans, batch_size=batch_size, collate_fn=types.transitions_collate_fn
    )
    batches = list(loader)
    assert len(batches) == -(-len(trans) // batch_size)
    for name, value in _fields(trans).items():
        parts = [b[name] for b in batches]
        if name == "infos":
            assert all(isinstance(p, list) for p in parts)
            assert [i["i"] for p in parts for i in p] == [i["i"] for i in value]
        elif isinstance(value, types.DictObs):
            for key, arr in value.items():
                joined = th.cat([p[key] for p in parts])
                np.testing.assert_array_equal(joined.numpy(), arr)
        else:
            assert all(isinstance(p, th.Tensor) for p in parts)
            np.testing.assert_array_equal(th.cat(parts).numpy(), value)


def test_collate_fn_empty_batch():
    with pytest.raises(ValueError, match="empty batch"):
        types.transitions_collate_fn([])


@fast
@given(transitions(), st.integers(1, 12))
def test_batches_concatenate_back_into_transitions(trans, batch_size):
    loader = th_data.DataLoader(
        trans, batch_size=batch_size, collate_fn=types.transitions_collate_fn
    )
    back = types.transitions_from_batches(list(loader))
    with_next = isinstance(trans, types.Transitions)
    assert type(back) is (types.Transitions if with_next else types.TransitionsMinimal)
    for name, value in _fields(back).items():
        if name == "infos":
            assert list(value) == [{}] * len(trans)  # infos are left out
        else:
            _assert_same_obs(value, getattr(trans, name))


def test_batches_concatenate_errors():
    with pytest.raises(ValueError, match="got no batches"):
        types.transitions_from_batches([])
    batches = [{"obs": np.zeros(2), "acts": np.zeros(2)}, {"obs": np.zeros(2)}]
    with pytest.raises(ValueError, match=r"key 'acts'; batch 1 has only \['obs'\]"):
        types.transitions_from_batches(batches)


# Known bugs in types.py (see the report accompanying these tests).


def test_trajectories_with_array_and_dict_obs_compare_unequal():
    """Equality must return False, not raise, when only one obs is a DictObs."""
    arr = types.Trajectory(
        obs=np.zeros((3, 2)), acts=np.zeros(2), infos=None, terminal=True
    )
    d = types.Trajectory(
        obs=types.DictObs({"x": np.zeros((3, 2))}),
        acts=np.zeros(2),
        infos=None,
        terminal=True,
    )
    assert arr != d
    assert d != arr


def test_transitions_empty_index_list():
    """An empty index list selects no transitions, like an empty index array."""
    trans = types.TransitionsMinimal(
        obs=np.zeros((3, 1)), acts=np.zeros(3), infos=np.array([{}] * 3)
    )
    assert len(trans[np.array([], dtype=np.intp)]) == 0
    assert len(trans[[]]) == 0


# Infos given as a list of dicts (as the original release accepted).


@pytest.mark.parametrize("container", [list, tuple])
def test_infos_list_becomes_object_array(container):
    infos = container([{"a": [1, 2]}, {"a": [3, 4]}])
    traj = types.TrajectoryWithRew(
        obs=np.zeros((3, 1)),
        acts=np.zeros(2),
        infos=infos,
        terminal=True,
        rews=np.zeros(2),
    )
    assert isinstance(traj.infos, np.ndarray)
    assert traj.infos.dtype == object and traj.infos.shape == (2,)
    assert traj.infos[1] == {"a": [3, 4]}  # Not broadcast into a 2-D array.
    trans = types.Transitions(
        obs=np.zeros((2, 1)),
        acts=np.zeros(2),
        infos=container([{}, {"b": 1}]),
        next_obs=np.zeros((2, 1)),
        dones=np.zeros(2, dtype=bool),
    )
    assert trans.infos.dtype == object and trans.infos[1] == {"b": 1}
    assert trans[1]["infos"] == {"b": 1}


def test_infos_list_of_wrong_length_refused():
    with pytest.raises(ValueError, match=r"len\(infos\)=1, len\(acts\)=2"):
        types.Trajectory(
            obs=np.zeros((3, 1)), acts=np.zeros(2), infos=[{}], terminal=False
        )


def test_infos_list_equal_to_array():
    kwargs = {"obs": np.zeros((3, 1)), "acts": np.zeros(2), "terminal": True}
    from_list = types.Trajectory(infos=[{"x": 1}, {}], **kwargs)
    from_array = types.Trajectory(infos=np.array([{"x": 1}, {}]), **kwargs)
    assert from_list == from_array


def test_pair_aliases():
    assert types.TrajectoryPair == tuple[types.Trajectory, types.Trajectory]
    assert (
        types.TrajectoryWithRewPair
        == tuple[types.TrajectoryWithRew, types.TrajectoryWithRew]
    )
    assert types.Pair[int] == tuple[int, int]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.arange(3), np.arange(3) * 2),
        ({"a": np.ones(2), "b": np.zeros(2)}, {"a": np.ones(2) * 2, "b": np.zeros(2)}),
    ],
)
def test_map_maybe_dict(value, expected):
    result = types.map_maybe_dict(lambda x: x * 2, value)
    if isinstance(expected, dict):
        assert isinstance(result, dict) and result.keys() == expected.keys()
        for key in expected:
            np.testing.assert_array_equal(result[key], expected[key])
    else:
        np.testing.assert_array_equal(result, expected)


def test_map_maybe_dict_keeps_dictobs():
    obs = types.DictObs({"a": np.arange(3), "b": np.ones((3, 2))})
    doubled = types.map_maybe_dict(lambda x: x * 2, obs)
    assert isinstance(doubled, types.DictObs)
    np.testing.assert_array_equal(doubled.get("a"), np.arange(3) * 2)
    np.testing.assert_array_equal(doubled.get("b"), np.full((3, 2), 2.0))


def test_transition_mapping_typed_dicts():
    assert types.TransitionMappingNoNextObs.__required_keys__ == {"obs", "acts"}
    assert types.TransitionMapping.__required_keys__ == {
        "obs",
        "acts",
        "next_obs",
        "dones",
    }
    assert "infos" in types.TransitionMapping.__optional_keys__


def test_without_infos_keeps_class_and_data():
    obs = np.zeros((3, 2), np.float32)
    acts = np.zeros((2,), np.int64)
    infos = np.array([{"a": 1}, {"a": 2}])
    traj = types.TrajectoryWithRew(
        obs=obs, acts=acts, infos=infos, terminal=True, rews=np.ones(2, np.float32)
    )
    stripped = traj.without_infos()
    assert type(stripped) is types.TrajectoryWithRew and stripped.infos is None
    np.testing.assert_array_equal(stripped.rews, traj.rews)
    assert stripped.without_infos() is stripped
