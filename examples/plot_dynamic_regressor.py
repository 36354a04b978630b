"""
The dynamic regressor: a level, a season and a forecast
=======================================================

:class:`~sklearn_lambda3.Lambda3DynamicRegressor` is a structural time-series model: a level that drifts
as a random walk (and jumps at change points when asked), here with a daily season, and regressors on
top when given. Fitted to ``y`` alone (``X=None``) it forecasts the next steps with the season in phase.
"""

import matplotlib.pyplot as plt
import numpy as np

from sklearn_lambda3 import Lambda3DynamicRegressor
from sklearn_lambda3.plot import plot_components

rng = np.random.default_rng(0)
t = np.arange(168)  # a week of hourly values
level = 10.0 + np.cumsum(rng.normal(scale=0.1, size=t.size))
y = level + 2.0 * np.sin(2 * np.pi * t / 24) + rng.normal(scale=0.4, size=t.size)

# The level barely drifts, so its scale τ lies near 0, where a higher acceptance target keeps NUTS's steps
# small enough to avoid divergences.
reg = Lambda3DynamicRegressor(
    seasonality=24, target_accept_prob=0.95, num_warmup=500, num_samples=500, num_chains=2, random_state=0
).fit(None, y[:144])
print("R-hat max:", round(reg.diagnostics_["r_hat_max"], 3))

# %%
# The fit's components, level and season, with their 90 % intervals:
plot_components(reg)

# %%
# The last day, forecast from the six before, against what happened:
mean, std = reg.forecast(steps=24, return_std=True)
fig, ax = plt.subplots(figsize=(8, 3), layout="constrained")
ax.plot(t[96:], y[96:], color="0.6", label="observed")
ax.plot(t[144:], mean, label="forecast")
ax.fill_between(t[144:], mean - 1.645 * std, mean + 1.645 * std, alpha=0.3, label="90 % interval")
ax.axvline(144, color="k", lw=0.8)
ax.set_xlabel("hour")
ax.legend(loc="lower left")
