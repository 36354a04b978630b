"""
Several related series: the hierarchical regressor
==================================================

:class:`~sklearn_lambda3.Lambda3HierarchicalRegressor` fits one coefficient vector per series, drawn
from a common population, so a short series borrows strength from the others. Here series 0 is
observed for 30 steps only (NaN afterwards).
"""

import matplotlib.pyplot as plt
import numpy as np

from sklearn_lambda3 import Lambda3HierarchicalRegressor

rng = np.random.default_rng(0)
X = rng.normal(size=(200, 2))
true_coef = np.array([1.0, -0.5]) + 0.2 * rng.normal(size=(6, 2))  # 6 related series
Y = X @ true_coef.T + rng.normal(size=(200, 6))
Y[30:, 0] = np.nan

reg = Lambda3HierarchicalRegressor(num_warmup=500, num_samples=500, num_chains=2, random_state=0).fit(X, Y)
print("population mean:", reg.population_coef_.round(2), "sd:", reg.population_sd_.round(2))

# %%
# Per-series posterior means against the truth; series 0 (30 rows) is pulled towards the population:
fig, ax = plt.subplots(figsize=(4, 4))
ax.scatter(true_coef[:, 0], reg.coef_[:, 0], label="first coefficient")
ax.scatter(true_coef[:, 1], reg.coef_[:, 1], label="second coefficient")
ax.annotate("series 0", (true_coef[0, 0], reg.coef_[0, 0]))
ax.axline((0, 0), slope=1, color="0.5", lw=0.8)
ax.set_xlabel("true")
ax.set_ylabel("posterior mean")
ax.legend()
