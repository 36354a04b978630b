"""The estimators' shared parameter docs: written once, substituted into every docstring."""

import inspect

import pytest

from sklearn_lambda3 import Lambda3BayesRegressor, Lambda3DynamicRegressor, Lambda3HierarchicalRegressor
from sklearn_lambda3.bayes._docs import SHARED_DOCS, substitute_docs


@pytest.mark.parametrize(
    ("estimator", "names"),
    [
        (Lambda3BayesRegressor, ["noise_prior_scale", "tension_feature", "sampler_parameters"]),
        (
            Lambda3DynamicRegressor,
            ["noise_prior_scale", "tension_feature", "sampler_parameters_as_in_linear"],
        ),
        (Lambda3HierarchicalRegressor, ["sampler_parameters_as_in_linear"]),
    ],
)
def test_shared_parameter_docs_are_in_the_rendered_docstrings(estimator, names):
    # Python 3.13 strips a docstring's common indentation when it compiles it; cleandoc does the
    # same on older Pythons, so the parameter sections start at column 0 on every Python.
    rendered = inspect.cleandoc(estimator.__doc__)
    for name in names:
        assert SHARED_DOCS[name] in rendered
    assert "{" + names[0] + "}" not in estimator.__doc__


def test_placeholders_take_the_indentation_of_their_line():
    class Documented:
        pass

    # Set explicitly: the compiler's handling of a literal docstring's indentation differs by Python.
    Documented.__doc__ = "Summary.\n\n    Parameters\n    ----------\n    {noise_prior_scale}\n"
    substitute_docs(Documented)

    expected = "    noise_prior_scale : float, default=1.0\n        Scale of the HalfNormal"
    assert expected in Documented.__doc__


def test_unknown_placeholder_is_an_error():
    with pytest.raises(KeyError, match="no shared doc 'nosuch'"):

        @substitute_docs
        class Documented:
            """Summary.

            {nosuch}
            """
