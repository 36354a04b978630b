"""The sktime forecaster against sktime's own, in expanding-window backtests; one table per series.

Run: ``python benchmarks/bench_sktime.py [--draws N] [--only airline lynx] [--scale raw log]``
(needs the ``[sktime]`` extra; statsmodels for AutoETS and Theta).

Series (both ship with sktime): ``airline``, monthly passengers 1949-1960 (144 steps, a
season of 12), backtested from 72 steps on, 12 steps ahead, a new fold every 12 steps (6
folds); ``lynx``, annual trappings 1821-1934 (114 steps, a cycle of about 10 years, taken as
a season of 10), from 60 steps on, 10 ahead, every 10 (5 folds). Every forecaster is refitted
on each fold's training window (``evaluate``, strategy "refit"). ``--scale log`` fits every
forecaster to ``log y`` (``TransformedTargetForecaster`` with a ``LogTransformer``); the
scores are always on ``y``'s own scale.

Scores, averaged over the folds: MASE (the mean absolute error over the mean absolute one-step
change of the training window, sktime's ``MeanAbsoluteScaledError`` with ``sp=1``), RMSE, the
share of test values inside the 90 % interval (``EmpiricalCoverage``), and the seconds of fit
and predict per fold (the first row's includes the sampler's compilation, once per process).

Rows: ``Lambda3Forecaster`` with the series' season and a drift (and a local level alone),
``AutoETS(auto=True, sp=p, additive_only=True)`` (the intervals of its multiplicative models are
simulated, which fails under sktime 1.2 with statsmodels 0.15: ``ETSResults.simulate()`` takes no
``simulate_kwargs``; on the log scale the additive models are the multiplicative ones),
``ThetaForecaster(sp=p)``, ``NaiveForecaster`` with the last value and with the last season's.
"""

import argparse
import warnings

import numpy as np
import pandas as pd
from sktime.datasets import load_airline, load_lynx
from sktime.forecasting.compose import TransformedTargetForecaster
from sktime.forecasting.ets import AutoETS
from sktime.forecasting.model_evaluation import evaluate
from sktime.forecasting.naive import NaiveForecaster
from sktime.forecasting.theta import ThetaForecaster
from sktime.performance_metrics.forecasting import MeanAbsoluteScaledError, MeanSquaredError
from sktime.performance_metrics.forecasting.probabilistic import EmpiricalCoverage
from sktime.split import ExpandingWindowSplitter
from sktime.transformations.series.boxcox import LogTransformer

from sklearn_lambda3.sktime import Lambda3Forecaster

# name: (loader, season, initial window, horizon = step between folds)
SERIES = {
    "airline": (load_airline, 12, 72, 12),
    "lynx": (load_lynx, 10, 60, 10),
}


def forecasters(season, draws):
    sampler = {
        "num_warmup": draws,
        "num_samples": draws,
        "num_chains": 2,
        "random_state": 0,
        "progress_bar": False,
    }
    return {
        f"Lambda3Forecaster(seasonality={season}, trend='drift')": Lambda3Forecaster(
            seasonality=season, trend="drift", **sampler
        ),
        "Lambda3Forecaster() (local level)": Lambda3Forecaster(**sampler),
        f"AutoETS(auto=True, sp={season}, additive_only)": AutoETS(
            auto=True, sp=season, additive_only=True, n_jobs=1
        ),
        f"ThetaForecaster(sp={season})": ThetaForecaster(sp=season),
        "NaiveForecaster('last')": NaiveForecaster(strategy="last"),
        f"NaiveForecaster('last', sp={season})": NaiveForecaster(strategy="last", sp=season),
    }


def backtest(forecaster, y, initial, horizon, log):
    if log:
        forecaster = TransformedTargetForecaster([("log", LogTransformer()), ("model", forecaster)])
    splitter = ExpandingWindowSplitter(
        fh=np.arange(1, horizon + 1), initial_window=initial, step_length=horizon
    )
    scoring = [
        MeanAbsoluteScaledError(sp=1),
        MeanSquaredError(square_root=True),
        EmpiricalCoverage(coverage=0.9),
    ]
    results = evaluate(forecaster, splitter, y, scoring=scoring, error_score="raise")
    return {
        "folds": len(results),
        "MASE": results["test_MeanAbsoluteScaledError"].mean(),
        "RMSE": results["test_MeanSquaredError"].mean(),
        "cover 90%": results["test_EmpiricalCoverage"].mean(),
        "s/fold": (results["fit_time"] + results["pred_time"]).mean(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=500, help="warm-up and kept draws per chain (2 chains)")
    parser.add_argument("--only", nargs="+", choices=sorted(SERIES), default=sorted(SERIES))
    parser.add_argument("--scale", nargs="+", choices=["raw", "log"], default=["raw", "log"])
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=FutureWarning)
    pd.set_option("display.width", 140)
    for name in args.only:
        loader, season, initial, horizon = SERIES[name]
        y = loader()
        for scale in args.scale:
            rows = {
                label: backtest(forecaster, y, initial, horizon, scale == "log")
                for label, forecaster in forecasters(season, args.draws).items()
            }
            table = pd.DataFrame(rows).T
            table["folds"] = table["folds"].astype(int)
            print(f"\n{name} ({len(y)} steps, {scale} scale): {horizon} steps ahead from {initial} steps on")
            print(table.to_string(float_format=lambda value: f"{value:.3f}"))


if __name__ == "__main__":
    main()
