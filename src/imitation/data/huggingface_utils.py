"""Convert trajectories to and from HuggingFace ``datasets``.

One dataset row is one trajectory, with columns ``obs``, ``acts``, ``infos``
(one JSON string per step), ``terminal`` and, for trajectories with rewards,
``rews``. This is the layout of the demonstration datasets published on the
HuggingFace Hub, so they load with :class:`TrajectoryDatasetSequence`.
Dict observations are stored as a struct of per-key sequences.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

import datasets
import numpy as np
import pyarrow as pa

from imitation.data import types


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(
        f"Cannot store an info value of type {type(value).__name__}: infos are "
        "saved as JSON, so they may hold numbers, strings, lists, dicts and "
        "numpy arrays. Drop such infos first (e.g. rollout(..., exclude_infos=True)).",
    )


def _encode_infos(infos: np.ndarray | None, n: int) -> list[str]:
    if infos is None:
        return ["{}"] * n
    return [json.dumps(info, default=_json_default) for info in infos]


def trajectories_to_dict(trajectories: Sequence[types.Trajectory]) -> dict[str, list]:
    """Column-wise dict of the trajectories, ready for ``datasets.Dataset.from_dict``.

    Raises:
        ValueError: If the list is empty, or mixes trajectories with and without
            rewards.
    """
    if len(trajectories) == 0:
        raise ValueError("No trajectories to convert: the list is empty.")
    with_rew = [isinstance(t, types.TrajectoryWithRew) for t in trajectories]
    if any(with_rew) and not all(with_rew):
        raise ValueError("Trajectories mix ones with and without rewards.")
    out: dict[str, list] = {
        "obs": [types.maybe_unwrap_dictobs(t.obs) for t in trajectories],
        "acts": [t.acts for t in trajectories],
        "infos": [_encode_infos(t.infos, len(t)) for t in trajectories],
        "terminal": [bool(t.terminal) for t in trajectories],
    }
    if all(with_rew):
        out["rews"] = [t.rews for t in trajectories]  # type: ignore[attr-defined]
    return out


def _column_array(values: list[Any]) -> pa.Array:
    """An Arrow list array of per-trajectory arrays, built without Python loops."""
    if isinstance(values[0], Mapping):
        keys = list(values[0].keys())
        return pa.StructArray.from_arrays(
            [_column_array([v[k] for v in values]) for k in keys],
            names=keys,
        )
    lengths = np.array([len(v) for v in values])
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    flat = np.concatenate(values)
    # Nest fixed-size lists for each trailing dimension, innermost first.
    inner: pa.Array = pa.array(flat.reshape(-1))
    for size in reversed(flat.shape[1:]):
        inner = pa.FixedSizeListArray.from_arrays(inner, size)
    return pa.ListArray.from_arrays(pa.array(offsets), inner)


def trajectories_to_dataset(
    trajectories: Sequence[types.Trajectory],
    info: datasets.DatasetInfo | None = None,
) -> datasets.Dataset:
    """Convert trajectories to a ``datasets.Dataset`` (one row per trajectory)."""
    columns = trajectories_to_dict(trajectories)
    arrays = {
        "obs": _column_array(columns["obs"]),
        "acts": _column_array(columns["acts"]),
        "infos": pa.array(columns["infos"], type=pa.list_(pa.string())),
        "terminal": pa.array(columns["terminal"], type=pa.bool_()),
    }
    if "rews" in columns:
        arrays["rews"] = _column_array(columns["rews"])
    table = pa.table(arrays)
    return datasets.Dataset(table, info=info)


def _to_numpy(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Flatten one trajectory's list value (nested fixed/variable lists) to numpy."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    shape = []
    while (
        pa.types.is_list(arr.type)
        or pa.types.is_fixed_size_list(arr.type)
        or pa.types.is_large_list(arr.type)
    ):
        if pa.types.is_fixed_size_list(arr.type):
            shape.append(arr.type.list_size)
        else:
            lengths = arr.value_lengths().to_numpy(zero_copy_only=False)
            if len(lengths) and (lengths != lengths[0]).any():
                raise ValueError("Ragged nested lists cannot form an array.")
            shape.append(int(lengths[0]) if len(lengths) else 0)
        arr = arr.flatten()
    values = arr.to_numpy(zero_copy_only=False)
    return values.reshape(-1, *shape) if shape else values


def _decode_obs(cell: pa.Scalar) -> types.Observation:
    if isinstance(cell, pa.StructScalar):
        return types.DictObs(
            {name: _to_numpy(cell[name].values) for name in cell.type.names}
        )
    return _to_numpy(cell.values)


class TrajectoryDatasetSequence(Sequence[types.Trajectory]):
    """A lazy, indexable sequence of trajectories backed by a HuggingFace Dataset.

    Rows are decoded on access (from Arrow, without Python per-step loops). A
    dataset with a ``rews`` column yields ``TrajectoryWithRew``.
    """

    def __init__(self, dataset: datasets.Dataset) -> None:
        """Wrap ``dataset``.

        Raises:
            ValueError: If the dataset lacks a required column.
        """
        missing = {"obs", "acts", "infos", "terminal"} - set(dataset.column_names)
        if missing:
            raise ValueError(
                f"Not a trajectory dataset: missing column(s) {sorted(missing)} "
                f"(has {dataset.column_names}).",
            )
        self._dataset = dataset
        self._table = (
            dataset.data.table if hasattr(dataset.data, "table") else dataset.data
        )
        self._columns = ["obs", "acts", "infos", "terminal"]
        if "rews" in dataset.column_names:
            self._columns.append("rews")
        self._indices = (
            np.asarray(dataset._indices.column(0).to_numpy())  # noqa: SLF001
            if dataset._indices is not None  # noqa: SLF001
            else None
        )

    @property
    def dataset(self) -> datasets.Dataset:
        """The wrapped dataset."""
        return self._dataset

    def __len__(self) -> int:
        return len(self._dataset)

    def _row(self, i: int) -> types.Trajectory:
        row = int(self._indices[i]) if self._indices is not None else i
        cell = {name: self._table.column(name)[row] for name in self._columns}
        obs = _decode_obs(cell["obs"])
        acts = _to_numpy(cell["acts"].values)
        infos_json = cell["infos"].values.to_pylist()
        infos = None
        if any(s != "{}" for s in infos_json):
            infos = np.array([json.loads(s) for s in infos_json], dtype=object)
        terminal = bool(cell["terminal"].as_py())
        if "rews" in cell:
            rews = _to_numpy(cell["rews"].values).astype(np.float64, copy=False)
            return types.TrajectoryWithRew(
                obs=obs, acts=acts, infos=infos, terminal=terminal, rews=rews
            )
        return types.Trajectory(obs=obs, acts=acts, infos=infos, terminal=terminal)

    @overload
    def __getitem__(self, index: int) -> types.Trajectory: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[types.Trajectory]: ...

    def __getitem__(self, index: int | slice) -> Any:
        """One trajectory, or a lazy sequence over a slice of them."""
        if isinstance(index, slice):
            return TrajectoryDatasetSequence(
                self._dataset.select(range(len(self))[index])
            )
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for {n} trajectories")
        return self._row(index % n)

    def __iter__(self) -> Iterator[types.Trajectory]:
        for i in range(len(self)):
            yield self._row(i)
