"""Classes that configs may name by a string (from the command line or JSON)."""

from __future__ import annotations

from typing import Any

import stable_baselines3 as sb3
import torch as th
from stable_baselines3.common import policies as sb3_policies
from stable_baselines3.sac import policies as sac_policies

from imitation.policies import base as policy_base
from imitation.rewards import reward_nets
from imitation.util import class_registry, networks
from imitation.util.class_registry import Use

KNOWN_CLASSES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        sb3.PPO,
        sb3.A2C,
        sb3.SAC,
        sb3.TD3,
        sb3.DQN,
        sb3_policies.ActorCriticPolicy,
        sb3_policies.ActorCriticCnnPolicy,
        sac_policies.SACPolicy,
        policy_base.FeedForward32Policy,
        policy_base.SAC1024Policy,
        policy_base.NormalizeFeaturesExtractor,
        reward_nets.BasicRewardNet,
        reward_nets.BasicShapedRewardNet,
        reward_nets.CnnRewardNet,
        reward_nets.RewardEnsemble,
        networks.RunningNorm,
        networks.EMANorm,
        *networks.ACTIVATION_CLASSES,
        th.optim.Adam,
        th.optim.AdamW,
        th.optim.SGD,
    )
}
"""Short class name -> class, for the classes the configs refer to.

They are registered for ``Use.CONFIG`` in :mod:`imitation.util.class_registry`,
where :func:`resolve_class` looks names up; a script whose config names other
classes registers them too (``train_preference_comparisons``: the gatherers).
"""

for _cls in KNOWN_CLASSES.values():
    class_registry.register(Use.CONFIG)(_cls)


def resolve_class(value: Any, key: str) -> Any:
    """``value`` itself, or the known class a string names.

    Args:
        value: A class, None, or a class's short name (e.g. ``"SAC"``).
        key: The config key, for the error message.

    Raises:
        ValueError: If ``value`` is a string that names no known class.
    """
    if not isinstance(value, str):
        return value
    known = class_registry.short_names()
    if value not in known:
        raise ValueError(
            f"{key}={value!r} names no known class; use one of {sorted(known)}."
        )
    return known[value]


def resolve_nested(value: Any, key: str) -> Any:
    """:func:`resolve_class` on the values of keys that hold classes.

    Those are the keys ending in ``_cls``, ``_class`` or ``_layer``, and
    ``activation_fn``.
    """
    if isinstance(value, dict):
        return {
            k: (
                resolve_class(v, f"{key}.{k}")
                if k.endswith(("_cls", "_class", "_layer", "activation_fn"))
                else resolve_nested(v, f"{key}.{k}")
            )
            for k, v in value.items()
        }
    return value
