"""
The linear Bayesian regressor
=============================

:class:`~sklearn_lambda3.Lambda3BayesRegressor` fits the method's linear model
``y = β0 + Σ βk fk + ε`` with NumPyro's NUTS. Its priors are in standard deviations of ``y`` per unit of
each feature, chosen by the feature's kind (jump, tension or other), and it reports the posterior of
every coefficient with convergence diagnostics.
"""

import numpy as np
import pandas as pd

from sklearn_lambda3 import Lambda3BayesRegressor
from sklearn_lambda3.plot import plot_posterior

rng = np.random.default_rng(0)
X = pd.DataFrame(
    {
        "s__delta_LambdaC_pos": (rng.random(300) < 0.05).astype(float),
        "s__delta_LambdaC_neg": (rng.random(300) < 0.05).astype(float),
        "s__rho_T": rng.gamma(2.0, 0.5, size=300),
    }
)
y = 1.0 + 3.0 * X["s__delta_LambdaC_pos"] - 2.0 * X["s__delta_LambdaC_neg"] + 0.5 * X["s__rho_T"]
y = y + rng.normal(scale=0.5, size=300)

reg = Lambda3BayesRegressor(num_warmup=500, num_samples=500, num_chains=2, random_state=0).fit(X, y)
print("coefficients:", dict(zip(X.columns, reg.coef_.round(2).tolist(), strict=True)))
print("R-hat max:", round(reg.diagnostics_["r_hat_max"], 3))

# %%
# Posterior density and per-chain trace of each coefficient:
plot_posterior(reg)

# %%
# A 90 % predictive interval for new rows (noise included):
reg.predict_interval(X.iloc[:5], coverage=0.9)
