"""The report's numbers as JSON-ready values: one function per section of ``summary.json``.

Each takes the results of an analysis stage (:mod:`._stages`, or a function of the analysis
layer) and returns plain lists, dicts, numbers and strings; the text (:mod:`._render`) is
written from them alone.
"""

import numpy as np

from .._interaction_kinds import KINDS
from .._sync import SYNC_SHARE_THRESHOLD, share_links, sync_clusters, sync_hubs
from ._settings import INTERACTION_COVERAGE, TOP_N


def table_summary(table, target, random_state, features, change_points):
    """The table's shape, time range and missing cells, and each series' jumps, tension and change points."""
    names, values = table.names, table.values
    pos, neg, rho = features[:, 0::4], features[:, 1::4], features[:, 2::4]
    summary = {
        "n_steps": int(values.shape[0]),
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
        points = change_points[j]
        summary["series"][name] = {
            "mean": float(values[:, j].mean()),
            "std": float(values[:, j].std()),
            "positive_jumps": int(pos[:, j].sum()),
            "negative_jumps": int(neg[:, j].sum()),
            "mean_tension": float(rho[:, j].mean()),
            "change_points": points,
            "change_point_times": [table.time_of(row) for row in points],
        }
    return summary


def sync_summary(names, rates, lags, shares):
    """The pairs whose jumps coincide (the ``TOP_N`` highest sync rates) and the network's structure.

    The structure: the share of the rarer series' jumps that links two series, the number
    of links, the clusters of series that jump together, the hubs (the series with the most
    links) and the strongest pair by sync rate.
    """
    ranked = [
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
    ranked.sort(key=lambda pair: (-pair["rate"], pair["source"], pair["target"]))
    structure = {
        "threshold": SYNC_SHARE_THRESHOLD,
        "links": int(share_links(shares).sum() // 2),
        "clusters": sync_clusters(shares, names),
        "hubs": [
            {"series": hub, "links": len(partners), "partners": partners}
            for hub, partners in sync_hubs(shares, names)
        ],
        "strongest_pair": ranked[0] if ranked else None,
    }
    return {"sync_pairs": ranked[:TOP_N], "sync_structure": structure}


def causality_summary(names, pos, causality):
    """The ``TOP_N`` pairs with the highest structural causality (lag 1)."""
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
    return pairs[:TOP_N]


def regime_summary(name, regimes, table):
    """The regimes of the focus series: their shares, levels, runs and transitions."""
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
        "expected_duration": None if expected is None else [float_or_none(d) for d in expected],
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


def interaction_summary(names, result, pair_lags, lag):
    """Every analysed pair's effects and diagnostics, and the credible effects of the converged pairs."""
    pairs = []
    effects = []
    for (a, b), k in pair_lags.items():
        entry = {
            "source": names[a],
            "target": names[b],
            "lag": k,
            "converged": bool(result.converged[a, b]),
            "r_hat_max": float_or_none(result.r_hat_max[a, b]),
            "ess_bulk_min": float_or_none(result.ess_bulk_min[a, b]),
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


def regression_summary(regressor, X, driver_names, table, focus):
    """The dynamic model of the target: its drivers by standardised effect, change points, season, noise."""
    from ..bayes import convergence_problems

    y = table.values[:, focus]
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
        "change_point_times": [table.time_of(row) for row in regressor.change_points_.tolist()],
    }


def float_or_none(value):
    return None if not np.isfinite(value) else float(value)
