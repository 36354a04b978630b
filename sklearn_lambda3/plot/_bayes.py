"""Plots of the Bayesian regressors: predictive fit, structural components, posteriors and
posterior predictive checks."""

import math
from numbers import Integral

import numpy as np

from .._validation import check_coverage
from ._common import axes_to_draw_on, figure_legend_loc, figure_to_draw_on, pyplot

_MAX_POSTERIOR_ROWS = 6


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
    labels, flat = regressor.parameter_draws()
    prefix = "population_coef[" if np.ndim(regressor.coef_) == 2 else "coef["
    columns = [i for i, label in enumerate(labels) if label.startswith(prefix)]
    if not columns:
        return np.asarray(flat, dtype=np.float64), list(labels)
    names = [labels[i][len(prefix) : -1] for i in columns]
    if prefix != "coef[":
        names = [f"population_coef[{name}]" for name in names]
    return np.asarray(flat[:, columns], dtype=np.float64), names


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
    >>> reg = Lambda3BayesRegressor(progress_bar=False, random_state=0).fit(X, y)
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
    several = np.ndim(regressor.coef_) == 2  # a hierarchical fit of several series
    if several:
        n_series = regressor.coef_.shape[0]
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
        steps = regressor.time_steps(Xt, start=start)
        # On the training index's clock: its dates where it had them, else the steps.
        t = regressor.step_labels(steps)
        interval = regressor.predict_interval(Xt, coverage=coverage, start=start)
        mean = regressor.predict(Xt, start=start)
    else:
        t = np.arange(n_rows)
        mean = regressor.predict(Xt)
        interval = regressor.predict_interval(Xt, coverage=coverage)
    if several:
        mean, interval = mean[:, series], interval[:, series]
    ax = axes_to_draw_on(ax, figsize=(10, 4))
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
        inside = steps < regressor.n_train_
        if inside.any():
            ax.plot(
                t[inside],
                regressor.level_mean_[steps[inside]],
                color="tab:purple",
                lw=1.2,
                ls="--",
                label="level mean",
            )
            shown = [p for p in regressor.change_points_ if steps[inside].min() <= p <= steps[inside].max()]
            for k, point in enumerate(regressor.step_labels(shown)):
                ax.axvline(
                    point,
                    color="tab:red",
                    lw=0.9,
                    ls=":",
                    alpha=0.7,
                    label="change point" if k == 0 else None,
                )
        if (~inside).any():
            last, first = regressor.step_labels([regressor.n_train_ - 1, regressor.n_train_])
            ax.axvline(last + (first - last) / 2, color="0.4", lw=0.8, label="end of training")
    dated = dynamic and not np.issubdtype(np.asarray(t).dtype, np.number)
    ax.set_xlabel("date" if dated else "time step" if dynamic else "row")
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


def plot_components(model, X=None, *, fh=None, start=None, coverage=0.9, fig=None):
    """One panel per structural component of a fitted dynamic model, as statsmodels'
    ``plot_components`` draws an unobserved-components fit.

    Each panel shows a component's posterior mean and central interval
    (:meth:`~sklearn_lambda3.Lambda3DynamicRegressor.components`, or the sktime forecaster's
    :meth:`~sklearn_lambda3.sktime.Lambda3Forecaster.predict_components`) against time: the
    training index's dates where it had them (a forecaster's ``y`` index, a regressor's
    ``DatetimeIndex``), else the time step. The panels share the x axis, are titled with the
    components' names (level, trend, season, regressors, change_points: those the model has)
    and, where the rows reach past the training steps, a vertical line marks where the
    forecasts start. Each panel moves about its own scale (the regressors' contribution is
    centred on their training means, the level holds their means' share).

    Parameters
    ----------
    model : Lambda3DynamicRegressor, Pipeline or Lambda3Forecaster
        A fitted dynamic regressor, a fitted pipeline ending in one (``X`` then goes through
        the pipeline's other steps), or a fitted :class:`~sklearn_lambda3.sktime.Lambda3Forecaster`.
    X : array-like of shape (n_samples, n_features) or None, default=None
        A regressor's rows to decompose, placed in time as by ``predict``; None: the training
        rows. For a forecaster: the exogenous series of the steps ahead, as for its
        ``predict``.
    fh : forecasting horizon or None, default=None
        A forecaster's steps (in-sample or ahead); None: every step it has seen.
    start : int or None, default=None
        Time step of the first row of a regressor's ``X``.
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
        If ``model`` is none of the above.
    ValueError
        If ``fh`` is given for a regressor, or ``start`` for a forecaster.

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
    >>> reg = Lambda3DynamicRegressor(seasonality=12, progress_bar=False, random_state=0).fit(None, y)
    >>> fig = plot_components(reg)
    >>> [ax.get_title() for ax in fig.axes]
    ['level', 'season']
    >>> plt.close(fig)
    """
    check_coverage(coverage)
    if hasattr(model, "predict_components") and hasattr(model, "regressor_"):
        if start is not None:
            raise ValueError("start places a regressor's rows; a forecaster's steps are given by fh.")
        frame = model.predict_components(fh=fh, X=X, coverage=coverage)
        parts = {name: frame[name].to_numpy() for name in frame.columns.get_level_values(0).unique()}
        t = frame.index.to_timestamp() if hasattr(frame.index, "to_timestamp") else frame.index
        inside = np.asarray(frame.index <= model.cutoff[0])
        dated = not np.issubdtype(np.asarray(t).dtype, np.number)
    else:
        if fh is not None:
            raise ValueError("fh gives a forecaster's steps; place a regressor's rows with X and start.")
        parts, t, inside = _regressor_components(model, X, start, coverage)
        dated = not np.issubdtype(np.asarray(t).dtype, np.number)
    plt = pyplot()
    if fig is None:
        fig = plt.figure(figsize=(10, 1.8 * len(parts) + 0.6), layout="constrained")
    axes = fig.subplots(len(parts), 1, sharex=True, squeeze=False)[:, 0]
    boundary = None
    if inside.any() and not inside.all():
        last, first = t[np.flatnonzero(inside)[-1]], t[np.flatnonzero(~inside)[0]]
        boundary = last + (first - last) / 2
    for ax, (name, values) in zip(axes, parts.items(), strict=True):
        ax.fill_between(t, values[:, 1], values[:, 2], color="tab:blue", alpha=0.25, lw=0)
        ax.plot(t, values[:, 0], color="tab:blue", lw=1.3)
        ax.set_title(name, fontsize="medium")
        ax.set_ylabel(_COMPONENT_TITLES[name])
        if boundary is not None:
            ax.axvline(boundary, color="0.4", lw=0.8)
    axes[-1].set_xlabel("date" if dated else "time step")
    fig.suptitle(f"Components of the dynamic model ({coverage:.0%} intervals)")
    return fig


def _regressor_components(regressor, X, start, coverage):
    """A dynamic regressor's components, the labels of their rows and which rows are in-sample."""
    from ..bayes import Lambda3DynamicRegressor

    regressor, head = _fitted_regressor(regressor)
    if not isinstance(regressor, Lambda3DynamicRegressor):
        raise TypeError(
            "plot_components draws the components of a Lambda3DynamicRegressor (or a pipeline ending "
            f"in one) or a Lambda3Forecaster; got {type(regressor).__name__}."
        )
    if X is None:
        parts = regressor.components(coverage=coverage)
        steps = np.arange(regressor.n_train_)
    else:
        Xt = head.transform(X) if head is not None else X
        parts = regressor.components(Xt, start=start, coverage=coverage)
        steps = regressor.time_steps(Xt, start=start)
    return parts, regressor.step_labels(steps), steps < regressor.n_train_


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
    >>> reg = Lambda3BayesRegressor(progress_bar=False, random_state=0).fit(X, y)
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
    plt = pyplot()
    fig = figure_to_draw_on(fig, figsize=(10, 2.2 * len(columns) + 0.6))
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
        loc = figure_legend_loc(fig, "upper right")
        fig.legend(handles, labels, loc=loc, fontsize="small", ncol=min(chains, 8))
    return fig


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
    >>> reg = Lambda3BayesRegressor(progress_bar=False, random_state=0).fit(X, y)
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
    n_cols = min(3, len(chosen))
    n_rows = math.ceil(len(chosen) / n_cols)
    fig = figure_to_draw_on(fig, figsize=(3.6 * n_cols + 0.4, 2.7 * n_rows + 0.7))
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
    fig.legend(handles, labels, loc=figure_legend_loc(fig, "lower center"), ncol=2, fontsize="small")
    n_replicates = np.shape(check.replicated[chosen[0]])[-1]
    title = f"Posterior predictive check ({n_replicates} replicates"
    title += f", series {series})" if several else ")"
    fig.suptitle(title)
    return fig
