"""Plots of one series: its jumps and tension, its regimes and its change points."""

import datetime

import numpy as np

from .._validation import check_series, reject_sparse_and_complex
from ._common import axes_to_draw_on, pyplot

_POS_COLOR = "tab:green"
_NEG_COLOR = "tab:red"


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
    ax = axes_to_draw_on(ax, figsize=(10, 4))
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

    plt = pyplot()
    ax = axes_to_draw_on(ax, figsize=(10, 4))
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
    ax = axes_to_draw_on(ax, figsize=(10, 4))
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
