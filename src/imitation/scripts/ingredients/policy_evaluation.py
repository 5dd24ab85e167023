"""Evaluating a trained policy (``policy_evaluation``)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sacred
from stable_baselines3.common.vec_env import VecEnv

from imitation.data import rollout, types

policy_evaluation_ingredient = sacred.Ingredient(
    "policy_evaluation", _caller_globals=globals(), save_git_info=False
)


@policy_evaluation_ingredient.config
def config() -> None:
    """How many episodes to evaluate on."""
    n_episodes_eval = 50  # at least this many episodes


@policy_evaluation_ingredient.named_config
def fast() -> None:
    """One episode, for smoke tests."""
    n_episodes_eval = 1


def _rollout_stats(
    policy: Any, venv: VecEnv, n_episodes: int, seed: int
) -> Mapping[str, float]:
    trajs = rollout.generate_trajectories(
        policy,
        venv,
        rollout.make_min_episodes(n_episodes),
        rng=np.random.default_rng(seed),
    )
    trajs = [
        rollout.unwrap_traj(t)
        if t.infos is not None and "rollout" in t.infos[-1]
        else t
        for t in trajs
    ]
    return rollout.rollout_stats(trajs)


@policy_evaluation_ingredient.capture
def eval_policy(
    policy: Any, venv: VecEnv, n_episodes_eval: int, _seed: int
) -> Mapping[str, float]:
    """Rollout statistics of ``policy`` (stochastic actions) on ``venv``.

    Where the environments are wrapped in ``RolloutInfoWrapper``, returns are
    the environment's own (before reward wrappers or normalisation).

    Returns:
        :func:`imitation.data.rollout.rollout_stats` of at least
        ``n_episodes_eval`` episodes (``monitor_return_*`` when ``venv``'s
        environments have SB3 monitors).
    """
    return _rollout_stats(policy, venv, n_episodes_eval, _seed)


@policy_evaluation_ingredient.capture
def eval_random_policy(
    venv: VecEnv, n_episodes_eval: int, _seed: int
) -> Mapping[str, float]:
    """Rollout statistics of uniformly random actions on ``venv``.

    The baseline of normalised scores, ``(score - random) / (expert -
    random)``. Actions are drawn from a copy of ``venv``'s action space seeded
    with the run's seed, so the same seed gives the same statistics.

    Returns:
        Statistics as :func:`eval_policy`'s.
    """
    space = copy.deepcopy(venv.action_space)
    space.seed(_seed)
    n_envs = venv.num_envs

    def random_actions(obs: Any, state: Any, episode_start: Any) -> tuple[Any, Any]:
        return np.stack([space.sample() for _ in range(n_envs)]), state

    return _rollout_stats(random_actions, venv, n_episodes_eval, _seed)


def expert_stats(trajs: Sequence[types.Trajectory]) -> dict[str, float] | None:
    """Statistics of the demonstrations, or None if they have no rewards.

    Saved demonstrations hold the environment's own rewards of whole episodes,
    so their ``monitor_return_*`` entries (what a monitor would have recorded,
    compared with the learner's) are their returns.
    """
    with_rews = [t for t in trajs if isinstance(t, types.TrajectoryWithRew)]
    if not with_rews or len(with_rews) != len(trajs):
        return None
    stats = dict(rollout.rollout_stats(with_rews))
    stats["monitor_return_len"] = stats["n_traj"]
    for suffix in ("min", "mean", "std", "max"):
        stats[f"monitor_return_{suffix}"] = stats[f"return_{suffix}"]
    return stats


def results(
    policy: Any,
    venv: VecEnv,
    trajs: Sequence[types.Trajectory] | None,
    expert_policy: Any = None,
) -> dict[str, Any]:
    """A training run's result: ``imit_stats``, ``random_stats`` and ``expert_stats``.

    ``random_stats`` are :func:`eval_random_policy`'s (the baseline of
    normalised scores). ``expert_stats`` are the demonstrations' statistics;
    without demonstrations (DAgger queries its expert instead), those of
    ``expert_policy`` evaluated as the learner is; left out when neither is
    known or the demonstrations have no rewards.
    """
    out: dict[str, Any] = {"imit_stats": eval_policy(policy, venv)}
    out["random_stats"] = eval_random_policy(venv)
    if trajs is not None:
        demo_stats = expert_stats(trajs)
    elif expert_policy is not None:
        demo_stats = dict(eval_policy(expert_policy, venv))
    else:
        demo_stats = None
    if demo_stats is not None:
        out["expert_stats"] = demo_stats
    return out
