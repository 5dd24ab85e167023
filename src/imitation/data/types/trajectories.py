"""Trajectories and transitions, validated on construction."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypedDict, TypeVar, overload

import numpy as np
import torch as th

from imitation.data.types.observations import (
    DictObs,
    Observation,
    Pair,
    concatenate_maybe_dictobs,
    dataclass_quick_asdict,
    maybe_wrap_in_dictobs,
    to_numpy_maybe_dict,
)


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


TrajectoryT = TypeVar("TrajectoryT", bound="Trajectory")


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

    def without_infos(self: TrajectoryT) -> TrajectoryT:
        """The same trajectory (of the same class) with ``infos=None``."""
        return self if self.infos is None else dataclasses.replace(self, infos=None)

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


def transitions_from_batches(
    batches: Sequence[Mapping[str, Any]],
) -> TransitionsMinimal:
    """Concatenate batches (the inverse of collating) into one transitions object.

    Tensors become arrays and dict observations ``DictObs``; ``infos`` are
    left out (empty dicts). The result is ``Transitions`` if every batch has
    ``next_obs`` and ``dones`` (taken as flags), else ``TransitionsMinimal``.

    Args:
        batches: Mappings from field names (``obs``, ``acts``, ...) to arrays
            or tensors (dicts of them for dict observations).

    Returns:
        Their samples, in order.

    Raises:
        ValueError: If ``batches`` is empty or a batch lacks ``obs`` or
            ``acts``.
    """
    if len(batches) == 0:
        raise ValueError("Nothing to concatenate: got no batches.")
    fields = {}
    for key in ("obs", "acts", "next_obs", "dones"):
        lacking = [i for i, batch in enumerate(batches) if key not in batch]
        if lacking and key in ("obs", "acts"):
            raise ValueError(
                f"Every batch needs the key {key!r}; batch {lacking[0]} has only "
                f"{sorted(batches[lacking[0]])}.",
            )
        if not lacking:
            fields[key] = concatenate_maybe_dictobs(
                [maybe_wrap_in_dictobs(to_numpy_maybe_dict(b[key])) for b in batches]
            )
    obs, acts = fields["obs"], fields["acts"]
    infos = np.array([{}] * len(acts))
    if "next_obs" in fields and "dones" in fields:
        dones = np.asarray(fields["dones"]).astype(bool, copy=False)
        return Transitions(obs, acts, infos, fields["next_obs"], dones)  # type: ignore[arg-type]
    return TransitionsMinimal(obs, acts, infos)  # type: ignore[arg-type]
