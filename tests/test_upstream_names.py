"""Every public name of the original release imports here, or is documented.

The list of names is committed in ``tests/data/upstream-public-names.txt``, so
the test never depends on files outside the repository; when the shared
specification sits beside the repository (``../shared/spec``), the copy is
also checked against it.
"""

from __future__ import annotations

import importlib
import pathlib
import re

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
NAMES_FILE = REPO / "tests" / "data" / "upstream-public-names.txt"
SHARED_NAMES_FILE = REPO.parent / "shared" / "spec" / "upstream-public-names.txt"
DIFFERENCES_DOC = REPO / "docs" / "differences-from-upstream.md"
NOT_PROVIDED_HEADING = "## Names not provided"


def _listed_names(path: pathlib.Path) -> list[str]:
    """The names in ``path`` (one per line; # comments)."""
    names = set()
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.add(line)
    return sorted(names)


def _documented_as_not_provided() -> set[str]:
    """The ``imitation.*`` names in code spans of the "not provided" section."""
    text = DIFFERENCES_DOC.read_text()
    start = text.index(NOT_PROVIDED_HEADING) + len(NOT_PROVIDED_HEADING)
    end = text.find("\n## ", start)
    section = text[start:] if end == -1 else text[start:end]
    return set(re.findall(r"`(imitation(?:\.\w+)+)`", section))


def _import_error(name: str) -> str | None:
    """Why ``module.attr`` does not import, or None if it does."""
    module_name, _, attr = name.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        return f"module {module_name}: {exc}"
    if not hasattr(module, attr):
        return f"{module_name} has no attribute {attr}"
    return None


def test_names_file_is_usable():
    names = _listed_names(NAMES_FILE)
    assert len(names) > 150
    assert all(name.startswith("imitation.") for name in names)
    assert "imitation.data.rollout.generate_transitions" in names


def test_committed_copy_matches_shared_spec():
    if not SHARED_NAMES_FILE.exists():
        pytest.skip(f"no shared specification at {SHARED_NAMES_FILE}")
    assert NAMES_FILE.read_text() == SHARED_NAMES_FILE.read_text(), (
        f"{NAMES_FILE} is out of date: copy {SHARED_NAMES_FILE} over it."
    )


def test_every_upstream_name_imports_or_is_documented():
    documented = _documented_as_not_provided()
    missing = {
        name: error
        for name in _listed_names(NAMES_FILE)
        if name not in documented and (error := _import_error(name)) is not None
    }
    assert not missing, (
        "Provide these names, or list them under "
        f"'{NOT_PROVIDED_HEADING}' in {DIFFERENCES_DOC.name} with the reason:\n"
        + "\n".join(f"{name} ({error})" for name, error in sorted(missing.items()))
    )


def test_documented_names_are_upstream_names_and_really_absent():
    upstream = set(_listed_names(NAMES_FILE))
    for name in sorted(_documented_as_not_provided()):
        assert name in upstream, f"{name} is not a name of the original release."
        assert _import_error(name) is not None, (
            f"{name} is provided now: remove it from '{NOT_PROVIDED_HEADING}'."
        )
