"""The plot package's layout: its public names, and the names its modules import."""

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import sklearn_lambda3.plot as plot

PLOT_DIR = Path(plot.__file__).parent
MODULES = sorted(path for path in PLOT_DIR.glob("*.py"))


def test_all_names_exist_and_cover_every_plot_function():
    assert len(plot.__all__) == len(set(plot.__all__))
    for name in plot.__all__:
        assert callable(getattr(plot, name)), name
    defined = {
        name
        for path in MODULES
        if path.stem != "__init__"
        for name, value in vars(importlib.import_module(f"sklearn_lambda3.plot.{path.stem}")).items()
        if name.startswith("plot_") and inspect.isfunction(value)
    }
    assert set(plot.__all__) == defined


def _private_imports(source):
    """``(module, name)`` of every private name a module's source imports, at any depth."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            found += [(module, alias.name) for alias in node.names if alias.name.startswith("_")]
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_plot_modules_import_no_private_name_from_outside(path):
    # Inside the package only the shared helpers of ._common are imported by private name.
    imports = _private_imports(path.read_text(encoding="utf-8"))
    wrong = [(module, name) for module, name in imports if module != "._common"]
    assert wrong == []


def test_the_import_check_sees_a_private_name_inside_a_function():
    source = "def f():\n    from .._sync import _check_events_2d, causality_matrix\n"
    assert _private_imports(source) == [(".._sync", "_check_events_2d")]
