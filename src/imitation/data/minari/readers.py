"""Reading episodes' arrays straight from Minari's HDF5 and Arrow files.

Minari's own reader (``MinariDataset.iterate_episodes``) spends most of its
time in per-episode Python overhead. :func:`read_directly` reads the layouts
Minari writes with h5py's low-level API or pyarrow instead, giving the same
arrays; anything it does not recognise (Parquet, JPEG-encoded images, an
episode split over several Arrow files) is left to Minari's reader.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
from collections.abc import Iterator, Sequence

import gymnasium as gym
import h5py
import minari
import numpy as np
import pyarrow as pa
import pyarrow.ipc  # noqa: F401 - makes ``pa.ipc`` available.
from minari.dataset.minari_storage import is_image_space

from imitation.data.minari.common import EPISODE_FIELDS, MinariFormatError

# Minari's Arrow reader skips files whose names start with these.
_ARROW_IGNORED_PREFIXES = ("_", ".", "metadata.json")


@dataclasses.dataclass(frozen=True)
class Episode:
    """The arrays of one episode, as ``minari.EpisodeData`` holds them."""

    id: int
    observations: np.ndarray | dict[str, np.ndarray]
    actions: np.ndarray
    rewards: np.ndarray
    terminations: np.ndarray
    truncations: np.ndarray
    infos: None = None


def read_directly(
    dataset: minari.MinariDataset, dataset_id: str, indices: np.ndarray
) -> Iterator[Episode] | None:
    """The episodes ``indices`` (infos left out), or None to use Minari's reader.

    Args:
        dataset: The dataset.
        dataset_id: Its id, for error messages.
        indices: The episodes to read, in order.

    Returns:
        The episodes, or None if the storage format, or an episode's layout,
        needs Minari's reader (which also reads infos).

    Raises:
        MinariFormatError: Naming the episode and field, if a field is missing
            or an Arrow file cannot be read.
    """
    storage = dataset.storage
    spaces = _leaf_spaces(dataset.observation_space) + [dataset.action_space]
    if getattr(storage, "jpeg_encoding", True) and any(
        is_image_space(s) for s in spaces
    ):
        return None
    data_path = pathlib.Path(storage.data_path)
    fmt = getattr(storage, "FORMAT", None)
    if fmt == "hdf5" and (data_path / "main_data.hdf5").is_file():
        return _hdf5_episodes(
            data_path / "main_data.hdf5",
            dataset_id,
            indices,
            dataset.observation_space,
        )
    if fmt == "arrow":
        episodes = _arrow_episodes(data_path, dataset_id, indices, dataset)
        return None if episodes is None else iter(episodes)
    return None


def _leaf_spaces(space: gym.Space) -> list[gym.Space]:
    if isinstance(space, gym.spaces.Dict):
        return list(space.spaces.values())
    return [space]


def _missing_field(dataset_id: str, episode: int, name: str) -> MinariFormatError:
    return MinariFormatError(
        f"Minari dataset {dataset_id!r}, episode {episode} cannot be read: it "
        f"lacks {name!r}. Every episode needs {list(EPISODE_FIELDS)}; recreate "
        "the dataset with save_trajectories or minari.create_dataset_from_buffers.",
    )


def _hdf5_episodes(
    path: pathlib.Path,
    dataset_id: str,
    indices: np.ndarray,
    observation_space: gym.Space,
) -> Iterator[Episode]:
    """Episodes from Minari's HDF5 file, read with h5py's low-level API.

    Each episode is a group ``episode_<i>`` of one dataset per field (dict
    observations: a group of one dataset per key). Each dataset costs an
    HDF5 open, a datatype and a dataspace query and a read; the datatype is
    compared with the field's previous one (cheaper than converting it to a
    numpy dtype), so the numpy dtype and memory type are built once per field.
    """
    keys = (
        sorted(observation_space.spaces)
        if isinstance(observation_space, gym.spaces.Dict)
        else None
    )
    # Per field: the last file datatype seen, its numpy dtype and memory type.
    seen: dict[str, tuple[h5py.h5t.TypeID, np.dtype, h5py.h5t.TypeID]] = {}
    with h5py.File(path, "r") as file:
        fid = file.id

        def read(episode: int, name: str) -> np.ndarray:
            try:
                ds = h5py.h5d.open(fid, f"episode_{episode}/{name}".encode())
            except KeyError as exc:
                raise _missing_field(dataset_id, episode, name) from exc
            file_type = ds.get_type()
            known = seen.get(name)
            if known is None or known[0] != file_type:
                dtype = file_type.dtype
                known = seen[name] = (file_type, dtype, h5py.h5t.py_create(dtype))
            out = np.empty(ds.shape, dtype=known[1])
            ds.read(h5py.h5s.ALL, h5py.h5s.ALL, out, known[2])
            return out

        for index in indices:
            i = int(index)
            obs = (
                read(i, "observations")
                if keys is None
                else {k: read(i, f"observations/{k}") for k in keys}
            )
            yield Episode(
                id=i,
                observations=obs,
                actions=read(i, "actions"),
                rewards=read(i, "rewards"),
                terminations=read(i, "terminations"),
                truncations=read(i, "truncations"),
            )


def _arrow_episodes(
    data_path: pathlib.Path,
    dataset_id: str,
    indices: np.ndarray,
    dataset: minari.MinariDataset,
) -> list[Episode] | None:
    """Episodes from Minari's Arrow files, or None if one is not laid out as expected.

    Minari writes episode ``i`` as the Arrow IPC file ``<i>/part-0.arrow``:
    one row per observation, the other fields padded with one row at the end.
    All episodes' tables are joined and each column converted to numpy once
    (one copy, so the arrays are writable, as the HDF5 path gives them); the
    episodes' arrays are slices of those.
    """
    tables = []
    for index in indices:
        folder = os.path.join(data_path, str(int(index)))
        try:
            names = [
                n
                for n in os.listdir(folder)
                if not n.startswith(_ARROW_IGNORED_PREFIXES)
            ]
        except OSError:
            return None  # Minari's reader reports a missing episode.
        if len(names) != 1:
            return None
        file = os.path.join(folder, names[0])
        try:
            # Several times faster than letting pyarrow open the file.
            with open(file, "rb") as f:
                tables.append(pa.ipc.open_file(pa.py_buffer(f.read())).read_all())
        except (OSError, pa.ArrowException) as exc:
            raise MinariFormatError(
                f"Minari dataset {dataset_id!r}, episode {int(index)}: {file} is "
                f"not a readable Arrow file ({type(exc).__name__}: {exc}). Recreate "
                "the dataset with save_trajectories or "
                "minari.create_dataset_from_buffers.",
            ) from exc
    if not tables:
        return []
    try:
        table = pa.concat_tables(tables)
    except pa.ArrowInvalid:
        return None  # Episodes with different schemas.
    for name in EPISODE_FIELDS:
        if name not in table.column_names:
            raise _missing_field(dataset_id, int(indices[0]), name)
    obs = _arrow_observations(
        table.column("observations").combine_chunks(), dataset.observation_space
    )
    acts = _arrow_leaf(table.column("actions").combine_chunks(), dataset.action_space)
    flat = [
        _arrow_leaf(table.column(name).combine_chunks(), None)
        for name in ("rewards", "terminations", "truncations")
    ]
    if obs is None or acts is None or any(a is None for a in flat):
        return None
    rews, terms, truncs = flat
    episodes = []
    start = 0
    for index, t in zip(indices, tables):
        stop = start + t.num_rows
        last = max(start, stop - 1)  # Drops the padding row.
        episodes.append(
            Episode(
                id=int(index),
                observations=(
                    {k: v[start:stop] for k, v in obs.items()}
                    if isinstance(obs, dict)
                    else obs[start:stop]
                ),
                actions=acts[start:last],
                rewards=rews[start:last],  # type: ignore[index]
                terminations=terms[start:last],  # type: ignore[index]
                truncations=truncs[start:last],  # type: ignore[index]
            )
        )
        start = stop
    return episodes


def _arrow_observations(
    column: pa.Array, space: gym.Space
) -> np.ndarray | dict[str, np.ndarray] | None:
    if not isinstance(space, gym.spaces.Dict):
        return _arrow_leaf(column, space)
    if not isinstance(column, pa.StructArray) or column.null_count:
        return None
    names = {column.type.field(i).name for i in range(column.type.num_fields)}
    if not set(space.spaces) <= names:
        return None
    arrays = {k: _arrow_leaf(column.field(k), sub) for k, sub in space.spaces.items()}
    if any(a is None for a in arrays.values()):
        return None
    return arrays  # type: ignore[return-value]


def _arrow_leaf(column: pa.Array, space: gym.Space | None) -> np.ndarray | None:
    """A column of one value per row as a numpy array, as Minari decodes it.

    Box, MultiDiscrete and MultiBinary values are fixed-size lists of the
    flattened value; Discrete values (and the scalar fields, ``space`` None)
    are plain columns. Returns None for anything else, or nulls.
    """
    if column.null_count:
        return None
    if space is None or isinstance(space, gym.spaces.Discrete):
        if not _is_primitive(column.type):
            return None
        return _writable(column.to_numpy(zero_copy_only=False))
    shape: Sequence[int] = space.shape or ()
    if (
        not pa.types.is_fixed_size_list(column.type)
        or column.type.list_size != int(np.prod(shape))
        or not _is_primitive(column.type.value_type)
    ):
        return None
    values = column.flatten()
    if values.null_count:
        return None
    return _writable(values.to_numpy(zero_copy_only=False)).reshape(-1, *shape)


def _writable(array: np.ndarray) -> np.ndarray:
    """``array``, copied out of Arrow's read-only buffers if it is a view of them."""
    return array if array.flags.writeable else array.copy()


def _is_primitive(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
