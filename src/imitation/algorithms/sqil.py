"""Soft Q Imitation Learning (SQIL) on any Stable-Baselines3 off-policy learner.

Every batch the learner samples is half expert transitions with reward 1 and
half of its own transitions with reward 0: it learns to reach and stay in the
states the expert visits. The learner is an SB3 off-policy algorithm whose
replay buffer is a :class:`SQILReplayBuffer`: for discrete actions by default
:class:`SoftDQN` (DQN with the soft Q-learning update of the SQIL paper);
SB3's DQN, SAC, TD3, DDPG and the like work too.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3 import DQN
from stable_baselines3.common import off_policy_algorithm, policies
from stable_baselines3.common.buffers import DictReplayBuffer, ReplayBuffer
from stable_baselines3.common.utils import polyak_update
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from imitation.algorithms import base as algo_base
from imitation.data import types
from imitation.policies.replay_buffer_wrapper import ReplayBufferRewardWrapper
from imitation.util import logger as imit_logger
from imitation.util import progress, sb3_compat, util


def _zero_reward(
    state: Any, action: np.ndarray, next_state: Any, done: np.ndarray
) -> np.ndarray:
    return np.zeros(len(done), dtype=np.float32)


class SQILReplayBuffer(ReplayBufferRewardWrapper):
    """A replay buffer whose batches are half expert (reward 1), half agent (reward 0).

    The learner's own transitions are stored as usual (in an inner SB3
    ``ReplayBuffer``, or ``DictReplayBuffer`` for dict observations); the
    demonstrations live in :attr:`expert_buffer`.
    """

    def __init__(
        self,
        buffer_size: int,
        observation_space: gym.Space,
        action_space: gym.Space,
        demonstrations: algo_base.AnyTransitions,
        **kwargs: Any,
    ) -> None:
        """Build the agent and expert buffers.

        Args:
            buffer_size: Capacity for the agent's transitions.
            observation_space: Observation space.
            action_space: Action space.
            demonstrations: Expert demonstrations with next observations
                and dones (see :meth:`SQILReplayBuffer.set_demonstrations`).
            kwargs: Passed to the SB3 buffer (``device``, ``n_envs``, ...).
        """
        buffer_class = (
            DictReplayBuffer
            if isinstance(observation_space, gym.spaces.Dict)
            else ReplayBuffer
        )
        super().__init__(
            buffer_size,
            observation_space,
            action_space,
            replay_buffer_class=buffer_class,
            reward_fn=_zero_reward,
            unscale_actions=False,
            **kwargs,
        )
        self._buffer_class = buffer_class
        self.expert_buffer: ReplayBuffer
        self.set_demonstrations(demonstrations)

    def set_demonstrations(self, demonstrations: algo_base.AnyTransitions) -> None:
        """Replace the expert transitions.

        Args:
            demonstrations: In any accepted form (see
                :func:`imitation.algorithms.base.normalize_demonstrations`)
                that has next observations and dones: trajectories,
                ``Transitions``, or batches with ``next_obs`` and ``dones``.

        Raises:
            ValueError: If they are empty, do not fit the spaces, or lack next
                observations and dones.
            TypeError: If they are none of the accepted forms.
        """
        transitions = algo_base.normalize_demonstrations(
            demonstrations, self.observation_space, self.action_space
        ).transitions
        if not isinstance(transitions, types.Transitions):
            raise ValueError(
                "SQIL needs next observations and dones, which these "
                f"demonstrations ({type(demonstrations).__name__}) lack: pass "
                "trajectories, a types.Transitions object, or batches with "
                "'next_obs' and 'dones'.",
            )
        n = len(transitions)
        expert = self._buffer_class(
            n,
            self.observation_space,  # type: ignore[arg-type]
            self.action_space,
            device=self.device,
            n_envs=1,
            handle_timeout_termination=False,
        )
        acts = transitions.acts
        if isinstance(self.action_space, gym.spaces.Box):
            # Off-policy learners store Box actions rescaled to [-1, 1].
            low, high = self.action_space.low, self.action_space.high
            acts = 2.0 * (acts - low) / (high - low) - 1.0
        expert.actions[:, 0] = acts.reshape(n, -1)
        expert.dones[:, 0] = transitions.dones
        expert.rewards[:, 0] = 1.0
        for name, obs in (
            ("observations", transitions.obs),
            ("next_observations", transitions.next_obs),
        ):
            target = getattr(expert, name)
            if isinstance(obs, types.DictObs):
                for key, value in obs.items():
                    target[key][:, 0] = value.reshape(target[key][:, 0].shape)
            else:
                target[:, 0] = obs.reshape(target[:, 0].shape)
        expert.full = True
        self.expert_buffer = expert

    def sample(self, batch_size: int, env: VecNormalize | None = None) -> Any:
        """Half agent transitions (reward 0), half expert transitions (reward 1)."""
        n_agent, n_expert = util.split_in_half(batch_size)
        agent = self.replay_buffer.sample(n_agent, env)
        expert = self.expert_buffer.sample(n_expert, env)
        agent = agent._replace(rewards=th.zeros_like(agent.rewards))
        expert = expert._replace(rewards=th.ones_like(expert.rewards))
        return type(agent)(*(self._cat(a, e) for a, e in zip(agent, expert)))

    @staticmethod
    def _cat(agent: Any, expert: Any) -> Any:
        if agent is None:  # optional fields, e.g. n-step discounts
            return None
        if isinstance(agent, dict):
            return {k: th.cat([agent[k], expert[k].to(agent[k].dtype)]) for k in agent}
        return th.cat([agent, expert.to(agent.dtype)])


def soft_value(q_values: th.Tensor, ent_coef: float) -> th.Tensor:
    """Soft state values ``ent_coef * logsumexp(Q / ent_coef)`` over the last axis.

    This is the value of the Boltzmann policy ``pi(a|s) ∝ exp(Q(s, a) / ent_coef)``
    under entropy regularisation: it exceeds ``max_a Q`` by at most
    ``ent_coef * log(n_actions)`` and tends to it as ``ent_coef`` goes to 0;
    ``ent_coef=0`` gives the hard max.

    Args:
        q_values: Q-values, actions on the last axis.
        ent_coef: The temperature (entropy coefficient); at least 0.

    Returns:
        The values, shape ``q_values.shape[:-1]``.

    Raises:
        ValueError: If ``ent_coef`` is negative.
    """
    if ent_coef < 0:
        raise ValueError(f"ent_coef must be >= 0, got {ent_coef}.")
    if ent_coef == 0:
        return q_values.max(dim=-1).values
    return ent_coef * th.logsumexp(q_values / ent_coef, dim=-1)


class SoftDQN(DQN):
    """DQN with soft Q-learning targets and Boltzmann exploration.

    The update of soft Q-learning (Haarnoja et al. 2017), as the SQIL paper
    uses it for discrete actions: the TD target bootstraps from the soft value
    ``ent_coef * logsumexp(Q_target(s', .) / ent_coef)`` (:func:`soft_value`)
    instead of ``max_a Q_target(s', a)``. When collecting data, actions are
    drawn from ``softmax(Q(s, .) / ent_coef)`` (and, with the usual DQN
    probability ``exploration_rate``, uniformly at random); ``deterministic``
    prediction, and :attr:`policy` itself, take the greedy action. Everything
    else (network, target updates, Huber loss, gradient clipping, n-step
    returns) is SB3's DQN.

    With ``twin_q`` (the default) there is a second Q-network,
    :attr:`q_net2`, with its own target network and optimizer, as in SAC's
    clipped double Q-learning: both networks regress on the same target,
    which takes the soft value of the element-wise minimum of the two target
    networks' Q-values. Over-estimation has to appear in both networks at
    once to enter the target, which damps the run-away of Q-values on states
    only the agent visits (see ``docs/benchmarks.md``). The policy acts on
    :attr:`q_net`; the second network is updated on the same schedule
    (``target_update_interval``, ``tau``) and learning rate.
    """

    q_net2: th.nn.Module
    q_net2_target: th.nn.Module
    optimizer2: th.optim.Optimizer

    def __init__(
        self,
        *args: Any,
        ent_coef: float = 1.0,
        twin_q: bool = True,
        **kwargs: Any,
    ) -> None:
        """Build the learner.

        Args:
            args: Positional arguments of ``DQN`` (``policy``, ``env``, ...).
            ent_coef: Temperature of the soft value and of the Boltzmann
                exploration; 0 gives DQN's hard max (and greedy actions).
            twin_q: Learn two Q-networks and bootstrap from the minimum of
                their targets (clipped double Q-learning).
            kwargs: Keyword arguments of ``DQN``.

        Raises:
            ValueError: If ``ent_coef`` is negative.
        """
        if ent_coef < 0:
            raise ValueError(f"ent_coef must be >= 0, got {ent_coef}.")
        self.ent_coef = float(ent_coef)
        self.twin_q = bool(twin_q)
        super().__init__(*args, **kwargs)

    def _setup_model(self) -> None:
        super()._setup_model()
        if self.twin_q:
            self.q_net2 = self.policy.make_q_net()  # type: ignore[attr-defined]
            self.q_net2_target = self.policy.make_q_net()  # type: ignore[attr-defined]
            self.q_net2_target.load_state_dict(self.q_net2.state_dict())
            self.q_net2_target.train(False)
            self.optimizer2 = self.policy.optimizer_class(  # type: ignore[call-arg]
                self.q_net2.parameters(),
                lr=self.lr_schedule(1),
                **self.policy.optimizer_kwargs,
            )

    def _on_step(self) -> None:
        super()._on_step()
        if self.twin_q and (
            sb3_compat.target_update_calls(self)
            % max(self.target_update_interval // self.n_envs, 1)
            == 0
        ):
            polyak_update(
                self.q_net2.parameters(), self.q_net2_target.parameters(), self.tau
            )

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "q_net2", "q_net2_target"]

    def set_parameters(
        self,
        load_path_or_dict: str | dict[str, Any],
        exact_match: bool = True,
        device: th.device | str = "auto",
    ) -> None:
        """Load parameters; a model saved with one Q-network loads as one.

        Files written before ``twin_q`` existed hold no second network: such a
        model is restored as it was trained (``twin_q=False``).
        """
        if (
            self.twin_q
            and isinstance(load_path_or_dict, dict)
            and "q_net2" not in load_path_or_dict
            and "policy" in load_path_or_dict
        ):
            self.twin_q = False
            del self.q_net2, self.q_net2_target, self.optimizer2
        super().set_parameters(load_path_or_dict, exact_match, device)

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        state_dicts, variables = super()._get_torch_save_params()
        if self.twin_q:
            state_dicts = [*state_dicts, "q_net2", "q_net2_target", "optimizer2"]
        return state_dicts, variables

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        """Take ``gradient_steps`` soft Q-learning steps on replayed batches.

        Args:
            gradient_steps: Number of gradient steps.
            batch_size: Transitions per batch.
        """
        self.policy.set_training_mode(True)
        nets: list[tuple[th.nn.Module, th.optim.Optimizer]] = [
            (self.q_net, self.policy.optimizer)
        ]
        if self.twin_q:
            self.q_net2.train(True)
            nets.append((self.q_net2, self.optimizer2))
        sb3_compat.update_learning_rate(self, [opt for _, opt in nets])
        assert self.replay_buffer is not None
        losses = []
        for _ in range(gradient_steps):
            data = self.replay_buffer.sample(
                batch_size, env=self.get_vec_normalize_env()
            )
            discounts = data.discounts if data.discounts is not None else self.gamma
            with th.no_grad():
                next_q = self.q_net_target(data.next_observations)
                if self.twin_q:
                    next_q2 = self.q_net2_target(data.next_observations)
                    next_q = th.minimum(next_q, next_q2)
                next_v = soft_value(next_q, self.ent_coef).reshape(-1, 1)
                target = data.rewards + (1 - data.dones) * discounts * next_v
            for net, optimizer in nets:
                q = th.gather(net(data.observations), 1, data.actions.long())
                loss = th.nn.functional.smooth_l1_loss(q, target)
                losses.append(loss.item())
                optimizer.zero_grad()
                loss.backward()
                th.nn.utils.clip_grad_norm_(net.parameters(), self.max_grad_norm)
                optimizer.step()
        n_updates = sb3_compat.count_updates(self, gradient_steps)
        self.logger.record("train/n_updates", n_updates, exclude="tensorboard")
        self.logger.record("train/loss", float(np.mean(losses)))

    def predict(
        self,
        observation: np.ndarray | dict[str, np.ndarray],
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """Boltzmann actions with epsilon-random ones, or greedy if ``deterministic``.

        Args:
            observation: One observation or a batch (one per env).
            state: Unused (no recurrent state); returned as is.
            episode_start: Unused.
            deterministic: Take the greedy action.

        Returns:
            The actions and ``state``.
        """
        if deterministic or self.ent_coef == 0:
            return super().predict(observation, state, episode_start, deterministic)
        self.policy.set_training_mode(False)
        obs, vectorized = self.policy.obs_to_tensor(observation)
        with th.no_grad():
            q = self.q_net(obs)
            # Gumbel-max: argmax(Q / ent_coef + Gumbel noise) ~ softmax(Q / ent_coef).
            gumbel = -th.log(-th.log(th.rand_like(q).clamp_min(1e-20)))
            actions = (q / self.ent_coef + gumbel).argmax(dim=-1)
            explore = th.rand(actions.shape, device=q.device) < self.exploration_rate
            uniform = th.randint_like(actions, q.shape[-1])
            actions = th.where(explore, uniform, actions)
        out = actions.cpu().numpy()
        if not vectorized:
            out = out.squeeze(0)
        return out, state


class SQIL(algo_base.DemonstrationAlgorithm[types.Transitions]):
    """Soft Q Imitation Learning: an off-policy learner rewarded for expert steps.

    Reddy, Dragan and Levine, "SQIL: Imitation Learning via Reinforcement
    Learning with Sparse Rewards", 2019, https://arxiv.org/abs/1905.11108.

    The learner is ``rl_algo_class`` with a :class:`SQILReplayBuffer`, so each
    batch is half demonstrations (reward 1) and half the agent's own
    transitions (reward 0). ``expert_buffer`` holds the demonstrations as an
    SB3 replay buffer.

    Discrete actions: the default learner is :class:`SoftDQN`, the paper's
    soft Q-learning (targets bootstrap from ``ent_coef * logsumexp(Q / ent_coef)``,
    Boltzmann exploration, greedy :attr:`policy`; ``ent_coef`` defaults to 1
    and can be set in ``rl_kwargs``). Pass ``rl_algo_class=DQN`` for SB3's
    hard-max DQN. With hard-max targets SQIL's Q-values can run away above
    their bound ``1 / (1 - gamma)`` once the agent matches the expert (seen
    with learning rate 1e-3 and target updates every 500 steps on CartPole,
    where the policy then collapses); the soft update with a single Q-network
    held on those settings but ran away the same way, on the agent's own
    states first, on seals/CartPole-v0 with learning rate 2.5e-4 and target
    updates every 500 steps. :class:`SoftDQN`'s default ``twin_q`` (the
    minimum of two target networks) holds there too; see
    ``docs/benchmarks.md``.
    Continuous actions: pass an SB3 actor-critic such as
    ``rl_algo_class=SAC``.
    """

    def __init__(
        self,
        *,
        venv: VecEnv,
        demonstrations: algo_base.AnyTransitions | None,
        policy: str | type[policies.BasePolicy],
        custom_logger: imit_logger.HierarchicalLogger | None = None,
        rl_algo_class: type[off_policy_algorithm.OffPolicyAlgorithm] | None = None,
        rl_kwargs: dict[str, Any] | None = None,
    ) -> None:
        """Build SQIL.

        Args:
            venv: The environment to train in.
            demonstrations: Expert demonstrations with next observations
                and dones (see :meth:`SQILReplayBuffer.set_demonstrations`).
            policy: The SB3 policy (class or name, e.g. ``"MlpPolicy"``).
            custom_logger: Where to log to; if None, a new logger is created.
            rl_algo_class: An SB3 off-policy algorithm (:class:`SoftDQN`,
                DQN, SAC, TD3, ...). None (the default) means
                :class:`SoftDQN`, which needs discrete actions.
            rl_kwargs: Keyword arguments for ``rl_algo_class`` (for
                :class:`SoftDQN` including ``ent_coef``).

        Raises:
            ValueError: If ``rl_kwargs`` sets ``replay_buffer_class`` or
                ``replay_buffer_kwargs``, if DQN is used with non-discrete
                actions, or if the demonstrations are empty or do not fit
                ``venv``'s spaces.
            TypeError: If ``venv`` is not a ``VecEnv``, or the demonstrations
                are missing or none of the accepted forms.
        """
        util.check_vec_env(venv)
        algo_base.check_demonstrations_type(demonstrations)
        rl_kwargs = dict(rl_kwargs or {})
        for key in ("replay_buffer_class", "replay_buffer_kwargs"):
            if key in rl_kwargs:
                raise ValueError(
                    f"SQIL uses its own replay buffer; remove {key} from rl_kwargs.",
                )
        if rl_algo_class is None:
            rl_algo_class = SoftDQN
        if issubclass(rl_algo_class, DQN) and not isinstance(
            venv.action_space, gym.spaces.Discrete
        ):
            raise ValueError(
                f"{rl_algo_class.__name__} needs a Discrete action space, got "
                f"{venv.action_space}; for "
                "continuous actions use e.g. rl_algo_class=SAC.",
            )
        self.venv = venv
        self.rl_algo = rl_algo_class(
            policy=policy,
            env=venv,
            replay_buffer_class=SQILReplayBuffer,
            replay_buffer_kwargs={"demonstrations": demonstrations},
            **rl_kwargs,
        )
        super().__init__(demonstrations=None, custom_logger=custom_logger)
        self.rl_algo.set_logger(self.logger)

    @property
    def _buffer(self) -> SQILReplayBuffer:
        assert isinstance(self.rl_algo.replay_buffer, SQILReplayBuffer)
        return self.rl_algo.replay_buffer

    @property
    def expert_buffer(self) -> ReplayBuffer:
        """The demonstrations, as an SB3 replay buffer."""
        return self._buffer.expert_buffer

    def set_demonstrations(self, demonstrations: algo_base.AnyTransitions) -> None:
        """Replace the expert transitions (``SQILReplayBuffer.set_demonstrations``)."""
        self._buffer.set_demonstrations(demonstrations)

    @property
    def policy(self) -> policies.BasePolicy:
        """The learner's policy."""
        return self.rl_algo.policy

    def train(
        self,
        *,
        total_timesteps: int,
        tb_log_name: str = "SQIL",
        progress_bar: bool = True,
        **kwargs: Any,
    ) -> None:
        """Train for ``total_timesteps`` env steps; ``kwargs`` go to ``learn``.

        Args:
            total_timesteps: Environment steps.
            tb_log_name: TensorBoard run name of the learner.
            progress_bar: Show SB3's bar of the steps (in a terminal only).
            kwargs: Passed to the learner's ``learn``.
        """
        self.rl_algo.learn(
            total_timesteps=total_timesteps,
            tb_log_name=tb_log_name,
            progress_bar=progress.shown(progress_bar),
            **kwargs,
        )
