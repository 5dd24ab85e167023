"""Find the Sacred runs recorded under a folder and group them.

A run recorded by Sacred's ``FileStorageObserver`` is a directory with
``config.json`` and ``run.json`` (imitation's scripts record theirs under
``<log_root>/sacred/<script>/<run id>/``). :func:`find_sacred_runs` collects
them as :class:`SacredRun` objects, and :func:`group_runs_by_algo_and_env`
groups them by command (the algorithm, e.g. ``bc`` or ``gail``) and
environment id.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import math
import pathlib
import re
from collections.abc import Iterable
from typing import Any

from imitation.util import sacred as sacred_util

logger = logging.getLogger(__name__)

StrPath = sacred_util.StrPath


@dataclasses.dataclass(frozen=True)
class SacredRun(sacred_util.SacredDicts):
    """One recorded Sacred run (``config.json`` and ``run.json``), with accessors.

    ``load_from_dir`` reads it (from :class:`~imitation.util.sacred.SacredDicts`).
    """

    @property
    def run_id(self) -> str:
        """The run's id: its directory's name (a number for file observers)."""
        return self.sacred_dir.name

    @property
    def experiment_name(self) -> str | None:
        """The experiment (script) name, e.g. ``train_imitation``."""
        return sacred_util.dict_get_nested(self.run, "experiment.name", default=None)

    @property
    def command(self) -> str | None:
        """The command that ran, e.g. ``bc`` or ``gail`` (``train_rl`` for RL)."""
        return self.run.get("command")

    @property
    def status(self) -> str | None:
        """``COMPLETED``, ``FAILED``, ``INTERRUPTED``, ``RUNNING``, ..."""
        return self.run.get("status")

    @property
    def env_id(self) -> str | None:
        """The environment's Gymnasium id (``environment.gym_id``), if any."""
        return sacred_util.dict_get_nested(
            self.config, "environment.gym_id", default=None
        )

    @property
    def result(self) -> Any:
        """The value the run returned (None while running or after a failure)."""
        return self.run.get("result")

    def result_value(self, nested_key: str, default: Any = None) -> Any:
        """``result["a"]["b"]`` for ``nested_key="a.b"``, else ``default``."""
        result = self.result
        if not isinstance(result, dict):
            return default
        return sacred_util.dict_get_nested(result, nested_key, default=default)


SacredConfAndRun = SacredRun
"""Another name for :class:`SacredRun` (a run's config and run dicts)."""

GroupedRuns = dict[tuple[str, str], list[SacredRun]]
"""Runs keyed by ``(algo, env_id)``."""


def finite_number(value: Any) -> float | None:
    """A number read from a run record, as a float; None if it is no number.

    Booleans, strings, None, NaN and infinities (what a failed or diverged
    run may record) all give None.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _sort_key(run: SacredRun) -> tuple[Any, ...]:
    # Natural order of ids within a folder: 2 before 10.
    parts = re.split(r"(\d+)", run.run_id)
    id_key = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p)
    return (str(run.sacred_dir.parent), id_key)


def find_sacred_runs(
    root: StrPath,
    *,
    only_completed: bool = False,
    skip_invalid: bool = False,
    exclude_experiments: Iterable[str] = (),
) -> list[SacredRun]:
    """All Sacred runs recorded in ``root`` or any folder below it.

    Args:
        root: A run directory, an observer directory (``output/sacred/<script>``)
            or any folder above them (``output/sacred``).
        only_completed: Keep only runs whose status is ``COMPLETED``.
        skip_invalid: Skip (with a logged warning) run directories whose JSON
            files cannot be read, instead of raising.
        exclude_experiments: Experiment names whose runs are left out.

    Returns:
        The runs, sorted by folder and then by run id (numerically).

    Raises:
        FileNotFoundError: If ``root`` is not a directory.
        ValueError: If a run's JSON is invalid (and not ``skip_invalid``), or
            run directories nest.
    """
    root = pathlib.Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a directory of Sacred runs.")
    excluded = set(exclude_experiments)
    runs = []
    for sacred_dir in sacred_util.filter_subdirs(root):
        try:
            run = SacredRun.load_from_dir(sacred_dir)
        except (OSError, ValueError) as exc:
            if not skip_invalid:
                raise
            logger.warning("Skipping %s: %s", sacred_dir, exc)
            continue
        if only_completed and run.status != "COMPLETED":
            continue
        if run.experiment_name in excluded:
            continue
        runs.append(run)
    return sorted(runs, key=_sort_key)


def group_runs_by_algo_and_env(runs: Iterable[SacredRun]) -> GroupedRuns:
    """Group runs by ``(command, environment id)``.

    Missing values are grouped under ``"unknown"``.

    Returns:
        The groups, in order of first appearance; each group keeps the order
        of ``runs``.
    """
    groups: dict[tuple[str, str], list[SacredRun]] = collections.defaultdict(list)
    for run in runs:
        groups[(run.command or "unknown", run.env_id or "unknown")].append(run)
    return dict(groups)
