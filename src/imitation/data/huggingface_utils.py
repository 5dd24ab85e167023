"""Convert trajectories to and from HuggingFace ``datasets``.

A trajectory dataset has one row per trajectory and these columns:

* ``obs``: the observations, a list with one entry per time step (each entry a
  number or a nested list matching the observation shape). Dict observations
  are a struct with one such list per key.
* ``acts``: the actions, laid out like ``obs``.
* ``infos``: one JSON-encoded info dict per step, or null for a trajectory
  saved without infos.
* ``terminal``: whether the trajectory ends in a terminal state.
* ``rews`` (optional): the reward of each step. With it, rows decode to
  :class:`~imitation.data.types.TrajectoryWithRew`, else to
  :class:`~imitation.data.types.Trajectory`.

This is the layout of the demonstration datasets published on the HuggingFace
Hub, so those load with :class:`TrajectoryDatasetSequence`. Arrays are stored
with their own dtype and read back from the Arrow buffers without per-step
Python work.
"""

from __future__ import annotations

import json
import operator
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

import datasets
import numpy as np
import pyarrow as pa

from imitation.data import types

__all__ = [
    "TrajectoryDatasetSequence",
    "TrajectoryFormatError",
    "decode_infos",
    "encode_infos",
    "hub_dataset_repo_id",
    "load_rollouts_from_huggingface",
    "trajectories_to_dataset",
    "trajectories_to_dict",
]

_REQUIRED_COLUMNS = ("obs", "acts", "infos", "terminal")
_ITER_BLOCK_ROWS = 32
_INT32_MAX = 2**31 - 1


class TrajectoryFormatError(ValueError):
    """Stored data is not a valid trajectory file, directory or dataset.

    Raised for foreign, corrupt or truncated data. The message names the
    problem and how to fix it. Also available as
    ``imitation.data.serialize.TrajectoryFormatError``.
    """


def _jsonable(value: Any, where: str) -> Any:
    """Turn an info value into plain JSON types: lists, dicts, scalars.

    Numpy arrays become (nested) lists and numpy scalars Python scalars;
    tuples become lists.

    Raises:
        TypeError: If ``value`` holds anything else, or a dict with a key that
            is not a string.
    """
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biuf":
            return value.tolist()
        return _jsonable(value.tolist(), where)
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
    if isinstance(value, list | tuple):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        out = {}
        for key, v in value.items():
            if not isinstance(key, str):
                raise TypeError(
                    f"Info dict at {where} has the key {key!r} of type "
                    f"{type(key).__name__}; infos are stored as JSON, whose keys "
                    "must be strings. Convert the key to a string first.",
                )
            out[key] = _jsonable(v, f"{where}[{key!r}]")
        return out
    raise TypeError(
        f"Info value at {where} has type {type(value).__name__}, which cannot be "
        "stored as JSON. Infos may hold None, bools, numbers, strings, lists, "
        "tuples, dicts with string keys, and numeric numpy arrays or scalars. "
        "Convert or drop the value first (or collect rollouts with "
        "exclude_infos=True).",
    )


def encode_infos(infos: np.ndarray | None, where: str = "infos") -> list[str] | None:
    """Encode a trajectory's info dicts as one JSON string per step.

    Args:
        infos: The trajectory's ``infos`` field: an array of dicts, or None.
        where: Names the trajectory in error messages.

    Returns:
        One JSON string per info dict, or None if ``infos`` is None.

    Raises:
        TypeError: If an info is not a dict, or holds a value that cannot be
            stored as JSON: anything but None, bools, numbers, strings, lists,
            tuples, dicts with string keys, and numeric numpy arrays or scalars.
    """
    if infos is None:
        return None
    out = []
    for step, info in enumerate(infos):
        if not isinstance(info, Mapping):
            raise TypeError(
                f"{where}[{step}] is a {type(info).__name__}, not a dict: each "
                "info must be a dict.",
            )
        out.append(json.dumps(_jsonable(info, f"{where}[{step}]")))
    return out


def decode_infos(encoded: Sequence[str] | None) -> np.ndarray | None:
    """Decode per-step JSON strings (from :func:`encode_infos`) into info dicts.

    Args:
        encoded: One JSON object per step, or None for no infos.

    Returns:
        A 1-D object array of dicts, or None if ``encoded`` is None.

    Raises:
        TrajectoryFormatError: If a string is not valid JSON or not an object.
    """
    if encoded is None:
        return None
    try:
        # One parse of the whole trajectory is much faster than one per step.
        decoded = json.loads("[" + ",".join(encoded) + "]")
    except json.JSONDecodeError as exc:
        raise TrajectoryFormatError(f"infos hold invalid JSON: {exc}") from exc
    if len(decoded) != len(encoded):
        raise TrajectoryFormatError(
            "infos are malformed: some step holds more than one JSON value.",
        )
    for step, info in enumerate(decoded):
        if not isinstance(info, dict):
            raise TrajectoryFormatError(
                f"info of step {step} is {info!r}, not a JSON object (dict).",
            )
    out = np.empty(len(decoded), dtype=object)
    out[:] = decoded
    return out


def _check_uniform(arrays: Sequence[np.ndarray], name: str) -> None:
    """Check all per-trajectory arrays share one dtype and per-step shape.

    Raises:
        ValueError: Naming the first trajectory that differs from the first one.
    """
    first = arrays[0]
    for i, arr in enumerate(arrays):
        if arr.dtype != first.dtype or arr.shape[1:] != first.shape[1:]:
            raise ValueError(
                f"Trajectories disagree on {name}: trajectory 0 has dtype "
                f"{first.dtype} and per-step shape {first.shape[1:]}, trajectory "
                f"{i} has {arr.dtype} and {arr.shape[1:]}. Convert them to one "
                "dtype and shape first.",
            )
    if 0 in first.shape[1:]:
        raise ValueError(
            f"{name} has a zero-size dimension (per-step shape {first.shape[1:]}), "
            "which cannot be stored.",
        )


def _split_obs(
    trajectories: Sequence[types.Trajectory],
) -> list[np.ndarray] | list[dict[str, np.ndarray]]:
    """Per-trajectory observations, checked to be alike across trajectories."""
    is_dict = [isinstance(t.obs, types.DictObs) for t in trajectories]
    if not any(is_dict):
        arrays = [types.assert_not_dictobs(t.obs) for t in trajectories]
        _check_uniform(arrays, "obs")
        return arrays
    if not all(is_dict):
        raise ValueError(
            "Trajectories mix dict observations (DictObs) and array observations.",
        )
    dicts = [t.obs.unwrap() for t in trajectories]  # type: ignore[union-attr]
    keys = list(dicts[0])
    for i, d in enumerate(dicts):
        if set(d) != set(keys):
            raise ValueError(
                f"Trajectories disagree on observation keys: trajectory 0 has "
                f"{sorted(keys)}, trajectory {i} has {sorted(d)}.",
            )
    for key in keys:
        _check_uniform([d[key] for d in dicts], f"obs[{key!r}]")
    return [{key: d[key] for key in keys} for d in dicts]


def trajectories_to_dict(trajectories: Sequence[types.Trajectory]) -> dict[str, list]:
    """Column-wise dict of the trajectories, one list entry per trajectory.

    The result has the columns of a trajectory dataset (see the module
    docstring) and can be passed to ``datasets.Dataset.from_dict``;
    :func:`trajectories_to_dataset` builds the same dataset much faster.

    Args:
        trajectories: Trajectories from the same spaces, either all with
            rewards or all without.

    Returns:
        A dict with keys ``obs`` (arrays, or dicts of arrays for dict
        observations), ``acts`` (arrays), ``infos`` (lists of JSON strings, or
        None), ``terminal`` (bools) and, if the trajectories have rewards,
        ``rews`` (arrays).

    Raises:
        ValueError: If ``trajectories`` is empty, mixes trajectories with and
            without rewards, or mixes observation or action dtypes, shapes or
            keys.
        TypeError: If an info cannot be stored as JSON.
    """
    if len(trajectories) == 0:
        raise ValueError("No trajectories to convert: the sequence is empty.")
    with_rews = [isinstance(t, types.TrajectoryWithRew) for t in trajectories]
    if any(with_rews) and not all(with_rews):
        raise ValueError(
            "Trajectories mix ones with rewards (TrajectoryWithRew) and ones "
            "without; convert them all to one kind first.",
        )
    acts = [t.acts for t in trajectories]
    _check_uniform(acts, "acts")
    out: dict[str, list] = {
        "obs": _split_obs(trajectories),
        "acts": acts,
        "infos": [
            encode_infos(t.infos, f"trajectory {i} infos")
            for i, t in enumerate(trajectories)
        ],
        "terminal": [bool(t.terminal) for t in trajectories],
    }
    if all(with_rews):
        rews = [t.rews for t in trajectories]  # type: ignore[attr-defined]
        _check_uniform(rews, "rews")
        out["rews"] = rews
    return out


def _list_array(arrays: Sequence[np.ndarray]) -> pa.Array:
    """An Arrow list array with one entry per array, each a list of its steps.

    Steps of more than one dimension become nested fixed-size lists. The data
    is copied once (by concatenation); there is no per-step Python work.
    """
    lengths = np.fromiter((len(a) for a in arrays), dtype=np.int64, count=len(arrays))
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.concatenate(arrays)
    inner: pa.Array = pa.array(flat.reshape(-1))
    for size in reversed(flat.shape[1:]):
        inner = pa.FixedSizeListArray.from_arrays(inner, size)
    if offsets[-1] > _INT32_MAX:
        return pa.LargeListArray.from_arrays(pa.array(offsets), inner)
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), inner)


def trajectories_to_dataset(
    trajectories: Sequence[types.Trajectory],
    info: datasets.DatasetInfo | None = None,
) -> datasets.Dataset:
    """Convert trajectories to a ``datasets.Dataset``, one row per trajectory.

    Args:
        trajectories: Trajectories from the same spaces, either all with
            rewards or all without.
        info: Metadata (description, citation, ...) for the dataset.

    Returns:
        An in-memory dataset with the columns described in the module
        docstring; observation, action and reward dtypes are kept.

    Raises:
        ValueError: As :func:`trajectories_to_dict`.
        TypeError: If an info cannot be stored as JSON.
    """
    columns = trajectories_to_dict(trajectories)
    obs = columns["obs"]
    obs_array: pa.Array
    if isinstance(obs[0], dict):
        keys = list(obs[0])
        obs_array = pa.StructArray.from_arrays(
            [_list_array([o[k] for o in obs]) for k in keys],
            names=keys,
        )
    else:
        obs_array = _list_array(obs)
    arrays = {
        "obs": obs_array,
        "acts": _list_array(columns["acts"]),
        "infos": pa.array(columns["infos"], type=pa.list_(pa.string())),
        "terminal": pa.array(columns["terminal"], type=pa.bool_()),
    }
    if "rews" in columns:
        arrays["rews"] = _list_array(columns["rews"])
    # A fresh random fingerprint: by default `datasets` derives one by hashing
    # every byte of the table, which is most of the cost of a save.
    return datasets.Dataset(pa.table(arrays), info=info, fingerprint=uuid.uuid4().hex)


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


HF_DEFAULT_ORGANIZATION = "HumanCompatibleAI"
"""Organization publishing the expert demonstration datasets on the Hub."""


def hub_dataset_repo_id(
    algo_name: str, env_name: str, organization: str = HF_DEFAULT_ORGANIZATION
) -> str:
    """Hub id of the dataset of demonstrations by an expert.

    ``("ppo", "seals/CartPole-v0")`` gives
    ``"HumanCompatibleAI/ppo-seals-CartPole-v0"``: the id of the expert's model
    repository too, but the demonstrations are in a *dataset* repository. A
    gym import prefix (``"seals:seals/CartPole-v0"``) is dropped.

    Args:
        algo_name: The expert's algorithm, e.g. ``"ppo"``.
        env_name: The environment id.
        organization: The Hub organization (or user) owning the repository.

    Returns:
        The repository id.
    """
    env_id = env_name.split(":", 1)[-1]
    return f"{organization}/{algo_name}-{env_id.replace('/', '-')}"


def load_rollouts_from_huggingface(
    algo_name: str,
    env_name: str,
    organization: str = HF_DEFAULT_ORGANIZATION,
    **loader_kwargs: Any,
) -> TrajectoryDatasetSequence:
    """Load expert demonstrations published as a HuggingFace Hub dataset.

    The dataset repository :func:`hub_dataset_repo_id` gives is looked up in
    the local Hub cache first (``HF_HUB_CACHE``; see
    :mod:`imitation.testing.hub_cache` to fill one offline). If it is not
    there it is downloaded, unless ``HF_HUB_OFFLINE`` is set or the Hub
    cannot be reached, in which case this fails at once.

    Args:
        algo_name: The expert's algorithm, e.g. ``"ppo"``.
        env_name: The environment id, e.g. ``"seals/CartPole-v0"`` (a
            ``"seals:"`` style import prefix is accepted).
        organization: The Hub organization owning the dataset.
        **loader_kwargs: Passed to ``datasets.load_dataset`` (called on the
            downloaded folder); ``split`` defaults to ``"train"``.

    Returns:
        The trajectories, decoded lazily from the dataset.

    Raises:
        imitation.util.hub.HubUnavailableError: (an ``OSError``) If
            the dataset is not cached and cannot be downloaded.
        TypeError: If ``loader_kwargs`` select more than one split.
        TrajectoryFormatError: If the dataset is not a trajectory dataset.
    """
    import huggingface_hub

    from imitation.util import hub

    repo_id = hub_dataset_repo_id(algo_name, env_name, organization)
    advice = (
        "Without network access, use local or generated demonstrations "
        "(demonstrations.source=local with demonstrations.path=..., or "
        "demonstrations.source=generated), or populate the Hub cache first, "
        "e.g. with `python -m imitation.testing.hub_cache <cache dir>` and "
        "HF_HUB_CACHE=<cache dir>."
    )

    def fetch(local_files_only: bool) -> str:
        return huggingface_hub.snapshot_download(
            repo_id, repo_type="dataset", local_files_only=local_files_only
        )

    folder = hub.hub_fetch(f"Hub dataset {repo_id}", fetch, advice)
    loader_kwargs.setdefault("split", "train")
    dataset = datasets.load_dataset(folder, **loader_kwargs)
    return TrajectoryDatasetSequence(dataset)
