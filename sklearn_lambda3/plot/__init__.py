"""Plots of the Lambda³ features, analyses and Bayesian fits (matplotlib).

Series and their jumps, change points, regimes, synchronisation (matrix, network, profile over
lags, along time), structural causality by lag, interaction effects, posterior predictive fits,
posteriors and posterior predictive checks.

matplotlib is the optional extra ``[plot]`` (``pip install "sklearn-lambda3[plot]"``); it is
imported by the functions, so importing this module does not need it. Every function draws on
the ``ax`` (or ``fig``) it is given, or on a new figure, and returns that Axes (or Figure).

The functions live in private modules by theme: ``_series`` (one series), ``_relations``
(between series), ``_bayes`` (Bayesian fits and checks), on the helpers of ``_common``.
"""

from ._bayes import plot_components, plot_fit, plot_posterior, plot_predictive_check
from ._relations import (
    plot_causality_by_lag,
    plot_dynamic_sync,
    plot_interaction_matrix,
    plot_sync_matrix,
    plot_sync_network,
    plot_sync_profile,
)
from ._series import plot_change_points, plot_regimes, plot_series

__all__ = [
    "plot_causality_by_lag",
    "plot_change_points",
    "plot_components",
    "plot_dynamic_sync",
    "plot_fit",
    "plot_interaction_matrix",
    "plot_posterior",
    "plot_predictive_check",
    "plot_regimes",
    "plot_series",
    "plot_sync_matrix",
    "plot_sync_network",
    "plot_sync_profile",
]
