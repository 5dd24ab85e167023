"""Crash-safe writes: files and directories replaced whole, or not at all.

:func:`atomic_write_path` is how every persistent file in imitation is
written (datasets, demonstrations, checkpoints, policies); files written
piece by piece as they come (videos, clips) are a :class:`PendingFile`. The
functions are re-exported by :mod:`imitation.util.util`.
"""

from __future__ import annotations

import abc
import contextlib
import ctypes
import errno
import functools
import os
import pathlib
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

from imitation.util.paths import AnyPath

__all__ = [
    "PendingFile",
    "atomic_write_path",
    "exchange_paths",
    "recover_interrupted_write",
]


def _as_path(path: AnyPath) -> pathlib.Path:
    return pathlib.Path(os.fsdecode(path))


# renameat2(2)'s flag (<linux/fs.h>) and "relative to the working directory"
# descriptor (<fcntl.h>).
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
# errno values meaning "this kernel, libc or filesystem cannot exchange".
_EXCHANGE_UNSUPPORTED = frozenset(
    {errno.ENOSYS, errno.EINVAL, errno.EXDEV, errno.EOPNOTSUPP, errno.ENOTSUP}
)


@functools.cache
def _libc_renameat2() -> Any | None:
    """The C library's ``renameat2`` (Linux, glibc 2.28+), or None if missing."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    function.restype = ctypes.c_int
    return function


def exchange_paths(first: AnyPath, second: AnyPath) -> bool:
    """Atomically swap two existing paths (files or directories), if supported.

    Uses Linux's ``renameat2(..., RENAME_EXCHANGE)``: other processes see
    either both names before the swap or both after it, never one missing.

    Args:
        first: An existing path.
        second: Another existing path on the same filesystem.

    Returns:
        True if the paths were swapped; False (leaving both untouched) if the
        platform, C library, kernel or filesystem cannot exchange them.

    Raises:
        OSError: For any other failure, e.g. a path that does not exist.
    """
    renameat2 = _libc_renameat2()
    if renameat2 is None:
        return False
    a, b = os.fsencode(first), os.fsencode(second)
    if renameat2(_AT_FDCWD, a, _AT_FDCWD, b, _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _EXCHANGE_UNSUPPORTED:
        return False
    raise OSError(
        code, os.strerror(code), os.fsdecode(first), None, os.fsdecode(second)
    )


def _temp_dir_pattern(name: str) -> re.Pattern[str]:
    """Matches the temporary directories that :func:`atomic_write_path` makes."""
    return re.compile(re.escape(f".{name}.") + r"[^./]+\.tmp")


def _put_back(tmp_dir: pathlib.Path, final: pathlib.Path, keep_old: bool) -> bool:
    """Finish a two-rename replacement of ``final`` that stopped half-way.

    Half-way means ``final`` is missing while ``tmp_dir`` holds the complete
    new copy (``{name}``) and the old one (``{name}.old``). The new copy is
    moved into place; if that fails and ``keep_old`` is set, the old one is.

    Returns:
        True if this call moved a copy into place.
    """
    new, old = tmp_dir / final.name, tmp_dir / f"{final.name}.old"
    if os.path.lexists(final) or not old.exists():
        return False
    for source in (new, old) if keep_old else (new,):
        try:
            # Renaming onto a non-empty directory fails: if another process
            # restored (or wrote) ``final`` meanwhile, theirs stays.
            os.rename(source, final)
        except OSError:
            continue
        return True
    return False


def recover_interrupted_write(path: AnyPath) -> bool:
    """Finish replacing ``path`` if a writer was killed half-way through.

    Where directories cannot be swapped atomically (see :func:`exchange_paths`),
    :func:`atomic_write_path` replaces a directory with two renames: the old
    directory into its temporary directory ``.{name}.<random>.tmp/`` as
    ``{name}.old``, then the new one (``{name}`` there) onto ``path``. A kill
    between the two leaves ``path`` missing. This moves the new copy into
    place: ``{name}.old`` exists only once the new copy was completely
    written, so the new copy is known to be whole. The temporary directory
    and old copy are then removed.

    Temporary directories without ``{name}.old`` (a writer still writing,
    or one killed before its first rename) are left alone, and nothing is
    done while ``path`` exists. :func:`atomic_write_path` and the loaders of
    :mod:`imitation.data.serialize` and ``PreferenceDataset`` call this first,
    so an interrupted save is recovered by the next save or load.

    Args:
        path: The destination of the interrupted write.

    Returns:
        True if an interrupted write was completed, else False.
    """
    final = _as_path(path)
    if os.path.lexists(final):
        return False
    pattern = _temp_dir_pattern(final.name)
    try:
        names = os.listdir(final.parent)
    except OSError:  # No parent directory: nothing was ever written here.
        return False
    candidates = [
        final.parent / n
        for n in names
        if pattern.fullmatch(n)
        and (final.parent / n / final.name).exists()
        and (final.parent / n / f"{final.name}.old").exists()
    ]
    # Several are left only by several killed writers: take the latest.
    for tmp_dir in sorted(candidates, key=_mtime, reverse=True):
        if _put_back(tmp_dir, final, keep_old=False):
            _remove_tree(tmp_dir / f"{final.name}.old")
            with contextlib.suppress(OSError):
                tmp_dir.rmdir()
            return True
    return False


def _mtime(path: pathlib.Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return float("-inf")


@contextlib.contextmanager
def atomic_write_path(path: AnyPath) -> Iterator[pathlib.Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` on success.

    Writers write to the yielded path; readers of ``path`` then see either the
    old file or directory (or none) or the complete new one, never half of one,
    even if the process is killed at any point. On an exception the temporary
    file (or directory) is removed and ``path`` is left as it was.

    A file, or a directory replacing nothing, is moved with one atomic rename.
    An existing directory is swapped with the new one atomically by
    :func:`exchange_paths` and then deleted. Where that is unsupported it is
    renamed aside first and the new one renamed into place: a kill between the
    two leaves ``path`` missing until :func:`recover_interrupted_write` (run
    by the next save or load) moves the new copy into place.

    Args:
        path: Final destination (a file or a directory).

    Yields:
        The temporary path to write to (it does not exist yet).
    """
    final = _as_path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    recover_interrupted_write(final)
    tmp_dir = pathlib.Path(
        tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent),
    )
    tmp = tmp_dir / final.name
    try:
        yield tmp
        if final.is_dir() and not final.is_symlink():
            _replace_directory(tmp, final, tmp_dir / f"{final.name}.old")
        else:
            os.replace(tmp, final)
    finally:
        # After an exception between the two renames of the fallback (e.g.
        # KeyboardInterrupt), put a copy back before deleting the temporary
        # directory that holds both.
        _put_back(tmp_dir, final, keep_old=True)
        _remove_tree(tmp_dir)


def _replace_directory(
    tmp: pathlib.Path, final: pathlib.Path, old: pathlib.Path
) -> None:
    """Move ``tmp`` onto the existing directory ``final``.

    The old directory ends up at ``tmp`` (after an atomic exchange) or at
    ``old`` (after the two-rename fallback), for the caller to delete.
    """
    try:
        if exchange_paths(tmp, final):
            return  # ``tmp`` now holds the old directory.
    except FileNotFoundError:
        if os.path.lexists(tmp):  # ``final`` was removed meanwhile.
            os.replace(tmp, final)
            return
        raise
    # os.replace cannot replace a non-empty directory: move the old one aside
    # first. ``old`` existing tells recover_interrupted_write that ``tmp`` is
    # complete, should we be killed before the second rename.
    os.replace(final, old)
    try:
        os.replace(tmp, final)
    except FileNotFoundError:
        # A concurrent recover_interrupted_write saw ``final`` missing between
        # our renames and already moved ``tmp`` into place for us.
        if not os.path.lexists(final):
            raise


def _remove_tree(path: pathlib.Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


class PendingFile(abc.ABC):
    """A file written piece by piece to a hidden temporary file beside ``path``.

    Readers never see half of it: :meth:`commit` finishes the writing and
    renames the temporary file onto ``path`` in one step; :meth:`abort`
    removes it. A subclass writes to :attr:`tmp` and closes its writer in
    :meth:`_close`.
    """

    def __init__(self, path: pathlib.Path) -> None:
        """Create the (empty) temporary file, with ``path``'s suffix."""
        self.path = path
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent
        )
        os.close(fd)
        self.tmp = pathlib.Path(tmp_name)

    @abc.abstractmethod
    def _close(self, complete: bool) -> None:
        """Close the writer; ``complete`` if the file is to be kept."""

    def commit(self) -> None:
        """Finish the file and move it onto :attr:`path` (removed if that fails)."""
        try:
            self._close(complete=True)
        except BaseException:
            self.tmp.unlink(missing_ok=True)
            raise
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        """Close the writer and remove the temporary file."""
        try:
            self._close(complete=False)
        finally:
            self.tmp.unlink(missing_ok=True)
