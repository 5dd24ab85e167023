"""The Stable-Baselines3 internals imitation relies on, in one place.

Each function here reads or writes something Stable-Baselines3 does not
promise as public API (a private attribute, a callback's view of a method's
local variables). The rest of the library goes through these functions, and
``tests/util/test_sb3_compat.py`` checks each one against the installed
version, so an upgrade that changes one fails there, loudly, rather than
somewhere deep inside an algorithm.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common import base_class, buffers, callbacks, policies
from stable_baselines3.common.type_aliases import ReplayBufferSamples

__all__ = [
    "RunProgress",
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


class RunProgress:
    """The progress SB3's schedules see, over a run of several ``learn`` calls.

    SB3 gives its schedules (learning rate, PPO's clip range, DQN's
    exploration rate) the progress ``1 - num_timesteps / total`` of one
    ``learn`` call. A run split into calls with ``reset_num_timesteps=False``,
    as the preference-comparisons and adversarial loops make, would end every
    call at progress 0: a linear learning-rate schedule would reach zero at
    the end of every round. Inside :meth:`learning`, ``algo`` sees the
    progress of the whole run instead: ``1 - (steps since this object was
    made) / total_timesteps``, clipped to [0, 1].

    It replaces ``algo._update_current_progress_remaining`` (the one method
    SB3 calls to set ``_current_progress_remaining``) for the duration of
    :meth:`learning` only, so the algorithm saves and loads as usual between
    calls.
    """

    def __init__(self, algo: base_class.BaseAlgorithm, total_timesteps: int) -> None:
        """Start a run of ``total_timesteps`` steps at ``algo``'s current step.

        Raises:
            ValueError: If ``total_timesteps`` is not positive.
        """
        if total_timesteps <= 0:
            raise ValueError(f"total_timesteps={total_timesteps} must be positive.")
        self.algo = algo
        self.start = algo.num_timesteps
        self.total_timesteps = total_timesteps

    def _update(self, num_timesteps: int, total_timesteps: int) -> None:
        del total_timesteps  # the one learn call's; the run's is used instead
        done = (num_timesteps - self.start) / self.total_timesteps
        self.algo._current_progress_remaining = min(1.0, max(0.0, 1.0 - done))

    @contextlib.contextmanager
    def learning(self) -> Iterator[None]:
        """Run one of the run's ``learn`` calls inside this context."""
        vars(self.algo)["_update_current_progress_remaining"] = self._update
        try:
            yield
        finally:
            del vars(self.algo)["_update_current_progress_remaining"]
