"""The Stable-Baselines3 internals imitation relies on, in one place.

Each function here reads or writes something Stable-Baselines3 does not
promise as public API (a private attribute, a callback's view of a method's
local variables). The rest of the library goes through these functions, and
``tests/util/test_sb3_compat.py`` checks each one against the installed
version, so an upgrade that changes one fails there, loudly, rather than
somewhere deep inside an algorithm.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common import base_class, buffers, callbacks, policies
from stable_baselines3.common.type_aliases import ReplayBufferSamples

__all__ = [
    "predict_actions",
    "replay_samples",
    "restart_episodes_on_next_learn",
    "rollout_end_values",
]


def restart_episodes_on_next_learn(algo: base_class.BaseAlgorithm) -> None:
    """Make ``algo``'s next ``learn`` reset its environment first.

    Needed after something else stepped or reset the environment ``algo``
    learns on: ``algo`` would otherwise continue from an observation that is
    no longer the environment's. (SB3 resets when ``_last_obs`` is None.)
    """
    algo._last_obs = None  # type: ignore[assignment]


def predict_actions(
    policy: policies.BasePolicy,
    obs: th.Tensor | dict[str, th.Tensor],
    deterministic: bool,
) -> th.Tensor:
    """Actions for a batch of observation tensors, before clipping or unscaling.

    ``policy._predict``: ``predict`` without its per-call conversions and
    checks, for callers that prepared the tensors themselves.
    """
    return policy._predict(obs, deterministic=deterministic)  # type: ignore[arg-type]


def replay_samples(
    buffer: buffers.ReplayBuffer, batch_inds: np.ndarray
) -> ReplayBufferSamples:
    """The transitions of ``buffer`` at ``batch_inds``, without normalisation.

    ``buffer._get_samples``, which ``sample`` calls after drawing indices.
    """
    return buffer._get_samples(batch_inds, env=None)


def rollout_end_values(callback: callbacks.BaseCallback) -> tuple[th.Tensor, Any]:
    """The final values and dones of the rollout an on-policy learner just collected.

    Call from a callback's ``_on_rollout_end``: they are local variables of
    SB3's ``collect_rollouts``, which callbacks see as ``locals``, and exactly
    what ``RolloutBuffer.compute_returns_and_advantage`` takes.
    """
    return callback.locals["values"], callback.locals["dones"]
