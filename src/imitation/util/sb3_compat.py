"""The Stable-Baselines3 and PyTorch internals imitation relies on, in one place.

Each function or class here reads or writes something Stable-Baselines3 or
PyTorch does not promise as public API (a private attribute or method, a
callback's view of a method's local variables, the layout of SB3's model
files, the extension points SB3's own algorithms override). The rest of the
library goes through this module, and ``tests/util/test_sb3_compat.py``
checks each touch point against the installed versions, so an upgrade that
changes one fails there, loudly, rather than somewhere deep inside an
algorithm.
"""

from __future__ import annotations

import abc
import base64
import contextlib
import json
import zipfile
from collections.abc import Callable, Iterator, Sequence, ValuesView
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common import base_class, buffers, callbacks, policies
from stable_baselines3.common.type_aliases import ReplayBufferSamples
from stable_baselines3.common.vec_env import VecNormalize
from torch import nn
from torch.nn.modules import module as torch_module

__all__ = [
    "ReplayBufferView",
    "RunProgress",
    "SB3_ZIP_ENTRIES",
    "child_modules",
    "count_updates",
    "forward_hook_dicts",
    "forward_hooked",
    "global_forward_hooks",
    "module_dicts",
    "no_distribution_validation",
    "normalize_reward",
    "own_parameters",
    "pickled_entry",
    "policy_constructor_kwargs",
    "predict_actions",
    "read_zip_data",
    "refuse_learn",
    "replay_samples",
    "restart_episodes_on_next_learn",
    "rollout_end_values",
    "target_update_calls",
    "update_learning_rate",
]

# --- Algorithms ---------------------------------------------------------------


def restart_episodes_on_next_learn(algo: base_class.BaseAlgorithm) -> None:
    """Make ``algo``'s next ``learn`` reset its environment first.

    Needed after something else stepped or reset the environment ``algo``
    learns on: ``algo`` would otherwise continue from an observation that is
    no longer the environment's. (SB3 resets when ``_last_obs`` is None.)
    """
    algo._last_obs = None  # type: ignore[assignment]


def refuse_learn(
    algo: base_class.BaseAlgorithm, make_error: Callable[[], Exception]
) -> None:
    """Make ``algo.learn`` raise ``make_error()`` instead of training.

    An instance attribute shadows the method (SB3 algorithms keep their
    attributes in ``__dict__``); acting, saving and loading are unaffected.
    """

    def learn(*args: Any, **kwargs: Any) -> Any:
        del args, kwargs
        raise make_error()

    vars(algo)["learn"] = learn


def update_learning_rate(
    algo: base_class.BaseAlgorithm, optimizers: Sequence[th.optim.Optimizer]
) -> None:
    """Set ``optimizers``' learning rate from ``algo``'s schedule, as SB3 does.

    ``algo._update_learning_rate``: it also logs ``train/learning_rate``.
    """
    algo._update_learning_rate(list(optimizers))


def count_updates(algo: base_class.BaseAlgorithm, gradient_steps: int) -> int:
    """Add ``gradient_steps`` to ``algo``'s update count; return the new count.

    ``algo._n_updates``, which SB3's ``train`` methods log as ``train/n_updates``.
    """
    algo._n_updates += gradient_steps
    return algo._n_updates


def target_update_calls(algo: base_class.BaseAlgorithm) -> int:
    """How many times DQN's ``_on_step`` has run (``_n_calls``).

    DQN updates its target network when this is a multiple of
    ``target_update_interval // n_envs``; a subclass with more target
    networks updates them on the same beat.
    """
    return algo._n_calls  # type: ignore[attr-defined]


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


def rollout_end_values(callback: callbacks.BaseCallback) -> tuple[th.Tensor, Any]:
    """The final values and dones of the rollout an on-policy learner just collected.

    Call from a callback's ``_on_rollout_end``: they are local variables of
    SB3's ``collect_rollouts``, which callbacks see as ``locals``, and exactly
    what ``RolloutBuffer.compute_returns_and_advantage`` takes.
    """
    return callback.locals["values"], callback.locals["dones"]


# --- Policies -------------------------------------------------------------------


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


def policy_constructor_kwargs(policy: policies.BasePolicy) -> dict[str, Any]:
    """The arguments that rebuild ``policy``'s architecture: ``type(policy)(**them)``.

    ``policy._get_constructor_parameters``, what SB3 saves beside a policy's
    weights (spaces, ``lr_schedule``, ``net_arch``, ...).
    """
    return dict(policy._get_constructor_parameters())


@contextlib.contextmanager
def no_distribution_validation() -> Iterator[None]:
    """Turn off ``torch.distributions`` argument checks (restored afterwards).

    The checks cost time on every step and branch on tensor values, which
    graph capture cannot follow. The previous default is
    ``Distribution._validate_args``, which torch has no getter for.
    """
    previous = th.distributions.Distribution._validate_args
    th.distributions.Distribution.set_default_validate_args(False)
    try:
        yield
    finally:
        th.distributions.Distribution.set_default_validate_args(previous)


# --- Model files ------------------------------------------------------------------

SB3_ZIP_ENTRIES = ("data", "policy.pth")
"""Entries every SB3 model zip holds: its attributes as JSON, the policy's weights."""


def read_zip_data(archive: zipfile.ZipFile) -> dict[str, Any]:
    """The ``data`` entry of an SB3 model zip: the algorithm's attributes.

    Raises:
        KeyError: If the archive has no ``data`` entry.
        json.JSONDecodeError, UnicodeDecodeError: If it is corrupt.
    """
    return json.loads(archive.read(SB3_ZIP_ENTRIES[0]))


def pickled_entry(value: Any) -> bytes | None:
    """The pickle of one top-level entry of SB3's ``data``, if it was stored as one.

    SB3 writes what JSON cannot hold (classes, spaces, schedules) as
    ``{":serialized:": <base64 of a cloudpickle>, ...}``.

    Returns:
        The pickle's bytes, or None for an entry stored as plain JSON.

    Raises:
        ValueError: If the base64 text is corrupt.
    """
    if not (isinstance(value, dict) and ":serialized:" in value):
        return None
    return base64.b64decode(value[":serialized:"].encode())


# --- Replay buffers ------------------------------------------------------------


def replay_samples(
    buffer: buffers.ReplayBuffer, batch_inds: np.ndarray
) -> ReplayBufferSamples:
    """The transitions of ``buffer`` at ``batch_inds``, without normalisation.

    ``buffer._get_samples``, which ``sample`` calls after drawing indices.
    """
    return buffer._get_samples(batch_inds, env=None)


def normalize_reward(rewards: np.ndarray, env: VecNormalize | None) -> np.ndarray:
    """Rewards normalised for the learner as SB3's buffers do on sampling.

    ``BaseBuffer._normalize_reward``: unchanged without ``env``, otherwise
    scaled by ``env``'s return statistics (float32).
    """
    return buffers.BaseBuffer._normalize_reward(rewards, env)


def _forwarded(name: str, doc: str) -> Any:
    """A property reading and writing the attribute ``name`` of ``replay_buffer``."""
    return property(
        lambda self: getattr(self.replay_buffer, name),
        lambda self, value: setattr(self.replay_buffer, name, value),
        doc=doc,
    )


class ReplayBufferView(buffers.ReplayBuffer, abc.ABC):
    """A replay buffer that stores nothing itself: its transitions live in another.

    SB3 takes only ``ReplayBuffer`` subclasses as replay buffers
    (``replay_buffer_class``, ``load_replay_buffer``), and
    ``ReplayBuffer.__init__`` allocates the storage for the whole capacity. A
    wrapper that passes those checks without a second, unused copy of the
    storage therefore skips that ``__init__`` and reads every attribute it
    does not define (``buffer_size``, ``observations``, ``dones``,
    ``optimize_memory_usage``, ...) from the wrapped buffer, kept as
    :attr:`replay_buffer`; ``pos``, ``full`` and ``device`` are read and
    written there too. Subclasses define :meth:`process_samples`, which sees
    every batch before the learner does.
    """

    def __init__(self, replay_buffer: buffers.ReplayBuffer) -> None:
        """Wrap ``replay_buffer`` (deliberately without ``ReplayBuffer.__init__``)."""
        self.replay_buffer = replay_buffer

    def __getattr__(self, name: str) -> Any:
        """Read attributes this wrapper does not define from the wrapped buffer."""
        # Look in __dict__ directly: during unpickling ``replay_buffer`` is not
        # set yet, and ``self.replay_buffer`` would recurse into __getattr__.
        inner = self.__dict__.get("replay_buffer")
        if inner is None:
            raise AttributeError(name)
        return getattr(inner, name)

    pos = _forwarded("pos", "Write position of the wrapped buffer.")
    full = _forwarded("full", "Whether the wrapped buffer has wrapped around.")
    device = _forwarded(
        "device", "Device the sampled tensors are put on (the wrapped buffer's)."
    )

    def size(self) -> int:
        """Number of stored transitions (per env)."""
        return self.replay_buffer.size()

    def add(self, *args: Any, **kwargs: Any) -> None:
        """Store transitions in the wrapped buffer (same arguments as its ``add``)."""
        self.replay_buffer.add(*args, **kwargs)

    def reset(self) -> None:
        """Empty the wrapped buffer."""
        self.replay_buffer.reset()

    def sample(
        self, batch_size: int, env: VecNormalize | None = None
    ) -> ReplayBufferSamples:
        """Sample ``batch_size`` transitions, passed through :meth:`process_samples`."""
        return self.process_samples(self.replay_buffer.sample(batch_size), env)

    def _get_samples(
        self, batch_inds: np.ndarray, env: VecNormalize | None = None
    ) -> ReplayBufferSamples:
        return self.process_samples(replay_samples(self.replay_buffer, batch_inds), env)

    @abc.abstractmethod
    def process_samples(
        self, samples: ReplayBufferSamples, env: VecNormalize | None
    ) -> ReplayBufferSamples:
        """What the learner gets for a batch of the wrapped buffer's transitions.

        Args:
            samples: The transitions as stored: observations and rewards not
                normalised.
            env: The ``VecNormalize`` env the learner passed to ``sample``
                (None if none): normalise for it as SB3 would.
        """


# --- torch modules ----------------------------------------------------------------


def child_modules(m: nn.Module) -> ValuesView[nn.Module | None]:
    """``m``'s direct submodules, without building their names (``m._modules``).

    A name registered with None (``register_module(name, None)``) gives None.
    """
    return m._modules.values()


def own_parameters(m: nn.Module) -> ValuesView[nn.Parameter | None]:
    """``m``'s own parameters, not its submodules' (``m._parameters``).

    A name registered with None (``register_parameter(name, None)``, such as
    a ``Linear``'s missing bias) gives None.
    """
    return m._parameters.values()


def module_dicts(m: nn.Module) -> tuple[dict[str, Any], ...]:
    """The dicts ``m`` keeps its own submodules, parameters and buffers in.

    ``m._modules``, ``m._parameters`` and ``m._buffers``: torch adds, removes
    and replaces entries in place, so their values, compared by identity,
    show whether anything was registered since (torch's registration hooks
    would tell the same, but only process-wide).
    """
    return m._modules, m._parameters, m._buffers


def forward_hook_dicts(m: nn.Module) -> tuple[dict[int, Any], ...]:
    """The dicts ``m`` keeps its forward pre-hooks and forward hooks in.

    ``m._forward_pre_hooks`` and ``m._forward_hooks``: registering a hook adds
    to them, removing its handle deletes from them, in place.
    """
    return m._forward_pre_hooks, m._forward_hooks


def forward_hooked(m: nn.Module) -> bool:
    """Whether ``m`` has forward hooks or an instance-level ``forward``."""
    return any(forward_hook_dicts(m)) or "forward" in vars(m)


def global_forward_hooks() -> bool:
    """Whether process-wide forward hooks are registered (they see every module)."""
    return bool(
        torch_module._global_forward_hooks or torch_module._global_forward_pre_hooks
    )
