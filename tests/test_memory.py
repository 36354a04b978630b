"""predict(return_std=True) never forms a rows x draws matrix: its memory is O(rows * features)."""

import tracemalloc
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklearn_lambda3 import Lambda3BayesRegressor


def test_predict_std_memory_does_not_grow_with_draws():
    rng = np.random.default_rng(0)
    X_train = rng.normal(size=(200, 3))
    y = X_train @ [1.0, -1.0, 0.5] + rng.normal(size=200)
    reg = Lambda3BayesRegressor(
        num_warmup=50, num_samples=200, num_chains=2, progress_bar=False, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X_train, y)
    X = rng.normal(size=(100_000, 3))
    reg.predict(X[:10], return_std=True)
    tracemalloc.start()
    try:
        mean, std = reg.predict(X, return_std=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    rows_by_draws = X.shape[0] * len(reg.coef_samples_) * 8
    # (n_features + 4) float64 per row, as the predict docstring states, with some slack.
    assert peak <= 1.5 * (X.shape[1] + 4) * 8 * X.shape[0], peak
    assert peak < rows_by_draws / 10
    assert np.isfinite(mean).all() and np.all(std > 0)
