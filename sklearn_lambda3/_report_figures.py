"""The report's PNG figures, drawn with :mod:`sklearn_lambda3.plot` (when matplotlib is installed)."""

import numpy as np


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
    from . import plot

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
    fig, ax = plt.subplots(figsize=(10, 3))
    plot.plot_regimes(values[:, focus], regimes.labels, ax=ax)
    save(fig, "regimes.png")
    if regressor is not None:
        fig, ax = plt.subplots(figsize=(10, 3.5))
        plot.plot_fit(regressor, drivers_X, values[:, focus], start=0, ax=ax)
        save(fig, "fit.png")
        save(plot.plot_posterior(regressor), "posterior.png")
    return written
