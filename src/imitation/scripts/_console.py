"""Running an experiment from the command line: observer, clean errors.

Every script's ``main_console`` calls :func:`run_console`. Errors are
reported on one line (``IMITATION_TRACEBACK=1`` shows the full traceback);
Sacred's file observer records the run, including FAILED / INTERRUPTED.
"""

from __future__ import annotations

import os
import pathlib
import sys
from collections.abc import Sequence

import sacred
from sacred.observers import FileStorageObserver

from imitation.scripts.ingredients import logging as logging_ingredient


def _log_root(argv: Sequence[str]) -> str:
    """``logging.log_root`` if given on the command line, else the default."""
    for arg in argv:
        if arg.startswith("logging.log_root="):
            return arg.split("=", 1)[1].strip("'\"")
    return logging_ingredient.DEFAULT_LOG_ROOT


def _one_line(exc: BaseException) -> str:
    message = str(exc).strip() or type(exc).__name__
    if isinstance(exc, KeyError) and exc.args:
        message = str(exc.args[0])
    return f"{type(exc).__name__}: {' '.join(message.split())}"


def run_console(
    ex: sacred.Experiment, script_name: str, argv: Sequence[str] | None = None
) -> None:
    """Run ``ex`` from the command line, recording it under ``<log_root>/sacred``.

    Exits with status 1 and one line on stderr on any error (2 on Ctrl-C).
    """
    argv = list(sys.argv if argv is None else argv)
    observer_dir = pathlib.Path(_log_root(argv), "sacred", script_name)
    ex.observers.append(FileStorageObserver(str(observer_dir)))
    # Sacred's own handling prints filtered tracebacks; --debug makes it
    # re-raise, and errors are reported here instead.
    if "-d" not in argv and "--debug" not in argv:
        argv.append("--debug")
    try:
        ex.run_commandline(argv)
    except KeyboardInterrupt:
        print(f"{script_name}: interrupted", file=sys.stderr)
        sys.exit(2)
    except Exception as exc:
        if os.environ.get("IMITATION_TRACEBACK"):
            raise
        print(f"{script_name}: error: {_one_line(exc)}", file=sys.stderr)
        sys.exit(1)
