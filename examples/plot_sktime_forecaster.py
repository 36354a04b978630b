"""
Forecasting with sktime
=======================

``sklearn_lambda3.sktime.Lambda3Forecaster`` wraps the dynamic regressor in sktime's forecaster
interface (``pip install "sklearn-lambda3[sktime]"``): forecasting horizons, exogenous data, predictive
intervals, and sktime's own tools for backtesting such as ``evaluate``. Given nothing but ``y``, it
takes the season from the index's calendar and averages a level and a drift, on ``y`` and on ``log y``,
by their marginal likelihoods.
"""

import matplotlib.pyplot as plt
import numpy as np
from sktime.datasets import load_airline
from sktime.forecasting.model_evaluation import evaluate
from sktime.split import ExpandingWindowSplitter

from sklearn_lambda3.plot import plot_components
from sklearn_lambda3.sktime import Lambda3Forecaster

# Monthly airline passengers: a yearly season whose swing grows with the level.
y = load_airline()
forecaster = Lambda3Forecaster(num_warmup=500, num_samples=500, num_chains=2, random_state=0)
forecaster.fit(y.iloc[:-24], fh=np.arange(1, 13))
print(forecaster.regressor_.seasonality_, forecaster.weights_)  # {12: 6}, the variants' weights
forecaster.predict_interval(coverage=0.9)

# %%
# A year later: ``update`` without refitting conditions every variant on the new months (the
# sampled variances held), a filter pass instead of a sampler run.
forecaster.update(y.iloc[-24:-12], update_params=False)
forecaster.predict(fh=np.arange(1, 13))

# %%
# The components of the heaviest variant (on ``log y`` here: the season is a factor), on ``y``'s
# dates, with a line where the forecasts start.
fig = plot_components(forecaster, fh=np.arange(-35, 13))
plt.show()

# %%
# Backtesting with an expanding window, refitted every 12 months:
cv = ExpandingWindowSplitter(initial_window=96, step_length=12, fh=np.arange(1, 13))
evaluate(forecaster, cv=cv, y=y)
