"""Hierarchical logging on top of Stable-Baselines3's logger.

:class:`HierarchicalLogger` is an SB3 ``Logger`` with extra context managers:

* ``accumulate_means(name)``: values recorded inside go, under ``raw/<name>/``,
  to a separate raw logger writing to ``<log dir>/raw/<name>`` (a ``dump``
  inside the block writes that raw logger). At the same time their running
  means are accumulated, under ``mean/<name>/``, into the main logger, and are
  written by the next ``dump`` outside the block. This lets an inner loop (say
  the generator's RL updates) log at its own pace while the outer loop logs one
  summary row per round.
* ``add_accumulate_prefix(prefix)``: outside ``accumulate_means``, puts
  ``prefix/`` in front of the ``name`` of the blocks opened later (so
  ``accumulate_means("loss")`` under the prefix ``member-0`` logs to
  ``raw/member-0/loss/`` and ``mean/member-0/loss/``); prefixes nest.
* ``add_key_prefix(prefix)``: inside ``accumulate_means``, keys recorded get
  ``prefix/`` prepended; prefixes nest.

Its ``default_logger`` is the plain SB3 logger underneath: values recorded
through it go to the main output whether or not a block is open.

:func:`configure` builds one with the usual output formats.
"""

from __future__ import annotations

import contextlib
import numbers
import os
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common import base_class
from stable_baselines3.common import logger as sb_logger

from imitation.util import util
from imitation.util.paths import AnyPath

FORMAT_STRS = ("stdout", "log", "csv", "json", "tensorboard", "wandb")
"""Output formats understood by :func:`configure` and :func:`make_output_format`."""

DEFAULT_FORMAT_STRS = ("stdout", "log", "csv")
"""Output formats used when none are given."""


class WandbOutputFormat(sb_logger.KVWriter):
    """Send logged values to the current Weights & Biases run.

    Start the run with ``wandb.init(...)`` before logging. Keys excluded for
    ``"wandb"`` (via the ``exclude`` argument of ``record``) are not sent.
    """

    def __init__(self) -> None:
        """Import ``wandb``.

        Raises:
            ImportError: If ``wandb`` is not installed.
        """
        try:
            import wandb
        except ImportError as exc:
            raise ImportError(
                "The 'wandb' log format needs the wandb package; install it with "
                "`pip install wandb`, or log with other formats.",
            ) from exc
        self._wandb = wandb

    def write(
        self,
        key_values: dict[str, Any],
        key_excluded: dict[str, tuple[str, ...]],
        step: int = 0,
    ) -> None:
        """Log the values that are not excluded for ``wandb`` at ``step``.

        Args:
            key_values: Values by key.
            key_excluded: Formats each key is excluded from, by key.
            step: The step to log the values at.
        """
        values = sb_logger.filter_excluded_keys(key_values, key_excluded, "wandb")
        self._wandb.log(values, step=step)

    def close(self) -> None:
        """Finish the W&B run."""
        self._wandb.finish()


def _check_format_strs(format_strs: Sequence[str]) -> None:
    """Raise ``ValueError`` naming the first unknown format in ``format_strs``."""
    for fmt in format_strs:
        if fmt not in FORMAT_STRS:
            raise ValueError(
                f"Unknown log format {fmt!r}; choose from {', '.join(FORMAT_STRS)}.",
            )


def make_output_format(fmt: str, log_dir: AnyPath) -> sb_logger.KVWriter:
    """Make an output format: one of SB3's, or ``"wandb"``.

    Args:
        fmt: One of :data:`FORMAT_STRS`.
        log_dir: Directory that file-based formats write to (created if needed).

    Returns:
        The output format.

    Raises:
        ValueError: If ``fmt`` is not a known format.
    """
    _check_format_strs([fmt])
    if fmt == "wandb":
        return WandbOutputFormat()
    return sb_logger.make_output_format(fmt, util.path_to_str(log_dir))


def _as_scalar(value: Any) -> float | None:
    """``value`` as a float if it is a single real number, else None."""
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, np.ndarray) and value.size == 1:
        return float(value.item())
    if isinstance(value, th.Tensor) and value.numel() == 1:
        return float(value.item())
    return None


class HierarchicalLogger(sb_logger.Logger):
    """An SB3 ``Logger`` that can accumulate means of inner loops and prefix keys.

    Outside ``accumulate_means`` it behaves like the SB3 logger it extends:
    ``record`` stores a value, ``dump`` writes the stored values to the output
    formats. Inside ``accumulate_means(name)`` values are also written to a raw
    logger per ``name`` and averaged into the main logger (see the module
    docstring). It can be passed wherever SB3 expects a logger, e.g.
    ``model.set_logger(logger)``.
    """

    def __init__(
        self,
        folder: AnyPath | sb_logger.Logger,
        output_formats: list[sb_logger.KVWriter] | None = None,
        format_strs: Sequence[str] = DEFAULT_FORMAT_STRS,
    ) -> None:
        """Make the logger.

        Args:
            folder: Log directory; raw loggers write to ``<folder>/raw/<name>``.
                Or an SB3 ``Logger`` (as the original library took): it becomes
                :attr:`default_logger`, and its directory and output formats are
                this logger's.
            output_formats: Where the main logger writes, when ``folder`` is a
                directory. Default: the formats named in ``format_strs``.
            format_strs: Output formats of the raw loggers made by
                ``accumulate_means``; ``"wandb"`` is left out of raw loggers
                (W&B needs a single increasing step), so it only gets the means.

        Raises:
            ValueError: If a format in ``format_strs`` is unknown, if
                ``output_formats`` is given with an SB3 ``Logger``, or if that
                logger has no directory.
        """
        _check_format_strs(format_strs)
        if isinstance(folder, sb_logger.Logger):
            if output_formats is not None:
                raise ValueError(
                    "output_formats cannot be given with an SB3 Logger: the "
                    "logger's own output formats are used. Pass a directory "
                    "instead to choose the formats.",
                )
            if folder.dir is None:
                raise ValueError(
                    "The SB3 Logger given has no directory; make it with "
                    "stable_baselines3.common.logger.configure(folder, ...).",
                )
            default_logger = folder
        else:
            log_dir = util.path_to_str(folder)
            if output_formats is None:
                output_formats = [
                    make_output_format(fmt, log_dir) for fmt in format_strs
                ]
            default_logger = sb_logger.Logger(log_dir, output_formats)
        super().__init__(default_logger.dir, default_logger.output_formats)
        # Share the stored values, so that both views record into and dump
        # the same rows.
        self.name_to_value = default_logger.name_to_value
        self.name_to_count = default_logger.name_to_count
        self.name_to_excluded = default_logger.name_to_excluded
        self.level = default_logger.level
        self.default_logger = default_logger
        """The plain SB3 logger underneath, writing to the main output.

        It shares its values with this logger; recording through it skips the
        key prefixes and accumulation, inside ``accumulate_means`` too.
        """
        self.format_strs = tuple(format_strs)
        self._raw_loggers: dict[str, sb_logger.Logger] = {}
        self._accumulating: str | None = None
        self._accumulate_prefixes: list[str] = []
        self._prefixes: list[str] = []

    def get_dir(self) -> str:
        """The log directory.

        Returns:
            The directory given at construction.
        """
        assert self.dir is not None
        return self.dir

    @contextlib.contextmanager
    def add_key_prefix(self, prefix: str) -> Iterator[None]:
        """Prepend ``prefix/`` to every key recorded inside the block.

        Only allowed inside ``accumulate_means``. Prefixes nest: inside
        ``add_key_prefix("a")`` and ``add_key_prefix("b")`` the key ``"x"``
        becomes ``"a/b/x"``.

        Args:
            prefix: The prefix, without a trailing slash.

        Yields:
            Nothing; the prefix applies until the block exits.

        Raises:
            RuntimeError: If no ``accumulate_means`` block is open.
        """
        if self._accumulating is None:
            raise RuntimeError(
                f"add_key_prefix({prefix!r}) needs an open accumulate_means "
                "block; open one first, or put the prefix in the key.",
            )
        self._prefixes.append(prefix)
        try:
            yield
        finally:
            self._prefixes.pop()

    def add_accumulate_prefix(self, prefix: str) -> contextlib.AbstractContextManager:
        """Put ``prefix/`` in front of the name of later ``accumulate_means`` blocks.

        The prefix applies from this call on: use the result in a ``with``
        statement to remove it when the block exits, or call
        :meth:`remove_accumulate_prefix`. Prefixes nest: under ``"a"`` and
        ``"b"``, ``accumulate_means("x")`` logs to ``raw/a/b/x/`` (in
        ``<log dir>/raw/a/b/x``) and ``mean/a/b/x/``.

        Args:
            prefix: The prefix, without a trailing slash.

        Returns:
            A context manager that removes the prefix on exit.

        Raises:
            RuntimeError: If an ``accumulate_means`` block is open.
        """
        if self._accumulating is not None:
            raise RuntimeError(
                f"add_accumulate_prefix({prefix!r}) cannot be called inside "
                f"accumulate_means({self._accumulating!r}); add the prefix before "
                "opening the block.",
            )
        self._accumulate_prefixes.append(prefix)

        @contextlib.contextmanager
        def remove_on_exit() -> Iterator[None]:
            try:
                yield
            finally:
                self.remove_accumulate_prefix()

        return remove_on_exit()

    def remove_accumulate_prefix(self) -> None:
        """Remove the prefix added last by :meth:`add_accumulate_prefix`.

        Raises:
            RuntimeError: If no prefix is active, or an ``accumulate_means``
                block is open.
        """
        if self._accumulating is not None:
            raise RuntimeError(
                "remove_accumulate_prefix() cannot be called inside "
                f"accumulate_means({self._accumulating!r}); close the block first.",
            )
        if not self._accumulate_prefixes:
            raise RuntimeError(
                "remove_accumulate_prefix() has no prefix to remove; each call "
                "must follow an add_accumulate_prefix call.",
            )
        self._accumulate_prefixes.pop()

    @contextlib.contextmanager
    def accumulate_means(self, name: str) -> Iterator[None]:
        """Log into the raw logger ``name`` and accumulate means in the main logger.

        Inside the block, a value recorded under ``key`` is recorded under
        ``raw/<name>/<key>`` in the raw logger of ``name`` (which writes to
        ``<log dir>/raw/<name>``), and its running mean under
        ``mean/<name>/<key>`` in the main logger. ``dump`` inside the block
        writes the raw logger; the means are written by the next ``dump``
        outside any block. Re-entering a block of the same name continues the
        same raw logger. Active ``add_accumulate_prefix`` prefixes are put in
        front of ``name`` (``<prefix>/<name>``), in the keys and the folder.

        Args:
            name: Name of the inner loop, e.g. ``"gen"`` or ``"disc"``.

        Yields:
            Nothing; values are routed as described until the block exits.

        Raises:
            RuntimeError: If already inside an ``accumulate_means`` block.
        """
        if self._accumulating is not None:
            raise RuntimeError(
                f"accumulate_means({name!r}) cannot be nested inside "
                f"accumulate_means({self._accumulating!r}); close that block first.",
            )
        name = "/".join([*self._accumulate_prefixes, name])
        if name not in self._raw_loggers:
            folder = os.path.join(self.get_dir(), "raw", *name.split("/"))
            formats = [
                make_output_format(fmt, folder)
                for fmt in self.format_strs
                if fmt != "wandb"
            ]
            raw_logger = sb_logger.Logger(folder, formats)
            raw_logger.set_level(self.level)
            self._raw_loggers[name] = raw_logger
        self._accumulating = name
        try:
            yield
        finally:
            self._accumulating = None

    def _key(self, key: str) -> str:
        return "/".join([*self._prefixes, key])

    def record(
        self,
        key: str,
        value: Any,
        exclude: str | tuple[str, ...] | None = None,
    ) -> None:
        """Record ``value`` under ``key``; a later call with the same key wins.

        Inside ``accumulate_means`` the value goes to the raw logger, and, if it
        is a single real number, into the running mean in the main logger.

        Args:
            key: The key (prefixed by any active ``add_key_prefix``).
            value: The value.
            exclude: Output formats not to write this key to.
        """
        key = self._key(key)
        if self._accumulating is None:
            super().record(key, value, exclude)
            return
        name = self._accumulating
        self._raw_loggers[name].record(f"raw/{name}/{key}", value, exclude)
        scalar = _as_scalar(value)
        if scalar is not None:
            super().record_mean(f"mean/{name}/{key}", scalar, exclude)

    def record_mean(
        self,
        key: str,
        value: float | None,
        exclude: str | tuple[str, ...] | None = None,
    ) -> None:
        """Record ``value`` under ``key``, averaging it with earlier calls.

        Inside ``accumulate_means`` the raw logger averages the values since its
        last dump, and each value also counts once in the main logger's mean.

        Args:
            key: The key (prefixed by any active ``add_key_prefix``).
            value: The value to average in; None is ignored.
            exclude: Output formats not to write this key to.
        """
        key = self._key(key)
        if self._accumulating is None:
            super().record_mean(key, value, exclude)
            return
        name = self._accumulating
        self._raw_loggers[name].record_mean(f"raw/{name}/{key}", value, exclude)
        super().record_mean(f"mean/{name}/{key}", value, exclude)

    def dump(self, step: int = 0) -> None:
        """Write the recorded values and clear them.

        Inside ``accumulate_means`` this writes the raw logger; otherwise the
        main logger, including the accumulated means.

        Args:
            step: The step to log the values at.
        """
        if self._accumulating is None:
            super().dump(step)
        else:
            self._raw_loggers[self._accumulating].dump(step)

    def set_level(self, level: int) -> None:
        """Set the logging threshold of this logger and of its raw loggers.

        Args:
            level: One of SB3's levels (``DEBUG``, ``INFO``, ..., ``DISABLED``).
        """
        super().set_level(level)
        self.default_logger.set_level(level)
        for raw_logger in self._raw_loggers.values():
            raw_logger.set_level(level)

    def close(self) -> None:
        """Close the output formats of this logger and of its raw loggers."""
        for raw_logger in self._raw_loggers.values():
            raw_logger.close()
        super().close()


def configure(
    folder: AnyPath | None = None,
    format_strs: Sequence[str] | None = None,
) -> HierarchicalLogger:
    """Make a :class:`HierarchicalLogger`.

    Args:
        folder: Log directory (created if needed). Default: a new unique
            directory under the system's temporary directory.
        format_strs: Output formats among ``stdout``, ``log``, ``csv``,
            ``json``, ``tensorboard`` and ``wandb``. Default: ``stdout``,
            ``log`` and ``csv``. The raw loggers use the same formats but
            ``wandb``.

    Returns:
        The logger.

    Raises:
        ValueError: If a format is unknown.
        ImportError: If ``wandb`` is asked for but not installed.
    """
    formats = tuple(DEFAULT_FORMAT_STRS if format_strs is None else format_strs)
    _check_format_strs(formats)
    if folder is None:
        log_dir = tempfile.mkdtemp(prefix="imitation-")
    else:
        log_dir = util.path_to_str(folder)
        os.makedirs(log_dir, exist_ok=True)
    return HierarchicalLogger(log_dir, format_strs=formats)


class LoggingComponent:
    """The one convention for sharing a logger: an owner's logger is its parts'.

    A class that logs keeps its logger in the ``logger`` property. Assigning
    it also assigns it to each attribute named in ``_logger_shared_with``
    that exists and is not None (an SB3 algorithm through ``set_logger``), so
    replacing an algorithm's logger reaches its trainers, generators and
    regularisers. Components built after the assignment should be given
    ``self.logger`` when they are built.

    Loggers hold open files, so a component is pickled without its logger;
    unpickled, it gets a fresh one (with the default outputs), shared with its
    parts as an assigned one would be.
    """

    _logger_shared_with: tuple[str, ...] = ()
    _logger: HierarchicalLogger

    @property
    def logger(self) -> HierarchicalLogger:
        """The logger, shared with the components named in ``_logger_shared_with``."""
        return self._logger

    @logger.setter
    def logger(self, value: HierarchicalLogger) -> None:
        self._logger = value
        for name in self._logger_shared_with:
            part = getattr(self, name, None)
            if part is None:
                continue
            if isinstance(part, base_class.BaseAlgorithm):
                part.set_logger(value)
            else:
                part.logger = value

    def __getstate__(self) -> dict[str, Any]:
        """The attributes to pickle: all but the logger."""
        state = self.__dict__.copy()
        state.pop("_logger", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore the attributes, and give the component a fresh logger."""
        self.__dict__.update(state)
        self.logger = configure()
