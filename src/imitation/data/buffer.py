"""Fixed-capacity FIFO buffers of samples, with uniform sampling with replacement.

:class:`Buffer` holds named arrays (or :class:`~imitation.data.types.DictObs`
batches) in a ring: once full, each new sample overwrites the oldest one.
:class:`ReplayBuffer` builds on it to hold :class:`~imitation.data.types.Transitions`.

Randomness: a buffer owns the ``np.random.Generator`` it is constructed with
(argument ``rng``) and uses it for every call to ``sample``; pass a seeded
generator for reproducible draws.

Dict observations: a field declared with a mapping of shapes (for example from a
``gymnasium.spaces.Dict``) is stored as one array per observation key, under
the flat name ``"<field>/<key>"`` (``"obs/<key>"``, ``"next_obs/<key>"``), and
comes back from ``sample`` as a ``DictObs``.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Self

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import VecEnv

from imitation.data import types

FieldShape = tuple[int, ...] | Mapping[str, tuple[int, ...]]
"""Shape of one sample of a field; a mapping of shapes for a dict field."""

Dtype = np.dtype | type | str
"""A numpy dtype, or anything ``np.dtype`` accepts as a name: a scalar type or a
string."""

FieldDtype = Dtype | Mapping[str, Dtype]
"""Dtype of a field; a mapping of dtypes for a dict field."""

FieldData = np.ndarray | types.DictObs | Mapping[str, np.ndarray]
"""A batch of one field's samples: an array, or a ``DictObs`` (or plain dict of
arrays) for a dict field."""


def num_samples(data: Mapping[str, FieldData]) -> int:
    """The number of samples in ``data``, a batch per field.

    Args:
        data: Field name to batch: an array, a ``DictObs`` or a dict of arrays
            (its arrays' common length counts).

    Returns:
        The common length of the batches.

    Raises:
        ValueError: If ``data`` is empty or the batches differ in length (the
            message lists each field's length).
    """
    if not data:
        raise ValueError("num_samples needs at least one field.")
    lengths = {field: len(_as_batch(field, value)) for field, value in data.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"Fields have different lengths: {lengths}.")
    return next(iter(lengths.values()))


def _positive_int(name: str, value: int) -> int:
    """Return ``value`` as an ``int``, checking that it is a positive integer."""
    value = operator.index(value)
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}.")
    return value


def _sample_shape(value: np.ndarray | types.DictObs) -> FieldShape:
    """Shape of one sample of a batch (the batch's shape without its leading axis)."""
    if isinstance(value, types.DictObs):
        return {k: v.shape[1:] for k, v in value.items()}
    return value.shape[1:]


def _as_batch(field: str, value: FieldData) -> np.ndarray | types.DictObs:
    """Turn a field's batch into an array or a ``DictObs``.

    Raises:
        TypeError: If the value is neither an array, a ``DictObs`` nor a mapping.
        ValueError: If the value is a 0-d array (it has no batch axis).
    """
    if isinstance(value, types.DictObs):
        return value
    if isinstance(value, Mapping):
        return types.DictObs(value)
    if not isinstance(value, np.ndarray):
        raise TypeError(
            f"Field {field!r} must be a numpy array or DictObs, got "
            f"{type(value).__name__}.",
        )
    if value.ndim == 0:
        raise ValueError(
            f"Field {field!r} needs a leading batch axis; got a 0-d array."
        )
    return value


class Buffer:
    """A fixed-capacity FIFO ring buffer of named arrays.

    Every field (key) holds samples of one shape and dtype. :meth:`store` appends
    a batch, overwriting the oldest samples once the buffer is full, with at most
    two slice assignments per stored array (the second one at the wrap-around).
    :meth:`sample` draws uniformly with replacement from the samples currently
    held, using the generator given to the constructor.

    A field declared with a mapping of shapes and a mapping of dtypes is a dict
    field: it is stored and validated like a ``DictObs``, kept internally as one
    array per key named ``"<field>/<key>"``, and sampled back as a ``DictObs``.
    """

    def __init__(
        self,
        capacity: int,
        sample_shapes: Mapping[str, FieldShape],
        dtypes: Mapping[str, FieldDtype],
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        """Make an empty buffer.

        Args:
            capacity: Maximum number of samples held.
            sample_shapes: Shape of one sample, by field; a mapping from
                observation key to shape for a dict field.
            dtypes: Dtype of each field's samples, with the same keys as
                ``sample_shapes``; a mapping from observation key to dtype for a
                dict field.
            rng: Random generator used by :meth:`sample`. Defaults to a generator
                seeded from fresh OS entropy.

        Raises:
            TypeError: If ``capacity`` is not an integer.
            ValueError: If ``capacity`` is not positive; there are no fields;
                the keys of ``sample_shapes`` and ``dtypes`` differ; a field is
                a dict in one of them but not the other, or its observation keys
                differ; a shape has a negative dimension; or two fields map to
                the same flat array name.
        """
        self._capacity = _positive_int("capacity", capacity)
        if not sample_shapes:
            raise ValueError("A buffer needs at least one field.")
        if set(sample_shapes) != set(dtypes):
            raise ValueError(
                f"sample_shapes keys {sorted(sample_shapes)} differ from dtypes "
                f"keys {sorted(dtypes)}.",
            )
        self._fields: dict[str, tuple[str, ...] | None] = {}
        self._arrays: dict[str, np.ndarray] = {}
        for field, shape in sample_shapes.items():
            dtype = dtypes[field]
            if isinstance(shape, Mapping) and isinstance(dtype, Mapping):
                if not shape or set(shape) != set(dtype):
                    raise ValueError(
                        f"Dict field {field!r}: shape keys {sorted(shape)} and "
                        f"dtype keys {sorted(dtype)} must be equal and non-empty.",
                    )
                self._fields[field] = tuple(shape)
                for key, sub_shape in shape.items():
                    self._allocate(f"{field}/{key}", sub_shape, dtype[key])
            elif isinstance(shape, Mapping) or isinstance(dtype, Mapping):
                raise ValueError(
                    f"Field {field!r}: give a mapping for both its shape and its "
                    "dtype (a dict field) or for neither.",
                )
            else:
                self._fields[field] = None
                self._allocate(field, shape, dtype)
        self._next = 0
        self._size = 0
        self._rng = np.random.default_rng() if rng is None else rng

    def _allocate(
        self,
        name: str,
        shape: tuple[int, ...],
        dtype: Dtype,
    ) -> None:
        """Allocate the storage array for flat field ``name``."""
        if name in self._arrays:
            raise ValueError(f"Two fields are both stored under the name {name!r}.")
        dims = tuple(operator.index(d) for d in shape)
        if any(d < 0 for d in dims):
            raise ValueError(f"Field {name!r} has a negative dimension: {dims}.")
        self._arrays[name] = np.zeros((self._capacity, *dims), dtype=dtype)

    @classmethod
    def from_data(
        cls,
        data: Mapping[str, FieldData],
        capacity: int | None = None,
        truncate_ok: bool = False,
        *,
        rng: np.random.Generator | None = None,
    ) -> Self:
        """Make a buffer whose fields, shapes and dtypes are those of ``data``.

        Args:
            data: One batch per field, all of the same length; a ``DictObs`` (or a
                dict of arrays) makes a dict field.
            capacity: Capacity of the buffer; defaults to the length of ``data``.
            truncate_ok: Passed to :meth:`store`: if ``data`` is longer than
                ``capacity``, keep its last ``capacity`` samples instead of
                raising.
            rng: Random generator used by :meth:`sample`.

        Returns:
            A buffer holding ``data``.

        Raises:
            TypeError: If a batch is not an array, ``DictObs`` or dict of arrays.
            ValueError: If ``data`` has no fields, its batches have different
                lengths, it is empty and no ``capacity`` is given, or it is longer
                than ``capacity`` and ``truncate_ok`` is False.
        """
        if not data:
            raise ValueError("from_data needs at least one field.")
        batches = {field: _as_batch(field, value) for field, value in data.items()}
        n_samples = num_samples(batches)
        if capacity is None:
            if n_samples == 0:
                raise ValueError(
                    "Cannot infer the capacity from empty data; pass capacity.",
                )
            capacity = n_samples
        buf = cls(
            capacity,
            {field: _sample_shape(value) for field, value in batches.items()},
            {field: value.dtype for field, value in batches.items()},
            rng=rng,
        )
        buf.store(batches, truncate_ok=truncate_ok)
        return buf

    @property
    def capacity(self) -> int:
        """Maximum number of samples held."""
        return self._capacity

    def size(self) -> int:
        """Number of samples currently held (at most :attr:`capacity`)."""
        return self._size

    def _flatten(self, data: Mapping[str, FieldData]) -> dict[str, np.ndarray]:
        """Validate a batch and split it into one array per flat storage name.

        Raises:
            TypeError: If a batch is not an array, ``DictObs`` or dict of arrays.
            ValueError: For missing or unexpected fields, a dict field given as
                an array or the reverse, mismatched observation keys, batches of
                different lengths, wrong sample shapes, or dtypes that cannot be
                cast with numpy's ``same_kind`` rule.
        """
        if set(data) != set(self._fields):
            raise ValueError(
                f"Expected fields {sorted(self._fields)}, got {sorted(data)}.",
            )
        batches = {field: _as_batch(field, value) for field, value in data.items()}
        flat: dict[str, np.ndarray] = {}
        for field, batch in batches.items():
            keys = self._fields[field]
            if keys is None:
                if isinstance(batch, types.DictObs):
                    raise ValueError(
                        f"Field {field!r} holds arrays; got dict observations.",
                    )
                flat[field] = batch
                continue
            if not isinstance(batch, types.DictObs):
                raise ValueError(
                    f"Field {field!r} holds dict observations; got an array.",
                )
            if set(batch.keys()) != set(keys):
                raise ValueError(
                    f"Field {field!r}: expected observation keys {sorted(keys)}, "
                    f"got {sorted(batch.keys())}.",
                )
            flat.update({f"{field}/{k}": v for k, v in batch.items()})
        for name, arr in flat.items():
            self._check_array(name, arr)
        num_samples(batches)
        return flat

    def _check_array(self, name: str, arr: np.ndarray) -> None:
        """Check one flat array's sample shape and dtype against its storage.

        Raises:
            ValueError: If the sample shape or the dtype does not fit.
        """
        storage = self._arrays[name]
        if arr.shape[1:] != storage.shape[1:]:
            raise ValueError(
                f"{name}: expected a batch of shape (n, *{storage.shape[1:]}), "
                f"got shape {arr.shape}.",
            )
        if not np.can_cast(arr.dtype, storage.dtype, casting="same_kind"):
            raise ValueError(
                f"{name}: dtype {arr.dtype} cannot be stored as {storage.dtype}.",
            )

    def store(self, data: Mapping[str, FieldData], truncate_ok: bool = False) -> None:
        """Append a batch of samples, overwriting the oldest ones when full.

        The whole batch is validated before anything is written, so a failed
        call leaves the buffer unchanged. Values are cast to the buffer's dtypes
        with numpy's ``same_kind`` rule: a float64 batch may go into a float32
        field, but a float batch may not go into an integer or bool field.

        Args:
            data: One batch per field, all of the same length; a ``DictObs`` (or
                a dict of arrays) for each dict field.
            truncate_ok: If the batch is longer than the capacity, keep only its
                last ``capacity`` samples instead of raising.

        Raises:
            TypeError: If a batch is not an array, ``DictObs`` or dict of arrays.
            ValueError: For missing or unexpected fields or observation keys,
                wrong sample shapes or dtypes, batches of different lengths, or
                a batch longer than the capacity when ``truncate_ok`` is False.
        """
        flat = self._flatten(data)
        n_samples = len(next(iter(flat.values())))
        if n_samples > self._capacity:
            if not truncate_ok:
                raise ValueError(
                    f"A batch of {n_samples} samples exceeds the capacity "
                    f"{self._capacity}; pass truncate_ok=True to keep only the "
                    "newest ones.",
                )
            flat = {name: arr[-self._capacity :] for name, arr in flat.items()}
            n_samples = self._capacity
        first = min(n_samples, self._capacity - self._next)
        for name, arr in flat.items():
            self._arrays[name][self._next : self._next + first] = arr[:first]
            self._arrays[name][: n_samples - first] = arr[first:]
        self._next = (self._next + n_samples) % self._capacity
        self._size = min(self._size + n_samples, self._capacity)

    def sample(self, n_samples: int) -> dict[str, np.ndarray | types.DictObs]:
        """Draw samples uniformly, with replacement, from those held.

        Args:
            n_samples: Number of samples to draw.

        Returns:
            One batch of ``n_samples`` per field: an array, or a ``DictObs`` for a
            dict field. The arrays are copies, unaffected by later stores.

        Raises:
            TypeError: If ``n_samples`` is not an integer.
            ValueError: If ``n_samples`` is negative or the buffer is empty.
        """
        n_samples = operator.index(n_samples)
        if n_samples < 0:
            raise ValueError(f"n_samples must be non-negative, got {n_samples}.")
        if self._size == 0:
            raise ValueError("Cannot sample from an empty buffer.")
        idx = self._rng.integers(0, self._size, size=n_samples)
        flat = {name: arr[idx] for name, arr in self._arrays.items()}
        out: dict[str, np.ndarray | types.DictObs] = {}
        for field, keys in self._fields.items():
            if keys is None:
                out[field] = flat[field]
            else:
                out[field] = types.DictObs({k: flat[f"{field}/{k}"] for k in keys})
        return out


def _array_space_layout(space: gym.Space, name: str) -> tuple[tuple[int, ...], Dtype]:
    """Sample shape and dtype of a space whose samples are single arrays.

    Raises:
        ValueError: For spaces without a fixed array shape and dtype, such as
            ``Dict``, ``Tuple`` or ``Text``.
    """
    if isinstance(space, gym.spaces.Dict) or space.shape is None or space.dtype is None:
        raise ValueError(
            f"{name}: samples of a {type(space).__name__} space are not arrays of "
            "a fixed shape and dtype, so cannot be stored here.",
        )
    return space.shape, space.dtype


def _space_layout(space: gym.Space, name: str) -> tuple[FieldShape, FieldDtype]:
    """Sample shape and dtype of a space; per key for a ``spaces.Dict``.

    Raises:
        ValueError: For spaces without a fixed array shape and dtype (or, in a
            ``Dict`` space, a subspace without one, such as a nested ``Dict``).
    """
    if not isinstance(space, gym.spaces.Dict):
        return _array_space_layout(space, name)
    shapes: dict[str, tuple[int, ...]] = {}
    dtypes: dict[str, Dtype] = {}
    for key, sub in space.spaces.items():
        shapes[key], dtypes[key] = _array_space_layout(sub, f"{name}[{key!r}]")
    return shapes, dtypes


class ReplayBuffer:
    """A fixed-capacity FIFO buffer of transitions ``(obs, acts, next_obs, dones)``.

    A thin layer over :class:`Buffer` with the fields ``obs``, ``acts``,
    ``next_obs`` and ``dones``. Dict observations are stored one array per key
    (``obs/<key>``, ``next_obs/<key>``) and sampled back as ``DictObs``. Infos
    and rewards are not stored: samples carry an empty info dict per transition.
    """

    def __init__(
        self,
        capacity: int,
        venv: VecEnv | None = None,
        *,
        obs_space: gym.Space | None = None,
        act_space: gym.Space | None = None,
        obs_shape: FieldShape | None = None,
        act_shape: tuple[int, ...] | None = None,
        obs_dtype: FieldDtype | None = None,
        act_dtype: Dtype | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        """Make an empty replay buffer.

        Describe the data in exactly one of three ways: ``venv``; both
        ``obs_space`` and ``act_space``; or all of ``obs_shape``, ``act_shape``,
        ``obs_dtype`` and ``act_dtype``. For dict observations give a
        ``spaces.Dict`` observation space, or mappings from observation key to
        shape and to dtype as ``obs_shape`` and ``obs_dtype``.

        Args:
            capacity: Maximum number of transitions held.
            venv: Environment whose observation and action spaces to use.
            obs_space: Observation space.
            act_space: Action space.
            obs_shape: Shape of one observation (a mapping for dict observations).
            act_shape: Shape of one action.
            obs_dtype: Observation dtype (a mapping for dict observations).
            act_dtype: Action dtype.
            rng: Random generator used by :meth:`sample`. Defaults to a generator
                seeded from fresh OS entropy.

        Raises:
            TypeError: If ``capacity`` is not an integer.
            ValueError: If the data is described in none or several of the ways
                above, or only partly in one of them; for spaces without a fixed
                array shape (``Tuple``, ``Text``, nested ``Dict``); or as raised by
                :class:`Buffer`.
        """
        spaces_given = obs_space is not None or act_space is not None
        layout_given = any(
            x is not None for x in (obs_shape, act_shape, obs_dtype, act_dtype)
        )
        if (venv is not None) + spaces_given + layout_given != 1:
            raise ValueError(
                "Describe the data in exactly one way: either venv, or obs_space "
                "and act_space, or obs_shape, act_shape, obs_dtype and act_dtype.",
            )
        if venv is not None:
            obs_space, act_space = venv.observation_space, venv.action_space
        if obs_space is not None or act_space is not None:
            if obs_space is None or act_space is None:
                raise ValueError("Give both obs_space and act_space.")
            obs_shape, obs_dtype = _space_layout(obs_space, "obs_space")
            act_shape, act_dtype = _array_space_layout(act_space, "act_space")
        if (
            obs_shape is None
            or act_shape is None
            or obs_dtype is None
            or act_dtype is None
        ):
            raise ValueError(
                "obs_shape, act_shape, obs_dtype and act_dtype must all be given.",
            )
        self._buffer = Buffer(
            capacity,
            {"obs": obs_shape, "acts": act_shape, "next_obs": obs_shape, "dones": ()},
            {"obs": obs_dtype, "acts": act_dtype, "next_obs": obs_dtype, "dones": bool},
            rng=rng,
        )

    @classmethod
    def from_data(
        cls,
        transitions: types.Transitions,
        capacity: int | None = None,
        truncate_ok: bool = False,
        *,
        rng: np.random.Generator | None = None,
    ) -> Self:
        """Make a replay buffer with the shapes and dtypes of ``transitions``.

        Args:
            transitions: Transitions to store; their shapes and dtypes define the
                buffer's.
            capacity: Capacity of the buffer; defaults to ``len(transitions)``.
            truncate_ok: If there are more transitions than ``capacity``, keep
                the last ``capacity`` of them instead of raising.
            rng: Random generator used by :meth:`sample`.

        Returns:
            A replay buffer holding ``transitions``.

        Raises:
            ValueError: If ``transitions`` is empty and no ``capacity`` is given,
                or holds more than ``capacity`` transitions and ``truncate_ok`` is
                False.
        """
        if capacity is None:
            if len(transitions) == 0:
                raise ValueError(
                    "Cannot infer the capacity from empty transitions; pass capacity.",
                )
            capacity = len(transitions)
        buf = cls(
            capacity,
            obs_shape=_sample_shape(transitions.obs),
            act_shape=transitions.acts.shape[1:],
            obs_dtype=transitions.obs.dtype,
            act_dtype=transitions.acts.dtype,
            rng=rng,
        )
        buf.store(transitions, truncate_ok=truncate_ok)
        return buf

    @property
    def capacity(self) -> int:
        """Maximum number of transitions held."""
        return self._buffer.capacity

    def size(self) -> int:
        """Number of transitions currently held (at most :attr:`capacity`)."""
        return self._buffer.size()

    def store(self, transitions: types.Transitions, truncate_ok: bool = True) -> None:
        """Append transitions, overwriting the oldest ones when full.

        Infos (and the rewards of ``TransitionsWithRew``) are not stored.

        Args:
            transitions: The transitions to append.
            truncate_ok: If there are more transitions than the capacity, keep
                only the last ``capacity`` of them instead of raising.

        Raises:
            TypeError: If ``transitions`` is not a ``Transitions`` (for example a
                ``TransitionsMinimal``, which lacks ``next_obs`` and ``dones``).
            ValueError: As raised by :meth:`Buffer.store`, naming the field (for
                example ``obs`` or ``obs/<key>``) at fault.
        """
        if not isinstance(transitions, types.Transitions):
            raise TypeError(
                f"Expected Transitions, got {type(transitions).__name__}.",
            )
        self._buffer.store(
            {
                "obs": transitions.obs,
                "acts": transitions.acts,
                "next_obs": transitions.next_obs,
                "dones": transitions.dones,
            },
            truncate_ok=truncate_ok,
        )

    def sample(self, n_samples: int) -> types.Transitions:
        """Draw transitions uniformly, with replacement, from those held.

        Args:
            n_samples: Number of transitions to draw.

        Returns:
            ``n_samples`` transitions, each with an empty info dict.

        Raises:
            TypeError: If ``n_samples`` is not an integer.
            ValueError: If ``n_samples`` is negative or the buffer is empty.
        """
        data = self._buffer.sample(n_samples)
        infos = np.empty(n_samples, dtype=object)
        infos[:] = [{} for _ in range(n_samples)]
        return types.Transitions(
            obs=data["obs"],
            acts=data["acts"],  # type: ignore[arg-type]
            infos=infos,
            next_obs=data["next_obs"],
            dones=data["dones"],  # type: ignore[arg-type]
        )
