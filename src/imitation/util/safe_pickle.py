"""Unpickling restricted to library classes, so loading a file never runs its code.

A pickle can name any importable callable and have it called on load. The
:class:`AllowListUnpickler` resolves only classes from an allow-list of
modules (Stable-Baselines3, imitation, torch layers and optimisers, Gymnasium
spaces, numpy generators) plus a few named functions that rebuild tensors and
arrays, and raises :class:`UnsafePickleError` for anything else.
:func:`safe_torch_load` applies it to ``torch.load``.
"""

from __future__ import annotations

import io
import os
import pickle
import types
from typing import Any

import torch as th

SAFE_MODULE_PREFIXES: tuple[str, ...] = (
    "stable_baselines3.",
    "imitation.",
    "torch.nn.",
    "torch.optim.",
    "torch.distributions.",
    "torch.storage",
    "gymnasium.spaces.",
    "numpy.dtypes",
    "numpy.random.",
    "collections",
    "builtins",
    "__builtin__",
)
"""Modules whose *classes* may be resolved when unpickling."""

SAFE_GLOBALS: frozenset[tuple[str, str]] = frozenset(
    {
        ("torch", "Size"),
        ("torch", "device"),
        ("torch", "dtype"),
        ("torch._utils", "_rebuild_tensor"),
        ("torch._utils", "_rebuild_tensor_v2"),
        ("torch._utils", "_rebuild_parameter"),
        ("torch._utils", "_rebuild_parameter_with_state"),
        ("copyreg", "_reconstructor"),
        ("_codecs", "encode"),
        ("numpy", "dtype"),
        ("numpy", "ndarray"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy.random._pickle", "__generator_ctor"),
        ("numpy.random._pickle", "__bit_generator_ctor"),
        ("numpy.random._pickle", "__randomstate_ctor"),
        ("stable_baselines3.common.policies", "BasePolicy._dummy_schedule"),
    }
    | {
        ("torch", f"{kind}Storage")
        for kind in ("Float", "Double", "Long", "Int", "Bool", "Byte", "Half")
    },
)
"""Individual globals (including a few functions) that may be resolved."""


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle referenced a global outside the allow-list."""


class AllowListUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that only resolves allow-listed globals.

    Allowed are the exact globals in :data:`SAFE_GLOBALS`, and classes (never
    functions) from the modules in :data:`SAFE_MODULE_PREFIXES`. A module is
    imported only after its name passed the check.
    """

    def find_class(self, module: str, name: str) -> Any:
        """Resolve ``module.name`` if allowed; raise ``UnsafePickleError`` otherwise."""
        if (module, name) in SAFE_GLOBALS or (
            # numpy's generators restore their state through Cython helpers.
            module.startswith("numpy.random.") and name.startswith("__pyx_unpickle_")
        ):
            return super().find_class(module, name)
        if module.startswith(SAFE_MODULE_PREFIXES):
            obj = super().find_class(module, name)
            if isinstance(obj, type):
                return obj
        raise UnsafePickleError(
            f"refusing to load {module}.{name}: only library classes may be "
            "unpickled, and loading this could run arbitrary code",
        )


def safe_loads(data: bytes) -> Any:
    """Unpickle ``data`` with :class:`AllowListUnpickler`."""
    return AllowListUnpickler(io.BytesIO(data)).load()


_pickle_shim = types.ModuleType("imitation_safe_pickle")
_pickle_shim.Unpickler = AllowListUnpickler  # type: ignore[attr-defined]
_pickle_shim.load = lambda f, **kw: AllowListUnpickler(f, **kw).load()  # type: ignore[attr-defined]
_pickle_shim.__name__ = "pickle"


def safe_torch_load(path: str | os.PathLike | io.BytesIO, **kwargs: Any) -> Any:
    """``torch.load`` through :class:`AllowListUnpickler`.

    Tensors, state dicts, Stable-Baselines3 and imitation objects load;
    anything else raises :class:`UnsafePickleError`.
    """
    return th.load(path, weights_only=False, pickle_module=_pickle_shim, **kwargs)
