"""The vectorised environment (``environment``)."""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import gymnasium as gym
import numpy as np
import sacred
from stable_baselines3.common.vec_env import VecEnv

from imitation.data import wrappers
from imitation.util import util

environment_ingredient = sacred.Ingredient(
    "environment", _caller_globals=globals(), save_git_info=False
)


@environment_ingredient.config
def config() -> None:
    """The environment and how many copies run side by side."""
    gym_id = "seals/CartPole-v0"  # Gymnasium id ("module:Id" imports module first)
    num_vec = 8  # number of environments
    parallel = True  # each environment in its own process
    max_episode_steps = None  # None: the environment's own time limit
    env_make_kwargs = dict[str, Any]()  # more arguments of gymnasium.make


@environment_ingredient.named_config
def fast() -> None:
    """Two in-process environments with short episodes, for smoke tests."""
    num_vec = 2
    parallel = False
    max_episode_steps = 20


def gym_make_id(gym_id: str) -> str:
    """``gym_id`` with the module that registers it prepended, where needed.

    ``seals:`` for seals ids, ``ale_py:`` for the Atari environments of the
    ALE (``ALE/Pong-v5``, ``PongNoFrameskip-v4``, ...): gymnasium imports that
    module in every process that makes the environment, parallel workers too.

    Raises:
        ValueError: If ``gym_id`` is an ``ALE/`` id and ``ale-py`` is missing.
    """
    if ":" in gym_id:
        return gym_id
    if gym_id.startswith("seals/"):
        return f"seals:{gym_id}"
    if gym_id.startswith("ALE/") or gym_id not in gym.registry:
        # Importing ale_py registers its ids (the v0/v4 ids have no prefix).
        if importlib.util.find_spec("ale_py") is not None:
            importlib.import_module("ale_py")
        elif gym_id.startswith("ALE/"):
            raise ValueError(
                f"{gym_id} is an Atari environment, which needs ale-py: "
                "pip install imitation[atari]",
            )
    spec = gym.registry.get(gym_id)
    if spec is not None and str(spec.entry_point).startswith("ale_py"):
        return f"ale_py:{gym_id}"
    return gym_id


@environment_ingredient.capture
def make_venv(
    gym_id: str,
    num_vec: int,
    parallel: bool,
    max_episode_steps: int | None,
    env_make_kwargs: dict[str, Any],
    _seed: int,
    log_dir: str | None = None,
    extra_env_make_kwargs: dict[str, Any] | None = None,
    **kwargs: Any,
) -> VecEnv:
    """The configured environments, seeded from the run's seed.

    Args:
        gym_id: Environment id.
        num_vec: Number of environments.
        parallel: One process per environment.
        max_episode_steps: Time-limit override.
        env_make_kwargs: Passed to ``gymnasium.make``.
        _seed: The run's seed (Sacred's).
        log_dir: If given, monitor CSVs go to ``<log_dir>/monitor``.
        extra_env_make_kwargs: Merged over ``env_make_kwargs``.
        kwargs: More arguments of :func:`imitation.util.util.make_vec_env`.

    Returns:
        The environments (close them when done).
    """
    return util.make_vec_env(
        gym_make_id(gym_id),
        rng=np.random.default_rng(_seed),
        n_envs=num_vec,
        parallel=parallel,
        max_episode_steps=max_episode_steps,
        log_dir=log_dir,
        env_make_kwargs={**env_make_kwargs, **(extra_env_make_kwargs or {})},
        **kwargs,
    )


def make_rollout_venv() -> VecEnv:
    """Environments for collecting rollouts: each wrapped in ``RolloutInfoWrapper``."""
    return make_venv(post_wrappers=[lambda env, _: wrappers.RolloutInfoWrapper(env)])
