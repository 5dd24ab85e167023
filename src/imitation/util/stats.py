"""Aggregate statistics of scores over several runs and tasks, with confidence.

The estimators recommended by Agarwal et al. (2021), "Deep Reinforcement
Learning at the Edge of the Statistical Precipice", as the ``rliable``
library defines them, on numpy alone:

* :func:`aggregate_iqm`: the interquartile mean, the mean of the middle half
  of all runs pooled across tasks (25% trimmed from each end);
* :func:`aggregate_mean`: the mean over tasks of each task's mean;
* :func:`probability_of_improvement`: the probability that a run of one
  algorithm beats a run of another on a task picked at random, from the
  Mann-Whitney U statistic of each task;
* :func:`stratified_bootstrap_ci`: a percentile confidence interval from
  resampling runs with replacement within each task (a stratified bootstrap),
  seeded so the same input and seed give the same interval.

Scores are given per task: a sequence with one 1-D array of run scores per
task (tasks may have different numbers of runs).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

TaskScores = Sequence[npt.ArrayLike]
"""Scores per task: one 1-D array-like of run scores for each task."""

Statistic = Callable[..., np.ndarray]
"""``statistic(*samples)``: one list of per-task arrays per sample.

Each array has shape ``(..., n_runs)``; the result has the leading shape
``(...)``. :func:`stratified_bootstrap_ci` passes arrays of shape
``(reps, n_runs)`` (one resample per row) and, for the point estimate, the
original 1-D arrays.
"""

_CHUNK = 1000  # bootstrap replicates evaluated at once (bounds memory)


@dataclasses.dataclass(frozen=True)
class IntervalEstimate:
    """A point estimate with a confidence interval."""

    point: float
    lower: float
    upper: float
    confidence: float
    """Coverage of ``[lower, upper]``, e.g. 0.95."""


def check_task_scores(scores: TaskScores, name: str = "scores") -> list[np.ndarray]:
    """``scores`` as a list of 1-D float arrays, checked.

    Raises:
        ValueError: If there are no tasks, a task has no runs, a task's scores
            are not 1-D, or a score is not finite.
    """
    tasks = [np.asarray(task, dtype=np.float64) for task in scores]
    if not tasks:
        raise ValueError(f"{name}: no tasks; give at least one task's run scores.")
    for i, task in enumerate(tasks):
        if task.ndim != 1 or task.size == 0:
            raise ValueError(
                f"{name}: task {i} needs a 1-D, non-empty array of run scores "
                f"(got shape {task.shape})."
            )
        if not np.isfinite(task).all():
            raise ValueError(f"{name}: task {i} has a score that is not finite.")
    return tasks


def trimmed_mean(values: npt.ArrayLike, proportion: float) -> np.ndarray:
    """Mean along the last axis after cutting ``proportion`` from each end.

    ``int(proportion * n)`` of the ``n`` values are cut from each end (as
    ``scipy.stats.trim_mean``).

    Raises:
        ValueError: If ``proportion`` is not in ``[0, 0.5)``.
    """
    if not 0 <= proportion < 0.5:
        raise ValueError(f"proportion must be in [0, 0.5), got {proportion}.")
    arr = np.sort(np.asarray(values, dtype=np.float64), axis=-1)
    n = arr.shape[-1]
    cut = int(proportion * n)
    return arr[..., cut : n - cut].mean(axis=-1)


def aggregate_iqm(tasks: Sequence[np.ndarray]) -> np.ndarray:
    """Interquartile mean of all runs pooled across tasks (last axis)."""
    return trimmed_mean(np.concatenate(list(tasks), axis=-1), 0.25)


def aggregate_mean(tasks: Sequence[np.ndarray]) -> np.ndarray:
    """Mean over tasks of each task's mean run score (last axis)."""
    return np.mean([np.asarray(t).mean(axis=-1) for t in tasks], axis=0)


def probability_of_improvement(
    tasks_x: Sequence[np.ndarray], tasks_y: Sequence[np.ndarray]
) -> np.ndarray:
    """``P(X > Y) + P(X = Y) / 2`` per task, averaged over tasks.

    ``X`` and ``Y`` are a run of each algorithm on the same task; per task
    this is the Mann-Whitney U statistic of ``x`` over ``y`` divided by the
    number of pairs.

    Raises:
        ValueError: If the two have different numbers of tasks.
    """
    if len(tasks_x) != len(tasks_y):
        raise ValueError(
            f"Probability of improvement needs the same tasks for both: got "
            f"{len(tasks_x)} and {len(tasks_y)} tasks."
        )
    per_task = []
    for x, y in zip(tasks_x, tasks_y, strict=True):
        x_col = np.asarray(x)[..., :, None]
        y_row = np.asarray(y)[..., None, :]
        wins = (x_col > y_row).mean(axis=(-2, -1))
        ties = (x_col == y_row).mean(axis=(-2, -1))
        per_task.append(wins + 0.5 * ties)
    return np.mean(per_task, axis=0)


def stratified_bootstrap_ci(
    statistic: Statistic,
    *samples: TaskScores,
    reps: int = 50_000,
    confidence: float = 0.95,
    seed: int = 0,
) -> IntervalEstimate:
    """``statistic`` of ``samples`` with a stratified-bootstrap percentile CI.

    Each replicate resamples, independently for each sample and each task,
    that task's runs with replacement (as many as it has). The interval is
    the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` percentiles of
    the replicates' statistics (linear interpolation). Resampling indices are
    drawn sample by sample and task by task, ``(reps, n_runs)`` at a time,
    from ``numpy.random.default_rng(seed)``.

    Args:
        statistic: E.g. :func:`aggregate_iqm`, or
            :func:`probability_of_improvement` with two samples.
        *samples: One or more samples, each scores per task.
        reps: Number of bootstrap replicates.
        confidence: Coverage of the interval, in (0, 1).
        seed: Seed of the resampling.

    Returns:
        The statistic of the samples themselves and the interval.

    Raises:
        ValueError: If there is no sample, ``reps < 1``, ``confidence`` is not
            in (0, 1), or a sample's scores are invalid (see
            :func:`check_task_scores`).
    """
    if not samples:
        raise ValueError("stratified_bootstrap_ci needs at least one sample.")
    if reps < 1:
        raise ValueError(f"reps must be at least 1, got {reps}.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}.")
    checked = [
        check_task_scores(sample, f"sample {i}") for i, sample in enumerate(samples)
    ]
    point = float(statistic(*checked))
    rng = np.random.default_rng(seed)
    indices = [
        [rng.integers(0, task.size, size=(reps, task.size)) for task in sample]
        for sample in checked
    ]
    replicates = np.empty(reps)
    for start in range(0, reps, _CHUNK):
        stop = min(start + _CHUNK, reps)
        resampled = [
            [task[idx[start:stop]] for task, idx in zip(sample, sample_idx)]
            for sample, sample_idx in zip(checked, indices, strict=True)
        ]
        replicates[start:stop] = statistic(*resampled)
    lower, upper = np.percentile(
        replicates, [100 * (1 - confidence) / 2, 100 * (1 + confidence) / 2]
    )
    return IntervalEstimate(point, float(lower), float(upper), confidence)


def normalized_score(score: float, random_score: float, expert_score: float) -> float:
    """``(score - random_score) / (expert_score - random_score)``.

    0 is a random policy's score, 1 the expert's.

    Raises:
        ValueError: If the expert and random scores are equal (nothing to
            normalise by) or a score is not finite.
    """
    values = (score, random_score, expert_score)
    if not all(np.isfinite(v) for v in values):
        raise ValueError(f"Scores must be finite to normalise, got {values}.")
    if expert_score == random_score:
        raise ValueError(
            f"Cannot normalise: the expert and random scores are equal "
            f"({expert_score})."
        )
    return (score - random_score) / (expert_score - random_score)
