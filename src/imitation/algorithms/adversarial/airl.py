"""Adversarial Inverse Reinforcement Learning (AIRL)."""

from __future__ import annotations

from typing import Any

import torch as th
from stable_baselines3.common import base_class, policies, vec_env
from stable_baselines3.sac import policies as sac_policies

from imitation.algorithms import base
from imitation.algorithms.adversarial import common
from imitation.rewards import reward_nets


class AIRL(common.AdversarialTrainer):
    """AIRL: the logit is ``f(s, a, s') - log pi(a | s)``.

    With a shaped reward net ``f`` (the default ``BasicShapedRewardNet``), the
    unshaped part is the recovered reward (``reward_test``). The generator must
    be a stochastic policy whose action log-probabilities can be evaluated.
    """

    expert_input_stats = False
    """AIRL's generator reward is the net's raw, unbounded output: with input
    statistics fitted to the (narrow) expert distribution, generated states lie
    hundreds of standard deviations out and the extrapolated rewards swamp the
    generator's value function. Pooled statistics keep them in range."""

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
        super().__init__(
            demonstrations=demonstrations,
            demo_batch_size=demo_batch_size,
            venv=venv,
            gen_algo=gen_algo,
            reward_net=reward_net,
            **kwargs,
        )

    def _policy_log_prob(self, obs: th.Tensor, acts: th.Tensor) -> th.Tensor | None:
        policy = self.gen_algo.policy
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
        if log_policy_act_prob is None:
            raise TypeError("AIRL's logits need the policy's action log-probabilities.")
        reward = self._reward_net(state, action, next_state, done)
        return reward - log_policy_act_prob

    @property
    def reward_train(self) -> reward_nets.RewardNet:
        """The (shaped) reward net ``f``."""
        return self._reward_net

    @property
    def reward_test(self) -> reward_nets.RewardNet:
        """The unshaped reward when ``f`` is shaped, else ``f``."""
        if isinstance(self._reward_net, reward_nets.ShapedRewardNet):
            return self._reward_net.base
        return self._reward_net
