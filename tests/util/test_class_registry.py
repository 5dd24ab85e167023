"""Tests for imitation.util.class_registry: one registry of nameable classes."""

from __future__ import annotations

import os
import pathlib
import pickle
import subprocess
import sys

import gymnasium as gym
import pytest
import stable_baselines3 as sb3
import torch as th

from imitation.policies import base as policy_base
from imitation.rewards import persistence, reward_nets
from imitation.scripts.ingredients import names
from imitation.util import class_registry, networks, safe_pickle
from imitation.util.class_registry import Use

SRC = pathlib.Path(__file__).resolve().parents[2] / "src"


def _key(cls: type) -> tuple[str, str]:
    return cls.__module__, cls.__qualname__


# Registered by the tests below. Module-level: the registry is the process's,
# and other tests check that its names are plain module attributes.
class OnlyRestored:
    pass


class Restorable:
    pass


class Argument:
    pass


def test_each_use_is_separate():
    class_registry.register(Use.RESTORE)(OnlyRestored)
    assert class_registry.find(*_key(OnlyRestored), Use.RESTORE) is OnlyRestored
    assert class_registry.find(*_key(OnlyRestored), Use.ARGUMENT) is None
    class_registry.register(Use.ARGUMENT)(OnlyRestored)
    assert class_registry.find(*_key(OnlyRestored), Use.RESTORE) is OnlyRestored
    assert class_registry.find(*_key(OnlyRestored), Use.ARGUMENT) is OnlyRestored


def test_the_library_registers_its_classes_where_they_are_defined():
    for cls in (policy_base.FeedForward32Policy, networks.RunningNorm):
        for use in Use.RESTORE, Use.ARGUMENT:
            assert class_registry.find(*_key(cls), use) is cls
    assert class_registry.find(*_key(reward_nets.BasicRewardNet), Use.MODULE)
    # Third-party classes are listed once, in the registry.
    restored = class_registry.classes(Use.RESTORE)
    assert restored[_key(gym.spaces.Box)] is gym.spaces.Box
    assert restored[_key(th.nn.Tanh)] is th.nn.Tanh
    assert class_registry.ACTIVATION_CLASSES is networks.ACTIVATION_CLASSES


def test_config_names_are_short_names():
    assert class_registry.short_names()["PPO"] is sb3.PPO
    assert names.resolve_class("FeedForward32Policy", "key") is (
        policy_base.FeedForward32Policy
    )
    with pytest.raises(ValueError, match="names no known class"):
        names.resolve_class("NoSuchClass", "key")


def test_a_config_name_is_not_a_pickle_permission():
    with pytest.raises(safe_pickle.UnsafePickleError, match="refusing"):
        safe_pickle.safe_loads(pickle.dumps(sb3.PPO))


def test_register_refuses_non_classes_and_clashing_short_names():
    with pytest.raises(TypeError, match="Only classes"):
        class_registry.register(Use.RESTORE)(len)  # type: ignore[type-var]

    class PPO:  # the short name of SB3's PPO, which configs name already
        pass

    with pytest.raises(ValueError, match="short name 'PPO'"):
        class_registry.register(Use.CONFIG)(PPO)


def test_the_old_registration_functions_register_here():
    assert safe_pickle.register_safe_class(Restorable) is Restorable
    persistence.register_argument_class(Argument)
    assert class_registry.find(*_key(Restorable), Use.RESTORE) is Restorable
    assert class_registry.find(*_key(Argument), Use.ARGUMENT) is Argument
    assert class_registry.find(*_key(Argument), Use.RESTORE) is None


def test_a_class_is_found_under_a_library_module_that_re_exports_it():
    # Defined in reward_nets.architectures; the package re-exports it.
    found = class_registry.find(
        "imitation.rewards.reward_nets", "BasicRewardNet", Use.MODULE
    )
    assert found is reward_nets.BasicRewardNet
    # Only registered classes: the package's other names are not.
    assert (
        class_registry.find(
            "imitation.rewards.reward_nets", "cnn_transpose", Use.MODULE
        )
        is None
    )


def _fresh(code: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), *sys.path])}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr


def test_find_imports_a_library_module_that_a_file_names():
    _fresh(
        """
import sys
from imitation.util import class_registry
from imitation.util.class_registry import Use
assert "imitation.policies.base" not in sys.modules
cls = class_registry.find("imitation.policies.base", "FeedForward32Policy", Use.RESTORE)
assert cls is not None and cls.__name__ == "FeedForward32Policy"
"""
    )


def test_find_imports_nothing_else():
    _fresh(
        """
import sys
from imitation.util import class_registry
from imitation.util.class_registry import Use
for module, name in [
    ("tabnanny", "check"),  # outside the library
    ("imitation.scripts.convert_trajs", "main"),  # the command line
    ("imitation.testing.reward_improvement", "X"),  # the test helpers
    ("imitation.__main__", "X"),
    ("imitation.util..util", "X"),
    ("imitation.no_such_module", "X"),
]:
    assert class_registry.find(module, name, Use.RESTORE) is None
    assert module not in sys.modules, module
"""
    )
