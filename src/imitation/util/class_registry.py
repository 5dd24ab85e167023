"""The one registry of classes that files and configs may name, and what for.

Loading a file never imports whatever the file names: a saved policy, a DAgger
checkpoint, an SB3 zip or a saved reward net may only refer to classes
registered here for that use (:class:`Use`). The command line's configs name
classes by their short name, resolved here too.

* imitation's own classes register themselves where they are defined, with
  :func:`register` as a class decorator (``SavableModule`` subclasses register
  as :attr:`Use.MODULE` by inheriting);
* the third-party classes (Gymnasium spaces, torch activations and
  optimisers, Stable-Baselines3 policies, extractors, buffers and schedules)
  are listed once, below;
* users register their own classes (e.g. a custom policy) the same way, or
  through ``safe_pickle.register_safe_class`` and
  ``persistence.register_argument_class``.

A file names a class by its module and qualified name. If it names a module
of imitation's library that is not imported yet, :func:`find` imports it,
which runs only imitation's code, so that its classes register themselves; it
never imports any other module, and never walks attributes. A class is also
found under a library module that re-exports it by its plain name (a module
that was split into a subpackage keeps loading files that name it).
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import importlib.util
import sys
from collections.abc import Callable, Mapping
from typing import TypeVar

from torch import nn

__all__ = [
    "ACTIVATION_CLASSES",
    "Use",
    "classes",
    "find",
    "register",
    "short_names",
]


class Use(enum.Flag):
    """What a registered class may be named for."""

    RESTORE = enum.auto()
    """Referenced by a pickle (a saved policy, a checkpoint, an SB3 zip entry),
    which may restore instances' state but never call the class."""

    ARGUMENT = enum.auto()
    """Passed as a class to the constructor of a saved module (a reward net's
    activation, normaliser, or a potential's policy class), which builds it."""

    MODULE = enum.auto()
    """Built from a saved module's description (``persistence.SavableModule``)."""

    CONFIG = enum.auto()
    """Named by its short name in a command-line config (``rl_cls="PPO"``)."""


ACTIVATION_CLASSES: tuple[type[nn.Module], ...] = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.PReLU,
    nn.ELU,
    nn.CELU,
    nn.SELU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Tanh,
    nn.Sigmoid,
    nn.Softplus,
    nn.Softsign,
    nn.Hardtanh,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.LogSigmoid,
    nn.Tanhshrink,
    nn.Identity,
)
"""Activation layers that saved policies and reward nets may name (safe to build)."""

_C = TypeVar("_C", bound=type)

# The library's module tree whose modules a file may cause to be imported; the
# command line and the test helpers define no saved classes.
_LIBRARY = "imitation"
_NOT_IMPORTED = ("imitation.scripts", "imitation.testing")


@dataclasses.dataclass
class _Entry:
    cls: type
    uses: Use


_ENTRIES: dict[tuple[str, str], _Entry] = {}
_third_party_registered = False


def _key(cls: type) -> tuple[str, str]:
    return cls.__module__, cls.__qualname__


def register(uses: Use) -> Callable[[_C], _C]:
    """A class decorator registering the class for ``uses`` (added to earlier ones).

    Register a class for :attr:`Use.RESTORE` only if restoring its state is
    harmless, and for :attr:`Use.ARGUMENT` or :attr:`Use.MODULE` only if
    constructing it is.

    Args:
        uses: What the class may be named for, e.g. ``Use.RESTORE | Use.CONFIG``.

    Returns:
        The decorator; it returns the class unchanged.

    Raises:
        TypeError: (from the decorator) If it is given something else than a
            class.
        ValueError: (from the decorator) If another class registered for
            :attr:`Use.CONFIG` has the same short name.
    """

    def decorate(cls: _C) -> _C:
        if not isinstance(cls, type):
            raise TypeError(f"Only classes can be registered, not {cls!r}.")
        if Use.CONFIG in uses:
            other = short_names().get(cls.__name__)
            if other is not None and other is not cls:
                raise ValueError(
                    f"Configs name {other!r} by the short name {cls.__name__!r} "
                    f"already; {cls!r} cannot have it too.",
                )
        entry = _ENTRIES.get(_key(cls))
        if entry is not None and entry.cls is cls:
            entry.uses |= uses
        else:
            _ENTRIES[_key(cls)] = _Entry(cls, uses)
        return cls

    return decorate


def _registered_for(obj: object, use: Use) -> bool:
    if not isinstance(obj, type):
        return False
    entry = _ENTRIES.get(_key(obj))
    return entry is not None and entry.cls is obj and use in entry.uses


def _import_library_module(module: str) -> bool:
    """Import ``module`` if it is one of the library's, not imported yet.

    Returns:
        Whether it was imported now.
    """
    parts = module.split(".")
    if (
        module in sys.modules
        or parts[0] != _LIBRARY
        or not all(part.isidentifier() for part in parts)
        or "__main__" in parts
        or any(module == p or module.startswith(f"{p}.") for p in _NOT_IMPORTED)
    ):
        return False
    try:
        if importlib.util.find_spec(module) is None:
            return False
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def find(module: str, qualname: str, use: Use) -> type | None:
    """The class that a file names as ``module`` and ``qualname``, if registered.

    Args:
        module: The module the file names.
        qualname: The class's qualified name in it.
        use: What the class is needed for.

    Returns:
        The class registered for ``use`` under that name (after importing
        ``module`` if it is a library module not imported yet, or as a name
        it re-exports), or None.
    """
    _register_third_party()
    entry = _ENTRIES.get((module, qualname))
    if entry is None and _import_library_module(module):
        entry = _ENTRIES.get((module, qualname))
    if entry is not None:
        return entry.cls if use in entry.uses else None
    if module.split(".")[0] == _LIBRARY and module in sys.modules:
        exported = vars(sys.modules[module]).get(qualname)
        if _registered_for(exported, use):
            return exported  # type: ignore[return-value]
    return None


def classes(use: Use) -> Mapping[tuple[str, str], type]:
    """The classes registered for ``use``, by ``(module, qualified name)``."""
    _register_third_party()
    return {key: e.cls for key, e in _ENTRIES.items() if use in e.uses}


def short_names() -> Mapping[str, type]:
    """The classes configs may name (:attr:`Use.CONFIG`), by short name."""
    return {e.cls.__name__: e.cls for e in _ENTRIES.values() if Use.CONFIG in e.uses}


def _register_third_party() -> None:
    """Register the third-party classes (once: importing SB3 takes a while)."""
    global _third_party_registered
    if _third_party_registered:
        return
    import gymnasium as gym
    import torch as th
    from stable_baselines3.common import (
        buffers,
        policies,
        running_mean_std,
        torch_layers,
        type_aliases,
        utils,
    )
    from stable_baselines3.dqn import policies as dqn_policies
    from stable_baselines3.sac import policies as sac_policies
    from stable_baselines3.td3 import policies as td3_policies

    built = Use.RESTORE | Use.ARGUMENT
    table: dict[Use, tuple[type, ...]] = {
        Use.RESTORE: (
            gym.spaces.Box,
            gym.spaces.Discrete,
            gym.spaces.MultiDiscrete,
            gym.spaces.MultiBinary,
            gym.spaces.Dict,
            gym.spaces.Tuple,
            th.nn.Flatten,
            th.nn.parameter.Parameter,
            th.optim.Adagrad,
            th.optim.Adadelta,
            th.optim.Adamax,
            th.optim.NAdam,
            th.optim.RAdam,
            dqn_policies.DQNPolicy,
            dqn_policies.CnnPolicy,
            dqn_policies.MultiInputPolicy,
            sac_policies.SACPolicy,
            sac_policies.CnnPolicy,
            sac_policies.MultiInputPolicy,
            td3_policies.TD3Policy,
            td3_policies.CnnPolicy,
            td3_policies.MultiInputPolicy,
            buffers.RolloutBuffer,
            buffers.DictRolloutBuffer,
            buffers.ReplayBuffer,
            buffers.DictReplayBuffer,
            utils.ConstantSchedule,
            utils.FloatSchedule,
            utils.LinearSchedule,
            type_aliases.TrainFrequencyUnit,
            running_mean_std.RunningMeanStd,
        ),
        built: (
            *ACTIVATION_CLASSES,
            th.optim.Adam,
            th.optim.AdamW,
            th.optim.RMSprop,
            th.optim.SGD,
            policies.ActorCriticPolicy,
            policies.ActorCriticCnnPolicy,
            policies.MultiInputActorCriticPolicy,
            torch_layers.NatureCNN,
            torch_layers.FlattenExtractor,
            torch_layers.CombinedExtractor,
        ),
    }
    for uses, listed in table.items():
        for cls in listed:
            register(uses)(cls)
    _third_party_registered = True
