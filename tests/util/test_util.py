"""Tests for imitation.util.util, registry and video_wrapper."""

from __future__ import annotations

import numpy as np
import pytest
import torch as th

from imitation.util import util


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
