"""A new SB3 policy for the learner (``policy``)."""

from __future__ import annotations

from typing import Any

import sacred
from stable_baselines3.common import policies as sb3_policies
from stable_baselines3.sac import policies as sac_policies

from imitation.policies import base
from imitation.scripts.ingredients import names
from imitation.util import networks

policy_ingredient = sacred.Ingredient(
    "policy", _caller_globals=globals(), save_git_info=False
)


@policy_ingredient.config
def config() -> None:
    """The policy class and its constructor arguments."""
    policy_cls = base.FeedForward32Policy  # or a class name, e.g. "ActorCriticPolicy"
    policy_kwargs = dict[str, Any]()  # constructor arguments


@policy_ingredient.named_config
def cnn_policy() -> None:
    """SB3's CNN actor-critic policy, for image observations."""
    policy_cls = sb3_policies.ActorCriticCnnPolicy


@policy_ingredient.named_config
def sac() -> None:
    """SB3's SAC policy (use with ``rl.sac``)."""
    policy_cls = sac_policies.SACPolicy


@policy_ingredient.named_config
def normalize_running() -> None:
    """Normalise observations with running statistics saved in the policy."""
    policy_kwargs = dict(
        features_extractor_class=base.NormalizeFeaturesExtractor,
        features_extractor_kwargs=dict(normalize_class=networks.RunningNorm),
    )


@policy_ingredient.capture
def make_policy_args(
    policy_cls: Any, policy_kwargs: dict[str, Any]
) -> tuple[Any, dict]:
    """The policy class and keyword arguments, with class names resolved."""
    return (
        names.resolve_class(policy_cls, "policy.policy_cls"),
        names.resolve_nested(dict(policy_kwargs), "policy.policy_kwargs"),
    )


def make_policy(venv: Any) -> Any:
    """A new configured policy for ``venv``.

    For BC and DAgger, which train the policy with their own optimiser (the
    policy's own is unused).
    """
    cls, kwargs = make_policy_args()
    kwargs.setdefault("lr_schedule", lambda _: 0.0)  # BC uses its own optimiser
    return cls(venv.observation_space, venv.action_space, **kwargs)
