"""Bayesian regression on Lambda³ features: one estimator per model, one shared base.

- :class:`Lambda3BayesRegressor`: the linear model (rows exchangeable);
- :class:`Lambda3DynamicRegressor`: a drifting level with change points, forecasts (rows are
  time steps, with an explicit time contract);
- :class:`Lambda3HierarchicalRegressor`: several related series with partially pooled
  coefficients (2-D ``y``, NaN for missing entries).

:func:`convergence_problems` is the convergence rule all of them, and the analysis functions,
apply to a fit's ``diagnostics_``. See ``ARCHITECTURE.md`` for how the layer is built.
"""

from ._base import BaseBayesRegressor
from ._convergence import ESS_PER_CHAIN_LIMIT, RHAT_LIMIT, convergence_problems
from ._dynamic import Lambda3DynamicRegressor
from ._hierarchical import Lambda3HierarchicalRegressor
from ._linear import Lambda3BayesRegressor

__all__ = [
    "BaseBayesRegressor",
    "ESS_PER_CHAIN_LIMIT",
    "Lambda3BayesRegressor",
    "Lambda3DynamicRegressor",
    "Lambda3HierarchicalRegressor",
    "RHAT_LIMIT",
    "convergence_problems",
]
