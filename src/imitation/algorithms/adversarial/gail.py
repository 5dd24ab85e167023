"""Generative Adversarial Imitation Learning (GAIL)."""

from __future__ import annotations

from typing import Any

import torch as th
from stable_baselines3.common import base_class, vec_env
from torch.nn import functional

from imitation.algorithms import base
from imitation.algorithms.adversarial import common
from imitation.rewards import reward_nets


class RewardNetFromDiscriminatorLogit(reward_nets.ForwardWrapper):
    """The GAIL generator's reward from a discriminator logit ``l``.

    With ``D = sigmoid(l)`` the probability that a transition is the expert's,
    the reward is ``-log(1 - D) = softplus(l)``: always positive, and large
    where the discriminator is fooled.
    """

    def __init__(self, base: reward_nets.RewardNet) -> None:
        """Wrap the discriminator's logit network."""
        super().__init__(base=base)

    def forward(
        self,
        state: th.Tensor,
        action: th.Tensor,
        next_state: th.Tensor,
        done: th.Tensor,
    ) -> th.Tensor:
        """``softplus`` of the base net's logits."""
        return functional.softplus(self.base(state, action, next_state, done))


class GAIL(common.AdversarialTrainer):
    """GAIL: the discriminator's logit is the reward net's output.

    Ho and Ermon, "Generative Adversarial Imitation Learning" (NeurIPS 2016),
    https://arxiv.org/abs/1606.03476.
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
        """Build GAIL; ``kwargs`` go to ``AdversarialTrainer``."""
        self._processed_reward = RewardNetFromDiscriminatorLogit(reward_net)
        super().__init__(
            demonstrations=demonstrations,
            demo_batch_size=demo_batch_size,
            venv=venv,
            gen_algo=gen_algo,
            reward_net=reward_net,
            **kwargs,
        )

    def logits_expert_is_high(
        self,
        state: th.Tensor,
        action: th.Tensor,
        next_state: th.Tensor,
        done: th.Tensor,
        log_policy_act_prob: th.Tensor | None = None,
    ) -> th.Tensor:
        """The reward net's output, used directly as the logit."""
        del log_policy_act_prob
        return self._reward_net(state, action, next_state, done)

    @property
    def reward_train(self) -> reward_nets.RewardNet:
        """``softplus`` of the discriminator logit."""
        return self._processed_reward

    @property
    def reward_test(self) -> reward_nets.RewardNet:
        """The same reward as for training."""
        return self._processed_reward
