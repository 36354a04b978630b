"""Plots of the Lambda³ features, analyses and Bayesian fits (matplotlib).

Series and their jumps, change points, regimes, synchronisation (matrix, network, profile over
lags, along time), structural causality by lag, interaction effects, posterior predictive fits,
posteriors and posterior predictive checks.

matplotlib is the optional extra ``[plot]`` (``pip install "sklearn-lambda3[plot]"``); it is
imported by the functions, so importing this module does not need it. Every function draws on
the ``ax`` (or ``fig``) it is given, or on a new figure, and returns that Axes (or Figure).
"""

import datetime
import math
from numbers import Integral, Real

import numpy as np

from .._validation import check_coverage, check_int, check_series, reject_sparse_and_complex

_INSTALL_HINT = 'pip install "sklearn-lambda3[plot]"'
_POS_COLOR = "tab:green"
_NEG_COLOR = "tab:red"
_MAX_POSTERIOR_ROWS = 6
_MAX_CAUSALITY_LINES = 10


# ----------------------------------------------------------------------------------------------
# Helpers


def _pyplot():
    """``matplotlib.pyplot``, or an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(f"sklearn_lambda3.plot needs matplotlib: {_INSTALL_HINT}") from exc
    return plt


def _axes(ax, **subplots_kwargs):
    """The given Axes (checked), or the Axes of a new figure."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(layout="constrained", **subplots_kwargs)
        return ax
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None; got {type(ax).__name__}.")
    return ax


def _square_matrix(matrix, name):
    """``(values, labels or None)`` of a finite square 2-D array or DataFrame."""
    labels = None
    if hasattr(matrix, "columns") and hasattr(matrix, "to_numpy"):
        labels = [str(c) for c in matrix.columns]
        matrix = matrix.to_numpy()
    try:
        values = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a square 2-D array-like of real numbers: {exc}") from exc
    if values.ndim != 2 or values.shape[0] != values.shape[1] or values.shape[0] < 1:
        hint = " (pass the rates, the first output of sync_matrix)" if values.ndim == 3 else ""
        raise ValueError(f"{name} must be a square 2-D matrix{hint}; got an array of shape {values.shape}.")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return values, labels


def _labels(labels, default, size):
    """Tick labels: the user's (checked), else ``default``, else ``0 … size - 1``."""
    if labels is None:
        return list(default) if default is not None else [str(k) for k in range(size)]
    if isinstance(labels, str) or not hasattr(labels, "__len__"):
        raise TypeError(f"labels must be a sequence of names; got {type(labels).__name__}.")
    if len(labels) != size:
        raise ValueError(f"labels must have {size} names, one per series; got {len(labels)}.")
    return [str(label) for label in labels]


def _fitted_regressor(regressor):
    """The fitted Lambda3BayesRegressor (the last step of a pipeline) and the pipeline's head."""
    from sklearn.utils.validation import check_is_fitted

    from ..bayes import BaseBayesRegressor

    head = None
    if hasattr(regressor, "steps") and len(regressor.steps) > 0:
        head, regressor = (regressor[:-1] if len(regressor.steps) > 1 else None), regressor[-1]
    if not isinstance(regressor, BaseBayesRegressor):
        raise TypeError(
            "regressor must be a fitted Lambda3BayesRegressor, Lambda3DynamicRegressor or "
            f"Lambda3HierarchicalRegressor (or a pipeline ending in one); got {type(regressor).__name__}."
        )
    check_is_fitted(regressor)
    return regressor, head


def _posterior_columns(regressor):
    """Draws (n_draws, n_columns) and names of the parameters ``plot_posterior`` shows.

    The coefficients (named by their regressors); for a hierarchical fit of several series the
    population mean of each coefficient (``population_coef_samples_``); for a model without
    regressors its scalar parameters (the dynamic level's τ and the noise).
    """
    labels, flat = regressor._scalar_draws()
    prefix = "population_coef[" if regressor._output_shape() else "coef["
    columns = [i for i, label in enumerate(labels) if label.startswith(prefix)]
    if not columns:
        return np.asarray(flat, dtype=np.float64), list(labels)
    names = [labels[i][len(prefix) : -1] for i in columns]
    if prefix != "coef[":
        names = [f"population_coef[{name}]" for name in names]
    return np.asarray(flat[:, columns], dtype=np.float64), names


# ----------------------------------------------------------------------------------------------
# Public functions


def plot_series(x, features=None, *, ax=None, name=None):
    """A series with its ΔΛC⁺ / ΔΛC⁻ jumps and its tension band ``x ± ρT``.

    Parameters
    ----------
    x : array-like of shape (n_steps,) or (n_steps, 1)
        One series, rows in time order; a pandas Series' name is used when ``name`` is None.
    features : array-like or DataFrame of shape (n_steps, 4), optional
        The output of :class:`~sklearn_lambda3.Lambda3Features` for ``x`` (ΔΛC⁺, ΔΛC⁻,
        ρT, local jump). Computed with the default parameters, fitted on ``x``, when None.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    name : str, optional
        Name of the series, for the y-axis label and the title.

    Returns
    -------
    ax : matplotlib Axes
        One line for the series, one ``^`` marker line at the ΔΛC⁺ steps, one ``v`` marker
        line at the ΔΛC⁻ steps, and the tension band (a ``fill_between`` collection).

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    TypeError
        If ``x`` or ``features`` is not numeric, or ``ax`` is not an Axes.
    ValueError
        If ``x`` is not one finite series of at least two steps, or ``features`` does not
        have shape ``(n_steps, 4)``, has non-finite values or non-binary jump columns.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sklearn_lambda3.plot import plot_series
    >>> x = np.r_[np.zeros(50), np.full(50, 3.0), np.zeros(50)] + np.sin(np.arange(150) / 4)
    >>> ax = plot_series(x, name="demo")
    >>> [len(line.get_xdata()) for line in ax.lines]  # series, ΔΛC⁺ steps, ΔΛC⁻ steps
    [150, 3, 2]
    >>> plt.close(ax.figure)
    """
    if name is None and isinstance(getattr(x, "name", None), str):
        name = x.name
    values = check_series(x)
    n = values.shape[0]
    if features is None:
        from .._features import Lambda3Features

        features = Lambda3Features().fit_transform(values[:, None])
    features = getattr(features, "to_numpy", lambda: features)()
    try:
        features = np.asarray(features, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"features must be a 2-D array-like of real numbers: {exc}") from exc
    if features.shape != (n, 4):
        raise ValueError(
            f"features must be the 4 Lambda3Features columns of x, shape ({n}, 4); "
            f"got an array of shape {features.shape}."
        )
    if not np.all(np.isfinite(features)):
        raise ValueError("features contains NaN or infinite values.")
    if not np.all((features[:, :2] == 0) | (features[:, :2] == 1)):
        raise ValueError("the jump columns ΔΛC⁺ and ΔΛC⁻ (the first two) must be binary (0/1).")
    ax = _axes(ax, figsize=(10, 4))
    t = np.arange(n)
    rho = features[:, 2]
    pos = np.flatnonzero(features[:, 0])
    neg = np.flatnonzero(features[:, 1])
    label = name if name is not None else "series"
    ax.fill_between(t, values - rho, values + rho, color="tab:blue", alpha=0.2, lw=0, label="x ± ρT")
    ax.plot(t, values, color="tab:blue", lw=1.0, label=label)
    ax.plot(
        t[pos], values[pos], "^", color=_POS_COLOR, ms=8, mec="black", mew=0.5, label=f"ΔΛC⁺ ({len(pos)})"
    )
    ax.plot(
        t[neg], values[neg], "v", color=_NEG_COLOR, ms=8, mec="black", mew=0.5, label=f"ΔΛC⁻ ({len(neg)})"
    )
    ax.set_xlabel("time step")
    ax.set_ylabel(label)
    ax.set_title(f"{label}: jumps and tension" if name is not None else "Jumps and tension")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_fit(regressor, X, y, *, coverage=0.9, series=0, start=None, ax=None):
    """Observed target, posterior predictive mean and interval of a fitted regressor.

    For a :class:`~sklearn_lambda3.Lambda3DynamicRegressor` the rows are placed in time by the
    regressor's own rule (``start``, else a pandas index, else NumPy rows at steps 0, 1, …:
    see its time contract), the x axis shows those time steps, and where rows are training
    steps the posterior mean of the level path (``level_mean_``) and a vertical line at each
    change point (``change_points_``) are drawn too. For a
    :class:`~sklearn_lambda3.Lambda3HierarchicalRegressor` of several series, ``series``
    picks the one drawn.

    Parameters
    ----------
    regressor : Lambda3BayesRegressor, Lambda3DynamicRegressor, Lambda3HierarchicalRegressor or Pipeline
        A fitted regressor, or a fitted pipeline ending in one (``X`` then goes through the
        pipeline's other steps).
    X : array-like of shape (n_samples, n_features)
        Regressors, rows in time order.
    y : array-like of shape (n_samples,) or (n_samples, n_series)
        Observed target; NaN entries (steps not observed) are not drawn. 2-D only for a
        hierarchical fit, of which column ``series`` is drawn.
    coverage : float, default=0.9
        Probability mass of the interval band, in (0, 1) (see ``predict_interval``).
    series : int, default=0
        Hierarchical fits of several series: the series drawn.
    start : int or None, default=None
        Dynamic fits: the time step of the first row (see ``Lambda3DynamicRegressor.predict``).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
        Lines for the observed ``y`` and the predictive mean (and the level mean), the
        interval band (a ``fill_between`` collection), and the change-point lines.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    TypeError
        If ``regressor`` is not one of the package's Bayesian regressors (or a pipeline ending in one).
    NotFittedError
        If ``regressor`` is not fitted.
    ValueError
        If ``y`` does not have one value per row of ``X``, ``series`` is out of range,
        ``start`` is given for a model without a time axis, or ``coverage`` is not in (0, 1).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sklearn_lambda3 import Lambda3BayesRegressor
    >>> from sklearn_lambda3.plot import plot_fit
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 2))
    >>> y = X @ [1.0, -0.5] + rng.normal(scale=0.3, size=100)
    >>> reg = Lambda3BayesRegressor(num_warmup=100, num_samples=100, num_chains=2,
    ...                             progress_bar=False, random_state=0).fit(X, y)
    >>> ax = plot_fit(reg, X, y, coverage=0.9)
    >>> [line.get_label() for line in ax.lines]
    ['predictive mean', 'observed y']
    >>> plt.close(ax.figure)
    """
    from ..bayes import Lambda3DynamicRegressor

    regressor, head = _fitted_regressor(regressor)
    check_coverage(coverage)
    dynamic = isinstance(regressor, Lambda3DynamicRegressor)
    if start is not None and not dynamic:
        raise ValueError(
            "start places rows in time, which only Lambda3DynamicRegressor does; "
            f"got {type(regressor).__name__}."
        )
    Xt = head.transform(X) if head is not None else X
    n_rows = getattr(Xt, "shape", (len(Xt),))[0]
    y = np.asarray(getattr(y, "to_numpy", lambda: y)(), dtype=np.float64)
    several = bool(regressor._output_shape())
    if several:
        n_series = regressor._output_shape()[0]
        if isinstance(series, bool) or not isinstance(series, Integral) or not 0 <= series < n_series:
            raise ValueError(f"series must be an integer in [0, {n_series - 1}]; got {series!r}.")
        if y.ndim != 2 or y.shape[1] != n_series:
            raise ValueError(
                f"y must be (n_samples, {n_series}), one column per series; got shape {y.shape}."
            )
        y = y[:, series]
    elif y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (one series); got an array of shape {y.shape}.")
    if y.shape[0] != n_rows:
        raise ValueError(f"y must have one value per row of X ({n_rows}); got {y.shape[0]}.")
    if np.isinf(y).any():
        raise ValueError("y holds infinite values; mark steps that are not observed with NaN.")
    if dynamic:
        t = regressor.time_steps(Xt, start=start)
        interval = regressor.predict_interval(Xt, coverage=coverage, start=start)
        mean = regressor.predict(Xt, start=start)
    else:
        t = np.arange(n_rows)
        mean = regressor.predict(Xt)
        interval = regressor.predict_interval(Xt, coverage=coverage)
    if several:
        mean, interval = mean[:, series], interval[:, series]
    ax = _axes(ax, figsize=(10, 4))
    ax.fill_between(
        t,
        interval[:, 0],
        interval[:, 1],
        color="tab:orange",
        alpha=0.3,
        lw=0,
        label=f"{coverage:.0%} predictive interval",
    )
    ax.plot(t, mean, color="tab:orange", lw=1.5, label="predictive mean")
    ax.plot(t, y, ls="none", marker=".", ms=4, color="0.2", label="observed y")
    title = "Posterior predictive fit"
    if several:
        title += f" (series {series})"
    if dynamic:
        title += " (dynamic model)"
        inside = t < regressor.n_train_
        if inside.any():
            ax.plot(
                t[inside],
                regressor.level_mean_[t[inside]],
                color="tab:purple",
                lw=1.2,
                ls="--",
                label="level mean",
            )
            shown = [p for p in regressor.change_points_ if t[inside].min() <= p <= t[inside].max()]
            for k, point in enumerate(shown):
                ax.axvline(
                    point,
                    color="tab:red",
                    lw=0.9,
                    ls=":",
                    alpha=0.7,
                    label="change point" if k == 0 else None,
                )
        if (~inside).any():
            ax.axvline(regressor.n_train_ - 0.5, color="0.4", lw=0.8, label="end of training")
    ax.set_xlabel("time step" if dynamic else "row")
    ax.set_ylabel("y")
    ax.set_title(title)
    ax.legend(loc="best", fontsize="small", framealpha=0.9)
    return ax


_COMPONENT_TITLES = {
    "level": "level",
    "trend": "trend",
    "season": "season",
    "regressors": "regressors",
    "change_points": "change points",
}


def plot_components(regressor, X=None, *, start=None, coverage=0.9, fig=None):
    """One panel per structural component of a fitted dynamic regressor, as statsmodels'
    ``plot_components`` draws an unobserved-components fit.

    Each panel shows a component's posterior mean and central interval
    (:meth:`~sklearn_lambda3.Lambda3DynamicRegressor.components`) against the time step; the
    panels share the x axis and are titled with the keys of ``components`` (level, trend,
    season, regressors, change_points: those the model has).

    Parameters
    ----------
    regressor : Lambda3DynamicRegressor or Pipeline
        A fitted dynamic regressor, or a fitted pipeline ending in one (``X`` then goes
        through the pipeline's other steps).
    X : array-like of shape (n_samples, n_features) or None, default=None
        Rows to decompose, placed in time as by ``predict``; None: the training rows.
    start : int or None, default=None
        Time step of the first row of ``X``.
    coverage : float, default=0.9
        Probability mass of the bands, in (0, 1).
    fig : matplotlib Figure, optional
        Where to draw; a new figure when None.

    Returns
    -------
    fig : matplotlib Figure
        One Axes per component, titled with its key.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    TypeError
        If ``regressor`` is not a Lambda3DynamicRegressor (or a pipeline ending in one).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sklearn_lambda3 import Lambda3DynamicRegressor
    >>> from sklearn_lambda3.plot import plot_components
    >>> t = np.arange(120)
    >>> y = np.sin(2 * np.pi * t / 12) + np.random.default_rng(0).normal(scale=0.2, size=120)
    >>> reg = Lambda3DynamicRegressor(seasonality=12, num_warmup=100, num_samples=100,
    ...                               num_chains=2, progress_bar=False, random_state=0).fit(None, y)
    >>> fig = plot_components(reg)
    >>> [ax.get_title() for ax in fig.axes]
    ['level', 'season']
    >>> plt.close(fig)
    """
    from ..bayes import Lambda3DynamicRegressor

    regressor, head = _fitted_regressor(regressor)
    if not isinstance(regressor, Lambda3DynamicRegressor):
        raise TypeError(
            f"plot_components draws a Lambda3DynamicRegressor's components; got {type(regressor).__name__}."
        )
    check_coverage(coverage)
    if X is None:
        parts = regressor.components(coverage=coverage)
        t = np.arange(regressor.n_train_)
    else:
        Xt = head.transform(X) if head is not None else X
        parts = regressor.components(Xt, start=start, coverage=coverage)
        t = regressor.time_steps(Xt, start=start)
    plt = _pyplot()
    if fig is None:
        fig = plt.figure(figsize=(10, 1.8 * len(parts) + 0.6), layout="constrained")
    axes = fig.subplots(len(parts), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (name, values) in zip(axes, parts.items(), strict=True):
        ax.fill_between(t, values[:, 1], values[:, 2], color="tab:blue", alpha=0.25, lw=0)
        ax.plot(t, values[:, 0], color="tab:blue", lw=1.3)
        ax.set_title(name, fontsize="medium")
        ax.set_ylabel(_COMPONENT_TITLES[name])
        if t.max() >= regressor.n_train_ > t.min():
            ax.axvline(regressor.n_train_ - 0.5, color="0.4", lw=0.8)
    axes[-1].set_xlabel("time step")
    fig.suptitle(f"Components of the dynamic model ({coverage:.0%} intervals)")
    return fig


def plot_sync_matrix(rates, *, labels=None, ax=None):
    """Heatmap of a synchronisation-rate matrix, with a colorbar.

    Row ``i`` is the source and column ``j`` the target, as in
    :func:`~sklearn_lambda3.analysis.sync_matrix`; with at most 12 series the rate is
    written in each cell. When the diagonal is all 1 (a sync matrix, by definition) it is
    greyed out and the colours span the rates of the pairs, from 0 to their maximum.

    Parameters
    ----------
    rates : array-like or DataFrame of shape (n_series, n_series)
        Sync rates (the first output of ``sync_matrix``), or any matrix of rates in [0, 1]
        such as ``causality_matrix``; other finite values are shown on their own range.
    labels : sequence of str, optional
        Names of the series; a DataFrame's columns when None, else ``0 … n_series - 1``.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
        One image, with a colorbar on the same figure.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    TypeError
        If ``rates`` is not numeric, ``labels`` is not a sequence or ``ax`` not an Axes.
    ValueError
        If ``rates`` is not a finite square matrix or ``labels`` has the wrong length.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sklearn_lambda3.plot import plot_sync_matrix
    >>> rates = np.array([[1.0, 0.4, 0.1], [0.4, 1.0, 0.2], [0.1, 0.2, 1.0]])
    >>> ax = plot_sync_matrix(rates, labels=["a", "b", "c"])
    >>> [tick.get_text() for tick in ax.get_xticklabels()]
    ['a', 'b', 'c']
    >>> ax.images[0].colorbar is not None
    True
    >>> plt.close(ax.figure)
    """
    values, frame_labels = _square_matrix(rates, "rates")
    p = values.shape[0]
    names = _labels(labels, frame_labels, p)
    plt = _pyplot()
    ax = _axes(ax, figsize=(max(4.5, 0.5 * p + 3), max(3.5, 0.5 * p + 2)))
    # A sync matrix's diagonal is 1 by definition: grey it out and scale the colours on the pairs.
    off = ~np.eye(p, dtype=bool)
    sync_diagonal = p > 1 and np.all(np.diag(values) == 1)
    shown = values[off] if sync_diagonal else values.ravel()
    if shown.min() >= 0 and shown.max() <= 1:
        vmin, vmax = 0.0, max(float(shown.max()), 1e-9)
    else:
        vmin, vmax = float(shown.min()), float(shown.max())
    colormap = plt.get_cmap("viridis").with_extremes(bad="0.85")
    image = ax.imshow(
        np.ma.masked_array(values, mask=~off & sync_diagonal),
        cmap=colormap,
        vmin=vmin,
        vmax=vmax if vmax > vmin else vmin + 1e-9,
        interpolation="nearest",
    )
    ax.figure.colorbar(image, ax=ax, label="sync rate")
    rotate = p > 3 and max(len(name) for name in names) > 2
    ax.set_xticks(
        np.arange(p), labels=names, rotation=45 if rotate else 0, ha="right" if rotate else "center"
    )
    ax.set_yticks(np.arange(p), labels=names)
    if p <= 12:
        for i in range(p):
            for j in range(p):
                if i == j and sync_diagonal:
                    color = "black"
                else:
                    color = "black" if image.norm(values[i, j]) > 0.5 else "white"
                ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", color=color, fontsize="small")
    ax.set_xlabel("target")
    ax.set_ylabel("source")
    ax.set_title("Synchronisation rate")
    return ax


def _edges_from_input(edges_or_rates, labels, threshold):
    """``(node names, [(source index, target index, rate, lag or None), ...])``."""
    is_pair = (
        isinstance(edges_or_rates, tuple)
        and len(edges_or_rates) == 2
        and all(np.ndim(part) == 2 for part in edges_or_rates)
    )
    if is_pair or (not _looks_like_edges(edges_or_rates) and _ndim(edges_or_rates) == 2):
        if isinstance(threshold, bool) or not isinstance(threshold, Real) or not math.isfinite(threshold):
            raise TypeError(f"threshold must be a finite real number; got {threshold!r}.")
        rates, lags = edges_or_rates if is_pair else (edges_or_rates, None)
        values, frame_labels = _square_matrix(rates, "rates")
        if lags is not None:
            lags, _ = _square_matrix(lags, "lags")
            if lags.shape != values.shape:
                raise ValueError(f"lags must have the shape of rates {values.shape}; got {lags.shape}.")
        names = _labels(labels, frame_labels, values.shape[0])
        edges = [
            (i, j, float(values[i, j]), None if lags is None else int(lags[i, j]))
            for i in range(len(names))
            for j in range(len(names))
            if i != j and values[i, j] >= threshold
        ]
        return names, edges
    if isinstance(edges_or_rates, str) or not hasattr(edges_or_rates, "__iter__"):
        raise TypeError(
            "edges_or_rates must be a list of (source, target, rate, lag) edges or a square rates matrix; "
            f"got {type(edges_or_rates).__name__}."
        )
    raw = list(edges_or_rates)
    for edge in raw:
        if isinstance(edge, str) or not hasattr(edge, "__len__") or len(edge) not in (3, 4):
            raise ValueError(f"each edge must be a (source, target, rate, lag) tuple; got {edge!r}.")
        if isinstance(edge[2], bool) or not isinstance(edge[2], Real) or not math.isfinite(edge[2]):
            raise TypeError(f"the rate of each edge must be a finite real number; got {edge!r}.")
        if edge[0] == edge[1]:
            raise ValueError(f"an edge must join two different series; got {edge!r}.")
    if labels is None:
        nodes = list(dict.fromkeys(node for edge in raw for node in edge[:2]))
    else:
        if isinstance(labels, str) or not hasattr(labels, "__iter__"):
            raise TypeError(f"labels must be a sequence of node names; got {type(labels).__name__}.")
        nodes = list(labels)
        missing = {node for edge in raw for node in edge[:2]} - set(nodes)
        if missing:
            raise ValueError(
                f"labels must hold every node of the edges; missing {sorted(map(str, missing))}."
            )
    index = {node: k for k, node in enumerate(nodes)}
    edges = [
        (index[e[0]], index[e[1]], float(e[2]), None if len(e) < 4 or e[3] is None else int(e[3]))
        for e in raw
    ]
    return [str(node) for node in nodes], edges


def _looks_like_edges(value):
    """Whether ``value`` is a non-empty list of tuples (an edge list also has ``ndim`` 2)."""
    return isinstance(value, list | tuple) and len(value) > 0 and all(isinstance(e, tuple) for e in value)


def _ndim(value):
    try:
        return np.ndim(value)
    except ValueError:  # ragged nesting
        return -1


def plot_sync_network(edges_or_rates, *, labels=None, threshold=0.3, ax=None):
    """Directed synchronisation network: series on a circle, an arrow per edge.

    The arrow ``a → b`` is wider and darker the higher its rate (the widest is the highest
    rate of the plot) and is labelled with the optimal lag
    (``τ=+2``: ``b`` follows ``a`` by two steps). The two directions of a pair are drawn as
    arcs bending to opposite sides. networkx is not needed.

    Parameters
    ----------
    edges_or_rates : list of tuple, array-like or DataFrame, or tuple (rates, lags)
        The edges ``(source, target, rate, lag)`` of
        :func:`~sklearn_lambda3.analysis.sync_network` (drawn as given); or a square matrix of
        sync rates, whose pairs ``i ≠ j`` with rate ``≥ threshold`` become edges ``i → j``
        without lag labels; or the ``(rates, lags)`` pair returned by ``sync_matrix``.
    labels : sequence, optional
        Node names. For an edge list, the nodes to draw, in circle order (it may add nodes
        without edges; default: the nodes of the edges in order of appearance). For a matrix,
        one name per series (default: the DataFrame's columns, else ``0 … n_series - 1``).
    threshold : float, default=0.3
        Smallest rate that makes an edge of a rates matrix; not applied to an edge list.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
        One ``FancyArrowPatch`` per edge (``ax.patches``), the nodes (a scatter collection),
        and the node names and lag labels as texts.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    TypeError
        If the input is neither an edge list nor a numeric matrix, a rate or ``threshold``
        is not a real number, or ``ax`` is not an Axes.
    ValueError
        If an edge is malformed or a loop, ``labels`` misses a node of the edges or has the
        wrong length, or the matrix is not finite and square.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from sklearn_lambda3.plot import plot_sync_network
    >>> edges = [("a", "b", 0.6, 2), ("b", "a", 0.6, -2), ("a", "c", 0.35, 0)]
    >>> ax = plot_sync_network(edges)
    >>> len(ax.patches)  # one arrow per edge
    3
    >>> sorted(text.get_text() for text in ax.texts if text.get_text().startswith("τ"))
    ['τ=+0', 'τ=+2', 'τ=-2']
    >>> plt.close(ax.figure)
    """
    names, edges = _edges_from_input(edges_or_rates, labels, threshold)
    plt = _pyplot()
    from matplotlib.patches import FancyArrowPatch

    ax = _axes(ax, figsize=(6, 6))
    p = len(names)
    angles = np.pi / 2 - 2 * np.pi * np.arange(max(p, 1)) / max(p, 1)
    xy = np.column_stack([np.cos(angles), np.sin(angles)])[:p]
    ax.set_aspect("equal")
    ax.set_xlim(-1.35, 1.35)
    ax.set_ylim(-1.3, 1.3)
    ax.set_axis_off()
    rad = 0.2
    colormap = plt.get_cmap("viridis")
    top = max((rate for _, _, rate, _ in edges), default=1.0)
    for source, target, rate, lag in edges:
        start, end = xy[source], xy[target]
        strength = min(max(rate / top, 0.0), 1.0) if top > 0 else 1.0
        arrow = FancyArrowPatch(
            start, end, arrowstyle="-|>", mutation_scale=10 + 8 * strength,
            connectionstyle=f"arc3,rad={rad}", lw=0.6 + 4 * strength, color=colormap(0.8 * (1 - strength)),
            shrinkA=14, shrinkB=14, alpha=0.85, zorder=1,
        )  # fmt: skip
        ax.add_patch(arrow)
        if lag is not None:
            dx, dy = end - start
            mid = (start + end) / 2 + 0.5 * rad * np.array([dy, -dx])
            ax.text(
                *mid, f"τ={lag:+d}", ha="center", va="center", fontsize="small", zorder=3,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "0.7", "alpha": 0.9},
            )  # fmt: skip
    if p:
        ax.scatter(xy[:, 0], xy[:, 1], s=250, color="tab:blue", edgecolors="black", zorder=2)
        for k, name in enumerate(names):
            ax.text(*(1.17 * xy[k]), name, ha="center", va="center", zorder=4)
    if not edges:
        ax.text(0, 0, "no edge", ha="center", va="center", color="0.5")
    ax.set_title(f"Synchronisation network ({len(edges)} edges)")
    return ax


def plot_regimes(x, labels, *, ax=None):
    """A series over background bands coloured by its regime at each step.

    Parameters
    ----------
    x : array-like of shape (n_steps,) or (n_steps, 1)
        One series, rows in time order.
    labels : array-like of int of shape (n_steps,) or RegimeResult
        Regime of each step (non-negative integers), e.g. the ``labels`` of
        :func:`~sklearn_lambda3.analysis.detect_regimes`, or its result itself.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
        One line for the series and, per regime present, one collection of bands (one band
        per run of consecutive steps), named ``regime k (share %)`` in the legend.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    TypeError
        If ``x`` is not numeric, ``labels`` not integers or ``ax`` not an Axes.
    ValueError
        If ``x`` is not one finite series, or ``labels`` does not have one non-negative
        label per step.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sklearn_lambda3.plot import plot_regimes
    >>> x = np.arange(10.0)
    >>> labels = [0, 0, 0, 1, 1, 0, 0, 2, 2, 2]
    >>> ax = plot_regimes(x, labels)
    >>> [len(c.get_paths()) for c in ax.collections]  # runs per regime
    [2, 1, 1]
    >>> plt.close(ax.figure)
    """
    values = check_series(x)
    n = values.shape[0]
    labels = getattr(labels, "labels", labels)
    labels = np.asarray(labels)
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        if (
            np.issubdtype(labels.dtype, np.floating)
            and np.all(np.isfinite(labels))
            and np.all(labels % 1 == 0)
        ):
            labels = labels.astype(np.int64)
        else:
            raise TypeError(f"labels must be integer regime labels; got dtype {labels.dtype}.")
    if labels.shape != (n,):
        raise ValueError(f"labels must have one regime per step, shape ({n},); got {labels.shape}.")
    if np.any(labels < 0):
        raise ValueError("labels must be non-negative regime numbers.")
    from matplotlib.collections import PolyCollection

    plt = _pyplot()
    ax = _axes(ax, figsize=(10, 4))
    edges = np.flatnonzero(np.diff(labels)) + 1
    starts = np.r_[0, edges]
    stops = np.r_[edges, n]
    run_labels = labels[starts]
    regimes = np.unique(labels)
    colors = plt.get_cmap("tab10" if regimes.max() < 10 else "tab20")
    transform = ax.get_xaxis_transform()
    for regime in regimes:
        runs = run_labels == regime
        boxes = [
            [(a - 0.5, 0), (b - 0.5, 0), (b - 0.5, 1), (a - 0.5, 1)]
            for a, b in zip(starts[runs], stops[runs], strict=True)
        ]
        share = np.mean(labels == regime)
        collection = PolyCollection(
            boxes,
            transform=transform,
            facecolors=colors(int(regime) % colors.N),
            alpha=0.3,
            edgecolors="none",
            label=f"regime {regime} ({share:.0%})",
        )
        ax.add_collection(collection, autolim=False)
    ax.plot(np.arange(n), values, color="black", lw=0.8, label="series")
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_xlabel("time step")
    ax.set_ylabel("value")
    ax.set_title(f"Regimes ({len(regimes)})")
    ax.legend(loc="best", fontsize="small")
    return ax


def _kde(samples, grid):
    """Gaussian kernel density of ``samples`` on ``grid`` (Scott's bandwidth)."""
    sd = samples.std()
    bandwidth = 1.06 * sd * samples.shape[0] ** (-1 / 5) if sd > 0 else 1e-3
    z = (grid[:, None] - samples[None, :]) / bandwidth
    return np.exp(-0.5 * z**2).sum(axis=1) / (samples.shape[0] * bandwidth * np.sqrt(2 * np.pi))


def plot_posterior(regressor, *, names=None, fig=None):
    """Posterior density and per-chain trace of the main coefficients of a fitted regressor.

    One row per coefficient: on the left a histogram of all draws with a Gaussian kernel
    density, the posterior mean and the central 90 % interval; on the right the draws of each
    chain in sampling order (``coef_samples_`` is chain after chain). Mixed, overlapping
    traces are what convergence looks like.

    Parameters
    ----------
    regressor : Lambda3BayesRegressor or Pipeline
        A fitted regressor, or a fitted pipeline ending in one.
    names : sequence of str or int, optional
        The coefficients to show, by name (``feature_names_in_``, else ``x0, x1, …``) or
        column number. Default: all when there are at most 6, else the 6 whose posterior mean
        is largest in posterior standard deviations, in column order.
    fig : matplotlib Figure, optional
        An empty figure to draw on; a new one when None.

    Returns
    -------
    fig : matplotlib Figure
        ``2 * len(names)`` axes: density and trace of each coefficient, row by row.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    TypeError
        If ``regressor`` is not a Lambda3BayesRegressor, ``names`` not a sequence or ``fig``
        not a Figure.
    NotFittedError
        If ``regressor`` is not fitted.
    ValueError
        If a name is unknown, a column number out of range, or ``names`` is empty.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sklearn_lambda3 import Lambda3BayesRegressor
    >>> from sklearn_lambda3.plot import plot_posterior
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 2))
    >>> y = X @ [1.0, -0.5] + rng.normal(scale=0.3, size=100)
    >>> reg = Lambda3BayesRegressor(num_warmup=100, num_samples=100, num_chains=2,
    ...                             progress_bar=False, random_state=0).fit(X, y)
    >>> fig = plot_posterior(reg)
    >>> [ax.get_title() for ax in fig.axes]
    ['x0: posterior', 'x0: trace', 'x1: posterior', 'x1: trace']
    >>> plt.close(fig)
    """
    regressor, _ = _fitted_regressor(regressor)
    samples, all_names = _posterior_columns(regressor)
    k = samples.shape[1]
    if names is None:
        if k <= _MAX_POSTERIOR_ROWS:
            columns = list(range(k))
        else:
            sd = samples.std(axis=0)
            score = np.abs(samples.mean(axis=0)) / np.where(sd > 0, sd, np.inf)
            columns = sorted(np.argsort(-score, kind="stable")[:_MAX_POSTERIOR_ROWS].tolist())
    else:
        if isinstance(names, str | Integral) or not hasattr(names, "__iter__"):
            raise TypeError(f"names must be a sequence of coefficient names or numbers; got {names!r}.")
        columns = []
        for name in names:
            if isinstance(name, Integral) and not isinstance(name, bool):
                if not 0 <= name < k:
                    raise ValueError(f"coefficient number {name} is out of range 0 … {k - 1}.")
                columns.append(int(name))
            elif str(name) in all_names:
                columns.append(all_names.index(str(name)))
            else:
                raise ValueError(f"unknown coefficient {name!r}; known: {all_names}.")
        if not columns:
            raise ValueError("names must hold at least one coefficient.")
    plt = _pyplot()
    if fig is None:
        fig = plt.figure(figsize=(10, 2.2 * len(columns) + 0.6), layout="constrained")
    else:
        from matplotlib.figure import Figure

        if not isinstance(fig, Figure):
            raise TypeError(f"fig must be a matplotlib Figure or None; got {type(fig).__name__}.")
    axes = fig.subplots(len(columns), 2, squeeze=False, gridspec_kw={"width_ratios": [1, 1.6]})
    chains = int(regressor.num_chains)
    by_chain = samples.reshape(chains, -1, k)
    colors = plt.get_cmap("tab10")
    for row, column in enumerate(columns):
        name = all_names[column]
        draws = samples[:, column]
        left, right = axes[row]
        left.hist(draws, bins=30, density=True, color="tab:blue", alpha=0.35, edgecolor="none")
        lo, hi = draws.min(), draws.max()
        pad = 0.1 * (hi - lo) if hi > lo else 1e-3
        grid = np.linspace(lo - pad, hi + pad, 200)
        left.plot(grid, _kde(draws, grid), color="tab:blue", lw=1.5)
        q05, q95 = np.quantile(draws, [0.05, 0.95])
        left.axvspan(q05, q95, color="0.85", zorder=0, lw=0)
        left.axvline(draws.mean(), color="black", lw=1.0, ls="--")
        left.set_title(f"{name}: posterior")
        left.set_ylabel("density")
        left.set_yticks([])
        for chain in range(chains):
            right.plot(
                by_chain[chain, :, column],
                color=colors(chain % 10),
                lw=0.6,
                alpha=0.8,
                label=f"chain {chain}",
            )
        right.set_title(f"{name}: trace")
        right.set_ylabel("value")
        if row == len(columns) - 1:
            left.set_xlabel("coefficient (mean --, 90 % interval shaded)")
            right.set_xlabel("draw")
    if chains > 1:
        handles, labels = axes[0, 1].get_legend_handles_labels()
        from matplotlib.layout_engine import ConstrainedLayoutEngine

        outside = isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)
        loc = "outside upper right" if outside else "upper right"
        fig.legend(handles, labels, loc=loc, fontsize="small", ncol=min(chains, 8))
    return fig


# ----------------------------------------------------------------------------------------------
# Synchronisation and causality along lags and time


def _pair_labels(labels, a, b):
    """Names of the two event series: the user's pair (checked), else pandas names, else a, b."""
    if labels is None:
        return [
            str(getattr(series, "name", None)) if getattr(series, "name", None) is not None else default
            for series, default in ((a, "a"), (b, "b"))
        ]
    if isinstance(labels, str) or not hasattr(labels, "__len__"):
        raise TypeError(f"labels must be a pair of names (for a and b); got {type(labels).__name__}.")
    if len(labels) != 2:
        raise ValueError(f"labels must have 2 names, for a and b; got {len(labels)}.")
    return [str(label) for label in labels]


def plot_sync_profile(a, b, *, lag_window=10, ax=None, labels=None):
    """Sync rate of two binary event series at every lag ``τ = -L … L``, with the optimal lag.

    The plot takes the events, not the output of
    :func:`~sklearn_lambda3.analysis.sync_profile`: it calls ``sync_profile(a, b,
    lag_window)`` itself, so that the lags, the rates and the marked optimum always belong
    together. The rate at ``τ`` is the fraction of the overlapping steps where an event of
    ``a`` at ``t`` meets an event of ``b`` at ``t + τ``; ``τ > 0`` means ``b`` follows ``a``.

    Parameters
    ----------
    a, b : array-like of shape (n_steps,)
        Binary event series (0/1 or booleans) of equal length, e.g. the ΔΛC⁺ columns of
        :class:`~sklearn_lambda3.Lambda3Features` for two series. A pandas Series' name
        names it when ``labels`` is None.
    lag_window : int, default=10
        Largest lag ``L``; must be ``< n_steps``.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    labels : pair of str, optional
        Names of ``a`` and ``b``; default their pandas names, else ``"a"`` and ``"b"``.

    Returns
    -------
    ax : matplotlib Axes
        ``ax.lines[0]``: the profile (x: the lags, y: the rates of ``sync_profile``); when
        some events coincide, a ``*`` marker at the optimum (``sync_rate`` at ``optimal_lag``)
        and a dashed vertical line at ``optimal_lag``; otherwise a text saying so.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    TypeError
        If the events are not numeric, ``lag_window`` is not an integer, ``labels`` is not
        a pair or ``ax`` is not an Axes.
    ValueError
        As :func:`~sklearn_lambda3.analysis.sync_profile` (not 1-D, unequal lengths, not
        binary, ``lag_window`` negative or not below the length), or ``labels`` not of length 2.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sklearn_lambda3.plot import plot_sync_profile
    >>> a = np.zeros(60, dtype=int)
    >>> a[[5, 17, 30, 44]] = 1
    >>> b = np.roll(a, 2)  # b repeats a's events two steps later
    >>> ax = plot_sync_profile(a, b, lag_window=5, labels=["rain", "wind"])
    >>> ax.lines[0].get_xdata()
    array([-5, -4, -3, -2, -1,  0,  1,  2,  3,  4,  5])
    >>> ax.lines[1].get_xdata()  # the optimum
    array([2])
    >>> plt.close(ax.figure)
    """
    names = _pair_labels(labels, a, b)
    from matplotlib.ticker import MaxNLocator

    from .._sync import sync_profile

    lags, rates, sync_rate, optimal_lag = sync_profile(a, b, lag_window)
    ax = _axes(ax, figsize=(7, 3.8))
    ax.plot(lags, rates, marker="o", ms=4, color="tab:blue", lw=1.2, label="sync rate")
    if sync_rate > 0:
        ax.plot(
            [optimal_lag],
            [sync_rate],
            ls="none",
            marker="*",
            ms=14,
            color="tab:red",
            mec="black",
            mew=0.5,
            label=f"optimal lag τ = {optimal_lag:+d} (σₛ = {sync_rate:.3f})",
        )
        ax.axvline(optimal_lag, color="tab:red", lw=0.9, ls="--", alpha=0.7)
        ax.legend(loc="best", fontsize="small")
    else:
        ax.text(
            0.5, 0.5, f"no coinciding events within ±{lags[-1]} steps", transform=ax.transAxes,
            ha="center", va="center", color="0.4",
        )  # fmt: skip
    ax.axvline(0, color="0.6", lw=0.6, zorder=0)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0, top=max(float(rates.max()) * 1.15, 1e-3))
    ax.set_xlabel(f"lag τ (τ > 0: {names[1]} follows {names[0]})")
    ax.set_ylabel("sync rate σₛ")
    ax.set_title(f"Sync profile: {names[0]} vs {names[1]}")
    return ax


def plot_dynamic_sync(a, b, *, window=20, lag_window=10, ax=None, labels=None):
    """Sync rate of two binary event series along time (sliding window), with the optimal lag.

    The rates and lags are those of :func:`~sklearn_lambda3.analysis.dynamic_sync`. The
    value of the window ``a[s : s + window]`` is drawn at its centre, ``s + (window - 1) / 2``,
    so that the x axis is the time step of the series. The optimal lag is drawn as dots on a
    twin y axis on the right; windows without coinciding events (rate 0, where the lag means
    nothing) have no dot.

    Parameters
    ----------
    a, b : array-like of shape (n_steps,)
        Binary event series (0/1 or booleans) of equal length.
    window : int, default=20
        Length of the sliding window, ``1 <= window <= n_steps``.
    lag_window : int, default=10
        Largest lag ``L``, clipped to ``window - 1`` inside each window.
    ax : matplotlib Axes, optional
        Where to draw the rates; a new figure when None. The lags go on ``ax.twinx()``.
    labels : pair of str, optional
        Names of ``a`` and ``b``; default their pandas names, else ``"a"`` and ``"b"``.

    Returns
    -------
    ax : matplotlib Axes
        The rates' Axes: ``ax.lines[0]`` is the sync rate at the window centres. The twin
        Axes holding the optimal-lag dots is the last Axes of ``ax.figure`` after the call.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    TypeError
        If the events are not numeric, a parameter is not an integer, ``labels`` is not a
        pair or ``ax`` is not an Axes.
    ValueError
        As :func:`~sklearn_lambda3.analysis.dynamic_sync`, or ``labels`` not of length 2.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sklearn_lambda3.plot import plot_dynamic_sync
    >>> rng = np.random.default_rng(0)
    >>> a = (rng.random(200) < 0.1).astype(int)
    >>> b = np.r_[np.roll(a, 1)[:100], (rng.random(100) < 0.1).astype(int)]  # synced, then not
    >>> ax = plot_dynamic_sync(a, b, window=30, lag_window=3)
    >>> ax.lines[0].get_xdata()[:3]  # window centres
    array([14.5, 15.5, 16.5])
    >>> twin = ax.figure.axes[-1]
    >>> twin.get_ylabel()
    'optimal lag τ'
    >>> plt.close(ax.figure)
    """
    names = _pair_labels(labels, a, b)
    from .._sync import dynamic_sync

    rates, lags = dynamic_sync(a, b, window, lag_window)
    n = rates.shape[0] + window - 1
    shown_lag = min(int(lag_window), window - 1)
    centres = np.arange(rates.shape[0]) + (window - 1) / 2
    # The top quarter of both y axes is left free for the legend.
    headroom = 1 / 0.75
    ax = _axes(ax, figsize=(10, 3.8))
    (rate_line,) = ax.plot(centres, rates, color="tab:blue", lw=1.3, label="sync rate")
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(0, max(float(rates.max()), 1e-3) * headroom)
    ax.set_xlabel(f"time step (centre of the {window}-step window)")
    ax.set_ylabel("sync rate σₛ", color="tab:blue")
    ax.tick_params(axis="y", colors="tab:blue")
    twin = ax.twinx()
    (lag_dots,) = twin.plot(
        centres,
        np.where(rates > 0, lags, np.nan),
        ls="none",
        marker=".",
        ms=4,
        color="tab:orange",
        label="optimal lag",
    )
    low = -shown_lag - 0.5
    twin.set_ylim(low, low + (2 * shown_lag + 1) * headroom)
    from matplotlib.ticker import MaxNLocator

    ticks = MaxNLocator(integer=True, nbins=6).tick_values(-shown_lag, shown_lag)
    twin.set_yticks(ticks[(ticks >= -shown_lag) & (ticks <= shown_lag)])
    twin.set_ylabel("optimal lag τ", color="tab:orange")
    twin.tick_params(axis="y", colors="tab:orange")
    ax.legend(
        [rate_line, lag_dots], ["sync rate", "optimal lag"], loc="upper right", ncol=2, fontsize="small"
    )
    ax.set_title(f"Dynamic sync: {names[0]} vs {names[1]} (window {window}, lags ±{shown_lag})")
    return ax


def _series_index(value, names, name):
    """Index of a series given by name or column number."""
    if isinstance(value, Integral) and not isinstance(value, bool):
        if not 0 <= value < len(names):
            raise ValueError(f"{name} number {value} is out of range 0 … {len(names) - 1}.")
        return int(value)
    if isinstance(value, str):
        if value not in names:
            raise ValueError(f"unknown {name} {value!r}; known: {names}.")
        return names.index(value)
    raise TypeError(f"{name} must be a series name (str), a column number or None; got {value!r}.")


def plot_causality_by_lag(
    pos_events, neg_events, *, max_lag=10, source=None, target=None, labels=None, ax=None
):
    """Structural causality P(ΔΛC⁻ of target at t | ΔΛC⁺ of source at t − k) against ``k``.

    For each ``k = 1 … max_lag`` the probability is entry ``[source, target]`` of
    :func:`~sklearn_lambda3.analysis.causality_matrix(pos_events, neg_events, lag=k)
    <sklearn_lambda3.analysis.causality_matrix>`; one line per (source, target) pair.
    ``source`` and ``target`` select the pairs: both given, one line; one given, that series
    against every other; neither, every ordered pair of distinct series. More than 10 lines
    cannot be told apart: when more pairs match, the 10 whose largest probability over the
    lags is highest are drawn (in pair order), leaving out those that are 0 at every lag, and
    the title says so. A series
    against itself (a rise followed by a fall) is drawn only when asked for with
    ``source == target``, or when there is a single series. Where all lines share one target,
    a dashed line marks the base rate of that target's ΔΛC⁻ (the fraction of steps that have
    one), the value a source unrelated to the target would give.

    Parameters
    ----------
    pos_events : array-like or DataFrame of shape (n_steps, n_series)
        Binary ΔΛC⁺ events, one series per column.
    neg_events : array-like or DataFrame of shape (n_steps, n_series)
        Binary ΔΛC⁻ events of the same series, in the same column order.
    max_lag : int, default=10
        Largest delay ``k``; ``1 <= max_lag < n_steps``.
    source, target : str, int or None, default=None
        The source and the target, by name (``labels``, else a DataFrame's columns) or
        column number; None means every series.
    labels : sequence of str, optional
        Names of the series; default the columns of ``pos_events`` if it is a DataFrame,
        else ``0 … n_series - 1``.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
        One line per pair drawn, labelled ``"source → target"`` (x: ``1 … max_lag``; sources
        in column order, then targets), then the base-rate line if any.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    TypeError
        If the events are not numeric, ``max_lag`` is not an integer, ``source`` or
        ``target`` is neither a name nor a number, ``labels`` is not a sequence or ``ax``
        is not an Axes.
    ValueError
        If the events are not 2-D, differ in shape or are not binary, ``max_lag`` is outside
        ``1 … n_steps - 1``, a name is unknown or a number out of range, or ``labels`` has
        the wrong length.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn_lambda3.plot import plot_causality_by_lag
    >>> rng = np.random.default_rng(0)
    >>> rises = (rng.random((300, 2)) < 0.1).astype(int)
    >>> falls = np.column_stack([rng.random(300) < 0.1, np.roll(rises[:, 0], 3)]).astype(int)
    >>> pos, neg = pd.DataFrame(rises, columns=["a", "b"]), pd.DataFrame(falls, columns=["a", "b"])
    >>> ax = plot_causality_by_lag(pos, neg, max_lag=6, source="a", target="b")
    >>> ax.lines[0].get_label()
    'a → b'
    >>> int(np.argmax(ax.lines[0].get_ydata())) + 1  # b falls 3 steps after a rises
    3
    >>> plt.close(ax.figure)
    """
    from matplotlib.ticker import MaxNLocator

    from .._sync import _check_events_2d, causality_matrix

    pos, frame_names = _check_events_2d(pos_events, "pos_events")
    neg, _ = _check_events_2d(neg_events, "neg_events")
    if pos.shape != neg.shape:
        raise ValueError(
            f"pos_events and neg_events must have the same shape; got {pos.shape} and {neg.shape}."
        )
    n, p = pos.shape
    max_lag = check_int(max_lag, "max_lag", 1)
    if max_lag >= n:
        raise ValueError(f"max_lag must be smaller than the number of steps ({n}); got {max_lag}.")
    names = _labels(labels, None if frame_names is None else [str(c) for c in frame_names], p)
    sources = range(p) if source is None else [_series_index(source, names, "source")]
    targets = range(p) if target is None else [_series_index(target, names, "target")]
    explicit_self = source is not None and target is not None
    pairs = [(s, g) for s in sources for g in targets if s != g or explicit_self or p == 1]
    lags = np.arange(1, max_lag + 1)
    by_lag = np.stack([causality_matrix(pos, neg, lag=int(k)) for k in lags])  # (max_lag, p, p)
    n_matching = len(pairs)
    if n_matching > _MAX_CAUSALITY_LINES:
        peaks = np.array([by_lag[:, s, g].max() for s, g in pairs])
        kept = np.argsort(-peaks, kind="stable")[:_MAX_CAUSALITY_LINES]
        if peaks[kept[0]] > 0:  # lines at zero all look alike: only the pairs with some causality
            kept = kept[peaks[kept] > 0]
        pairs = [pairs[k] for k in np.sort(kept)]
    plt = _pyplot()
    ax = _axes(ax, figsize=(8 if len(pairs) <= 3 else 11, 4))
    colors = plt.get_cmap("tab10")
    for k, (s, g) in enumerate(pairs):
        ax.plot(
            lags, by_lag[:, s, g], marker="o", ms=3.5, lw=1.2, color=colors(k % colors.N),
            label=f"{names[s]} → {names[g]}",
        )  # fmt: skip
    if len({g for _, g in pairs}) == 1:
        g = pairs[0][1]
        ax.axhline(neg[:, g].mean(), color="0.4", lw=0.9, ls="--", label=f"base rate of ΔΛC⁻ of {names[g]}")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0.5, max_lag + 0.5)
    top = float(by_lag[:, [s for s, _ in pairs], [g for _, g in pairs]].max())
    ax.set_ylim(0, min(1.05, max(top * 1.15, 0.05)))
    ax.set_xlabel("lag k (steps from the source's ΔΛC⁺ to the target's ΔΛC⁻)")
    ax.set_ylabel("P(ΔΛC⁻ of target at t | ΔΛC⁺ of source at t − k)", fontsize="small")
    title = "Structural causality by lag"
    if n_matching > len(pairs):
        which = "the highest peaks" if len(pairs) == _MAX_CAUSALITY_LINES else "the others are 0 at every lag"
        title += f" ({len(pairs)} of {n_matching} pairs; {which})"
    ax.set_title(title)
    if len(ax.lines) <= 4:
        ax.legend(loc="best", fontsize="small")
    else:  # many lines fill the axes: the legend goes on the right, outside
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", borderaxespad=0)
    return ax


# ----------------------------------------------------------------------------------------------
# Interaction effects, predictive checks and change points


_KIND_NAMES = {"jump_pos": "ΔΛC⁺", "jump_neg": "ΔΛC⁻", "tension": "ρT"}


def plot_interaction_matrix(result, *, kind="jump_pos", ax=None):
    """Heatmap of the interaction effects of an InteractionResult, ``[source, target]``.

    Each cell is the posterior mean of the source's ``kind`` coefficient in the target's
    model, on a diverging colormap centred at 0 (red positive, blue negative, symmetric
    limits). A cell whose central interval excludes 0 has its value in bold with a ``*``.
    The diagonal (a series on itself, never fitted) is dark grey; other NaN cells are pairs
    that were not fitted (a partially filled result) and are drawn hatched, labelled "n/f".
    Values are written in the cells for at most 12 series, all with the same number of
    decimals (four significant digits of the largest).

    Parameters
    ----------
    result : InteractionResult
        The output of :func:`~sklearn_lambda3.analysis.interaction_effects`, or one built
        with NaN for the pairs that were not fitted.
    kind : {"jump_pos", "jump_neg", "tension"}, default="jump_pos"
        Which coefficient: the source's ΔΛC⁺, ΔΛC⁻ or ρT.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
        One image (``ax.images[0]``, its array ``result.mean[kind]`` with NaN masked), a
        colorbar, one grey patch per diagonal cell and one hatched patch per unfitted pair.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    TypeError
        If ``result`` is not an InteractionResult or ``ax`` is not an Axes.
    ValueError
        If ``kind`` is unknown, or the result's matrices are not square with one row per name.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sklearn_lambda3.analysis import InteractionResult
    >>> from sklearn_lambda3.plot import plot_interaction_matrix
    >>> mean = np.array([[np.nan, 1.2, np.nan], [0.1, np.nan, -0.4], [0.0, 0.3, np.nan]])
    >>> half = np.where(np.isnan(mean), np.nan, 0.3)
    >>> kinds = ("jump_pos", "jump_neg", "tension")
    >>> result = InteractionResult(
    ...     names=["a", "b", "c"], mean={k: mean for k in kinds},
    ...     lower={k: mean - half for k in kinds}, upper={k: mean + half for k in kinds},
    ...     r_hat_max=np.ones((3, 3)), ess_bulk_min=np.ones((3, 3)),
    ...     num_divergences=np.zeros((3, 3)), coverage=0.9, lag=0)
    >>> ax = plot_interaction_matrix(result)  # a → c was not fitted
    >>> sorted(t.get_text() for t in ax.texts)
    ['-0.400*', '0.000', '0.100', '0.300', '1.200*', 'n/f']
    >>> plt.close(ax.figure)
    """
    from .._interactions import KINDS, InteractionResult

    if not isinstance(result, InteractionResult):
        raise TypeError(
            "result must be an InteractionResult (the output of interaction_effects); "
            f"got {type(result).__name__}."
        )
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}.")
    names = [str(name) for name in result.names]
    p = len(names)
    values = np.asarray(result.mean[kind], dtype=np.float64)
    if values.shape != (p, p):
        raise ValueError(
            f"result.mean[{kind!r}] must have shape ({p}, {p}), one row and column per name; "
            f"got {values.shape}."
        )
    marked = np.asarray(result.excludes_zero(kind), dtype=bool)
    plt = _pyplot()
    from matplotlib.patches import Rectangle

    ax = _axes(ax, figsize=(max(4.8, 0.6 * p + 3.2), max(3.8, 0.55 * p + 2.2)))
    finite = values[np.isfinite(values)]
    limit = float(np.abs(finite).max()) if finite.size else 1.0
    limit = limit if limit > 0 else 1.0
    image = ax.imshow(
        np.ma.masked_invalid(values),
        cmap=plt.get_cmap("RdBu_r").with_extremes(bad="white"),
        vmin=-limit,
        vmax=limit,
        interpolation="nearest",
    )
    ax.figure.colorbar(image, ax=ax, label=f"{_KIND_NAMES[kind]} coefficient (posterior mean)")
    # One number of decimals for the whole matrix: four significant digits of the largest |value|
    # (at most 4 decimals; the colorbar gives the scale of tinier effects).
    decimals = min(max(0, 3 - math.floor(math.log10(limit))), 4)
    diagonal = np.eye(p, dtype=bool)
    unfitted = np.isnan(values) & ~diagonal
    for i in range(p):
        ax.add_patch(Rectangle((i - 0.5, i - 0.5), 1, 1, facecolor="0.55", edgecolor="none"))
    for i, j in zip(*np.nonzero(unfitted), strict=True):
        ax.add_patch(
            Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="white", edgecolor="0.6", hatch="///", lw=0)
        )
    if p <= 12:
        for i in range(p):
            for j in range(p):
                if diagonal[i, j]:
                    continue
                if unfitted[i, j]:
                    ax.text(j, i, "n/f", ha="center", va="center", color="0.35", fontsize="small")
                    continue
                color = "white" if abs(image.norm(values[i, j]) - 0.5) > 0.3 else "black"
                star = "*" if marked[i, j] else ""
                shown = round(float(values[i, j]), decimals) + 0.0  # + 0.0: no "-0.00"
                ax.text(
                    j, i, f"{shown:.{decimals}f}{star}", ha="center", va="center", color=color,
                    fontsize="small", fontweight="bold" if marked[i, j] else "normal",
                )  # fmt: skip
    rotate = p > 3 and max(len(name) for name in names) > 2
    ax.set_xticks(
        np.arange(p), labels=names, rotation=45 if rotate else 0, ha="right" if rotate else "center"
    )
    ax.set_yticks(np.arange(p), labels=names)
    ax.set_xlabel("target")
    ax.set_ylabel("source")
    title = f"Interaction effects: source's {_KIND_NAMES[kind]} (lag {result.lag})"
    title += f"\n* {result.coverage:.0%} interval excludes 0"
    if unfitted.any():
        title += f"\nhatched (n/f): {int(unfitted.sum())} pairs not fitted"
    ax.set_title(title, fontsize="medium")
    return ax


def plot_predictive_check(check, *, statistics=None, series=0, fig=None):
    """Posterior predictive distribution of each statistic, with the observed value and p-value.

    One panel per statistic of a :class:`~sklearn_lambda3.PredictiveCheck` (the output of
    :func:`~sklearn_lambda3.posterior_predictive_check`): a histogram of the statistic over
    the replicated targets, a vertical line at the observed value and, in the title, the
    Bayesian p-value ``P(T(y_rep) > T(y)) + P(T(y_rep) = T(y)) / 2``. Titles of p-values
    below 0.05 or above 0.95, features of the data the model rarely reproduces, are red.
    The statistics have different units, hence one panel (Axes) each, on one Figure.

    Parameters
    ----------
    check : PredictiveCheck
        The result of ``posterior_predictive_check``.
    statistics : sequence of str, optional
        The statistics to show, in order; all of ``check.statistics`` when None.
    series : int, default=0
        For a check of a 2-D target (several series), the series shown; must be 0 otherwise.
    fig : matplotlib Figure, optional
        An empty figure to draw on; a new one when None.

    Returns
    -------
    fig : matplotlib Figure
        One Axes per statistic (in a grid of at most 3 columns; spare cells are hidden), each
        with the histogram bars and the observed-value line.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    TypeError
        If ``check`` is not a PredictiveCheck, ``statistics`` is not a sequence of names,
        ``series`` is not an integer or ``fig`` not a Figure.
    ValueError
        If a statistic is not in the check, ``statistics`` is empty, or ``series`` is out of
        range.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sklearn_lambda3 import Lambda3BayesRegressor, posterior_predictive_check
    >>> from sklearn_lambda3.plot import plot_predictive_check
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 1))
    >>> y = 2.0 * X[:, 0] + rng.normal(size=100)
    >>> reg = Lambda3BayesRegressor(num_warmup=100, num_samples=100, num_chains=2,
    ...                             progress_bar=False, random_state=0).fit(X, y)
    >>> check = posterior_predictive_check(reg, X, y, n_samples=200, random_state=0)
    >>> fig = plot_predictive_check(check, statistics=["mean", "max"])
    >>> [ax.get_title().split(":")[0] for ax in fig.axes]
    ['mean', 'max']
    >>> plt.close(fig)
    """
    from .._compare import PredictiveCheck

    if not isinstance(check, PredictiveCheck):
        raise TypeError(
            "check must be a PredictiveCheck (the output of posterior_predictive_check); "
            f"got {type(check).__name__}."
        )
    if statistics is None:
        chosen = list(check.statistics)
    else:
        if isinstance(statistics, str) or not hasattr(statistics, "__iter__"):
            raise TypeError(f"statistics must be a sequence of statistic names; got {statistics!r}.")
        chosen = [str(name) for name in statistics]
        unknown = [name for name in chosen if name not in check.statistics]
        if unknown:
            raise ValueError(f"unknown statistics {unknown}; the check has {list(check.statistics)}.")
    if not chosen:
        raise ValueError("statistics must name at least one statistic.")
    if isinstance(series, bool) or not isinstance(series, Integral):
        raise TypeError(f"series must be an integer; got {series!r}.")
    n_series = int(np.size(check.observed[chosen[0]])) if np.ndim(check.observed[chosen[0]]) else 1
    if not 0 <= series < n_series:
        raise ValueError(f"series must be in [0, {n_series - 1}] for this check; got {series}.")
    plt = _pyplot()
    n_cols = min(3, len(chosen))
    n_rows = math.ceil(len(chosen) / n_cols)
    if fig is None:
        fig = plt.figure(figsize=(3.6 * n_cols + 0.4, 2.7 * n_rows + 0.7), layout="constrained")
    else:
        from matplotlib.figure import Figure

        if not isinstance(fig, Figure):
            raise TypeError(f"fig must be a matplotlib Figure or None; got {type(fig).__name__}.")
    grid = fig.subplots(n_rows, n_cols, squeeze=False)
    several = np.ndim(check.observed[chosen[0]]) > 0
    for cell, name in zip(grid.ravel(), chosen + [None] * (grid.size - len(chosen)), strict=True):
        if name is None:
            cell.set_visible(False)
            continue
        replicated = np.asarray(check.replicated[name], dtype=np.float64)
        observed = float(np.atleast_1d(check.observed[name])[series])
        p_value = float(np.atleast_1d(check.p_value[name])[series])
        draws = replicated[series] if several else replicated
        draws = draws[np.isfinite(draws)]
        if draws.size:
            cell.hist(
                draws, bins=30, color="tab:blue", alpha=0.5, edgecolor="none", label="replicated T(y_rep)"
            )
        cell.axvline(observed, color="black", lw=2.0, label="observed T(y)")
        extreme = p_value < 0.05 or p_value > 0.95
        cell.set_title(f"{name}: p = {p_value:.3f}", color="tab:red" if extreme else "black")
        cell.set_yticks([])
        cell.tick_params(axis="x", labelsize="small")
    first = grid.ravel()[0]
    handles, labels = first.get_legend_handles_labels()
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    outside = isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)
    fig.legend(
        handles, labels, loc="outside lower center" if outside else "lower center", ncol=2, fontsize="small"
    )
    n_replicates = np.shape(check.replicated[chosen[0]])[-1]
    title = f"Posterior predictive check ({n_replicates} replicates"
    title += f", series {series})" if several else ")"
    fig.suptitle(title)
    return fig


def _check_time(time, n):
    """The x values of ``n`` steps: numbers or datetimes, strictly increasing."""
    values = time
    if hasattr(time, "to_numpy") and not hasattr(time, "tz"):
        values = time.to_numpy()  # a Series; a DatetimeIndex (which has .tz) is kept as is
    if isinstance(values, list | tuple):
        values = np.asarray(values)
    shape = np.shape(values)
    if shape != (n,):
        raise ValueError(f"time must have one value per step of x, shape ({n},); got shape {shape}.")
    array = np.asarray(values)
    if array.dtype.kind in "iuf":
        if not np.all(np.isfinite(array)):
            raise ValueError("time contains NaN or infinite values.")
        increasing = bool(np.all(np.diff(array) > 0))
    elif array.dtype.kind == "M":
        if np.any(np.isnat(array)):
            raise ValueError("time contains missing datetimes (NaT).")
        increasing = bool(np.all(np.diff(array) > np.timedelta64(0)))
    elif array.dtype == object and all(isinstance(v, datetime.datetime) for v in array):
        increasing = all(earlier < later for earlier, later in zip(array[:-1], array[1:], strict=True))
    else:
        raise TypeError(
            "time must hold numbers or datetimes (datetime64, a pandas DatetimeIndex or datetime "
            f"objects); got dtype {array.dtype}. Parse text first, e.g. with pandas.to_datetime."
        )
    if not increasing:
        raise ValueError("time must be strictly increasing, one value per step in time order.")
    return values


def _check_change_points(change_points, n):
    """Change points as sorted int64 indices in ``1 … n - 1`` (the first point of each new segment)."""
    reject_sparse_and_complex(change_points, "change_points")
    points = np.asarray(getattr(change_points, "to_numpy", lambda: change_points)())
    if points.size == 0:
        return np.empty(0, dtype=np.int64)
    if points.dtype == bool or not (
        np.issubdtype(points.dtype, np.integer)
        or (
            np.issubdtype(points.dtype, np.floating)
            and np.all(np.isfinite(points))
            and np.all(points % 1 == 0)
        )
    ):
        raise TypeError(f"change_points must be integer step indices; got dtype {points.dtype}.")
    if points.ndim != 1:
        raise ValueError(f"change_points must be 1-D; got an array of shape {points.shape}.")
    points = points.astype(np.int64)
    if points.min() < 1 or points.max() > n - 1:
        raise ValueError(
            f"change_points must lie in 1 … {n - 1} (the first step of each new segment); "
            f"got values from {points.min()} to {points.max()}."
        )
    if np.any(np.diff(points) <= 0):
        raise ValueError("change_points must be strictly increasing (as detect_change_points returns them).")
    return points


def plot_change_points(x, change_points, *, ax=None, name=None, time=None):
    """A series cut into segments: a vertical line at each change point, each segment's mean.

    Change point ``c`` is the first step of a new segment, as
    :func:`~sklearn_lambda3.analysis.detect_change_points` returns it; its vertical line
    is drawn at step ``c`` (``time[c]``). The segment means are one step line
    (``drawstyle="steps-post"``) through ``(t[start], mean)`` of each segment, closed at the
    last step.

    Parameters
    ----------
    x : array-like of shape (n_steps,) or (n_steps, 1)
        One finite series, rows in time order; a pandas Series' name is used when ``name``
        is None.
    change_points : array-like of int
        Sorted indices in ``1 … n_steps - 1``; may be empty (one segment).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    name : str, optional
        Name of the series, for the y-axis label and the title.
    time : array-like of shape (n_steps,), optional
        Strictly increasing x values of the steps: numbers, numpy ``datetime64``, datetime
        objects or a pandas DatetimeIndex / datetime Series (e.g. a CSV's parsed time
        column). Text must be parsed first (``pandas.to_datetime``). Default: ``0 … n - 1``.

    Returns
    -------
    ax : matplotlib Axes
        ``ax.lines[0]``: the series; ``ax.lines[1]``: the segment means (y data: the mean of
        each segment, then the last mean again); then one vertical line per change point.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    TypeError
        If ``x`` is not numeric, ``change_points`` not integers, ``time`` neither numbers nor
        datetimes, or ``ax`` not an Axes.
    ValueError
        If ``x`` is not one finite series of at least two steps, ``change_points`` is not
        1-D, not strictly increasing or outside ``1 … n_steps - 1``, or ``time`` has the wrong
        length, missing values or is not strictly increasing.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sklearn_lambda3.analysis import detect_change_points
    >>> from sklearn_lambda3.plot import plot_change_points
    >>> x = np.r_[np.zeros(10), np.full(10, 3.0), np.ones(10)]
    >>> points = detect_change_points(x)
    >>> points
    array([10, 20])
    >>> ax = plot_change_points(x, points, name="level")
    >>> ax.lines[1].get_ydata()  # segment means, the last repeated at the end
    array([0., 3., 1., 1.])
    >>> plt.close(ax.figure)
    """
    if name is None and isinstance(getattr(x, "name", None), str):
        name = x.name
    values = check_series(x)
    n = values.shape[0]
    points = _check_change_points(change_points, n)
    t = np.arange(n) if time is None else _check_time(time, n)
    starts = np.r_[0, points]
    means = np.array([segment.mean() for segment in np.split(values, points)])
    step_x = [t[i] for i in starts] + [t[n - 1]]
    ax = _axes(ax, figsize=(10, 4))
    label = name if name is not None else "series"
    ax.plot(t, values, color="tab:blue", lw=0.9, label=label)
    ax.plot(
        step_x, np.r_[means, means[-1]], drawstyle="steps-post", color="black", lw=1.6,
        label=f"segment means ({len(means)})",
    )  # fmt: skip
    for k, point in enumerate(points):
        ax.axvline(
            t[point], color="tab:red", lw=0.9, ls="--", alpha=0.8,
            label=f"change points ({len(points)})" if k == 0 else None,
        )  # fmt: skip
    ax.set_xlabel("time step" if time is None else "time")
    ax.set_ylabel(label)
    ax.set_title(f"{label}: change points" if name is not None else "Change points")
    ax.legend(loc="best", fontsize="small")
    if time is not None and np.asarray(t).dtype.kind not in "iuf":
        for tick in ax.get_xticklabels():
            tick.set_rotation(30)
            tick.set_horizontalalignment("right")
    return ax
