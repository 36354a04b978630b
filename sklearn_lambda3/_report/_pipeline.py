"""The main job end to end: analyse a table of series, write a report, a summary and figures.

Used by the command line (``sklearn-lambda3 analyze`` and ``demo``). Data flow: a table of
series (NumPy, names, time labels) → Lambda³ features → change points, synchronisation
(pairs, clusters, hubs), structural causality, regimes, the pairwise Bayesian interaction
effects and optionally the dynamic regressor on a target → ``summary.json`` (every number),
then ``report.md`` and ``report.html`` rendered from it (:mod:`._render`) and PNG
figures (:mod:`._figures`, when matplotlib is installed).
"""

import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._changepoints import detect_change_points
from .._columns import FEATURE_SUFFIXES
from .._features import Lambda3Features
from .._interaction_kinds import KINDS
from .._regimes import detect_regimes
from .._sync import (
    SYNC_SHARE_THRESHOLD,
    causality_matrix,
    share_links,
    sync_clusters,
    sync_hubs,
    sync_matrix,
    sync_shares,
)
from ._render import render_html, render_report
from ._table import InputError, SeriesTable

LAG_WINDOW = 10
N_REGIMES = 3
TOP_PAIRS = 5
# Ordered pairs given the Bayesian interaction analysis by default: every pair of a 6-series
# file (about 0.3 s a pair once the sampler is compiled).
MAX_PAIRS = 30
INTERACTION_COVERAGE = 0.9
# Twice interaction_effects' default draws: with 500 per chain a few per cent of the pairs exceed
# R-hat 1.01 by the estimator's own noise (3 of 30 on the Tokyo file).
INTERACTION_SETTINGS = {"num_warmup": 1000, "num_samples": 1000, "num_chains": 4}


def _stage(message, progress):
    if progress:
        print(f"[sklearn-lambda3] {message}", file=sys.stderr, flush=True)


def analyze(
    table,
    values=None,
    *,
    target=None,
    out_dir=None,
    progress=True,
    random_state=0,
    max_pairs=MAX_PAIRS,
    pairs=None,
    lag=0,
    regimes="hmm",
    n_regimes=N_REGIMES,
):
    """Analyse series; with ``out_dir``, write ``report.md``, ``report.html``, ``summary.json``, figures.

    Parameters
    ----------
    table : SeriesTable or list of str
        The series (from :func:`~sklearn_lambda3._report.read_series_csv`), or their names
        with ``values``.
    values : ndarray of shape (n_steps, n_series), optional
        Series in columns, rows in time order, when ``table`` is a list of names.
    target : str or None, default=None
        A series to explain with the features of the others (dynamic Lambda³ regressor).
    out_dir : path or None, default=None
        Where to write the outputs; nothing is written when ``None``.
    progress : bool, default=True
        Report the stages on stderr (and NUTS's progress bar when stderr is a terminal).
    random_state : int, default=0
        Seed of the regressors and the regime clustering.
    max_pairs : int, default=30
        How many ordered pairs get the Bayesian interaction analysis, the pairs in strongest
        sync first; 0 skips it. Ignored when ``pairs`` is given.
    pairs : list of (str, str) or None, default=None
        The ordered (source, target) pairs to analyse, instead of the strongest ones.
    lag : int or "auto", default=0
        Lag of the source's features in the interaction models (0: the method's model, the
        source at the target's step); ``"auto"`` takes each pair's
        optimal sync lag when the target's jumps follow the source's, else 0.
    regimes : {"hmm", "kmeans"}, default="hmm"
        How :func:`~sklearn_lambda3.analysis.detect_regimes` finds the regimes: persistent
        hidden Markov states (the report's default: on the Tokyo weather file K-means gives
        single jump steps regimes of their own) or the method's K-means clusters.
    n_regimes : int, default=3
        Number of regimes.

    Returns
    -------
    summary : dict
        Everything the report says, as JSON-ready values.
    """
    if not isinstance(table, SeriesTable):
        table = SeriesTable(list(table), np.asarray(values, dtype=np.float64), None, None, {})
    names, values = table.names, table.values
    if target is not None and target not in names:
        raise InputError(f"--target {target!r} is not a series column (columns: {', '.join(names)})")
    pairs = _checked_pairs(pairs, names)
    started = time.perf_counter()
    n, p = values.shape
    _stage(f"features of {p} series x {n} steps", progress)
    features = Lambda3Features().fit_transform(values)
    pos, neg, rho = features[:, 0::4], features[:, 1::4], features[:, 2::4]
    summary = {
        "n_steps": int(n),
        "series": {},
        "target": target,
        "seed": random_state,
        "time_column": table.time_column,
        "time_range": None if table.times is None else [table.times[0], table.times[-1]],
        "missing": {
            "filled": {name: count for name, count in table.filled.items() if count},
            "dropped_rows": table.dropped_rows,
        },
    }
    for j, name in enumerate(names):
        points = detect_change_points(values[:, j]).tolist()
        summary["series"][name] = {
            "mean": float(values[:, j].mean()),
            "std": float(values[:, j].std()),
            "positive_jumps": int(pos[:, j].sum()),
            "negative_jumps": int(neg[:, j].sum()),
            "mean_tension": float(rho[:, j].mean()),
            "change_points": points,
            "change_point_times": [table.time_of(row) for row in points],
        }

    _stage("synchronisation and structural causality", progress)
    events = np.maximum(pos, neg)
    lag_window = min(LAG_WINDOW, n - 1)
    rates, lags = sync_matrix(events, lag_window=lag_window)
    shares = sync_shares(events, rates, lags)
    sync_pairs = _sync_pairs(names, rates, lags, shares)
    summary["sync_pairs"] = sync_pairs[:TOP_PAIRS]
    summary["sync_structure"] = _sync_structure(names, shares, sync_pairs)
    causality = causality_matrix(pos, neg, lag=1)
    summary["causality_pairs"] = _causality_pairs(names, pos, causality)

    focus = names.index(target) if target is not None else 0
    _stage(f"regimes of {names[focus]}", progress)
    if regimes not in ("hmm", "kmeans"):
        raise InputError(f"--regimes must be hmm or kmeans; got {regimes!r}")
    if not 1 <= n_regimes <= n:
        raise InputError(f"--n-regimes must be between 1 and the number of rows ({n}); got {n_regimes}")
    with warnings.catch_warnings():
        # An EM that stopped at max_iter is still a usable segmentation; the summary says so.
        warnings.simplefilter("ignore", ConvergenceWarning)
        found = detect_regimes(
            features[:, 4 * focus : 4 * focus + 4],
            n_regimes,
            random_state,
            values[:, focus],
            method=regimes,
        )
    summary["regimes"] = _regime_summary(names[focus], found, table)

    interactions = None
    if p >= 2 and (pairs is not None or max_pairs > 0):
        chosen = pairs if pairs is not None else _strongest_pairs(rates, max_pairs)
        _stage(f"Bayesian interaction effects of {len(chosen)} ordered pair(s)", progress)
        interactions, pair_lags = _interactions(names, values, chosen, lags, shares, lag, random_state)
        summary["interactions"] = _interaction_summary(names, interactions, pair_lags, lag)

    regressor = drivers_X = None
    if target is not None:
        if p < 2:
            raise InputError("--target needs at least one other series column to explain it with")
        _stage(f"dynamic Bayesian regression of {target} on the features of the other series", progress)
        regressor, drivers_X, driver_names = _fit_target(
            names, values, features, focus, progress, random_state
        )
        summary["regression"] = _regression_summary(regressor, drivers_X, values[:, focus], driver_names)
        summary["regression"]["change_point_times"] = [
            table.time_of(row) for row in summary["regression"]["change_points"]
        ]
    summary["seconds"] = round(time.perf_counter() - started, 2)

    if out_dir is not None:
        from ._figures import write_figures

        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        _stage(f"writing {out_dir}", progress)
        summary["figures"] = write_figures(
            out_dir,
            table=table,
            features=features,
            rates=rates,
            summary=summary,
            regimes=found,
            focus=focus,
            interactions=interactions,
            regressor=regressor,
            drivers_X=drivers_X,
            random_state=random_state,
        )
        (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        (out_dir / "report.md").write_text(render_report(summary), encoding="utf-8")
        (out_dir / "report.html").write_text(render_html(summary, out_dir), encoding="utf-8")
    return summary


def _checked_pairs(pairs, names):
    if pairs is None:
        return None
    checked = []
    for source, target in pairs:
        for name in (source, target):
            if name not in names:
                known = ", ".join(names)
                raise InputError(f"--pairs names {name!r}, which is not a series column (columns: {known})")
        if source == target:
            raise InputError(f"--pairs holds {source!r} with itself; a pair needs two series")
        if (source, target) not in checked:
            checked.append((source, target))
    if not checked:
        raise InputError("--pairs is empty")
    return checked


def _sync_pairs(names, rates, lags, shares):
    """Ordered pairs with coinciding jumps, by sync rate."""
    pairs = [
        {
            "source": names[a],
            "target": names[b],
            "rate": float(rates[a, b]),
            "lag": int(lags[a, b]),
            "share": float(shares[a, b]),
        }
        for a in range(len(names))
        for b in range(len(names))
        if a != b and rates[a, b] > 0
    ]
    pairs.sort(key=lambda pair: (-pair["rate"], pair["source"], pair["target"]))
    return pairs


def _sync_structure(names, shares, sync_pairs):
    """Clusters of series that jump together, hubs of the sync network and the strongest pair."""
    return {
        "threshold": SYNC_SHARE_THRESHOLD,
        "links": int(share_links(shares).sum() // 2),
        "clusters": sync_clusters(shares, names),
        "hubs": [
            {"series": hub, "links": len(partners), "partners": partners}
            for hub, partners in sync_hubs(shares, names)
        ],
        "strongest_pair": sync_pairs[0] if sync_pairs else None,  # by rate, as the pairs are sorted
    }


def _causality_pairs(names, pos, causality):
    pairs = [
        {
            "source": names[a],
            "target": names[b],
            "probability": float(causality[a, b]),
            "source_jumps": int(pos[:-1, a].sum()),
        }
        for a in range(len(names))
        for b in range(len(names))
        if a != b and causality[a, b] > 0
    ]
    pairs.sort(key=lambda pair: (-pair["probability"], pair["source"], pair["target"]))
    return pairs[:TOP_PAIRS]


def _regime_summary(name, regimes, table):
    starts = np.r_[0, np.flatnonzero(np.diff(regimes.labels)) + 1]
    ends = np.r_[starts[1:], len(regimes.labels)] - 1
    runs = sorted(zip(starts.tolist(), ends.tolist(), strict=True), key=lambda run: (run[0] - run[1], run[0]))
    longest = {}
    for start, end in runs:
        label = int(regimes.labels[start])
        longest.setdefault(label, (start, end))
    fitted = regimes.fitted_transition_matrix
    expected = regimes.expected_durations
    return {
        "series": name,
        "method": regimes.method,
        "fitted_transition_matrix": None if fitted is None else fitted.tolist(),
        "expected_duration": None if expected is None else [_float_or_none(d) for d in expected],
        "labels": regimes.labels.tolist(),
        "frequency": regimes.frequency.tolist(),
        "mean_tension": regimes.mean_tension.tolist(),
        "mean_level": regimes.mean_level.tolist(),
        "mean_duration": [float(d.mean()) if len(d) else 0.0 for d in regimes.durations],
        "transition_matrix": regimes.transition_matrix.tolist(),
        "longest_run": {
            str(label): {
                "start": start,
                "end": end,
                "steps": end - start + 1,
                "start_time": table.time_of(start),
                "end_time": table.time_of(end),
            }
            for label, (start, end) in sorted(longest.items())
        },
    }


def _strongest_pairs(rates, max_pairs):
    p = rates.shape[0]
    ordered = sorted(
        ((a, b) for a in range(p) for b in range(p) if a != b), key=lambda pair: (-rates[pair], pair)
    )
    return ordered[:max_pairs]


def _interactions(names, values, chosen, lags, shares, lag, random_state):
    """The interaction effects of the chosen pairs, one fit per lag, merged into one result."""
    import pandas as pd

    from .._interactions import interaction_effects
    from ..bayes import Lambda3BayesRegressor

    index = [(names.index(a), names.index(b)) if isinstance(a, str) else (a, b) for a, b in chosen]
    n = values.shape[0]
    if lag == "auto":
        # A pair's sync lag, when its jumps are linked and the target's follow; else the same step.
        pair_lags = {
            pair: max(int(lags[pair]), 0) if shares[pair] >= SYNC_SHARE_THRESHOLD else 0 for pair in index
        }
    else:
        pair_lags = dict.fromkeys(index, int(lag))
    pair_lags = {pair: min(k, n - 3) for pair, k in pair_lags.items()}
    frame = pd.DataFrame(values, columns=names)
    merged = None
    for k in sorted(set(pair_lags.values())):
        group = [pair for pair in index if pair_lags[pair] == k]
        with warnings.catch_warnings():
            # Convergence is reported in the summary instead.
            warnings.simplefilter("ignore", ConvergenceWarning)
            result = interaction_effects(
                frame,
                lag=k,
                pairs=group,
                coverage=INTERACTION_COVERAGE,
                regressor=Lambda3BayesRegressor(**INTERACTION_SETTINGS),
                random_state=random_state,
            )
        merged = result if merged is None else merged.merge(result)
    return merged, pair_lags


def _interaction_summary(names, result, pair_lags, lag):
    pairs = []
    effects = []
    for (a, b), k in pair_lags.items():
        entry = {
            "source": names[a],
            "target": names[b],
            "lag": k,
            "converged": bool(result.converged[a, b]),
            "r_hat_max": _float_or_none(result.r_hat_max[a, b]),
            "ess_bulk_min": _float_or_none(result.ess_bulk_min[a, b]),
            "num_divergences": int(result.num_divergences[a, b]),
        }
        for kind in KINDS:
            low, high = float(result.lower[kind][a, b]), float(result.upper[kind][a, b])
            entry[kind] = {"mean": float(result.mean[kind][a, b]), "low": low, "high": high}
            if (low > 0 or high < 0) and entry["converged"]:
                effects.append(
                    {
                        "source": names[a],
                        "target": names[b],
                        "lag": k,
                        "kind": kind,
                        "mean": float(result.mean[kind][a, b]),
                        "low": low,
                        "high": high,
                    }
                )
        pairs.append(entry)
    effects.sort(key=lambda e: (-abs(e["mean"]) / (e["high"] - e["low"] or 1.0), e["source"], e["target"]))
    return {
        "lag": lag,
        "coverage": INTERACTION_COVERAGE,
        "pairs_fitted": len(pairs),
        "pairs_possible": len(names) * (len(names) - 1),
        "converged": sum(entry["converged"] for entry in pairs),
        "credible_effects": effects,
        "pairs": pairs,
    }


def _float_or_none(value):
    return None if not np.isfinite(value) else float(value)


def _fit_target(names, values, features, focus, progress, random_state):
    from ..bayes import Lambda3DynamicRegressor

    columns, driver_names = [], []
    for j, name in enumerate(names):
        if j == focus:
            continue
        for k, suffix in enumerate(FEATURE_SUFFIXES):
            column = features[:, 4 * j + k]
            if np.ptp(column) > 0:  # a feature that never varies explains nothing
                columns.append(column)
                driver_names.append(f"{name}__{suffix}")
    if not columns:
        raise InputError("the other series have no varying features to explain the target with")
    X = np.column_stack(columns)
    try:  # named columns give each feature its kind's prior scale, and names in the figures
        import pandas as pd

        X = pd.DataFrame(X, columns=driver_names)
    except ImportError:
        pass
    regressor = Lambda3DynamicRegressor(
        seasonality="auto",
        change_points="auto",
        num_warmup=1000,
        num_samples=1000,
        num_chains=2,
        random_state=random_state,
        progress_bar="auto" if progress else False,
    )
    with warnings.catch_warnings():
        # Convergence is reported in the summary instead.
        warnings.simplefilter("ignore", ConvergenceWarning)
        regressor.fit(X, values[:, focus])
    return regressor, X, driver_names


def _regression_summary(regressor, X, y, driver_names):
    from ..bayes import convergence_problems

    low, high = np.quantile(regressor.coef_samples_, [0.05, 0.95], axis=0)
    effect = np.abs(regressor.coef_) * np.asarray(X).std(axis=0) / (y.std() or 1.0)
    order = np.argsort(-effect)
    drivers = [
        {
            "feature": driver_names[k],
            "coef": float(regressor.coef_[k]),
            "low": float(low[k]),
            "high": float(high[k]),
            "standardised_effect": float(effect[k]),
            "credible": bool(low[k] > 0 or high[k] < 0),
        }
        for k in order
    ]
    diagnostics = regressor.diagnostics_
    converged = not convergence_problems(diagnostics)
    return {
        "model": "dynamic",
        "drivers": drivers,
        "change_points": regressor.change_points_.tolist(),
        "seasonal_periods": [
            float(period) if isinstance(period, float) else int(period) for period in regressor.seasonality_
        ],
        "noise_sd": float(np.mean(next(iter(regressor.noise_samples_.values())))),
        "r_hat_max": float(diagnostics["r_hat_max"]),
        "ess_bulk_min": float(diagnostics["ess_bulk_min"]),
        "num_divergences": int(diagnostics["num_divergences"]),
        "converged": bool(converged),
        "level_step_sd": float(regressor.tau_samples_.mean()),
    }
