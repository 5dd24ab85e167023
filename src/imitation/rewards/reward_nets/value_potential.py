"""The value function of an SB3 actor-critic policy as a shaping potential.

Shaping a learned reward with the agent's value function (``phi(s) = V(s)``)
makes it more informative for RL: moving to high-value states is rewarded at
once. A plain function calling ``policy.predict_values`` works for
:class:`~imitation.rewards.reward_nets.ShapedRewardNet` but cannot be saved;
:class:`ValuePotential` holds a copy of the policy as a module, so the shaped
net saves and loads like any other reward net (the policy is described by its
class and constructor arguments, its weights go in the state dict).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch as th
from stable_baselines3.common import policies
from torch import nn

from imitation.rewards.persistence import SavableModule
from imitation.rewards.reward_nets.base import cnn_transpose
from imitation.util import sb3_compat


def _no_learning_rate(progress_remaining: float) -> float:
    """The policy's own optimiser is never used: a zero learning rate."""
    del progress_remaining
    return 0.0


class ValuePotential(SavableModule, nn.Module):
    """``phi(s)``: the value estimate of an SB3 actor-critic policy.

    Build it with :meth:`from_policy` (a copy of a trained policy's weights);
    the constructor builds a fresh policy from its class and arguments, which
    is how a saved potential is rebuilt.

    The potential takes states preprocessed by the reward net, as
    :class:`~imitation.rewards.reward_nets.ShapedRewardNet` passes them, and
    runs the policy's value path (features extractor, critic MLP, value head)
    on them without preprocessing them again. The reward net and the policy
    must therefore preprocess alike: both scale images to ``[0, 1]`` by
    default (``normalize_images``); Box vectors are cast to float and Discrete
    values one-hot encoded by both.
    """

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        policy_class: type[policies.ActorCriticPolicy] = policies.ActorCriticCnnPolicy,
        policy_kwargs: dict[str, Any] | None = None,
        hwc_format: bool = True,
    ) -> None:
        """Build a fresh policy whose value function is the potential.

        Args:
            observation_space: The policy's observation space (for images,
                channels first, as SB3 transposes them).
            action_space: The policy's action space.
            policy_class: An SB3 actor-critic policy class.
            policy_kwargs: More constructor arguments of ``policy_class``.
            hwc_format: The states are images ``(H, W, C)``, transposed to
                ``(C, H, W)`` for the policy (as a ``CnnRewardNet`` on an
                Atari environment sees them); otherwise given as they are.

        Raises:
            ValueError: If ``policy_class`` is not an actor-critic policy, or
                ``hwc_format`` is set for an observation space that is not a
                rank-3 ``Box``.
        """
        super().__init__()
        if not (
            isinstance(policy_class, type)
            and issubclass(policy_class, policies.ActorCriticPolicy)
        ):
            raise ValueError(
                "ValuePotential needs an SB3 actor-critic policy class (a "
                f"subclass of ActorCriticPolicy, as PPO and A2C use), got "
                f"{policy_class!r}.",
            )
        if hwc_format and not (
            isinstance(observation_space, gym.spaces.Box)
            and len(observation_space.shape) == 3
        ):
            raise ValueError(
                f"hwc_format=True transposes images, but the policy's observation "
                f"space is {observation_space}; pass hwc_format=False.",
            )
        self.hwc_format = hwc_format
        self.policy = policy_class(
            observation_space,
            action_space,
            lr_schedule=_no_learning_rate,
            **(policy_kwargs or {}),
        )

    @classmethod
    def from_policy(
        cls, policy: policies.ActorCriticPolicy, hwc_format: bool = True
    ) -> ValuePotential:
        """A potential holding a copy of ``policy`` (later training does not change it).

        Args:
            policy: A trained actor-critic policy, e.g. ``PPO(...).policy``.
            hwc_format: See :meth:`__init__`.

        Returns:
            The potential, on the policy's device.

        Raises:
            ValueError: As :meth:`__init__`.
        """
        kwargs = sb3_compat.policy_constructor_kwargs(policy)
        for name in ("observation_space", "action_space", "lr_schedule"):
            kwargs.pop(name, None)
        # Not among SB3's recorded constructor arguments.
        kwargs["share_features_extractor"] = policy.share_features_extractor
        potential = cls(
            policy.observation_space,
            policy.action_space,
            policy_class=type(policy),
            policy_kwargs=kwargs,
            hwc_format=hwc_format,
        )
        potential.policy.load_state_dict(policy.state_dict())
        return potential.to(policy.device)

    def forward(self, state: th.Tensor | dict[str, th.Tensor]) -> th.Tensor:
        """The value of each (preprocessed) state, shape ``(batch,)``."""
        if self.hwc_format:
            assert isinstance(state, th.Tensor)  # Checked: a Box space.
            state = cnn_transpose(state)
        features = self.policy.vf_features_extractor(state)
        latent = self.policy.mlp_extractor.forward_critic(features)
        return self.policy.value_net(latent).flatten()
