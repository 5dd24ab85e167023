"""The expert policy (``expert``): any type registered in ``policy_registry``.

``policy_type`` is e.g. ``ppo`` / ``sac`` (``loader_kwargs.path`` to a zip),
``ppo-huggingface`` / ``sac-huggingface`` (the Hub, or its local cache),
``bundled`` (the experts shipped with imitation), ``random`` or ``zero``; and
for ``train_imitation dagger`` and ``eval_policy`` only, ``human`` (a person
labels the learner's states, or plays, in the browser; see
``docs/human-teachers.md``). For
the Hub and bundled types the environment's id is filled in as
``loader_kwargs.env_name``.
"""

from __future__ import annotations

from typing import Any

import sacred
from stable_baselines3.common import policies
from stable_baselines3.common.vec_env import VecEnv

from imitation.policies import serialize
from imitation.scripts.ingredients import environment

expert_ingredient = sacred.Ingredient(
    "expert",
    ingredients=[environment.environment_ingredient],
    _caller_globals=globals(),
    save_git_info=False,
)

NEEDS_ENV_NAME = ("ppo-huggingface", "sac-huggingface", "bundled")
"""Policy types whose loader takes the environment's name."""


@expert_ingredient.config
def config() -> None:
    """Which expert to load, and the loader's arguments."""
    policy_type = (
        "ppo-huggingface"  # a key of imitation.policies.serialize.policy_registry
    )
    loader_kwargs = dict[str, Any]()  # arguments of that loader (e.g. path=...)


@expert_ingredient.config_hook
def config_hook(
    config: dict[str, Any], command_name: str, logger: Any
) -> dict[str, Any]:
    """Fill in the Hub's organisation and the environment's name where needed."""
    del command_name, logger
    expert = config["expert"]
    policy_type = expert["policy_type"]
    if policy_type not in NEEDS_ENV_NAME:
        return {}
    loader_kwargs = dict(expert["loader_kwargs"])
    loader_kwargs.setdefault("env_name", config["environment"]["gym_id"].split(":")[-1])
    if policy_type.endswith("-huggingface"):
        loader_kwargs.setdefault("organization", serialize.HF_DEFAULT_ORGANIZATION)
    return {"loader_kwargs": loader_kwargs}


@expert_ingredient.capture
def get_expert_policy(
    venv: VecEnv, policy_type: str, loader_kwargs: dict[str, Any]
) -> policies.BasePolicy:
    """Load the configured expert for ``venv``.

    Raises:
        KeyError: If ``policy_type`` is not registered.
        ValueError: If the expert's spaces do not match ``venv``'s, or
            ``policy_type`` is ``human`` (a person is no loadable policy).
    """
    if policy_type == "human":
        raise ValueError(
            "expert.policy_type=human (a person in the browser) works with "
            "`train_imitation dagger` (labelling) and `eval_policy` (playing) "
            "only; this command needs a policy to load (e.g. policy_type=bundled)."
        )
    return serialize.load_policy(policy_type, venv, **loader_kwargs)
