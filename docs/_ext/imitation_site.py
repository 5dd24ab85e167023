"""Sphinx extension that generates the parts of the site taken from the code.

At ``builder-inited`` (before sphinx-gallery runs) it writes:

* ``api/``: one page per public module of :mod:`imitation`, found by walking
  the package, so a new module or name gets its entry without editing the docs;
* ``_gallery_src/``: the scripts of ``examples/`` with an RST title, which
  sphinx-gallery runs (``--fast`` unless ``IMITATION_DOCS_FULL=1``) into
  ``tutorials/``;
* ``cli/``: the command-line reference, read from the Sacred experiments.

At ``env-check-consistency`` it warns (an error under ``-W``) about every
public name that has no docstring or no entry in the API reference, and about
every CLI name of the specification that the experiments lack.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import os
import pathlib
import re
import shutil
import typing
from typing import Any

import cli_reference
import public_names
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode

LOGGER = logging.getLogger(__name__)
DOCS = pathlib.Path(__file__).resolve().parents[1]
REPO = DOCS.parent
EXAMPLES = REPO / "examples"
GALLERY_SRC = DOCS / "_gallery_src"
API_DIR = DOCS / "api"
CLI_DIR = DOCS / "cli"
UPSTREAM_NAMES = REPO / "tests" / "data" / "upstream-public-names.txt"
SPEC_CLI = REPO.parent / "shared" / "spec" / "cli-reference.md"
DIFFERENCES = DOCS / "differences-from-upstream.md"

# Tutorials in reading order; scripts not listed here follow, by file name.
TUTORIAL_ORDER = [
    "first_steps.py",
    "quickstart.py",
    "bc_tutorial.py",
    "dagger_tutorial.py",
    "gail_tutorial.py",
    "airl_tutorial.py",
    "preference_comparisons_tutorial.py",
    "preference_comparisons_atari.py",
    "human_preferences.py",
    "density_tutorial.py",
    "mce_irl_tutorial.py",
    "sqil_tutorial.py",
    "compare_algorithms.py",
    "bc_custom_env.py",
    "dict_observations.py",
    "experts.py",
    "reward_networks.py",
    "onnx_export.py",
]

GALLERY_HEADER = """\
Tutorials
=========

Each tutorial is a script from ``examples/`` in the repository, run when the
site is built; the output and figures below each one are from that run. The
site is built with the scripts' ``--fast`` budgets, so the numbers show that
the code runs rather than how well the algorithms learn; run a script without
``--fast`` (or build with ``IMITATION_DOCS_FULL=1``) for the full budgets.
"""


def package_version() -> str:
    """The installed version of the ``imitation`` distribution.

    Returns:
        The version string, e.g. ``"1.0.0"``.
    """
    return importlib.metadata.version("imitation")


def tutorial_argv(gallery_conf: dict[str, Any], script_vars: dict[str, Any]) -> list:
    """Command-line arguments with which sphinx-gallery runs each tutorial.

    Args:
        gallery_conf: The sphinx-gallery configuration (unused).
        script_vars: The script's variables, as sphinx-gallery passes them.

    Returns:
        ``["--fast"]``, or no arguments when ``IMITATION_DOCS_FULL=1``.
    """
    del gallery_conf, script_vars
    return [] if os.environ.get("IMITATION_DOCS_FULL") == "1" else ["--fast"]


class TutorialOrder:
    """Sort key for sphinx-gallery: the order of :data:`TUTORIAL_ORDER`."""

    def __init__(self, src_dir: str) -> None:
        self.src_dir = src_dir

    def __call__(self, filename: str) -> tuple[int, str]:
        """The position of ``filename`` among the tutorials."""
        if filename in TUTORIAL_ORDER:
            return TUTORIAL_ORDER.index(filename), filename
        return len(TUTORIAL_ORDER), filename

    def __repr__(self) -> str:
        return f"TutorialOrder({self.src_dir!r})"


def _write_if_changed(path: pathlib.Path, text: str) -> None:
    """Write ``text`` to ``path`` unless it already holds it (keeps mtimes)."""
    if path.exists() and path.read_text() == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _gallery_copy(source: str, filename: str) -> str:
    """The script as sphinx-gallery should run it.

    Its docstring's first line becomes an RST title (``Tutorial:`` and the
    final period dropped), and a hidden cell sets ``__file__``, which
    sphinx-gallery leaves undefined, to the copy's path (scripts that re-run
    themselves in a subprocess need it).

    Args:
        source: The script's text; it must open with a docstring.
        filename: The script's name.

    Returns:
        The text of the copy.

    Raises:
        ValueError: The script does not open with a ``\"\"\"`` docstring.
    """
    if not source.startswith('"""'):
        raise ValueError(f"examples/{filename} must open with a docstring")
    first, _, rest = source[3:].partition("\n")
    title = first.strip().removeprefix("Tutorial:").strip().rstrip(".")
    title = title[:1].upper() + title[1:]
    docstring_end = rest.index('"""') + 3
    lines = rest[docstring_end:].split("\n")
    # After the docstring's own line and any __future__ imports.
    at = 1
    while at < len(lines) and (
        not lines[at].strip() or lines[at].startswith("from __future__")
    ):
        at += 1
    hidden = [
        "# sphinx_gallery_start_ignore",
        f"__file__ = {str(GALLERY_SRC / filename)!r}",
        "# sphinx_gallery_end_ignore",
        "",
    ]
    body = "\n".join(lines[:at] + hidden + lines[at:])
    underline = "=" * len(title)
    return f'"""{title}\n{underline}\n{rest[:docstring_end]}{body}'


def _copy_examples() -> None:
    """Refresh ``_gallery_src`` from ``examples/``."""
    scripts = sorted(EXAMPLES.glob("*.py"))
    wanted = {p.name for p in scripts} | {"GALLERY_HEADER.rst"}
    if GALLERY_SRC.exists():
        for stale in GALLERY_SRC.iterdir():
            if stale.name not in wanted:
                if stale.is_dir():
                    shutil.rmtree(stale)
                else:
                    stale.unlink()
    _write_if_changed(GALLERY_SRC / "GALLERY_HEADER.rst", GALLERY_HEADER)
    for script in scripts:
        text = _gallery_copy(script.read_text(), script.name)
        _write_if_changed(GALLERY_SRC / script.name, text)


def _plain(text: str) -> str:
    """A docstring's roles and literals as plain text (``:class:`~a.B``` -> B)."""

    def role(match: re.Match[str]) -> str:
        target = match.group(2)
        return target.rpartition(".")[2] if match.group(1) else target

    text = re.sub(r":[\w:]+:`(~?)([^`<]+?)(?: <[^>]+>)?`", role, text)
    return text.replace("``", "")


class ApiSummary(SphinxDirective):
    """``imitation-api-summary MODULE``: a table of a module's public API.

    Lists the public classes and functions of the module and, for a package,
    of its public submodules, each linked to its entry in the API reference
    and followed by its docstring's first line. The nodes are built directly,
    so the directive works the same in Markdown and reStructuredText pages.
    """

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        """Build the table."""
        module = self.arguments[0]
        tbody = nodes.tbody()
        for target, obj in public_names.summary_entries(module, UPSTREAM_NAMES).items():
            ref = addnodes.pending_xref(
                "",
                refdomain="py",
                reftype="obj",
                reftarget=target,
                refexplicit=False,
                refdoc=self.env.docname,
            )
            ref += nodes.literal(text=target.rpartition(".")[2])
            doc = (inspect.getdoc(obj) or "").split("\n\n")[0]
            summary = " ".join(_plain(doc).split())
            row = nodes.row()
            row += nodes.entry("", nodes.paragraph("", "", ref))
            row += nodes.entry("", nodes.paragraph("", summary))
            tbody += row
        tgroup = nodes.tgroup(cols=2)
        tgroup += nodes.colspec(colwidth=30)
        tgroup += nodes.colspec(colwidth=70)
        tgroup += tbody
        table = nodes.table("", tgroup, classes=["api-summary"])
        return [table]


def _generate(app: Sphinx) -> None:
    """Write the generated sources before the documents are read."""
    del app
    _copy_examples()
    public_names.write_api_pages(API_DIR)
    cli_reference.write_cli_pages(CLI_DIR)


def _check(app: Sphinx, env: BuildEnvironment) -> None:
    """Warn about public names and CLI names the site misses."""
    del app
    for problem in public_names.problems(env, UPSTREAM_NAMES):
        LOGGER.warning(problem, type="imitation", subtype="public-names")
    if SPEC_CLI.exists():
        for problem in cli_reference.spec_problems(SPEC_CLI, DIFFERENCES):
            LOGGER.warning(problem, type="imitation", subtype="cli-reference")


def _missing_reference(
    app: Sphinx, env: BuildEnvironment, node: nodes.Element, contnode: nodes.Node
) -> nodes.Node | None:
    """Resolve references to re-exported names; warn about broken ones.

    A reference to ``imitation.data.types.Trajectory`` links to the entry of
    the class where it is defined. References to other packages' names stay
    plain text (no intersphinx here), and so do those to private modules and
    to type variables; any other reference to an ``imitation`` name that has
    no entry is an error under ``-W``.
    """
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("imitation."):
        return None
    if any(part.startswith("_") for part in target.split(".")):
        return None
    candidates, obj = public_names.entry_candidates(target)
    objects = env.domains.python_domain.objects
    for candidate in candidates:
        if candidate in objects:
            entry = objects[candidate]
            return make_refnode(
                app.builder, node["refdoc"], entry.docname, entry.node_id, contnode
            )
    if isinstance(obj, typing.TypeVar):
        return None
    LOGGER.warning(
        "unresolved reference to %s", target, location=node, type="ref", subtype="py"
    )
    return None


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the generators and the checks with Sphinx.

    Args:
        app: The Sphinx application.

    Returns:
        The extension's metadata.
    """
    # Before sphinx-gallery's own builder-inited handler (priority 500).
    app.connect("builder-inited", _generate, priority=100)
    app.connect("env-check-consistency", _check)
    app.connect("missing-reference", _missing_reference)
    app.add_directive("imitation-api-summary", ApiSummary)
    return {"version": package_version(), "parallel_read_safe": True}
