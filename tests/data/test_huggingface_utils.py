"""Tests for imitation.data.huggingface_utils: dataset conversion and decoding."""

from __future__ import annotations

import datasets
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imitation.data import huggingface_utils, types
from imitation.data.huggingface_utils import TrajectoryFormatError

OBS_DTYPES = [np.float16, np.float32, np.float64, np.uint8, np.int32, np.bool_]


def _random_array(rng: np.random.Generator, shape: tuple, dtype) -> np.ndarray:
    if np.dtype(dtype).kind == "f":
        return rng.normal(size=shape).astype(dtype)
    if np.dtype(dtype).kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    return rng.integers(0, 100, size=shape).astype(dtype)


@st.composite
def trajectory_lists(draw) -> list[types.Trajectory]:
    """Lists of trajectories from one pair of spaces, with all optional parts."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    obs_shape = draw(st.sampled_from([(), (3,), (2, 2), (2, 1, 3)]))
    obs_dtype = draw(st.sampled_from(OBS_DTYPES))
    dict_obs = draw(st.booleans())
    act_shape = draw(st.sampled_from([(), (2,)]))
    act_dtype = draw(st.sampled_from([np.int64, np.float32]))
    rews_dtype = draw(st.sampled_from([None, np.float32, np.float64]))
    out = []
    for _ in range(draw(st.integers(1, 5))):
        n = draw(st.integers(1, 6))
        obs: types.Observation = _random_array(rng, (n + 1, *obs_shape), obs_dtype)
        if dict_obs:
            obs = types.DictObs({"a": obs, "b": rng.integers(0, 5, size=(n + 1, 2))})
        infos = None
        if draw(st.booleans()):
            infos = np.array([{"step": i, "v": [0.5, i]} for i in range(n)])
        fields = dict(
            obs=obs,
            acts=_random_array(rng, (n, *act_shape), act_dtype),
            infos=infos,
            terminal=draw(st.booleans()),
        )
        if rews_dtype is not None:
            rews = rng.normal(size=n).astype(rews_dtype)
            out.append(types.TrajectoryWithRew(**fields, rews=rews))
        else:
            out.append(types.Trajectory(**fields))
    return out


def _arrays(traj: types.Trajectory) -> dict[str, np.ndarray]:
    out = {"acts": traj.acts}
    if isinstance(traj.obs, types.DictObs):
        out.update({f"obs/{k}": v for k, v in traj.obs.items()})
    else:
        out["obs"] = traj.obs
    if isinstance(traj, types.TrajectoryWithRew):
        out["rews"] = traj.rews
    return out


def assert_same_trajectories(got, expected) -> None:
    """Equal values, classes, dtypes and shapes, trajectory by trajectory."""
    got = list(got)
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert type(a) is type(b)
        assert a == b
        arrays_a, arrays_b = _arrays(a), _arrays(b)
        assert arrays_a.keys() == arrays_b.keys()
        for key, arr in arrays_b.items():
            assert arrays_a[key].dtype == arr.dtype, key
            assert arrays_a[key].shape == arr.shape, key


@settings(max_examples=25, deadline=None)
@given(trajectory_lists())
def test_dataset_round_trip(trajs):
    seq = huggingface_utils.TrajectoryDatasetSequence(
        huggingface_utils.trajectories_to_dataset(trajs)
    )
    assert len(seq) == len(trajs)
    assert seq.has_rewards == isinstance(trajs[0], types.TrajectoryWithRew)
    assert_same_trajectories(seq, trajs)
    assert_same_trajectories([seq[i] for i in range(len(trajs))], trajs)
    # The column dict builds the same dataset through `datasets`' own encoding.
    columns = huggingface_utils.trajectories_to_dict(trajs)
    from_dict = datasets.Dataset.from_dict(columns)
    assert_same_trajectories(
        huggingface_utils.TrajectoryDatasetSequence(from_dict), trajs
    )


@settings(max_examples=25, deadline=None)
@given(trajectory_lists(), st.data())
def test_indexing_and_slicing_match_a_list(trajs, data):
    seq = huggingface_utils.TrajectoryDatasetSequence(
        huggingface_utils.trajectories_to_dataset(trajs)
    )
    n = len(trajs)
    index = data.draw(st.integers(-n, n - 1))
    assert seq[index] == trajs[index]
    bound = st.none() | st.integers(-n - 2, n + 2)
    sl = slice(
        data.draw(bound), data.draw(bound), data.draw(st.none() | st.integers(-3, 3))
    )
    if sl.step == 0:
        with pytest.raises(ValueError):
            seq[sl]
        return
    sliced = seq[sl]
    assert isinstance(sliced, huggingface_utils.TrajectoryDatasetSequence)
    assert len(sliced) == len(trajs[sl])
    assert_same_trajectories(sliced, trajs[sl])
    assert_same_trajectories(sliced[::-1], trajs[sl][::-1])


def test_index_out_of_range():
    trajs = [
        types.Trajectory(
            obs=np.zeros((2, 1)), acts=np.zeros(1), infos=None, terminal=True
        )
        for _ in range(2)
    ]
    seq = huggingface_utils.TrajectoryDatasetSequence(
        huggingface_utils.trajectories_to_dataset(trajs)
    )
    for bad in (2, -3):
        with pytest.raises(IndexError, match="out of range"):
            seq[bad]


def test_trajectories_to_dict_works_with_from_dict():
    trajs = [
        types.TrajectoryWithRew(
            obs=np.arange(2 * (n + 1), dtype=np.float32).reshape(n + 1, 2),
            acts=np.arange(n),
            infos=np.array([{"i": i} for i in range(n)]) if n == 2 else None,
            terminal=n == 2,
            rews=np.ones(n),
        )
        for n in (2, 3)
    ]
    columns = huggingface_utils.trajectories_to_dict(trajs)
    assert columns["infos"] == [['{"i": 0}', '{"i": 1}'], None]
    seq = huggingface_utils.TrajectoryDatasetSequence(
        datasets.Dataset.from_dict(columns)
    )
    assert_same_trajectories(seq, trajs)


def test_published_hub_layout():
    """Rows like those of the Hub's demonstration datasets: nested float lists."""
    dataset = datasets.Dataset.from_dict(
        {
            "obs": [[[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]], [[5.0, 5.0], [6.0, 6.0]]],
            "acts": [[0, 1], [1]],
            "infos": [["{}", '{"TimeLimit.truncated": false}'], ["{}"]],
            "terminal": [True, False],
            "rews": [[1.0, 1.0], [0.5]],
        }
    )
    first, second = huggingface_utils.TrajectoryDatasetSequence(dataset)
    assert isinstance(first, types.TrajectoryWithRew)
    np.testing.assert_array_equal(first.obs, [[0, 1], [1, 2], [2, 3]])
    assert first.obs.dtype == np.float64
    np.testing.assert_array_equal(first.acts, [0, 1])
    assert list(first.infos) == [{}, {"TimeLimit.truncated": False}]
    assert first.terminal is True and second.terminal is False
    np.testing.assert_array_equal(second.rews, [0.5])


def test_infos_none_and_empty_dicts_are_kept_apart():
    trajs = [
        types.Trajectory(
            obs=np.zeros((3, 1)), acts=np.zeros(2), infos=infos, terminal=False
        )
        for infos in (None, np.array([{}, {}]))
    ]
    seq = huggingface_utils.TrajectoryDatasetSequence(
        huggingface_utils.trajectories_to_dataset(trajs)
    )
    assert seq[0].infos is None
    assert list(seq[1].infos) == [{}, {}]


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False)
    | st.text(max_size=5)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.dictionaries(st.text(max_size=6), json_values, max_size=4), min_size=1)
)
def test_infos_round_trip(infos):
    encoded = huggingface_utils.encode_infos(np.array(infos + [None])[:-1])
    decoded = huggingface_utils.decode_infos(encoded)
    assert decoded.dtype == object and decoded.shape == (len(infos),)
    assert list(decoded) == infos


def test_numpy_info_values_become_json():
    infos = np.array(
        [
            {
                "terminal_observation": np.array([[1.5, 2.0]], dtype=np.float32),
                "count": np.int64(3),
                "ok": np.bool_(True),
                "pair": (1, "a"),
                "nested": {"x": np.float32(0.5)},
            }
        ]
    )
    (info,) = huggingface_utils.decode_infos(huggingface_utils.encode_infos(infos))
    assert info == {
        "terminal_observation": [[1.5, 2.0]],
        "count": 3,
        "ok": True,
        "pair": [1, "a"],
        "nested": {"x": 0.5},
    }


@pytest.mark.parametrize(
    ("info", "match"),
    [
        ({"f": object()}, "has type object"),
        ({1: "a"}, "must be strings"),
        ({"a": {"b": {2: 0}}}, "must be strings"),
        ({"c": 1 + 2j}, "has type complex"),
        ({"s": {1, 2}}, "has type set"),
    ],
)
def test_unencodable_infos_raise(info, match):
    with pytest.raises(TypeError, match=match):
        huggingface_utils.encode_infos(np.array([info]))


def test_non_dict_info_raises():
    infos = np.empty(1, dtype=object)
    infos[0] = [1, 2]
    with pytest.raises(TypeError, match="not a dict"):
        huggingface_utils.encode_infos(infos)
    with pytest.raises(TrajectoryFormatError, match="not a JSON object"):
        huggingface_utils.decode_infos(["[1, 2]"])
    with pytest.raises(TrajectoryFormatError, match="invalid JSON"):
        huggingface_utils.decode_infos(["{"])
    with pytest.raises(TrajectoryFormatError, match="more than one"):
        huggingface_utils.decode_infos(["{}, {}"])


def _traj(obs: np.ndarray, **kwargs) -> types.Trajectory:
    fields = dict(obs=obs, acts=np.zeros(len(obs) - 1), infos=None, terminal=True)
    fields.update(kwargs)
    return types.Trajectory(**fields)


@pytest.mark.parametrize(
    ("trajs", "match"),
    [
        ([], "empty"),
        ([_traj(np.zeros((2, 2))), _traj(np.zeros((2, 3)))], "disagree on obs"),
        (
            [_traj(np.zeros((2, 2))), _traj(np.zeros((2, 2), dtype=np.float32))],
            "disagree on obs",
        ),
        (
            [_traj(np.zeros((2, 1))), _traj(np.zeros((2, 1)), acts=np.zeros((1, 2)))],
            "disagree on acts",
        ),
        (
            [_traj(np.zeros((2, 1))), _traj(types.DictObs({"a": np.zeros((2, 1))}))],
            "mix dict observations",
        ),
        (
            [
                _traj(types.DictObs({"a": np.zeros((2, 1))})),
                _traj(types.DictObs({"b": np.zeros((2, 1))})),
            ],
            "observation keys",
        ),
        (
            [
                _traj(np.zeros((2, 1))),
                types.TrajectoryWithRew(
                    obs=np.zeros((2, 1)),
                    acts=np.zeros(1),
                    infos=None,
                    terminal=True,
                    rews=np.zeros(1),
                ),
            ],
            "mix ones with rewards",
        ),
        ([_traj(np.zeros((2, 0)))], "zero-size"),
    ],
)
def test_inconsistent_trajectories_are_refused(trajs, match):
    with pytest.raises(ValueError, match=match):
        huggingface_utils.trajectories_to_dataset(trajs)


def _hub_columns(**overrides) -> dict[str, list]:
    columns: dict[str, list] = {
        "obs": [[[0.0], [1.0]]],
        "acts": [[1]],
        "infos": [["{}"]],
        "terminal": [True],
    }
    columns.update(overrides)
    return {k: v for k, v in columns.items() if v is not None}


@pytest.mark.parametrize(
    ("columns", "match"),
    [
        ({"text": ["a"]}, "missing column"),
        (_hub_columns(terminal=None), r"missing column\(s\) \['terminal'\]"),
        (_hub_columns(obs=[["a", "b"]]), "obs: list<item: string>"),
        (_hub_columns(acts=[1]), "acts: int64"),
        (_hub_columns(infos=[[1]]), "infos"),
        (_hub_columns(terminal=[1]), "terminal: int64"),
        (_hub_columns(rews=[[1]]), "rews: list<item: int64>"),
    ],
)
def test_foreign_datasets_are_refused(columns, match):
    dataset = datasets.Dataset.from_dict(columns)
    with pytest.raises(TrajectoryFormatError, match=match):
        huggingface_utils.TrajectoryDatasetSequence(dataset)


@pytest.mark.parametrize(
    ("columns", "match"),
    [
        (_hub_columns(obs=[[[0.0], [1.0, 2.0]]]), "different lengths"),
        (_hub_columns(obs=[[[0.0], [float("nan")]]]), "Row 0 .* NaN"),
        (_hub_columns(obs=[[[0.0], [None]]]), "null"),
        (_hub_columns(acts=[[1, 2]]), "Row 0 .* one more entry"),
        (_hub_columns(infos=[["{"]]), "invalid JSON"),
        (_hub_columns(infos=[["{}", "{}"]]), "infos and acts"),
    ],
)
def test_invalid_rows_are_refused_on_access(columns, match):
    seq = huggingface_utils.TrajectoryDatasetSequence(
        datasets.Dataset.from_dict(columns)
    )
    with pytest.raises(TrajectoryFormatError, match=match):
        seq[0]


@pytest.mark.parametrize(
    ("column", "match"),
    [("obs", "Row 1 has no obs"), ("acts", "Row 1 has no acts"), ("terminal", "null")],
)
def test_null_cells_are_refused_on_access(column, match):
    columns = {
        "obs": pa.array([[[0.0], [1.0]]] * 2, type=pa.list_(pa.list_(pa.float32()))),
        "acts": pa.array([[1]] * 2, type=pa.list_(pa.int64())),
        "infos": pa.array([None, None], type=pa.list_(pa.string())),
        "terminal": pa.array([True, False]),
    }
    values = columns[column].to_pylist()
    columns[column] = pa.array(values[:1] + [None], type=columns[column].type)
    seq = huggingface_utils.TrajectoryDatasetSequence(
        datasets.Dataset(pa.table(columns))
    )
    assert seq[0].infos is None
    with pytest.raises(TrajectoryFormatError, match=match):
        list(seq)


def test_dataset_dict_needs_a_split():
    dataset = datasets.DatasetDict(
        {"train": datasets.Dataset.from_dict(_hub_columns())}
    )
    with pytest.raises(TypeError, match=r"dataset\['train'\]"):
        huggingface_utils.TrajectoryDatasetSequence(dataset)  # type: ignore[arg-type]


def test_shuffled_and_extra_columns():
    trajs = [_traj(np.full((n + 1, 1), n, dtype=np.float32)) for n in (1, 2, 3, 4)]
    dataset = huggingface_utils.trajectories_to_dataset(trajs)
    dataset = dataset.add_column("episode_id", [10, 11, 12, 13])
    order = [3, 0, 2, 1]
    seq = huggingface_utils.TrajectoryDatasetSequence(dataset.select(order))
    assert_same_trajectories(seq, [trajs[i] for i in order])
    assert_same_trajectories(seq[1:3], [trajs[0], trajs[2]])


def test_large_trajectories_decode_in_blocks():
    """More rows than one decoding block, spread over several Arrow chunks."""
    trajs = [_traj(np.full((3, 2), i, dtype=np.float32)) for i in range(70)]
    table = huggingface_utils.trajectories_to_dataset(trajs).data.table
    chunked = pa.Table.from_batches(table.to_batches(max_chunksize=9))
    seq = huggingface_utils.TrajectoryDatasetSequence(datasets.Dataset(chunked))
    assert_same_trajectories(seq, trajs)
    assert seq[-1] == trajs[-1]
    assert "70 trajectories" in repr(seq)
