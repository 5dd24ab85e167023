"""imitation.scripts.convert_trajs: legacy files to the current format and back."""

from __future__ import annotations

import os
import pathlib
import pickle
import subprocess
import sys

import numpy as np
import pytest

from imitation.data import serialize, types
from imitation.scripts import convert_trajs


def _trajs() -> list[types.TrajectoryWithRew]:
    rng = np.random.default_rng(0)
    trajs = []
    for n in (3, 5):
        trajs.append(
            types.TrajectoryWithRew(
                obs=rng.standard_normal((n + 1, 4)).astype(np.float32),
                acts=rng.integers(0, 2, size=n),
                infos=[{"step": i} for i in range(n)],
                terminal=True,
                rews=rng.standard_normal(n).astype(np.float32),
            )
        )
    return trajs


def _assert_same(loaded, expected) -> None:
    assert len(loaded) == len(expected)
    for a, b in zip(loaded, expected):
        assert isinstance(a, types.TrajectoryWithRew)
        np.testing.assert_array_equal(a.obs, b.obs)
        np.testing.assert_array_equal(a.acts, b.acts)
        np.testing.assert_array_equal(a.rews, b.rews)
        assert a.terminal == b.terminal
        assert a.infos is not None and list(a.infos) == list(b.infos)


def _leftovers(directory: pathlib.Path, name: str) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name != name)


def test_npz_to_dataset_and_back(tmp_path, capsys):
    trajs = _trajs()
    path = tmp_path / "demos.npz"
    serialize.save_npz(path, trajs)

    convert_trajs.main([str(path)])
    assert path.is_dir() and (path / "state.json").is_file()
    _assert_same(serialize.load(path), trajs)
    assert "2 trajectories written as dataset" in capsys.readouterr().out

    convert_trajs.main([str(path), "--to", "npz"])
    assert path.is_file()
    with open(path, "rb") as f:
        assert f.read(2) == b"PK"
    _assert_same(serialize.load(path), trajs)

    # Same format again: rewritten in place, still loadable.
    convert_trajs.main([str(path), "--to", "npz"])
    _assert_same(serialize.load(path), trajs)
    assert _leftovers(tmp_path, "demos.npz") == []


def test_dataset_to_dataset(tmp_path):
    trajs = _trajs()
    path = tmp_path / "demos"
    serialize.save(path, trajs)
    returned = convert_trajs.update_traj_file_in_place(path)
    assert len(returned) == 2
    _assert_same(serialize.load(path), trajs)
    assert _leftovers(tmp_path, "demos") == []


def test_legacy_pickle(tmp_path, capsys):
    trajs = _trajs()
    path = tmp_path / "demos.pkl"
    with open(path, "wb") as f:
        pickle.dump(trajs, f)
    original = path.read_bytes()

    with pytest.raises(SystemExit) as exc_info:
        convert_trajs.main([str(path)])
    assert exc_info.value.code == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "is a pickle file" in err and "--allow-pickle" in err
    assert "runs code" in err
    assert path.read_bytes() == original  # untouched

    with pytest.raises(convert_trajs.ConversionError, match="pickle"):
        convert_trajs.update_traj_file_in_place(path)

    convert_trajs.main([str(path), "--allow-pickle"])
    assert path.is_dir()
    _assert_same(serialize.load(path), trajs)
    assert _leftovers(tmp_path, "demos.pkl") == []


def test_legacy_pickle_to_npz(tmp_path):
    trajs = _trajs()
    path = tmp_path / "demos.pkl"
    with open(path, "wb") as f:
        pickle.dump(trajs, f)
    convert_trajs.update_traj_file_in_place(path, to="npz", allow_pickle=True)
    with open(path, "rb") as f:
        assert f.read(2) == b"PK"
    _assert_same(serialize.load(path), trajs)


def test_bad_format_name(tmp_path):
    with pytest.raises(convert_trajs.ConversionError, match="Unknown format"):
        convert_trajs.update_traj_file_in_place(tmp_path / "x", to="parquet")


def test_not_a_trajectory_file(tmp_path, capsys):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(SystemExit) as exc_info:
        convert_trajs.main([str(path)])
    assert exc_info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("convert_trajs: error:") and "not a trajectory file" in err
    assert path.read_text() == "hello"


def test_missing_path(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc_info:
        convert_trajs.main([str(tmp_path / "missing.npz")])
    assert exc_info.value.code == 1
    err = capsys.readouterr().err
    assert err == f"convert_trajs: error: {tmp_path / 'missing.npz'} does not exist.\n"
    with pytest.raises(FileNotFoundError):
        convert_trajs.update_traj_file_in_place(tmp_path / "missing.npz")


def test_module_entry_point(tmp_path):
    """``python -m`` runs main; a missing path is one line and status 1."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run(
        [sys.executable, "-m", "imitation.scripts.convert_trajs", "missing.npz"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == "convert_trajs: error: missing.npz does not exist."
    assert not any("Traceback" in line for line in lines)


def test_npz_with_pickled_infos_is_not_converted_without_them(tmp_path):
    trajs = _trajs()
    path = tmp_path / "demos.npz"
    np.savez(
        path,
        obs=np.concatenate([t.obs for t in trajs]),
        acts=np.concatenate([t.acts for t in trajs]),
        rews=np.concatenate([t.rews for t in trajs]),
        terminal=np.array([t.terminal for t in trajs]),
        indices=np.array([len(trajs[0])]),
        infos=np.array([info for t in trajs for info in t.infos], dtype=object),
    )
    before = path.read_bytes()
    with pytest.raises(convert_trajs.ConversionError, match="--allow-pickle"):
        convert_trajs.update_traj_file_in_place(path)
    assert path.read_bytes() == before  # untouched
    convert_trajs.update_traj_file_in_place(path, allow_pickle=True)
    assert path.is_dir()
    _assert_same(serialize.load(path), trajs)
