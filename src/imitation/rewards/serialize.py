"""Load saved reward nets as reward functions: ``load_reward``.

Registered reward types:

* ``"RewardNet_normalized"``: the saved net with its wrappers; a
  ``NormalizedRewardNet``'s statistics are frozen unless ``update_stats=True``.
* ``"RewardNet_unnormalized"``: without an outer ``NormalizedRewardNet``.
* ``"RewardNet_unshaped"``: without an outer ``ShapedRewardNet`` (potential
  shaping removed; AIRL's ``reward_test``).
* ``"RewardNet_std_added"``: ``mean + alpha * std`` of a net that estimates
  its variance, such as an ensemble (``alpha`` keyword, default 0).
* ``"zero"``: zero reward (``reward_path`` is ignored; :func:`load_zero`).

:func:`load_reward` wraps every loaded function in :class:`ValidateRewardFn`,
which checks that it returns one reward per transition.

Files are read with ``torch.load(..., weights_only=True)``, allowing only
imitation's module rebuilder for that call: no code from the file runs (see
:mod:`imitation.rewards.persistence`).
"""

from __future__ import annotations

import functools
import os
import pickle
import zipfile
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.vec_env import VecEnv

from imitation.rewards import persistence, reward_nets
from imitation.rewards.reward_function import RewardFn
from imitation.util import registry

RewardFnLoaderFn = Callable[..., RewardFn]
"""``loader(reward_path, venv, **kwargs) -> reward function``."""

reward_registry: registry.Registry[RewardFnLoaderFn] = registry.Registry()

WrapperPrefix = Sequence[type[reward_nets.RewardNet]]
"""The outermost layers a saved net must have, outermost first.

``(AddSTDRewardWrapper, RewardNetWithVariance)`` matches an
``AddSTDRewardWrapper`` whose ``base`` is a ``RewardNetWithVariance``; each
class is checked with ``isinstance``, so a prefix matches subclasses too.
"""


class ValidateRewardFn:
    """A reward function that checks what the function it wraps returns.

    The wrapped function must return a numpy array with one reward per
    transition, shape ``(len(done),)``; anything else raises ``ValueError``
    here, where the reward is computed, instead of later in the RL algorithm.
    """

    def __init__(self, reward_fn: RewardFn) -> None:
        """Wrap ``reward_fn``."""
        self.reward_fn = reward_fn

    def __call__(
        self,
        state: Any,
        action: np.ndarray,
        next_state: Any,
        done: np.ndarray,
        /,
    ) -> np.ndarray:
        """The wrapped function's rewards, checked.

        Raises:
            ValueError: If they are not a numpy array of shape ``(len(done),)``.
        """
        rew = self.reward_fn(state, action, next_state, done)
        if not isinstance(rew, np.ndarray) or rew.shape != (len(done),):
            got = (
                f"shape {rew.shape}"
                if isinstance(rew, np.ndarray)
                else type(rew).__name__
            )
            raise ValueError(
                f"The reward function returned {got}; expected a numpy array of "
                f"shape ({len(done)},), one reward per transition.",
            )
        return rew


class RewardLoadError(ValueError):
    """A file is not a saved reward net, or would need unsafe unpickling."""


def load_reward_net(
    path: str | os.PathLike, device: str | th.device = "cpu"
) -> reward_nets.RewardNet:
    """Load a reward net saved with ``th.save(net, path)``.

    Raises:
        FileNotFoundError: If there is no such file.
        RewardLoadError: If the file is not a saved reward net, or loading it
            would need arbitrary unpickling.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"No saved reward net at {path}.")
    try:
        net = persistence.load(path, map_location=device)
    except pickle.UnpicklingError as exc:
        raise RewardLoadError(
            f"{path} is not a reward net saved by imitation, or loading it would "
            f"run code from the file (refused): {str(exc).splitlines()[0]}",
        ) from exc
    except ValueError as exc:
        raise RewardLoadError(f"{path} is not a valid saved reward net: {exc}") from exc
    except (RuntimeError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise RewardLoadError(
            f"{path} is truncated or corrupt, not a complete saved reward net "
            f"({type(exc).__name__}: {exc}). Save the net again with "
            "th.save(net, path).",
        ) from exc
    if not isinstance(net, reward_nets.RewardNet):
        raise RewardLoadError(f"{path} holds a {type(net).__name__}, not a RewardNet.")
    return net  # type: ignore[return-value]


def _check_venv(net: reward_nets.RewardNet, venv: VecEnv) -> None:
    for name in ("observation_space", "action_space"):
        if getattr(net, name) != getattr(venv, name):
            raise ValueError(
                f"The reward net's {name} {getattr(net, name)} differs from the "
                f"environment's {getattr(venv, name)}.",
            )


def _strip(net: reward_nets.RewardNet, wrapper: type) -> reward_nets.RewardNet:
    if isinstance(net, wrapper) and isinstance(net, reward_nets.RewardNetWrapper):
        return net.base
    return net


def _net_loader(
    transform: Callable[[reward_nets.RewardNet], reward_nets.RewardNet],
) -> RewardFnLoaderFn:
    def load(
        reward_path: str | os.PathLike,
        venv: VecEnv,
        update_stats: bool = False,
        **kwargs: Any,
    ) -> RewardFn:
        net = transform(load_reward_net(reward_path))
        _check_venv(net, venv)
        net.eval()
        if isinstance(net, reward_nets.NormalizedRewardNet):
            return functools.partial(
                net.predict_processed, update_stats=update_stats, **kwargs
            )
        return functools.partial(net.predict_processed, **kwargs)

    return load


def _has_prefix(net: reward_nets.RewardNet, prefix: WrapperPrefix) -> bool:
    """Whether ``net``'s outermost layers are instances of ``prefix``'s classes."""
    layer: reward_nets.RewardNet | None = net
    for cls in prefix:
        if layer is None or not isinstance(layer, cls):
            return False
        layer = layer.base if isinstance(layer, reward_nets.RewardNetWrapper) else None
    return True


def _check_wrapper_structure(
    net: reward_nets.RewardNet,
    prefixes: Iterable[WrapperPrefix],
    reward_type: str,
) -> None:
    """Raise ``TypeError`` unless ``net`` starts with one of ``prefixes``."""
    prefixes = list(prefixes)
    if any(_has_prefix(net, prefix) for prefix in prefixes):
        return
    accepted = " or ".join(
        "(".join(cls.__name__ for cls in prefix) + ")" * (len(prefix) - 1)
        for prefix in prefixes
    )
    raise TypeError(
        f"{reward_type} needs a saved {accepted} (e.g. a RewardEnsemble), got "
        f"{type(net).__name__}.",
    )


_STD_ADDED_PREFIXES: tuple[WrapperPrefix, ...] = (
    (reward_nets.AddSTDRewardWrapper, reward_nets.RewardNetWithVariance),
    (reward_nets.RewardNetWithVariance,),
)


def _load_std_added(
    reward_path: str | os.PathLike,
    venv: VecEnv,
    alpha: float = 0.0,
    **kwargs: Any,
) -> RewardFn:
    net = load_reward_net(reward_path)
    _check_wrapper_structure(net, _STD_ADDED_PREFIXES, "RewardNet_std_added")
    net = _strip(net, reward_nets.AddSTDRewardWrapper)
    assert isinstance(net, reward_nets.RewardNetWithVariance)
    _check_venv(net, venv)
    net.eval()
    wrapped = reward_nets.AddSTDRewardWrapper(net, default_alpha=alpha)
    return functools.partial(wrapped.predict_processed, **kwargs)


def load_zero(path: str | os.PathLike, venv: VecEnv) -> RewardFn:
    """A reward function that is zero everywhere (the ``"zero"`` reward type).

    Args:
        path: Ignored (reward loaders take a path).
        venv: Ignored.

    Returns:
        A function returning float32 zeros, one per transition.
    """
    del path, venv

    def zero(
        state: Any, action: np.ndarray, next_state: Any, done: np.ndarray
    ) -> np.ndarray:
        return np.zeros(len(done), dtype=np.float32)

    return zero


reward_registry.register("RewardNet_normalized", _net_loader(lambda net: net))
reward_registry.register(
    "RewardNet_unnormalized",
    _net_loader(lambda net: _strip(net, reward_nets.NormalizedRewardNet)),
)
reward_registry.register(
    "RewardNet_unshaped",
    _net_loader(lambda net: _strip(net, reward_nets.ShapedRewardNet)),
)
reward_registry.register("RewardNet_std_added", _load_std_added)
reward_registry.register("zero", load_zero)


def load_reward(
    reward_type: str,
    reward_path: str | os.PathLike,
    venv: VecEnv,
    **kwargs: Any,
) -> RewardFn:
    """Load a saved reward as a reward function (see the module docstring).

    Args:
        reward_type: A key of ``reward_registry``.
        reward_path: Path of the saved net.
        venv: The environment the reward will be used in (spaces must match).
        kwargs: Passed to the loader (``update_stats``, ``alpha``).

    Returns:
        The reward function, wrapped in :class:`ValidateRewardFn`.

    Raises:
        KeyError: If ``reward_type`` is not registered.
    """
    return ValidateRewardFn(
        reward_registry.get(reward_type)(reward_path, venv, **kwargs)
    )
