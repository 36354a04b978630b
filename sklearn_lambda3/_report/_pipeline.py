"""The main job end to end: analyse a table of series, write a report, a summary and figures.

Used by the command line (``sklearn-lambda3 analyze`` and ``demo``). :func:`analyze` runs the
stages in order and does nothing else: a table of series (:mod:`._table`) → Lambda³ features →
change points, synchronisation (pairs, clusters, hubs), structural causality, regimes, the
pairwise Bayesian interaction effects and optionally the dynamic regressor on a target
(:mod:`._stages` and the analysis layer) → ``summary.json``, every number
(:mod:`._summaries`) → ``report.md`` and ``report.html`` rendered from it (:mod:`._render`)
and PNG figures (:mod:`._figures`, when matplotlib is installed).
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

from .._changepoints import detect_change_points
from .._features import Lambda3Features
from .._sync import causality_matrix, sync_matrix, sync_shares
from ._render import render_html, render_report
from ._settings import LAG_WINDOW, MAX_PAIRS, N_REGIMES
from ._stages import find_regimes, fit_interactions, fit_target, strongest_pairs
from ._summaries import (
    causality_summary,
    interaction_summary,
    regime_summary,
    regression_summary,
    sync_summary,
    table_summary,
)
from ._table import InputError, SeriesTable


def _stage(message, progress):
    if progress:
        print(f"[sklearn-lambda3] {message}", file=sys.stderr, flush=True)


def analyze(
    table,
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
    table : SeriesTable
        The series, from :func:`~sklearn_lambda3._report.read_series_csv` or
        :meth:`SeriesTable.from_values`.
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
        raise TypeError(f"table must be a SeriesTable; got {type(table).__name__}.")
    names, values = table.names, table.values
    if target is not None and target not in names:
        raise InputError(f"--target {target!r} is not a series column (columns: {', '.join(names)})")
    pairs = _checked_pairs(pairs, names)
    started = time.perf_counter()
    n, p = values.shape
    _stage(f"features of {p} series x {n} steps", progress)
    features = Lambda3Features().fit_transform(values)
    pos, neg = features[:, 0::4], features[:, 1::4]
    change_points = [detect_change_points(values[:, j]).tolist() for j in range(p)]
    summary = table_summary(table, target, random_state, features, change_points)

    _stage("synchronisation and structural causality", progress)
    events = np.maximum(pos, neg)
    rates, lags = sync_matrix(events, lag_window=min(LAG_WINDOW, n - 1))
    shares = sync_shares(events, rates, lags)
    summary.update(sync_summary(names, rates, lags, shares))
    summary["causality_pairs"] = causality_summary(names, pos, causality_matrix(pos, neg, lag=1))

    focus = names.index(target) if target is not None else 0
    _stage(f"regimes of {names[focus]}", progress)
    found = find_regimes(features, values, focus, regimes, n_regimes, random_state)
    summary["regimes"] = regime_summary(names[focus], found, table)

    interactions = None
    if p >= 2 and (pairs is not None or max_pairs > 0):
        chosen = pairs if pairs is not None else strongest_pairs(rates, max_pairs)
        _stage(f"Bayesian interaction effects of {len(chosen)} ordered pair(s)", progress)
        interactions, pair_lags = fit_interactions(table, chosen, lags, shares, lag, random_state)
        summary["interactions"] = interaction_summary(names, interactions, pair_lags, lag)

    regressor = drivers_X = None
    if target is not None:
        if p < 2:
            raise InputError("--target needs at least one other series column to explain it with")
        _stage(f"dynamic Bayesian regression of {target} on the features of the other series", progress)
        regressor, drivers_X, driver_names = fit_target(table, features, focus, progress, random_state)
        summary["regression"] = regression_summary(regressor, drivers_X, driver_names, table, focus)
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
