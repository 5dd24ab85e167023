"""Behavioural cloning's settings (``bc``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sacred
import torch as th
from stable_baselines3.common.vec_env import VecEnv

from imitation.algorithms import bc as bc_algorithm
from imitation.data import types
from imitation.scripts.ingredients import names, policy
from imitation.util import logger as imit_logger

bc_ingredient = sacred.Ingredient(
    "bc",
    ingredients=[policy.policy_ingredient],
    _caller_globals=globals(),
    save_git_info=False,
)


@bc_ingredient.config
def config() -> None:
    """BC's optimisation settings."""
    batch_size = 32  # samples per optimisation step
    l2_weight = 3e-5  # weight of the L2 penalty on the parameters
    optimizer_cls = th.optim.Adam  # or a class name, e.g. "AdamW"
    optimizer_kwargs = dict(lr=4e-4)
    train_kwargs = dict(
        n_epochs=None,  # passes over the data (neither set: one pass)
        n_batches=None,  # optimisation steps
        log_interval=500,  # steps between log rows
    )
    agent_path = None  # start from a policy saved by imitation (util.save_policy)


@bc_ingredient.capture
def make_or_load_policy(venv: VecEnv, agent_path: str | None) -> Any:
    """The policy saved at ``agent_path``, or a new configured one."""
    if agent_path is None:
        return policy.make_policy(venv)
    return bc_algorithm.reconstruct_policy(agent_path, device="cpu")


@bc_ingredient.capture
def make_bc(
    venv: VecEnv,
    expert_trajs: Sequence[types.Trajectory] | None,
    custom_logger: imit_logger.HierarchicalLogger,
    batch_size: int,
    l2_weight: float,
    optimizer_cls: Any,
    optimizer_kwargs: dict[str, Any],
    _seed: int,
) -> bc_algorithm.BC:
    """A BC trainer for ``venv`` on ``expert_trajs`` (None for DAgger)."""
    return bc_algorithm.BC(
        observation_space=venv.observation_space,
        action_space=venv.action_space,
        rng=np.random.default_rng(_seed),
        policy=make_or_load_policy(venv),
        demonstrations=expert_trajs,
        custom_logger=custom_logger,
        batch_size=batch_size,
        l2_weight=l2_weight,
        optimizer_cls=names.resolve_class(optimizer_cls, "bc.optimizer_cls"),
        optimizer_kwargs=optimizer_kwargs,
    )
