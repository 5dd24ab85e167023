"""Save and load sequences of trajectories.

``save`` writes a HuggingFace ``datasets`` directory (one row per trajectory).
``load`` reads that, the legacy ``.npz`` format (flat arrays plus split
indices, also written by :func:`save_npz`), and the legacy pickle format, the
last only with ``allow_pickle=True``: unpickling a file runs code from it.
Every save is atomic: a crash leaves the old file or none, never half a file.
"""

from __future__ import annotations

import json
import pathlib
import pickle
import zipfile
from collections.abc import Sequence
from typing import Any

import datasets
import numpy as np

from imitation.data import huggingface_utils, types
from imitation.util import util


class TrajectoryFormatError(ValueError):
    """A file or directory is not (or no longer) a valid trajectory file."""


_NPZ_KEYS = {"obs", "acts", "terminal", "indices"}


def save(path: types.AnyPath, trajectories: Sequence[types.Trajectory]) -> None:
    """Save trajectories to ``path`` as a HuggingFace dataset directory.

    Args:
        path: Destination directory (replaced if it exists).
        trajectories: The trajectories (all with rewards or all without).

    Raises:
        ValueError: If ``trajectories`` is empty.
    """
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
    """Save trajectories in the flat ``.npz`` format (no pickled objects).

    Infos are not saved. The arrays are ``obs`` (all observations,
    concatenated), ``acts``, ``terminal`` (per trajectory), ``indices`` (where
    each trajectory's actions start, after the first) and, with rewards,
    ``rews``. Dict observations are stored as ``obs/<key>`` arrays.

    Raises:
        ValueError: If ``trajectories`` is empty.
    """
    if len(trajectories) == 0:
        raise ValueError("No trajectories to save: the list is empty.")
    arrays: dict[str, np.ndarray] = {
        "acts": np.concatenate([t.acts for t in trajectories]),
        "terminal": np.array([t.terminal for t in trajectories], dtype=bool),
        "indices": np.cumsum([len(t) for t in trajectories[:-1]], dtype=np.int64),
    }
    obs = types.concatenate_maybe_dictobs([t.obs for t in trajectories])
    if isinstance(obs, types.DictObs):
        arrays.update({f"obs/{k}": v for k, v in obs.items()})
    else:
        arrays["obs"] = obs
    if all(isinstance(t, types.TrajectoryWithRew) for t in trajectories):
        arrays["rews"] = np.concatenate([t.rews for t in trajectories])  # type: ignore[attr-defined]
    with util.atomic_write_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)  # type: ignore[arg-type]


def _load_npz(path: pathlib.Path, allow_pickle: bool) -> list[types.Trajectory]:
    try:
        with np.load(path, allow_pickle=allow_pickle) as data:
            arrays = {k: data[k] for k in data.files}
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise TrajectoryFormatError(
                f"{path} stores pickled objects (e.g. infos); unpickling runs code "
                "from the file. If you trust it, pass allow_pickle=True.",
            ) from exc
        raise TrajectoryFormatError(f"{path} is not a valid .npz file: {exc}") from exc
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise TrajectoryFormatError(
            f"{path} is not a valid .npz file (truncated or corrupt): {exc}",
        ) from exc
    obs_keys = sorted(k for k in arrays if k.startswith("obs/"))
    present = set(arrays) | ({"obs"} if obs_keys else set())
    if not present >= _NPZ_KEYS:
        raise TrajectoryFormatError(
            f"{path} is not a trajectory file: it has arrays {sorted(arrays)}, but "
            f"needs {sorted(_NPZ_KEYS)} (and optionally rews, infos).",
        )
    obs: types.Observation
    if obs_keys:
        obs = types.DictObs({k.removeprefix("obs/"): arrays[k] for k in obs_keys})
    else:
        obs = arrays["obs"]
    acts, indices = arrays["acts"], arrays["indices"]
    n_traj = len(indices) + 1
    if len(arrays["terminal"]) != n_traj or len(obs) != len(acts) + n_traj:
        raise TrajectoryFormatError(
            f"{path}: inconsistent array lengths (acts {len(acts)}, obs {len(obs)}, "
            f"{n_traj} trajectories); the file is corrupt.",
        )
    starts = np.concatenate([[0], indices]).astype(np.int64)
    ends = np.concatenate([indices, [len(acts)]]).astype(np.int64)
    infos = arrays.get("infos")
    trajs: list[types.Trajectory] = []
    for i, (lo, hi) in enumerate(zip(starts.tolist(), ends.tolist())):
        fields: dict[str, Any] = {
            "obs": obs[lo + i : hi + i + 1],
            "acts": acts[lo:hi],
            "infos": None if infos is None else infos[lo:hi],
            "terminal": bool(arrays["terminal"][i]),
        }
        if "rews" in arrays:
            rews = arrays["rews"][lo:hi].astype(np.float64, copy=False)
            trajs.append(types.TrajectoryWithRew(**fields, rews=rews))
        else:
            trajs.append(types.Trajectory(**fields))
    return trajs


def _load_pickle(path: pathlib.Path, allow_pickle: bool) -> Sequence[types.Trajectory]:
    if not allow_pickle:
        raise TrajectoryFormatError(
            f"{path} is a pickle file; unpickling runs code from the file. If you "
            "trust it, pass allow_pickle=True (then re-save it with serialize.save).",
        )
    with open(path, "rb") as f:
        try:
            trajs = pickle.load(f)
        except (pickle.UnpicklingError, EOFError) as exc:
            raise TrajectoryFormatError(f"{path} is a corrupt pickle: {exc}") from exc
    if not isinstance(trajs, Sequence) or not all(
        isinstance(t, types.Trajectory) for t in trajs
    ):
        raise TrajectoryFormatError(f"{path} does not hold a sequence of trajectories.")
    return trajs


def load(
    path: types.AnyPath, *, allow_pickle: bool = False
) -> Sequence[types.Trajectory]:
    """Load trajectories saved by :func:`save` (or a legacy format).

    Args:
        path: A dataset directory, a ``.npz`` file, or (with ``allow_pickle``)
            a pickle file.
        allow_pickle: Allow formats that unpickle objects (legacy ``.pkl``
            files, ``.npz`` files with infos). Only for files you trust.

    Returns:
        The trajectories (a lazy sequence for dataset directories).

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        TrajectoryFormatError: If it is corrupt, foreign, or needs unpickling
            without ``allow_pickle``.
    """
    path = util.parse_path(path)
    if not path.exists():
        raise FileNotFoundError(f"No trajectories at {path}.")
    if path.is_dir():
        try:
            dataset = datasets.load_from_disk(str(path))
        except (FileNotFoundError, ValueError, OSError, json.JSONDecodeError) as exc:
            raise TrajectoryFormatError(
                f"{path} is not a saved trajectory dataset (or is corrupt): {exc}",
            ) from exc
        if not isinstance(dataset, datasets.Dataset):
            raise TrajectoryFormatError(f"{path} holds a DatasetDict, not a Dataset.")
        try:
            return huggingface_utils.TrajectoryDatasetSequence(dataset)
        except ValueError as exc:
            raise TrajectoryFormatError(f"{path}: {exc}") from exc
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic.startswith(b"PK"):
        return _load_npz(path, allow_pickle)
    if magic[:1] == b"\x80":
        return _load_pickle(path, allow_pickle)
    raise TrajectoryFormatError(
        f"{path} is neither a trajectory dataset directory, a .npz file nor a "
        "pickle: it is not a trajectory file.",
    )


def load_with_rewards(
    path: types.AnyPath,
    *,
    allow_pickle: bool = False,
) -> Sequence[types.TrajectoryWithRew]:
    """Like :func:`load`, but the trajectories must have rewards.

    Raises:
        TrajectoryFormatError: If the saved trajectories have no rewards.
    """
    trajs = load(path, allow_pickle=allow_pickle)
    if len(trajs) and not isinstance(trajs[0], types.TrajectoryWithRew):
        raise TrajectoryFormatError(f"The trajectories in {path!r} have no rewards.")
    return trajs  # type: ignore[return-value]
