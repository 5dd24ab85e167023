"""Trajectories to a trajectory dataset (columns as in the package docstring)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import datasets
import numpy as np
import pyarrow as pa

from imitation.data import types
from imitation.data.huggingface_utils.infos import encode_infos

__all__ = ["trajectories_to_dataset", "trajectories_to_dict"]

_INT32_MAX = 2**31 - 1


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
