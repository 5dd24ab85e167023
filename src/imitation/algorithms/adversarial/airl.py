"""Adversarial Inverse Reinforcement Learning (AIRL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common import base_class, policies, vec_env
from stable_baselines3.sac import policies as sac_policies
from torch.nn import functional

from imitation.algorithms import base
from imitation.algorithms.adversarial import common
from imitation.data import types
from imitation.rewards import reward_nets
from imitation.util import networks

LogProbFn = Callable[[Any, th.Tensor], th.Tensor]
"""Maps raw observations and actions (tensors) to the policy's log-probabilities."""


class AIRLGeneratorReward(reward_nets.RewardNetWrapper):
    """AIRL's generator reward ``-log(1 - D) = softplus(f(s, a, s') - log pi(a|s))``.

    ``D = sigmoid(f - log pi)`` is AIRL's discriminator and ``f`` the wrapped
    net. Like GAIL's reward, it is bounded below by 0, and about 0 wherever the
    discriminator is sure a transition is the generator's. The raw ``f`` is
    unbounded: far from the demonstrations (a fallen pole, a cart off the
    track) it extrapolates to large rewards of either sign, which vary with
    the state and the action where the behaviour does not matter and drown
    the signal where it does.

    ``log pi`` comes from ``log_prob_fn`` on the raw observations and actions,
    so rewards are computed from raw batches (``predict``, ``predict_processed``);
    a direct ``forward`` call needs the log-probabilities as an argument.
    """

    def __init__(self, base: reward_nets.RewardNet, log_prob_fn: LogProbFn) -> None:
        """Wrap ``base`` (the discriminator's ``f``).

        Args:
            base: The reward net ``f``.
            log_prob_fn: The generator policy's log-probabilities of raw
                actions in raw observations.
        """
        super().__init__(base)
        self._log_prob_fn = log_prob_fn

    def forward(
        self,
        state: th.Tensor,
        action: th.Tensor,
        next_state: th.Tensor,
        done: th.Tensor,
        log_policy_act_prob: th.Tensor | None = None,
    ) -> th.Tensor:
        """``softplus(f - log pi)`` of preprocessed inputs.

        Raises:
            TypeError: If ``log_policy_act_prob`` is None.
        """
        return functional.softplus(
            _logits(self.base, state, action, next_state, done, log_policy_act_prob)
        )

    def _forward_raw(
        self,
        state: np.ndarray,
        action: np.ndarray,
        next_state: np.ndarray,
        done: np.ndarray,
    ) -> th.Tensor:
        inputs = self.preprocess(state, action, next_state, done)
        log_prob = self._log_prob_fn(
            types.to_tensor_maybe_dict(state), types.to_tensor_maybe_dict(action)
        )
        return self(*inputs, log_prob.to(self.device))


def _logits(
    f: reward_nets.RewardNet,
    state: th.Tensor,
    action: th.Tensor,
    next_state: th.Tensor,
    done: th.Tensor,
    log_policy_act_prob: th.Tensor | None,
) -> th.Tensor:
    """AIRL's discriminator logit ``f(s, a, s') - log pi(a | s)``.

    Raises:
        TypeError: If ``log_policy_act_prob`` is None.
    """
    if log_policy_act_prob is None:
        raise TypeError(
            "AIRL needs the policy's action log-probabilities; compute rewards "
            "with predict() on raw arrays, or pass log_policy_act_prob.",
        )
    return f(state, action, next_state, done) - log_policy_act_prob


class AIRL(common.AdversarialTrainer):
    """AIRL: the logit is ``f(s, a, s') - log pi(a | s)``.

    With a shaped reward net ``f`` (the default ``BasicShapedRewardNet``), the
    unshaped part is the recovered reward (``reward_test``). The generator is
    trained on :class:`AIRLGeneratorReward`, ``-log(1 - D)``, and must be a
    stochastic policy whose action log-probabilities can be evaluated. As in
    GAIL, the discriminator's input normalisation is fitted to the expert's
    transitions (``expert_input_stats``).

    Fu, Luo and Levine, "Learning Robust Rewards with Adversarial Inverse
    Reinforcement Learning" (ICLR 2018), https://arxiv.org/abs/1710.11248.
    """

    def __init__(
        self,
        *,
        demonstrations: base.AnyTransitions,
        demo_batch_size: int,
        venv: vec_env.VecEnv,
        gen_algo: base_class.BaseAlgorithm,
        reward_net: reward_nets.RewardNet,
        **kwargs: Any,
    ) -> None:
        """Build AIRL; ``kwargs`` go to ``AdversarialTrainer``.

        Raises:
            TypeError: If the generator's policy is deterministic (no action
                log-probabilities), e.g. TD3's.
        """
        policy = gen_algo.policy
        if not (
            isinstance(policy, policies.ActorCriticPolicy | sac_policies.SACPolicy)
        ):
            raise TypeError(
                "AIRL needs a stochastic generator policy with action "
                f"log-probabilities (e.g. PPO, A2C, SAC), got {type(policy).__name__}.",
            )
        self._generator_reward = AIRLGeneratorReward(reward_net, self._policy_log_prob)
        super().__init__(
            demonstrations=demonstrations,
            demo_batch_size=demo_batch_size,
            venv=venv,
            gen_algo=gen_algo,
            reward_net=reward_net,
            **kwargs,
        )

    def _policy_log_prob(self, obs: Any, acts: th.Tensor) -> th.Tensor:
        """Log-probabilities of raw actions ``acts`` in raw observations ``obs``.

        The policy is evaluated in evaluation mode: SB3 leaves it in training
        mode after ``learn``, where layers such as a ``RunningNorm`` feature
        normaliser would fold these batches (half of them expert
        observations) into the statistics the generator acts with.
        """
        policy = self.gen_algo.policy
        with networks.evaluating(policy):
            return self._log_prob_in_eval_mode(policy, obs, acts)

    def _log_prob_in_eval_mode(
        self, policy: policies.BasePolicy, obs: Any, acts: th.Tensor
    ) -> th.Tensor:
        obs = types.to_tensor_maybe_dict(obs, policy.device)
        acts = acts.to(policy.device)
        if isinstance(policy, policies.ActorCriticPolicy):
            # The action distribution only: evaluate_actions would also run
            # the critic, whose values are not needed here.
            log_prob = policy.get_distribution(obs).log_prob(acts)
            return log_prob.to(self._reward_net.device)
        assert isinstance(policy, sac_policies.SACPolicy)
        # SAC stores actions rescaled to [-1, 1]; demonstrations are env actions.
        scaled = th.as_tensor(
            policy.scale_action(acts.cpu().numpy()), device=obs.device
        )
        mean_actions, log_std, kwargs = policy.actor.get_action_dist_params(obs)
        dist = policy.actor.action_dist.proba_distribution(
            mean_actions, log_std, **kwargs
        )
        eps = 1e-6
        return dist.log_prob(scaled.clamp(-1 + eps, 1 - eps)).to(
            self._reward_net.device
        )

    def logits_expert_is_high(
        self,
        state: th.Tensor,
        action: th.Tensor,
        next_state: th.Tensor,
        done: th.Tensor,
        log_policy_act_prob: th.Tensor | None = None,
    ) -> th.Tensor:
        """``f(s, a, s') - log pi(a | s)``.

        Raises:
            TypeError: If ``log_policy_act_prob`` is None.
        """
        return _logits(
            self._reward_net, state, action, next_state, done, log_policy_act_prob
        )

    @property
    def reward_train(self) -> reward_nets.RewardNet:
        """``-log(1 - D) = softplus(f - log pi)``; see :class:`AIRLGeneratorReward`."""
        return self._generator_reward

    @property
    def reward_test(self) -> reward_nets.RewardNet:
        """The unshaped reward when ``f`` is shaped, else ``f``."""
        if isinstance(self._reward_net, reward_nets.ShapedRewardNet):
            return self._reward_net.base
        return self._reward_net
