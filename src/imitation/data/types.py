"""Data types for trajectories and transitions, with validation on construction.

A *trajectory* is one episode (or a fragment of one): ``N + 1`` observations and
``N`` actions. *Transitions* are trajectories flattened into independent samples,
the form most algorithms train on. Observations are either plain arrays or
:class:`DictObs`, a dict of arrays for ``gymnasium.spaces.Dict`` observation
spaces that behaves like an array along its leading (time) axis.

Every constructor checks lengths, shapes and dtypes and raises ``ValueError``
naming the offending field, so malformed data fails where it is made rather than
deep inside a training loop.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypedDict, TypeVar, overload

import numpy as np
import torch as th

AnyPath = str | bytes | os.PathLike
"""Anything that can be turned into a filesystem path."""

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
        if len(obs_list) == 0:
            raise ValueError("Cannot build a DictObs from an empty list.")
        keys = obs_list[0].keys()
        for obs in obs_list[1:]:
            if obs.keys() != keys:
                raise ValueError(
                    f"Dict observations have different keys: {sorted(keys)} and "
                    f"{sorted(obs.keys())}.",
                )
        return cls({k: np.stack([o[k] for o in obs_list]) for k in keys})

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
        return cls.from_obs_list([_as_mapping(x) for x in items])

    @classmethod
    def concatenate(cls, items: Sequence[DictObs]) -> DictObs:
        """Concatenate ``DictObs`` batches along the leading axis."""
        if len(items) == 0:
            raise ValueError("Cannot concatenate an empty list of DictObs.")
        keys = items[0].keys()
        for item in items[1:]:
            if item.keys() != keys:
                raise ValueError(
                    f"Cannot concatenate DictObs with keys {sorted(keys)} and "
                    f"{sorted(item.keys())}.",
                )
        return cls({k: np.concatenate([x.get(k) for x in items]) for k in keys})


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


def dataclass_quick_asdict(obj: Any) -> dict[str, Any]:
    """Shallow ``dataclasses.asdict``: field values are not copied or recursed into.

    ``dataclasses.asdict`` deep-copies every array, which is slow and pointless
    for read-only data.
    """
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def _obs_len(obs: Observation) -> int:
    return len(obs)


def _describe_non_finite(a: np.ndarray) -> tuple[str, str]:
    """Which non-finite values ``a`` holds, and how many and where.

    Only called once a (fast) ``np.isfinite`` check has failed.

    Returns:
        ``(kinds, detail)``, e.g. ``("NaN and +inf", "2 of 40, the first at
        index 3")``.
    """
    counts = {
        "NaN": int(np.isnan(a).sum()),
        "+inf": int(np.isposinf(a).sum()),
        "-inf": int(np.isneginf(a).sum()),
    }
    kinds = " and ".join(kind for kind, n in counts.items() if n)
    first = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
    where = first[0] if len(first) == 1 else first
    return kinds, f"{sum(counts.values())} of {a.size}, the first at index {where}"


def _check_finite(name: str, a: np.ndarray, fix: str, key: str | None = None) -> None:
    """Raise ``ValueError`` if the float array ``a`` holds NaN or +-inf.

    Args:
        name: The field, for the message.
        a: The array.
        fix: How to fix it, for the message.
        key: The ``DictObs`` key of ``a``, if any.
    """
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        kinds, detail = _describe_non_finite(a)
        if key is not None:
            detail = f"under key {key!r}: {detail}"
        raise ValueError(f"{name} contains {kinds} values ({detail}); {fix}")


def _check_numeric(name: str, arr: Observation) -> None:
    """Reject object/string dtypes and non-finite values (NaN, +-inf)."""
    items = arr.items() if isinstance(arr, DictObs) else [(None, arr)]
    for key, a in items:
        if a.dtype.kind not in "biuf":
            raise ValueError(
                f"{name} must have a numeric or bool dtype, got {a.dtype}.",
            )
        _check_finite(
            name,
            a,
            "clean the data (e.g. np.nan_to_num, or clip the values to finite "
            "bounds) or drop the affected trajectories before using it.",
            key=key,
        )


def _infos_as_array(infos: Any) -> Any:
    """Turn a list or tuple of info dicts into a 1-D object array.

    Other values (arrays, None, anything invalid) are returned unchanged for
    :func:`_check_infos` to judge. The elements are placed one by one, so
    numpy never tries to broadcast them (an info may hold equal-length lists).
    """
    if isinstance(infos, list | tuple):
        array = np.empty(len(infos), dtype=object)
        for i, info in enumerate(infos):
            array[i] = info
        return array
    return infos


def _check_infos(infos: np.ndarray | None, n: int) -> None:
    if infos is None:
        return
    if not isinstance(infos, np.ndarray):
        raise ValueError(
            "infos must be a numpy array (or list) of dicts, or None, got "
            f"{type(infos).__name__}.",
        )
    if len(infos) != n:
        raise ValueError(
            f"infos and acts have different lengths: len(infos)={len(infos)}, "
            f"len(acts)={n}.",
        )


def _check_acts(value: Any) -> None:
    if not isinstance(value, np.ndarray):
        raise ValueError(
            f"acts must be a numpy array, got {type(value).__name__} (dict "
            "actions are not supported).",
        )


def _check_array(name: str, value: Any) -> None:
    if not isinstance(value, np.ndarray | DictObs):
        raise ValueError(
            f"{name} must be a numpy array (or DictObs), got {type(value).__name__}.",
        )
    if isinstance(value, np.ndarray) and value.ndim == 0:
        raise ValueError(f"{name} must have a leading axis, got a 0-d array.")


@dataclasses.dataclass(frozen=True, eq=False)
class Trajectory:
    """One episode, or a fragment of one."""

    obs: Observation
    """Observations, shape ``(trajectory_len + 1,) + observation_shape``."""

    acts: np.ndarray
    """Actions, shape ``(trajectory_len,) + action_shape``."""

    infos: np.ndarray | None
    """An array of info dicts, shape ``(trajectory_len,)``, or None.

    A list (or tuple) of dicts is accepted and stored as an object array."""

    terminal: bool
    """Does this trajectory (fragment) end in a terminal state?"""

    def __len__(self) -> int:
        """Number of transitions: ``len(acts)`` (one less than ``len(obs)``)."""
        return len(self.acts)

    def __post_init__(self) -> None:
        """Validate field types, lengths and values (infos lists become arrays).

        Raises:
            ValueError: Naming the field at fault.
        """
        object.__setattr__(self, "infos", _infos_as_array(self.infos))
        _check_array("obs", self.obs)
        _check_acts(self.acts)
        _check_array("acts", self.acts)
        n_obs, n_acts = _obs_len(self.obs), len(self.acts)
        if n_obs != n_acts + 1:
            raise ValueError(
                "obs must have exactly one more entry than acts: "
                f"len(obs)={n_obs}, len(acts)={n_acts}.",
            )
        if n_acts == 0:
            raise ValueError(
                "Degenerate trajectory: it must contain at least one action.",
            )
        _check_infos(self.infos, n_acts)
        _check_numeric("obs", self.obs)
        _check_numeric("acts", self.acts)
        if not isinstance(self.terminal, bool | np.bool_):
            raise ValueError(f"terminal must be a bool, got {self.terminal!r}.")

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        return _fields_equal(self, other)

    __hash__ = None  # type: ignore[assignment]


def _fields_equal(a: Any, b: Any) -> bool:
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if field.name == "infos":
            if (x is None) != (y is None):
                return False
            if x is not None and not _values_equal(list(x), list(y)):
                return False
        elif isinstance(x, DictObs) or isinstance(y, DictObs):
            if not (isinstance(x, DictObs) and isinstance(y, DictObs)) or x != y:
                return False
        elif isinstance(x, np.ndarray):
            if not isinstance(y, np.ndarray) or not np.array_equal(x, y):
                return False
        elif x != y:
            return False
    return True


def _values_equal(x: Any, y: Any) -> bool:
    """Structural equality for info values, which may hold numpy arrays."""
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return bool(np.array_equal(x, y))
    if isinstance(x, Mapping) and isinstance(y, Mapping):
        return x.keys() == y.keys() and all(_values_equal(x[k], y[k]) for k in x)
    if isinstance(x, list | tuple) and isinstance(y, list | tuple):
        return len(x) == len(y) and all(map(_values_equal, x, y))
    return bool(x == y)


def _check_rews(rews: Any, n: int) -> None:
    if not isinstance(rews, np.ndarray):
        raise ValueError(f"rews must be a numpy array, got {type(rews).__name__}.")
    if rews.shape != (n,):
        raise ValueError(
            f"rews must have shape (len(acts),) = ({n},), got {rews.shape}.",
        )
    if rews.dtype.kind != "f":
        raise ValueError(f"rews must have a float dtype, got {rews.dtype}.")
    _check_finite(
        "rews",
        rews,
        "rewards must be finite: clip them (e.g. np.clip) or replace the "
        "non-finite ones (np.nan_to_num) before building the trajectories.",
    )


@dataclasses.dataclass(frozen=True, eq=False)
class TrajectoryWithRew(Trajectory):
    """A :class:`Trajectory` that also records the reward of each step."""

    rews: np.ndarray
    """Rewards, shape ``(trajectory_len,)``, floating point."""

    def __post_init__(self) -> None:
        """Validate as :class:`Trajectory`, and ``rews`` against ``acts``."""
        super().__post_init__()
        _check_rews(self.rews, len(self.acts))


TransitionsMinimalSelf = TypeVar("TransitionsMinimalSelf", bound="TransitionsMinimal")
"""The type of ``self`` in methods of :class:`TransitionsMinimal` subclasses."""


@dataclasses.dataclass(frozen=True, eq=False)
class TransitionsMinimal(Sequence[Mapping[str, Any]]):
    """A batch of (observation, action) pairs, the minimum that BC needs.

    ``len`` is the number of samples. ``transitions[i]`` returns a dict of field
    values for sample ``i``; a slice or an index array returns the same class
    holding the selected samples.
    """

    obs: Observation
    """Observations, shape ``(batch_size,) + observation_shape``."""

    acts: np.ndarray
    """Actions, shape ``(batch_size,) + action_shape``."""

    infos: np.ndarray
    """Array of info dicts, shape ``(batch_size,)``.

    A list (or tuple) of dicts is accepted and stored as an object array."""

    def __len__(self) -> int:
        """Number of samples."""
        return len(self.obs)

    def __post_init__(self) -> None:
        """Validate field types and lengths (infos lists become arrays).

        Raises:
            ValueError: Naming the field at fault and both lengths.
        """
        object.__setattr__(self, "infos", _infos_as_array(self.infos))
        _check_array("obs", self.obs)
        _check_acts(self.acts)
        _check_array("acts", self.acts)
        if len(self.obs) != len(self.acts):
            raise ValueError(
                "obs and acts must have the same length: "
                f"len(obs)={len(self.obs)}, len(acts)={len(self.acts)}.",
            )
        if self.infos is None:
            raise ValueError(
                "infos must be an array of dicts; use "
                "np.array([{}] * n) when there are none.",
            )
        _check_infos(self.infos, len(self.acts))
        _check_numeric("obs", self.obs)
        _check_numeric("acts", self.acts)

    @overload  # type: ignore[override]
    def __getitem__(
        self: TransitionsMinimalSelf, key: slice | np.ndarray
    ) -> TransitionsMinimalSelf: ...

    @overload
    def __getitem__(self, key: int) -> dict[str, Any]: ...

    def __getitem__(self, key: Any) -> Any:
        """Index one sample (a dict) or select several (same class)."""
        values = dataclass_quick_asdict(self)
        if isinstance(key, np.ndarray) and key.ndim == 0:
            key = key.item()
        if isinstance(key, int | np.integer):
            return {k: v[key] for k, v in values.items()}
        if isinstance(key, slice | np.ndarray | list):
            if isinstance(key, list):
                key = np.asarray(key, dtype=np.intp if len(key) == 0 else None)
            selected = {k: v[key] for k, v in values.items()}
            return _replace_unchecked(self, selected)
        raise TypeError(
            f"Transitions can be indexed by int, slice or index array, not "
            f"{type(key).__name__}.",
        )

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        for i in range(len(self)):
            yield self[i]

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        return _fields_equal(self, other)

    __hash__ = None  # type: ignore[assignment]


def _replace_unchecked(
    obj: TransitionsMinimalSelf, values: dict[str, Any]
) -> TransitionsMinimalSelf:
    """Build a new instance of ``type(obj)`` from fields already known valid.

    Selecting rows from a validated batch keeps it valid, so the validation
    (which scans for NaN and inf) is skipped on this hot path.
    """
    new = object.__new__(type(obj))
    for name, value in values.items():
        object.__setattr__(new, name, value)
    return new


@dataclasses.dataclass(frozen=True, eq=False)
class Transitions(TransitionsMinimal):
    """A batch of (obs, act, next_obs, done) transitions."""

    next_obs: Observation
    """Next observations, same shape and dtype as ``obs``."""

    dones: np.ndarray
    """Whether the episode ended after each transition, shape ``(batch_size,)``."""

    def __post_init__(self) -> None:
        """Validate as :class:`TransitionsMinimal`, plus ``next_obs`` and ``dones``."""
        super().__post_init__()
        _check_array("next_obs", self.next_obs)
        if isinstance(self.obs, DictObs) != isinstance(self.next_obs, DictObs):
            raise ValueError("obs and next_obs must both be DictObs or both arrays.")
        if self.obs.shape != self.next_obs.shape:
            raise ValueError(
                "obs and next_obs must have the same shape: "
                f"obs.shape={self.obs.shape}, next_obs.shape={self.next_obs.shape}.",
            )
        if self.obs.dtype != self.next_obs.dtype:
            raise ValueError(
                "obs and next_obs must have the same dtype: "
                f"obs.dtype={self.obs.dtype}, next_obs.dtype={self.next_obs.dtype}.",
            )
        _check_numeric("next_obs", self.next_obs)
        _check_array("dones", self.dones)
        if self.dones.shape != (len(self.acts),):
            raise ValueError(
                "dones must have shape (len(acts),): "
                f"dones.shape={self.dones.shape}, len(acts)={len(self.acts)}.",
            )
        if self.dones.dtype != np.bool_:
            raise ValueError(f"dones must have dtype bool, got {self.dones.dtype}.")


@dataclasses.dataclass(frozen=True, eq=False)
class TransitionsWithRew(Transitions):
    """A batch of transitions that also records each step's reward."""

    rews: np.ndarray
    """Rewards, shape ``(batch_size,)``, floating point."""

    def __post_init__(self) -> None:
        """Validate as :class:`Transitions`, and ``rews`` against ``acts``."""
        super().__post_init__()
        _check_rews(self.rews, len(self.acts))


TrajectoryPair = Pair[Trajectory]
"""Two trajectories (fragments) to compare."""

TrajectoryWithRewPair = Pair[TrajectoryWithRew]
"""Two trajectories (fragments) with rewards to compare."""


class _ObsAndActs(TypedDict):
    obs: np.ndarray | th.Tensor | DictObs | Mapping[str, th.Tensor]
    acts: np.ndarray | th.Tensor


class TransitionMappingNoNextObs(_ObsAndActs, total=False):
    """A batch of transitions as a dict: ``obs`` and ``acts``, maybe ``infos``.

    What :func:`transitions_collate_fn` makes of ``TransitionsMinimal`` samples;
    observations may be arrays, tensors, ``DictObs`` or dicts of tensors.
    """

    infos: Sequence[Mapping[str, Any]] | np.ndarray


class TransitionMapping(TransitionMappingNoNextObs):
    """A batch of transitions as a dict, with ``next_obs`` and ``dones`` too."""

    next_obs: np.ndarray | th.Tensor | DictObs | Mapping[str, th.Tensor]
    dones: np.ndarray | th.Tensor


def transitions_collate_fn(
    batch: Sequence[Mapping[str, Any]],
) -> dict[str, th.Tensor | np.ndarray | list]:
    """Collate single transitions (dicts) into a batch of tensors.

    ``infos`` stays a list of dicts (they are not tensors); dict observations
    become dicts of tensors. Use as ``collate_fn`` of a ``torch.utils.data.DataLoader``.
    """
    if len(batch) == 0:
        raise ValueError("Cannot collate an empty batch.")
    out: dict[str, Any] = {}
    for key in batch[0]:
        values = [sample[key] for sample in batch]
        if key == "infos":
            out[key] = list(values)
        elif isinstance(values[0], DictObs | Mapping):
            stacked = DictObs.stack(values)
            out[key] = {k: th.as_tensor(v) for k, v in stacked.items()}
        else:
            out[key] = th.as_tensor(np.stack(values))
    return out
