"""Soft Q Imitation Learning (SQIL) on any Stable-Baselines3 off-policy learner.

Every batch the learner samples is half expert transitions with reward 1 and
half of its own transitions with reward 0: it learns to reach and stay in the
states the expert visits. The learner is an ordinary SB3 algorithm (DQN by
default; SAC, TD3, DDPG and the like work too) whose replay buffer is a
:class:`SQILReplayBuffer`.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3 import DQN
from stable_baselines3.common import off_policy_algorithm, policies
from stable_baselines3.common.buffers import DictReplayBuffer, ReplayBuffer
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from imitation.algorithms import base as algo_base
from imitation.data import rollout, types
from imitation.policies.replay_buffer_wrapper import ReplayBufferRewardWrapper
from imitation.util import logger as imit_logger
from imitation.util import util


def _zero_reward(
    state: Any, action: np.ndarray, next_state: Any, done: np.ndarray
) -> np.ndarray:
    return np.zeros(len(done), dtype=np.float32)


def _as_transitions(demonstrations: algo_base.AnyTransitions) -> types.Transitions:
    """Demonstrations as ``Transitions`` (SQIL needs next observations and dones)."""
    if isinstance(demonstrations, types.Transitions):
        transitions = demonstrations
    elif isinstance(demonstrations, types.TransitionsMinimal):
        raise ValueError(
            "SQIL needs next observations and dones: pass trajectories or a "
            "types.Transitions object, not TransitionsMinimal.",
        )
    else:
        algo_base.check_demonstrations_type(demonstrations)
        items = list(demonstrations)  # type: ignore[arg-type]
        if not items:
            raise ValueError("The demonstrations are empty.")
        if not all(isinstance(t, types.Trajectory) for t in items):
            raise ValueError(
                "SQIL takes trajectories or a types.Transitions object as "
                "demonstrations, not batches of transitions.",
            )
        transitions = rollout.flatten_trajectories(items)  # type: ignore[arg-type]
    if len(transitions) == 0:
        raise ValueError("The demonstrations are empty.")
    return transitions


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
            demonstrations: Expert trajectories or transitions.
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

        Raises:
            ValueError: If they are empty or do not fit the spaces.
        """
        transitions = _as_transitions(demonstrations)
        algo_base.check_demonstration_spaces(
            transitions, self.observation_space, self.action_space
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


class SQIL(algo_base.DemonstrationAlgorithm[types.Transitions]):
    """Soft Q Imitation Learning: an off-policy learner rewarded for expert steps.

    ``expert_buffer`` holds the demonstrations as an SB3 replay buffer.
    """

    def __init__(
        self,
        *,
        venv: VecEnv,
        demonstrations: algo_base.AnyTransitions | None,
        policy: str | type[policies.BasePolicy],
        custom_logger: imit_logger.HierarchicalLogger | None = None,
        rl_algo_class: type[off_policy_algorithm.OffPolicyAlgorithm] = DQN,
        rl_kwargs: dict[str, Any] | None = None,
    ) -> None:
        """Build SQIL.

        Args:
            venv: The environment to train in.
            demonstrations: Expert trajectories or transitions.
            policy: The SB3 policy (class or name, e.g. ``"MlpPolicy"``).
            custom_logger: Where to log to; if None, a new logger is created.
            rl_algo_class: An SB3 off-policy algorithm (DQN, SAC, TD3, ...).
            rl_kwargs: Keyword arguments for ``rl_algo_class``.

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
        if issubclass(rl_algo_class, DQN) and not isinstance(
            venv.action_space, gym.spaces.Discrete
        ):
            raise ValueError(
                f"DQN needs a Discrete action space, got {venv.action_space}; for "
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
        self, *, total_timesteps: int, tb_log_name: str = "SQIL", **kwargs: Any
    ) -> None:
        """Train for ``total_timesteps`` env steps; ``kwargs`` go to ``learn``."""
        self.rl_algo.learn(
            total_timesteps=total_timesteps, tb_log_name=tb_log_name, **kwargs
        )
