"""Trajectory save + load round trip against a numpy floor from the same run.

Workload: 400 ``TrajectoryWithRew`` of 500 steps, 4-float32 observations,
int64 discrete actions, float64 rewards, no infos. The library's round trip is
``serialize.save`` (a HuggingFace dataset directory) then ``serialize.load``
and reading every trajectory's obs, acts and rews. The floor is ``np.savez``
plus ``np.load`` of the same data as flat arrays with split indices, read back
into memory and read the same way. Both are timed interleaved, best of 5.

Run: ``.venv/bin/python benchmarks/bench_serialize.py``.
"""

from __future__ import annotations

import pathlib
import sys
import tempfile
from collections.abc import Iterable

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import best_times_interleaved, print_table  # noqa: E402
from imitation.data import serialize, types  # noqa: E402

N_TRAJ, LENGTH = 400, 500
TARGET_SECONDS = 1.5


def make_trajectories(rng: np.random.Generator) -> list[types.TrajectoryWithRew]:
    return [
        types.TrajectoryWithRew(
            obs=rng.normal(size=(LENGTH + 1, 4)).astype(np.float32),
            acts=rng.integers(0, 2, size=LENGTH),
            infos=None,
            terminal=True,
            rews=rng.normal(size=LENGTH),
        )
        for _ in range(N_TRAJ)
    ]


def read_all(arrays: Iterable[np.ndarray]) -> float:
    """Touch every element, so lazily mapped data is really read."""
    return sum(float(a.sum()) for a in arrays)


def main() -> None:
    trajs = make_trajectories(np.random.default_rng(0))
    flat = {
        "obs": np.concatenate([t.obs for t in trajs]),
        "acts": np.concatenate([t.acts for t in trajs]),
        "rews": np.concatenate([t.rews for t in trajs]),
        "indices": np.cumsum([len(t) for t in trajs[:-1]]),
        "terminal": np.ones(N_TRAJ, dtype=bool),
    }
    expected = read_all(flat[k] for k in ("obs", "acts", "rews"))
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/demos"

        def save() -> None:
            serialize.save(path, trajs)

        def load_and_read() -> None:
            total = read_all(
                a for t in serialize.load(path) for a in (t.obs, t.acts, t.rews)
            )
            assert np.isclose(total, expected)

        def library() -> None:
            save()
            load_and_read()

        def floor() -> None:
            np.savez(f"{tmp}/flat.npz", **flat)
            with np.load(f"{tmp}/flat.npz") as data:
                loaded = {k: data[k] for k in data.files}
            assert np.isclose(
                read_all(loaded[k] for k in ("obs", "acts", "rews")), expected
            )

        library()  # Warm-up: imports, caches.
        t_lib, t_floor, t_save, t_load = best_times_interleaved(
            [library, floor, save, load_and_read]
        )
    print_table(
        f"Save + load round trip: {N_TRAJ} trajectories x {LENGTH} steps "
        f"(target: library under {TARGET_SECONDS} s)",
        ["measurement", "seconds", "ratio to floor"],
        [
            ["serialize.save + serialize.load + read all", t_lib, t_lib / t_floor],
            ["  of which serialize.save", t_save, t_save / t_floor],
            ["  of which serialize.load + read all", t_load, t_load / t_floor],
            ["floor: np.savez + np.load of flat arrays + read all", t_floor, 1.0],
        ],
    )


if __name__ == "__main__":
    main()
