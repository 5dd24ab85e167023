"""Tune an algorithm's hyperparameters with Optuna on Ray Tune, then check the best.

Run ``python -m imitation.scripts.tuning with <algo>
'parallel_run_config.base_named_configs=["<env>"]'`` (``<algo>``: rl, bc,
dagger, gail, airl or pc; see :mod:`imitation.scripts.config.tuning`).

Phase 1 runs ``parallel_run_config.num_samples`` configurations proposed by
Optuna, each on ``parallel_run_config.repeat`` seeds, scored by their mean
return. Phase 2 re-runs the best one on ``num_eval_seeds`` fresh seeds and
reports the mean and standard deviation of its return. The best configuration
is written to ``<log_root>/tuning/<run_name>/best_config.json``, a config file
the train script loads like a named config: ``python -m
imitation.scripts.<script> [<command>] with <env> <...>/best_config.json``.
"""

from __future__ import annotations

import inspect
import math
import statistics
from collections.abc import Mapping
from typing import Any

from ray import tune as ray_tune
from ray.tune.search.optuna import OptunaSearch

from imitation.scripts import parallel
from imitation.scripts._console import run_console
from imitation.scripts.config.tuning import tuning_ex

RETURN_KEYS = {
    "train_rl": "monitor_return_mean",
    "train_imitation": "imit_stats/monitor_return_mean",
    "train_adversarial": "imit_stats/monitor_return_mean",
    "train_preference_comparisons": "rollout/monitor_return_mean",
}
"""Each train script's mean return of the trained policy, as a trial reports it."""


def return_key(sacred_ex_name: str) -> str:
    """The metric tuning maximises for ``sacred_ex_name``.

    Raises:
        ValueError: If the script is not a train script.
    """
    parallel.get_experiment(sacred_ex_name)  # a clear error for a wrong name
    return RETURN_KEYS[sacred_ex_name]


def find_best_trial(
    results: ray_tune.ResultGrid, metric: str, *, mode: str = "max"
) -> ray_tune.Result:
    """The trial with the best ``metric`` (its mean over the trial's seeds).

    Raises:
        RuntimeError: If no trial reported ``metric`` (all failed).
    """
    finished = [
        r
        for r in parallel.trial_results(results)
        if r.error is None
        and isinstance(parallel.reported_metrics(r).get(metric), float)
        and math.isfinite(parallel.reported_metrics(r)[metric])
    ]
    if not finished:
        errors = "; ".join(" ".join(str(e).split())[-300:] for e in results.errors[:1])
        raise RuntimeError(
            f"None of the {len(results)} trials reported {metric!r}"
            + (f"; the first error: {errors}" if errors else ".")
        )
    pick = max if mode == "max" else min
    return pick(finished, key=lambda r: parallel.reported_metrics(r)[metric])


def _check_num_eval_seeds(num_eval_seeds: int) -> None:
    if num_eval_seeds < 1:
        raise ValueError(f"num_eval_seeds must be at least 1, got {num_eval_seeds}.")


def _check_run_config(run_config: Mapping[str, Any]) -> None:
    """Raise ValueError if ``parallel_run_config`` has keys ``parallel`` lacks."""
    valid = set(inspect.signature(parallel.run_parallel).parameters)
    valid -= {"search_alg", "metric", "mode"}
    unknown = set(run_config) - valid
    if unknown:
        raise ValueError(
            f"parallel_run_config has unknown keys {sorted(unknown)}; valid keys "
            f"are {sorted(valid)}."
        )


def first_seed(run_config: Mapping[str, Any], trial_config: Mapping[str, Any]) -> int:
    """The seed of a trial's first run (its ``seed`` config update, default 0)."""
    updates = parallel.merge(
        parallel.plain(run_config.get("base_config_updates", {})),
        trial_config.get("config_updates", {}),
    )
    return int(updates.get("seed", 0))


def evaluate_trial(
    trial: ray_tune.Result,
    run_config: Mapping[str, Any],
    num_eval_seeds: int,
    resource_multiplier: float = 1,
) -> ray_tune.ResultGrid:
    """Re-run a trial's configuration on ``num_eval_seeds`` seeds it has not seen.

    The seeds follow those of the trial's ``repeat`` runs. Each seed is one
    trial of a Ray Tune experiment named ``<run_name>_best_eval``.

    Args:
        trial: A phase-1 trial (e.g. from :func:`find_best_trial`).
        run_config: The ``parallel_run_config`` the trial ran with.
        num_eval_seeds: How many fresh seeds.
        resource_multiplier: Scales ``resources_per_trial`` (e.g. 2 gives each
            re-run twice the CPUs).

    Returns:
        The re-runs' results.

    Raises:
        ValueError: If ``num_eval_seeds`` is below 1.
    """
    _check_num_eval_seeds(num_eval_seeds)
    run_config = parallel.plain(run_config)
    config = parallel.trial_config(trial)
    start = first_seed(run_config, config) + run_config.get("repeat", 1)
    seeds = list(range(start, start + num_eval_seeds))
    search_space = dict(config)
    search_space["config_updates"] = parallel.merge(
        config.get("config_updates", {}),
        {"seed": ray_tune.grid_search(seeds)},
    )
    resources = {
        key: value * resource_multiplier
        for key, value in run_config.get("resources_per_trial", {}).items()
    }
    return parallel.run_parallel(
        sacred_ex_name=run_config["sacred_ex_name"],
        run_name=f"{run_config['run_name']}_best_eval",
        search_space=search_space,
        base_named_configs=run_config.get("base_named_configs", ()),
        base_config_updates=run_config.get("base_config_updates", {}),
        resources_per_trial=resources,
        init_kwargs=run_config.get("init_kwargs", {}),
        tune_run_kwargs=run_config.get("tune_run_kwargs", {}),
    )


def best_config(
    run_config: Mapping[str, Any], trial: ray_tune.Result
) -> dict[str, Any]:
    """The config updates of a trial (base ones included), as a named config.

    ``seed`` and ``logging.log_root`` belong to the sweep, so are left out.
    """
    updates = parallel.merge(
        parallel.plain(run_config.get("base_config_updates", {})),
        parallel.trial_config(trial).get("config_updates", {}),
    )
    updates.pop("seed", None)
    logging_updates = updates.get("logging", {})
    logging_updates.pop("log_root", None)
    if "logging" in updates and not logging_updates:
        del updates["logging"]
    return updates


@tuning_ex.main
def tune(
    parallel_run_config: Mapping[str, Any],
    num_eval_seeds: int,
    eval_best_trial_resource_multiplier: float,
    _seed: int,
) -> dict[str, Any]:
    """Search (phase 1), then re-evaluate the best configuration (phase 2).

    Returns:
        ``best_config`` (config updates), ``named_configs`` and
        ``command_name`` of the best trial, its phase-1 score
        (``search_return_mean``), the phase-2 return's ``eval_return_mean``
        and ``eval_return_std`` over ``eval_seeds`` runs, and
        ``best_config_path``.

    Raises:
        ValueError: On unknown ``parallel_run_config`` keys or
            ``num_eval_seeds`` below 1 (before anything runs).
        RuntimeError: If a phase-2 run failed.
    """
    run_config = parallel.plain(parallel_run_config)
    _check_run_config(run_config)
    _check_num_eval_seeds(num_eval_seeds)
    metric = return_key(run_config["sacred_ex_name"])
    with parallel.ray_session(run_config.get("init_kwargs", {})):
        search_results = parallel.run_parallel(
            **run_config,
            search_alg=OptunaSearch(seed=_seed),
            metric=metric,
            mode="max",
        )
        best = find_best_trial(search_results, metric)
        eval_results = evaluate_trial(
            best, run_config, num_eval_seeds, eval_best_trial_resource_multiplier
        )
    if eval_results.errors:
        raise RuntimeError(
            f"{len(eval_results.errors)} re-runs of the best configuration failed "
            f"(see {eval_results.experiment_path}): "
            + " ".join(str(eval_results.errors[0]).split())[-500:]
        )
    evals = parallel.trial_results(eval_results)
    returns = [parallel.reported_metrics(r)[metric] for r in evals]
    best_trial_config = parallel.trial_config(best)
    config_updates = best_config(run_config, best)
    out_dir = parallel.log_root_of(run_config.get("base_config_updates", {}))
    best_path = out_dir / "tuning" / run_config["run_name"] / "best_config.json"
    parallel.write_json(best_path, config_updates)
    return {
        "best_config": config_updates,
        "named_configs": [
            *run_config.get("base_named_configs", []),
            *best_trial_config.get("named_configs", []),
        ],
        "command_name": best_trial_config.get("command_name"),
        "search_return_mean": parallel.reported_metrics(best)[metric],
        "eval_seeds": [
            parallel.trial_config(r)["config_updates"]["seed"] for r in evals
        ],
        "eval_return_mean": statistics.fmean(returns),
        "eval_return_std": statistics.pstdev(returns),
        "best_config_path": str(best_path),
    }


def main_console() -> None:
    """Entry point of ``imitation-tuning``."""
    run_console(tuning_ex, "tuning")


if __name__ == "__main__":  # pragma: no cover
    main_console()
