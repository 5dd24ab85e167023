"""Sphinx configuration of the imitation documentation site.

Build with ``make docs`` (fast tutorials, warnings as errors); set
``IMITATION_DOCS_FULL=1`` to run the tutorials with their full budgets.
"""

from __future__ import annotations

import os
import pathlib
import sys

DOCS = pathlib.Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(DOCS / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

import imitation_site  # noqa: E402

project = "imitation"
author = "the imitation developers"
copyright = "the imitation developers"  # noqa: A001
release = imitation_site.package_version()

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "imitation_site",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "_gallery_src"]

html_theme = "furo"
html_title = f"imitation {release}"

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# Source links of a name go to the module that documents it (following an
# alias such as ``Pair = tuple[T, T]`` would lead to builtins, which has none).
viewcode_follow_imported_members = False

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_default_options = {"show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# The tutorials: every script of examples/ runs at each build (a page cannot
# show code that no longer runs); a failing script fails the build.
sphinx_gallery_conf = {
    "examples_dirs": str(DOCS / "_gallery_src"),
    "gallery_dirs": str(DOCS / "tutorials"),
    "filename_pattern": r".*\.py$",
    "run_stale_examples": True,
    "reset_argv": "imitation_site.tutorial_argv",
    "within_subsection_order": "imitation_site.TutorialOrder",
    "download_all_examples": False,
}
