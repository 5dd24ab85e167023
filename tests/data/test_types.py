"""Tests for imitation.data.types."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch.utils.data as th_data
from hypothesis import given, settings
from hypothesis import strategies as st

from imitation.data import types

lengths = st.integers(min_value=1, max_value=20)
obs_shapes = st.sampled_from([(), (3,), (2, 2)])


def _traj(n, obs_shape=(3,), rews=True, infos=False, terminal=True):
    fields = dict(
        obs=np.arange((n + 1) * int(np.prod(obs_shape)), dtype=np.float32).reshape(
            (n + 1, *obs_shape)
        ),
        acts=np.arange(n),
        infos=np.array([{"i": i} for i in range(n)]) if infos else None,
        terminal=terminal,
    )
    if rews:
        return types.TrajectoryWithRew(**fields, rews=np.arange(n, dtype=float))
    return types.Trajectory(**fields)


@settings(max_examples=25, deadline=None)
@given(lengths, obs_shapes, st.booleans(), st.booleans())
def test_valid_trajectories(n, obs_shape, rews, infos):
    traj = _traj(n, obs_shape, rews, infos)
    assert len(traj) == n
    assert traj == _traj(n, obs_shape, rews, infos)
    assert pickle.loads(pickle.dumps(traj)) == traj


@settings(max_examples=25, deadline=None)
@given(lengths, st.sampled_from([-1, 0, 2, 3]))
def test_obs_length_mismatch_names_fields(n, delta):
    with pytest.raises(ValueError, match=rf"len\(obs\)={n + delta}, len\(acts\)={n}"):
        types.Trajectory(
            obs=np.zeros((n + delta, 2)), acts=np.zeros(n), infos=None, terminal=True
        )


def test_trajectory_validation_errors():
    with pytest.raises(ValueError, match="at least one action"):
        types.Trajectory(
            obs=np.zeros((1, 2)), acts=np.zeros(0), infos=None, terminal=True
        )
    with pytest.raises(ValueError, match="NaN"):
        obs = np.zeros((3, 2))
        obs[1, 0] = np.nan
        types.Trajectory(obs=obs, acts=np.zeros(2), infos=None, terminal=True)
    with pytest.raises(ValueError, match="numeric"):
        types.Trajectory(
            obs=np.array([["a"], ["b"]], dtype=object),
            acts=np.zeros(1),
            infos=None,
            terminal=True,
        )
    with pytest.raises(ValueError, match="infos and acts"):
        types.Trajectory(
            obs=np.zeros((3, 2)), acts=np.zeros(2), infos=np.array([{}]), terminal=True
        )
    with pytest.raises(ValueError, match="rews must have shape"):
        types.TrajectoryWithRew(
            obs=np.zeros((3, 2)),
            acts=np.zeros(2),
            infos=None,
            terminal=True,
            rews=np.zeros(3),
        )
    with pytest.raises(ValueError, match="float dtype"):
        types.TrajectoryWithRew(
            obs=np.zeros((3, 2)),
            acts=np.zeros(2),
            infos=None,
            terminal=True,
            rews=np.zeros(2, dtype=np.int64),
        )
    with pytest.raises(ValueError, match="terminal must be a bool"):
        types.Trajectory(obs=np.zeros((3, 2)), acts=np.zeros(2), infos=None, terminal=1)


def _transitions(n, obs=None):
    obs = np.arange(n, dtype=np.float32)[:, None] if obs is None else obs
    return types.TransitionsWithRew(
        obs=obs,
        acts=np.arange(n),
        infos=np.array([{}] * n),
        next_obs=obs + 1 if not isinstance(obs, types.DictObs) else obs,
        dones=np.zeros(n, dtype=bool),
        rews=np.zeros(n),
    )


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 30), st.data())
def test_transitions_indexing(n, data):
    trans = _transitions(n)
    i = data.draw(st.integers(0, n - 1))
    item = trans[i]
    assert item["obs"][0] == i and item["acts"] == i and item["next_obs"][0] == i + 1
    lo = data.draw(st.integers(0, n))
    hi = data.draw(st.integers(lo, n))
    part = trans[lo:hi]
    assert isinstance(part, types.TransitionsWithRew) and len(part) == hi - lo
    np.testing.assert_array_equal(part.acts, np.arange(lo, hi))
    idx = np.array([n - 1, 0])
    chosen = trans[idx]
    np.testing.assert_array_equal(chosen.acts, idx)


def test_transitions_validation():
    with pytest.raises(ValueError, match=r"len\(obs\)=3, len\(acts\)=2"):
        types.TransitionsMinimal(
            obs=np.zeros((3, 1)), acts=np.zeros(2), infos=np.array([{}] * 2)
        )
    with pytest.raises(ValueError, match="same shape"):
        types.Transitions(
            obs=np.zeros((2, 1)),
            acts=np.zeros(2),
            infos=np.array([{}] * 2),
            next_obs=np.zeros((2, 2)),
            dones=np.zeros(2, dtype=bool),
        )
    with pytest.raises(ValueError, match="dtype bool"):
        types.Transitions(
            obs=np.zeros((2, 1)),
            acts=np.zeros(2),
            infos=np.array([{}] * 2),
            next_obs=np.zeros((2, 1)),
            dones=np.zeros(2),
        )
    with pytest.raises(ValueError, match="infos must be an array"):
        types.TransitionsMinimal(obs=np.zeros((2, 1)), acts=np.zeros(2), infos=None)


def test_dictobs_behaviour():
    d = types.DictObs({"a": np.arange(6).reshape(3, 2), "b": np.arange(3)})
    assert len(d) == 3
    assert d.shape == {"a": (3, 2), "b": (3,)}
    assert isinstance(d[1], dict) and d[1]["b"] == 1
    assert len(d[1:]) == 2
    both = types.DictObs.concatenate([d, d[:1]])
    assert len(both) == 4
    stacked = types.DictObs.stack([d[0], d[2]])
    np.testing.assert_array_equal(stacked.get("b"), [0, 2])
    assert d == types.DictObs({"a": np.arange(6).reshape(3, 2), "b": np.arange(3)})
    with pytest.raises(ValueError, match="different leading lengths"):
        types.DictObs({"a": np.zeros(2), "b": np.zeros(3)})
    with pytest.raises(TypeError, match="get"):
        d["a"]
    with pytest.raises(ValueError, match="non-empty"):
        types.DictObs({})


def test_concatenate_and_stack_maybe_dictobs():
    arrs = [np.zeros((2, 3)), np.ones((1, 3))]
    assert types.concatenate_maybe_dictobs(arrs).shape == (3, 3)
    d = types.DictObs({"a": np.zeros((2, 1))})
    assert len(types.concatenate_maybe_dictobs([d, d])) == 4
    with pytest.raises(TypeError, match="mix"):
        types.concatenate_maybe_dictobs([d, np.zeros((2, 1))])
    with pytest.raises(ValueError, match="empty"):
        types.concatenate_maybe_dictobs([])
    assert types.stack_maybe_dictobs([np.zeros(3), np.ones(3)]).shape == (2, 3)


def test_dataclass_quick_asdict_is_shallow():
    trans = _transitions(3)
    d = types.dataclass_quick_asdict(trans)
    assert set(d) == {"obs", "acts", "infos", "next_obs", "dones", "rews"}
    assert d["obs"] is trans.obs


def test_collate_with_dataloader():
    trans = _transitions(10)
    loader = th_data.DataLoader(
        trans, batch_size=4, collate_fn=types.transitions_collate_fn
    )
    batch = next(iter(loader))
    assert batch["obs"].shape == (4, 1) and isinstance(batch["infos"], list)
    dict_trans = types.TransitionsMinimal(
        obs=types.DictObs({"a": np.zeros((6, 2)), "b": np.ones(6)}),
        acts=np.zeros(6),
        infos=np.array([{}] * 6),
    )
    batch = types.transitions_collate_fn([dict_trans[0], dict_trans[1]])
    assert batch["obs"]["a"].shape == (2, 2)


def test_transitions_pickle_round_trip():
    trans = _transitions(5)
    assert pickle.loads(pickle.dumps(trans)) == trans
