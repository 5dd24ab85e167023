"""Loading a Minari dataset against loading the same arrays with serialize.load.

Workload: 1,000 ``TrajectoryWithRew`` of 200 steps, 4-float32 observations,
int64 discrete actions, float64 rewards, no infos. Both are written once (to a
temporary ``MINARI_DATASETS_PATH`` and a temporary directory); the timed part
is the load: ``imitation.data.minari.load_trajectories`` (every episode read
and validated into a trajectory), uncached and with ``cache_dir`` holding the
copy the first load made, against ``serialize.load`` of the same
trajectories saved with ``serialize.save`` (its floor here), each followed by
reading every trajectory's obs, acts and rews. For reference: Minari's own
reader (``MinariDataset.iterate_episodes``, no trajectories built) and plain
reads of every episode's arrays with h5py's high-level API. Timed
interleaved, best of 5.
Goal: the (cached) Minari load within 2x of ``serialize.load``.

Run: ``.venv/bin/python benchmarks/bench_minari.py``.
"""

from __future__ import annotations

import os
import pathlib
import sys
import tempfile
from collections.abc import Iterable

import gymnasium as gym
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import best_times_interleaved, print_table  # noqa: E402

N_TRAJ, LENGTH = 1000, 200
GOAL_RATIO = 2.0


def make_trajectories(rng: np.random.Generator) -> list:
    from imitation.data import types

    return [
        types.TrajectoryWithRew(
            obs=rng.normal(size=(LENGTH + 1, 4)).astype(np.float32),
            acts=rng.integers(0, 2, size=LENGTH),
            infos=None,
            terminal=bool(i % 2),
            rews=rng.normal(size=LENGTH),
        )
        for i in range(N_TRAJ)
    ]


def read_all(arrays: Iterable[np.ndarray]) -> float:
    """Touch every element, so lazily decoded data is really read."""
    return sum(float(a.sum()) for a in arrays)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MINARI_DATASETS_PATH"] = f"{tmp}/minari"
        import h5py
        import minari

        from imitation.data import minari as im_minari
        from imitation.data import serialize

        trajs = make_trajectories(np.random.default_rng(0))
        expected = read_all(a for t in trajs for a in (t.obs, t.acts, t.rews))
        im_minari.save_trajectories(
            "bench/demos-v0",
            trajs,
            observation_space=gym.spaces.Box(-np.inf, np.inf, (4,), np.float32),
            action_space=gym.spaces.Discrete(2),
        )
        serialize.save(f"{tmp}/demos", trajs)

        def minari_load() -> None:
            loaded = im_minari.load_trajectories("bench/demos-v0")
            total = read_all(a for t in loaded for a in (t.obs, t.acts, t.rews))
            assert np.isclose(total, expected) and len(loaded) == N_TRAJ

        def minari_cached_load() -> None:
            loaded = im_minari.load_trajectories(
                "bench/demos-v0", cache_dir=f"{tmp}/cache"
            )
            total = read_all(a for t in loaded for a in (t.obs, t.acts, t.rews))
            assert np.isclose(total, expected) and len(loaded) == N_TRAJ

        def minari_api_read() -> None:
            dataset = minari.load_dataset("bench/demos-v0")
            total = read_all(
                a
                for ep in dataset.iterate_episodes()
                for a in (ep.observations, ep.actions, ep.rewards)
            )
            assert np.isclose(total, expected)

        def hdf5_read() -> None:
            path = minari.load_dataset("bench/demos-v0").storage.data_path
            fields = ("observations", "actions", "rewards")
            flags = ("terminations", "truncations")
            with h5py.File(path / "main_data.hdf5", "r") as file:
                arrays = [
                    file[f"episode_{i}/{name}"][()]
                    for i in range(N_TRAJ)
                    for name in fields + flags
                ]
            total = read_all(a for a in arrays if a.dtype != bool)
            assert np.isclose(total, expected)

        def serialize_load() -> None:
            loaded = serialize.load(f"{tmp}/demos")
            total = read_all(a for t in loaded for a in (t.obs, t.acts, t.rews))
            assert np.isclose(total, expected) and len(loaded) == N_TRAJ

        minari_load()  # Warm-up: imports.
        serialize_load()
        minari_cached_load()  # Fills the cache.
        t_minari, t_cached, t_floor, t_api, t_hdf5 = best_times_interleaved(
            [
                minari_load,
                minari_cached_load,
                serialize_load,
                minari_api_read,
                hdf5_read,
            ]
        )
    ratio = t_cached / t_floor
    print_table(
        f"Load {N_TRAJ} episodes x {LENGTH} steps (goal: a cached Minari load "
        f"within {GOAL_RATIO:g}x of serialize.load)",
        ["measurement", "seconds", "ratio to floor", "goal"],
        [
            ["minari.load_trajectories + read all", t_minari, t_minari / t_floor, ""],
            [
                "  with cache_dir (cache filled) + read all",
                t_cached,
                ratio,
                f"<= {GOAL_RATIO:g}",
            ],
            ["floor: serialize.load + read all", t_floor, 1.0, ""],
            [
                "minari's own reader (iterate_episodes, arrays only)",
                t_api,
                t_api / t_floor,
                "",
            ],
            [
                "h5py (high-level API): read every episode's 5 arrays",
                t_hdf5,
                t_hdf5 / t_floor,
                "",
            ],
        ],
    )
    print(
        f"\nGoal (cached load) {'met' if ratio <= GOAL_RATIO else 'MISSED'}: "
        f"{ratio:.2f}x. An uncached load opens 5 HDF5 datasets per episode; "
        "opening them costs many times the floor."
    )


if __name__ == "__main__":
    main()
