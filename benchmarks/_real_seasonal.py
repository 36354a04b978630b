"""Seasonal forecasts on a real series: our structural model against statsmodels' and the baselines.

:func:`seasonal_forecast_table` forecasts every test fold of ``TimeSeriesSplit(3)`` of the hourly
Tokyo ``temperature_2m`` from its training rows, as a user would, with

- ``Lambda3DynamicRegressor(seasonality=24)`` (defaults otherwise), ``seasonality="auto"``
  (given the rows' timestamps as the index of ``y``, as a user reading the CSV has them, and
  given bare NumPy rows), ``trend="drift"``, and ``seasonality=24`` with the other five series'
  Lambda³ features; the sktime forecaster with its defaults (the season from the calendar, a level
  or a drift on ``y`` or ``log y`` averaged by their evidence);
- statsmodels' ``UnobservedComponents`` with a local level and a daily season of 3 harmonics,
  fixed or stochastic, and with a random walk with drift or a local linear trend instead of the
  level (the peers a statistician picks: maximum likelihood, plug-in forecast intervals);
- the last training value.

Each row: ``method``, ``fold`` (0, 1, 2 or ``"all"``), ``rmse``, ``coverage90`` and ``seconds``.
"""

import time
import warnings

import numpy as np
import pandas as pd
from _real_dynamic import TARGET, _features, _last_value

DAILY = [{"period": 24, "harmonics": 3}]
PEERS = {
    "statsmodels level + fixed season": {"level": "local level", "stochastic_freq_seasonal": [False]},
    "statsmodels level + stochastic season": {"level": "local level"},
    "statsmodels drift + fixed season": {
        "level": "random walk with drift",
        "stochastic_freq_seasonal": [False],
    },
    "statsmodels local linear trend + fixed season": {
        "level": "local linear trend",
        "stochastic_freq_seasonal": [False],
    },
}
OURS = {
    "lambda3 seasonality=24": {"seasonality": 24},
    "lambda3 seasonality='auto'": {"seasonality": "auto"},
    "lambda3 seasonality='auto', NumPy y (no dates)": {"seasonality": "auto", "dates": False},
    "lambda3 seasonality=24, trend='drift'": {"seasonality": 24, "trend": "drift"},
    "lambda3 seasonality=24 + features": {"seasonality": 24, "features": True},
}


def _statsmodels(y_train, n_test, **params):
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = UnobservedComponents(y_train, freq_seasonal=DAILY, **params).fit(disp=False)
        forecast = fit.get_forecast(n_test)
    bounds = np.asarray(forecast.conf_int(alpha=0.1))
    return np.asarray(forecast.predicted_mean), bounds[:, 0], bounds[:, 1]


def _ours(train_frame, test_frame, y_train, n_test, features=False, dates=True, **params):
    from sklearn.exceptions import ConvergenceWarning

    from sklearn_lambda3 import Lambda3DynamicRegressor

    reg = Lambda3DynamicRegressor(progress_bar=False, random_state=0, **params)
    if features:
        F_train, F_test = _features(train_frame, test_frame)
    else:
        F_train, F_test = None, np.empty((n_test, 0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(F_train, y_train if dates else y_train.to_numpy())
    mean = reg.forecast(F_test) if features else reg.forecast(steps=n_test)
    interval = reg.predict_interval(F_test, coverage=0.9, start=reg.n_train_)
    d = reg.diagnostics_
    note = (
        f"season {reg.seasonality_ or 'none'}, R-hat {d['r_hat_max']:.3f}, ESS {d['ess_bulk_min']:.0f}, "
        f"divergences {d['num_divergences']}"
    )
    return (mean, interval[:, 0], interval[:, 1]), note


FORECASTER = "Lambda3Forecaster() defaults (sktime)"


def _forecaster(train_frame, test_frame, y_train, n_test):
    """The sktime forecaster with its defaults on y alone: the season from the calendar, the
    variants (level or drift, y or log y) averaged by their evidence."""
    from sklearn.exceptions import ConvergenceWarning

    from sklearn_lambda3.sktime import Lambda3Forecaster

    forecaster = Lambda3Forecaster(progress_bar=False, random_state=0)
    fh = np.arange(1, n_test + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        forecaster.fit(y_train.asfreq(pd.infer_freq(y_train.index)))
    interval = forecaster.predict_interval(fh=fh, coverage=0.9).to_numpy()
    weights = ", ".join(f"{t or 'y'}/{trend} {w:.2f}" for (t, trend), w in forecaster.weights_.items())
    note = f"season {forecaster.regressor_.seasonality_ or 'none'}, weights {weights}"
    return (forecaster.predict(fh=fh).to_numpy(), interval[:, 0], interval[:, 1]), note


def seasonal_forecast_table(data_path, n_splits=3):
    """Per-fold and pooled forecast RMSE, 90 % coverage and fit time of every method."""
    from sklearn.model_selection import TimeSeriesSplit

    frame = pd.read_csv(data_path, index_col="date", parse_dates=True).select_dtypes("number")
    target = frame[TARGET].astype(float)
    y = target.to_numpy()
    others = frame.drop(columns=[TARGET])
    results, notes, seconds = {}, {}, {}
    for train, test in TimeSeriesSplit(n_splits).split(y):
        y_train, y_test = y[train], y[test]
        runs = [(name, _statsmodels, (y_train, len(test)), params) for name, params in PEERS.items()]
        runs.append(("last value", _last_value, (y_train, len(test)), {}))
        context = (others.iloc[train], others.iloc[test], target.iloc[train], len(test))
        runs += [(name, _ours, context, params) for name, params in OURS.items()]
        runs.append((FORECASTER, _forecaster, context, {}))
        for name, function, args, params in runs:
            start = time.perf_counter()
            out = function(*args, **params)
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start
            if name in OURS or name == FORECASTER:
                out, note = out
                notes.setdefault(name, []).append(note)
            results.setdefault(name, []).append((y_test, *out))
    rows = []
    for name, folds in results.items():
        pooled = [np.concatenate(parts) for parts in zip(*folds, strict=True)]
        for fold, (truth, mean, low, high) in [*enumerate(folds), ("all", pooled)]:
            rows.append(
                {
                    "method": name,
                    "fold": fold,
                    "rmse": float(np.sqrt(np.mean((truth - mean) ** 2))),
                    "coverage90": float(np.mean((truth >= low) & (truth <= high))),
                    "seconds": round(seconds[name], 1) if fold == "all" else "",
                    "fit": notes[name][fold] if name in notes and fold != "all" else "",
                }
            )
    return sorted(rows, key=lambda r: (r["fold"] != "all", str(r["fold"]), r["rmse"]))
