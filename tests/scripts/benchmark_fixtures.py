"""Benchmark output folders written by hand, as the training scripts record them.

:func:`write_run` writes one Sacred run directory (``config.json`` and
``run.json``) with the fields the benchmark tools read; the scores are chosen
by the test, so summaries can be checked against numbers worked out by hand.
"""

from __future__ import annotations

import json
import os
import pathlib
import shlex
import subprocess
import sys
from collections.abc import Sequence

EXPERIMENTS = {
    "bc": "train_imitation",
    "dagger": "train_imitation",
    "gail": "train_adversarial",
    "airl": "train_adversarial",
}


def _stats(mean: float) -> dict[str, float]:
    return {
        "n_traj": 5,
        "return_mean": mean,
        "return_std": 0.0,
        "monitor_return_len": 5,
        "monitor_return_mean": mean,
        "monitor_return_std": 0.0,
    }


def write_run(
    root: pathlib.Path,
    run_id: str | int,
    *,
    algo: str = "bc",
    env: str = "seals/CartPole-v0",
    score: float | None = 10.0,
    expert: float | None = 100.0,
    random: float | None = 0.0,
    status: str = "COMPLETED",
    experiment: str | None = None,
) -> pathlib.Path:
    """Write ``root/<experiment>/<run_id>/`` as Sacred's file observer does.

    ``score``, ``expert`` and ``random`` become the ``monitor_return_mean``
    of ``imit_stats``, ``expert_stats`` and ``random_stats`` (each left out
    if None); a run that did not complete has no result.

    Returns:
        The run directory.
    """
    experiment = experiment or EXPERIMENTS.get(algo, "train_imitation")
    run_dir = root / experiment / str(run_id)
    run_dir.mkdir(parents=True)
    result: dict | None = None
    if status == "COMPLETED":
        result = {}
        for key, value in (
            ("imit_stats", score),
            ("expert_stats", expert),
            ("random_stats", random),
        ):
            if value is not None:
                result[key] = _stats(value)
    config = {
        "environment": {"gym_id": env, "num_vec": 1},
        "logging": {"log_dir": f"output/{algo}/{env}/run{run_id}"},
        "seed": 0,
    }
    run = {
        "command": algo,
        "status": status,
        "experiment": {"name": experiment},
        "result": result,
    }
    (run_dir / "config.json").write_text(json.dumps(config))
    (run_dir / "run.json").write_text(json.dumps(run))
    (run_dir / "cout.txt").write_text("")
    return run_dir


def write_runs(
    root: pathlib.Path,
    algo: str,
    env: str,
    scores: Sequence[float],
    *,
    expert: float = 100.0,
    random: float = 0.0,
    first_id: int = 1,
) -> list[pathlib.Path]:
    """One completed run per score, with ids counting from ``first_id``."""
    return [
        write_run(
            root,
            first_id + i,
            algo=algo,
            env=env,
            score=score,
            expert=expert,
            random=random,
        )
        for i, score in enumerate(scores)
    ]


# The benchmark workspace of write_workspace: raw scores, and the random and
# expert returns each run recorded, chosen so summaries can be worked out by
# hand. Normalised: BC 0, 0, 1 on Hopper and 1, 1, 1 on Swimmer.
BC_HOPPER = [(0.0, 0.0, 100.0), (-20.0, -20.0, 80.0), (300.0, 100.0, 300.0)]
BC_SWIMMER = [(50.0, 0.0, 50.0), (100.0, 0.0, 100.0), (5.0, -5.0, 5.0)]
GAIL_HOPPER = [10.0, 20.0, 300.0]  # random 0, expert 300
GAIL_SWIMMER = [50.0, 100.0, 5.0]  # random 0, expert 100
GAIL_WALKER = 1000.0  # an older run: no random return recorded
MY_GAIL_HOPPER = [300.0, 300.0, 20.0]
MY_GAIL_SWIMMER = [100.0, 100.0, 100.0]
HOPPER, SWIMMER, WALKER = "seals/Hopper-v1", "seals/Swimmer-v1", "seals/Walker2d-v1"


def _write_triples(root, algo, env, triples, first_id=1):
    for i, (score, random, expert) in enumerate(triples):
        write_run(
            root,
            first_id + i,
            algo=algo,
            env=env,
            score=score,
            random=random,
            expert=expert,
        )


def write_workspace(cwd: pathlib.Path) -> pathlib.Path:
    """The folders the documentation's benchmark commands run in.

    * ``benchmark_runs/first_batch`` (one machine's ``output``): BC on
      Hopper, a FAILED run, Sacred's ``_sources``, and the run's output
      folder with its ``sacred`` link (the same run again);
    * ``benchmark_runs/second_batch`` (another machine's ``output/sacred``):
      BC on Swimmer; GAIL on Hopper, Swimmer and (without random return)
      Walker2d; a RUNNING run; an ``analyze`` run (no score);
    * ``output/sacred``: your own GAIL runs on Hopper and Swimmer.

    Returns:
        ``cwd``.
    """
    first = cwd / "benchmark_runs" / "first_batch"
    _write_triples(first / "sacred", "bc", HOPPER, BC_HOPPER)
    write_run(first / "sacred", 4, algo="bc", env=HOPPER, status="FAILED")
    (first / "sacred" / "train_imitation" / "_sources").mkdir()
    out_dir = first / "bc" / "seals-Hopper-v1" / "20231012_121226_c5c0e4"
    out_dir.mkdir(parents=True)
    (out_dir / "sacred").symlink_to("../../../sacred/train_imitation/1")

    second = cwd / "benchmark_runs" / "second_batch"
    _write_triples(second, "bc", SWIMMER, BC_SWIMMER)
    _write_triples(second, "gail", HOPPER, [(s, 0.0, 300.0) for s in GAIL_HOPPER])
    _write_triples(
        second,
        "gail",
        SWIMMER,
        [(s, 0.0, 100.0) for s in GAIL_SWIMMER],
        first_id=4,
    )
    write_run(
        second,
        7,
        algo="gail",
        env=WALKER,
        score=GAIL_WALKER,
        random=None,
        expert=2000.0,
    )
    write_run(second, 8, algo="gail", env=WALKER, status="RUNNING")
    write_run(second, 1, algo="analyze_imitation", experiment="analyze", score=None)

    mine = cwd / "output" / "sacred"
    _write_triples(mine, "gail", HOPPER, [(s, 0.0, 300.0) for s in MY_GAIL_HOPPER])
    _write_triples(
        mine,
        "gail",
        SWIMMER,
        [(s, 0.0, 100.0) for s in MY_GAIL_SWIMMER],
        first_id=4,
    )
    return cwd


DOC = pathlib.Path(__file__).parents[2] / "docs" / "benchmark-summaries.md"


def documented_commands(tool: str) -> list[str]:
    """The ``bash`` blocks of docs/benchmark-summaries.md that run ``tool``."""
    blocks = DOC.read_text().split("```bash\n")[1:]
    commands = [block.split("```", 1)[0].strip() for block in blocks]
    return [c for c in commands if c.startswith(f"python -m imitation.scripts.{tool} ")]


def documented_output(first_line: str) -> str:
    """The ``text`` block of the docs that starts with ``first_line``."""
    for block in DOC.read_text().split("```text\n")[1:]:
        if block.startswith(first_line):
            return block.split("```", 1)[0]
    raise AssertionError(f"No documented output starts with {first_line!r}")


def run_shell(cwd: pathlib.Path, command: str) -> subprocess.CompletedProcess:
    """Run a documented ``python -m ...`` command line in a shell, in ``cwd``.

    ``python`` is this interpreter; the rest (redirections included) is as
    written.
    """
    assert command.startswith("python -m "), command
    line = shlex.quote(sys.executable) + command[len("python") :]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("IMITATION_TRACEBACK", None)
    return subprocess.run(
        line,
        shell=True,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
