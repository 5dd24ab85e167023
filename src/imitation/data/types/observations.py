"""Observation batches: plain arrays, or ``DictObs`` for dict spaces; type aliases."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, overload

import numpy as np
import torch as th

from imitation.util import util

AnyTensor = np.ndarray | th.Tensor
"""A numpy array or a torch tensor."""

T = TypeVar("T")

TensorVar = TypeVar("TensorVar", np.ndarray, th.Tensor)
"""A numpy array or a torch tensor, the same kind wherever it is used."""

ObsVar = TypeVar("ObsVar", np.ndarray, "DictObs")
"""An observation batch, array or ``DictObs``, the same kind wherever it is used."""

Pair = tuple[T, T]
"""Two values of the same type, e.g. ``Pair[Trajectory]``."""


class DictObs:
    """A batch of dict observations: a mapping from keys to equal-length arrays.

    Indexing, slicing and ``len`` act on the shared leading axis, so a ``DictObs``
    can stand wherever an observation array of shape ``(n,) + obs_shape`` is used.
    Use :meth:`get` (or :meth:`unwrap`) to reach an individual array.
    """

    __slots__ = ("_d",)

    def __init__(self, d: Mapping[str, np.ndarray]) -> None:
        """Wrap ``d``; every value must be an array with the same leading length.

        Args:
            d: Mapping from observation key to array.

        Raises:
            ValueError: If ``d`` is empty, a value is not an array or has no
                leading axis, or the leading lengths differ.
        """
        if not isinstance(d, Mapping) or not d:
            raise ValueError("DictObs needs a non-empty mapping of key -> array.")
        arrays = {}
        for key, value in d.items():
            if isinstance(value, th.Tensor):
                raise ValueError(
                    f"DictObs value for key {key!r} is a torch.Tensor; pass numpy "
                    "arrays (convert with .cpu().numpy()).",
                )
            arr = np.asarray(value)
            if arr.ndim == 0:
                raise ValueError(
                    f"DictObs value for key {key!r} is a scalar; each value needs "
                    "a leading (batch or time) axis.",
                )
            arrays[key] = arr
        lengths = {key: len(arr) for key, arr in arrays.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(
                f"DictObs arrays have different leading lengths: {lengths}.",
            )
        self._d: dict[str, np.ndarray] = arrays

    @classmethod
    def from_obs_list(cls, obs_list: Sequence[Mapping[str, np.ndarray]]) -> DictObs:
        """Stack a sequence of single dict observations into one ``DictObs``."""
        return cls._join(obs_list, np.stack, "stack", "dict observations")

    @classmethod
    def _join(
        cls,
        items: Sequence[DictObs | Mapping[str, np.ndarray]],
        join: Callable[[list[np.ndarray]], np.ndarray],
        verb: str,
        noun: str,
    ) -> DictObs:
        """Join ``items`` key by key with ``join`` (``np.stack``, ``np.concatenate``).

        Raises:
            ValueError: If ``items`` is empty or their keys differ (the message
                says "Cannot ``verb`` ... ``noun``").
        """
        if len(items) == 0:
            raise ValueError(f"Cannot {verb} an empty list of {noun}.")
        mappings = [_as_mapping(x) for x in items]
        keys = mappings[0].keys()
        for mapping in mappings[1:]:
            if mapping.keys() != keys:
                raise ValueError(
                    f"Cannot {verb} {noun} with keys {sorted(keys)} and "
                    f"{sorted(mapping.keys())}.",
                )
        return cls({k: join([m[k] for m in mappings]) for k in keys})

    def __len__(self) -> int:
        return len(next(iter(self._d.values())))

    @overload
    def __getitem__(self, index: int) -> dict[str, np.ndarray]: ...

    @overload
    def __getitem__(self, index: slice | np.ndarray) -> DictObs: ...

    def __getitem__(self, index: Any) -> DictObs | dict[str, np.ndarray]:
        """Index every array along the leading axis.

        An integer index gives one observation as a plain dict of arrays (the
        form a ``gymnasium.spaces.Dict`` sample takes); a slice or index array
        gives a ``DictObs``.
        """
        if isinstance(index, str):
            raise TypeError(
                f"DictObs is indexed along its leading axis; use .get({index!r}) "
                "to read one key.",
            )
        if isinstance(index, int | np.integer):
            return {k: v[index] for k, v in self._d.items()}
        return DictObs({k: v[index] for k, v in self._d.items()})

    def get(self, key: str) -> np.ndarray:
        """Return the array stored under ``key``."""
        return self._d[key]

    def keys(self):  # noqa: ANN201 - dict view type
        """Keys of the observation dict."""
        return self._d.keys()

    def values(self):  # noqa: ANN201 - dict view type
        """Arrays of the observation dict."""
        return self._d.values()

    def items(self):  # noqa: ANN201 - dict view type
        """(key, array) pairs of the observation dict."""
        return self._d.items()

    def unwrap(self) -> dict[str, np.ndarray]:
        """Return a shallow copy of the underlying dict of arrays."""
        return dict(self._d)

    def map_arrays(self, fn: Any) -> DictObs:
        """Apply ``fn`` to every array and wrap the results in a new ``DictObs``."""
        return DictObs({k: fn(v) for k, v in self._d.items()})

    @property
    def shape(self) -> dict[str, tuple[int, ...]]:
        """Shape of each array, by key."""
        return {k: v.shape for k, v in self._d.items()}

    @property
    def dtype(self) -> dict[str, np.dtype]:
        """Dtype of each array, by key."""
        return {k: v.dtype for k, v in self._d.items()}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DictObs):
            return NotImplemented
        return self._d.keys() == other._d.keys() and all(
            np.array_equal(v, other._d[k]) for k, v in self._d.items()
        )

    def __repr__(self) -> str:
        return f"DictObs({self._d!r})"

    @classmethod
    def stack(cls, items: Sequence[DictObs | Mapping[str, np.ndarray]]) -> DictObs:
        """Stack dict observations along a new leading axis."""
        return cls._join(items, np.stack, "stack", "dict observations")

    @classmethod
    def concatenate(cls, items: Sequence[DictObs]) -> DictObs:
        """Concatenate ``DictObs`` batches along the leading axis."""
        return cls._join(items, np.concatenate, "concatenate", "DictObs")


def _as_mapping(x: DictObs | Mapping[str, np.ndarray]) -> Mapping[str, np.ndarray]:
    return x.unwrap() if isinstance(x, DictObs) else x


Observation = np.ndarray | DictObs
"""An observation batch: a plain array, or a DictObs for dict spaces."""


def assert_not_dictobs(x: Observation) -> np.ndarray:
    """Return ``x`` if it is an array; raise ``TypeError`` for a ``DictObs``."""
    if isinstance(x, DictObs):
        raise TypeError(
            "This function does not support dict observations (DictObs).",
        )
    return x


def maybe_unwrap_dictobs(
    x: Observation | T,
) -> np.ndarray | dict[str, np.ndarray] | T:
    """Turn a ``DictObs`` into a plain dict of arrays; pass anything else through."""
    return x.unwrap() if isinstance(x, DictObs) else x


def maybe_wrap_in_dictobs(
    x: np.ndarray | Mapping[str, np.ndarray] | tuple[np.ndarray, ...],
) -> Observation:
    """Wrap a dict of arrays in ``DictObs``; pass arrays through.

    Raises:
        TypeError: For tuple observations (``spaces.Tuple``), which are not
            supported.
    """
    if isinstance(x, Mapping):
        return DictObs(x)
    if isinstance(x, tuple):
        raise TypeError(
            "Tuple observation spaces are not supported; use a Dict space instead.",
        )
    return x


def concatenate_maybe_dictobs(arrs: Sequence[Observation]) -> Observation:
    """Concatenate arrays or ``DictObs`` batches along the leading axis.

    Raises:
        ValueError: If ``arrs`` is empty.
        TypeError: If arrays and ``DictObs`` are mixed.
    """
    if len(arrs) == 0:
        raise ValueError("Nothing to concatenate: got an empty sequence.")
    if isinstance(arrs[0], DictObs):
        if not all(isinstance(a, DictObs) for a in arrs):
            raise TypeError("Cannot concatenate a mix of DictObs and arrays.")
        return DictObs.concatenate(arrs)  # type: ignore[arg-type]
    if any(isinstance(a, DictObs) for a in arrs):
        raise TypeError("Cannot concatenate a mix of DictObs and arrays.")
    return np.concatenate(arrs)  # type: ignore[arg-type]


def stack_maybe_dictobs(arrs: Sequence[Observation]) -> Observation:
    """Stack arrays or single dict observations along a new leading axis."""
    if len(arrs) == 0:
        raise ValueError("Nothing to stack: got an empty sequence.")
    if isinstance(arrs[0], DictObs | Mapping):
        return DictObs.stack(arrs)  # type: ignore[arg-type]
    return np.stack(arrs)  # type: ignore[arg-type]


def map_maybe_dict(fn: Callable[[Any], Any], maybe_dict: Any) -> Any:
    """Apply ``fn`` to each value of a mapping or ``DictObs``, or to a single value.

    Args:
        fn: The function.
        maybe_dict: A mapping (gives a ``dict`` of results), a ``DictObs``
            (gives a ``DictObs``, so ``fn`` must return arrays), or anything
            else (gives ``fn(maybe_dict)``).

    Returns:
        The result(s), in the same structure.
    """
    if isinstance(maybe_dict, DictObs):
        return maybe_dict.map_arrays(fn)
    if isinstance(maybe_dict, Mapping):
        return {k: fn(v) for k, v in maybe_dict.items()}
    return fn(maybe_dict)


def index_maybe_dict(x: Any, idx: Any) -> Any:
    """Rows ``idx`` of an array or tensor, or of each value of a dict of them.

    Args:
        x: An array or tensor, a mapping of them, or a ``DictObs``.
        idx: Anything that indexes the leading axis (an index array or tensor,
            a boolean mask, a slice).

    Returns:
        The selected rows, in the same structure.
    """
    return map_maybe_dict(lambda v: v[idx], x)


def to_tensor_maybe_dict(x: Any, device: th.device | str | None = None) -> Any:
    """An array as a tensor, a dict or ``DictObs`` as a dict of tensors.

    Memory is shared with writable numpy arrays, and tensors already on
    ``device`` are returned as they are (see ``util.safe_to_tensor``).

    Args:
        x: An array or tensor, a mapping of them, or a ``DictObs``.
        device: Where the tensors should be (default: where they are, or the
            CPU for arrays).

    Returns:
        A tensor, or a ``dict`` of tensors for dict observations.
    """
    kwargs = {} if device is None else {"device": device}
    return map_maybe_dict(
        lambda v: util.safe_to_tensor(v, **kwargs), maybe_unwrap_dictobs(x)
    )


def to_numpy_maybe_dict(x: Any) -> Any:
    """A tensor as an array, a dict or ``DictObs`` as a dict of arrays.

    Args:
        x: An array or tensor, a mapping of them, or a ``DictObs``.

    Returns:
        An array, or a ``dict`` of arrays for dict observations.
    """
    return map_maybe_dict(util.safe_to_numpy, maybe_unwrap_dictobs(x))


def dataclass_quick_asdict(obj: Any) -> dict[str, Any]:
    """Shallow ``dataclasses.asdict``: field values are not copied or recursed into.

    ``dataclasses.asdict`` deep-copies every array, which is slow and pointless
    for read-only data.
    """
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
