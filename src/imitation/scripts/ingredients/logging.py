"""Output directory, log formats and the link from the output to the Sacred run.

Default layout (``log_root`` defaults to ``output``)::

    <log_root>/<algo>/<env>/<timestamp>/   log/, monitor/, checkpoints, ...
        sacred -> ../../../sacred/<script>/<run id>
"""

from __future__ import annotations

import logging as py_logging
import os
import pathlib
from collections.abc import Sequence
from typing import Any

import sacred

from imitation.scripts.ingredients import environment, wb
from imitation.util import logger as imit_logger
from imitation.util import sacred as sacred_util
from imitation.util import util

logging_ingredient = sacred.Ingredient(
    "logging",
    ingredients=[wb.wandb_ingredient, environment.environment_ingredient],
    _caller_globals=globals(),
    save_git_info=False,
)

DEFAULT_LOG_ROOT = "output"

SACRED_COMMANDS = (
    "print_config",
    "print_dependencies",
    "print_named_configs",
    "save_config",
)
"""Sacred's own commands: they write no output, so get no log directory."""


@logging_ingredient.config
def config() -> None:
    """Where and how to log."""
    log_root = None  # parent of the default log_dir (None: "output")
    log_dir = None  # this run's directory (None: <log_root>/<algo>/<env>/<timestamp>)
    log_level = py_logging.INFO  # level of the Python loggers
    log_format_strs = ["tensorboard", "stdout"]  # imitation.util.logger formats
    log_format_strs_additional = dict[str, Any]()  # more formats: {"wandb": None}


@logging_ingredient.named_config
def wandb_logging() -> None:
    """Also log to Weights & Biases (needs the wandb package)."""
    log_format_strs_additional = {"wandb": None}


def env_dir_name(gym_id: str) -> str:
    """An environment id as a path part (``seals:seals/Ant-v1``: ``seals-Ant-v1``)."""
    return gym_id.split(":")[-1].replace("/", "-")


@logging_ingredient.config_hook
def hook(config: dict[str, Any], command_name: str, logger: Any) -> dict[str, Any]:
    """Fill in ``log_dir`` when it is not set (the environment is known by now)."""
    del logger
    logging_config = config["logging"]
    if logging_config.get("log_dir") is not None or command_name in SACRED_COMMANDS:
        return {}
    env = config["environment"]["gym_id"]
    root = logging_config.get("log_root") or DEFAULT_LOG_ROOT
    log_dir = os.path.join(
        root, command_name, env_dir_name(env), util.make_unique_timestamp()
    )
    return {"log_dir": log_dir}


@logging_ingredient.capture
def update_log_format_strs(
    log_format_strs: Sequence[str], log_format_strs_additional: dict[str, Any]
) -> list[str]:
    """``log_format_strs`` plus the additional formats' names."""
    return [*log_format_strs, *log_format_strs_additional]


@logging_ingredient.capture
def make_log_dir(_run: Any, log_dir: str, log_level: int) -> pathlib.Path:
    """Create ``log_dir``, link it to the Sacred run, set the log level.

    Returns:
        The directory.
    """
    path = pathlib.Path(log_dir)
    path.mkdir(parents=True, exist_ok=True)
    py_logging.getLogger().setLevel(log_level)
    sacred_util.build_sacred_symlink(path, _run)
    return path


@logging_ingredient.capture
def setup_logging(_run: Any) -> tuple[imit_logger.HierarchicalLogger, pathlib.Path]:
    """Create the log directory and a logger writing to ``<log_dir>/log``.

    Returns:
        The logger and the log directory.
    """
    log_dir = make_log_dir(_run)
    formats = update_log_format_strs()
    if "wandb" in formats:
        wb.wandb_init(_run=_run, log_dir=str(log_dir))
    custom_logger = imit_logger.configure(
        folder=str(log_dir / "log"), format_strs=formats
    )
    return custom_logger, log_dir
