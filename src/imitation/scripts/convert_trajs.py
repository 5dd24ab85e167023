"""Convert trajectory files to the current format (or to ``.npz``), in place.

Run ``python -m imitation.scripts.convert_trajs PATH [PATH ...]`` (or
``imitation-convert-trajs``). Each ``PATH`` is a legacy pickle, a ``.npz``
file or a dataset directory; it is loaded with
:func:`imitation.data.serialize.load` and written back *at the same path*:

* ``--to dataset`` (default): a HuggingFace dataset directory
  (:func:`imitation.data.serialize.save`), the current format.
* ``--to npz``: a flat ``.npz`` file without pickled objects
  (:func:`imitation.data.serialize.save_npz`).

Writes are atomic: ``PATH`` is either the old file or directory or the new
one, never a partial one, even when a file is replaced by a directory or the
other way round. Pickles (and ``.npz`` files with pickled infos) are only read
with ``--allow-pickle``, since unpickling runs code from the file.

Errors are reported on one line and the exit status is 1.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import sys
import tempfile
import warnings
from collections.abc import Sequence

from imitation.data import serialize, types
from imitation.data.huggingface_utils import TrajectoryFormatError
from imitation.util import atomic

FORMATS = ("dataset", "npz")
"""The formats ``update_traj_file_in_place`` can write."""

_PICKLE_SUFFIXES = {".pkl", ".pickle"}


class ConversionError(Exception):
    """A file could not be converted (the message explains why, in one line)."""


def _is_pickle(path: pathlib.Path) -> bool:
    """Whether ``path`` is a file that ``serialize.load`` would unpickle."""
    if not path.is_file():
        return False
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"PK":  # A zip, i.e. a .npz file.
        return False
    return magic[:1] == b"\x80" or path.suffix in _PICKLE_SUFFIXES


def _save(path: pathlib.Path, trajs: Sequence[types.Trajectory], fmt: str) -> None:
    if fmt == "dataset":
        serialize.save(path, trajs)
    else:
        serialize.save_npz(path, trajs)


def _write_replacing_other_kind(
    path: pathlib.Path, trajs: Sequence[types.Trajectory], fmt: str
) -> None:
    """Write ``fmt`` at ``path``, where a file must become a directory or back.

    The new file or directory is written beside ``path`` and swapped with the
    old one atomically where the platform supports it; otherwise the old one
    is renamed aside, the new one renamed into place and the old one deleted
    (and restored if the second rename fails).
    """
    tmp_dir = pathlib.Path(
        tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".convert", dir=path.parent)
    )
    try:
        new = tmp_dir / path.name
        _save(new, trajs, fmt)
        if not atomic.exchange_paths(new, path):
            aside = tmp_dir / f"{path.name}.old"
            os.replace(path, aside)
            try:
                os.replace(new, path)
            except BaseException:
                os.replace(aside, path)
                raise
        # Either way, the old file or directory is now inside ``tmp_dir``.
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def update_traj_file_in_place(
    path: str | os.PathLike[str],
    *,
    to: str = "dataset",
    allow_pickle: bool = False,
) -> list[types.Trajectory]:
    """Convert the trajectories at ``path`` to ``to``'s format, at the same path.

    Args:
        path: A legacy pickle file, a ``.npz`` file or a dataset directory.
        to: ``"dataset"`` (a dataset directory, written by
            :func:`~imitation.data.serialize.save`) or ``"npz"`` (written by
            :func:`~imitation.data.serialize.save_npz`).
        allow_pickle: Read pickles and ``.npz`` files with pickled infos.
            Unpickling runs code from the file: only for files you trust.

    Returns:
        The trajectories that were converted.

    Raises:
        ConversionError: If ``to`` is unknown, ``path`` is a pickle or an
            ``.npz`` file with pickled infos and ``allow_pickle`` is False,
            or the trajectories cannot be stored in the new format (e.g.
            infos that are not JSON).
        FileNotFoundError: If ``path`` does not exist.
        TrajectoryFormatError: If ``path`` is not a valid trajectory file.
    """
    if to not in FORMATS:
        raise ConversionError(f"Unknown format {to!r}; expected one of {FORMATS}.")
    path = pathlib.Path(path)
    atomic.recover_interrupted_write(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist.")
    if not allow_pickle and _is_pickle(path):
        raise ConversionError(
            f"{path} is a pickle file. Converting it means unpickling it, which "
            "runs code from the file: pass --allow-pickle (allow_pickle=True) "
            "only if you trust it."
        )
    # A dataset directory loads lazily from files about to be replaced: read
    # every trajectory now. Pickled infos that load() would leave out are not
    # dropped silently from a file converted in place.
    with warnings.catch_warnings():
        warnings.simplefilter("error", serialize.PickledInfosSkippedWarning)
        try:
            trajs = list(serialize.load(path, allow_pickle=allow_pickle))
        except serialize.PickledInfosSkippedWarning as exc:
            raise ConversionError(
                f"{path} has pickled infos, which converting without unpickling "
                "would drop. Pass --allow-pickle (allow_pickle=True) to keep them, "
                "only if you trust the file.",
            ) from exc
    try:
        if path.is_dir() == (to == "dataset"):
            _save(path, trajs, to)
        else:
            _write_replacing_other_kind(path, trajs, to)
    except (TypeError, ValueError) as exc:
        raise ConversionError(f"{path} cannot be saved as {to}: {exc}") from exc
    return trajs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imitation-convert-trajs",
        description=(
            "Convert trajectory files (legacy pickles, .npz files, dataset "
            "directories) to the current format, in place."
        ),
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="files or directories to convert"
    )
    parser.add_argument(
        "--to",
        choices=FORMATS,
        default="dataset",
        help="format to write: a dataset directory (default) or a .npz file",
    )
    parser.add_argument(
        "--allow-pickle",
        action="store_true",
        help=(
            "read pickle files (and .npz files with pickled infos); this runs "
            "code from the files, so only use it for files you trust"
        ),
    )
    return parser


def _one_line(exc: BaseException) -> str:
    message = " ".join(str(exc).split()) or type(exc).__name__
    if (
        isinstance(exc, TrajectoryFormatError)
        and "allow_pickle=True" in message
        and "--allow-pickle" not in message
    ):
        message += " (on the command line: --allow-pickle)"
    return message


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``imitation-convert-trajs``; exits with status 1 on errors.

    Args:
        argv: The arguments (without the program name); ``sys.argv[1:]`` if None.
    """
    args = _parser().parse_args(argv)
    for path in args.paths:
        try:
            trajs = update_traj_file_in_place(
                path, to=args.to, allow_pickle=args.allow_pickle
            )
        except KeyboardInterrupt:
            print("convert_trajs: interrupted", file=sys.stderr)
            sys.exit(2)
        except (ConversionError, TrajectoryFormatError, OSError) as exc:
            print(f"convert_trajs: error: {_one_line(exc)}", file=sys.stderr)
            sys.exit(1)
        print(f"{path}: {len(trajs)} trajectories written as {args.to}")


if __name__ == "__main__":  # pragma: no cover
    main()
