"""Running the command-line scripts as subprocesses, as users do."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys


def run(cwd: pathlib.Path, script: str, *args: str, ok: bool = True):
    """Run ``python -m imitation.scripts.<script> *args`` in ``cwd``.

    With ``ok``, the run must succeed; the result is returned either way.
    """
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("IMITATION_TRACEBACK", None)
    result = subprocess.run(
        [sys.executable, "-m", f"imitation.scripts.{script}", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    if ok:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def sacred_run(log_dir: pathlib.Path) -> dict:
    """``run.json`` of the Sacred run linked from ``log_dir``."""
    return json.loads((log_dir / "sacred" / "run.json").read_text())
