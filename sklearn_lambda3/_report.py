"""The main job end to end: read series, analyse them, write a report, a summary and figures.

Used by the command line (``sklearn-lambda3 analyze`` and ``demo``). Data flow: a table of
series (NumPy, names) → Lambda³ features → synchronisation, causality, change points and
regimes → optionally the dynamic regressor on a target → ``report.md``, ``summary.json``
and PNG figures (when matplotlib is installed).
"""

import csv
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from ._changepoints import detect_change_points
from ._columns import FEATURE_SUFFIXES
from ._features import Lambda3Features
from ._regimes import detect_regimes
from ._sync import causality_matrix, sync_matrix

MIN_ROWS = 20
LAG_WINDOW = 10
N_REGIMES = 3
TOP_PAIRS = 5
# A pair is "in sync" when this fraction of the rarer series' jumps coincide (at the best lag).
SYNC_SHARE_THRESHOLD = 0.3


class InputError(ValueError):
    """A problem with the user's file or arguments, reported in one line."""


def read_series_csv(path, *, time_column=None):
    """Read a CSV of series (a header row, one column per series, rows in time order).

    Returns ``(names, values, time_labels)``: the numeric column names, a float64 array
    (n_rows, n_series) and the time column's cells (or ``None``). The time column is
    ``time_column``, or else the first column when its first cell is not a number.
    Raises :class:`InputError` naming the problem (empty file, missing column,
    non-numeric or empty cell with its row and column, too few rows).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    if not rows:
        raise InputError(f"{path} is empty: expected a header row and one column per series")
    header = [name.strip() for name in rows[0]]
    body = rows[1:]
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise InputError(f"{path}, line {number}: {len(row)} cells but the header has {len(header)}")
    if time_column is not None and time_column not in header:
        raise InputError(
            f"--time-column {time_column!r} is not a column of {path} (columns: {', '.join(header)})"
        )
    if time_column is None and body and not _is_number(body[0][0]):
        time_column = header[0]
    names = [name for name in header if name != time_column]
    if not names:
        raise InputError(f"{path} has no series column besides the time column {time_column!r}")
    if len(body) < MIN_ROWS:
        raise InputError(f"{path} has {len(body)} data rows; the analysis needs at least {MIN_ROWS}")
    values = np.empty((len(body), len(names)))
    for j, name in enumerate(names):
        column = header.index(name)
        for i, row in enumerate(body):
            cell = row[column].strip()
            if not cell:
                raise InputError(f"{path}, line {i + 2}, column {name!r}: empty cell; fill or drop it first")
            if not _is_number(cell) or not math.isfinite(float(cell)):
                raise InputError(f"{path}, line {i + 2}, column {name!r}: {cell!r} is not a finite number")
            values[i, j] = float(cell)
    times = None if time_column is None else [row[header.index(time_column)] for row in body]
    return names, values, times


def _is_number(cell):
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _stage(message, progress):
    if progress:
        print(f"[sklearn-lambda3] {message}", file=sys.stderr, flush=True)


def analyze(names, values, *, target=None, out_dir=None, progress=True, random_state=0):
    """Analyse series and (with ``out_dir``) write ``report.md``, ``summary.json`` and figures.

    Parameters
    ----------
    names : list of str
        Series names, one per column of ``values``.
    values : ndarray of shape (n_steps, n_series)
        Series in columns, rows in time order.
    target : str or None, default=None
        A series to explain with the features of the others (dynamic Lambda³ regressor).
    out_dir : path or None, default=None
        Where to write the outputs; nothing is written when ``None``.
    progress : bool, default=True
        Report the stages on stderr (and NUTS's progress bar when stderr is a terminal).
    random_state : int, default=0
        Seed of the regressor and the regime clustering.

    Returns
    -------
    summary : dict
        Everything the report says, as JSON-ready values.
    """
    if target is not None and target not in names:
        raise InputError(f"--target {target!r} is not a series column (columns: {', '.join(names)})")
    started = time.perf_counter()
    n, p = values.shape
    _stage(f"features of {p} series x {n} steps", progress)
    features = Lambda3Features().fit_transform(values)
    pos, neg, rho = features[:, 0::4], features[:, 1::4], features[:, 2::4]
    summary = {"n_steps": int(n), "series": {}, "target": target}
    for j, name in enumerate(names):
        summary["series"][name] = {
            "mean": float(values[:, j].mean()),
            "std": float(values[:, j].std()),
            "positive_jumps": int(pos[:, j].sum()),
            "negative_jumps": int(neg[:, j].sum()),
            "mean_tension": float(rho[:, j].mean()),
            "change_points": detect_change_points(values[:, j]).tolist(),
        }

    _stage("synchronisation and structural causality", progress)
    events = np.maximum(pos, neg)
    rates, lags = sync_matrix(events, lag_window=min(LAG_WINDOW, n - 1))
    summary["sync_pairs"] = _sync_pairs(names, events, rates, lags)
    causality = causality_matrix(pos, neg, lag=1)
    summary["causality_pairs"] = _causality_pairs(names, pos, causality)

    focus = names.index(target) if target is not None else 0
    _stage(f"regimes of {names[focus]}", progress)
    regimes = detect_regimes(
        features[:, 4 * focus : 4 * focus + 4], N_REGIMES, random_state, values[:, focus]
    )
    summary["regimes"] = {
        "series": names[focus],
        "labels": regimes.labels.tolist(),
        "frequency": regimes.frequency.tolist(),
        "mean_tension": regimes.mean_tension.tolist(),
        "mean_level": regimes.mean_level.tolist(),
        "mean_duration": [float(d.mean()) if len(d) else 0.0 for d in regimes.durations],
        "transition_matrix": regimes.transition_matrix.tolist(),
    }

    regressor = drivers_X = None
    if target is not None:
        if p < 2:
            raise InputError("--target needs at least one other series column to explain it with")
        _stage(f"dynamic Bayesian regression of {target} on the features of the other series", progress)
        regressor, drivers_X, driver_names = _fit_target(
            names, values, features, focus, progress, random_state
        )
        summary["regression"] = _regression_summary(regressor, drivers_X, values[:, focus], driver_names)
    summary["seconds"] = round(time.perf_counter() - started, 2)

    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        _stage(f"writing {out_dir}", progress)
        summary["figures"] = _figures(
            out_dir, names, values, features, rates, regimes, focus, regressor, drivers_X
        )
        (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        (out_dir / "report.md").write_text(render_report(summary), encoding="utf-8")
    return summary


def _sync_pairs(names, events, rates, lags):
    """Ordered pairs by sync rate, with the share of the rarer series' jumps that coincide."""
    counts = events.sum(axis=0)
    n = events.shape[0]
    pairs = []
    for a in range(len(names)):
        for b in range(len(names)):
            if a == b or rates[a, b] == 0:
                continue
            rarer = min(counts[a], counts[b])
            lag = int(lags[a, b])
            share = float(rates[a, b] * (n - abs(lag)) / rarer) if rarer else 0.0
            pairs.append(
                {
                    "source": names[a],
                    "target": names[b],
                    "rate": float(rates[a, b]),
                    "lag": lag,
                    "share": min(share, 1.0),
                }
            )
    pairs.sort(key=lambda pair: (-pair["rate"], pair["source"], pair["target"]))
    return pairs[:TOP_PAIRS]


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


def _fit_target(names, values, features, focus, progress, random_state):
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from .bayes import Lambda3DynamicRegressor

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
    from .bayes import convergence_problems

    diagnostics = regressor.diagnostics_
    converged = not convergence_problems(diagnostics)
    return {
        "model": "dynamic",
        "drivers": drivers,
        "change_points": regressor.change_points_.tolist(),
        "noise_sd": float(np.mean(next(iter(regressor.noise_samples_.values())))),
        "r_hat_max": float(diagnostics["r_hat_max"]),
        "ess_bulk_min": float(diagnostics["ess_bulk_min"]),
        "num_divergences": int(diagnostics["num_divergences"]),
        "converged": bool(converged),
        "level_step_sd": float(regressor.tau_samples_.mean()),
    }


def _figures(out_dir, names, values, features, rates, regimes, focus, regressor, drivers_X):
    """Write the PNGs when matplotlib is there; returns their file names."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    from . import plot

    written = []

    def save(fig, name):
        fig.savefig(out_dir / name, dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append(name)

    p = len(names)
    fig, axes = plt.subplots(p, 1, figsize=(10, 2.4 * p), sharex=True, squeeze=False, layout="constrained")
    for j, name in enumerate(names):
        plot.plot_series(values[:, j], features[:, 4 * j : 4 * j + 4], ax=axes[j, 0], name=name)
        if j < p - 1:
            axes[j, 0].set_xlabel("")
    save(fig, "series.png")
    if p > 1:
        fig, ax = plt.subplots(figsize=(6, 5))
        plot.plot_sync_matrix(rates, labels=names, ax=ax)
        save(fig, "sync_matrix.png")
        fig, ax = plt.subplots(figsize=(6, 6))
        threshold = max(float(np.max(rates - np.eye(p))) * 0.5, 1e-12)
        plot.plot_sync_network(rates, labels=names, threshold=threshold, ax=ax)
        save(fig, "sync_network.png")
    fig, ax = plt.subplots(figsize=(10, 3))
    plot.plot_regimes(values[:, focus], regimes.labels, ax=ax)
    save(fig, "regimes.png")
    if regressor is not None:
        fig, ax = plt.subplots(figsize=(10, 3.5))
        plot.plot_fit(regressor, drivers_X, values[:, focus], start=0, ax=ax)
        save(fig, "fit.png")
        save(plot.plot_posterior(regressor), "posterior.png")
    return written


def _fmt(value):
    return f"{value:.3g}"


def render_report(summary):
    """``report.md``: the findings in plain words."""
    lines = ["# Lambda³ analysis", ""]
    series = summary["series"]
    lines.append(
        f"{len(series)} series, {summary['n_steps']} time steps; analysis took {summary['seconds']} s."
    )
    lines += ["", "## Jumps, tension and change points", ""]
    lines.append("| series | ΔΛC⁺ jumps | ΔΛC⁻ jumps | mean tension ρT | level change points |")
    lines.append("|---|---|---|---|---|")
    for name, info in series.items():
        points = info["change_points"]
        shown = ", ".join(map(str, points[:8])) + (" …" if len(points) > 8 else "") if points else "none"
        lines.append(
            f"| {name} | {info['positive_jumps']} | {info['negative_jumps']} | "
            f"{_fmt(info['mean_tension'])} | {shown} |"
        )
    lines += ["", "## Which series jump together", ""]
    if summary["sync_pairs"]:
        for pair in summary["sync_pairs"]:
            lag = pair["lag"]
            when = (
                "at the same step" if lag == 0 else f"{abs(lag)} step(s) {'later' if lag > 0 else 'earlier'}"
            )
            lines.append(
                f"- When **{pair['source']}** jumps, **{pair['target']}** jumps {when}: "
                f"{pair['share']:.0%} of the rarer series' jumps coincide "
                f"(sync rate {_fmt(pair['rate'])})."
            )
    else:
        lines.append("- No two series have jumps that coincide within the lag window.")
    lines += ["", "## Which series drives which (structural causality, lag 1)", ""]
    if summary["causality_pairs"]:
        for pair in summary["causality_pairs"]:
            lines.append(
                f"- After an upward jump of **{pair['source']}** ({pair['source_jumps']} of them), "
                f"**{pair['target']}** falls sharply at the next step "
                f"with probability {pair['probability']:.0%}."
            )
    else:
        lines.append("- No upward jump is followed by a downward jump of another series at the next step.")
    regimes = summary["regimes"]
    lines += ["", f"## Regimes of {regimes['series']}", ""]
    for k, share in enumerate(regimes["frequency"]):
        lines.append(
            f"- Regime {k}: {share:.0%} of the steps, mean tension {_fmt(regimes['mean_tension'][k])}, "
            f"mean level {_fmt(regimes['mean_level'][k])}, "
            f"runs of {regimes['mean_duration'][k]:.1f} steps on average."
        )
    if "regression" in summary:
        reg = summary["regression"]
        lines += ["", f"## What drives {summary['target']}", ""]
        lines.append(
            f"Dynamic Lambda³ model (a level that drifts as a random walk and steps at "
            f"{len(reg['change_points'])} change point(s), plus the features of the other series). "
            f"The level moves by about {_fmt(reg['level_step_sd'])} per step; the noise sd is "
            f"{_fmt(reg['noise_sd'])}."
        )
        lines.append("")
        credible = [d for d in reg["drivers"] if d["credible"]]
        if credible:
            for d in credible[:TOP_PAIRS]:
                direction = "raises" if d["coef"] > 0 else "lowers"
                lines.append(
                    f"- **{d['feature']}** {direction} {summary['target']} by {_fmt(abs(d['coef']))} "
                    f"(90% interval {_fmt(d['low'])} to {_fmt(d['high'])})."
                )
        else:
            lines.append("- No feature of the other series has a 90% interval that excludes zero.")
        verdict = "converged" if reg["converged"] else "did NOT converge: read the numbers with care"
        lines += [
            "",
            f"Sampling {verdict} (max R-hat {reg['r_hat_max']:.4f}, min bulk ESS {reg['ess_bulk_min']:.0f}, "
            f"{reg['num_divergences']} divergences).",
        ]
    figures = summary.get("figures")
    if figures:
        lines += ["", "## Figures", ""]
        lines += [f"![{name[:-4]}]({name})" for name in figures]
    elif figures is not None:
        lines += ["", 'Figures need matplotlib: `pip install "sklearn-lambda3[plot]"`.']
    return "\n".join(lines) + "\n"
