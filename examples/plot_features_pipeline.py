"""
Jump and tension features in a pipeline
=======================================

:class:`~sklearn_lambda3.Lambda3Features` turns each series into its upward and downward jumps
(ΔΛC⁺, ΔΛC⁻), its tension ρT and its local jumps. Its thresholds are learned by ``fit`` on the
training rows, so it is an ordinary step of a scikit-learn pipeline; here a ridge regression predicts
the next step of a series from the three series' features, scored by time-ordered cross-validation.
"""

import pandas as pd
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import TimeSeriesSplit, cross_val_score
from sklearn.pipeline import make_pipeline

from sklearn_lambda3 import Lambda3Features
from sklearn_lambda3.datasets import make_jump_series
from sklearn_lambda3.plot import plot_series

X = pd.DataFrame(make_jump_series(600, n_series=3, random_state=0), columns=["a", "b", "c"])
features = Lambda3Features(window=10, delta_percentile=97).set_output(transform="pandas")
F = features.fit_transform(X)
F.head()

# %%
# The thresholds learned on the training period, one per series:
print(features.jump_threshold_)

# %%
# A series with its jumps (▲ up, ▼ down) and its tension band x ± ρT:
plot_series(X["a"].to_numpy())

# %%
# The features of the three series explain the next value of ``a``:
y = X["a"].shift(-1).iloc[:-1]
pipe = make_pipeline(Lambda3Features(), RidgeCV())
scores = cross_val_score(pipe, X.iloc[:-1], y, cv=TimeSeriesSplit(3))
print("R² per fold:", scores.round(3))
