"""Tests for imitation.util.util, registry and video_wrapper."""

from __future__ import annotations

import os

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.vec_env import DummyVecEnv

from imitation.util import atomic, util


def test_make_vec_env_seeding_and_wrappers(tmp_path):
    seen = []

    def post(env, i):
        seen.append(i)
        return env

    a = util.make_vec_env(
        "CartPole-v1",
        rng=np.random.default_rng(3),
        n_envs=3,
        log_dir=str(tmp_path),
        post_wrappers=[post],
        max_episode_steps=7,
    )
    b = util.make_vec_env("CartPole-v1", rng=np.random.default_rng(3), n_envs=3)
    np.testing.assert_array_equal(a.reset(), b.reset())
    assert seen == [0, 1, 2]
    assert a.envs[0].spec.max_episode_steps == 7
    assert sorted(p.name for p in (tmp_path / "monitor").iterdir()) == [
        f"mon00{i}.monitor.csv" for i in range(3)
    ]
    with pytest.raises(ValueError, match="n_envs"):
        util.make_vec_env("CartPole-v1", rng=np.random.default_rng(), n_envs=0)


def test_make_vec_env_parallel():
    venv = util.make_vec_env(
        "CartPole-v1", rng=np.random.default_rng(0), n_envs=2, parallel=True
    )
    try:
        assert venv.reset().shape == (2, 4)
    finally:
        venv.close()


def test_make_seeds():
    rng = np.random.default_rng(0)
    assert isinstance(util.make_seeds(rng), int)
    seeds = util.make_seeds(np.random.default_rng(0), 4)
    assert len(seeds) == 4 and seeds == util.make_seeds(np.random.default_rng(0), 4)


def test_tensor_helpers():
    arr = np.arange(3.0)
    arr.flags.writeable = False
    t = util.safe_to_tensor(arr)
    assert th.equal(t, th.arange(3.0, dtype=th.float64))
    assert util.safe_to_tensor(t) is t
    np.testing.assert_array_equal(util.safe_to_numpy(t), arr)
    assert util.safe_to_numpy(None) is None
    with pytest.warns(UserWarning):
        util.safe_to_numpy(t, warn=True)
    norm = util.tensor_iter_norm([th.tensor([3.0]), th.tensor([4.0])])
    assert norm.item() == pytest.approx(5.0)
    with pytest.raises(ValueError):
        util.tensor_iter_norm([])


def test_iteration_helpers():
    it = util.endless_iter([1, 2])
    assert [next(it) for _ in range(5)] == [1, 2, 1, 2, 1]
    with pytest.raises(ValueError, match="iterator"):
        next(util.endless_iter(iter([1])))
    first, rest = util.get_first_iter_element(iter([7, 8]))
    assert first == 7 and list(rest) == [7, 8]
    with pytest.raises(ValueError):
        util.get_first_iter_element([])
    assert util.split_in_half(7) == (3, 4)
    assert (
        # Total 2.0: floors [0, 0, 1], one unit to the largest remainder.
        util.oric(np.array([0.4, 0.4, 1.2])).tolist() == [1, 0, 1]
    )


def test_unique_timestamp_and_paths(tmp_path):
    assert util.make_unique_timestamp() != util.make_unique_timestamp()
    assert util.parse_path(b"a/b").name == "b"
    assert util.parse_optional_path(None) is None
    with pytest.raises(ValueError, match="absolute"):
        util.parse_path("rel", allow_relative=False)
    assert util.parse_path("x", base_directory=tmp_path) == tmp_path / "x"


def test_atomic_write_path(tmp_path):
    target = tmp_path / "out.txt"
    with util.atomic_write_path(target) as tmp:
        tmp.write_text("one")
    assert target.read_text() == "one"
    with pytest.raises(RuntimeError), util.atomic_write_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert target.read_text() == "one"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def _write_dir(path, text):
    path.mkdir()
    (path / "data.txt").write_text(text)


def _hidden(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def test_exchange_paths(tmp_path):
    _write_dir(tmp_path / "a", "a")
    (tmp_path / "b").write_text("b")
    if not util.exchange_paths(tmp_path / "a", tmp_path / "b"):
        pytest.skip("This platform or filesystem cannot exchange paths.")
    assert (tmp_path / "a").read_text() == "b"
    assert (tmp_path / "b" / "data.txt").read_text() == "a"
    with pytest.raises(FileNotFoundError):
        util.exchange_paths(tmp_path / "a", tmp_path / "missing")


def test_atomic_write_path_exchanges_directories(tmp_path, monkeypatch):
    target = tmp_path / "d"
    _write_dir(target, "old")
    (target / "only_in_old.txt").write_text("x")
    results = []
    exchange = util.exchange_paths

    def spy(first, second):
        results.append(exchange(first, second))
        return results[-1]

    monkeypatch.setattr(atomic, "exchange_paths", spy)
    with util.atomic_write_path(target) as tmp:
        _write_dir(tmp, "new")
    if results != [True]:
        pytest.skip("This platform or filesystem cannot exchange paths.")
    assert sorted(p.name for p in target.iterdir()) == ["data.txt"]
    assert (target / "data.txt").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


def test_atomic_write_path_falls_back_to_two_renames(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic, "exchange_paths", lambda first, second: False)
    target = tmp_path / "d"
    _write_dir(target, "old")
    with util.atomic_write_path(target) as tmp:
        _write_dir(tmp, "new")
    assert (target / "data.txt").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["d"]
    # A failed write still leaves the old directory and no leftovers.
    with pytest.raises(RuntimeError), util.atomic_write_path(target) as tmp:
        _write_dir(tmp, "half")
        raise RuntimeError("crash")
    assert (target / "data.txt").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


def test_atomic_write_path_interrupted_between_renames(tmp_path, monkeypatch):
    """An exception between the two renames (e.g. Ctrl-C) keeps a copy in place."""
    monkeypatch.setattr(atomic, "exchange_paths", lambda first, second: False)
    real_replace = os.replace

    def interrupted_replace(src, dst):
        real_replace(src, dst)
        if os.fspath(dst).endswith(".old"):
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted_replace)
    target = tmp_path / "d"
    _write_dir(target, "old")
    with pytest.raises(KeyboardInterrupt), util.atomic_write_path(target) as tmp:
        _write_dir(tmp, "new")
    assert (target / "data.txt").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


def _killed_between_renames(parent, name="d", suffix="k1l2m3n4"):
    """The files a writer killed between its two renames leaves behind."""
    tmp_dir = parent / f".{name}.{suffix}.tmp"
    tmp_dir.mkdir()
    _write_dir(tmp_dir / name, "new")
    _write_dir(tmp_dir / f"{name}.old", "old")
    return tmp_dir


def test_recover_interrupted_write(tmp_path):
    target = tmp_path / "d"
    assert not util.recover_interrupted_write(target)
    assert not util.recover_interrupted_write(tmp_path / "no" / "parent")
    _killed_between_renames(tmp_path)
    # A writer still writing (no .old yet) and another path's leftovers.
    writing = tmp_path / ".d.abcd1234.tmp"
    writing.mkdir()
    _write_dir(writing / "d", "partial")
    _killed_between_renames(tmp_path, name="d.x")

    assert util.recover_interrupted_write(target)
    assert (target / "data.txt").read_text() == "new"
    assert _hidden(tmp_path) == [".d.abcd1234.tmp", ".d.x.k1l2m3n4.tmp"]
    assert (writing / "d" / "data.txt").read_text() == "partial"
    assert not util.recover_interrupted_write(target)  # Nothing left to do.


def test_recover_leaves_an_existing_path_alone(tmp_path):
    _write_dir(tmp_path / "d", "current")
    tmp_dir = _killed_between_renames(tmp_path)
    assert not util.recover_interrupted_write(tmp_path / "d")
    assert (tmp_path / "d" / "data.txt").read_text() == "current"
    assert sorted(p.name for p in tmp_dir.iterdir()) == ["d", "d.old"]


def test_atomic_write_path_recovers_first(tmp_path):
    _killed_between_renames(tmp_path)
    seen = []
    with util.atomic_write_path(tmp_path / "d") as tmp:
        seen.append((tmp_path / "d" / "data.txt").read_text())
        _write_dir(tmp, "newest")
    assert seen == ["new"]
    assert (tmp_path / "d" / "data.txt").read_text() == "newest"
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


@pytest.mark.parametrize(
    "bad",
    [0, None, np.random.RandomState(0), "seed"],
    ids=["int", "None", "RandomState", "str"],
)
def test_check_rng(bad):
    with pytest.raises(TypeError, match=r"rng must be a numpy Generator.*default_rng"):
        util.check_rng(bad)
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        util.make_vec_env("CartPole-v1", rng=bad, n_envs=1)
    generator = np.random.default_rng(0)
    assert util.check_rng(generator) is generator


def test_check_vec_env():
    env = gym.make("CartPole-v1")
    with pytest.raises(TypeError, match=r"plain gym.Env.*make_vec_env.*DummyVecEnv"):
        util.check_vec_env(env)
    with pytest.raises(TypeError, match="log_rollouts_venv must be a vectorised"):
        util.check_vec_env("CartPole-v1", "log_rollouts_venv")
    venv = DummyVecEnv([lambda: env])
    assert util.check_vec_env(venv) is venv


def test_check_positive_int():
    assert util.check_positive_int(np.int64(3), "n") == 3
    for bad in ("32", 32.0, True, None):
        with pytest.raises(TypeError, match="n must be a positive int"):
            util.check_positive_int(bad, "n")
    for bad in (0, -1):
        with pytest.raises(ValueError, match="n must be a positive int"):
            util.check_positive_int(bad, "n")


def test_clear_screen_writes_ansi_erase_and_home(capsys):
    util.clear_screen()
    assert capsys.readouterr().out == "\033[2J\033[H"


def test_docstring_parameter_formats_docstring():
    @util.docstring_parameter(32, unit="steps")
    def f():
        """Runs {0} {unit}; braces stay: {{x}}."""

    assert f.__doc__ == "Runs 32 steps; braces stay: {x}."


def test_docstring_parameter_on_class_and_without_docstring():
    @util.docstring_parameter(size=3)
    class Sized:
        """Holds {size} things."""

    assert Sized.__doc__ == "Holds 3 things."

    @util.docstring_parameter(1)
    def undocumented():
        pass

    assert undocumented.__doc__ is None
    assert undocumented() is None


def test_docstring_parameter_missing_key():
    with pytest.raises(KeyError):

        @util.docstring_parameter(other=1)
        def f():
            """Needs {name}."""


def test_unit_box_scaling_round_trip():
    import gymnasium as gym

    space = gym.spaces.Box(low=np.array([-2.0, 0.0]), high=np.array([2.0, 10.0]))
    acts = np.array([[-2.0, 0.0], [0.0, 5.0], [2.0, 10.0]])
    unit = util.scale_to_unit_box(acts, space)
    np.testing.assert_allclose(unit, [[-1, -1], [0, 0], [1, 1]])
    np.testing.assert_allclose(util.unscale_from_unit_box(unit, space), acts)
