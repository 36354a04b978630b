"""Plots of the relations between series: synchronisation (matrix, network, profile over lags,
along time), structural causality by lag and interaction effects."""

import math
from numbers import Integral, Real

import numpy as np

from .._validation import check_events_2d, check_int
from ._common import axes_to_draw_on, pyplot

_MAX_CAUSALITY_LINES = 10


# ----------------------------------------------------------------------------------------------
# Synchronisation matrix and network


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
    plt = pyplot()
    ax = axes_to_draw_on(ax, figsize=(max(4.5, 0.5 * p + 3), max(3.5, 0.5 * p + 2)))
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
        from .._sync import sync_edges

        edges = [
            (int(i), int(j), float(values[i, j]), None if lags is None else int(lags[i, j]))
            for i, j in zip(*np.nonzero(sync_edges(values, threshold)), strict=True)
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
    plt = pyplot()
    from matplotlib.patches import FancyArrowPatch

    ax = axes_to_draw_on(ax, figsize=(6, 6))
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
    ax = axes_to_draw_on(ax, figsize=(7, 3.8))
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
    ax = axes_to_draw_on(ax, figsize=(10, 3.8))
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

    from .._sync import causality_matrix

    pos, frame_names = check_events_2d(pos_events, "pos_events")
    neg, _ = check_events_2d(neg_events, "neg_events")
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
    plt = pyplot()
    ax = axes_to_draw_on(ax, figsize=(8 if len(pairs) <= 3 else 11, 4))
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
# Interaction effects


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
    from .._interaction_kinds import KIND_SYMBOLS, KINDS
    from .._interactions import InteractionResult

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
    plt = pyplot()
    from matplotlib.patches import Rectangle

    ax = axes_to_draw_on(ax, figsize=(max(4.8, 0.6 * p + 3.2), max(3.8, 0.55 * p + 2.2)))
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
    ax.figure.colorbar(image, ax=ax, label=f"{KIND_SYMBOLS[kind]} coefficient (posterior mean)")
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
    title = f"Interaction effects: source's {KIND_SYMBOLS[kind]} (lag {result.lag})"
    title += f"\n* {result.coverage:.0%} interval excludes 0"
    if unfitted.any():
        title += f"\nhatched (n/f): {int(unfitted.sum())} pairs not fitted"
    ax.set_title(title, fontsize="medium")
    return ax
