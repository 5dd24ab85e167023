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
from stable_baselines3.common import preprocessing

from imitation.algorithms import dagger as dagger_algorithm
from imitation.data import wrappers
from imitation.policies import serialize as policy_serialize
from imitation.scripts._console import run_console
from imitation.scripts.config.train_imitation import train_imitation_ex
from imitation.scripts.ingredients import bc as bc_ingredient
from imitation.scripts.ingredients import demonstrations, policy_evaluation
from imitation.scripts.ingredients import environment as environment_ingredient
from imitation.scripts.ingredients import expert as expert_ingredient
from imitation.scripts.ingredients import logging as logging_ingredient
from imitation.scripts.ingredients import sqil as sqil_ingredient
from imitation.util import util

logger = logging.getLogger(__name__)


def _make_venv(log_dir: Any) -> Any:
    return environment_ingredient.make_venv(
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


def _within_bounds(bounds: Mapping[Any, Any]) -> Any:
    """``obs -> bool``: every entry ``obs[i]`` named in ``bounds`` is within it.

    Raises:
        ValueError: If ``bounds`` is not ``{index: [low, high]}``.
    """
    try:
        checks = [
            (int(i), float(low), float(high)) for i, (low, high) in bounds.items()
        ]
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(
            f"dagger.human.obs_bounds={bounds!r} must map observation indices to "
            "[low, high], e.g. {0: [-2.4, 2.4]}."
        ) from exc

    def within(obs: np.ndarray) -> bool:
        return all(low <= obs[i] <= high for i, low, high in checks)

    return within


def _human_dagger(
    venv: Any,
    bc: dict[str, Any],
    human_config: dict[str, Any],
    gym_id: str,
    seed: int,
    custom_logger: Any,
    log_dir: Any,
) -> Any:
    """DAgger with a person labelling in the browser; returns the trained policy."""
    from imitation.algorithms.preference_comparisons import human

    config = dict(human_config)
    label_log = config.pop("label_log") or log_dir / "human_labels.jsonl"
    total_labels = int(config.pop("total_labels"))
    train_kwargs = {
        "retrain_every": int(config.pop("retrain_every")),
        "timeout": config.pop("timeout"),
        "bc_train_kwargs": {
            key: bc["train_kwargs"][key]
            for key in ("n_epochs", "n_batches")
            if bc["train_kwargs"].get(key) is not None
        },
    }
    trainer_kwargs = {
        key: int(config.pop(key))
        for key in ("states_per_rollout", "max_pending", "context")
    }
    bounds = config.pop("obs_bounds")
    state_filter = None if bounds is None else _within_bounds(bounds)
    rng = np.random.default_rng(seed)
    # Pictures are shown as they are; other observations drawn by the env.
    renderer = (
        human.ImageRenderer()
        if preprocessing.is_image_space(venv.observation_space, check_channels=True)
        else environment_ingredient.gym_make_id(gym_id)
    )
    with human.HumanLabeller(
        renderer,
        label_log,
        venv.action_space,
        custom_logger=custom_logger,
        **config,
    ) as labeller:
        trainer = dagger_algorithm.HumanDAggerTrainer(
            venv=venv,
            labeller=labeller,
            bc_trainer=bc_ingredient.make_bc(venv, None, custom_logger),
            rng=rng,
            state_filter=state_filter,
            custom_logger=custom_logger,
            **trainer_kwargs,
        )
        trainer.train(total_labels, **train_kwargs)
    return trainer.policy


@train_imitation_ex.command
def dagger(
    bc: dict[str, Any],
    dagger: dict[str, Any],
    expert: dict[str, Any],
    environment: dict[str, Any],
    _run: Any,
    _seed: int,
) -> Mapping[str, Any]:
    """DAgger with the ``expert`` labelling the learner's states.

    With ``expert.policy_type=human`` a person is the expert: the run serves
    a labelling page (its URL, with the session token, is printed to the
    terminal) and trains on the labels given there (``dagger.human``).

    Returns:
        ``imit_stats``, ``random_stats`` and ``expert_stats`` (the
        demonstrations' with ``use_offline_rollouts``, else the expert
        policy's own evaluation; none for a human expert).
    """
    custom_logger, log_dir = logging_ingredient.setup_logging()
    venv = _make_venv(log_dir)
    try:
        if expert["policy_type"] == "human":
            policy = _human_dagger(
                venv,
                bc,
                dagger["human"],
                environment["gym_id"],
                _seed,
                custom_logger,
                log_dir,
            )
            util.save_policy(policy, log_dir / "final.th")
            return policy_evaluation.results(policy, venv, None)
        expert_trajs = None
        if dagger["use_offline_rollouts"]:
            expert_trajs = demonstrations.get_expert_trajectories()
        expert_policy = expert_ingredient.get_expert_policy(venv)
        trainer = dagger_algorithm.SimpleDAggerTrainer(
            venv=venv,
            scratch_dir=log_dir / "scratch",
            expert_policy=expert_policy,
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
        return policy_evaluation.results(
            trainer.policy, venv, expert_trajs, expert_policy
        )
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
