"""Summarise recorded runs: a table of results, or their TensorBoard logs in one place.

Run ``python -m imitation.scripts.analyze [COMMAND] with <key=value ...>``
(or ``imitation-analyze``); settings are documented in
:mod:`imitation.scripts.config.analyze`. Commands:

* ``analyze_imitation`` (the default): one row per run found under
  ``source_dirs``, with its experiment, algorithm (the command), environment,
  run id, status, directories and the mean returns of the trained policy
  (``imit_return_mean``) and of the demonstrations (``expert_return_mean``).
  Prints it as a Markdown table and, with ``csv_output_path``, writes a CSV.
* ``gather_tb_directories``: links each run's TensorBoard folder
  (``<log_dir>/log``) into ``tb_output_dir``, one link per run, so
  ``tensorboard --logdir <tb_output_dir>`` shows them side by side.

This experiment records its own runs under ``output/sacred/analyze`` like
every script; they are never part of the table.
"""

from __future__ import annotations

import csv
import logging
import os
import pathlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from imitation.scripts._console import run_console
from imitation.scripts.config import common
from imitation.scripts.config.analyze import analysis_ex
from imitation.scripts.ingredients.logging import env_dir_name
from imitation.util import sacred as sacred_util
from imitation.util import sacred_file_parsing

logger = logging.getLogger(__name__)

COLUMNS = (
    "experiment",
    "algo",
    "env",
    "run_id",
    "status",
    "imit_return_mean",
    "expert_return_mean",
    "sacred_dir",
    "log_dir",
)
"""Columns of the ``analyze_imitation`` table (plus ``normalized_score``)."""


def _as_list(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return list(value)


def _env_matches(env_id: str | None, wanted: Sequence[str]) -> bool:
    if env_id is None:
        return False
    for name in wanted:
        if name in (env_id, env_dir_name(env_id)):
            return True
        if common.ENVIRONMENTS.get(name) == env_id:
            return True
    return False


@analysis_ex.capture
def find_runs(
    source_dirs: Sequence[str],
    run_name: str | None,
    algo_names: str | Sequence[str] | None,
    env_names: str | Sequence[str] | None,
    statuses: str | Sequence[str] | None,
) -> list[sacred_file_parsing.SacredRun]:
    """The runs under ``source_dirs`` that pass the filters.

    Returns:
        The runs, in order of ``source_dirs`` and then of run id.

    Raises:
        FileNotFoundError: If a source directory does not exist.
    """
    if isinstance(source_dirs, str):
        source_dirs = [source_dirs]
    algos, envs, wanted_statuses = (
        _as_list(algo_names),
        _as_list(env_names),
        _as_list(statuses),
    )
    runs = []
    for source_dir in source_dirs:
        for run in sacred_file_parsing.find_sacred_runs(
            source_dir, skip_invalid=True, exclude_experiments=("analyze",)
        ):
            if run_name is not None and run.experiment_name != run_name:
                continue
            if algos is not None and run.command not in algos:
                continue
            if envs is not None and not _env_matches(run.env_id, envs):
                continue
            if wanted_statuses is not None and run.status not in wanted_statuses:
                continue
            runs.append(run)
    return runs


def find_log_dir(run: sacred_file_parsing.SacredRun) -> pathlib.Path | None:
    """The run's output directory (``logging.log_dir``), if it can be found.

    A relative ``log_dir`` is relative to where the run was started, which is
    not recorded: it is looked for below the working directory and each
    parent of the run's Sacred directory, and accepted where its ``sacred``
    link points back to the run.

    Returns:
        The directory, or None if the run has no ``log_dir`` or it is gone.
    """
    log_dir = sacred_util.dict_get_nested(run.config, "logging.log_dir", default=None)
    if not log_dir:
        return None
    path = pathlib.Path(log_dir)
    target = run.sacred_dir.resolve()
    if path.is_absolute():
        candidates = [path]
    else:
        candidates = [pathlib.Path.cwd() / path]
        candidates += [parent / path for parent in target.parents]
    for candidate in candidates:
        link = candidate / "sacred"
        if link.exists() and link.resolve() == target:
            return candidate
    return None


def _return_means(run: sacred_file_parsing.SacredRun) -> tuple[Any, Any]:
    """``(imit, expert)`` mean returns from the run's result, None if missing.

    Imitation runs return ``imit_stats`` and ``expert_stats``; RL and
    evaluation runs return the statistics of their one policy directly.
    Monitor returns (the true, unwrapped reward) are preferred.
    """

    def mean(prefix: str) -> float | None:
        for key in ("monitor_return_mean", "return_mean"):
            value = sacred_file_parsing.finite_number(
                run.result_value(f"{prefix}{key}")
            )
            if value is not None:
                return value
        return None

    imit = mean("imit_stats.")
    if imit is None and run.result_value("imit_stats") is None:
        imit = mean("")
    return imit, mean("expert_stats.")


def make_row(
    run: sacred_file_parsing.SacredRun, random_returns: Mapping[str, Any]
) -> dict[str, Any]:
    """The table row of one run (``normalized_score`` only if ``random_returns``)."""
    imit, expert = _return_means(run)
    log_dir = find_log_dir(run)
    row: dict[str, Any] = {
        "experiment": run.experiment_name,
        "algo": run.command,
        "env": run.env_id,
        "run_id": run.run_id,
        "status": run.status,
        "imit_return_mean": imit,
        "expert_return_mean": expert,
        "sacred_dir": str(run.sacred_dir),
        "log_dir": None if log_dir is None else str(log_dir),
    }
    if random_returns:
        random = sacred_file_parsing.finite_number(random_returns.get(run.env_id or ""))
        score = None
        if None not in (imit, expert, random) and expert != random:
            score = (imit - random) / (expert - random)  # type: ignore[operator]
        row["normalized_score"] = score
    return row


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value).replace("|", "\\|")


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """``rows`` as a Markdown (GitHub) table, floats with two decimals."""
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(c)) for c in columns) + " |")
    return "\n".join(lines)


def write_csv(
    path: str | os.PathLike[str],
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
) -> None:
    """Write ``rows`` to ``path`` as CSV with a header (None: an empty cell)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


@analysis_ex.main
def analyze_imitation(
    random_returns: dict[str, Any],
    csv_output_path: str | None,
    print_markdown: bool,
) -> list[dict[str, Any]]:
    """Tabulate the runs found under ``source_dirs``: one row per run.

    Returns:
        The rows, as dicts keyed by column name.
    """
    runs = find_runs()
    rows = [make_row(run, random_returns) for run in runs]
    columns = list(COLUMNS) + (["normalized_score"] if random_returns else [])
    if csv_output_path is not None:
        write_csv(csv_output_path, rows, columns)
        logger.info("Wrote %d rows to %s", len(rows), csv_output_path)
    if print_markdown:
        print(markdown_table(rows, columns))
    if not rows:
        logger.warning("No runs found (or none passed the filters).")
    return rows


def _link_name(run: sacred_file_parsing.SacredRun) -> str:
    parts = [
        run.command or "unknown",
        env_dir_name(run.env_id) if run.env_id else "unknown",
        run.experiment_name or "unknown",
        run.run_id,
    ]
    return re.sub(r"[^A-Za-z0-9._-]+", "-", "_".join(parts))


@analysis_ex.command
def gather_tb_directories(tb_output_dir: str) -> dict[str, str]:
    """Link the TensorBoard folder of each run into ``tb_output_dir``.

    Each link is named ``<algo>_<env>_<experiment>_<run id>`` and points (by
    absolute path) to ``<log_dir>/log``; an existing link of that name is
    replaced. Runs without a TensorBoard folder are skipped.

    Returns:
        Link name -> the TensorBoard folder it points to.
    """
    out_dir = pathlib.Path(tb_output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    gathered: dict[str, str] = {}
    for run in find_runs():
        log_dir = find_log_dir(run)
        tb_dir = None if log_dir is None else log_dir / "log"
        if tb_dir is None or not tb_dir.is_dir():
            logger.info("No TensorBoard folder for run %s", run.sacred_dir)
            continue
        name = _link_name(run)
        link = out_dir / name
        if link.is_symlink():
            link.unlink()
        elif link.exists():
            raise FileExistsError(f"{link} exists and is not a link; not replacing.")
        link.symlink_to(tb_dir.resolve(), target_is_directory=True)
        gathered[name] = str(tb_dir.resolve())
    logger.info("Linked %d TensorBoard folders into %s", len(gathered), out_dir)
    return gathered


def main_console() -> None:
    """Entry point of ``imitation-analyze``."""
    run_console(analysis_ex, "analyze")


if __name__ == "__main__":  # pragma: no cover
    main_console()
