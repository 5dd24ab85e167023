"""Named configs shared by the experiments."""

from __future__ import annotations

import importlib.resources
import json
import resource
from collections.abc import Iterable
from typing import Any

import sacred

from imitation.scripts.ingredients import names
from imitation.util import sacred as sacred_util

# Capture the run's output in Python (sacred's default, a tee process per
# stream, can stall for a minute at the end of a run).
sacred.SETTINGS.CAPTURE_MODE = "sys"

ENVIRONMENTS: dict[str, str] = {
    "acrobot": "Acrobot-v1",
    "ant": "Ant-v5",
    "cartpole": "CartPole-v1",
    "half_cheetah": "HalfCheetah-v5",
    "humanoid": "Humanoid-v5",
    "mountain_car": "MountainCar-v0",
    "pendulum": "Pendulum-v1",
    "reacher": "Reacher-v5",
    "seals_ant": "seals/Ant-v1",
    "seals_cartpole": "seals/CartPole-v0",
    "seals_half_cheetah": "seals/HalfCheetah-v1",
    "seals_hopper": "seals/Hopper-v1",
    "seals_humanoid": "seals/Humanoid-v1",
    "seals_mountain_car": "seals/MountainCar-v0",
    "seals_swimmer": "seals/Swimmer-v1",
    "seals_walker": "seals/Walker2d-v1",
}
"""Environment named configs: name -> Gymnasium id (MuJoCo ones need mujoco)."""

RL_ENVIRONMENTS = (
    "acrobot",
    "ant",
    "cartpole",
    "half_cheetah",
    "mountain_car",
    "pendulum",
    "reacher",
    "seals_ant",
    "seals_cartpole",
    "seals_half_cheetah",
    "seals_hopper",
    "seals_humanoid",
    "seals_mountain_car",
    "seals_swimmer",
    "seals_walker",
)
"""The environment named configs of ``train_rl`` and ``eval_policy``."""


def add_environment_configs(
    ex: sacred.Experiment,
    env_names: Iterable[str],
    extra: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Add a named config per environment, setting ``environment.gym_id``.

    Args:
        ex: The experiment.
        env_names: Keys of :data:`ENVIRONMENTS`.
        extra: More settings for some of them (merged in).
    """
    for name in env_names:
        settings: dict[str, Any] = {"environment": {"gym_id": ENVIRONMENTS[name]}}
        for key, value in (extra or {}).get(name, {}).items():
            settings.setdefault(key, {}).update(value)
        ex.add_named_config(name, settings)


def tuned_configs(prefixes: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The benchmark's tuned named configs (``<algo>_<env>``) for these algos.

    Read from ``tuned_hps.json`` (dotted keys; classes by short name).
    """
    raw = json.loads(
        (importlib.resources.files(__package__) / "tuned_hps.json").read_text()
    )
    wanted = tuple(f"{p}_" for p in prefixes)
    configs = {}
    for name, flat in raw.items():
        if name.startswith(wanted):
            configs[name] = _translate_tuned(name, flat)
    return configs


def _translate_tuned(name: str, flat: dict[str, Any]) -> dict[str, Any]:
    """One tuned config in this library's config format.

    The file was written by the original release: its ``expert.loader_kwargs.
    gym_id`` is dropped (the expert's environment name is filled in from
    ``environment.gym_id``), DAgger's pickled beta schedule becomes
    ``{"cls": name, **arguments}``, PPO's ``MlpPolicy`` is named by its class,
    and a one-element list around the policy's
    ``net_arch`` dict (the old SB3 format) is unwrapped.
    """
    flat = {k: v for k, v in flat.items() if k != "expert.loader_kwargs.gym_id"}
    schedule = {
        k.removeprefix("dagger.beta_schedule."): flat.pop(k)
        for k in list(flat)
        if k.startswith("dagger.beta_schedule.")
    }
    if schedule:
        schedule["cls"] = schedule.pop("py/object").rsplit(".", 1)[-1]
        flat["dagger.beta_schedule"] = schedule
    if flat.get("policy.policy_cls") == "MlpPolicy":  # PPO's name for it
        flat["policy.policy_cls"] = "ActorCriticPolicy"
    arch = flat.get("policy.policy_kwargs.net_arch")
    if isinstance(arch, list) and len(arch) == 1 and isinstance(arch[0], dict):
        flat["policy.policy_kwargs.net_arch"] = arch[0]
    nested = sacred_util.nested_update({}, flat)
    return names.resolve_nested(nested, name)


def add_tuned_configs(ex: sacred.Experiment, prefixes: Iterable[str]) -> None:
    """Add the tuned ``<algo>_<env>`` named configs for ``prefixes``."""
    for name, config in tuned_configs(prefixes).items():
        ex.add_named_config(name, config)


def _cpu_seconds() -> float:
    """User plus system CPU time of this process and its finished children."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def record_cpu_time(ex: sacred.Experiment) -> None:
    """Record each run's CPU time as ``cpu_seconds`` in its Sacred info.

    The file observer writes it to the run's ``info.json``; the benchmark
    tables report compute from it rather than from wall time, which counts
    whatever else shared the machine.
    """
    started: dict[int, float] = {}

    @ex.pre_run_hook
    def _start_cpu_clock(_run: Any) -> None:
        started[id(_run)] = _cpu_seconds()

    @ex.post_run_hook
    def _stop_cpu_clock(_run: Any) -> None:
        start = started.pop(id(_run), None)
        if start is not None:
            _run.info["cpu_seconds"] = round(_cpu_seconds() - start, 3)
