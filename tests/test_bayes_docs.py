"""The estimators' shared parameter docs: written once, substituted into every docstring."""

import pytest

from sklearn_lambda3 import Lambda3BayesRegressor, Lambda3DynamicRegressor, Lambda3HierarchicalRegressor
from sklearn_lambda3.bayes._docs import SHARED_DOCS, substitute_docs


def _indented(text):
    return "\n".join("    " + line for line in text.splitlines())


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
    for name in names:
        assert _indented(SHARED_DOCS[name]) in estimator.__doc__
    assert "{" + names[0] + "}" not in estimator.__doc__


def test_placeholders_take_the_indentation_of_their_line():
    @substitute_docs
    class Documented:
        """Summary.

        Parameters
        ----------
        {noise_prior_scale}
        """

    expected = "        noise_prior_scale : float, default=1.0\n            Scale of the HalfNormal"
    assert expected in Documented.__doc__


def test_unknown_placeholder_is_an_error():
    with pytest.raises(KeyError, match="no shared doc 'nosuch'"):

        @substitute_docs
        class Documented:
            """Summary.

            {nosuch}
            """
