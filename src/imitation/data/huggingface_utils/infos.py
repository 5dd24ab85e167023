"""Info dicts stored as JSON strings, one per step; the format error of stored data."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["TrajectoryFormatError", "decode_infos", "encode_infos"]


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
