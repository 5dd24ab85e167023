"""Process collected trajectories: unwrap, summarise, flatten into transitions."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv

from imitation.data import types
from imitation.data.rollout.collection import (
    AnyPolicy,
    GenTrajTerminationFn,
    generate_trajectories,
    make_min_timesteps,
)


def unwrap_traj(traj: types.TrajectoryWithRew) -> types.TrajectoryWithRew:
    """Replace observations and rewards with those saved by ``RolloutInfoWrapper``.

    Args:
        traj: A complete episode whose last info has a ``"rollout"`` entry.

    Returns:
        The trajectory with the original (pre-wrapper) observations and rewards.

    Raises:
        ValueError: If the trajectory has no such info, or its lengths differ.
    """
    if traj.infos is None or "rollout" not in traj.infos[-1]:
        raise ValueError(
            "Cannot unwrap: the trajectory's last info has no 'rollout' entry. "
            "Wrap each env in RolloutInfoWrapper (e.g. make_vec_env(..., "
            "post_wrappers=[lambda env, _: RolloutInfoWrapper(env)])), or pass "
            "unwrap=False.",
        )
    saved = traj.infos[-1]["rollout"]
    return dataclasses.replace(
        traj,
        obs=types.maybe_wrap_in_dictobs(saved["obs"]),
        rews=np.asarray(saved["rews"], dtype=np.float64),
    )


def discounted_sum(arr: np.ndarray, gamma: float) -> np.ndarray | float:
    """Sum ``arr`` over its first (time) axis with weights ``gamma ** t``.

    Args:
        arr: Values, shape ``(T,) + extra``; ``T`` may be zero.
        gamma: Discount factor.

    Returns:
        The discounted sum, of shape ``extra``.
    """
    arr = np.asarray(arr)
    weights = np.power(gamma, np.arange(len(arr), dtype=np.float64))
    return np.tensordot(weights, arr, axes=(0, 0))


def _stats(prefix: str, values: np.ndarray) -> dict[str, float]:
    return {
        f"{prefix}_min": float(np.min(values)),
        f"{prefix}_mean": float(np.mean(values)),
        f"{prefix}_std": float(np.std(values)),
        f"{prefix}_max": float(np.max(values)),
    }


def rollout_stats(
    trajectories: Sequence[types.TrajectoryWithRew],
) -> Mapping[str, float]:
    """Summary statistics of episode returns and lengths.

    Args:
        trajectories: Trajectories with rewards.

    Returns:
        ``n_traj``, ``return_{min,mean,std,max}``, ``len_{min,mean,std,max}``;
        and when the trajectories' last infos carry SB3 ``Monitor`` episode data
        (``info["episode"]``), ``monitor_return_len`` and
        ``monitor_return_{min,mean,std,max}``: the returns of the unwrapped env.

    Raises:
        ValueError: If ``trajectories`` is empty.
    """
    if len(trajectories) == 0:
        raise ValueError("rollout_stats needs at least one trajectory.")
    out: dict[str, float] = {"n_traj": len(trajectories)}
    returns = np.array([float(np.sum(t.rews)) for t in trajectories])
    lengths = np.array([len(t) for t in trajectories])
    out.update(_stats("return", returns))
    out.update(_stats("len", lengths))
    monitor = [
        float(t.infos[-1]["episode"]["r"])
        for t in trajectories
        if t.infos is not None and "episode" in t.infos[-1]
    ]
    if monitor:
        out["monitor_return_len"] = len(monitor)
        out.update(_stats("monitor_return", np.array(monitor)))
    return out


def rollout(
    policy: AnyPolicy,
    venv: VecEnv,
    sample_until: GenTrajTerminationFn,
    rng: np.random.Generator,
    *,
    unwrap: bool = True,
    exclude_infos: bool = True,
    verbose: bool = True,
    **kwargs: Any,
) -> Sequence[types.TrajectoryWithRew]:
    """Collect trajectories, optionally unwrapped and without infos.

    Args:
        policy: See :func:`policy_to_callable`.
        venv: The environment.
        sample_until: Termination condition, e.g. from :func:`make_sample_until`.
        rng: Generator for the order of the returned trajectories.
        unwrap: Restore the observations and rewards recorded by
            ``RolloutInfoWrapper`` (see :func:`unwrap_traj`).
        exclude_infos: Drop the infos (saves memory and disk space).
        verbose: Log :func:`rollout_stats` of the collected trajectories.
        kwargs: Passed to :func:`generate_trajectories`
            (``deterministic_policy``).

    Returns:
        The trajectories.
    """
    trajs = generate_trajectories(policy, venv, sample_until, rng=rng, **kwargs)
    if unwrap:
        trajs = [unwrap_traj(t) for t in trajs]
    if verbose:
        logging.info("Rollout stats: %s", rollout_stats(trajs))
    if exclude_infos:
        trajs = [t.without_infos() for t in trajs]
    return trajs


def _per_step_layout(x: types.Observation) -> Any:
    """Per-step shape and dtype of ``x`` (by key for a ``DictObs``), comparable."""
    if isinstance(x, types.DictObs):
        return {k: (v.shape[1:], v.dtype) for k, v in x.items()}
    return (x.shape[1:], x.dtype)


def _describe_layout(layout: Any) -> str:
    if isinstance(layout, dict):
        keys = ", ".join(
            f"{k!r}: per-step shape {shape} and dtype {dtype}"
            for k, (shape, dtype) in layout.items()
        )
        return f"dict observations {{{keys}}}"
    shape, dtype = layout
    return f"per-step shape {shape} and dtype {dtype}"


def _check_same_layout(trajectories: Sequence[types.Trajectory]) -> None:
    """Raise ``ValueError`` unless all observations, and all actions, match.

    Raises:
        ValueError: Naming the first trajectory whose per-step shape or dtype
            of ``obs`` or ``acts`` differs from trajectory 0's, and both.
    """
    for field in ("obs", "acts"):
        expected = _per_step_layout(getattr(trajectories[0], field))
        for i, traj in enumerate(trajectories):
            got = _per_step_layout(getattr(traj, field))
            if got != expected:
                raise ValueError(
                    f"Cannot flatten trajectories with different {field}: "
                    f"trajectory {i} has {_describe_layout(got)}, but trajectory "
                    f"0 has {_describe_layout(expected)}. All trajectories must "
                    "come from the same observation and action spaces: convert "
                    "them to one shape and dtype first, or flatten each kind "
                    "separately.",
                )


def transition_arrays(
    trajectories: Sequence[types.Trajectory],
) -> tuple[types.Observation, np.ndarray, types.Observation, np.ndarray]:
    """The transitions of ``trajectories``, concatenated, as plain arrays.

    The unvalidated core of :func:`flatten_trajectories`, for hot paths over
    trajectories that are already validated (e.g. fragments of one dataset).

    Returns:
        ``(obs, acts, next_obs, dones)``; ``dones`` is True only at the last
        step of trajectories that are terminal.

    Raises:
        ValueError: If ``trajectories`` is empty.
    """
    if len(trajectories) == 0:
        raise ValueError("Cannot flatten an empty list of trajectories.")
    obs = types.concatenate_maybe_dictobs([t.obs[:-1] for t in trajectories])
    next_obs = types.concatenate_maybe_dictobs([t.obs[1:] for t in trajectories])
    acts = np.concatenate([t.acts for t in trajectories])
    lengths = np.array([len(t) for t in trajectories])
    dones = np.zeros(len(acts), dtype=bool)
    dones[np.cumsum(lengths) - 1] = [t.terminal for t in trajectories]
    return obs, acts, next_obs, dones


def _flatten(
    trajectories: Sequence[types.Trajectory],
) -> dict[str, Any]:
    if len(trajectories) == 0:
        raise ValueError("Cannot flatten an empty list of trajectories.")
    _check_same_layout(trajectories)
    obs, acts, next_obs, dones = transition_arrays(trajectories)
    infos = np.empty(len(acts), dtype=object)
    offset = 0
    for t in trajectories:
        if t.infos is None:
            infos[offset : offset + len(t)] = [{} for _ in range(len(t))]
        else:
            infos[offset : offset + len(t)] = t.infos
        offset += len(t)
    return {
        "obs": obs,
        "acts": acts,
        "infos": infos,
        "next_obs": next_obs,
        "dones": dones,
    }


def flatten_trajectories(trajectories: Iterable[types.Trajectory]) -> types.Transitions:
    """Flatten trajectories into one batch of transitions.

    ``dones`` is True only at the last step of trajectories that are terminal.
    Any iterable of trajectories is accepted (a generator too).

    Raises:
        ValueError: If ``trajectories`` is empty, or their observations or
            actions differ in per-step shape or dtype (the message names the
            first trajectory that differs from trajectory 0).
    """
    return types.Transitions(**_flatten(list(trajectories)))


def flatten_trajectories_with_rew(
    trajectories: Iterable[types.TrajectoryWithRew],
) -> types.TransitionsWithRew:
    """Like :func:`flatten_trajectories`, keeping the rewards.

    Raises:
        ValueError: As for :func:`flatten_trajectories`.
    """
    trajectories = list(trajectories)
    parts = _flatten(trajectories)
    rews = np.concatenate([t.rews for t in trajectories])
    return types.TransitionsWithRew(**parts, rews=rews)


def generate_transitions(
    policy: AnyPolicy,
    venv: VecEnv,
    n_timesteps: int,
    rng: np.random.Generator,
    *,
    truncate: bool = True,
    **kwargs: Any,
) -> types.TransitionsWithRew:
    """Collect at least ``n_timesteps`` transitions from ``policy`` in ``venv``.

    Whole episodes are collected (see :func:`generate_trajectories`) and
    flattened, so the last episodes usually overshoot ``n_timesteps``.

    Args:
        policy: See :func:`policy_to_callable`.
        venv: The environment.
        n_timesteps: Minimum number of transitions.
        rng: Generator used to shuffle the order of the episodes.
        truncate: Return exactly the first ``n_timesteps`` transitions (the
            rest of the collected episodes is dropped).
        kwargs: Passed to :func:`generate_trajectories`
            (``deterministic_policy``).

    Returns:
        The transitions, with rewards.

    Raises:
        ValueError: If ``n_timesteps`` is not positive.
    """
    trajectories = generate_trajectories(
        policy,
        venv,
        make_min_timesteps(n_timesteps),
        rng=rng,
        **kwargs,
    )
    transitions = flatten_trajectories_with_rew(trajectories)
    if truncate:
        transitions = transitions[:n_timesteps]
    return transitions
