"""Minari datasets in and out (imitation.data.minari), on datasets built here."""

from __future__ import annotations

import json
import pathlib
import re

import gymnasium as gym
import h5py
import minari
import numpy as np
import pytest
from minari.data_collector.episode_buffer import EpisodeBuffer

from imitation.data import minari as im_minari
from imitation.data import rollout, types
from imitation.policies.base import RandomPolicy
from imitation.testing import dict_obs

DOC = pathlib.Path(__file__).parents[2] / "docs" / "formats.md"
BOX4 = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)
DISCRETE2 = gym.spaces.Discrete(2)


@pytest.fixture(autouse=True)
def minari_root(tmp_path, monkeypatch):
    """Every test gets its own Minari root; ~/.minari is never touched."""
    root = tmp_path / "minari"
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    return root


def _episode(rng, n, terminated, truncated, with_infos=False) -> EpisodeBuffer:
    terms = np.zeros(n, dtype=bool)
    truncs = np.zeros(n, dtype=bool)
    terms[-1], truncs[-1] = terminated, truncated
    return EpisodeBuffer(
        observations=rng.normal(size=(n + 1, 4)).astype(np.float32),
        actions=rng.integers(0, 2, size=n),
        rewards=rng.normal(size=n),
        terminations=terms,
        truncations=truncs,
        infos={"step": np.arange(n + 1)} if with_infos else {},
    )


def _build(dataset_id, buffers):
    """A CartPole dataset made the way Minari users make them (EpisodeBuffer)."""
    return minari.create_dataset_from_buffers(
        dataset_id,
        buffers,
        env="CartPole-v1",
        algorithm_name="test",
        author="test",
        author_email="test@example.com",
        code_permalink="https://example.com",
        description="test",
        eval_env="CartPole-v1",
    )


def _trajectories(rng, n_traj=4, length=7):
    return [
        types.TrajectoryWithRew(
            obs=rng.normal(size=(length + i + 1, 4)).astype(np.float32),
            acts=rng.integers(0, 2, size=length + i),
            infos=None,
            terminal=bool(i % 2),
            rews=rng.normal(size=length + i),
        )
        for i in range(n_traj)
    ]


def test_load_maps_terminations_and_truncations(rng):
    buffers = [
        _episode(rng, 5, terminated=True, truncated=False),
        _episode(rng, 6, terminated=False, truncated=True),
        _episode(rng, 4, terminated=True, truncated=True),
        _episode(rng, 3, terminated=False, truncated=False),
    ]
    _build("test/mixed-v0", buffers)
    trajs = im_minari.load_trajectories("test/mixed-v0", env="CartPole-v1")
    assert [t.terminal for t in trajs] == [True, False, True, False]
    for traj, buf in zip(trajs, buffers):
        assert isinstance(traj, types.TrajectoryWithRew)
        np.testing.assert_array_equal(traj.obs, buf.observations)
        np.testing.assert_array_equal(traj.acts, buf.actions)
        np.testing.assert_array_equal(traj.rews, buf.rewards)
        assert traj.infos is None
    assert len(im_minari.load_trajectories("test/mixed-v0", n_episodes=2)) == 2


def test_load_with_infos_drops_the_reset_info(rng):
    _build("test/infos-v0", [_episode(rng, 5, True, False, with_infos=True)])
    (traj,) = im_minari.load_trajectories("test/infos-v0", with_infos=True)
    assert [info["step"] for info in traj.infos] == [1, 2, 3, 4, 5]


def test_export_round_trip(rng):
    trajs = _trajectories(rng)
    im_minari.save_trajectories("test/export-v0", trajs, env="CartPole-v1")
    dataset = minari.load_dataset("test/export-v0")
    assert dataset.total_episodes == len(trajs)
    assert dataset.total_steps == sum(len(t) for t in trajs)
    assert dataset.recover_environment().spec.id == "CartPole-v1"
    for traj, episode in zip(trajs, dataset.iterate_episodes()):
        np.testing.assert_array_equal(episode.observations, traj.obs)
        np.testing.assert_array_equal(episode.actions, traj.acts)
        np.testing.assert_array_equal(episode.rewards, traj.rews)
        assert episode.terminations[-1] == traj.terminal
        assert episode.truncations[-1] == (not traj.terminal)
        assert (
            not episode.terminations[:-1].any() and not episode.truncations[:-1].any()
        )
    assert list(im_minari.load_trajectories("test/export-v0")) == trajs


def test_arrow_storage_round_trip(rng):
    trajs = _trajectories(rng, 2)
    im_minari.save_trajectories(
        "test/arrow-v0", trajs, env="CartPole-v1", data_format="arrow"
    )
    assert list(im_minari.load_trajectories("test/arrow-v0")) == trajs


def test_export_round_trip_dict_observations(make_counting_venv, rng):
    venv = make_counting_venv([4, 6], dict_obs=True)
    flat = rollout.generate_trajectories(
        RandomPolicy(venv.observation_space, venv.action_space, rng),
        venv,
        rollout.make_min_episodes(4),
        rng=rng,
    )
    trajs = [t.without_infos() for t in flat]
    assert isinstance(trajs[0].obs, types.DictObs)
    im_minari.save_trajectories("dict/counting-v0", trajs, env=venv.envs[0])
    for traj, episode in zip(trajs, minari.load_dataset("dict/counting-v0")):
        assert set(episode.observations) == set(traj.obs.keys())
        for key in sorted(traj.obs.keys()):
            np.testing.assert_array_equal(episode.observations[key], traj.obs.get(key))
        np.testing.assert_array_equal(episode.actions, traj.acts)
    loaded = im_minari.load_trajectories("dict/counting-v0", env=venv)
    assert list(loaded) == trajs


def test_export_of_dict_expert_trajectories(rng):
    trajs = dict_obs.dict_trajectories_from_flat(_trajectories(rng, 2))
    space = gym.spaces.Dict(
        {
            key: gym.spaces.Box(-np.inf, np.inf, traj_shape[1:], np.float32)
            for key, traj_shape in trajs[0].obs.shape.items()
        }
    )
    im_minari.save_trajectories(
        "dict/flat-v0", trajs, observation_space=space, action_space=DISCRETE2
    )
    assert list(im_minari.load_trajectories("dict/flat-v0")) == trajs


def test_image_observations_are_lossless(rng):
    space = gym.spaces.Box(0, 255, (32, 32, 3), np.uint8)
    trajs = [
        types.TrajectoryWithRew(
            obs=rng.integers(0, 256, size=(4, 32, 32, 3), dtype=np.uint8),
            acts=np.array([0, 1, 0]),
            infos=None,
            terminal=True,
            rews=np.ones(3),
        )
    ]
    im_minari.save_trajectories(
        "test/images-v0", trajs, observation_space=space, action_space=DISCRETE2
    )
    episode = minari.load_dataset("test/images-v0")[0]
    np.testing.assert_array_equal(episode.observations, trajs[0].obs)


def test_space_mismatch_names_both_spaces(rng):
    _build("test/box-v0", [_episode(rng, 3, True, False)])
    with pytest.raises(im_minari.MinariSpaceMismatchError, match="observation space"):
        im_minari.load_trajectories("test/box-v0", env="Pendulum-v1")
    with pytest.raises(im_minari.MinariSpaceMismatchError, match="Discrete\\(3\\)"):
        im_minari.load_trajectories("test/box-v0", action_space=gym.spaces.Discrete(3))


def test_missing_episode_field_is_named(rng):
    dataset = _build("test/broken-v0", [_episode(rng, 3, True, False)] * 2)
    with h5py.File(dataset.storage.data_path / "main_data.hdf5", "a") as f:
        del f["episode_1/rewards"]
    with pytest.raises(im_minari.MinariFormatError, match="episode 1.*'rewards'"):
        im_minari.load_trajectories("test/broken-v0")
    # Minari's own reader (used for infos) gives the same diagnosis.
    with pytest.raises(im_minari.MinariFormatError, match="episode 1.*'rewards'"):
        im_minari.load_trajectories("test/broken-v0", with_infos=True)


def test_missing_metadata_field_is_named(rng, minari_root):
    _build("test/nometa-v0", [_episode(rng, 3, True, False)])
    meta_path = minari_root / "test" / "nometa-v0" / "data" / "metadata.json"
    meta = json.loads(meta_path.read_text())
    del meta["minari_version"]
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(im_minari.MinariFormatError, match="minari_version"):
        im_minari.load_trajectories("test/nometa-v0")


def test_early_end_and_bad_lengths_are_refused(rng):
    buf = _episode(rng, 4, True, False)
    buf.terminations[1] = True
    _build("test/early-v0", [buf])
    with pytest.raises(im_minari.MinariFormatError, match="at step 1"):
        im_minari.load_trajectories("test/early-v0")
    short = _episode(rng, 4, True, False)
    short = EpisodeBuffer(
        observations=short.observations[:-1],
        actions=short.actions,
        rewards=short.rewards,
        terminations=short.terminations,
        truncations=short.truncations,
        infos={},
    )
    _build("test/short-v0", [short])
    with pytest.raises(im_minari.MinariFormatError, match="observations: 4"):
        im_minari.load_trajectories("test/short-v0")


def test_missing_dataset_and_bad_ids(minari_root):
    with pytest.raises(FileNotFoundError, match="MINARI_DATASETS_PATH"):
        im_minari.load_trajectories("test/absent-v0")
    with pytest.raises(ValueError, match="name-v<version>"):
        im_minari.load_trajectories("no-version")


def test_save_refuses_bad_input_and_existing_datasets(rng):
    trajs = _trajectories(rng, 2)
    with pytest.raises(ValueError, match="pass env="):
        im_minari.save_trajectories("test/x-v0", trajs)
    with pytest.raises(ValueError, match="without rewards"):
        im_minari.save_trajectories(
            "test/x-v0",
            [
                types.Trajectory(obs=t.obs, acts=t.acts, infos=None, terminal=True)
                for t in trajs
            ],
            env="CartPole-v1",
        )
    with pytest.raises(ValueError, match="per-step shape"):
        im_minari.save_trajectories("test/x-v0", trajs, env="Pendulum-v1")
    im_minari.save_trajectories("test/x-v0", trajs, env="CartPole-v1")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        im_minari.save_trajectories("test/x-v0", trajs, env="CartPole-v1")
    im_minari.save_trajectories(
        "test/x-v0", trajs[:1], env="CartPole-v1", overwrite=True
    )
    assert minari.load_dataset("test/x-v0").total_episodes == 1


def test_cache_gives_equal_trajectories_and_follows_changes(rng, tmp_path):
    trajs = _trajectories(rng, 3)
    dataset = im_minari.save_trajectories("test/cached-v0", trajs, env="CartPole-v1")
    cache = tmp_path / "cache"
    first = im_minari.load_trajectories("test/cached-v0", cache_dir=cache)
    assert len(list(cache.iterdir())) == 1
    second = im_minari.load_trajectories("test/cached-v0", cache_dir=cache)
    assert list(first) == list(second) == trajs
    assert (
        list(
            im_minari.load_trajectories("test/cached-v0", cache_dir=cache, n_episodes=2)
        )
        == trajs[:2]
    )
    dataset.update_dataset_from_buffer([_episode(rng, 3, True, False)])
    third = im_minari.load_trajectories("test/cached-v0", cache_dir=cache)
    assert len(third) == 4
    assert len(list(cache.iterdir())) == 2


def test_docs_python_block_runs(tmp_path, monkeypatch):
    """The Minari section's Python block of docs/formats.md, as written."""
    section = DOC.read_text().split("## Minari datasets")[1].split("\n## ")[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    monkeypatch.chdir(tmp_path)
    exec(compile(block, str(DOC), "exec"), {"__name__": "__doc_snippet__"})
    assert minari.load_dataset("seals-cartpole/expert-v0").total_episodes == 2


def _mixed_space_trajectories(rng):
    """Dict observations (a 2-D Box and MultiBinary) and Box actions."""
    trajs = []
    for i, n in enumerate([3, 5, 4]):
        obs = types.DictObs(
            {
                "flags": rng.integers(0, 2, size=(n + 1, 3)).astype(np.int8),
                "pos": rng.normal(size=(n + 1, 2, 3)).astype(np.float32),
            }
        )
        trajs.append(
            types.TrajectoryWithRew(
                obs=obs,
                acts=rng.normal(size=(n, 2)).astype(np.float32),
                infos=None,
                terminal=bool(i % 2),
                rews=rng.normal(size=n),
            )
        )
    spaces = (
        gym.spaces.Dict(
            {
                "flags": gym.spaces.MultiBinary(3),
                "pos": gym.spaces.Box(-np.inf, np.inf, (2, 3), np.float32),
            }
        ),
        gym.spaces.Box(-np.inf, np.inf, (2,), np.float32),
    )
    return trajs, spaces


@pytest.mark.parametrize("data_format", ["hdf5", "arrow", "parquet"])
def test_direct_read_equals_minaris_reader(rng, data_format):
    """The HDF5 and Arrow fast paths give Minari's arrays, dtypes included."""
    dataset_id = f"test/direct-{data_format}-v0"
    for trajs, (obs_space, act_space) in [
        (_trajectories(rng, 3), (BOX4, DISCRETE2)),
        _mixed_space_trajectories(rng),
    ]:
        im_minari.save_trajectories(
            dataset_id,
            trajs,
            observation_space=obs_space,
            action_space=act_space,
            data_format=data_format,
            overwrite=True,
        )
        fast = im_minari.load_trajectories(dataset_id)
        # Asking for infos reads through Minari's own reader.
        minaris = im_minari.load_trajectories(dataset_id, with_infos=True)
        assert list(fast) == list(minaris) == trajs
        for a, b in zip(fast, minaris):
            assert a.infos is None and b.infos is None
            obs_a = a.obs.unwrap() if isinstance(a.obs, types.DictObs) else {"": a.obs}
            obs_b = b.obs.unwrap() if isinstance(b.obs, types.DictObs) else {"": b.obs}
            assert obs_a.keys() == obs_b.keys()
            for key in obs_a:
                assert obs_a[key].dtype == obs_b[key].dtype
                assert obs_a[key].shape == obs_b[key].shape
            assert a.acts.dtype == b.acts.dtype and a.rews.dtype == b.rews.dtype
            if data_format != "parquet":  # Read by Minari, which gives views.
                # The fast paths' arrays are writable (not Arrow buffers' views).
                arrays = [*obs_a.values(), a.acts, a.rews]
                assert all(x.flags.writeable for x in arrays)
        assert len(im_minari.load_trajectories(dataset_id, n_episodes=2)) == 2


def test_unreadable_arrow_file_is_named(rng):
    dataset = im_minari.save_trajectories(
        "test/arrow-broken-v0",
        _trajectories(rng, 2),
        env="CartPole-v1",
        data_format="arrow",
    )
    (part,) = (dataset.storage.data_path / "1").glob("*.arrow")
    part.write_bytes(b"not arrow")
    with pytest.raises(im_minari.MinariFormatError, match="episode 1.*Arrow file"):
        im_minari.load_trajectories("test/arrow-broken-v0")
