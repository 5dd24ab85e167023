"""Keep the seals MuJoCo benchmark's records and publish their summary.

Two steps, each a subcommand:

``collect OUTPUT [OUTPUT ...]``
    Copy every completed run below the Sacred folders of ``run_benchmarks``
    outputs (``<log_root>/sacred``) into ``benchmarks/results/<named
    configs>/seed<seed>/``: its ``config.json``, ``run.json`` and ``info.json``
    (CPU time), nothing else. A run already kept is left alone; a different run
    under the same name is an error (the records are the published evidence).

``summary``
    Write ``docs/benchmark_summary.md`` from the kept records: the commands,
    the library's own ``sacred_output_to_markdown_summary`` of them, the
    side-by-side table against the documented one, and the compute per cell.

Usage: ``.venv/bin/python tools/seals_benchmark.py collect /work/bench/output``
then ``.venv/bin/python tools/seals_benchmark.py summary``.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from imitation.scripts import _benchmark_runs, sacred_output_to_markdown_summary
from imitation.util import atomic

ROOT = pathlib.Path(__file__).parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SUMMARY = ROOT / "docs" / "benchmark_summary.md"
KEPT_FILES = ("config.json", "run.json", "info.json")

ENVS = (
    "seals/Ant-v1",
    "seals/HalfCheetah-v1",
    "seals/Hopper-v1",
    "seals/Swimmer-v1",
    "seals/Walker2d-v1",
)
DOCUMENTED: dict[str, dict[str, float]] = {
    "bc": dict(zip(ENVS, (0.844, 0.923, 1.003, 0.935, 0.956))),
    "dagger": dict(zip(ENVS, (0.957, 1.017, 1.011, 0.988, 1.002))),
    "gail": dict(zip(ENVS, (0.995, 0.963, 0.935, 0.845, 0.959))),
    "airl": dict(zip(ENVS, (0.981, 0.627, 0.921, 0.970, 0.461))),
}
"""Normalised mean per cell of the documentation's "Benchmark Summary"."""
DOCUMENTED_IQM = {"bc": 0.941, "dagger": 1.004, "gail": 0.957, "airl": 0.918}
DOCUMENTED_MEAN = {"bc": 0.932, "dagger": 0.995, "gail": 0.939, "airl": 0.792}
GOAL_IQM = DOCUMENTED_IQM
"""Issue 25's goals: each algorithm's IQM at least the documented one."""


def _completed_runs(output: pathlib.Path) -> Iterator[pathlib.Path]:
    for run_json in sorted(output.rglob("run.json")):
        run_dir = run_json.parent
        if not (run_dir / "config.json").is_file():
            continue
        run = json.loads(run_json.read_text())
        # Training runs only (not the sweeps' own records in sacred/parallel).
        if run.get("status") == "COMPLETED" and run.get("command") in DOCUMENTED:
            yield run_dir


def record_name(run_dir: pathlib.Path) -> pathlib.PurePath:
    """``<named configs joined by +>/seed<seed>``, the run's place in the records."""
    meta = json.loads((run_dir / "run.json").read_text())["meta"]
    config = json.loads((run_dir / "config.json").read_text())
    named = "+".join(meta.get("named_configs") or ["no_named_config"])
    return pathlib.PurePath(named, f"seed{config['seed']}")


def _same_run(a: pathlib.Path, b: pathlib.Path) -> bool:
    def key(d: pathlib.Path) -> Any:
        run = json.loads((d / "run.json").read_text())
        return run["start_time"], run["meta"]

    return key(a) == key(b)


def collect(outputs: Sequence[pathlib.Path], results: pathlib.Path = RESULTS) -> int:
    """Copy the completed runs below ``outputs`` into ``results``; returns the count."""
    added = 0
    for output in outputs:
        for run_dir in _completed_runs(output):
            dest = results / record_name(run_dir)
            if dest.exists():
                if not _same_run(dest, run_dir):
                    raise FileExistsError(
                        f"{dest} already holds another run than {run_dir}: move "
                        "one of them away (the kept records are published)."
                    )
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = pathlib.Path(tempfile.mkdtemp(dir=dest.parent, prefix=".tmp-"))
            for name in KEPT_FILES:
                if (run_dir / name).is_file():
                    shutil.copy2(run_dir / name, tmp / name)
            tmp.rename(dest)
            added += 1
    return added


def _cpu_hours(runs: Sequence[_benchmark_runs.BenchmarkRun]) -> tuple[float, bool]:
    """Total CPU hours of ``runs``, and whether every run recorded its CPU time."""
    total, complete = 0.0, True
    for run in runs:
        info = run.sacred_dir / "info.json"
        cpu = (
            json.loads(info.read_text()).get("cpu_seconds") if info.is_file() else None
        )
        if cpu is None:
            complete = False
            continue
        total += float(cpu)
    return total / 3600, complete


def _cell(values: np.ndarray) -> str:
    return f"{values.mean():.3f} (n={values.size})" if values.size else "not run"


def side_by_side(
    summaries: Sequence[sacred_output_to_markdown_summary.AlgoSummary],
    runs: Sequence[_benchmark_runs.BenchmarkRun],
) -> list[str]:
    """The comparison with the documented table, and compute per cell."""
    by_algo = {s.algo: s for s in summaries}
    lines = [
        "## Side by side with the documented table",
        "",
        "Normalised mean per cell: the documentation's (its experts, 10 seeds, "
        "GAIL/AIRL at 10M generator steps) / ours (our experts, n seeds, "
        "GAIL/AIRL at 1M).",
        "",
        "| Environment | " + " | ".join(a.upper() for a in DOCUMENTED) + " |",
        "|---|" + "---|" * len(DOCUMENTED),
    ]
    for env in ENVS:
        cells = []
        for algo, documented in DOCUMENTED.items():
            ours = np.array([])
            if algo in by_algo:
                for e in by_algo[algo].envs:
                    if e.env == env:
                        ours = e.normalized
            cells.append(f"{documented[env]:.3f} / {_cell(ours)}")
        lines.append(f"| {env} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| Algorithm | documented IQM | our IQM [95% CI] | documented mean "
        "| our mean [95% CI] | goal (IQM) |",
        "|---|---|---|---|---|---|",
    ]
    for algo in DOCUMENTED:
        aggregates = by_algo[algo].aggregates if algo in by_algo else {}
        intervals = {
            name: f"{est.point:.3f} [{est.lower:.3f}, {est.upper:.3f}]"
            for name, est in aggregates.items()
        }
        lines.append(
            f"| {algo.upper()} | {DOCUMENTED_IQM[algo]:.3f} | "
            f"{intervals.get('IQM', 'not run')} | {DOCUMENTED_MEAN[algo]:.3f} | "
            f"{intervals.get('Mean', 'not run')} | >= {GOAL_IQM[algo]:.3f} |"
        )
    lines += [
        "",
        "## Compute",
        "",
        "CPU hours per cell (all seeds; user + system time of each run's "
        "process, from its `info.json`), one core per run:",
        "",
        "| Environment | " + " | ".join(a.upper() for a in DOCUMENTED) + " |",
        "|---|" + "---|" * len(DOCUMENTED),
    ]
    grand = 0.0
    for env in ENVS:
        cells = []
        for algo in DOCUMENTED:
            cell_runs = [r for r in runs if r.algo == algo and r.env == env]
            if not cell_runs:
                cells.append("not run")
                continue
            hours, complete = _cpu_hours(cell_runs)
            grand += hours
            cells.append(f"{hours:.2f}" + ("" if complete else " (some unrecorded)"))
        lines.append(f"| {env} | " + " | ".join(cells) + " |")
    lines += ["", f"Total so far: {grand:.1f} CPU hours."]
    return lines


def summary(results: pathlib.Path = RESULTS, output: pathlib.Path = SUMMARY) -> None:
    """Write ``output`` from the records under ``results``."""
    rel = results.relative_to(ROOT) if results.is_relative_to(ROOT) else results
    loaded = _benchmark_runs.load_runs([results])
    summaries = sacred_output_to_markdown_summary.summarize(
        loaded.runs, reps=_benchmark_runs.DEFAULT_REPS, seed=0
    )
    generated = sacred_output_to_markdown_summary.render_markdown(
        summaries, [str(rel)], reps=_benchmark_runs.DEFAULT_REPS, seed=0
    )
    head = [
        "# Benchmark summary: seals MuJoCo, reproduced here",
        "",
        "BC, DAgger, GAIL and AIRL with the tuned configurations (`<algo>_<env>` "
        "named configs), on experts trained here (bundled, see "
        "[benchmarks](benchmarks.md#seals-mujoco-experts)); GAIL and AIRL at "
        "1,000,000 generator steps (`total_timesteps=1000000`), a tenth of the "
        "tuned budget. Made by, in chunks (each resumes where the last stopped):",
        "",
        "```bash",
        "export RAY_worker_niceness=0 OMP_NUM_THREADS=1",
        "# BC and DAgger: 5 seeds",
        "nice -n 5 python -m imitation.scripts.run_benchmarks with "
        '\'algos=["bc"]\' \'environments=["seals_hopper", "seals_swimmer", '
        "\"seals_ant\"]' 'seeds=[0, 1, 2, 3, 4]' "
        "base_config_updates.logging.log_root=/work/bench/output "
        "base_config_updates.environment.parallel=False",
        "# GAIL and AIRL: 3 seeds, 1M generator steps, one task a chunk",
        "nice -n 5 python -m imitation.scripts.run_benchmarks with "
        '\'algos=["gail", "airl"]\' \'environments=["seals_hopper"]\' '
        "'seeds=[0, 1, 2]' base_config_updates.total_timesteps=1000000 "
        "base_config_updates.logging.log_root=/work/bench/output "
        "base_config_updates.environment.parallel=False",
        "python tools/seals_benchmark.py collect /work/bench/output",
        "python tools/seals_benchmark.py summary",
        "```",
        "",
        "`environment.parallel=False` steps each run's 8 environments in its own "
        "process (8 subprocesses per run only add switching on 2 cores); "
        "`RAY_worker_niceness=0` keeps Ray from running the trials at niceness "
        "15, behind everything else on the machine. The suite ran as several "
        "such chunks (by algorithm, and for GAIL and AIRL by task).",
        "",
        f"The records are in `{rel}/` (each run's `config.json`, `run.json` and "
        "`info.json`); the section below is "
        "`python -m imitation.scripts.sacred_output_to_markdown_summary "
        f"{rel}` verbatim, headings one level down.",
        "",
    ]
    body = [
        ("#" + line) if line.startswith("#") else line
        for line in generated.splitlines()
    ]
    text = "\n".join([*head, *body, "", *side_by_side(summaries, loaded.runs)])
    with atomic.atomic_write_path(output) as tmp:
        tmp.write_text(text + "\n")


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the subcommand and run it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_collect = sub.add_parser("collect", help="keep the completed runs' records")
    p_collect.add_argument("outputs", nargs="+", type=pathlib.Path)
    sub.add_parser("summary", help="write docs/benchmark_summary.md")
    args = parser.parse_args(argv)
    if args.command == "collect":
        print(f"kept {collect(args.outputs)} new runs in {RESULTS}")
    else:
        summary()
        print(f"wrote {SUMMARY}")


if __name__ == "__main__":
    main()
