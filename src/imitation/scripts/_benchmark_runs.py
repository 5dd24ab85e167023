"""Reading benchmark runs for the summary tools (no Sacred import: plain files).

The benchmark tools (:mod:`~imitation.scripts.sacred_output_to_csv`,
:mod:`~imitation.scripts.sacred_output_to_markdown_summary`,
:mod:`~imitation.scripts.compute_probability_of_improvement`) read every
Sacred run below the folders they are given, following symbolic links, so
folders copied from several machines into one root aggregate; a run reached
twice (e.g. through the ``sacred`` link of its output folder) counts once.

A run's algorithm is its command (``bc``, ``dagger``, ``gail``, ...), its
environment ``config.environment.gym_id``, and from ``run.json``'s result:

* score: ``imit_stats.monitor_return_mean`` (``train_imitation``,
  ``train_adversarial``), ``rollout.monitor_return_mean``
  (``train_preference_comparisons``) or ``monitor_return_mean``
  (``train_rl``), each falling back to ``return_mean``;
* expert score: ``expert_stats.monitor_return_mean`` (the demonstrations);
* random score: ``random_stats.monitor_return_mean`` (uniformly random
  actions), the baseline of normalised scores.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import os
import pathlib
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from imitation.util import sacred as sacred_util
from imitation.util import sacred_file_parsing, stats

StrPath = sacred_util.StrPath

DEFAULT_REPS = 50_000
"""Bootstrap replicates of the confidence intervals (rliable's default)."""


class BenchmarkInputError(ValueError):
    """The folders given to a benchmark tool hold no usable runs, or bad options."""


@dataclasses.dataclass(frozen=True)
class BenchmarkRun:
    """The numbers of one completed training run."""

    algo: str
    env: str
    score: float
    expert_score: float | None
    random_score: float | None
    sacred_dir: pathlib.Path

    @property
    def normalized_score(self) -> float | None:
        """``(score - random) / (expert - random)``; None if either is unknown.

        Also None when the expert and random scores are equal.
        """
        if self.expert_score is None or self.random_score is None:
            return None
        if self.expert_score == self.random_score:
            return None
        return stats.normalized_score(self.score, self.random_score, self.expert_score)


@dataclasses.dataclass(frozen=True)
class LoadedRuns:
    """The usable runs below some folders, and why the others were skipped."""

    runs: list[BenchmarkRun]
    skipped: dict[str, int]
    """Reason -> number of run directories skipped for it."""

    def algos(self) -> list[str]:
        """The algorithms of the runs, sorted."""
        return sorted({run.algo for run in self.runs})

    def skip_message(self) -> str | None:
        """One line counting the skipped runs by reason, or None if none were."""
        if not self.skipped:
            return None
        total = sum(self.skipped.values())
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items()))
        found = total + len(self.runs)
        return f"skipped {total} of {found} run directories: {reasons}"


def _walk_run_dirs(root: pathlib.Path) -> Iterator[pathlib.Path]:
    """Sacred run directories in or below ``root``, following links, each once.

    Directories are identified by their resolved path, so a directory reached
    again through a link (or a link loop) is not visited twice.
    """
    seen: set[pathlib.Path] = set()
    stack = [root]
    while stack:
        path = stack.pop()
        real = _real(path)
        if real in seen:
            continue
        seen.add(real)
        if sacred_util.dir_contains_sacred_jsons(path):
            yield path
            continue
        # An unreadable folder raises: its runs would be missing from the result.
        children = sorted(os.scandir(path), key=lambda e: e.name, reverse=True)
        for entry in children:
            if entry.name != "_sources" and _is_dir(entry):
                stack.append(pathlib.Path(entry.path))


def _real(path: pathlib.Path) -> pathlib.Path:
    # os.path.realpath, unlike Path.resolve on Python 3.11, accepts link loops.
    return pathlib.Path(os.path.realpath(path))


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=True)
    except OSError:  # e.g. a link loop
        return False


def _mean_return(stats_dict: Any) -> float | None:
    """``monitor_return_mean`` (the unwrapped env's return), else ``return_mean``."""
    if not isinstance(stats_dict, dict):
        return None
    for key in ("monitor_return_mean", "return_mean"):
        value = sacred_file_parsing.finite_number(stats_dict.get(key))
        if value is not None:
            return value
    return None


def _score_stats(run: sacred_file_parsing.SacredRun) -> Any:
    """The part of the result holding the trained policy's statistics."""
    result = run.result
    if not isinstance(result, dict):
        return None
    if "imit_stats" in result:
        return result["imit_stats"]
    if run.experiment_name == "train_preference_comparisons":
        return result.get("rollout")
    if run.experiment_name == "train_rl":
        return result
    return None


def read_run(run: sacred_file_parsing.SacredRun) -> BenchmarkRun | str:
    """The numbers of ``run``, or why it cannot be used (a short reason)."""
    if run.status != "COMPLETED":
        return run.status or "without status"
    score = _mean_return(_score_stats(run))
    if score is None:
        return "without a recorded score"
    if run.command is None or run.env_id is None:
        return "without command or environment.gym_id"
    result = run.result
    return BenchmarkRun(
        algo=run.command,
        env=run.env_id,
        score=score,
        expert_score=_mean_return(result.get("expert_stats")),
        random_score=_mean_return(result.get("random_stats")),
        sacred_dir=run.sacred_dir,
    )


def load_runs(roots: Sequence[StrPath]) -> LoadedRuns:
    """The completed runs with a score below ``roots``, sorted by algo and env.

    Raises:
        BenchmarkInputError: If a root is not a directory or holds no Sacred
            run directory (``config.json`` and ``run.json``), or none of the
            runs found is usable.
        OSError: If a folder below a root cannot be listed.
    """
    runs: list[BenchmarkRun] = []
    skipped: collections.Counter[str] = collections.Counter()
    seen: set[pathlib.Path] = set()
    for root in roots:
        root_path = pathlib.Path(root)
        if not root_path.is_dir():
            raise BenchmarkInputError(f"{root} is not a directory of Sacred runs.")
        found = 0
        for run_dir in _walk_run_dirs(root_path):
            found += 1
            if _real(run_dir) in seen:
                continue
            seen.add(_real(run_dir))
            try:
                run = sacred_file_parsing.SacredRun.load_from_dir(run_dir)
            except (OSError, ValueError):
                skipped["unreadable"] += 1
                continue
            read = read_run(run)
            if isinstance(read, str):
                skipped[read] += 1
            else:
                runs.append(read)
        if found == 0:
            raise BenchmarkInputError(
                f"No Sacred runs under {root}: expected folders holding "
                "config.json and run.json (e.g. output/sacred)."
            )
    loaded = LoadedRuns(
        sorted(runs, key=lambda r: (r.algo, r.env, str(r.sacred_dir))), dict(skipped)
    )
    if not runs:
        where = ", ".join(str(r) for r in roots)
        raise BenchmarkInputError(
            f"No completed runs with a recorded score under {where} "
            f"({loaded.skip_message()})."
        )
    return loaded


def group_by_env(runs: Sequence[BenchmarkRun]) -> dict[str, list[BenchmarkRun]]:
    """Runs keyed by environment, environments sorted."""
    groups: dict[str, list[BenchmarkRun]] = collections.defaultdict(list)
    for run in runs:
        groups[run.env].append(run)
    return dict(sorted(groups.items()))


def run_dirs_parser(prog: str, doc: str) -> argparse.ArgumentParser:
    """The argument parser of a tool reading the runs below folders.

    Args:
        prog: The tool's name.
        doc: Its module docstring; the first line describes the tool.

    Returns:
        A parser with the positional ``run_dirs`` (one or more folders).
    """
    parser = argparse.ArgumentParser(prog=prog, description=doc.split("\n")[0])
    parser.add_argument(
        "run_dirs",
        nargs="+",
        help="folders searched (recursively) for Sacred runs, e.g. output/sacred",
    )
    return parser


def add_bootstrap_args(parser: argparse.ArgumentParser) -> None:
    """``--reps`` and ``--seed`` of the bootstrap confidence intervals."""
    parser.add_argument(
        "--reps",
        type=int,
        default=DEFAULT_REPS,
        help=f"bootstrap replicates of the 95%% CIs (default {DEFAULT_REPS})",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the bootstrap (default 0)"
    )


def note(prog: str, message: str | None) -> None:
    """Print ``prog: message`` to stderr (nothing if ``message`` is None)."""
    if message is not None:
        print(f"{prog}: {message}", file=sys.stderr)


def run_tool(prog: str, main: Callable[[Sequence[str] | None], None]) -> None:
    """Run a tool's ``main`` from the command line.

    Bad input (:class:`BenchmarkInputError`, a missing or unreadable file)
    ends with one line on stderr and exit status 1; ``IMITATION_TRACEBACK=1``
    shows the traceback instead.
    """
    try:
        main(None)
    except (BenchmarkInputError, OSError) as exc:
        if os.environ.get("IMITATION_TRACEBACK"):
            raise
        print(f"{prog}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        sys.exit(1)
