"""The report's PNG figures, drawn with :mod:`sklearn_lambda3.plot` (when matplotlib is installed)."""

import warnings

import numpy as np

from .._interaction_kinds import KINDS
from ._settings import LAG_WINDOW


def write_figures(
    out_dir,
    *,
    table,
    features,
    rates,
    summary,
    regimes,
    focus,
    interactions,
    regressor,
    drivers_X,
    random_state,
):
    """Write the PNGs into ``out_dir``; returns their file names (none without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    from .. import plot

    names, values = table.names, table.values
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
    time = _parsed_times(table.times)
    fig, axes = plt.subplots(p, 1, figsize=(10, 2.2 * p), sharex=True, squeeze=False, layout="constrained")
    for j, name in enumerate(names):
        points = summary["series"][name]["change_points"]
        plot.plot_change_points(values[:, j], points, ax=axes[j, 0], name=name, time=time)
        if j < p - 1:
            axes[j, 0].set_xlabel("")
    save(fig, "change_points.png")
    if p > 1:
        pos, neg = features[:, 0::4], features[:, 1::4]
        events = np.maximum(pos, neg)
        strongest = summary["sync_structure"]["strongest_pair"]
        if strongest is not None:
            a, b = names.index(strongest["source"]), names.index(strongest["target"])
            pair = [names[a], names[b]]
            fig, ax = plt.subplots(figsize=(7, 3.5))
            plot.plot_sync_profile(
                events[:, a], events[:, b], lag_window=min(LAG_WINDOW, len(values) - 1), ax=ax, labels=pair
            )
            save(fig, "sync_profile.png")
            window = min(20, len(values) // 2)
            fig, ax = plt.subplots(figsize=(10, 3.5))
            plot.plot_dynamic_sync(
                events[:, a],
                events[:, b],
                window=window,
                lag_window=min(LAG_WINDOW, window - 1),
                ax=ax,
                labels=pair,
            )
            save(fig, "dynamic_sync.png")
        fig, ax = plt.subplots(figsize=(9, 4))
        plot.plot_causality_by_lag(pos, neg, max_lag=min(10, len(values) - 2), labels=names, ax=ax)
        save(fig, "causality_by_lag.png")
    if interactions is not None:
        size = max(4.0, 0.9 * p + 2.5)
        # One above the other: side by side, three matrices shrink to unreadable cells in a page.
        fig, axes = plt.subplots(3, 1, figsize=(size + 1.5, 3 * size), layout="constrained")
        for ax, kind in zip(axes, KINDS, strict=True):
            plot.plot_interaction_matrix(interactions, kind=kind, ax=ax)
        save(fig, "interactions.png")
    fig, ax = plt.subplots(figsize=(10, 3))
    plot.plot_regimes(values[:, focus], regimes.labels, ax=ax)
    save(fig, "regimes.png")
    if regressor is not None:
        from .._compare import posterior_predictive_check

        fig, ax = plt.subplots(figsize=(10, 3.5))
        plot.plot_fit(regressor, drivers_X, values[:, focus], start=0, ax=ax)
        save(fig, "fit.png")
        save(plot.plot_components(regressor, drivers_X, start=0), "components.png")
        check = posterior_predictive_check(
            regressor, drivers_X, values[:, focus], n_samples=500, random_state=random_state
        )
        save(plot.plot_predictive_check(check), "predictive_check.png")
        save(plot.plot_posterior(regressor), "posterior.png")
    return written


def _parsed_times(times):
    """The time labels as numbers or datetimes when they all parse and increase, else None."""
    if times is None:
        return None
    try:
        parsed = np.array([float(label) for label in times])
    except ValueError:
        try:
            import pandas as pd

            with warnings.catch_warnings():
                # Labels in no single format are parsed one by one; that is fine for a plot axis.
                warnings.simplefilter("ignore", UserWarning)
                parsed = pd.to_datetime(pd.Series(times), utc=True, errors="raise")
        except (ImportError, ValueError, TypeError, OverflowError):
            return None
        return parsed if parsed.is_monotonic_increasing and not parsed.duplicated().any() else None
    return parsed if np.all(np.isfinite(parsed)) and np.all(np.diff(parsed) > 0) else None
