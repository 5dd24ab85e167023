"""The ``run_benchmarks`` experiment: the benchmark suite's algorithms, envs and seeds.

By default: BC, DAgger, GAIL and AIRL on the five tuned seals MuJoCo
environments (``<algo>_<env>`` named configs), ten seeds each.
"""

from __future__ import annotations

from typing import Any

import sacred

from imitation.scripts.config import common  # noqa: F401 - sets the capture mode
from imitation.util import util

run_benchmarks_ex = sacred.Experiment("run_benchmarks", save_git_info=False)


@run_benchmarks_ex.config
def config() -> None:
    """The suite, and how its runs are spread over Ray."""
    algos = ["bc", "dagger", "gail", "airl"]  # each one sweep (Ray Tune experiment)
    environments = [
        "seals_ant",
        "seals_half_cheetah",
        "seals_hopper",
        "seals_swimmer",
        "seals_walker",
    ]
    seeds = list(range(10))  # one run per seed, per algorithm and environment
    named_config_pattern = "{algo}_{env}"  # each run's tuned named config
    base_named_configs = list[str]()  # more named configs of every run
    base_config_updates = dict[str, Any]()  # e.g. logging.log_root
    resources_per_trial = dict(cpu=1)
    init_kwargs = dict[str, Any]()  # ray.init arguments (address: a cluster)
    run_name = f"benchmark_{util.make_unique_timestamp()}"  # sweeps: <run_name>_<algo>
    tune_run_kwargs = dict[str, Any]()  # more tune.TuneConfig / tune.RunConfig
