"""Run the benchmark suite (algorithms x environments x seeds) on Ray Tune.

Run ``python -m imitation.scripts.run_benchmarks [with <key=value ...>]``.
Each algorithm is one sweep of :mod:`imitation.scripts.parallel`: its train
script's command (``train_imitation`` bc/dagger, ``train_adversarial``
gail/airl) with the tuned named config ``<algo>_<env>`` for every environment
and seed. Runs land in the scripts' usual layout under ``logging.log_root``
(``output`` by default); summarise them with ``sacred_output_to_csv`` or
``sacred_output_to_markdown_summary``.

The suite resumes: a run already completed under the same ``log_root`` (same
command, named configs, config updates and seed, by any earlier invocation,
however it ended) is not run again, so a long suite can be run in chunks, or
started again after it was killed, with the same command.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ray import tune

from imitation.scripts import parallel
from imitation.scripts._console import run_console
from imitation.scripts.config.run_benchmarks import run_benchmarks_ex

ALGO_SCRIPTS = {
    "bc": "train_imitation",
    "dagger": "train_imitation",
    "gail": "train_adversarial",
    "airl": "train_adversarial",
}
"""The benchmarked algorithms and the train script whose command each is."""


def benchmark_sweeps(
    *,
    algos: Sequence[str],
    environments: Sequence[str],
    seeds: Sequence[int],
    named_config_pattern: str,
    base_named_configs: Sequence[str],
    base_config_updates: Mapping[str, Any],
    resources_per_trial: Mapping[str, Any],
    init_kwargs: Mapping[str, Any],
    run_name: str,
    tune_run_kwargs: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """The arguments of :func:`imitation.scripts.parallel.run_parallel` per algorithm.

    Raises:
        ValueError: On an unknown algorithm, a named config the train script
            does not have, or an empty list of environments or seeds.
    """
    if not environments or not seeds:
        raise ValueError("environments and seeds each need at least one entry.")
    sweeps = []
    for algo in algos:
        if algo not in ALGO_SCRIPTS:
            raise ValueError(
                f"algos has {algo!r}; the benchmarked algorithms are "
                f"{', '.join(ALGO_SCRIPTS)}."
            )
        script = ALGO_SCRIPTS[algo]
        known = parallel.get_experiment(script).gather_named_configs()
        known_names = {name for name, _ in known}
        names = [
            named_config_pattern.format(algo=algo, env=env) for env in environments
        ]
        missing = [name for name in names if name not in known_names]
        if missing:
            tuned = sorted(n for n in known_names if n.startswith(f"{algo}_"))
            raise ValueError(
                f"{script} has no named config {', '.join(missing)} (from "
                f"named_config_pattern={named_config_pattern!r}); its {algo} "
                f"configs are: {', '.join(tuned)}."
            )
        sweeps.append(
            dict(
                sacred_ex_name=script,
                run_name=f"{run_name}_{algo}",
                search_space={
                    "command_name": algo,
                    "named_configs": tune.grid_search([[name] for name in names]),
                    "config_updates": {"seed": tune.grid_search(list(seeds))},
                },
                base_named_configs=list(base_named_configs),
                base_config_updates=parallel.plain(base_config_updates),
                resources_per_trial=parallel.plain(resources_per_trial),
                init_kwargs=parallel.plain(init_kwargs),
                tune_run_kwargs=parallel.plain(tune_run_kwargs),
                skip_completed=True,
            )
        )
    return sweeps


@run_benchmarks_ex.main
def run_benchmarks(
    algos: Sequence[str],
    environments: Sequence[str],
    seeds: Sequence[int],
    named_config_pattern: str,
    base_named_configs: Sequence[str],
    base_config_updates: Mapping[str, Any],
    resources_per_trial: Mapping[str, Any],
    init_kwargs: Mapping[str, Any],
    run_name: str,
    tune_run_kwargs: Mapping[str, Any],
) -> dict[str, Any]:
    """Run every algorithm's sweep, then fail if any run failed.

    Returns:
        Per algorithm: its Ray Tune ``experiment_path`` (resume it with
        ``parallel``'s ``experiment_checkpoint_path``) and its runs' Sacred
        folders (``sacred_run_dirs``).

    Raises:
        RuntimeError: If runs failed (all sweeps are run first).
    """
    sweeps = benchmark_sweeps(
        algos=algos,
        environments=environments,
        seeds=seeds,
        named_config_pattern=named_config_pattern,
        base_named_configs=base_named_configs,
        base_config_updates=base_config_updates,
        resources_per_trial=resources_per_trial,
        init_kwargs=init_kwargs,
        run_name=run_name,
        tune_run_kwargs=tune_run_kwargs,
    )
    summary: dict[str, Any] = {}
    failures = []
    with parallel.ray_session(init_kwargs):
        for algo, sweep in zip(algos, sweeps):
            results = parallel.run_parallel(**sweep)
            summary[algo] = {
                "experiment_path": results.experiment_path,
                "sacred_run_dirs": sorted(
                    parallel.reported_metrics(r)["sacred_run_dirs"]
                    for r in parallel.trial_results(results)
                    if r.error is None
                ),
            }
            if results.errors:
                first = " ".join(str(results.errors[0]).split())[-300:]
                failures.append(
                    f"{algo}: {len(results.errors)} of {len(results)} runs failed "
                    f"(resume: experiment_checkpoint_path={results.experiment_path}); "
                    f"the first: {first}"
                )
    if failures:
        raise RuntimeError("; ".join(failures))
    return summary


def main_console() -> None:
    """Entry point of ``imitation-run-benchmarks``."""
    run_console(run_benchmarks_ex, "run_benchmarks")


if __name__ == "__main__":  # pragma: no cover
    main_console()
