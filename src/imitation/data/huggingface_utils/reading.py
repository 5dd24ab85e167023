"""A trajectory dataset read back: :class:`TrajectoryDatasetSequence`.

Rows are decoded lazily, straight from the dataset's Arrow buffers.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence
from typing import Any, overload

import datasets
import numpy as np
import pyarrow as pa

from imitation.data import types
from imitation.data.huggingface_utils.infos import TrajectoryFormatError, decode_infos

__all__ = ["TrajectoryDatasetSequence"]

_REQUIRED_COLUMNS = ("obs", "acts", "infos", "terminal")
_ITER_BLOCK_ROWS = 32


def _is_list(t: pa.DataType) -> bool:
    return pa.types.is_list(t) or pa.types.is_large_list(t)


def _is_steps_column(t: pa.DataType) -> bool:
    """Whether ``t`` is a list of time steps of a numeric array.

    Each step is a number or (for multi-dimensional arrays) nested lists.
    """
    if not _is_list(t):
        return False
    t = t.value_type
    while _is_list(t) or pa.types.is_fixed_size_list(t):
        t = t.value_type
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)


def _check_schema(schema: pa.Schema) -> None:
    """Check the column types of a trajectory dataset.

    Raises:
        TrajectoryFormatError: Naming each missing column or column of the
            wrong type.
    """
    missing = [c for c in _REQUIRED_COLUMNS if c not in schema.names]
    if missing:
        raise TrajectoryFormatError(
            f"Not a trajectory dataset: missing column(s) {missing} (it has "
            f"{schema.names}). A trajectory dataset needs the columns obs, acts, "
            "infos, terminal and optionally rews; build one with "
            "huggingface_utils.trajectories_to_dataset or serialize.save.",
        )

    obs_t = schema.field("obs").type
    infos_t = schema.field("infos").type
    checks = {
        "obs": _is_steps_column(obs_t)
        or (
            pa.types.is_struct(obs_t)
            and obs_t.num_fields > 0
            and all(_is_steps_column(field.type) for field in obs_t)
        ),
        "acts": _is_steps_column(schema.field("acts").type),
        "infos": pa.types.is_null(infos_t)
        or (
            _is_list(infos_t)
            and (
                pa.types.is_string(infos_t.value_type)
                or pa.types.is_large_string(infos_t.value_type)
            )
        ),
        "terminal": pa.types.is_boolean(schema.field("terminal").type),
    }
    if "rews" in schema.names:
        rews_t = schema.field("rews").type
        checks["rews"] = _is_list(rews_t) and pa.types.is_floating(rews_t.value_type)
    wrong = [f"{c}: {schema.field(c).type}" for c, ok in checks.items() if not ok]
    if wrong:
        raise TrajectoryFormatError(
            "Not a trajectory dataset: column(s) of the wrong type "
            f"({'; '.join(wrong)}). Expected obs and acts as lists of numbers or "
            "of nested lists of numbers (obs may also be a struct of such lists), "
            "infos as lists of JSON strings, terminal as bool and rews as lists "
            "of floats.",
        )


def _single_array(column: pa.ChunkedArray) -> pa.Array:
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _steps_to_numpy(steps: pa.Array, name: str) -> np.ndarray:
    """Convert an Arrow array of time steps to numpy, shape ``(n_steps, ...)``.

    Nested fixed-size lists give the per-step shape directly; variable-size
    lists (as in datasets built from Python lists) must all have the same
    length at each level.

    Raises:
        TrajectoryFormatError: For null values, or ragged nested lists.
    """
    n_steps = len(steps)
    shape: list[int] = []
    arr = steps
    while _is_list(arr.type) or pa.types.is_fixed_size_list(arr.type):
        if arr.null_count:
            raise TrajectoryFormatError(f"{name} contains null values.")
        if pa.types.is_fixed_size_list(arr.type):
            shape.append(arr.type.list_size)
        else:
            lengths = arr.value_lengths().to_numpy()
            size = int(lengths[0]) if len(lengths) else 0
            if (lengths != size).any():
                raise TrajectoryFormatError(
                    f"{name} has nested lists of different lengths, so its steps "
                    "do not form an array: every step must have the same shape.",
                )
            shape.append(size)
        arr = arr.flatten()
    if arr.null_count:
        raise TrajectoryFormatError(f"{name} contains null values.")
    return arr.to_numpy(zero_copy_only=False).reshape(n_steps, *shape)


def _split_steps(column: pa.Array, name: str, first_row: int) -> list[np.ndarray]:
    """Decode a list column into one numpy array per row."""
    if column.null_count:
        row = first_row + int(np.flatnonzero(column.is_null().to_numpy(False))[0])
        raise TrajectoryFormatError(f"Row {row} has no {name} (null).")
    offsets = column.offsets.to_numpy()
    values = _steps_to_numpy(column.flatten(), name)
    bounds = (offsets - offsets[0]).tolist()
    return [values[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])]


def _decode_obs(column: pa.Array, first_row: int) -> list[types.Observation]:
    if not isinstance(column, pa.StructArray):
        return list(_split_steps(column, "obs", first_row))
    if column.null_count:
        row = first_row + int(np.flatnonzero(column.is_null().to_numpy(False))[0])
        raise TrajectoryFormatError(f"Row {row} has no obs (null).")
    names = [column.type.field(i).name for i in range(column.type.num_fields)]
    per_key = [
        _split_steps(child, f"obs[{name!r}]", first_row)
        for name, child in zip(names, column.flatten())
    ]
    return [types.DictObs(dict(zip(names, row))) for row in zip(*per_key)]


def _decode_table(table: pa.Table, first_row: int) -> list[types.Trajectory]:
    """Decode rows of a trajectory dataset into validated trajectories.

    Args:
        table: The rows, with the trajectory columns.
        first_row: Row number of the first row, for error messages.

    Returns:
        One trajectory per row.

    Raises:
        TrajectoryFormatError: If a row is not a valid trajectory.
    """
    obs = _decode_obs(_single_array(table.column("obs")), first_row)
    acts = _split_steps(_single_array(table.column("acts")), "acts", first_row)
    terminal = table.column("terminal").to_pylist()
    infos_column = table.column("infos").to_pylist()
    rews = (
        _split_steps(_single_array(table.column("rews")), "rews", first_row)
        if "rews" in table.column_names
        else None
    )
    out: list[types.Trajectory] = []
    for i in range(table.num_rows):
        row = first_row + i
        try:
            if terminal[i] is None:
                raise ValueError("terminal is null.")
            fields: dict[str, Any] = {
                "obs": obs[i],
                "acts": acts[i],
                "infos": decode_infos(infos_column[i]),
                "terminal": terminal[i],
            }
            if rews is None:
                out.append(types.Trajectory(**fields))
            else:
                out.append(types.TrajectoryWithRew(**fields, rews=rews[i]))
        except ValueError as exc:
            raise TrajectoryFormatError(
                f"Row {row} is not a valid trajectory: {exc}",
            ) from exc
    return out


class TrajectoryDatasetSequence(Sequence[types.Trajectory]):
    """A lazy sequence of trajectories backed by a HuggingFace dataset.

    Rows are decoded when accessed, straight from the dataset's Arrow buffers
    (memory-mapped for datasets loaded from disk), and validated like any
    trajectory. Rows decode to ``TrajectoryWithRew`` if the dataset has a
    ``rews`` column, else to ``Trajectory``. Columns other than the trajectory
    columns are ignored.

    Arrays decoded from memory-mapped data are read-only views: copy one
    before changing it in place.
    """

    def __init__(self, dataset: datasets.Dataset) -> None:
        """Wrap ``dataset`` (one trajectory per row).

        Args:
            dataset: A dataset with the columns described in the module
                docstring, e.g. ``load_dataset(...)["train"]``.

        Raises:
            TypeError: If ``dataset`` is not a ``datasets.Dataset`` (e.g. a
                ``DatasetDict``: pick a split).
            TrajectoryFormatError: If a column is missing or has the wrong type.
        """
        if not isinstance(dataset, datasets.Dataset):
            hint = (
                f" Pick a split, e.g. dataset[{next(iter(dataset))!r}]."
                if isinstance(dataset, datasets.DatasetDict) and len(dataset)
                else ""
            )
            raise TypeError(
                f"Expected a datasets.Dataset, got {type(dataset).__name__}.{hint}",
            )
        _check_schema(dataset.data.schema)
        self._dataset = dataset
        columns = list(_REQUIRED_COLUMNS)
        if "rews" in dataset.column_names:
            columns.append("rews")
        self._rows = dataset.with_format("arrow", columns=columns)

    @property
    def dataset(self) -> datasets.Dataset:
        """The wrapped dataset."""
        return self._dataset

    @property
    def has_rewards(self) -> bool:
        """Whether rows decode to ``TrajectoryWithRew`` (there is a ``rews`` column)."""
        return "rews" in self._dataset.column_names

    def __len__(self) -> int:
        return self._dataset.num_rows

    def _decode(self, start: int, stop: int) -> list[types.Trajectory]:
        return _decode_table(self._rows[start:stop], start)

    @overload
    def __getitem__(self, index: int) -> types.Trajectory: ...

    @overload
    def __getitem__(self, index: slice) -> TrajectoryDatasetSequence: ...

    def __getitem__(
        self, index: int | slice
    ) -> types.Trajectory | TrajectoryDatasetSequence:
        """One trajectory, or a lazy sequence of the trajectories in a slice.

        Args:
            index: A row number (negative counts from the end) or a slice.

        Returns:
            The trajectory at ``index``, or a ``TrajectoryDatasetSequence``
            over the selected rows.

        Raises:
            IndexError: If ``index`` is out of range.
            TrajectoryFormatError: If the row is not a valid trajectory.
        """
        n = len(self)
        if isinstance(index, slice):
            rows = range(n)[index]
            # `datasets` rejects an empty range that starts past the end.
            selection = rows if len(rows) else []
            return TrajectoryDatasetSequence(
                self._dataset.select(selection, keep_in_memory=True),
            )
        index = operator.index(index)
        if not -n <= index < n:
            raise IndexError(f"Index {index} out of range for {n} trajectories.")
        index %= n
        return self._decode(index, index + 1)[0]

    def __iter__(self) -> Iterator[types.Trajectory]:
        """Yield every trajectory, decoding a block of rows at a time."""
        for start in range(0, len(self), _ITER_BLOCK_ROWS):
            yield from self._decode(start, min(start + _ITER_BLOCK_ROWS, len(self)))

    def __repr__(self) -> str:
        return f"TrajectoryDatasetSequence({len(self)} trajectories)"
