"""Loading a Minari dataset against loading the same arrays with serialize.load.

Workload: 1,000 ``TrajectoryWithRew`` of 200 steps, 4-float32 observations,
int64 discrete actions, float64 rewards, no infos. They are written once as a
Minari dataset in each storage format (HDF5, the default, and Arrow; to a
temporary ``MINARI_DATASETS_PATH``) and with ``serialize.save``. The timed
part is the load: ``imitation.data.minari.load_trajectories`` (every episode
read and validated into a trajectory), uncached and with ``cache_dir``
holding the copy the first load made, against ``serialize.load`` of the same
trajectories (the floor: it also builds and validates every trajectory),
each followed by reading every trajectory's obs, acts and rews. For
reference: Minari's own reader (``MinariDataset.iterate_episodes``, no
trajectories built) of each format, reads of every episode's arrays with
h5py's high-level API, and the bare cost of opening each of the 5,000 HDF5
datasets with h5py's low-level API (what any reader using the HDF5 library
pays before reading a byte).
Timed interleaved, best of 5, as wall time and as this process's CPU time
(which leaves out waiting for a core on a busy machine).
Goal: the uncached HDF5 load within 2x of ``serialize.load``.

Run: ``.venv/bin/python benchmarks/bench_minari.py``.
"""

from __future__ import annotations

import os
import pathlib
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import print_table  # noqa: E402

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


def best_wall_and_cpu(
    fns: Sequence[Callable[[], None]], repeats: int = 5
) -> list[tuple[float, float]]:
    """Fastest wall and CPU time of each function, run in turn ``repeats`` times."""
    best = [(float("inf"), float("inf"))] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            best[i] = (min(best[i][0], wall), min(best[i][1], cpu))
    return best


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MINARI_DATASETS_PATH"] = f"{tmp}/minari"
        import h5py
        import minari

        from imitation.data import minari as im_minari
        from imitation.data import serialize

        trajs = make_trajectories(np.random.default_rng(0))
        expected = read_all(a for t in trajs for a in (t.obs, t.acts, t.rews))
        for data_format in ("hdf5", "arrow"):
            im_minari.save_trajectories(
                f"bench/demos-{data_format}-v0",
                trajs,
                observation_space=gym.spaces.Box(-np.inf, np.inf, (4,), np.float32),
                action_space=gym.spaces.Discrete(2),
                data_format=data_format,
            )
        serialize.save(f"{tmp}/demos", trajs)
        hdf5_path = (
            minari.load_dataset("bench/demos-hdf5-v0").storage.data_path
            / "main_data.hdf5"
        )
        fields = ("observations", "actions", "rewards", "terminations", "truncations")

        def check(loaded: Sequence[Any]) -> None:
            total = read_all(a for t in loaded for a in (t.obs, t.acts, t.rews))
            assert np.isclose(total, expected) and len(loaded) == N_TRAJ

        def minari_load() -> None:
            check(im_minari.load_trajectories("bench/demos-hdf5-v0"))

        def minari_arrow_load() -> None:
            check(im_minari.load_trajectories("bench/demos-arrow-v0"))

        def minari_cached_load() -> None:
            check(
                im_minari.load_trajectories(
                    "bench/demos-hdf5-v0", cache_dir=f"{tmp}/cache"
                )
            )

        def serialize_load() -> None:
            check(serialize.load(f"{tmp}/demos"))

        def minari_api_read(data_format: str = "hdf5") -> None:
            dataset = minari.load_dataset(f"bench/demos-{data_format}-v0")
            total = read_all(
                a
                for ep in dataset.iterate_episodes()
                for a in (ep.observations, ep.actions, ep.rewards)
            )
            assert np.isclose(total, expected)

        def minari_api_arrow_read() -> None:
            minari_api_read("arrow")

        def hdf5_read() -> None:
            with h5py.File(hdf5_path, "r") as file:
                arrays = [
                    file[f"episode_{i}/{name}"][()]
                    for i in range(N_TRAJ)
                    for name in fields
                ]
            total = read_all(a for a in arrays if a.dtype != bool)
            assert np.isclose(total, expected)

        def hdf5_open_only() -> None:
            with h5py.File(hdf5_path, "r") as file:
                for i in range(N_TRAJ):
                    for name in fields:
                        h5py.h5d.open(file.id, f"episode_{i}/{name}".encode())

        minari_load()  # Warm-up: imports.
        minari_arrow_load()
        serialize_load()
        minari_cached_load()  # Fills the cache.
        times = best_wall_and_cpu(
            [
                minari_load,
                minari_arrow_load,
                minari_cached_load,
                serialize_load,
                minari_api_read,
                minari_api_arrow_read,
                hdf5_read,
                hdf5_open_only,
            ]
        )
    labels = [
        "load_trajectories, HDF5, uncached",
        "load_trajectories, Arrow, uncached",
        "load_trajectories, cache_dir filled",
        "floor: serialize.load of the same trajectories",
        "Minari's own reader (iterate_episodes, arrays only), HDF5",
        "Minari's own reader (iterate_episodes, arrays only), Arrow",
        "h5py's high-level API: read every episode's 5 arrays",
        f"h5py's low-level API: only open the {5 * N_TRAJ:,} datasets",
    ]
    floor_wall, floor_cpu = times[3]
    print_table(
        f"Load {N_TRAJ:,} episodes x {LENGTH} steps + read all arrays, best of 5 "
        f"(goal: an uncached HDF5 load within {GOAL_RATIO:g}x of serialize.load)",
        ["measurement", "wall s", "wall ratio", "CPU s", "CPU ratio", "goal"],
        [
            [label, wall, wall / floor_wall, cpu, cpu / floor_cpu, goal]
            for label, (wall, cpu), goal in zip(
                labels, times, [f"<= {GOAL_RATIO:g}"] + [""] * (len(labels) - 1)
            )
        ],
    )
    ratio = times[0][1] / floor_cpu
    open_us = times[-1][1] / (5 * N_TRAJ) * 1e6
    print(
        f"\nGoal (uncached HDF5 load) {'met' if ratio <= GOAL_RATIO else 'MISSED'}: "
        f"{ratio:.1f}x the floor in CPU time ({times[0][0] / floor_wall:.1f}x wall). "
        f"Opening an HDF5 dataset alone costs {open_us:.1f} us of CPU; the "
        f"{5 * N_TRAJ:,} opens take {times[-1][1] / floor_cpu:.1f}x the floor. "
        f"With cache_dir: {times[2][1] / floor_cpu:.2f}x."
    )


if __name__ == "__main__":
    main()
