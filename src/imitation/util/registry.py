"""A registry of named values, optionally loaded lazily from ``module:attr``."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Generic, TypeVar, cast

T = TypeVar("T")


def load_attr(spec: str) -> object:
    """Import ``module.path:attr`` and return the attribute.

    Raises:
        ValueError: If ``spec`` is not of the form ``module:attr``.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"{spec!r} is not of the form 'module.path:attr'.")
    obj: object = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


class Registry(Generic[T]):
    """Values by key; a value may be given lazily as a ``module:attr`` string."""

    def __init__(self) -> None:
        """Make an empty registry."""
        self._values: dict[str, T] = {}
        self._indirect: dict[str, str] = {}

    def get(self, key: str) -> T:
        """The value registered under ``key`` (importing it if registered lazily).

        Raises:
            KeyError: If ``key`` is not registered; the message lists the keys.
        """
        if key not in self._values:
            if key not in self._indirect:
                raise KeyError(
                    f"{key!r} is not registered; known: {sorted(self.keys())}."
                )
            self._values[key] = cast(T, load_attr(self._indirect.pop(key)))
        return self._values[key]

    def register(
        self, key: str, value: T | None = None, *, indirect: str | None = None
    ) -> None:
        """Register ``value`` (or a lazy ``module:attr`` string) under ``key``.

        Raises:
            KeyError: If ``key`` is already registered.
            ValueError: If not exactly one of ``value`` and ``indirect`` is given.
        """
        if key in self:
            raise KeyError(f"{key!r} is already registered.")
        if (value is None) == (indirect is None):
            raise ValueError("Give exactly one of value and indirect.")
        if indirect is not None:
            self._indirect[key] = indirect
        else:
            self._values[key] = value  # type: ignore[assignment]

    def keys(self) -> Iterable[str]:
        """All registered keys."""
        return set(self._values) | set(self._indirect)

    def __contains__(self, key: object) -> bool:
        return key in self._values or key in self._indirect
