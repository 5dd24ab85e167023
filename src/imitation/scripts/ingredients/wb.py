"""Weights & Biases settings (``logging.wandb``), for the ``wandb`` log format."""

from __future__ import annotations

from typing import Any

import sacred

wandb_ingredient = sacred.Ingredient(
    "logging.wandb", _caller_globals=globals(), save_git_info=False
)


@wandb_ingredient.config
def wandb_config() -> None:
    """Settings passed to ``wandb.init``."""
    wandb_name_prefix = ""  # prefix of the run name
    wandb_tag = None  # a tag for the run
    wandb_kwargs = dict(
        project="imitation",
        monitor_gym=False,
        save_code=False,
    )  # other keyword arguments of wandb.init
    wandb_additional_info = dict[str, Any]()  # extra entries for the run's config


@wandb_ingredient.capture
def wandb_init(
    _run: Any,
    wandb_name_prefix: str,
    wandb_tag: str | None,
    wandb_kwargs: dict[str, Any],
    wandb_additional_info: dict[str, Any],
    log_dir: str,
) -> None:
    """Start a wandb run named after the Sacred experiment and environment.

    Raises:
        ImportError: If wandb is not installed (with the command to fix it).
    """
    try:
        import wandb
    except ImportError as exc:
        raise ImportError(
            "The wandb log format needs the wandb package: `pip install wandb`, "
            "or drop logging.wandb_logging / the 'wandb' format."
        ) from exc
    env_name = _run.config["environment"]["gym_id"]
    name = f"{wandb_name_prefix}-{_run.experiment_info['name']}-{env_name}".lstrip("-")
    wandb.init(
        config={**_run.config, **wandb_additional_info},
        name=name,
        tags=[wandb_tag] if wandb_tag else None,
        dir=log_dir,
        **wandb_kwargs,
    )
