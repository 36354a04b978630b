"""Saving and loading estimators: a package-version stamp and the types skops may trust.

Every estimator of the package records ``sklearn_lambda3.__version__`` in its pickled state
(as scikit-learn's ``BaseEstimator`` records its own version). Loading a model saved by
another release emits :class:`Lambda3VersionWarning`: fitted attributes and their meaning
may differ between releases, so such a model should be refitted.

The stamp lives in the state dict, so it works the same with pickle, joblib and skops
(skops rebuilds an object with ``__new__`` and hands its saved state to ``__setstate__``).
"""

import warnings

from ._version import __version__

_STAMP = "_sklearn_lambda3_version"

# Types that ``skops.io.load`` may rebuild for models of this package, to pass as
# ``skops.io.load(path, trusted=TRUSTED_TYPES)``. skops already trusts builtin containers
# and scalars, NumPy arrays and scalars (float64, int32, bool and float32 arrays included)
# and scikit-learn's own types. ``skops.io.get_untrusted_types`` on fitted and saved
# Lambda3Features, Lambda3MultiScale and the three Bayesian regressors (every noise, with and
# without pandas column names) reports our estimator classes and nothing else; their fitted
# state is only NumPy arrays, numbers, strings, dicts and lists (Lambda3MultiScale holds a
# list of Lambda3Features), so no NumPy or builtin type needs to be added.
# tests/test_persistence.py checks the list.
#: Types of this package that ``skops.io.load(path, trusted=TRUSTED_TYPES)`` must trust to load a model.
TRUSTED_TYPES = [
    "sklearn_lambda3._features.Lambda3Features",
    "sklearn_lambda3._multiscale.Lambda3MultiScale",
    "sklearn_lambda3.bayes._dynamic.Lambda3DynamicRegressor",
    "sklearn_lambda3.bayes._hierarchical.Lambda3HierarchicalRegressor",
    "sklearn_lambda3.bayes._linear.Lambda3BayesRegressor",
]


class Lambda3VersionWarning(UserWarning):
    """A model saved by another release of sklearn-lambda3 was loaded.

    Parameters
    ----------
    estimator_name : str
        Class name of the loaded estimator.
    saved_version : str
        Version of sklearn-lambda3 that saved the model (``"unknown"`` when it predates the
        version stamp).
    current_version : str
        Version of sklearn-lambda3 that loaded it.
    """

    def __init__(self, estimator_name, saved_version, current_version):
        self.estimator_name = estimator_name
        self.saved_version = saved_version
        self.current_version = current_version
        super().__init__(
            f"This {estimator_name} was saved with sklearn-lambda3 {saved_version} and is loaded "
            f"with sklearn-lambda3 {current_version}. Its fitted state may not match this release "
            "and it may give wrong results or fail; refit it with the current version "
            "(and save it again)."
        )


class VersionStampMixin:
    """Records the package version in the pickled state and warns on a mismatch at load.

    Put it first among the bases, before :class:`sklearn.base.BaseEstimator`, so that it
    wraps BaseEstimator's own ``__getstate__`` / ``__setstate__`` through ``super()``.
    """

    def __getstate__(self):
        # BaseEstimator may return self.__dict__ itself: never write into it.
        return dict(super().__getstate__(), **{_STAMP: __version__})

    def __setstate__(self, state):
        state = dict(state)
        saved = state.pop(_STAMP, "unknown (saved before the version stamp)")
        if saved != __version__:
            warnings.warn(
                Lambda3VersionWarning(type(self).__name__, saved, __version__),
                stacklevel=2,
            )
        super().__setstate__(state)
