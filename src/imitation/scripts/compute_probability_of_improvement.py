"""Probability that your algorithm's runs beat a baseline's, with a 95% CI.

Run ``python -m imitation.scripts.compute_probability_of_improvement
<your_runs_dir> <baseline_runs_dir> --baseline-algo <algo>`` (or
``imitation-compute-probability-of-improvement``); add ``--algo`` when your
folder holds runs of several algorithms.

On each environment both have runs of, the probability of improvement is
``P(X > Y) + P(X = Y) / 2`` for a random run ``X`` of yours and ``Y`` of the
baseline (the Mann-Whitney U statistic over the number of pairs); the overall
figure is its mean over those environments, with a 95% stratified-bootstrap
confidence interval (runs of each algorithm resampled within each
environment), as the rliable library defines them
(:mod:`imitation.util.stats`). It compares the runs' scores as recorded: the
figure only depends on their order within each environment, so no
normalisation is needed. An interval entirely above 0.5 means your algorithm
is better with statistical significance.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pathlib
import sys
from collections.abc import Sequence

import numpy as np

from imitation.scripts import _benchmark_runs
from imitation.util import stats

PROG = "compute_probability_of_improvement"


@dataclasses.dataclass(frozen=True)
class Comparison:
    """Probability of improvement of ``algo`` over ``baseline_algo``."""

    algo: str
    baseline_algo: str
    per_env: dict[str, tuple[float, int, int]]
    """Environment -> (probability of improvement, your runs, baseline runs)."""
    overall: stats.IntervalEstimate


def select_algo(
    loaded: _benchmark_runs.LoadedRuns,
    algo: str | None,
    *,
    where: str,
    option: str,
) -> list[_benchmark_runs.BenchmarkRun]:
    """The runs of ``algo``; if None, of the only algorithm there is.

    Raises:
        BenchmarkInputError: If ``algo`` has no runs, or is None and there are
            runs of several algorithms.
    """
    algos = loaded.algos()
    if algo is None:
        if len(algos) > 1:
            raise _benchmark_runs.BenchmarkInputError(
                f"{where} holds runs of several algorithms ({', '.join(algos)}); "
                f"choose one with {option}."
            )
        algo = algos[0]
    runs = [run for run in loaded.runs if run.algo == algo]
    if not runs:
        raise _benchmark_runs.BenchmarkInputError(
            f"No completed runs of {option} {algo!r} in {where}; it has runs of: "
            f"{', '.join(algos)}."
        )
    return runs


def compare(
    runs: Sequence[_benchmark_runs.BenchmarkRun],
    baseline_runs: Sequence[_benchmark_runs.BenchmarkRun],
    *,
    reps: int,
    seed: int,
) -> Comparison:
    """Probability of improvement of ``runs`` over ``baseline_runs``.

    Uses the environments both have runs of.

    Raises:
        BenchmarkInputError: If they have no environment in common.
    """
    mine = _benchmark_runs.group_by_env(runs)
    theirs = _benchmark_runs.group_by_env(baseline_runs)
    common = sorted(set(mine) & set(theirs))
    if not common:
        raise _benchmark_runs.BenchmarkInputError(
            f"The runs share no environment: yours are on {', '.join(mine)}, the "
            f"baseline's on {', '.join(theirs)}."
        )
    x = [np.array([r.score for r in mine[env]]) for env in common]
    y = [np.array([r.score for r in theirs[env]]) for env in common]
    per_env = {
        env: (float(stats.probability_of_improvement([xi], [yi])), xi.size, yi.size)
        for env, xi, yi in zip(common, x, y, strict=True)
    }
    overall = stats.stratified_bootstrap_ci(
        stats.probability_of_improvement, x, y, reps=reps, seed=seed
    )
    return Comparison(runs[0].algo, baseline_runs[0].algo, per_env, overall)


def verdict(comparison: Comparison) -> str:
    """Whether the confidence interval says better, worse or undecided."""
    est, algo, base = comparison.overall, comparison.algo, comparison.baseline_algo
    ci = f"{est.confidence:.0%} CI"
    if est.lower > 0.5:
        return f"Yours ({algo}) is better than {base}: the {ci} lies above 0.5."
    if est.upper < 0.5:
        return f"Yours ({algo}) is worse than {base}: the {ci} lies below 0.5."
    return f"No significant difference from {base}: the {ci} holds 0.5."


def render(
    comparison: Comparison, *, yours: str, baseline: str, reps: int, seed: int
) -> str:
    """The comparison as Markdown: per environment, overall, and the verdict.

    Args:
        comparison: What :func:`compare` returned.
        yours: Where your runs are (shown in the title).
        baseline: Where the baseline's runs are.
        reps: Bootstrap replicates used (shown).
        seed: Bootstrap seed used (shown).
    """
    algo, base, est = comparison.algo, comparison.baseline_algo, comparison.overall
    lines = [
        f"# Probability of improvement of {algo} ({yours}) over {base} ({baseline})",
        "",
        "| Environment | P(yours > baseline) | N yours | N baseline |",
        "|---|---|---|---|",
    ]
    for env, (poi, n_x, n_y) in comparison.per_env.items():
        lines.append(f"| {env} | {poi:.3f} | {n_x} | {n_y} |")
    lines += [
        "",
        f"Probability of improvement: {est.point:.3f}, "
        f"{est.confidence:.0%} CI [{est.lower:.3f}, {est.upper:.3f}] "
        f"(stratified bootstrap, {reps} replicates, seed {seed}).",
        "",
        verdict(comparison),
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    """Print the comparison of the runs in the two folders of ``argv``."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("your_runs_dir", help="folder with the runs of your algorithm")
    parser.add_argument(
        "baseline_runs_dir", help="folder with the runs to compare against"
    )
    parser.add_argument(
        "--baseline-algo",
        required=True,
        help="the baseline algorithm (the command of its runs, e.g. gail)",
    )
    parser.add_argument(
        "--algo",
        help="your algorithm, if your folder holds runs of several",
    )
    _benchmark_runs.add_bootstrap_args(parser)
    args = parser.parse_args(argv)
    if args.reps < 1:
        raise _benchmark_runs.BenchmarkInputError(
            f"--reps must be at least 1, got {args.reps}."
        )
    mine = _benchmark_runs.load_runs([args.your_runs_dir])
    _benchmark_runs.note(f"{PROG}: {args.your_runs_dir}", mine.skip_message())
    theirs = mine
    baseline_dir = pathlib.Path(args.baseline_runs_dir)
    if not (
        baseline_dir.is_dir() and os.path.samefile(args.your_runs_dir, baseline_dir)
    ):
        theirs = _benchmark_runs.load_runs([args.baseline_runs_dir])
        _benchmark_runs.note(f"{PROG}: {args.baseline_runs_dir}", theirs.skip_message())
    runs = select_algo(mine, args.algo, where=args.your_runs_dir, option="--algo")
    baseline = select_algo(
        theirs,
        args.baseline_algo,
        where=args.baseline_runs_dir,
        option="--baseline-algo",
    )
    comparison = compare(runs, baseline, reps=args.reps, seed=args.seed)
    mine_envs = {r.env for r in runs}
    theirs_envs = {r.env for r in baseline}
    for name, where, only in (
        (runs[0].algo, args.your_runs_dir, mine_envs - theirs_envs),
        (baseline[0].algo, args.baseline_runs_dir, theirs_envs - mine_envs),
    ):
        if only:
            _benchmark_runs.note(
                PROG,
                f"left out environments only {name} ({where}) has runs of: "
                f"{', '.join(sorted(only))}",
            )
    text = render(
        comparison,
        yours=args.your_runs_dir,
        baseline=args.baseline_runs_dir,
        reps=args.reps,
        seed=args.seed,
    )
    sys.stdout.write(text)


def main_console() -> None:
    """Entry point of ``imitation-compute-probability-of-improvement``."""
    _benchmark_runs.run_tool(PROG, main)


if __name__ == "__main__":  # pragma: no cover
    main_console()
