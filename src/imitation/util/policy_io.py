"""An SB3 policy in one file and back: `save_policy` and `reconstruct_policy`.

The file holds the policy's class, its constructor arguments and its weights
(:func:`policy_to_dict`), written with ``torch.save``; reading it unpickles
only allow-listed classes (:mod:`imitation.util.safe_pickle`). DAgger
checkpoints embed the same dictionary.

The public home of the pair is :mod:`imitation.policies.serialize`, beside
the other policy loaders; they also keep their original names
``imitation.util.util.save_policy`` and ``imitation.algorithms.bc.reconstruct_policy``.
They live here, in the bottom layer, because ``imitation.util.util`` must not
import the layers above it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch as th
from stable_baselines3.common import policies, utils

from imitation.util import safe_pickle, sb3_compat
from imitation.util.atomic import atomic_write_path
from imitation.util.paths import AnyPath

__all__ = [
    "policy_from_dict",
    "policy_to_dict",
    "reconstruct_policy",
    "save_policy",
    "unused_lr_schedule",
]


def unused_lr_schedule(progress_remaining: float) -> float:
    """Learning-rate schedule for a policy whose own optimiser is never used.

    Rebuilt policies, and the policies BC trains with an optimiser of its own,
    need a schedule to build their optimiser with.
    """
    del progress_remaining
    return float(th.finfo(th.float32).max)


def policy_to_dict(policy: policies.BasePolicy) -> dict[str, Any]:
    """The class, constructor arguments and weights of an SB3 policy.

    The learning-rate schedule is left out: it is often a lambda (which cannot
    be loaded safely) and a policy acting or trained by imitation does not use
    its own optimiser's schedule.
    """
    data = sb3_compat.policy_constructor_kwargs(policy)
    data.pop("lr_schedule", None)
    return {
        "policy_class": type(policy),
        "data": data,
        "state_dict": policy.state_dict(),
    }


def policy_from_dict(
    saved: Mapping[str, Any], device: th.device | str = "auto"
) -> policies.BasePolicy:
    """Rebuild a policy from :func:`policy_to_dict` output."""
    policy = saved["policy_class"](**saved["data"], lr_schedule=unused_lr_schedule)
    policy.load_state_dict(saved["state_dict"])
    return policy.to(utils.get_device(device))


def save_policy(policy: policies.BasePolicy, policy_path: AnyPath) -> None:
    """Save an SB3 policy atomically (see :func:`policy_to_dict`).

    :func:`reconstruct_policy` loads it back, unpickling only library classes.
    """
    with atomic_write_path(policy_path) as tmp:
        th.save(policy_to_dict(policy), tmp)


def reconstruct_policy(
    policy_path: str,
    device: th.device | str = "auto",
) -> policies.ActorCriticPolicy:
    """Load a policy saved with :func:`save_policy`.

    Only library classes are unpickled (see ``imitation.util.safe_pickle``).

    Args:
        policy_path: Path of the saved policy.
        device: Device to load it on.

    Returns:
        The policy.
    """
    saved = safe_pickle.safe_torch_load(
        policy_path, map_location=utils.get_device(device)
    )
    return policy_from_dict(saved, device)  # type: ignore[return-value]
