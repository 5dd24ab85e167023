"""Tests for imitation.data.serialize: saving, loading and refusing bad files."""

from __future__ import annotations

import json
import os
import pickle
import select
import signal
import subprocess
import sys
import time

import datasets
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imitation.data import huggingface_utils, serialize, types
from imitation.data.serialize import TrajectoryFormatError

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@st.composite
def trajectory_lists(draw) -> list[types.Trajectory]:
    """Box or Dict observations, Discrete actions, optional infos and rewards."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    obs_shape = draw(st.sampled_from([(), (4,), (3, 2), (4, 4, 3)]))
    obs_dtype = draw(st.sampled_from([np.float32, np.float64, np.uint8, np.int64]))
    dict_obs = draw(st.booleans())
    with_rews = draw(st.booleans())
    out = []
    for _ in range(draw(st.integers(1, 4))):
        n = draw(st.integers(1, 10))
        obs: types.Observation = (rng.random((n + 1, *obs_shape)) * 50).astype(
            obs_dtype
        )
        if dict_obs:
            obs = types.DictObs({"pixels": obs, "pos": rng.normal(size=(n + 1, 2))})
        infos = None
        if draw(st.booleans()):
            infos = np.array(
                [
                    {"step": i, "terminal_observation": rng.normal(size=2)}
                    for i in range(n)
                ]
            )
        fields = dict(
            obs=obs,
            acts=rng.integers(0, 5, size=n),
            infos=infos,
            terminal=draw(st.booleans()),
        )
        if with_rews:
            out.append(types.TrajectoryWithRew(**fields, rews=rng.normal(size=n)))
        else:
            out.append(types.Trajectory(**fields))
    return out


def _dtypes(traj: types.Trajectory) -> dict[str, np.dtype]:
    obs = (
        traj.obs.dtype if isinstance(traj.obs, types.DictObs) else {"": traj.obs.dtype}
    )
    out = {f"obs{k}": v for k, v in obs.items()}
    out["acts"] = traj.acts.dtype
    if isinstance(traj, types.TrajectoryWithRew):
        out["rews"] = traj.rews.dtype
    return out


def assert_same_trajectories(got, expected) -> None:
    got = list(got)
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert type(a) is type(b)
        assert a == b
        assert _dtypes(a) == _dtypes(b)


def _without_infos(trajs: list[types.Trajectory]) -> list[types.Trajectory]:
    return [
        types.TrajectoryWithRew(
            obs=t.obs, acts=t.acts, infos=None, terminal=t.terminal, rews=t.rews
        )
        if isinstance(t, types.TrajectoryWithRew)
        else types.Trajectory(obs=t.obs, acts=t.acts, infos=None, terminal=t.terminal)
        for t in trajs
    ]


def _legacy_npz_arrays(trajs: list[types.Trajectory]) -> dict[str, np.ndarray]:
    """The arrays of the legacy .npz format, built by hand."""
    arrays = {
        "obs": np.concatenate([t.obs for t in trajs]),
        "acts": np.concatenate([t.acts for t in trajs]),
        "terminal": np.array([t.terminal for t in trajs]),
        "indices": np.cumsum([len(t) for t in trajs[:-1]], dtype=np.int64),
    }
    if isinstance(trajs[0], types.TrajectoryWithRew):
        arrays["rews"] = np.concatenate([t.rews for t in trajs])
    if trajs[0].infos is not None:
        arrays["infos"] = np.concatenate([t.infos for t in trajs])
    return arrays


def _simple(n: int = 2, **kwargs) -> types.Trajectory:
    fields = dict(obs=np.zeros((n + 1, 2)), acts=np.zeros(n), infos=None, terminal=True)
    fields.update(kwargs)
    return types.Trajectory(**fields)


@SETTINGS
@given(trajs=trajectory_lists())
def test_save_load_round_trip(tmp_path, trajs):
    path = tmp_path / "demos"
    serialize.save(path, trajs)
    loaded = serialize.load(path)
    assert isinstance(loaded, huggingface_utils.TrajectoryDatasetSequence)
    assert len(loaded) == len(trajs)
    assert_same_trajectories(loaded, trajs)
    assert loaded[-1] == trajs[-1]
    if isinstance(trajs[0], types.TrajectoryWithRew):
        assert_same_trajectories(serialize.load_with_rewards(path), trajs)


@SETTINGS
@given(trajs=trajectory_lists())
def test_save_npz_round_trip(tmp_path, trajs):
    path = tmp_path / "demos.npz"
    serialize.save_npz(path, trajs)
    with np.load(path) as data:  # No pickled arrays, infos included.
        assert ("infos_json" in data.files) == any(t.infos is not None for t in trajs)
    assert_same_trajectories(serialize.load(path), trajs)


@SETTINGS
@given(
    trajs=trajectory_lists().filter(lambda ts: not isinstance(ts[0].obs, types.DictObs))
)
def test_legacy_npz(tmp_path, trajs):
    trajs = _without_infos(trajs)
    np.savez(tmp_path / "legacy.npz", **_legacy_npz_arrays(trajs))
    assert_same_trajectories(serialize.load(tmp_path / "legacy.npz"), trajs)


def test_legacy_npz_with_pickled_infos_loads_without_them(tmp_path):
    trajs = [
        _simple(2, infos=np.array([{"a": 1}, {"b": np.arange(2)}])),
        _simple(1, infos=np.array([{}])),
    ]
    path = tmp_path / "legacy.npz"
    np.savez(path, **_legacy_npz_arrays(trajs))
    # The documented one-argument call reads the arrays, never the pickle.
    with pytest.warns(
        serialize.PickledInfosSkippedWarning, match="infos.*allow_pickle=True"
    ):
        loaded = serialize.load(path)
    assert_same_trajectories(loaded, _without_infos(trajs))
    assert all(t.infos is None for t in loaded)
    assert_same_trajectories(serialize.load(path, allow_pickle=True), trajs)


def test_legacy_npz_with_other_pickled_arrays_needs_opt_in(tmp_path):
    trajs = [_simple(2), _simple(1)]
    arrays = _legacy_npz_arrays(trajs)
    arrays["rews"] = np.array([object()] * 3, dtype=object)
    path = tmp_path / "legacy.npz"
    np.savez(path, **arrays)
    with pytest.raises(TrajectoryFormatError, match=r"\['rews'\].*allow_pickle"):
        serialize.load(path)


def test_pickle_needs_opt_in(tmp_path):
    trajs = [_simple(2), _simple(3, terminal=False)]
    for name in ("old.pkl", "old.data"):
        path = tmp_path / name
        path.write_bytes(pickle.dumps(trajs))
        with pytest.raises(TrajectoryFormatError, match="arbitrary code.*allow_pickle"):
            serialize.load(path)
        assert_same_trajectories(serialize.load(path, allow_pickle=True), trajs)


def test_pickled_trajectories_are_validated(tmp_path):
    bad = _simple(2)
    obs = np.zeros((3, 2))
    obs[1, 0] = np.nan
    object.__setattr__(bad, "obs", obs)  # Sidestep validation, as unpickling does.
    (tmp_path / "nan.pkl").write_bytes(pickle.dumps([bad]))
    with pytest.raises(TrajectoryFormatError, match="trajectory 0 .*NaN"):
        serialize.load(tmp_path / "nan.pkl", allow_pickle=True)
    (tmp_path / "dict.pkl").write_bytes(pickle.dumps({"not": "trajectories"}))
    with pytest.raises(TrajectoryFormatError, match="not a sequence of trajectories"):
        serialize.load(tmp_path / "dict.pkl", allow_pickle=True)
    (tmp_path / "cut.pkl").write_bytes(pickle.dumps([_simple()])[:40])
    with pytest.raises(TrajectoryFormatError, match="could not be unpickled"):
        serialize.load(tmp_path / "cut.pkl", allow_pickle=True)


def test_save_refuses_empty(tmp_path):
    for save in (serialize.save, serialize.save_npz):
        with pytest.raises(ValueError, match="empty"):
            save(tmp_path / "x", [])
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_mixed_trajectories(tmp_path):
    with_rew = types.TrajectoryWithRew(
        obs=np.zeros((3, 2)),
        acts=np.zeros(2),
        infos=None,
        terminal=True,
        rews=np.ones(2),
    )
    with pytest.raises(ValueError, match="mix ones with rewards"):
        serialize.save(tmp_path / "d", [_simple(), with_rew])
    with pytest.raises(ValueError, match="disagree on obs"):
        serialize.save_npz(
            tmp_path / "d.npz", [_simple(), _simple(obs=np.zeros((3, 2), np.float32))]
        )


def test_missing_path(tmp_path):
    path = tmp_path / "nothing"
    for load in (serialize.load, serialize.load_with_rewards):
        with pytest.raises(FileNotFoundError, match=f"{path} does not exist"):
            load(path)


def test_overwrite_replaces_old_save(tmp_path):
    serialize.save(tmp_path / "d", [_simple(2)] * 3)
    serialize.save(tmp_path / "d", [_simple(4)])
    assert_same_trajectories(serialize.load(tmp_path / "d"), [_simple(4)])


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.5, 0.9, 0.99])
def test_truncated_npz(tmp_path, fraction):
    serialize.save_npz(tmp_path / "a.npz", [_simple(5, infos=np.array([{}] * 5))])
    data = (tmp_path / "a.npz").read_bytes()
    (tmp_path / "b.npz").write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(TrajectoryFormatError, match="not a trajectory file|corrupt"):
        serialize.load(tmp_path / "b.npz")


@pytest.mark.parametrize("fraction", [0.0, 0.2, 0.5, 0.8, 0.95])
def test_truncated_dataset_directory(tmp_path, fraction):
    serialize.save(tmp_path / "d", [_simple(200, obs=np.ones((201, 2)))])
    (arrow_file,) = (tmp_path / "d").glob("*.arrow")
    data = arrow_file.read_bytes()
    arrow_file.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(TrajectoryFormatError, match="corrupt or truncated"):
        list(serialize.load(tmp_path / "d"))


@pytest.mark.parametrize(
    "damage",
    ["delete_state", "garble_state", "garble_info", "delete_arrow"],
)
def test_damaged_dataset_directory(tmp_path, damage):
    serialize.save(tmp_path / "d", [_simple()])
    d = tmp_path / "d"
    if damage == "delete_state":
        (d / "state.json").unlink()
    elif damage == "garble_state":
        (d / "state.json").write_text("{not json")
    elif damage == "garble_info":
        (d / "dataset_info.json").write_text("[1, 2")
    else:
        next(d.glob("*.arrow")).unlink()
    with pytest.raises(TrajectoryFormatError, match=str(d)):
        serialize.load(d)


def test_foreign_files(tmp_path):
    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    with pytest.raises(TrajectoryFormatError, match="not a trajectory file.*weights"):
        serialize.load(tmp_path / "other.npz")
    arrays = _legacy_npz_arrays([_simple()])
    np.savez(tmp_path / "extra.npz", **arrays, weights=np.zeros(3))
    with pytest.raises(TrajectoryFormatError, match="not a trajectory file"):
        serialize.load(tmp_path / "extra.npz")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(TrajectoryFormatError, match="not a trajectory file"):
        serialize.load(tmp_path / "notes.txt")
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(TrajectoryFormatError, match="not a trajectory file"):
        serialize.load(tmp_path / "empty")
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(TrajectoryFormatError, match="no state.json"):
        serialize.load(tmp_path / "empty_dir")


def test_foreign_datasets(tmp_path):
    datasets.Dataset.from_dict({"text": ["a", "b"]}).save_to_disk(tmp_path / "text")
    with pytest.raises(TrajectoryFormatError, match="missing column"):
        serialize.load(tmp_path / "text")
    columns = huggingface_utils.trajectories_to_dict([_simple()])
    columns["terminal"] = [1]
    datasets.Dataset.from_dict(columns).save_to_disk(tmp_path / "int_terminal")
    with pytest.raises(TrajectoryFormatError, match="terminal: int64"):
        serialize.load(tmp_path / "int_terminal")
    split = datasets.Dataset.from_dict({"text": ["a"]})
    datasets.DatasetDict({"train": split}).save_to_disk(tmp_path / "dict")
    with pytest.raises(TrajectoryFormatError, match="DatasetDict"):
        serialize.load(tmp_path / "dict")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"indices": np.array([5])}, "not strictly increasing"),
        ({"indices": np.array([1, 1])}, "not strictly increasing"),
        ({"indices": np.array([0.5])}, "1-D integer"),
        ({"terminal": np.array([True, False, True])}, "terminal has shape"),
        ({"terminal": np.array([1, 0])}, "dtype int64"),
        ({"obs": np.zeros((4, 2))}, "obs has 4 entries"),
        ({"rews": np.zeros(2)}, "rews has 2 entries"),
        ({"acts": np.float64(0.0)}, "0-d"),
        ({"infos_json": np.frombuffer(b"{}", np.uint8)}, "infos_json has 1"),
        ({"infos_json": np.frombuffer(b"{}\n[]\n{}", np.uint8)}, "not a JSON object"),
        ({"infos_json": np.frombuffer(b"\xff\n{}\n{}", np.uint8)}, "not UTF-8"),
    ],
)
def test_inconsistent_npz(tmp_path, change, match):
    arrays = _legacy_npz_arrays([_simple(1), _simple(2)])
    arrays["rews"] = np.zeros(3)
    arrays.update(change)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(TrajectoryFormatError, match=match):
        serialize.load(tmp_path / "bad.npz")


def test_nan_observations_rejected(tmp_path):
    obs = np.zeros((3, 2))
    obs[2, 1] = np.nan
    np.savez(
        tmp_path / "nan.npz",
        obs=obs,
        acts=np.zeros(2),
        terminal=np.array([True]),
        indices=np.array([], dtype=np.int64),
    )
    with pytest.raises(TrajectoryFormatError, match="trajectory 0 .*NaN"):
        serialize.load(tmp_path / "nan.npz")
    columns = huggingface_utils.trajectories_to_dict([_simple(2), _simple(2)])
    columns["obs"][1] = obs
    datasets.Dataset.from_dict(columns).save_to_disk(tmp_path / "nan_dir")
    loaded = serialize.load(tmp_path / "nan_dir")
    assert loaded[0] == _simple(2)
    with pytest.raises(TrajectoryFormatError, match="Row 1 .*NaN"):
        loaded[1]


def test_load_with_rewards(tmp_path):
    serialize.save(tmp_path / "d", [_simple()])
    serialize.save_npz(tmp_path / "d.npz", [_simple()])
    for path in (tmp_path / "d", tmp_path / "d.npz"):
        with pytest.raises(TrajectoryFormatError, match="have no rewards"):
            serialize.load_with_rewards(path)


def test_unencodable_info_leaves_nothing_behind(tmp_path):
    trajs = [_simple(1, infos=np.array([{"f": object()}]))]
    with pytest.raises(TypeError, match="JSON"):
        serialize.save(tmp_path / "d", trajs)
    with pytest.raises(TypeError, match="JSON"):
        serialize.save_npz(tmp_path / "d.npz", trajs)
    assert list(tmp_path.iterdir()) == []


def test_saved_infos_are_json(tmp_path):
    infos = np.array([{"terminal_observation": np.float32([1.5, 2.0])}, {"ok": True}])
    serialize.save(tmp_path / "d", [_simple(2, infos=infos)])
    raw = datasets.load_from_disk(str(tmp_path / "d"))[0]["infos"]
    assert [json.loads(s) for s in raw] == [
        {"terminal_observation": [1.5, 2.0]},
        {"ok": True},
    ]
    (loaded,) = serialize.load(tmp_path / "d")
    assert loaded.infos[0]["terminal_observation"] == [1.5, 2.0]


def test_save_is_atomic(tmp_path, monkeypatch):
    good = [_simple()]
    serialize.save(tmp_path / "d", good)

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(datasets.Dataset, "save_to_disk", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        serialize.save(tmp_path / "d", good + good)
    # The earlier save is intact and no temporary leftovers remain.
    assert len(serialize.load(tmp_path / "d")) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


# Runs saves in forked children on request, so that one interpreter start-up
# (importing torch and datasets) serves many kills. Each request is a JSON line
# [mode, path, npz_a, npz_b]; the driver answers with the child's pid, then
# with its exit code once it is reaped (-9: SIGKILLed). In mode "exchange" or
# "fallback" (directory swaps without renameat2) the child saves the two
# datasets alternately forever; in "die_between_renames" it saves the second
# one without renameat2 and exits right after its first rename (code 0).
_SAVE_DRIVER = """
import itertools, json, os, sys, traceback
from imitation.data import serialize
from imitation.util import atomic

def run(mode, path, *sources):
    trajectories = [serialize.load(source) for source in sources]
    if mode != "exchange":
        atomic.exchange_paths = lambda first, second: False
    if mode == "die_between_renames":
        real_replace = os.replace

        def replace(src, dst, **kwargs):
            real_replace(src, dst, **kwargs)
            if os.fspath(dst).endswith(".old"):
                os._exit(0)

        os.replace = replace
        serialize.save(path, trajectories[1])
        return
    for i in itertools.count():
        serialize.save(path, trajectories[i % 2])

for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        try:
            run(*json.loads(line))
        except BaseException:
            traceback.print_exc()
        os._exit(1)
    print(pid, flush=True)
    print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)
"""


class _SaveDriver:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _SAVE_DRIVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )

    def _read_int(self, timeout: float = 60.0) -> int:
        assert self.proc.stdout is not None
        fd, data = self.proc.stdout.fileno(), b""
        deadline = time.monotonic() + timeout
        while not data.endswith(b"\n"):
            ready, _, _ = select.select([fd], [], [], deadline - time.monotonic())
            chunk = os.read(fd, 1) if ready else b""
            assert chunk, "The save driver died or timed out."
            data += chunk
        return int(data)

    def start(self, mode: str, path, a_npz, b_npz) -> int:
        assert self.proc.stdin is not None
        request = json.dumps([mode, str(path), str(a_npz), str(b_npz)])
        self.proc.stdin.write(request.encode() + b"\n")
        return self._read_int()

    def exit_code(self) -> int:
        return self._read_int()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def save_driver():
    if not hasattr(os, "fork"):
        pytest.skip("Needs os.fork.")
    driver = _SaveDriver()
    yield driver
    driver.close()


def _two_datasets(tmp_path):
    """Two different trajectory lists, and .npz copies the driver loads them from."""
    a = [_simple(3), _simple(2, obs=np.ones((3, 2)))]
    b = [_simple(40, obs=np.full((41, 2), 7.0), acts=np.arange(40.0))]
    serialize.save_npz(tmp_path / "a.npz", a)
    serialize.save_npz(tmp_path / "b.npz", b)
    return a, b


def _hidden(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def test_save_killed_between_renames_is_recovered(tmp_path, save_driver):
    a, b = _two_datasets(tmp_path)
    path = tmp_path / "out" / "d"
    serialize.save(path, a)
    save_driver.start(
        "die_between_renames", path, tmp_path / "a.npz", tmp_path / "b.npz"
    )
    assert save_driver.exit_code() == 0
    # Killed between its renames: both copies sit in the hidden temp directory.
    assert not path.exists()
    (tmp_dir,) = _hidden(path.parent)
    assert sorted(p.name for p in (path.parent / tmp_dir).iterdir()) == ["d", "d.old"]
    # The next load puts the (complete) new copy in place.
    assert_same_trajectories(serialize.load(path), b)
    assert [p.name for p in path.parent.iterdir()] == ["d"]

    # So does the next save, before writing its own.
    serialize.save(path, a)
    save_driver.start(
        "die_between_renames", path, tmp_path / "a.npz", tmp_path / "b.npz"
    )
    assert save_driver.exit_code() == 0
    serialize.save(path, a)
    assert_same_trajectories(serialize.load(path), a)
    assert [p.name for p in path.parent.iterdir()] == ["d"]


def test_save_survives_sigkill_at_random_moments(tmp_path, save_driver):
    a, b = _two_datasets(tmp_path)
    path = tmp_path / "out" / "d"
    serialize.save(path, a)
    rng = np.random.default_rng(0)
    for mode in ["exchange", "fallback"] * 4:
        pid = save_driver.start(mode, path, tmp_path / "a.npz", tmp_path / "b.npz")
        time.sleep(rng.uniform(0.05, 0.5))
        os.kill(pid, signal.SIGKILL)
        assert save_driver.exit_code() == -signal.SIGKILL
        loaded = list(serialize.load(path))
        assert loaded in (a, b), f"{mode}: the kill left {loaded}"
