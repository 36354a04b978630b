"""Run the examples in the public docstrings."""

import doctest
import importlib

import pytest

MODULES = [
    "sklearn_lambda3._features",
    "sklearn_lambda3._datasets",
    "sklearn_lambda3.bayes._base",
    "sklearn_lambda3.bayes._linear",
    "sklearn_lambda3.bayes._dynamic",
    "sklearn_lambda3.bayes._hierarchical",
    "sklearn_lambda3._compare",
    "sklearn_lambda3._changepoints",
    "sklearn_lambda3._multiscale",
    "sklearn_lambda3._sync",
    "sklearn_lambda3._regimes",
    "sklearn_lambda3._interactions",
    "sklearn_lambda3.plot._series",
    "sklearn_lambda3.plot._relations",
    "sklearn_lambda3.plot._bayes",
    "sklearn_lambda3.sktime",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
