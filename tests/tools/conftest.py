"""The scripts in tools/ are not a package: tests load them by path."""

from __future__ import annotations

import importlib.util
import pathlib
import types

import pytest

TOOLS = pathlib.Path(__file__).parents[2] / "tools"


def load_tool(name: str) -> types.ModuleType:
    """Import ``tools/<name>.py`` as a module named ``name``."""
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tool(request: pytest.FixtureRequest) -> types.ModuleType:
    """The tool a test module names in its ``TOOL_NAME``."""
    return load_tool(request.module.TOOL_NAME)
