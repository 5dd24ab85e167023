"""A registry of named values, each given directly or lazily as ``module:attr``.

The library keeps its loaders in registries (``policy_registry``,
``reward_registry``). :func:`build_loader_fn_require_space` and
:func:`build_loader_fn_require_env` turn a plain factory into such a loader.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

from stable_baselines3.common.vec_env import VecEnv

T = TypeVar("T")

LoaderFn = Callable[..., T]
"""What registries commonly hold: ``loader(venv, **kwargs) -> value``.

Subscript it with the loaded type, e.g. ``LoaderFn[BasePolicy]``.
"""


def _split_spec(spec: str) -> tuple[str, str]:
    """Split ``"module.path:attr"`` into module and attribute path.

    Raises:
        ValueError: If ``spec`` is not of that form.
    """
    module_name, sep, attr_path = spec.partition(":")
    if not sep or not module_name or not attr_path:
        raise ValueError(f"{spec!r} is not of the form 'module.path:attr'.")
    return module_name, attr_path


def load_attr(spec: str) -> object:
    """Import the attribute named by ``spec``.

    Args:
        spec: ``"module.path:attr"``; ``attr`` may be dotted
            (``"module:Class.method"``).

    Returns:
        The attribute.

    Raises:
        ValueError: If ``spec`` is not of the form ``module.path:attr``.
        ImportError: If the module cannot be imported.
        AttributeError: If the module has no such attribute.
    """
    module_name, attr_path = _split_spec(spec)
    obj: object = importlib.import_module(module_name)
    for attr in attr_path.split("."):
        obj = getattr(obj, attr)
    return obj


@dataclasses.dataclass(frozen=True)
class _Indirect:
    """A value not loaded yet: the ``module:attr`` it is loaded from."""

    spec: str


class Registry(Generic[T]):
    """Values by key; a value may be registered lazily as a ``module:attr`` string.

    Lazy (``indirect``) registration lets a key be listed without importing
    its implementation (say, one with heavy optional dependencies) until the
    first ``get``.

    Example::

        loaders: Registry[Callable[..., Policy]] = Registry()
        loaders.register("mine", my_loader)
        loaders.register("heavy", indirect="my_package.heavy:load")
        loaders.get("heavy")  # imports my_package.heavy now
    """

    def __init__(self) -> None:
        """Make an empty registry."""
        self._entries: dict[str, T | _Indirect] = {}

    def get(self, key: str) -> T:
        """The value registered under ``key``, loading it if it was lazy.

        Args:
            key: The key.

        Returns:
            The value.

        Raises:
            KeyError: If ``key`` is not registered; the message lists the keys.
            ImportError: If a lazy value's module cannot be imported (the
                entry stays, so a later ``get`` tries again).
            AttributeError: If a lazy value's module lacks the attribute.
        """
        if key not in self._entries:
            raise KeyError(
                f"{key!r} is not registered; known keys: {', '.join(self.keys())}.",
            )
        entry = self._entries[key]
        if isinstance(entry, _Indirect):
            value = cast(T, load_attr(entry.spec))
            self._entries[key] = value
            return value
        return entry

    def register(
        self,
        key: str,
        value: T | None = None,
        *,
        indirect: str | None = None,
    ) -> None:
        """Register ``value``, or a lazy ``indirect`` ``module:attr``, under ``key``.

        Args:
            key: The key; must not be registered yet.
            value: The value.
            indirect: Where to load the value from on first ``get``, as
                ``"module.path:attr"``.

        Raises:
            KeyError: If ``key`` is already registered.
            ValueError: If not exactly one of ``value`` and ``indirect`` is
                given, or ``indirect`` is not of the form ``module.path:attr``.
        """
        if key in self._entries:
            raise KeyError(f"{key!r} is already registered.")
        if (value is None) == (indirect is None):
            raise ValueError("Give exactly one of value and indirect.")
        if indirect is not None:
            _split_spec(indirect)
            self._entries[key] = _Indirect(indirect)
        else:
            self._entries[key] = cast(T, value)

    def keys(self) -> list[str]:
        """The registered keys, in registration order.

        Returns:
            The keys.
        """
        return list(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries


def build_loader_fn_require_space(
    fn: Callable[..., T],
    **kwargs: Any,
) -> LoaderFn[T]:
    """Make a loader from a factory taking an observation and an action space.

    Args:
        fn: Called as ``fn(observation_space, action_space, **kwargs)``, e.g. a
            policy class such as ``ZeroPolicy``.
        kwargs: Fixed keyword arguments for ``fn``.

    Returns:
        ``loader(venv, **more_kwargs)``, which calls ``fn`` with ``venv``'s
        spaces, ``kwargs`` and ``more_kwargs`` (the latter win).
    """

    @functools.wraps(fn)
    def loader(venv: VecEnv, **more_kwargs: Any) -> T:
        return fn(
            venv.observation_space,
            venv.action_space,
            **{**kwargs, **more_kwargs},
        )

    return loader


def build_loader_fn_require_env(
    fn: Callable[..., T],
    **kwargs: Any,
) -> LoaderFn[T]:
    """Make a loader from a factory taking the environment.

    Args:
        fn: Called as ``fn(venv, **kwargs)``.
        kwargs: Fixed keyword arguments for ``fn``.

    Returns:
        ``loader(venv, **more_kwargs)``, which calls ``fn(venv, ...)`` with
        ``kwargs`` and ``more_kwargs`` (the latter win).
    """

    @functools.wraps(fn)
    def loader(venv: VecEnv, **more_kwargs: Any) -> T:
        return fn(venv, **{**kwargs, **more_kwargs})

    return loader
