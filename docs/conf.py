"""Sphinx configuration for skal's documentation.

Build (warnings are errors)::

    python -m sphinx -W -b html docs docs/_build/html

The user guide is the Markdown pages in this folder (MyST; pytest also runs
their examples as doctests). The API reference is ``api.rst``: autosummary
writes one page per public name into ``generated/``. The gallery is
``examples/plot_*.py``, executed by sphinx-gallery into ``auto_examples/``.
Nothing the build generates is committed (see ``.gitignore``).
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # the checkout's skal, installed or not
sys.path.insert(0, str(HERE))  # _gallery_order, _build_checks

import skal  # noqa: E402

# The gallery's figures are drawn off screen; matplotlib must not look for a display.
os.environ.setdefault("MPLBACKEND", "Agg")
# The gallery's data loaders read $SKAL_DATA; in a checkout beside the shared data folder
# (as in CI) use it. Examples fall back to bundled data, and say so, when neither exists.
if "SKAL_DATA" not in os.environ and (ROOT.parent / "shared" / "data").is_dir():
    os.environ["SKAL_DATA"] = str(ROOT.parent / "shared" / "data")
# Examples run on two CPU cores in CI; keep torch from oversubscribing them.
os.environ.setdefault("OMP_NUM_THREADS", "2")

project = "skal"
author = "skal developers"
copyright = "skal developers"
version = release = skal.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_templates",
    "results",
    "conftest.py",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.json",
    "auto_examples/*.md5",
    "sg_execution_times.rst",
]

# -- MyST: the Markdown user guide ---------------------------------------------------
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 4  # links such as labeling.md#pools

# -- autodoc, autosummary and numpydoc ------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
# numpydoc lists no member tables of its own: the class template documents the methods.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- sphinx-gallery ---------------------------------------------------------------
# Only examples/plot_*.py are gallery examples, executed at build time (each within a
# minute on two CPU cores). The long reproductions in examples/ are not executed: the
# gallery's README links them, with their committed results (reproductions.rst).
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"[\\/]plot_",
    # matched against the bare file name (and, in a check, the path)
    "ignore_pattern": r"(^|[\\/])(?!plot_)[^\\/]+\.py$",
    "within_subsection_order": "_gallery_order.ReadingOrder",
    "download_all_examples": False,
    "remove_config_comments": True,
    "backreferences_dir": None,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "show_memory": False,
    "abort_on_example_error": True,
}



def _skip_foreign_inherited(app, what, name, obj, skip, options):
    """Document skal's own methods only, not those a class inherits from a dependency.

    A strategy's page lists ``fit``, ``query``, ``rank``, ... (skal's, inherited from
    ``BaseStrategy`` or not) but not scikit-learn's ``get_params``, ``set_output`` or
    metadata-routing methods, whose docstrings link into scikit-learn's own site.
    """
    if what != "class" or skip:
        return None
    target = getattr(obj, "fget", obj)  # properties: their getter
    target = getattr(target, "__func__", target)  # classmethods
    module = getattr(target, "__module__", None) or ""
    if module and not module.split(".")[0] == "skal":
        return True
    return None


def setup(app):
    from _build_checks import check_build  # dead internal links, slow gallery examples

    app.connect("autodoc-skip-member", _skip_foreign_inherited)
    app.connect("build-finished", check_build)


# -- HTML ---------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skal {release}"
html_static_path = []
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "navbar_persistent": ["search-button"],
    "header_links_before_dropdown": 6,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "navigation_with_keys": False,
}
# The front page, the API reference's index and the gallery use the full width: they show
# wide tables and code.
html_sidebars = {"index": [], "api": [], "auto_examples/*": []}
