"""Maximum Causal Entropy inverse reinforcement learning on tabular MDPs.

MCE IRL (Ziebart's "Modeling Interaction via the Principle of Maximum Causal
Entropy") fits a reward so that the soft-optimal policy under it visits states
as often as the demonstrator does. For a tabular environment with known
dynamics and a finite horizon, both halves of the gradient are exact:

* :func:`mce_partition_fh` runs soft value iteration backwards in time, giving
  the time-dependent soft-optimal policy for a reward;
* :func:`mce_occupancy_measures` pushes the initial state distribution forward
  through that policy, giving the expected (optionally discounted) number of
  visits to each state.

The reward gradient is then ``sum_s (D_demo(s) - D_policy(s)) * grad r(s)``.
The reward is a network on the environment's observations (for example
gridworld coordinates), which gives a useful inductive bias; the policy is a
table over states (:class:`TabularPolicy`), since planning needs no function
approximation.

Conventions: an episode visits states ``s_0 .. s_{H-1}`` (``H`` is the
horizon), the reward of a step is the reward of the state it starts in, and
``D[t, s]`` is the probability of being in ``s`` at step ``t``. The occupancy
measure sums ``discount**t * D[t]`` over those ``H`` steps, so with
``discount=1`` it has total mass ``H``. Demonstrations are counted the same
way: the observation after the final action is not counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from seals import base_envs
from stable_baselines3.common import policies

from imitation.algorithms import base as algo_base
from imitation.data import types
from imitation.rewards import reward_nets
from imitation.util import logger as imit_logger
from imitation.util import util

MCEDemonstrations = np.ndarray | algo_base.AnyTransitions
"""A state occupancy measure, or trajectories / transitions with state observations."""


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


def _check_discount(discount: float) -> None:
    if not 0.0 < discount <= 1.0:
        raise ValueError(f"discount must be in (0, 1], got {discount}.")


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
            shift = q.max(axis=1) if exact_max else q[:, 0].copy()
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
    horizon = _horizon(env)
    _check_discount(discount)
    trans = np.asarray(env.transition_matrix, dtype=np.float64)
    r_sa = _state_action_reward(env, reward)
    n_states, n_actions = r_sa.shape
    # Discounting folded into the transition matrix: one product per step.
    trans_flat = discount * trans.reshape(n_states * n_actions, n_states)
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
    horizon = _horizon(env)
    _check_discount(discount)
    trans = np.asarray(env.transition_matrix, dtype=np.float64)
    n_states, n_actions, _ = trans.shape
    if pi is None:
        _, _, pi = mce_partition_fh(env, reward=reward, discount=discount)
    if pi.shape != (horizon, n_states, n_actions):
        raise ValueError(
            f"pi has shape {pi.shape}; expected (horizon, n_states, n_actions) = "
            f"{(horizon, n_states, n_actions)}.",
        )
    dist = np.empty((horizon, n_states))
    dist[0] = env.initial_state_dist
    # T reshaped to (S*A, S): one matrix-vector product per step.
    trans_flat = trans.reshape(n_states * n_actions, n_states)
    state_action = np.empty((n_states, n_actions))
    state_action_flat = state_action.reshape(-1)  # a view
    for t in range(horizon - 1):
        np.multiply(dist[t][:, None], pi[t], out=state_action)
        np.matmul(state_action_flat, trans_flat, out=dist[t + 1])
    weights = discount ** np.arange(horizon, dtype=np.float64)
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


class TabularPolicy(policies.BasePolicy):
    """A time-dependent stochastic policy given as a table ``pi[t, state, action]``.

    Observations are state indices (e.g. from
    ``seals.base_envs.ExposePOMDPStateWrapper``). The timestep of each
    environment is carried in ``predict``'s recurrent ``state``: it starts at
    0 where ``episode_start`` is True and advances by one per call. Past the
    table's last step, the last step's distribution is used (the episode is
    then longer than the horizon the table was planned for).
    """

    def __init__(
        self,
        state_space: gym.Space,
        action_space: gym.Space,
        pi: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        """Build the policy.

        Args:
            state_space: The environment's state space (``Discrete``).
            action_space: The environment's action space (``Discrete``).
            pi: Action probabilities, shape ``(H, n_states, n_actions)``.
            rng: Generator for sampling actions.

        Raises:
            TypeError: If either space is not ``Discrete``.
            ValueError: If ``pi`` has the wrong shape or is not a distribution
                over actions.
        """
        if not isinstance(state_space, gym.spaces.Discrete) or not isinstance(
            action_space, gym.spaces.Discrete
        ):
            raise TypeError(
                "TabularPolicy needs Discrete state and action spaces, got "
                f"{state_space} and {action_space}.",
            )
        super().__init__(state_space, action_space)  # type: ignore[arg-type]
        self.rng = rng
        self.set_pi(pi)

    def set_pi(self, pi: np.ndarray) -> None:
        """Replace the action probabilities.

        Raises:
            ValueError: If ``pi`` has the wrong shape or its rows do not sum to 1.
        """
        n_states = int(self.observation_space.n)  # type: ignore[attr-defined]
        n_actions = int(self.action_space.n)  # type: ignore[attr-defined]
        if pi.ndim != 3 or pi.shape[1:] != (n_states, n_actions):
            raise ValueError(
                f"pi has shape {pi.shape}; expected (horizon, {n_states}, "
                f"{n_actions}).",
            )
        if not np.allclose(pi.sum(axis=-1), 1.0, atol=1e-5) or (pi < 0).any():
            raise ValueError(
                "pi[t, s] must be a probability distribution over actions."
            )
        self.pi = pi
        # Cumulative probabilities, last column forced to 1: sampling is then
        # one comparison against a uniform draw per environment.
        cdf = np.cumsum(pi, axis=-1)
        cdf[..., -1] = 1.0
        self._cdf = cdf

    def _predict(self, observation: Any, deterministic: bool = False) -> th.Tensor:
        """Refused: the policy depends on the timestep, which only ``predict`` has.

        Raises:
            TypeError: Always; call :meth:`predict` with ``state`` and
                ``episode_start`` instead.
        """
        raise TypeError(
            "TabularPolicy is time-dependent: call predict(obs, state, "
            "episode_start) so it can track each environment's timestep.",
        )

    def predict(
        self,
        observation: Any,
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """Actions for a batch of states.

        Args:
            observation: State indices, shape ``(n_envs,)`` (or a single int).
            state: ``(timesteps,)`` returned by the previous call, or None at
                the start (every environment at step 0).
            episode_start: Environments whose episode starts now (their
                timestep is reset to 0).
            deterministic: Take the most likely action instead of sampling.

        Returns:
            The actions, and the new recurrent state ``(timesteps,)``.

        Raises:
            ValueError: If an observation is not a valid state index.
        """
        obs = np.asarray(observation)
        single = obs.ndim == 0
        states = obs.reshape(-1)
        n_states = self._cdf.shape[1]
        if states.dtype.kind not in "iu" or (
            len(states) and (states.min() < 0 or states.max() >= n_states)
        ):
            raise ValueError(
                "TabularPolicy observations must be state indices in "
                f"[0, {n_states}); got {obs!r}. Wrap the environment in "
                "seals.base_envs.ExposePOMDPStateWrapper to observe states.",
            )
        if state is None:
            timesteps = np.zeros(len(states), dtype=np.int64)
        else:
            timesteps = np.array(state[0], dtype=np.int64)
        if episode_start is not None:
            timesteps[np.asarray(episode_start, dtype=bool).reshape(-1)] = 0
        t = np.minimum(timesteps, len(self.pi) - 1)
        if deterministic:
            actions = self.pi[t, states].argmax(axis=-1)
        else:
            draws = self.rng.random(len(states))
            actions = (self._cdf[t, states] < draws[:, None]).sum(axis=-1)
        if single:
            return actions[0], (timesteps + 1,)
        return actions, (timesteps + 1,)


def _observed_states(obs: Any, n_states: int) -> np.ndarray:
    """State indices from demonstration observations (indices or one-hot rows).

    Raises:
        ValueError: If the observations are neither valid state indices nor
            one-hot vectors over the states.
    """
    arr = np.asarray(obs)
    if arr.ndim == 1 and arr.dtype.kind in "iu":
        if len(arr) and (arr.min() < 0 or arr.max() >= n_states):
            raise ValueError(
                f"Demonstration states must lie in [0, {n_states}); got values "
                f"from {arr.min()} to {arr.max()}.",
            )
        return arr.astype(np.int64)
    if arr.ndim == 2 and arr.shape[1] == n_states:
        ones = arr == 1
        if ((arr == 0) | ones).all() and (ones.sum(axis=1) == 1).all():
            return ones.argmax(axis=1)
    raise ValueError(
        f"MCE IRL demonstrations must observe states: state indices or one-hot "
        f"vectors of length {n_states}, but got observations of shape "
        f"{arr.shape} and dtype {arr.dtype}. Collect them in an env wrapped in "
        "seals.base_envs.ExposePOMDPStateWrapper, or pass a state occupancy "
        "measure instead.",
    )


class MCEIRL(algo_base.DemonstrationAlgorithm[types.TransitionsMinimal]):
    """Tabular MCE IRL: a reward on observations, a policy over states.

    ``demo_state_om`` is the demonstrator's state occupancy measure that
    training matches.
    """

    demo_state_om: np.ndarray | None

    def __init__(
        self,
        demonstrations: MCEDemonstrations | None,
        env: base_envs.TabularModelPOMDP,
        reward_net: reward_nets.RewardNet,
        rng: np.random.Generator,
        optimizer_cls: type[th.optim.Optimizer] = th.optim.Adam,
        optimizer_kwargs: Mapping[str, Any] | None = None,
        discount: float = 1.0,
        linf_eps: float = 1e-3,
        grad_l2_eps: float = 1e-4,
        log_interval: int | None = 100,
        *,
        custom_logger: imit_logger.HierarchicalLogger | None = None,
    ) -> None:
        """Build MCE IRL.

        Args:
            demonstrations: A state occupancy measure (shape ``(n_states,)``,
                discounted like ``discount``), trajectories, transitions, or an
                iterable of transition batches. Trajectories and transitions
                must observe states (indices or one-hot vectors).
            env: A tabular MDP with a finite horizon and an
                ``observation_matrix`` (the reward net's inputs per state).
            reward_net: Reward on observations; its output must depend only
                on the state (not on the action, next state or done flag).
            rng: Generator for the policy's action sampling.
            optimizer_cls: Optimizer for the reward net.
            optimizer_kwargs: Its keyword arguments.
            discount: Discount of the occupancy measures. Below 1, the
                demonstrations must be an occupancy measure or trajectories
                (transitions carry no timesteps to discount by).
            linf_eps: Stop once the largest absolute difference between the
                demonstrator's and the policy's occupancy falls below this.
            grad_l2_eps: Stop once the reward gradient's L2 norm falls below this.
            log_interval: Log every this many iterations; None disables.
            custom_logger: Where to log to; if None, a new logger is created.

        Raises:
            ValueError: If the horizon is not finite, ``discount`` is outside
                (0, 1], the reward net uses actions, next states or dones, or
                the demonstrations are invalid (see :meth:`set_demonstrations`).
        """
        self.discount = discount
        self.env = env
        self.horizon = _horizon(env)
        _check_discount(discount)
        if log_interval is not None and log_interval <= 0:
            raise ValueError(
                f"log_interval must be positive or None, not {log_interval}."
            )
        for flag in ("use_action", "use_next_state", "use_done"):
            if getattr(reward_net, flag, False):
                raise ValueError(
                    f"MCE IRL learns a reward of the state only; build the reward "
                    f"net with {flag}=False.",
                )
        self.rng = rng
        self.demo_state_om = None
        super().__init__(demonstrations=demonstrations, custom_logger=custom_logger)
        self.reward_net = reward_net
        self.optimizer = optimizer_cls(
            reward_net.parameters(), **dict(optimizer_kwargs or {})
        )
        self.linf_eps = linf_eps
        self.grad_l2_eps = grad_l2_eps
        self.log_interval = log_interval
        n_states = env.state_dim
        # The reward net's inputs never change: preprocess them once.
        obs_matrix = np.asarray(env.observation_matrix)
        self._net_inputs = reward_net.preprocess(
            obs_matrix,
            np.zeros(n_states, dtype=np.int64),
            obs_matrix,
            np.zeros(n_states, dtype=bool),
        )
        # Start from the uniformly random policy until training computes one.
        n_actions = env.action_dim
        self._policy = TabularPolicy(
            state_space=env.state_space,
            action_space=env.action_space,
            pi=np.full((self.horizon, n_states, n_actions), 1.0 / n_actions),
            rng=rng,
        )

    def set_demonstrations(self, demonstrations: MCEDemonstrations) -> None:
        """Set the demonstrations, stored as the state occupancy measure.

        Args:
            demonstrations: See the constructor.

        Raises:
            ValueError: If an occupancy measure has the wrong shape or is not
                finite and non-negative; if observations are not states; if
                trajectories differ in length or are not ``env.horizon`` long;
                if ``discount < 1`` with transitions; or if they are empty.
        """
        n_states = self.env.state_dim
        if isinstance(demonstrations, np.ndarray):
            om = demonstrations.astype(np.float64)
            if om.shape != (n_states,):
                raise ValueError(
                    f"An occupancy measure must have shape ({n_states},), got "
                    f"{om.shape}.",
                )
            if not np.isfinite(om).all() or (om < 0).any():
                raise ValueError("The occupancy measure must be finite and >= 0.")
            self.demo_state_om = om
            return
        if isinstance(demonstrations, types.TransitionsMinimal):
            self.demo_state_om = self._om_from_transitions(demonstrations.obs)
            return
        try:
            first, items = util.get_first_iter_element(
                demonstrations  # type: ignore[arg-type]
            )
        except ValueError as exc:
            raise ValueError("The demonstrations are empty.") from exc
        if isinstance(first, types.Trajectory):
            self.demo_state_om = self._om_from_trajectories(list(items))  # type: ignore[arg-type]
            return
        if isinstance(first, Mapping):
            obs = [util.safe_to_numpy(batch["obs"]) for batch in items]  # type: ignore[index]
            self.demo_state_om = self._om_from_transitions(np.concatenate(obs))
            return
        raise TypeError(
            "demonstrations must be an occupancy measure (np.ndarray), "
            "trajectories, TransitionsMinimal, or batches of transitions; got "
            f"an iterable of {type(first).__name__}.",
        )

    def _om_from_trajectories(self, trajs: list[types.Trajectory]) -> np.ndarray:
        lengths = [len(t) for t in trajs]
        self._check_fixed_horizon(lengths)
        if set(lengths) != {self.horizon}:
            raise ValueError(
                f"Trajectories have lengths {sorted(set(lengths))}, but the "
                f"environment's horizon is {self.horizon}: MCE IRL compares "
                "occupancy over whole episodes.",
            )
        n_states = self.env.state_dim
        # Every trajectory has H actions; obs[:-1] are the states acted in.
        states = np.concatenate([_observed_states(t.obs[:-1], n_states) for t in trajs])
        weights = np.tile(self.discount ** np.arange(self.horizon), len(trajs))
        return np.bincount(states, weights=weights, minlength=n_states) / len(trajs)

    def _om_from_transitions(self, obs: Any) -> np.ndarray:
        if self.discount != 1.0:
            raise ValueError(
                f"discount={self.discount} needs trajectories or an occupancy "
                "measure: transitions carry no timesteps to discount by.",
            )
        n_states = self.env.state_dim
        states = _observed_states(obs, n_states)
        if len(states) == 0:
            raise ValueError("The demonstrations are empty.")
        # Visits per episode: the transitions are assumed to be whole episodes.
        counts = np.bincount(states, minlength=n_states).astype(np.float64)
        return counts * (self.horizon / len(states))

    @property
    def policy(self) -> policies.BasePolicy:
        """The soft-optimal :class:`TabularPolicy` for the current reward."""
        return self._policy

    def _rewards(self) -> th.Tensor:
        return squeeze_r(self.reward_net(*self._net_inputs))

    def train(self, max_iter: int = 1000) -> np.ndarray:
        """Run MCE IRL.

        Each iteration plans for the current reward, computes the policy's
        occupancy measure, and takes one optimizer step along
        ``sum_s (D_demo(s) - D_policy(s)) * grad r(s)``.

        Args:
            max_iter: Maximum number of iterations; training stops earlier once
                the occupancy gap is below ``linf_eps`` or the gradient norm is
                below ``grad_l2_eps``.

        Returns:
            The state occupancy measure of the soft-optimal policy for the final
            reward. ``reward_net``, ``optimizer`` and ``policy`` are updated in
            place.

        Raises:
            ValueError: If no demonstrations were set or ``max_iter`` < 1.
        """
        if self.demo_state_om is None:
            raise ValueError("No demonstrations: call set_demonstrations() first.")
        if max_iter < 1:
            raise ValueError(f"max_iter must be at least 1, got {max_iter}.")
        demo_om = th.as_tensor(self.demo_state_om, dtype=th.float32)
        params = [p for p in self.reward_net.parameters() if p.requires_grad]
        self.reward_net.train()
        for it in range(max_iter):
            self.optimizer.zero_grad()
            rewards = self._rewards()
            pi, om = self._plan(rewards)
            gap = th.as_tensor(om, dtype=th.float32) - demo_om
            # d(loss)/d(r) = D_policy - D_demo: descending it is ascending the
            # demonstrations' log-likelihood.
            (gap.to(rewards.device) * rewards).sum().backward()
            grads = [p.grad for p in params if p.grad is not None]
            grad_norm = float(util.tensor_iter_norm(grads)) if grads else 0.0
            linf_delta = float(gap.abs().max())
            converged = linf_delta <= self.linf_eps or grad_norm <= self.grad_l2_eps
            if self.log_interval is not None and (
                it % self.log_interval == 0 or converged
            ):
                self.logger.record("iteration", it)
                self.logger.record("grad_norm", grad_norm)
                self.logger.record("linf_delta", linf_delta)
                self.logger.record("weight_norm", float(util.tensor_iter_norm(params)))
                self.logger.dump(it)
            if converged:
                break
            self.optimizer.step()
        else:
            # The last step changed the reward: plan once more for it.
            with th.no_grad():
                pi, om = self._plan(self._rewards())
        self._policy.set_pi(pi)
        return om

    def _plan(self, rewards: th.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Soft-optimal policy and its occupancy measure for per-state ``rewards``."""
        reward_np = rewards.detach().cpu().numpy().astype(np.float64)
        _, _, pi = mce_partition_fh(self.env, reward=reward_np, discount=self.discount)
        _, om = mce_occupancy_measures(self.env, pi=pi, discount=self.discount)
        return pi, om
