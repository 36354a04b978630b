"""Sphinx configuration of the sklearn-lambda3 documentation.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` from the repository root.
"""

import importlib
import pathlib
import re
import sys

from numpydoc.xref import DEFAULT_LINKS
from sphinx.errors import PycodeError
from sphinx.pycode import ModuleAnalyzer
from sphinx.util.docstrings import prepare_docstring

import sklearn_lambda3

sys.path.insert(0, str(pathlib.Path(__file__).parent))  # _gallery_order

project = "sklearn-lambda3"
author = "sklearn-lambda3 contributors"
copyright = "sklearn-lambda3 contributors"
release = sklearn_lambda3.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/*.ipynb", "auto_examples/*.py"]
root_doc = "index"

# API reference: one page per public name (api.rst lists them; check_api_reference below keeps it complete).
autosummary_generate = True
autodoc_typehints = "none"
# "On this page" lists methods as fit(), predict(), not Lambda3DynamicRegressor.fit().
toc_object_entries_show_parents = "hide"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Types are written in prose ("ndarray of shape (n_features_in_,)"), as scikit-learn writes them:
# numpydoc marks each word but these up as a Python name (so "n_features_in_" is not read as a
# reStructuredText reference), linked where it names a documented object. Its default aliases point at
# NumPy's and Python's glossaries, which this offline build does not load: they stay plain names here.
numpydoc_xref_param_type = True
numpydoc_xref_ignore = {"of", "or", "and", "shape", "default", "optional", "the", "a", "an", "per", "with"}
numpydoc_xref_aliases = {name: name for name in DEFAULT_LINKS}

# The user guide is the former README, in Markdown; ``#`` anchors for its headings.
myst_heading_anchors = 3

intersphinx_mapping = {}

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Examples whose names match are executed when the site is built; the others are shown unexecuted.
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "_gallery_order.ReadingOrder",
    "plot_gallery": "True",
    # A cell that ends in a plot call shows the figure, not "<Figure size ...>".
    "ignore_repr_types": r"matplotlib[\w.]*",
    # "Examples using X" on each API page.
    "doc_module": ("sklearn_lambda3",),
    "backreferences_dir": "generated",
    "reference_url": {"sklearn_lambda3": None},
}

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-lambda3 {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    # The page's table of contents on API pages (a class's methods); the user guide's and the
    # examples' code gets the width instead.
    "secondary_sidebar_items": {"generated/*": ["page-toc"], "api": ["page-toc"]},
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_sidebars = {"index": [], "api": []}
html_show_sourcelink = False
html_static_path = ["_static"]
html_css_files = ["custom.css"]

# ----------------------------------------------------------------------------------------------
# Every public name in the API reference

PUBLIC_MODULES = [
    "sklearn_lambda3",
    "sklearn_lambda3.analysis",
    "sklearn_lambda3.bayes",
    "sklearn_lambda3.datasets",
    "sklearn_lambda3.plot",
    "sklearn_lambda3.sktime",
]
_API_RST = pathlib.Path(__file__).with_name("api.rst")
_ENTRY = re.compile(r"^\s+(sklearn_lambda3[\w.]*\.\w+)\s*$")


def _resolve(dotted):
    module_name, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def api_reference_problems():
    """Public names (each module's ``__all__``) the API reference misses, and its entries no module exports.

    A name re-exported by several modules (``Lambda3BayesRegressor`` by the package and by
    ``sklearn_lambda3.bayes``) is documented once: any entry for the same object covers it.
    """
    entries = [m.group(1) for line in _API_RST.read_text().splitlines() if (m := _ENTRY.match(line))]
    documented = {id(_resolve(entry)) for entry in entries}
    exported = set()
    problems = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            if name.startswith("__"):
                continue
            exported.add(f"{module_name}.{name}")
            if id(getattr(module, name)) not in documented:
                problems.append(f"{module_name}.{name} is public but missing from docs/api.rst")
    problems += [
        f"{entry} is in docs/api.rst but in no public __all__" for entry in entries if entry not in exported
    ]
    return problems


def _check_api_reference(app):
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    for problem in api_reference_problems():
        logger.warning(problem)


def _skip_scikit_learn_members(app, what, name, obj, skip, options):
    """Leave out the methods our estimators inherit from scikit-learn (``get_params``, ``set_output``,
    the generated ``set_*_request``) and the forecaster from sktime (``fit``, ``predict_interval``, the
    tags): their docstrings point into those projects' own sites and glossaries; the class docstrings
    say what each method does here."""
    module = getattr(obj, "__module__", None) or ""
    if module.startswith(("sklearn.", "sktime.", "skbase.")) or (
        name.startswith("set_") and name.endswith("_request")
    ):
        return True
    return None


_FIELD_TYPE = re.compile(r"^(\s*\*\*[^*]+\*\* : )(.*)$")
_TRAILING_UNDERSCORE_NAME = re.compile(r"(?<![\w`])(\w+)_(?=[,)])")


def _escape_attribute_names_in_types(app, what, name, obj, options, lines):
    """Keep ``(n_features_in_,)`` in a rendered type literal: to reStructuredText ``word_`` is a link.

    Runs after numpydoc, on its ``**name** : type`` lines only, where numpydoc leaves a shape such as
    ``(n_features_in_,)`` as it is.
    """
    for index, line in enumerate(lines):
        match = _FIELD_TYPE.match(line)
        if match:
            lines[index] = match.group(1) + _TRAILING_UNDERSCORE_NAME.sub(r"\1\\_", match.group(2))


def _doc_comment_of_reexported_data(app, what, name, obj, options, lines):
    """A public constant's ``#:`` comment, from the private module that defines it.

    autodoc reads ``#:`` comments in the module it documents (``sklearn_lambda3.bayes``), but the
    constants are defined in private modules and re-exported; without this the page would show the
    docstring of ``int`` or ``list``.
    """
    if what != "data" or [line for line in lines if line] != [
        line for line in prepare_docstring(type(obj).__doc__ or "") if line
    ]:
        return
    attribute = name.rpartition(".")[2]
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("sklearn_lambda3.") and getattr(module, attribute, None) is obj:
            try:
                comment = ModuleAnalyzer.for_module(module_name).find_attr_docs().get(("", attribute))
            except PycodeError:
                continue
            if comment:
                lines[:] = list(comment)
                return


def setup(app):
    app.connect("autodoc-process-docstring", _doc_comment_of_reexported_data, priority=400)
    app.connect("autodoc-process-docstring", _escape_attribute_names_in_types, priority=600)
    app.connect("builder-inited", _check_api_reference)
    app.connect("autodoc-skip-member", _skip_scikit_learn_members)


if __name__ == "__main__":  # python docs/conf.py: the same check without building
    problems = api_reference_problems()
    print("\n".join(problems) or "API reference complete")
    sys.exit(1 if problems else 0)
