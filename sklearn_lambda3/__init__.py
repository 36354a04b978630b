"""Lambda³ structural analysis of time series for scikit-learn.

Jump events (ΔΛC⁺, ΔΛC⁻), tension (ρT) and Bayesian regression on them.
"""

from ._compare import PredictiveCheck, compare, posterior_predictive_check
from ._datasets import make_jump_series
from ._features import Lambda3Features
from ._multiscale import Lambda3MultiScale
from ._persistence import TRUSTED_TYPES, Lambda3VersionWarning
from ._version import __version__
from .bayes import Lambda3BayesRegressor, Lambda3DynamicRegressor, Lambda3HierarchicalRegressor

__all__ = [
    "Lambda3BayesRegressor",
    "Lambda3DynamicRegressor",
    "Lambda3HierarchicalRegressor",
    "Lambda3Features",
    "Lambda3MultiScale",
    "Lambda3VersionWarning",
    "PredictiveCheck",
    "TRUSTED_TYPES",
    "compare",
    "make_jump_series",
    "posterior_predictive_check",
    "__version__",
]
