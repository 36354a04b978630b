"""Out-of-sample linear regression on the Tokyo weather file: ours against BayesianRidge.

The task of issue 12: target = next hour's ``temperature_2m``, X = all six columns,
``Pipeline([Lambda3Features(), regressor])`` with pandas output, scored with ``TimeSeriesSplit(3)``.
"""

import time
import warnings
from pathlib import Path

import numpy as np
from scipy.stats import norm


def _tokyo(data_dir):
    import pandas as pd

    frame = pd.read_csv(Path(data_dir) / "tokyo_weather_days.csv").drop(columns="date")
    y = frame["temperature_2m"].shift(-1).iloc[:-1].to_numpy()
    return frame.iloc[:-1], y


def _r2(y, prediction):
    return 1.0 - np.sum((y - prediction) ** 2) / np.sum((y - y.mean()) ** 2)


def tokyo_linear_table(data_dir, num_samples=1000):
    """Rows (dicts) of per-fold and pooled R², 90 % interval coverage and the lowest prediction."""
    from sklearn.linear_model import BayesianRidge
    from sklearn.model_selection import TimeSeriesSplit
    from sklearn.pipeline import Pipeline

    from sklearn_lambda3 import Lambda3BayesRegressor, Lambda3Features

    X, y = _tokyo(data_dir)
    sampler = {"num_samples": num_samples, "num_chains": 4, "random_state": 0, "progress_bar": False}
    methods = {
        "Lambda3BayesRegressor (defaults)": lambda: Lambda3BayesRegressor(**sampler),
        "  same, prior_shrinkage=1 (scales as given)": lambda: Lambda3BayesRegressor(
            prior_shrinkage=1.0, **sampler
        ),
        "BayesianRidge": BayesianRidge,
    }
    z90 = norm.ppf(0.95)
    rows = []
    folds = list(TimeSeriesSplit(3).split(X))
    for name, make in methods.items():
        predictions, covered, seconds = [], [], 0.0
        for train, test in folds:
            pipe = Pipeline([("l3", Lambda3Features()), ("reg", make())]).set_output(transform="pandas")
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pipe.fit(X.iloc[train], y[train])
            seconds += time.perf_counter() - start
            features = pipe[:-1].transform(X.iloc[test])
            regressor = pipe[-1]
            if isinstance(regressor, BayesianRidge):
                mean, std = regressor.predict(features, return_std=True)
                low, high = mean - z90 * std, mean + z90 * std
            else:
                mean = regressor.predict(features)
                low, high = regressor.predict_interval(features, coverage=0.9).T
            predictions.append(mean)
            covered.append((y[test] >= low) & (y[test] <= high))
        rows.append(_row(name, y, folds, predictions, covered, seconds))
    # Last value: the next hour's temperature is this hour's (a column of X).
    last = [X["temperature_2m"].to_numpy()[test] for _, test in folds]
    rows.append(_row("last value (persistence)", y, folds, last, None, 0.0))
    return rows


def _row(name, y, folds, predictions, covered, seconds):
    tests = [y[test] for _, test in folds]
    row = {"method": name}
    for i, (truth, prediction) in enumerate(zip(tests, predictions, strict=True)):
        row[f"R2 fold {i}"] = _r2(truth, prediction)
    row["R2 pooled"] = _r2(np.concatenate(tests), np.concatenate(predictions))
    row["coverage90"] = float(np.mean(np.concatenate(covered))) if covered is not None else np.nan
    row["min prediction"] = float(np.concatenate(predictions).min())
    row["fit s"] = seconds
    return row
