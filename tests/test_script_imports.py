"""The benchmark scripts and tools import: a moved library name breaks them here.

They are run by hand (``make benchmarks``, docs/benchmarks.md), not by the
suite, so a renamed import would otherwise surface only when someone reruns a
figure. Importing runs no benchmark: each script works under its
``__main__`` guard.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).parents[1]
SCRIPTS = sorted(
    [*ROOT.glob("benchmarks/bench_*.py"), *ROOT.glob("tools/*.py")],
    key=lambda p: str(p),
)


def test_there_are_scripts():
    assert len(SCRIPTS) > 5


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_script_imports(path):
    code = (
        "import importlib.util, sys\n"
        f"sys.path.insert(0, {str(path.parent)!r})\n"
        f"spec = importlib.util.spec_from_file_location('script', {str(path)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
