"""Run many configurations of a train script as Ray Tune trials.

Run ``python -m imitation.scripts.parallel with <named configs> <key=value ...>``.
Each trial runs the Sacred experiment ``sacred_ex_name`` (in the Ray worker's
process) with ``base_named_configs`` followed by the trial's named configs, and
the trial's config updates merged over ``base_config_updates``; it reports the
experiment's result to Ray Tune, flattened with ``/`` (e.g.
``imit_stats/monitor_return_mean``), averaged over ``repeat`` runs.

Every run lands in the scripts' usual layout under ``logging.log_root``
(default ``output``, made absolute on the machine that starts the sweep):
``<log_root>/<algo>/<env>/<timestamp>/`` linked to
``<log_root>/sacred/<script>/<run id>``; Ray Tune's own records are in
``<log_root>/parallel/<run_name>/``, which ``experiment_checkpoint_path``
resumes. Ray starts locally unless ``init_kwargs`` names a cluster
(``init_kwargs.address=<head IP>:6379``).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import importlib
import json
import logging
import math
import numbers
import os
import pathlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import ray
import sacred
from ray import tune
from ray.tune.result import AUTO_RESULT_KEYS
from sacred.observers import FileStorageObserver

from imitation.scripts._console import run_console
from imitation.scripts.config.parallel import parallel_ex
from imitation.scripts.ingredients import logging as logging_ingredient
from imitation.util import util

logger = logging.getLogger(__name__)

TRAIN_SCRIPTS = (
    "train_rl",
    "train_imitation",
    "train_adversarial",
    "train_preference_comparisons",
)
"""The experiments a trial can run (``sacred_ex_name``)."""

SETTINGS_FILE = "imitation_sweep.json"
"""The file in a sweep's Ray Tune folder recording what its trials share."""

RUN_KEY = "parallel_run"
"""The ``meta`` entry of a trial's Sacred runs: ``<run_name>/<trial id>/<i>``."""

SEARCH_SPACE_KEYS = frozenset({"named_configs", "config_updates", "command_name"})

_TUNE_CONFIG_KEYS = frozenset(f.name for f in dataclasses.fields(tune.TuneConfig)) - {
    "num_samples",
    "metric",
    "mode",
    "search_alg",
}
_RUN_CONFIG_KEYS = frozenset(f.name for f in dataclasses.fields(tune.RunConfig)) - {
    "name",
    "storage_path",
}


@dataclasses.dataclass(frozen=True)
class TrialSettings:
    """What every trial of one sweep shares (the search space varies the rest)."""

    sacred_ex_name: str
    base_named_configs: tuple[str, ...]
    base_config_updates: dict[str, Any]
    repeat: int
    log_root: str
    cwd: str
    skip_completed: bool = False


def get_experiment(sacred_ex_name: str) -> sacred.Experiment:
    """The Sacred experiment of a train script, with its commands registered.

    Raises:
        ValueError: If ``sacred_ex_name`` is not one of :data:`TRAIN_SCRIPTS`.
    """
    if sacred_ex_name not in TRAIN_SCRIPTS:
        raise ValueError(
            f"sacred_ex_name={sacred_ex_name!r} is not a train script; use one of "
            f"{', '.join(TRAIN_SCRIPTS)}."
        )
    module = importlib.import_module(f"imitation.scripts.{sacred_ex_name}")
    return getattr(module, f"{sacred_ex_name}_ex")


def plain(value: Any) -> Any:
    """``value`` with Sacred's read-only mappings and lists made plain dicts and lists.

    Ray Tune's search primitives inside are kept as they are.
    """
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``base`` with ``update`` merged in (nested dicts key by key)."""
    merged = copy.deepcopy(dict(base))
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def flatten_result(result: Any, prefix: str = "") -> dict[str, float]:
    """The numeric entries of a run's result, with nested keys joined by ``/``.

    A result that is itself a number is reported as ``result``.
    """
    if isinstance(result, Mapping):
        flat: dict[str, float] = {}
        for key, value in result.items():
            flat.update(flatten_result(value, f"{prefix}{key}/"))
        return flat
    if isinstance(result, numbers.Real) and not isinstance(result, bool):
        return {prefix.rstrip("/") or "result": float(result)}
    return {}


def _completed_runs(observer_dir: pathlib.Path) -> Iterator[tuple[pathlib.Path, dict]]:
    """The completed Sacred runs in ``observer_dir``, with their ``run.json``."""
    if not observer_dir.is_dir():
        return
    for run_json in sorted(observer_dir.glob("*/run.json")):
        try:
            record = json.loads(run_json.read_text())
        except (OSError, json.JSONDecodeError):
            continue  # a run still being written, or cut short
        if record.get("status") == "COMPLETED":
            yield run_json.parent, record


def _completed_run(observer_dir: pathlib.Path, run_key: str) -> pathlib.Path | None:
    """The Sacred folder of a completed run recorded as ``run_key``, if any."""
    for run_dir, record in _completed_runs(observer_dir):
        if (record.get("meta") or {}).get(RUN_KEY) == run_key:
            return run_dir
    return None


def _completed_same_run(
    observer_dir: pathlib.Path,
    command_name: str | None,
    named_configs: Sequence[str],
    config_updates: Mapping[str, Any],
) -> pathlib.Path | None:
    """The folder of a completed run of the same command, named configs and updates.

    Whichever sweep ran it: this is how a re-started benchmark suite skips
    the runs an earlier (interrupted) attempt finished.
    """
    want_updates = json.loads(json.dumps(plain(config_updates)))
    for run_dir, record in _completed_runs(observer_dir):
        meta = record.get("meta") or {}
        if (
            meta.get("command") == command_name
            and meta.get("named_configs") == list(named_configs)
            and meta.get("config_updates") == want_updates
        ):
            return run_dir
    return None


def run_trial(
    config: Mapping[str, Any], settings: TrialSettings, trial_key: str
) -> dict[str, Any]:
    """Run one trial's Sacred experiment ``settings.repeat`` times.

    Runs ``i`` use seed ``seed + i``, where ``seed`` is the trial's ``seed``
    config update (0 if unset). Each run records ``<trial_key>/<i>`` as
    ``meta.parallel_run`` in its ``run.json``; a run already completed under
    that key (by an interrupted attempt at this trial) is not run again; with
    ``settings.skip_completed``, neither is one with the same command, named
    configs and config updates recorded by any earlier sweep.

    Returns:
        The mean over the runs of each number of the results (keys joined by
        ``/``), ``num_runs`` and ``sacred_run_dirs`` (the runs' Sacred folders,
        joined by ``os.pathsep``).
    """
    if os.path.isdir(settings.cwd):  # relative paths mean what they did for the caller
        os.chdir(settings.cwd)
    ex = get_experiment(settings.sacred_ex_name)
    named_configs = [*settings.base_named_configs, *config.get("named_configs", [])]
    updates = merge(settings.base_config_updates, config.get("config_updates", {}))
    updates = merge(updates, {"logging": {"log_root": settings.log_root}})
    first_seed = int(updates.get("seed", 0))
    observer_dir = pathlib.Path(settings.log_root, "sacred", settings.sacred_ex_name)
    flat_results = []
    run_dirs = []
    for i in range(settings.repeat):
        run_key = f"{trial_key}/{i}"
        run_updates = merge(updates, {"seed": first_seed + i})
        done = _completed_run(observer_dir, run_key)
        if done is None and settings.skip_completed:
            done = _completed_same_run(
                observer_dir, config.get("command_name"), named_configs, run_updates
            )
        if done is not None:
            result = json.loads((done / "run.json").read_text()).get("result")
            run_dir = done
        else:
            observer = FileStorageObserver(str(observer_dir))
            ex.observers.append(observer)
            try:
                run = ex.run(
                    command_name=config.get("command_name"),
                    named_configs=named_configs,
                    config_updates=run_updates,
                    meta_info={RUN_KEY: run_key},
                )
            finally:
                ex.observers.remove(observer)
            result = run.result
            run_dir = pathlib.Path(observer.dir)
        flat_results.append(flatten_result(result))
        run_dirs.append(str(run_dir))
    shared = set.intersection(*(set(r) for r in flat_results))
    report: dict[str, Any] = {
        key: math.fsum(r[key] for r in flat_results) / len(flat_results)
        for key in sorted(shared)
    }
    report["num_runs"] = len(flat_results)
    report["sacred_run_dirs"] = os.pathsep.join(run_dirs)
    return report


def trial_results(results: tune.ResultGrid) -> list[tune.Result]:
    """The results of a sweep's trials, failed ones included."""
    return [results[i] for i in range(len(results))]


def trial_config(result: tune.Result) -> dict[str, Any]:
    """A trial's resolved search-space sample (``named_configs``, ...)."""
    return dict(result.config or {})


def reported_metrics(result: tune.Result) -> dict[str, Any]:
    """What a trial reported (Ray Tune's own entries, such as timings, left out)."""
    return {
        key: value
        for key, value in (result.metrics or {}).items()
        if key not in AUTO_RESULT_KEYS
        and key not in ("done", "trial_id")
        and key != "experiment_tag"
    }


def _trainable(config: dict[str, Any], settings: TrialSettings) -> None:
    """Ray Tune's function trainable: one trial, reported once (with its node)."""
    context = tune.get_context()
    trial_key = f"{context.get_experiment_name()}/{context.get_trial_id()}"
    report = run_trial(config, settings, trial_key)
    report["node_id"] = ray.get_runtime_context().get_node_id()
    tune.report(report)


def _make_trainable(settings: TrialSettings, resources: Mapping[str, Any]) -> Any:
    trainable = tune.with_parameters(_trainable, settings=settings)
    if resources:
        trainable = tune.with_resources(trainable, dict(resources))
    return trainable


def save_settings(
    experiment_dir: pathlib.Path,
    settings: TrialSettings,
    resources: Mapping[str, Any],
) -> None:
    """Record a sweep's shared settings in its Ray Tune folder, for resuming.

    Raises:
        ValueError: If a setting is not JSON (e.g. a class: give its name).
    """
    record = {"settings": dataclasses.asdict(settings), "resources": resources}
    write_json(experiment_dir / SETTINGS_FILE, record)


def write_json(path: pathlib.Path, value: Any) -> None:
    """Write ``value`` to ``path`` as JSON, atomically.

    Raises:
        ValueError: If ``value`` holds something JSON cannot (e.g. a class).
    """
    try:
        text = json.dumps(value, indent=2, sort_keys=True)
    except TypeError as exc:
        raise ValueError(
            f"Cannot write {path}: {exc}; settings must be JSON: give classes in "
            "base_config_updates by their name."
        ) from exc
    with util.atomic_write_path(path) as tmp:
        tmp.write_text(text + "\n")


def load_settings(
    experiment_dir: pathlib.Path,
) -> tuple[TrialSettings, dict[str, Any]]:
    """The shared settings and trial resources :func:`save_settings` recorded.

    Raises:
        FileNotFoundError: If the folder has no record (not made by ``parallel``).
    """
    path = experiment_dir / SETTINGS_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: {experiment_dir} was not started by "
            "imitation.scripts.parallel, so it cannot be resumed by it."
        )
    record = json.loads(path.read_text())
    fields = record["settings"]
    fields["base_named_configs"] = tuple(fields["base_named_configs"])
    return TrialSettings(**fields), record["resources"]


def _split_tune_run_kwargs(
    tune_run_kwargs: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``tune_run_kwargs`` as ``tune.TuneConfig`` and ``tune.RunConfig`` arguments.

    Raises:
        ValueError: If a key belongs to neither.
    """
    unknown = set(tune_run_kwargs) - _TUNE_CONFIG_KEYS - _RUN_CONFIG_KEYS
    if unknown:
        raise ValueError(
            f"tune_run_kwargs has unknown keys {sorted(unknown)}; valid keys are "
            f"{sorted(_TUNE_CONFIG_KEYS | _RUN_CONFIG_KEYS)} (num_samples, "
            "run_name and the search space have their own settings)."
        )
    tune_kwargs = {k: v for k, v in tune_run_kwargs.items() if k in _TUNE_CONFIG_KEYS}
    run_kwargs = {k: v for k, v in tune_run_kwargs.items() if k in _RUN_CONFIG_KEYS}
    return tune_kwargs, run_kwargs


def _check_search_space(
    ex: sacred.Experiment, search_space: Mapping[str, Any], repeat: int
) -> None:
    unknown = set(search_space) - SEARCH_SPACE_KEYS
    if unknown:
        raise ValueError(
            f"search_space has unknown keys {sorted(unknown)}; it takes "
            f"{sorted(SEARCH_SPACE_KEYS)}."
        )
    command = search_space.get("command_name")
    if isinstance(command, str) and command not in ex.commands:
        raise ValueError(
            f"search_space.command_name={command!r} is not a command of "
            f"{ex.path!s}; its commands are {sorted(ex.commands)}."
        )
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, got {repeat}.")


def _fit(tuner: tune.Tuner) -> tune.ResultGrid:
    """Run the trials; an interruption (e.g. Ctrl-C) raises ``KeyboardInterrupt``.

    Ray Tune stops on Ctrl-C and returns the trials so far; some then never
    reported. The experiment is saved, so it can be resumed.
    """
    results = tuner.fit()
    unfinished = [
        r
        for r in trial_results(results)
        if r.error is None and "num_runs" not in reported_metrics(r)
    ]
    if unfinished:
        logger.warning(
            "%d of %d trials did not finish; resume with experiment_checkpoint_path=%s",
            len(unfinished),
            len(results),
            results.experiment_path,
        )
        raise KeyboardInterrupt
    return results


@contextlib.contextmanager
def ray_session(init_kwargs: Mapping[str, Any]) -> Iterator[None]:
    """Ray, started with ``ray.init(**init_kwargs)`` unless it is running already.

    Started here, it is shut down on leaving. Without an ``address`` (here or
    in ``RAY_ADDRESS``) Ray runs locally, without its dashboard by default.
    """
    if ray.is_initialized():
        yield
        return
    ray_kwargs = plain(init_kwargs)
    if "address" not in ray_kwargs and "RAY_ADDRESS" not in os.environ:
        ray_kwargs.setdefault("include_dashboard", False)
    ray.init(**ray_kwargs)
    try:
        yield
    finally:
        ray.shutdown()


def log_root_of(base_config_updates: Mapping[str, Any]) -> pathlib.Path:
    """The absolute ``logging.log_root`` of a sweep's runs (default ``output``)."""
    logging_updates = base_config_updates.get("logging", {})
    root = logging_updates.get("log_root") or logging_ingredient.DEFAULT_LOG_ROOT
    return pathlib.Path(root).absolute()


def run_parallel(
    *,
    sacred_ex_name: str,
    run_name: str,
    search_space: Mapping[str, Any],
    base_named_configs: Sequence[str] = (),
    base_config_updates: Mapping[str, Any] | None = None,
    resources_per_trial: Mapping[str, Any] | None = None,
    init_kwargs: Mapping[str, Any] | None = None,
    num_samples: int = 1,
    repeat: int = 1,
    experiment_checkpoint_path: str = "",
    tune_run_kwargs: Mapping[str, Any] | None = None,
    search_alg: Any = None,
    metric: str | None = None,
    mode: str | None = None,
    skip_completed: bool = False,
) -> tune.ResultGrid:
    """Run the trials of a search space on Ray Tune (see the module docstring).

    Args:
        sacred_ex_name: The train script each trial runs.
        run_name: Name of the Ray Tune experiment.
        search_space: ``named_configs``, ``config_updates`` and optionally
            ``command_name`` of the trials (Ray Tune search primitives allowed).
        base_named_configs: Named configs of every trial, before the trial's.
        base_config_updates: Config updates of every trial, under the trial's.
        resources_per_trial: Ray resources of a trial (e.g. ``dict(cpu=1)``).
        init_kwargs: Arguments of ``ray.init`` (``address`` joins a cluster).
        num_samples: Samples of the search space.
        repeat: Runs per trial, on consecutive seeds; results averaged.
        experiment_checkpoint_path: Resume the experiment saved in this folder
            (with its own settings: the arguments above are then ignored).
        tune_run_kwargs: More ``tune.TuneConfig`` / ``tune.RunConfig`` arguments.
        search_alg: A Ray Tune search algorithm (e.g. ``OptunaSearch``).
        metric: The metric ``search_alg`` optimises.
        mode: ``"max"`` or ``"min"``.
        skip_completed: Reuse, instead of running again, a completed run in
            ``<log_root>/sacred/<script>/`` with the same command, named
            configs and config updates (seed included), from any sweep.

    Returns:
        Ray Tune's results of all trials (failed ones included).

    Raises:
        ValueError: On an unknown script, command, search-space key, or
            ``tune_run_kwargs`` key; on ``logging.log_dir`` in
            ``base_config_updates`` (trials need directories of their own).
        FileNotFoundError: If ``experiment_checkpoint_path`` holds no experiment.
    """
    if experiment_checkpoint_path:
        path = pathlib.Path(experiment_checkpoint_path).absolute()
        if not tune.Tuner.can_restore(str(path)):
            raise FileNotFoundError(
                f"experiment_checkpoint_path={experiment_checkpoint_path!r} holds "
                "no Ray Tune experiment; give the folder "
                "<log_root>/parallel/<run_name> of an earlier run."
            )
        settings, resources = load_settings(path)
        with ray_session(init_kwargs or {}):
            tuner = tune.Tuner.restore(
                str(path),
                _make_trainable(settings, resources),
                resume_unfinished=True,
                resume_errored=True,
            )
            return _fit(tuner)
    updates: dict[str, Any] = plain(base_config_updates or {})
    ex = get_experiment(sacred_ex_name)
    space: dict[str, Any] = plain(search_space)
    _check_search_space(ex, space, repeat)
    if updates.get("logging", {}).get("log_dir") is not None:
        raise ValueError(
            "base_config_updates sets logging.log_dir, which every trial would "
            "share; set logging.log_root instead (each run gets a folder under it)."
        )
    tune_kwargs, run_kwargs = _split_tune_run_kwargs(plain(tune_run_kwargs or {}))
    # One worker process per concurrent trial: the train scripts load once.
    tune_kwargs.setdefault("reuse_actors", True)
    log_root = log_root_of(updates)
    settings = TrialSettings(
        sacred_ex_name=sacred_ex_name,
        base_named_configs=tuple(base_named_configs),
        base_config_updates=updates,
        repeat=repeat,
        log_root=str(log_root),
        cwd=os.getcwd(),
        skip_completed=skip_completed,
    )
    resources = plain(resources_per_trial or {})
    save_settings(log_root / "parallel" / run_name, settings, resources)
    with ray_session(init_kwargs or {}):
        tuner = tune.Tuner(
            _make_trainable(settings, resources),
            param_space=space,
            tune_config=tune.TuneConfig(
                num_samples=num_samples,
                search_alg=search_alg,
                metric=metric,
                mode=mode,
                **tune_kwargs,
            ),
            run_config=tune.RunConfig(
                name=run_name,
                storage_path=str(log_root / "parallel"),
                **run_kwargs,
            ),
        )
        return _fit(tuner)


@parallel_ex.main
def parallel(
    sacred_ex_name: str,
    run_name: str,
    search_space: Mapping[str, Any],
    base_named_configs: Sequence[str],
    base_config_updates: Mapping[str, Any],
    resources_per_trial: Mapping[str, Any],
    init_kwargs: Mapping[str, Any],
    num_samples: int,
    repeat: int,
    experiment_checkpoint_path: str,
    tune_run_kwargs: Mapping[str, Any],
) -> dict[str, Any]:
    """Run the sweep; fail if any trial failed.

    Returns:
        ``experiment_path`` (Ray Tune's folder, for resuming) and, per trial,
        its ``config`` and reported ``metrics``.

    Raises:
        RuntimeError: If a trial failed (the others' runs are kept).
    """
    results = run_parallel(
        sacred_ex_name=sacred_ex_name,
        run_name=run_name,
        search_space=search_space,
        base_named_configs=base_named_configs,
        base_config_updates=base_config_updates,
        resources_per_trial=resources_per_trial,
        init_kwargs=init_kwargs,
        num_samples=num_samples,
        repeat=repeat,
        experiment_checkpoint_path=experiment_checkpoint_path,
        tune_run_kwargs=tune_run_kwargs,
    )
    if results.errors:
        first = " ".join(str(results.errors[0]).split())[-500:]
        raise RuntimeError(
            f"{len(results.errors)} of {len(results)} trials failed (rerun with "
            f"experiment_checkpoint_path={results.experiment_path} to retry "
            f"them); the first: {first}"
        )
    return {
        "experiment_path": results.experiment_path,
        "trials": [
            {"config": result.config, "metrics": reported_metrics(result)}
            for result in trial_results(results)
        ],
    }


def main_console() -> None:
    """Entry point of ``imitation-parallel``."""
    run_console(parallel_ex, "parallel")


if __name__ == "__main__":  # pragma: no cover
    main_console()
