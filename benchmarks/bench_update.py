"""The forecaster's ``update``: conditioning on new steps (scales held) against refitting.

Run: ``python benchmarks/bench_update.py [--draws N] [--every K]`` (needs the ``[sktime]`` extra).

On the log airline series (monthly, 1949-1960), fitted to the first 72 months with a yearly season
and a drift, then walked forward ``--every`` months at a time to the end, forecasting one year
ahead after each step, three ways:

- ``update(update_params=False)``: the regressor's ``append``, the sampled τ and noise held;
- ``update(update_params=True)``: a refit on every month seen (sktime's default meaning);
- ``fit`` once and never updated (the new months lost: what ``update(update_params=False)`` did
  before it conditioned on them), forecasting further and further ahead.

Printed: the seconds per update (the ratio of refit to append), the mean absolute error of the
forecasts on ``log y`` and of the one-step forecasts, the 90 % interval's coverage of the year ahead,
the ConvergenceWarnings raised, and the largest difference between the appended and the refitted
one-step forecast.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sktime.datasets import load_airline

from sklearn_lambda3.sktime import Lambda3Forecaster

START = 72
HORIZON = np.arange(1, 13)


def walk(y, settings, mode, every):
    """Forecasts after each step of ``every`` months: errors, coverage, seconds per update."""
    forecaster = Lambda3Forecaster(**settings).fit(y.iloc[:START])
    errors, one_step, inside, seconds = [], [], [], []
    cutoff = START
    while cutoff + every <= len(y) - 1:
        begin = time.perf_counter()
        if mode == "append":
            forecaster.update(y.iloc[cutoff : cutoff + every], update_params=False)
        elif mode == "refit":
            forecaster.update(y.iloc[cutoff : cutoff + every], update_params=True)
        seconds.append(time.perf_counter() - begin)
        cutoff += every
        # The never-updated forecaster forecasts the same months from its old cutoff.
        shift = 0 if mode != "stale" else cutoff - START
        fh = HORIZON + shift
        ahead = HORIZON[cutoff + HORIZON <= len(y)]
        truth = y.iloc[cutoff + ahead - 1].to_numpy()
        mean = forecaster.predict(fh=fh[: len(ahead)]).to_numpy()
        interval = forecaster.predict_interval(fh=fh[: len(ahead)], coverage=0.9).to_numpy()
        errors.append(np.abs(mean - truth))
        one_step.append(abs(mean[0] - truth[0]))
        inside.append((interval[:, 0] <= truth) & (truth <= interval[:, 1]))
    return forecaster, np.concatenate(errors), np.array(one_step), np.concatenate(inside), seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000, help="warmup and draws per chain (4 chains)")
    parser.add_argument("--every", type=int, default=6, help="months per update")
    args = parser.parse_args()
    y = np.log(load_airline())
    settings = {
        "seasonality": 12,
        "trend": "drift",
        "num_warmup": args.draws,
        "num_samples": args.draws,
        "random_state": 0,
        "progress_bar": False,
    }
    Lambda3Forecaster(**settings).fit(y.iloc[:START])  # compile outside the timings
    rows, last = {}, {}
    for mode in ("append", "refit", "stale"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            forecaster, errors, one_step, inside, seconds = walk(y, settings, mode, args.every)
        n_warnings = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
        rows[mode] = (np.median(seconds), errors.mean(), one_step.mean(), inside.mean(), n_warnings)
        last[mode] = forecaster
    print(f"log airline: fit to {START} months, updated every {args.every} months, a year ahead each time")
    print(f"{'update':<28}{'s / update':>11}{'MAE':>8}{'MAE h=1':>9}{'cover 90%':>11}{'warnings':>10}")
    names = {
        "append": "update_params=False",
        "refit": "update_params=True (refit)",
        "stale": "never updated",
    }
    for mode, (sec, mae, mae1, cover, n_warn) in rows.items():
        print(f"{names[mode]:<28}{sec:>11.3f}{mae:>8.4f}{mae1:>9.4f}{cover:>11.2f}{n_warn:>10d}")
    print(f"refit / append time: {rows['refit'][0] / rows['append'][0]:.0f}x")
    difference = abs(last["append"].predict(fh=[1]).iloc[0] - last["refit"].predict(fh=[1]).iloc[0])
    print(f"last one-step forecast, append against refit: |difference| = {difference:.5f}")


if __name__ == "__main__":
    main()
