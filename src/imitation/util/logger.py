"""Hierarchical logging on top of Stable-Baselines3's logger.

``HierarchicalLogger`` adds two context managers to SB3's ``Logger``:

* ``accumulate_means(name)``: inside it, values go to a separate raw logger
  under ``<dir>/raw/<name>`` (dumped at every ``dump``), while their means are
  accumulated into the main logger, dumped when the outer loop dumps;
* ``add_key_prefix(prefix)``: keys recorded inside get ``prefix/`` prepended.

``configure`` builds one with the usual output formats.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

from stable_baselines3.common import logger as sb_logger

from imitation.data import types


class WandbOutputFormat(sb_logger.KVWriter):
    """Send logged values to Weights & Biases (``wandb`` must be installed)."""

    def __init__(self) -> None:
        """Attach to the current W&B run.

        Raises:
            ImportError: If ``wandb`` is not installed.
        """
        try:
            import wandb
        except ImportError as exc:
            raise ImportError(
                "The 'wandb' log format needs the wandb package: pip install wandb.",
            ) from exc
        self._wandb = wandb

    def write(
        self,
        key_values: dict[str, Any],
        key_excluded: dict[str, tuple[str, ...]],
        step: int = 0,
    ) -> None:
        """Log the values that are not excluded for ``wandb``."""
        values = {
            k: v
            for k, v in key_values.items()
            if not (
                k in key_excluded and key_excluded[k] and "wandb" in key_excluded[k]
            )
        }
        self._wandb.log(values, step=step)

    def close(self) -> None:
        """Finish the W&B run."""
        self._wandb.finish()


def make_output_format(
    fmt: str, log_dir: str, log_suffix: str = ""
) -> sb_logger.KVWriter:
    """SB3's output formats plus ``"wandb"``."""
    if fmt == "wandb":
        return WandbOutputFormat()
    return sb_logger.make_output_format(fmt, log_dir, log_suffix)


class HierarchicalLogger(sb_logger.Logger):
    """An SB3 ``Logger`` with accumulated means and key prefixes."""

    def __init__(
        self,
        default_logger: sb_logger.Logger,
        format_strs: Sequence[str] = ("stdout", "log", "csv"),
    ) -> None:
        """Wrap ``default_logger``.

        Args:
            default_logger: Logger that receives everything outside
                ``accumulate_means`` and the accumulated means.
            format_strs: Output formats of the raw loggers made by
                ``accumulate_means``.
        """
        self.default_logger = default_logger
        self.current_logger: sb_logger.Logger | None = None
        self._cached_loggers: dict[str, sb_logger.Logger] = {}
        self._subdir: str | None = None
        self._prefixes: list[str] = []
        self.format_strs = tuple(format_strs)
        super().__init__(folder=self.default_logger.dir, output_formats=[])

    def _logger(self) -> sb_logger.Logger:
        return self.current_logger or self.default_logger

    def _key(self, key: str) -> str:
        return "/".join([*self._prefixes, key])

    @contextlib.contextmanager
    def add_key_prefix(self, prefix: str) -> Iterator[None]:
        """Prepend ``prefix/`` to every key recorded inside the block (nestable)."""
        self._prefixes.append(prefix)
        try:
            yield
        finally:
            self._prefixes.pop()

    @contextlib.contextmanager
    def accumulate_means(self, name: str) -> Iterator[None]:
        """Record into a raw logger ``raw/<name>``; accumulate means into the main one.

        Raises:
            RuntimeError: If already inside ``accumulate_means``.
        """
        if self.current_logger is not None:
            raise RuntimeError("accumulate_means cannot be nested.")
        subdir = os.path.join("raw", name)
        if subdir not in self._cached_loggers:
            folder = os.path.join(self.default_logger.get_dir() or ".", subdir)
            os.makedirs(folder, exist_ok=True)
            formats = [
                make_output_format(f, folder) for f in self.format_strs if f != "wandb"
            ]
            self._cached_loggers[subdir] = sb_logger.Logger(folder, formats)
        self.current_logger = self._cached_loggers[subdir]
        self._subdir = subdir
        try:
            yield
        finally:
            self.current_logger = None
            self._subdir = None

    def record(
        self, key: str, val: Any, exclude: str | tuple[str, ...] | None = None
    ) -> None:
        """Record ``val``; inside ``accumulate_means`` also add it to the mean."""
        key = self._key(key)
        if self.current_logger is not None:
            assert self._subdir is not None
            self.current_logger.record(key, val, exclude)
            self.default_logger.record_mean(
                os.path.join(self._subdir.replace(os.sep, "/"), key).replace(
                    "raw/", "mean/", 1
                ),
                val,
                exclude,
            )
        else:
            self.default_logger.record(key, val, exclude)

    def record_mean(
        self, key: str, val: Any, exclude: str | tuple[str, ...] | None = None
    ) -> None:
        """Record the running mean of ``val`` under ``key``."""
        self._logger().record_mean(self._key(key), val, exclude)

    def dump(self, step: int = 0) -> None:
        """Write out the current logger's values."""
        self._logger().dump(step)

    def get_dir(self) -> str | None:
        """The main logger's directory."""
        return self.default_logger.get_dir()

    def close(self) -> None:
        """Close every logger."""
        self.default_logger.close()
        for logger in self._cached_loggers.values():
            logger.close()

    @property
    def name_to_value(self) -> dict[str, Any]:  # type: ignore[override]
        """Values recorded since the last dump, by key."""
        return self._logger().name_to_value

    @name_to_value.setter
    def name_to_value(self, value: Any) -> None:
        del value  # set by the base constructor; the wrapped loggers own these


def configure(
    folder: types.AnyPath | None = None,
    format_strs: Sequence[str] | None = None,
) -> HierarchicalLogger:
    """Make a ``HierarchicalLogger``.

    Args:
        folder: Log directory; default a new one under the temp directory.
        format_strs: Output formats among ``stdout``, ``log``, ``csv``,
            ``json``, ``tensorboard`` and ``wandb``; default
            ``stdout``, ``log``, ``csv``.

    Returns:
        The logger.
    """
    if folder is None:
        stamp = datetime.datetime.now().strftime("imitation-%Y-%m-%d-%H-%M-%S-%f")
        folder = os.path.join(tempfile.gettempdir(), stamp)
    folder = types.path_to_str(folder)
    os.makedirs(folder, exist_ok=True)
    formats = list(("stdout", "log", "csv") if format_strs is None else format_strs)
    output_formats = [make_output_format(f, folder) for f in formats]
    default = sb_logger.Logger(folder=folder, output_formats=output_formats)
    return HierarchicalLogger(default, formats)
