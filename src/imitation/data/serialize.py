"""Save and load sequences of trajectories.

:func:`save` writes a HuggingFace ``datasets`` directory, one row per
trajectory (layout in :mod:`imitation.data.huggingface_utils`). :func:`load`
reads that and two legacy formats:

* ``.npz``: flat arrays over all trajectories. ``obs`` (all observations,
  concatenated; dict observations as one ``obs/<key>`` array per key),
  ``acts``, ``terminal`` (one per trajectory), ``indices`` (where each
  trajectory's actions start, after the first; each trajectory has one more
  observation than actions), optionally ``rews``, and optionally ``infos``
  (a pickled object array, as the original library wrote it) or
  ``infos_json`` (written by :func:`save_npz`; no pickling). Pickled infos
  are only read with ``allow_pickle=True``; without it the file loads
  without its infos, with a warning.
* Pickle (e.g. ``.pkl``): a pickled list of trajectories. Unpickling runs code
  from the file, so it is only read with ``allow_pickle=True``.

Saves are atomic: a crash or kill at any point leaves the previous file or
directory (or none) or the new one, never a partial one. Whatever the format,
loaded trajectories are validated like newly built ones, and anything that is
not a valid trajectory file raises :class:`TrajectoryFormatError`.
"""

from __future__ import annotations

import pathlib
import pickle
import warnings
import zipfile
import zlib
from collections.abc import Sequence
from typing import Any, cast

import datasets
import numpy as np

from imitation.data import huggingface_utils, types
from imitation.data.huggingface_utils import TrajectoryFormatError
from imitation.util import util

__all__ = [
    "PickledInfosSkippedWarning",
    "TrajectoryFormatError",
    "load",
    "load_with_rewards",
    "save",
    "save_npz",
]

_NPZ_REQUIRED = {"acts", "terminal", "indices"}
_NPZ_OPTIONAL = {"rews", "infos", "infos_json"}
_PICKLE_SUFFIXES = {".pkl", ".pickle"}


class PickledInfosSkippedWarning(UserWarning):
    """An ``.npz`` file's pickled infos were left out, as ``allow_pickle`` is off.

    Load the file with ``allow_pickle=True`` (only if you trust it) to keep
    them, and re-save it with :func:`save` to drop the pickle for good.
    """


def save(path: types.AnyPath, trajectories: Sequence[types.Trajectory]) -> None:
    """Save trajectories to ``path`` as a HuggingFace dataset directory.

    Args:
        path: Destination directory. An existing one is replaced (atomically).
        trajectories: Trajectories from the same spaces, either all with
            rewards or all without. Infos are stored as JSON.

    Raises:
        ValueError: If ``trajectories`` is empty or mixes kinds, dtypes or
            shapes.
        TypeError: If an info cannot be stored as JSON.
    """
    if len(trajectories) == 0:
        raise ValueError(
            "Cannot save an empty list of trajectories: there would be nothing "
            "to load back.",
        )
    dataset = huggingface_utils.trajectories_to_dataset(trajectories)
    bars_were_on = not datasets.utils.are_progress_bars_disabled()
    datasets.utils.disable_progress_bars()
    try:
        with util.atomic_write_path(path) as tmp:
            dataset.save_to_disk(str(tmp))
    finally:
        if bars_were_on:
            datasets.utils.enable_progress_bars()


def save_npz(path: types.AnyPath, trajectories: Sequence[types.Trajectory]) -> None:
    """Save trajectories as one ``.npz`` file of flat arrays, without pickling.

    This is the legacy ``.npz`` layout (see the module docstring), with infos
    stored as ``infos_json``: the UTF-8 bytes of one JSON document per step,
    separated by newlines, ``null`` for steps of trajectories without infos.
    :func:`save` is preferred; this suits many small files (e.g. DAgger
    demonstrations), as it skips the per-directory overhead.

    Args:
        path: Destination file (replaced atomically if it exists).
        trajectories: Trajectories from the same spaces, either all with
            rewards or all without.

    Raises:
        ValueError: If ``trajectories`` is empty or mixes kinds, dtypes or
            shapes.
        TypeError: If an info cannot be stored as JSON.
    """
    if len(trajectories) == 0:
        raise ValueError("Cannot save an empty list of trajectories.")
    columns = huggingface_utils.trajectories_to_dict(trajectories)
    lengths = [len(t) for t in trajectories]
    arrays: dict[str, np.ndarray] = {
        "acts": np.concatenate(columns["acts"]),
        "terminal": np.array(columns["terminal"], dtype=bool),
        "indices": np.cumsum(lengths[:-1], dtype=np.int64),
    }
    obs = columns["obs"]
    if isinstance(obs[0], dict):
        arrays.update({f"obs/{k}": np.concatenate([o[k] for o in obs]) for k in obs[0]})
    else:
        arrays["obs"] = np.concatenate(obs)
    if "rews" in columns:
        arrays["rews"] = np.concatenate(columns["rews"])
    infos: list[list[str] | None] = columns["infos"]
    if any(i is not None for i in infos):
        lines = [
            line
            for encoded, n in zip(infos, lengths)
            for line in (["null"] * n if encoded is None else encoded)
        ]
        arrays["infos_json"] = np.frombuffer(
            "\n".join(lines).encode("utf-8"), dtype=np.uint8
        )
    with util.atomic_write_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)  # type: ignore[arg-type]


def _read_npz(path: pathlib.Path, allow_pickle: bool) -> dict[str, np.ndarray]:
    """Read the arrays of an ``.npz`` file, translating failures.

    Without ``allow_pickle``, a pickled ``infos`` array is left out with a
    warning saying how to keep it; the other arrays are read as usual.

    Raises:
        TrajectoryFormatError: If the file is truncated or corrupt, or holds
            pickled arrays other than ``infos`` and ``allow_pickle`` is False.
    """
    arrays: dict[str, np.ndarray] = {}
    pickled: list[str] = []
    try:
        with np.load(path, allow_pickle=allow_pickle) as data:
            for key in data.files:
                try:
                    arrays[key] = data[key]
                except ValueError as exc:
                    if allow_pickle or "allow_pickle" not in str(exc):
                        raise
                    pickled.append(key)
    except ValueError as exc:
        raise TrajectoryFormatError(
            f"{path} is not a valid .npz file (truncated or corrupt?): {exc}",
        ) from exc
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
        raise TrajectoryFormatError(
            f"{path} is not a valid .npz file (truncated or corrupt?): {exc}",
        ) from exc
    if pickled and pickled != ["infos"]:
        raise TrajectoryFormatError(
            f"{path} holds pickled arrays {pickled}, and unpickling runs "
            "arbitrary code from the file. If you trust the file, load it with "
            "allow_pickle=True (and re-save it with serialize.save).",
        )
    if pickled:
        warnings.warn(
            f"{path}: its infos are pickled, and unpickling runs arbitrary code "
            "from the file, so the trajectories were loaded without infos. To "
            "keep them, load the file with allow_pickle=True if you trust it "
            "(and re-save it with serialize.save, which needs no unpickling).",
            PickledInfosSkippedWarning,
            stacklevel=4,
        )
    return arrays


def _npz_obs(path: pathlib.Path, arrays: dict[str, np.ndarray]) -> types.Observation:
    obs_keys = [k for k in arrays if k.startswith("obs/")]
    if "obs" in arrays and obs_keys:
        raise TrajectoryFormatError(
            f"{path} has both an obs array and obs/<key> arrays; it is corrupt.",
        )
    if not obs_keys:
        return arrays["obs"]
    try:
        return types.DictObs({k.removeprefix("obs/"): arrays[k] for k in obs_keys})
    except ValueError as exc:
        raise TrajectoryFormatError(f"{path}: invalid obs/<key> arrays: {exc}") from exc


def _npz_split_points(
    path: pathlib.Path, arrays: dict[str, np.ndarray], obs: types.Observation
) -> list[tuple[int, int]]:
    """Each trajectory's ``(start, stop)`` in ``acts``, after checking lengths.

    Raises:
        TrajectoryFormatError: If the arrays do not fit together.
    """
    acts, indices, terminal = arrays["acts"], arrays["indices"], arrays["terminal"]
    n_acts = len(acts)
    if indices.ndim != 1 or (indices.size and indices.dtype.kind not in "iu"):
        raise TrajectoryFormatError(
            f"{path}: indices must be a 1-D integer array, got dtype "
            f"{indices.dtype} and shape {indices.shape}.",
        )
    bounds = [0, *indices.tolist(), n_acts]
    if any(lo >= hi for lo, hi in zip(bounds[:-1], bounds[1:])):
        raise TrajectoryFormatError(
            f"{path}: indices {indices.tolist()} are not strictly increasing "
            f"split points inside the {n_acts} actions; the file is corrupt.",
        )
    n_traj = len(bounds) - 1
    problems = []
    if terminal.shape != (n_traj,) or terminal.dtype != np.bool_:
        problems.append(
            f"terminal has shape {terminal.shape} and dtype {terminal.dtype}, "
            f"expected ({n_traj},) bool",
        )
    if len(obs) != n_acts + n_traj:
        problems.append(
            f"obs has {len(obs)} entries, expected {n_acts + n_traj} (one more "
            "than actions per trajectory)",
        )
    for key in ("rews", "infos"):
        if key in arrays and len(arrays[key]) != n_acts:
            problems.append(f"{key} has {len(arrays[key])} entries, expected {n_acts}")
    if "infos" in arrays and arrays["infos"].dtype != object:
        problems.append(f"infos has dtype {arrays['infos'].dtype}, expected object")
    if problems:
        raise TrajectoryFormatError(
            f"{path}: arrays do not fit together ({'; '.join(problems)}); the "
            "file is corrupt.",
        )
    return list(zip(bounds[:-1], bounds[1:]))


def _npz_infos(
    path: pathlib.Path, arrays: dict[str, np.ndarray], n_acts: int
) -> list[str] | None:
    """The per-step JSON lines of ``infos_json``, or None if there are none."""
    if "infos_json" not in arrays:
        return None
    try:
        lines = arrays["infos_json"].tobytes().decode("utf-8").split("\n")
    except UnicodeDecodeError as exc:
        raise TrajectoryFormatError(f"{path}: infos_json is not UTF-8.") from exc
    if len(lines) != n_acts:
        raise TrajectoryFormatError(
            f"{path}: infos_json has {len(lines)} entries, expected {n_acts}.",
        )
    return lines


def _load_npz(path: pathlib.Path, allow_pickle: bool) -> list[types.Trajectory]:
    arrays = _read_npz(path, allow_pickle)
    names = set(arrays)
    has_obs = "obs" in names or any(k.startswith("obs/") for k in names)
    unknown = {k for k in names if not k.startswith("obs/")} - (
        _NPZ_REQUIRED | _NPZ_OPTIONAL | {"obs"}
    )
    if not has_obs or not names >= _NPZ_REQUIRED or unknown:
        raise TrajectoryFormatError(
            f"{path} is not a trajectory file: it has the arrays {sorted(names)}, "
            "but a trajectory .npz has obs, acts, terminal, indices and "
            "optionally rews and infos (or infos_json). Save trajectories with "
            "serialize.save.",
        )
    if "infos" in names and "infos_json" in names:
        raise TrajectoryFormatError(f"{path} has both infos and infos_json arrays.")
    scalars = sorted(k for k, v in arrays.items() if v.ndim == 0)
    if scalars:
        raise TrajectoryFormatError(
            f"{path}: arrays {scalars} are 0-d, but every array needs a leading "
            "axis; the file is corrupt.",
        )
    obs = _npz_obs(path, arrays)
    spans = _npz_split_points(path, arrays, obs)
    info_lines = _npz_infos(path, arrays, spans[-1][1])
    trajs: list[types.Trajectory] = []
    for i, (lo, hi) in enumerate(spans):
        try:
            infos = arrays["infos"][lo:hi] if "infos" in arrays else None
            if info_lines is not None and any(s != "null" for s in info_lines[lo:hi]):
                infos = huggingface_utils.decode_infos(info_lines[lo:hi])
            fields: dict[str, Any] = {
                "obs": obs[lo + i : hi + i + 1],
                "acts": arrays["acts"][lo:hi],
                "infos": infos,
                "terminal": bool(arrays["terminal"][i]),
            }
            if "rews" in arrays:
                trajs.append(
                    types.TrajectoryWithRew(**fields, rews=arrays["rews"][lo:hi])
                )
            else:
                trajs.append(types.Trajectory(**fields))
        except ValueError as exc:
            raise TrajectoryFormatError(
                f"{path}: trajectory {i} is not valid: {exc}",
            ) from exc
    return trajs


def _load_pickle(path: pathlib.Path, allow_pickle: bool) -> list[types.Trajectory]:
    if not allow_pickle:
        raise TrajectoryFormatError(
            f"{path} is a pickle file, and unpickling runs arbitrary code from "
            "the file. If you trust it, load it with allow_pickle=True (and "
            "re-save it with serialize.save, which needs no unpickling).",
        )
    try:
        with open(path, "rb") as f:
            loaded = pickle.load(f)
    except Exception as exc:  # Unpickling can raise almost anything.
        raise TrajectoryFormatError(
            f"{path} could not be unpickled (truncated, corrupt, or made with "
            f"classes that no longer exist): {type(exc).__name__}: {exc}",
        ) from exc
    if not isinstance(loaded, Sequence) or not all(
        isinstance(t, types.Trajectory) for t in loaded
    ):
        raise TrajectoryFormatError(
            f"{path} holds a {type(loaded).__name__}, not a sequence of trajectories.",
        )
    trajs = []
    for i, traj in enumerate(loaded):
        # Unpickling bypasses __init__: rebuild each one so it is validated.
        try:
            trajs.append(type(traj)(**types.dataclass_quick_asdict(traj)))
        except (ValueError, AttributeError) as exc:
            raise TrajectoryFormatError(
                f"{path}: trajectory {i} is not valid: {exc}",
            ) from exc
    return trajs


def _load_dataset_dir(
    path: pathlib.Path,
) -> huggingface_utils.TrajectoryDatasetSequence:
    if (path / "dataset_dict.json").exists():
        raise TrajectoryFormatError(
            f"{path} holds a DatasetDict (several splits), not one dataset of "
            "trajectories. Load one split: TrajectoryDatasetSequence("
            "datasets.load_from_disk(path)[split]).",
        )
    if not (path / "state.json").exists():
        raise TrajectoryFormatError(
            f"{path} is a directory but not a saved dataset (it has no "
            "state.json). Pass a directory written by serialize.save, or a "
            ".npz or pickle file.",
        )
    try:
        dataset = datasets.load_from_disk(str(path))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TrajectoryFormatError(
            f"{path} is a corrupt or truncated dataset directory "
            f"({type(exc).__name__}: {exc}). Save it again with serialize.save.",
        ) from exc
    try:
        return huggingface_utils.TrajectoryDatasetSequence(dataset)
    except TrajectoryFormatError as exc:
        raise TrajectoryFormatError(f"{path}: {exc}") from exc


def load(
    path: types.AnyPath, *, allow_pickle: bool = False
) -> Sequence[types.Trajectory]:
    """Load trajectories saved by :func:`save`, :func:`save_npz` or a legacy writer.

    Args:
        path: A dataset directory, a ``.npz`` file, or (with ``allow_pickle``)
            a pickle file.
        allow_pickle: Also read data that must be unpickled: pickle files and
            the pickled infos of ``.npz`` files written by the original
            library. Unpickling runs code from the file: only enable this for
            files you trust. Without it, such an ``.npz`` file loads without
            its infos, with a :class:`PickledInfosSkippedWarning`.

    A save that was killed half-way through replacing ``path`` is completed
    first (see :func:`imitation.util.util.recover_interrupted_write`).

    Returns:
        The trajectories, ``TrajectoryWithRew`` if they were saved with
        rewards. A dataset directory gives a lazy
        :class:`~imitation.data.huggingface_utils.TrajectoryDatasetSequence`,
        which decodes (and validates) each trajectory when it is accessed;
        other formats give a list.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        TrajectoryFormatError: If ``path`` is not a trajectory file, is
            truncated or corrupt, holds invalid trajectories, or needs
            unpickling (other than of infos) and ``allow_pickle`` is False.
    """
    path = util.parse_path(path)
    util.recover_interrupted_write(path)
    if not path.exists():
        raise FileNotFoundError(f"Cannot load trajectories: {path} does not exist.")
    if path.is_dir():
        return _load_dataset_dir(path)
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"PK":
        return _load_npz(path, allow_pickle)
    # Pickle protocols 2 and above start with the PROTO opcode, 0x80.
    if magic[:1] == b"\x80" or path.suffix in _PICKLE_SUFFIXES:
        return _load_pickle(path, allow_pickle)
    raise TrajectoryFormatError(
        f"{path} is not a trajectory file: it is neither a dataset directory, "
        "a .npz file nor a pickle. Pass a path written by serialize.save.",
    )


def load_with_rewards(
    path: types.AnyPath, *, allow_pickle: bool = False
) -> Sequence[types.TrajectoryWithRew]:
    """Like :func:`load`, but the trajectories must have rewards.

    Args:
        path: As for :func:`load`.
        allow_pickle: As for :func:`load`.

    Returns:
        The trajectories, all ``TrajectoryWithRew``.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        TrajectoryFormatError: As for :func:`load`, and if the trajectories
            were saved without rewards.
    """
    trajs = load(path, allow_pickle=allow_pickle)
    if isinstance(trajs, huggingface_utils.TrajectoryDatasetSequence):
        with_rews = trajs.has_rewards
    else:
        with_rews = all(isinstance(t, types.TrajectoryWithRew) for t in trajs)
    if not with_rews:
        raise TrajectoryFormatError(
            f"The trajectories in {util.path_to_str(path)} have no rewards. Use "
            "serialize.load, or save trajectories with rewards (TrajectoryWithRew).",
        )
    return cast(Sequence[types.TrajectoryWithRew], trajs)
