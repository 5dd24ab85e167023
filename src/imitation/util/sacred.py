"""Helpers for Sacred run directories (no Sacred import: plain files and paths).

A Sacred ``FileStorageObserver`` writes each run to ``<root>/<run id>/`` with
``config.json`` and ``run.json``; imitation's scripts also link each run's
output directory to it (``<log_dir>/sacred``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
from collections.abc import Callable, Mapping
from typing import Any, Self

StrPath = str | os.PathLike[str]


@dataclasses.dataclass(frozen=True)
class SacredDicts:
    """The ``config.json`` and ``run.json`` of one Sacred run directory."""

    sacred_dir: pathlib.Path
    config: dict[str, Any]
    run: dict[str, Any]

    @classmethod
    def load_from_dir(cls, sacred_dir: StrPath) -> Self:
        """Read both files of ``sacred_dir``.

        Raises:
            FileNotFoundError: If either file is missing.
            ValueError: If either file is not valid JSON.
        """
        sacred_dir = pathlib.Path(sacred_dir)
        loaded = {}
        for name in ("config", "run"):
            path = sacred_dir / f"{name}.json"
            try:
                loaded[name] = json.loads(path.read_text())
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path} is not valid JSON: {exc}") from exc
        return cls(sacred_dir, loaded["config"], loaded["run"])


def dir_contains_sacred_jsons(dir_path: StrPath) -> bool:
    """Whether ``dir_path`` holds both ``config.json`` and ``run.json``."""
    path = pathlib.Path(dir_path)
    return (path / "config.json").is_file() and (path / "run.json").is_file()


def filter_subdirs(
    root_dir: StrPath,
    filter_fn: Callable[[pathlib.Path], bool] = dir_contains_sacred_jsons,
    *,
    nested_ok: bool = False,
) -> list[pathlib.Path]:
    """Directories under ``root_dir`` (itself included) for which ``filter_fn`` holds.

    Sacred's ``_sources`` folders are skipped. Unless ``nested_ok``, a match
    inside another match is an error (it would be counted twice).

    Raises:
        ValueError: If matches nest and ``nested_ok`` is False.
    """
    root = pathlib.Path(root_dir)
    found = []
    for dirpath, dirnames, _ in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d != "_sources")
        path = pathlib.Path(dirpath)
        if filter_fn(path):
            found.append(path)
    if not nested_ok:
        for outer in found:
            for inner in found:
                if inner != outer and outer in inner.parents:
                    raise ValueError(f"Matching directories nest: {inner} in {outer}.")
    return found


def build_sacred_symlink(log_dir: StrPath, run: Any) -> None:
    """Link ``<log_dir>/sacred`` to the run's file-observer directory.

    The link is relative when both live under one root (so the output folder
    can be moved as a whole). Nothing happens when the run has no file
    observer (e.g. a run started from Python without one).
    """
    sacred_dir = get_sacred_dir_from_run(run)
    if sacred_dir is None:
        return
    log_dir = pathlib.Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    link = log_dir / "sacred"
    target = os.path.relpath(sacred_dir.resolve(), log_dir.resolve())
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target, target_is_directory=True)


def get_sacred_dir_from_run(run: Any) -> pathlib.Path | None:
    """The directory of the first file-storage observer of a Sacred run, or None."""
    for observer in getattr(run, "observers", []):
        run_dir = getattr(observer, "dir", None)
        if run_dir is not None:
            return pathlib.Path(run_dir)
    return None


def dict_get_nested(d: Mapping[str, Any], nested_key: str, *, default: Any) -> Any:
    """``d["a"]["b"]`` for ``nested_key="a.b"``; ``default`` if any part is missing."""
    value: Any = d
    for key in nested_key.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return default
        value = value[key]
    return value


def nested_update(target: dict[str, Any], dotted: Mapping[str, Any]) -> dict[str, Any]:
    """Set ``target["a"]["b"] = v`` for each ``"a.b": v`` of ``dotted``.

    Returns:
        ``target``.
    """
    for dotted_key, value in dotted.items():
        *parents, last = dotted_key.split(".")
        node = target
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return target
