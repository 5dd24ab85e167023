"""Unpickling restricted to an exact allow-list, so loading a file never runs its code.

A pickle names globals as ``(module, qualified name)`` pairs and may call any
of them with arguments of its choosing. :class:`AllowListUnpickler` resolves
only pairs that appear *exactly* in its allow-list, and returns the object
recorded there (no attribute is walked from one object to another, and no
module outside imitation's library is imported). It further splits the
allow-list in two:

* *callables* (e.g. numpy's array rebuilder, ``collections.OrderedDict``) may
  be called by the pickle (the ``REDUCE`` opcode);
* *classes* (e.g. policies, spaces, activations) may only be referenced, or
  have instances restored (``NEWOBJ`` then ``BUILD``). The pickle cannot call
  their constructors with arguments of its choosing.

``BUILD`` (restoring an object's state) is refused unless the object is an
instance of an allow-listed class, so a file cannot set attributes on a class
or a module. Everything else raises :class:`UnsafePickleError`.

The callables, and the classes with which numpy and torch pickle arrays,
tensors and random generators, are listed here. Every other class comes from
:mod:`imitation.util.class_registry` (those registered for ``Use.RESTORE``):
Stable-Baselines3's and Gymnasium's listed there, imitation's registered where
they are defined (a library module a file names is imported on demand, so its
classes have registered). Add your own classes (e.g. a custom policy) with
:func:`register_safe_class`. See ``docs/security.md`` for the threat model.
"""

from __future__ import annotations

import builtins
import collections
import copyreg
import dataclasses
import importlib
import io
import os
import pickle
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any, BinaryIO, TypeVar

import torch as th

from imitation.util import class_registry
from imitation.util.class_registry import Use

__all__ = [
    "AllowListUnpickler",
    "CorruptFileError",
    "UnsafePickleError",
    "allowed_names",
    "register_safe_class",
    "safe_loads",
    "safe_torch_load",
]


_C = TypeVar("_C", bound=type)


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle referenced a global, or asked for a call, outside the allow-list."""


class CorruptFileError(ValueError):
    """A file is truncated or corrupt (not a readable pickle or torch file)."""


@dataclasses.dataclass(frozen=True)
class _Allowed:
    obj: Any
    callable: bool


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    """``_codecs.encode`` as pickles use it for bytes: only the latin-1 codec."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise UnsafePickleError(f"refusing to decode bytes with codec {encoding!r}")
    return text.encode("latin1")


def _plain_reconstructor(cls: type, base: type, state: Any) -> Any:
    """``copyreg._reconstructor`` for plain objects of allow-listed classes."""
    if base is not object or state is not None:
        raise UnsafePickleError(
            f"refusing to rebuild {cls!r} from base {base!r}: only plain objects "
            "can be rebuilt this way",
        )
    return copyreg._reconstructor(cls, base, state)  # type: ignore[attr-defined]


def _no_hooks(rebuild: Callable[..., th.Tensor], hooks_at: int) -> Callable:
    """Wrap a torch tensor rebuilder so that the file cannot attach hooks."""

    def rebuild_without_hooks(*args: Any) -> th.Tensor:
        if len(args) > hooks_at and args[hooks_at]:
            raise UnsafePickleError("refusing a saved tensor with backward hooks")
        return rebuild(*args)

    return rebuild_without_hooks


def _table(
    module: str, names: Iterable[str], *, callable: bool
) -> dict[tuple[str, str], _Allowed]:
    mod = importlib.import_module(module)
    return {(module, n): _Allowed(getattr(mod, n), callable) for n in names}


def _classes(*classes: type) -> dict[tuple[str, str], _Allowed]:
    return {(c.__module__, c.__qualname__): _Allowed(c, False) for c in classes}


def _pickle_machinery() -> dict[tuple[str, str], _Allowed]:
    """How builtins, numpy and torch pickle containers, arrays and tensors.

    The classes that files name beyond these (spaces, policies, optimisers,
    ...) are those registered for ``Use.RESTORE`` in
    :mod:`imitation.util.class_registry`.
    """
    import numpy as np
    import torch._utils as th_utils
    from stable_baselines3.common import policies, type_aliases

    allowed: dict[tuple[str, str], _Allowed] = {}
    # Callables the pickle may call. Builtin containers and numbers.
    for fn in (collections.OrderedDict, collections.deque):
        allowed[(fn.__module__, fn.__qualname__)] = _Allowed(fn, True)
    for name in ("set", "frozenset", "bytearray", "complex", "slice"):
        allowed[("builtins", name)] = _Allowed(getattr(builtins, name), True)
        allowed[("__builtin__", name)] = allowed[("builtins", name)]
    allowed[("builtins", "object")] = _Allowed(object, False)
    allowed[("copyreg", "_reconstructor")] = _Allowed(_plain_reconstructor, True)
    allowed[("_codecs", "encode")] = _Allowed(_latin1_encode, True)
    # numpy arrays, dtypes and random generators (numpy 2 module names, and
    # the numpy 1 names found in older files).
    from numpy._core import multiarray, numeric
    from numpy.random import _pickle as np_pickle
    from numpy.random import bit_generator

    for prefix in ("numpy._core", "numpy.core"):
        allowed[(f"{prefix}.multiarray", "_reconstruct")] = _Allowed(
            multiarray._reconstruct, True
        )
        allowed[(f"{prefix}.multiarray", "scalar")] = _Allowed(multiarray.scalar, True)
        allowed[(f"{prefix}.numeric", "_frombuffer")] = _Allowed(
            numeric._frombuffer,  # type: ignore[attr-defined]
            True,
        )
    allowed[("numpy", "dtype")] = _Allowed(np.dtype, True)
    allowed[("numpy", "ndarray")] = _Allowed(np.ndarray, False)
    for name in ("__generator_ctor", "__bit_generator_ctor", "__randomstate_ctor"):
        allowed[("numpy.random._pickle", name)] = _Allowed(
            getattr(np_pickle, name), True
        )
    seed_sequence_rebuilder = "__pyx_unpickle_SeedSequence"
    allowed[("numpy.random.bit_generator", seed_sequence_rebuilder)] = _Allowed(
        getattr(bit_generator, seed_sequence_rebuilder), True
    )
    allowed.update(
        _classes(
            np.random.Generator,
            np.random.RandomState,
            np.random.SeedSequence,
            np.random.PCG64,
            np.random.PCG64DXSM,
            np.random.MT19937,
            np.random.Philox,
            np.random.SFC64,
        )
    )
    allowed.update(
        _table(
            "numpy.dtypes",
            [n for n in dir(np.dtypes) if n.endswith("DType")],
            callable=False,
        )
    )
    # torch tensors, sizes, devices and dtypes.
    allowed[("torch._utils", "_rebuild_tensor")] = _Allowed(
        th_utils._rebuild_tensor, True
    )
    allowed[("torch._utils", "_rebuild_tensor_v2")] = _Allowed(
        _no_hooks(th_utils._rebuild_tensor_v2, 5), True
    )
    allowed[("torch._utils", "_rebuild_parameter")] = _Allowed(
        _no_hooks(th_utils._rebuild_parameter, 2), True
    )
    allowed[("torch._utils", "_rebuild_parameter_with_state")] = _Allowed(
        _no_hooks(th_utils._rebuild_parameter_with_state, 2), True
    )
    allowed[("torch", "Size")] = _Allowed(th.Size, True)
    allowed[("torch", "device")] = _Allowed(th.device, True)
    for name in dir(th):
        if isinstance(getattr(th, name, None), th.dtype):
            allowed[("torch", name)] = _Allowed(getattr(th, name), False)
    for kind in ("Float", "Double", "Half", "BFloat16", "Long", "Int", "Short"):
        allowed[("torch", f"{kind}Storage")] = _Allowed(
            getattr(th, f"{kind}Storage"), False
        )
    for kind in ("Char", "Byte", "Bool"):
        allowed[("torch", f"{kind}Storage")] = _Allowed(
            getattr(th, f"{kind}Storage"), False
        )
    # Enums and named tuples are rebuilt by calling the class with its value.
    allowed.update(
        {
            k: _Allowed(v.obj, True)
            for k, v in _classes(
                type_aliases.TrainFrequencyUnit, type_aliases.TrainFreq
            ).items()
        }
    )
    allowed[("stable_baselines3.common.policies", "BasePolicy._dummy_schedule")] = (
        _Allowed(policies.BasePolicy._dummy_schedule, False)
    )
    return allowed


_MACHINERY: dict[tuple[str, str], _Allowed] = {}


def _machinery() -> dict[tuple[str, str], _Allowed]:
    if not _MACHINERY:
        _MACHINERY.update(_pickle_machinery())
    return _MACHINERY


def register_safe_class(cls: _C) -> _C:
    """Let :class:`AllowListUnpickler` load ``cls`` (e.g. your own policy class).

    The class becomes loadable by its exact ``(cls.__module__, cls.__qualname__)``
    name: files may reference it and restore its instances (``__new__`` then
    ``__setstate__`` or a ``__dict__`` update), but never call it with
    arguments of their choosing. Only register classes whose state restoration
    is harmless. The same as registering it with
    ``class_registry.register(Use.RESTORE)``; it works as a class decorator too.

    Returns:
        ``cls``.

    Raises:
        TypeError: If ``cls`` is not a class.
    """
    if not isinstance(cls, type):
        raise TypeError(f"register_safe_class takes a class, not {cls!r}.")
    return class_registry.register(Use.RESTORE)(cls)


# The pure-Python unpickler, whose opcode handlers can be overridden one by one.
_PyUnpickler: Any = pickle._Unpickler  # type: ignore[attr-defined]


class AllowListUnpickler(_PyUnpickler):
    """``pickle`` unpickler that resolves and calls only allow-listed globals.

    Args:
        file: Binary file to read the pickle from.
        extra_classes: Further classes allowed for this unpickler only (as
            with :func:`register_safe_class`).
        kwargs: Passed to ``pickle.Unpickler`` (e.g. ``encoding``).
    """

    dispatch = dict(_PyUnpickler.dispatch)

    def __init__(
        self,
        file: BinaryIO,
        *,
        extra_classes: Iterable[type] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(file, **kwargs)
        self._allowed = {**_machinery(), **_classes(*extra_classes)}
        registered = class_registry.classes(Use.RESTORE).values()
        self._class_ids = {id(a.obj) for a in self._allowed.values()}
        self._class_ids.update(id(cls) for cls in registered)
        self._callable_ids = {id(a.obj) for a in self._allowed.values() if a.callable}

    def find_class(self, module: str, name: str) -> Any:
        """Return the allow-listed object for exactly ``(module, name)``.

        Raises:
            UnsafePickleError: If the pair is not on the allow-list.
        """
        if not isinstance(module, str) or not isinstance(name, str):
            raise UnsafePickleError(f"refusing to load {module!r}.{name!r}")
        entry = self._allowed.get((module, name))
        if entry is not None:
            return entry.obj
        cls = class_registry.find(module, name, Use.RESTORE)
        if cls is None:
            raise UnsafePickleError(
                f"refusing to load {module}.{name}: it is not on the allow-list of "
                "classes that are safe to unpickle, and loading it could run "
                "code from the file",
            )
        self._class_ids.add(id(cls))
        return cls

    def _refuse_call(self, func: Any) -> None:
        if id(func) not in self._callable_ids:
            raise UnsafePickleError(
                f"refusing to call {_describe(func)} while unpickling: only a few "
                "rebuilding functions may be called by a file",
            )

    def _load_reduce(self) -> None:
        self._refuse_call(self.stack[-2])
        _PyUnpickler.load_reduce(self)

    def _load_newobj(self) -> None:
        self._check_class(self.stack[-2])
        _PyUnpickler.load_newobj(self)

    def _load_newobj_ex(self) -> None:
        self._check_class(self.stack[-3])
        _PyUnpickler.load_newobj_ex(self)

    def _load_build(self) -> None:
        target = self.stack[-2]
        if id(type(target)) not in self._class_ids or isinstance(target, type):
            raise UnsafePickleError(
                f"refusing to set the state of {_describe(target)}: only instances "
                "of allow-listed classes may be restored",
            )
        _PyUnpickler.load_build(self)

    def _instantiate(self, klass: Any, args: list) -> None:
        self._refuse_call(klass)
        super()._instantiate(klass, args)

    def _check_class(self, cls: Any) -> None:
        if not isinstance(cls, type) or id(cls) not in self._class_ids:
            raise UnsafePickleError(
                f"refusing to create an instance of {_describe(cls)}",
            )

    dispatch[pickle.REDUCE[0]] = _load_reduce
    dispatch[pickle.NEWOBJ[0]] = _load_newobj
    dispatch[pickle.NEWOBJ_EX[0]] = _load_newobj_ex
    dispatch[pickle.BUILD[0]] = _load_build


def _describe(obj: Any) -> str:
    if isinstance(obj, type | types.FunctionType | types.BuiltinFunctionType):
        return f"{getattr(obj, '__module__', '?')}.{obj.__qualname__}"
    return f"an object of type {type(obj).__qualname__}"


def safe_loads(data: bytes, *, extra_classes: Iterable[type] = ()) -> Any:
    """Unpickle ``data`` with :class:`AllowListUnpickler`.

    Raises:
        UnsafePickleError: If the data needs anything outside the allow-list.
        CorruptFileError: If the data is not a readable pickle.
    """
    unpickler = AllowListUnpickler(io.BytesIO(data), extra_classes=extra_classes)
    try:
        return unpickler.load()
    except UnsafePickleError:
        raise
    except Exception as exc:  # a malformed stream fails in many ways
        raise CorruptFileError(
            f"not a readable pickle ({type(exc).__name__}: {exc})"
        ) from exc


def _shim(extra_classes: Iterable[type]) -> types.ModuleType:
    """A stand-in for the ``pickle`` module that ``torch.load`` can use."""
    extra = tuple(extra_classes)

    class Unpickler(AllowListUnpickler):
        def __init__(self, file: BinaryIO, **kwargs: Any) -> None:
            super().__init__(file, extra_classes=extra, **kwargs)

    shim = types.ModuleType("pickle")
    shim.Unpickler = Unpickler  # type: ignore[attr-defined]
    shim.load = lambda f, **kw: Unpickler(f, **kw).load()  # type: ignore[attr-defined]
    return shim


def safe_torch_load(
    path: str | os.PathLike | BinaryIO,
    *,
    extra_classes: Iterable[type] = (),
    **kwargs: Any,
) -> Any:
    """``torch.load`` through :class:`AllowListUnpickler`.

    Tensors, state dicts, and the Stable-Baselines3 and imitation objects on
    the allow-list load; anything else raises :class:`UnsafePickleError`.

    Args:
        path: The file (or a binary file object).
        extra_classes: Further classes allowed for this load only.
        kwargs: Passed to ``torch.load`` (e.g. ``map_location``).

    Raises:
        FileNotFoundError: If there is no such file.
        UnsafePickleError: If the file needs anything outside the allow-list.
        CorruptFileError: If the file is truncated or corrupt.
    """
    where = path if isinstance(path, str | os.PathLike) else "the file"
    shim = _shim(extra_classes)
    # Build the allow-list outside the try: a failure here is not the file's.
    _machinery()
    class_registry.classes(Use.RESTORE)
    try:
        return th.load(path, weights_only=False, pickle_module=shim, **kwargs)
    except (UnsafePickleError, FileNotFoundError, IsADirectoryError):
        raise
    except Exception as exc:  # truncated zips and pickles fail in many ways
        raise CorruptFileError(
            f"{where} is truncated or corrupt and cannot be loaded "
            f"({type(exc).__name__}: {exc}). Save it again.",
        ) from exc


def allowed_names() -> Mapping[tuple[str, str], bool]:
    """The allow-list: ``(module, qualified name)`` to whether it may be called."""
    names = {k: False for k in class_registry.classes(Use.RESTORE)}
    names.update({k: v.callable for k, v in _machinery().items()})
    return names
