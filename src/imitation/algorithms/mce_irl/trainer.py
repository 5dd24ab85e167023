"""The MCE IRL algorithm: a reward whose soft-optimal policy visits like the expert."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch as th
from seals import base_envs
from stable_baselines3.common import policies

from imitation.algorithms import base as algo_base
from imitation.algorithms.mce_irl.planning import (
    _checked_model,
    soft_value_iteration,
    squeeze_r,
    state_visitation,
)
from imitation.algorithms.mce_irl.tabular_policy import TabularPolicy
from imitation.data import types
from imitation.rewards import reward_nets
from imitation.util import logger as imit_logger
from imitation.util import progress, util

MCEDemonstrations = np.ndarray | algo_base.AnyTransitions
"""A state occupancy measure, or trajectories / transitions with state observations."""


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

    Maximum Causal Entropy IRL: Ziebart, Bagnell and Dey, "Modeling Interaction
    via the Principle of Maximum Causal Entropy" (ICML 2010),
    https://www.cs.cmu.edu/~bziebart/publications/maximum-causal-entropy.pdf.
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
        self.horizon, trans = _checked_model(env, discount)
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
        self.rng = util.check_rng(rng)
        self.demo_state_om = None
        super().__init__(demonstrations=None, custom_logger=custom_logger)
        self.reward_net = reward_net
        self.optimizer = optimizer_cls(
            reward_net.parameters(), **dict(optimizer_kwargs or {})
        )
        self.linf_eps = linf_eps
        self.grad_l2_eps = grad_l2_eps
        self.log_interval = log_interval
        n_states, n_actions = env.state_dim, env.action_dim
        # Planning inputs, prepared once for all iterations.
        self._trans = trans.reshape(n_states * n_actions, n_states)
        self._trans_discounted = discount * self._trans
        self._initial = np.asarray(env.initial_state_dist, dtype=np.float64)
        self._step_weights = discount ** np.arange(self.horizon, dtype=np.float64)
        self._r_sa_shape = (n_states, n_actions)
        # The reward net's inputs never change: preprocess them once.
        obs_matrix = np.asarray(env.observation_matrix)
        self._net_inputs = reward_net.preprocess(
            obs_matrix,
            np.zeros(n_states, dtype=np.int64),
            obs_matrix,
            np.zeros(n_states, dtype=bool),
        )
        # Start from the uniformly random policy until training computes one.
        self._policy = TabularPolicy(
            state_space=env.state_space,
            action_space=env.action_space,
            pi=np.full((self.horizon, n_states, n_actions), 1.0 / n_actions),
            rng=rng,
        )
        if demonstrations is not None:
            self.set_demonstrations(demonstrations)

    def set_demonstrations(self, demonstrations: MCEDemonstrations) -> None:
        """Set the demonstrations, stored as the state occupancy measure.

        Args:
            demonstrations: See the constructor.

        Raises:
            ValueError: If an occupancy measure has the wrong shape or is not
                finite and non-negative; if observations are not states; if
                trajectories differ in length or are not ``env.horizon`` long;
                if ``discount < 1`` with transitions; or if they are empty.
            TypeError: If they are none of the accepted forms.
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
        demos = self._normalize_demonstrations(demonstrations)
        if demos.trajectories is not None:
            self.demo_state_om = self._om_from_trajectories(demos.trajectories)
        else:
            self.demo_state_om = self._om_from_transitions(demos.transitions.obs)

    def _om_from_trajectories(self, trajs: Sequence[types.Trajectory]) -> np.ndarray:
        lengths = {len(t) for t in trajs}
        if lengths != {self.horizon}:
            raise ValueError(
                f"Trajectories have lengths {sorted(lengths)}, but the "
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
        # Visits per episode: the transitions are assumed to be whole episodes.
        counts = np.bincount(states, minlength=n_states).astype(np.float64)
        return counts * (self.horizon / len(states))

    @property
    def policy(self) -> policies.BasePolicy:
        """The soft-optimal :class:`TabularPolicy` for the current reward."""
        return self._policy

    def _rewards(self) -> th.Tensor:
        return squeeze_r(self.reward_net(*self._net_inputs))

    def train(self, max_iter: int = 1000, progress_bar: bool = True) -> np.ndarray:
        """Run MCE IRL.

        Each iteration plans for the current reward, computes the policy's
        occupancy measure, and takes one optimizer step along
        ``sum_s (D_demo(s) - D_policy(s)) * grad r(s)``.

        Args:
            max_iter: Maximum number of iterations; training stops earlier once
                the occupancy gap is below ``linf_eps`` or the gradient norm is
                below ``grad_l2_eps``.
            progress_bar: Show a bar of the iterations (in a terminal only).

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
        demo_om = self.demo_state_om
        params = [p for p in self.reward_net.parameters() if p.requires_grad]
        self.reward_net.train()
        bar = progress.progress_bar(
            max_iter, desc="MCEIRL", unit="iteration", enabled=progress_bar
        )
        for it in range(max_iter):
            bar.update(1)
            self.optimizer.zero_grad()
            rewards = self._rewards()
            pi, om = self._plan(rewards)
            gap = om - demo_om
            # d(loss)/d(r) = D_policy - D_demo: descending it is ascending the
            # demonstrations' log-likelihood.
            rewards.backward(gradient=th.from_numpy(gap).to(rewards))
            grads = [p.grad for p in params if p.grad is not None]
            grad_norm = float(th.nn.utils.get_total_norm(grads)) if grads else 0.0
            linf_delta = float(np.abs(gap).max())
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
        bar.close()
        self._policy.set_pi(pi)
        return om

    def _plan(self, rewards: th.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Soft-optimal policy and its occupancy measure for per-state ``rewards``."""
        reward = rewards.detach().cpu().numpy().astype(np.float64)
        r_sa = np.broadcast_to(reward[:, None], self._r_sa_shape)
        _, _, pi = soft_value_iteration(self._trans_discounted, r_sa, self.horizon)
        _, om = state_visitation(self._trans, self._initial, pi, self._step_weights)
        return pi, om
