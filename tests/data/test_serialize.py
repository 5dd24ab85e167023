"""Tests for imitation.data.serialize and imitation.data.huggingface_utils."""

from __future__ import annotations

import pickle

import datasets
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imitation.data import huggingface_utils, serialize, types


@st.composite
def trajectories(draw):
    n_traj = draw(st.integers(1, 4))
    kind = draw(st.sampled_from(["box", "dict", "image"]))
    with_rews = draw(st.booleans())
    with_infos = draw(st.booleans())
    obs_dtype = draw(st.sampled_from([np.float32, np.float64, np.int64]))
    out = []
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    for _ in range(n_traj):
        n = draw(st.integers(1, 12))
        if kind == "box":
            obs = rng.normal(size=(n + 1, 3)).astype(obs_dtype)
        elif kind == "image":
            obs = rng.integers(0, 255, size=(n + 1, 4, 4, 3)).astype(np.uint8)
        else:
            obs = types.DictObs(
                {
                    "pos": rng.normal(size=(n + 1, 2)).astype(obs_dtype),
                    "flag": rng.integers(0, 2, size=(n + 1,)),
                }
            )
        fields = dict(
            obs=obs,
            acts=rng.integers(0, 4, size=n),
            infos=np.array([{"step": i, "x": [1.5, 2.0]} for i in range(n)])
            if with_infos
            else None,
            terminal=draw(st.booleans()),
        )
        if with_rews:
            out.append(types.TrajectoryWithRew(**fields, rews=rng.normal(size=n)))
        else:
            out.append(types.Trajectory(**fields))
    return out


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(trajectories())
def test_save_load_round_trip(tmp_path, trajs):
    path = tmp_path / "demos"
    serialize.save(path, trajs)
    loaded = serialize.load(path)
    assert len(loaded) == len(trajs)
    for a, b in zip(loaded, trajs):
        assert type(a) is type(b)
        assert a == b
        obs_a = a.obs.get("pos") if isinstance(a.obs, types.DictObs) else a.obs
        obs_b = b.obs.get("pos") if isinstance(b.obs, types.DictObs) else b.obs
        assert obs_a.dtype == obs_b.dtype


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(trajectories())
def test_npz_round_trip(tmp_path, trajs):
    trajs = [
        types.TrajectoryWithRew(
            obs=t.obs, acts=t.acts, infos=None, terminal=t.terminal, rews=t.rews
        )
        if isinstance(t, types.TrajectoryWithRew)
        else types.Trajectory(obs=t.obs, acts=t.acts, infos=None, terminal=t.terminal)
        for t in trajs
    ]
    path = tmp_path / "demos.npz"
    serialize.save_npz(path, trajs)
    assert list(serialize.load(path)) == trajs


def test_lazy_sequence_slicing_and_stats(tmp_path):
    trajs = [
        types.TrajectoryWithRew(
            obs=np.zeros((n + 1, 2)),
            acts=np.zeros(n, dtype=np.int64),
            infos=None,
            terminal=True,
            rews=np.ones(n),
        )
        for n in (3, 4, 5)
    ]
    serialize.save(tmp_path / "d", trajs)
    seq = serialize.load(tmp_path / "d")
    assert isinstance(seq, huggingface_utils.TrajectoryDatasetSequence)
    assert len(seq[1:]) == 2 and seq[-1] == trajs[-1]
    with pytest.raises(IndexError):
        seq[3]
    from imitation.data import rollout

    assert rollout.rollout_stats(seq)["len_mean"] == 4


def test_published_hub_layout_is_readable():
    """Rows shaped like the Hub's published datasets (nested float lists)."""
    dataset = datasets.Dataset.from_dict(
        {
            "obs": [[[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]]],
            "acts": [[0, 1]],
            "infos": [["{}", "{}"]],
            "terminal": [True],
            "rews": [[1.0, 1.0]],
        }
    )
    traj = huggingface_utils.TrajectoryDatasetSequence(dataset)[0]
    assert isinstance(traj, types.TrajectoryWithRew)
    assert traj.obs.shape == (3, 2) and traj.infos is None
    np.testing.assert_array_equal(traj.acts, [0, 1])


def test_save_refuses_empty(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        serialize.save(tmp_path / "x", [])
    with pytest.raises(ValueError, match="empty"):
        serialize.save_npz(tmp_path / "x.npz", [])


def test_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="No trajectories"):
        serialize.load(tmp_path / "nothing")


def test_truncated_npz(tmp_path):
    trajs = [
        types.Trajectory(
            obs=np.zeros((3, 2)), acts=np.zeros(2), infos=None, terminal=True
        )
    ]
    serialize.save_npz(tmp_path / "a.npz", trajs)
    data = (tmp_path / "a.npz").read_bytes()
    (tmp_path / "b.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(serialize.TrajectoryFormatError, match="corrupt"):
        serialize.load(tmp_path / "b.npz")


def test_corrupt_dataset_directory(tmp_path):
    trajs = [
        types.Trajectory(
            obs=np.zeros((3, 2)), acts=np.zeros(2), infos=None, terminal=True
        )
    ]
    serialize.save(tmp_path / "d", trajs)
    for f in (tmp_path / "d").glob("*.arrow"):
        f.write_bytes(f.read_bytes()[:50])
    with pytest.raises(serialize.TrajectoryFormatError):
        list(serialize.load(tmp_path / "d"))


def test_foreign_files(tmp_path):
    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    with pytest.raises(serialize.TrajectoryFormatError, match="not a trajectory file"):
        serialize.load(tmp_path / "other.npz")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(serialize.TrajectoryFormatError, match="not a trajectory file"):
        serialize.load(tmp_path / "notes.txt")
    datasets.Dataset.from_dict({"text": ["a", "b"]}).save_to_disk(str(tmp_path / "ds"))
    with pytest.raises(serialize.TrajectoryFormatError, match="missing column"):
        serialize.load(tmp_path / "ds")
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(serialize.TrajectoryFormatError):
        serialize.load(tmp_path / "empty_dir")


def test_nan_observations_rejected_on_load(tmp_path):
    obs = np.zeros(3 * 2).reshape(3, 2)
    obs[2, 1] = np.nan
    np.savez(
        tmp_path / "nan.npz",
        obs=obs,
        acts=np.zeros(2),
        terminal=np.array([True]),
        indices=np.array([], dtype=np.int64),
    )
    with pytest.raises(ValueError, match="NaN"):
        serialize.load(tmp_path / "nan.npz")


def test_pickle_needs_opt_in(tmp_path):
    trajs = [
        types.Trajectory(
            obs=np.zeros((3, 2)), acts=np.zeros(2), infos=None, terminal=True
        )
    ]
    path = tmp_path / "old.pkl"
    path.write_bytes(pickle.dumps(trajs))
    with pytest.raises(serialize.TrajectoryFormatError, match="allow_pickle=True"):
        serialize.load(path)
    assert list(serialize.load(path, allow_pickle=True)) == trajs


def test_npz_with_pickled_infos_needs_opt_in(tmp_path):
    np.savez(
        tmp_path / "infos.npz",
        obs=np.zeros((3, 2)),
        acts=np.zeros(2),
        infos=np.array([{"a": 1}, {"b": 2}], dtype=object),
        terminal=np.array([True]),
        indices=np.array([], dtype=np.int64),
    )
    with pytest.raises(serialize.TrajectoryFormatError, match="allow_pickle"):
        serialize.load(tmp_path / "infos.npz")
    (traj,) = serialize.load(tmp_path / "infos.npz", allow_pickle=True)
    assert traj.infos[1] == {"b": 2}


def test_load_with_rewards(tmp_path):
    trajs = [
        types.Trajectory(
            obs=np.zeros((3, 2)), acts=np.zeros(2), infos=None, terminal=True
        )
    ]
    serialize.save(tmp_path / "d", trajs)
    with pytest.raises(serialize.TrajectoryFormatError, match="no rewards"):
        serialize.load_with_rewards(tmp_path / "d")


def test_unserialisable_info(tmp_path):
    trajs = [
        types.Trajectory(
            obs=np.zeros((2, 1)),
            acts=np.zeros(1),
            infos=np.array([{"f": object()}]),
            terminal=True,
        )
    ]
    with pytest.raises(TypeError, match="JSON"):
        serialize.save(tmp_path / "d", trajs)


def test_save_is_atomic(tmp_path, monkeypatch):
    good = [
        types.Trajectory(
            obs=np.zeros((3, 2)), acts=np.zeros(2), infos=None, terminal=True
        )
    ]
    serialize.save(tmp_path / "d", good)

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(datasets.Dataset, "save_to_disk", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        serialize.save(tmp_path / "d", good + good)
    # The earlier save is intact and no temporary leftovers remain.
    assert len(serialize.load(tmp_path / "d")) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]
