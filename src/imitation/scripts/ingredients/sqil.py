"""SQIL's settings (``sqil``), including its own off-policy learner.

SQIL needs an off-policy learner, so it does not use the ``rl`` ingredient
(whose default is PPO): ``rl_cls=None`` picks SQIL's default, the soft
Q-learning ``SoftDQN`` for discrete actions and SAC for continuous ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import sacred
import stable_baselines3 as sb3
from stable_baselines3.common.vec_env import VecEnv

from imitation.algorithms import sqil as sqil_algorithm
from imitation.data import types
from imitation.scripts.ingredients import names
from imitation.util import logger as imit_logger

sqil_ingredient = sacred.Ingredient(
    "sqil", _caller_globals=globals(), save_git_info=False
)

SB3_POLICY_ALIASES = ("MlpPolicy", "CnnPolicy", "MultiInputPolicy")
"""Policy names SB3 resolves itself."""


@sqil_ingredient.config
def config() -> None:
    """SQIL's training budget and learner."""
    total_timesteps = 300_000  # environment steps
    train_kwargs = dict(progress_bar=True)  # more arguments of SQIL.train
    rl_cls = None  # None: SoftDQN (discrete actions) or SAC (continuous)
    rl_kwargs = dict[str, Any]()  # constructor arguments of the learner
    policy = "MlpPolicy"  # the learner's policy (class or SB3 alias)


@sqil_ingredient.named_config
def fast() -> None:
    """A few steps, for smoke tests."""
    total_timesteps = 200
    rl_kwargs = dict(learning_starts=50, buffer_size=1_000, batch_size=8)


def _learner(action_space: gym.Space, rl_cls: Any) -> Any:
    """The learner class: ``rl_cls``, or SQIL's default for ``action_space``."""
    resolved = names.resolve_class(rl_cls, "sqil.rl_cls")
    if resolved is None and not isinstance(action_space, gym.spaces.Box):
        return None  # SQIL's default, SoftDQN
    return resolved or sb3.SAC


@sqil_ingredient.capture
def make_sqil(
    venv: VecEnv,
    expert_trajs: Sequence[types.Trajectory],
    custom_logger: imit_logger.HierarchicalLogger,
    rl_cls: Any,
    rl_kwargs: dict[str, Any],
    policy: Any,
    _seed: int,
) -> sqil_algorithm.SQIL:
    """A SQIL trainer for ``venv`` on ``expert_trajs``."""
    return sqil_algorithm.SQIL(
        venv=venv,
        demonstrations=expert_trajs,
        policy=(
            policy
            if policy in SB3_POLICY_ALIASES
            else names.resolve_class(policy, "sqil.policy")
        ),
        custom_logger=custom_logger,
        rl_algo_class=_learner(venv.action_space, rl_cls),
        rl_kwargs={"seed": _seed, "device": "cpu", **rl_kwargs},
    )


@sqil_ingredient.capture
def train_sqil(
    trainer: sqil_algorithm.SQIL, total_timesteps: int, train_kwargs: dict[str, Any]
) -> None:
    """Train ``trainer`` for the configured number of steps."""
    trainer.train(total_timesteps=int(total_timesteps), **train_kwargs)
