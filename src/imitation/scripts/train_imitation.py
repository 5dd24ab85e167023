"""Train BC, DAgger or SQIL from the command line.

Run ``python -m imitation.scripts.train_imitation {bc,dagger,sqil} with
<named configs> <key=value ...>``. Output in ``<log_dir>``: ``log/``,
``final.th`` (BC and DAgger's policy; ``imitation.algorithms.bc.
reconstruct_policy`` loads it), DAgger's ``scratch/`` (its rounds' data and
checkpoints), SQIL's ``policies/final/model.zip``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from imitation.algorithms import dagger as dagger_algorithm
from imitation.data import wrappers
from imitation.policies import serialize as policy_serialize
from imitation.scripts._console import run_console
from imitation.scripts.config.train_imitation import train_imitation_ex
from imitation.scripts.ingredients import bc as bc_ingredient
from imitation.scripts.ingredients import (
    demonstrations,
    environment,
    expert,
    policy_evaluation,
)
from imitation.scripts.ingredients import logging as logging_ingredient
from imitation.scripts.ingredients import sqil as sqil_ingredient
from imitation.util import util

logger = logging.getLogger(__name__)


def _make_venv(log_dir: Any) -> Any:
    return environment.make_venv(
        log_dir=str(log_dir),
        post_wrappers=[lambda env, _: wrappers.RolloutInfoWrapper(env)],
    )


@train_imitation_ex.command
def bc(bc: dict[str, Any], _run: Any) -> Mapping[str, Any]:
    """Behavioural cloning on the demonstrations.

    Returns:
        ``imit_stats`` (the trained policy) and ``expert_stats`` (the
        demonstrations).
    """
    custom_logger, log_dir = logging_ingredient.setup_logging()
    expert_trajs = demonstrations.get_expert_trajectories()
    venv = _make_venv(log_dir)
    try:
        trainer = bc_ingredient.make_bc(venv, expert_trajs, custom_logger)
        kwargs = dict(bc["train_kwargs"])
        if kwargs.get("n_epochs") is None and kwargs.get("n_batches") is None:
            kwargs["n_epochs"] = 1
        trainer.train(**kwargs)
        util.save_policy(trainer.policy, log_dir / "final.th")
        return policy_evaluation.results(trainer.policy, venv, expert_trajs)
    finally:
        venv.close()


def _beta_schedule(config: Mapping[str, Any] | None) -> Any:
    if config is None:
        return None
    config = dict(config)
    cls = getattr(dagger_algorithm, str(config.pop("cls", "")), None)
    if not (isinstance(cls, type) and issubclass(cls, dagger_algorithm.BetaSchedule)):
        raise ValueError(
            "dagger.beta_schedule needs cls=LinearBetaSchedule or "
            f"ExponentialBetaSchedule (and its arguments); got {config}."
        )
    return cls(**config)


@train_imitation_ex.command
def dagger(
    bc: dict[str, Any], dagger: dict[str, Any], _run: Any, _seed: int
) -> Mapping[str, Any]:
    """DAgger with the ``expert`` labelling the learner's states.

    Returns:
        ``imit_stats`` and, with ``use_offline_rollouts``, ``expert_stats``.
    """
    custom_logger, log_dir = logging_ingredient.setup_logging()
    venv = _make_venv(log_dir)
    try:
        expert_trajs = None
        if dagger["use_offline_rollouts"]:
            expert_trajs = demonstrations.get_expert_trajectories()
        trainer = dagger_algorithm.SimpleDAggerTrainer(
            venv=venv,
            scratch_dir=log_dir / "scratch",
            expert_policy=expert.get_expert_policy(venv),
            rng=np.random.default_rng(_seed),
            expert_trajs=expert_trajs,
            bc_trainer=bc_ingredient.make_bc(venv, None, custom_logger),
            beta_schedule=_beta_schedule(dagger["beta_schedule"]),
            custom_logger=custom_logger,
        )
        bc_kwargs = {
            k: v for k, v in bc["train_kwargs"].items() if k in ("log_interval",)
        }
        trainer.train(
            int(dagger["total_timesteps"]),
            rollout_round_min_episodes=dagger["rollout_round_min_episodes"] or 3,
            bc_train_kwargs=bc_kwargs,
        )
        util.save_policy(trainer.policy, log_dir / "final.th")
        return policy_evaluation.results(trainer.policy, venv, expert_trajs)
    finally:
        venv.close()


@train_imitation_ex.command
def sqil() -> Mapping[str, Any]:
    """SQIL on the demonstrations.

    Returns:
        ``imit_stats`` and ``expert_stats``.
    """
    custom_logger, log_dir = logging_ingredient.setup_logging()
    expert_trajs = demonstrations.get_expert_trajectories()
    venv = _make_venv(log_dir)
    try:
        trainer = sqil_ingredient.make_sqil(venv, expert_trajs, custom_logger)
        sqil_ingredient.train_sqil(trainer)
        policy_serialize.save_stable_model(
            log_dir / "policies" / "final", trainer.rl_algo
        )
        return policy_evaluation.results(trainer.policy, venv, expert_trajs)
    finally:
        venv.close()


def main_console() -> None:
    """Entry point of ``imitation-train-imitation``."""
    run_console(train_imitation_ex, "train_imitation")


if __name__ == "__main__":  # pragma: no cover
    main_console()
