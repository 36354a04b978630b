"""
Forecasting with sktime
=======================

``sklearn_lambda3.sktime.Lambda3Forecaster`` wraps the dynamic regressor in sktime's forecaster
interface (``pip install "sklearn-lambda3[sktime]"``): forecasting horizons, exogenous data, predictive
intervals, and sktime's own tools for backtesting such as ``evaluate``.
"""

import numpy as np
from sktime.datasets import load_airline
from sktime.forecasting.model_evaluation import evaluate
from sktime.split import ExpandingWindowSplitter

from sklearn_lambda3.sktime import Lambda3Forecaster

# Monthly airline passengers on a log scale: a yearly season and a drift.
y = np.log(load_airline())
forecaster = Lambda3Forecaster(
    seasonality=12, trend="drift", num_warmup=500, num_samples=500, num_chains=2, random_state=0
)
forecaster.fit(y.iloc[:-12], fh=np.arange(1, 13))
forecaster.predict_interval(coverage=0.9)

# %%
# Backtesting with an expanding window, refitted every 12 months:
cv = ExpandingWindowSplitter(initial_window=96, step_length=12, fh=np.arange(1, 13))
evaluate(forecaster, cv=cv, y=y)
