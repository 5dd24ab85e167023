"""Exact finite-horizon planning in tabular MDPs, the core of MCE IRL.

Soft value iteration (:func:`mce_partition_fh`) and the state occupancy of a
time-dependent policy (:func:`mce_occupancy_measures`); conventions are in
:mod:`imitation.algorithms.mce_irl`.
"""

from __future__ import annotations

import numpy as np
import torch as th
from seals import base_envs


def _horizon(env: base_envs.BaseTabularModelPOMDP) -> int:
    """The environment's horizon, checked to be a positive integer.

    Raises:
        ValueError: If the horizon is ``None`` (infinite) or not a positive int.
    """
    horizon = getattr(env, "horizon", None)
    if (
        isinstance(horizon, bool)
        or not isinstance(horizon, int | np.integer)
        or horizon <= 0
    ):
        raise ValueError(
            f"MCE IRL needs a finite horizon, but env.horizon is {horizon!r}: build "
            "the tabular environment with horizon=<positive int>.",
        )
    return int(horizon)


def _checked_model(
    env: base_envs.BaseTabularModelPOMDP, discount: float
) -> tuple[int, np.ndarray]:
    """The horizon and transition matrix ``(S, A, S)`` to plan with.

    Raises:
        ValueError: If the horizon is not finite, or ``discount`` is outside
            (0, 1].
    """
    horizon = _horizon(env)
    if not 0.0 < discount <= 1.0:
        raise ValueError(f"discount must be in (0, 1], got {discount}.")
    return horizon, np.asarray(env.transition_matrix, dtype=np.float64)


def _state_action_reward(
    env: base_envs.BaseTabularModelPOMDP, reward: np.ndarray | None
) -> np.ndarray:
    """The expected reward of each (state, action), shape ``(n_states, n_actions)``.

    Raises:
        ValueError: If ``reward`` does not have one of the shapes
            ``(S,)``, ``(S, A)`` or ``(S, A, S)``.
    """
    trans = env.transition_matrix
    n_states, n_actions, _ = trans.shape
    r = np.asarray(env.reward_matrix if reward is None else reward, dtype=np.float64)
    if r.shape == (n_states,):
        return np.broadcast_to(r[:, None], (n_states, n_actions))
    if r.shape == (n_states, n_actions):
        return r
    if r.shape == trans.shape:
        return np.einsum("ijk,ijk->ij", trans, r)
    raise ValueError(
        f"reward has shape {r.shape}; for {n_states} states and {n_actions} "
        f"actions it must be ({n_states},), ({n_states}, {n_actions}) or "
        f"({n_states}, {n_actions}, {n_states}).",
    )


def _soft_backups(
    trans_flat: np.ndarray, r_sa: np.ndarray, horizon: int, exact_max: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Soft Bellman backups from ``V_H = 0``; returns ``(V, Q)``.

    The arrays are small, so the cost is per numpy call rather than per
    element: each step is a handful of in-place calls. The log-sum-exp is
    shifted by each state's first Q-value (no reduction needed), or by its
    maximum when ``exact_max`` (safe against overflow, one call more).
    """
    n_states, n_actions = r_sa.shape
    values = np.empty((horizon, n_states))
    q_values = np.empty((horizon, n_states, n_actions))
    q_flat = q_values.reshape(horizon, n_states * n_actions)  # a view
    ones = np.ones(n_actions)
    next_values = np.zeros(n_states)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(horizon - 1, -1, -1):
            np.matmul(trans_flat, next_values, out=q_flat[t])
            q = q_values[t]
            q += r_sa
            shift = q.max(axis=1) if exact_max else q[:, 0]
            v = values[t]
            np.log(np.exp(q - shift[:, None]) @ ones, out=v)
            v += shift
            next_values = v
    return values, q_values


def mce_partition_fh(
    env: base_envs.BaseTabularModelPOMDP,
    *,
    reward: np.ndarray | None = None,
    discount: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Soft value iteration over a finite horizon (the MCE partition function).

    Backwards from ``V_H = 0``: ``Q_t(s, a) = r(s, a) + discount * E[V_{t+1}(s')]``
    and ``V_t(s) = log sum_a exp Q_t(s, a)``; the soft-optimal policy is
    ``pi_t(a | s) = exp(Q_t(s, a) - V_t(s))``. Each step is a batched matrix
    product over all states and actions.

    Args:
        env: A tabular MDP with a finite horizon.
        reward: Reward per state ``(S,)``, per state-action ``(S, A)`` or per
            transition ``(S, A, S)``; defaults to ``env.reward_matrix``.
        discount: Discount factor in (0, 1].

    Returns:
        ``(V, Q, pi)`` of shapes ``(H, S)``, ``(H, S, A)`` and ``(H, S, A)``.

    Raises:
        ValueError: If the horizon is not finite, ``discount`` is outside
            (0, 1], or ``reward`` has the wrong shape.
    """
    horizon, trans = _checked_model(env, discount)
    r_sa = _state_action_reward(env, reward)
    n_states, n_actions = r_sa.shape
    # Discounting folded into the transition matrix: one product per step.
    trans_flat = discount * trans.reshape(n_states * n_actions, n_states)
    return soft_value_iteration(trans_flat, r_sa, horizon)


def soft_value_iteration(
    trans_flat: np.ndarray, r_sa: np.ndarray, horizon: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The core of :func:`mce_partition_fh`, on prepared arrays (no checks).

    Args:
        trans_flat: ``discount * T`` reshaped to ``(S * A, S)``.
        r_sa: Reward per state-action, ``(S, A)``.
        horizon: Number of steps.

    Returns:
        ``(V, Q, pi)`` as :func:`mce_partition_fh`.
    """
    values, q_values = _soft_backups(trans_flat, r_sa, horizon, exact_max=False)
    if not np.isfinite(values).all():
        # Shifting by the first action's Q overflowed (Q-values of one state
        # more than ~700 apart): redo it shifting by the row maximum.
        values, q_values = _soft_backups(trans_flat, r_sa, horizon, exact_max=True)
    pi = np.exp(q_values - values[:, :, None])
    return values, q_values, pi


def mce_occupancy_measures(
    env: base_envs.BaseTabularModelPOMDP,
    *,
    reward: np.ndarray | None = None,
    pi: np.ndarray | None = None,
    discount: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """State visitation of a time-dependent policy, computed exactly.

    ``D[0]`` is the initial state distribution and
    ``D[t+1](s') = sum_{s,a} D[t](s) pi_t(a | s) T(s, a, s')``.

    Args:
        env: A tabular MDP with a finite horizon.
        reward: Reward to plan for when ``pi`` is not given (see
            :func:`mce_partition_fh`; defaults to ``env.reward_matrix``).
        pi: Policy of shape ``(H, S, A)``; by default the soft-optimal policy
            for ``reward``.
        discount: Weight ``discount**t`` of step ``t`` in the summed measure.

    Returns:
        ``(D, Dcum)``: the per-step state distributions, shape ``(H, S)``, and
        the occupancy measure ``sum_t discount**t * D[t]``, shape ``(S,)``.

    Raises:
        ValueError: If the horizon is not finite, ``discount`` is outside
            (0, 1], or ``pi`` has the wrong shape.
    """
    horizon, trans = _checked_model(env, discount)
    n_states, n_actions, _ = trans.shape
    if pi is None:
        _, _, pi = mce_partition_fh(env, reward=reward, discount=discount)
    if pi.shape != (horizon, n_states, n_actions):
        raise ValueError(
            f"pi has shape {pi.shape}; expected (horizon, n_states, n_actions) = "
            f"{(horizon, n_states, n_actions)}.",
        )
    weights = discount ** np.arange(horizon, dtype=np.float64)
    return state_visitation(
        trans.reshape(n_states * n_actions, n_states),
        np.asarray(env.initial_state_dist, dtype=np.float64),
        pi,
        weights,
    )


def state_visitation(
    trans_flat: np.ndarray, initial: np.ndarray, pi: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The core of :func:`mce_occupancy_measures`, on prepared arrays (no checks).

    Args:
        trans_flat: ``T`` reshaped to ``(S * A, S)``.
        initial: Initial state distribution, ``(S,)``.
        pi: Policy, ``(H, S, A)``.
        weights: Weight of each step in the summed measure, ``(H,)``.

    Returns:
        ``(D, Dcum)`` as :func:`mce_occupancy_measures`.
    """
    horizon, n_states, n_actions = pi.shape
    dist = np.empty((horizon, n_states))
    dist[0] = initial
    state_action = np.empty((n_states, n_actions))
    state_action_flat = state_action.reshape(-1)  # a view
    # One matrix-vector product per step.
    for t in range(horizon - 1):
        np.multiply(dist[t][:, None], pi[t], out=state_action)
        np.matmul(state_action_flat, trans_flat, out=dist[t + 1])
    return dist, weights @ dist


def squeeze_r(r_output: th.Tensor) -> th.Tensor:
    """A reward net's output as a 1-D tensor of per-state rewards.

    Args:
        r_output: Rewards of shape ``(N,)`` or ``(N, 1)``.

    Returns:
        The rewards, shape ``(N,)``.

    Raises:
        ValueError: If ``r_output`` has any other shape.
    """
    if r_output.dim() == 2 and r_output.shape[1] == 1:
        return r_output[:, 0]
    if r_output.dim() != 1:
        raise ValueError(
            f"Expected rewards of shape (N,) or (N, 1), got {tuple(r_output.shape)}.",
        )
    return r_output
