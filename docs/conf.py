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
exclude_patterns = [
    "_build",
    "_ext",
    "_gallery_src",
    "tutorials/*.ipynb",
    "tutorials/*.py",
    "tutorials/*.zip",
    "tutorials/*.json",
    "tutorials/*.md5",
    "tutorials/*.codeobj.json",
    "tutorials/sg_execution_times.rst",
]
nitpicky = False

html_theme = "furo"
html_title = f"imitation {release}"
html_static_path: list[str] = []

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_default_options = {"show-inheritance": True}
autosummary_generate = False
napoleon_google_docstring = True
napoleon_numpy_docstring = False

sphinx_gallery_conf = {
    "examples_dirs": str(DOCS / "_gallery_src"),
    "gallery_dirs": str(DOCS / "tutorials"),
    "filename_pattern": r".*\.py$",
    "ignore_pattern": r"^$",
    "reset_argv": "imitation_site.tutorial_argv",
    "run_stale_examples": True,
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 0,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "plot_gallery": "True",
    "image_scrapers": ("matplotlib",),
    "within_subsection_order": "imitation_site.TutorialOrder",
}
