"""Wall time of a benchmark chunk through Ray on every core, beside running it serially.

The chunk is ``N`` runs of one tuned benchmark cell (default: BC on
seals/Swimmer-v1, seeds ``0..N-1``, with a cut budget so a run takes about a
minute), timed three ways on this machine:

1. one after another, each a plain ``train_imitation`` subprocess (the floor
   a user gets without Ray);
2. ``run_benchmarks`` with ``resources_per_trial.cpu`` = all cores (Ray, one
   run at a time: Ray's own overhead);
3. ``run_benchmarks`` with one core per run (Ray, as many runs at once as
   there are cores).

Each way writes to its own fresh ``logging.log_root``, so nothing is reused.
One untimed run first fills the demonstrations cache. Run it on an otherwise
idle machine: the figure is a wall-time ratio.

Run: ``.venv/bin/python benchmarks/bench_ray_chunk.py [N] [--cell bc_seals_swimmer]``
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import print_table  # noqa: E402

BUDGET = {
    "bc": {"train_kwargs": {"n_epochs": 4}},
    "policy_evaluation": {"n_episodes_eval": 10},
    "environment": {"parallel": False},
}
"""Config updates of every run: a cut budget, and no env subprocesses."""


def _flat(updates: dict, prefix: str = "") -> list[str]:
    """``updates`` as Sacred command-line assignments (``a.b=value``)."""
    out = []
    for key, value in updates.items():
        if isinstance(value, dict):
            out += _flat(value, f"{prefix}{key}.")
        else:
            out.append(f"{prefix}{key}={value!r}")
    return out


def _env() -> dict[str, str]:
    return dict(os.environ, OMP_NUM_THREADS="1")


def serial(cell: str, seeds: list[int], root: pathlib.Path) -> float:
    """Wall seconds of the runs as plain CLI subprocesses, one after another."""
    algo = cell.split("_", 1)[0]
    start = time.perf_counter()
    for seed in seeds:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "imitation.scripts.train_imitation",
                algo,
                "with",
                cell,
                f"seed={seed}",
                f"logging.log_root={root}",
                *_flat(BUDGET),
            ],
            check=True,
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    return time.perf_counter() - start


def through_ray(cell: str, seeds: list[int], root: pathlib.Path, cpus: int) -> float:
    """Wall seconds of the same runs as one ``run_benchmarks`` chunk."""
    algo, env = cell.split("_", 1)
    updates = {**BUDGET, "logging": {"log_root": str(root)}}
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "imitation.scripts.run_benchmarks",
            "with",
            f"algos={json.dumps([algo])}",
            f"environments={json.dumps([env])}",
            f"seeds={json.dumps(seeds)}",
            f"resources_per_trial.cpu={cpus}",
            f"base_config_updates={updates!r}",
            f"run_name=chunk_cpu{cpus}",
        ],
        check=True,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=root,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=4)
    parser.add_argument("--cell", default="bc_seals_swimmer")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    seeds = list(range(args.n))
    with tempfile.TemporaryDirectory() as tmp:
        base = pathlib.Path(tmp)
        serial(args.cell, [100], base / "warm")  # fills the demonstrations cache
        roots = {name: base / name for name in ("serial", "ray_one", "ray_all")}
        for root in roots.values():
            root.mkdir()
        t_serial = serial(args.cell, seeds, roots["serial"])
        t_one = through_ray(args.cell, seeds, roots["ray_one"], cpus=cores)
        t_all = through_ray(args.cell, seeds, roots["ray_all"], cpus=1)
    print_table(
        f"{args.n} runs of {args.cell} on {cores} cores (wall seconds)",
        ["how", "seconds", "x serial"],
        [
            ["one after another, plain CLI subprocesses", t_serial, 1.0],
            [
                f"run_benchmarks, {cores} CPUs per trial (serial)",
                t_one,
                t_one / t_serial,
            ],
            ["run_benchmarks, 1 CPU per trial (parallel)", t_all, t_all / t_serial],
        ],
    )
    print(f"\nBar: parallel <= 0.75x serial; measured {t_all / t_serial:.2f}x.")


if __name__ == "__main__":
    main()
