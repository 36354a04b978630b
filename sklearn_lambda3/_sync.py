"""Relations between series: synchronisation and structural causality.

The definitions are those of the method's §2 (relations between series). Synchronisation
works on the positions of the events, not on dense products: the number of coinciding events
of ``a`` and ``b`` at every lag ``-L … L`` is found by merging the two sorted lists of event
indices, in O(events) per pair.
"""

import numpy as np
from numba import njit, prange

from ._validation import (
    check_binary_events,
    check_events_2d,
    check_int,
    check_real,
)

# Two series are linked when at least this share of the rarer one's events coincide with the
# other's (at the pair's optimal lag): the sync network's clusters and hubs.
SYNC_SHARE_THRESHOLD = 0.3

# ----------------------------------------------------------------------------------------------
# Numba kernels


@njit(cache=True)
def _pair_counts(ia, ib, lag_window, counts):
    """``counts[τ + L] = #{t in ia : t + τ in ib}`` for ``τ = -L … L`` (sorted index lists).

    A merge of the two sorted lists: for each event ``t`` of ``a`` the events of ``b`` in
    ``[t - L, t + L]`` are visited once, so the cost is O(len(ia) + len(ib) + coincidences).
    ``counts`` (length ``2L + 1``) is overwritten.
    """
    counts[:] = 0
    nb = ib.shape[0]
    lo = 0
    for m in range(ia.shape[0]):
        t = ia[m]
        while lo < nb and ib[lo] < t - lag_window:
            lo += 1
        k = lo
        while k < nb and ib[k] <= t + lag_window:
            counts[ib[k] - t + lag_window] += 1
            k += 1


@njit(cache=True)
def _best_of_counts(counts, n, lag_window):
    """Maximum rate ``counts / (n - |τ|)`` over ``τ = -L … L``, with its first and last argmax.

    Returns ``(rate, first_lag, last_lag)``; ``(0, 0, 0)`` when no events coincide.
    """
    best = 0.0
    first = 0
    last = 0
    found = False
    for k in range(counts.shape[0]):
        if counts[k] == 0:
            continue
        lag = k - lag_window
        rate = counts[k] / (n - abs(lag))
        if not found or rate > best:
            best = rate
            first = lag
            last = lag
            found = True
        elif rate == best:
            last = lag
    return best, first, last


@njit(cache=True)
def _sync_row(i, indptr, indices, n, lag_window, counts, rates, lags):
    """Pairs ``(i, j)`` and ``(j, i)`` for every ``j > i``, and the diagonal entry of ``i``."""
    p = indptr.shape[0] - 1
    rates[i, i] = 1.0
    lags[i, i] = 0
    ia = indices[indptr[i] : indptr[i + 1]]
    for j in range(i + 1, p):
        ib = indices[indptr[j] : indptr[j + 1]]
        _pair_counts(ia, ib, lag_window, counts)
        best, first, last = _best_of_counts(counts, n, lag_window)
        rates[i, j] = best
        rates[j, i] = best
        lags[i, j] = first
        lags[j, i] = -last


@njit(cache=True, parallel=True)
def _sync_matrix_kernel(indptr, indices, n, lag_window, rates, lags):
    """Sync rate and optimal lag of every ordered pair of series (CSR lists of event indices).

    The profile of ``(b, a)`` is that of ``(a, b)`` reversed (``τ → -τ``), so each unordered
    pair is merged once: ``rates[j, i] = rates[i, j]`` and ``lags[j, i]`` is minus the *last*
    argmax of the ``(i, j)`` profile (the first one of the reversed profile). Rows ``r`` and
    ``p - 1 - r`` go to the same parallel iteration, which gives every iteration ``p - 1`` pairs.
    """
    p = indptr.shape[0] - 1
    for r in prange((p + 1) // 2):
        counts = np.empty(2 * lag_window + 1, dtype=np.int64)
        _sync_row(r, indptr, indices, n, lag_window, counts, rates, lags)
        mirror = p - 1 - r
        if mirror != r:
            _sync_row(mirror, indptr, indices, n, lag_window, counts, rates, lags)


@njit(cache=True, parallel=True)
def _dynamic_sync_kernel(a, b, window, lag_window, rates, lags):
    """Sync rate and optimal lag inside every window ``a[s : s + window]``, ``b[s : s + window]``."""
    n_windows = rates.shape[0]
    for s in prange(n_windows):
        best = 0.0
        best_lag = 0
        for lag in range(-lag_window, lag_window + 1):
            count = 0
            start = s if lag >= 0 else s - lag
            stop = s + window - lag if lag >= 0 else s + window
            for t in range(start, stop):
                count += a[t] & b[t + lag]
            if count > 0:
                rate = count / (window - abs(lag))
                if rate > best:
                    best = rate
                    best_lag = lag
        rates[s] = best
        lags[s] = best_lag


# ----------------------------------------------------------------------------------------------
# Input checks (before Numba sees any data)


def _check_lag_window(lag_window, n, name="lag_window"):
    lag_window = check_int(lag_window, name, 0)
    if lag_window >= n:
        raise ValueError(
            f"{name} must be smaller than the number of steps ({n}): the lag-{lag_window} overlap "
            "would be empty."
        )
    return lag_window


def _event_lists(events):
    """CSR lists of the event indices of each column of a 2-D 0/1 array (sorted, int64)."""
    rows, cols = np.nonzero(events.T)
    indptr = np.zeros(events.shape[1] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=events.shape[1]), out=indptr[1:])
    return indptr, np.ascontiguousarray(cols, dtype=np.int64)


# ----------------------------------------------------------------------------------------------
# Public functions


def sync_profile(a, b, lag_window=10):
    """Synchronisation rate of two binary event series at every lag ``-L … L``.

    The rate at lag ``τ`` is the fraction of the ``n - |τ|`` overlapping steps where an
    event of ``a`` at ``t`` meets an event of ``b`` at ``t + τ`` (method §2):

    - ``τ = 0``: ``mean(a * b)``;
    - ``τ > 0``: ``mean(a[:-τ] * b[τ:])`` (``b`` follows ``a``);
    - ``τ < 0``: ``mean(a[-τ:] * b[:τ])`` (``b`` leads ``a``).

    Parameters
    ----------
    a, b : array-like of shape (n_steps,)
        Binary event series (0/1 or booleans) of equal length, e.g. ΔΛC⁺ jump events.
    lag_window : int, default=10
        Largest lag ``L``; must be ``< n_steps``.

    Returns
    -------
    lags : ndarray of shape (2 * lag_window + 1,), dtype int64
        The lags ``-L … L``.
    rates : ndarray of shape (2 * lag_window + 1,)
        The rate at each lag.
    sync_rate : float
        The largest rate.
    optimal_lag : int
        The lag of the first maximum (the most negative lag among ties); ``0``, with rate
        ``0``, when no events coincide at any lag.

    Raises
    ------
    TypeError
        If the events are not numeric or ``lag_window`` is not an integer.
    ValueError
        If ``a`` or ``b`` is not 1-D, their lengths differ, they hold values other than 0
        and 1, or ``lag_window`` is negative or not smaller than their length.

    Examples
    --------
    >>> from sklearn_lambda3.analysis import sync_profile
    >>> a = [1, 0, 0, 1, 0, 0, 0, 0]
    >>> b = [0, 1, 0, 0, 1, 0, 0, 0]
    >>> lags, rates, sync_rate, optimal_lag = sync_profile(a, b, lag_window=2)
    >>> lags
    array([-2, -1,  0,  1,  2])
    >>> rates.round(3)
    array([0.167, 0.   , 0.   , 0.286, 0.   ])
    >>> sync_rate, optimal_lag
    (0.2857142857142857, 1)
    """
    a = check_binary_events(a, "a", 1)
    b = check_binary_events(b, "b", 1)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same length; got {a.shape[0]} and {b.shape[0]}.")
    n = a.shape[0]
    if n < 1:
        raise ValueError("a and b must have at least one step.")
    lag_window = _check_lag_window(lag_window, n)
    counts = np.empty(2 * lag_window + 1, dtype=np.int64)
    _pair_counts(np.flatnonzero(a), np.flatnonzero(b), lag_window, counts)
    lags = np.arange(-lag_window, lag_window + 1, dtype=np.int64)
    rates = counts / (n - np.abs(lags))
    best, first, _ = _best_of_counts(counts, n, lag_window)
    return lags, rates, float(best), int(first)


def sync_matrix(events, lag_window=10):
    """Sync rate and optimal lag of every ordered pair of binary event series.

    Entry ``[i, j]`` is the ``sync_rate`` and ``optimal_lag`` of
    ``sync_profile(events[:, i], events[:, j], lag_window)``; the diagonal is set to rate 1
    and lag 0 (method §2). A positive lag means that series ``j`` follows series ``i``.

    Parameters
    ----------
    events : array-like or pandas DataFrame of shape (n_steps, n_series)
        Binary events (0/1 or booleans), one series per column, rows in time order, e.g.
        the ΔΛC⁺ columns of :class:`~sklearn_lambda3.Lambda3Features`.
    lag_window : int, default=10
        Largest lag ``L``; must be ``< n_steps``.

    Returns
    -------
    rates : ndarray or DataFrame of shape (n_series, n_series)
        Sync rates (float); a DataFrame indexed by the column names when ``events`` is one.
    lags : ndarray or DataFrame of shape (n_series, n_series)
        Optimal lags (int64), likewise.

    Raises
    ------
    TypeError
        If the events are not numeric or ``lag_window`` is not an integer.
    ValueError
        If ``events`` is not 2-D, holds values other than 0 and 1, or ``lag_window`` is
        negative or not smaller than ``n_steps``.

    Notes
    -----
    The work follows the events, not the steps: the coinciding events of a pair at all
    lags are counted by merging their sorted event indices, in
    O(events of both + coincidences); each unordered pair is merged once (the profile of
    ``(j, i)`` is that of ``(i, j)`` reversed) and the rows of the matrix run in parallel.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lambda3.analysis import sync_matrix
    >>> events = np.zeros((10, 3), dtype=int)
    >>> events[[1, 4, 7], 0] = 1
    >>> events[[3, 6, 9], 1] = 1   # follows series 0 two steps later
    >>> events[[0, 5], 2] = 1
    >>> rates, lags = sync_matrix(events, lag_window=3)
    >>> rates.round(3)
    array([[1.   , 0.375, 0.125],
           [0.375, 1.   , 0.143],
           [0.125, 0.143, 1.   ]])
    >>> lags
    array([[ 0,  2, -2],
           [-2,  0, -3],
           [ 2,  3,  0]])
    """
    array, names = check_events_2d(events)
    n, p = array.shape
    lag_window = _check_lag_window(lag_window, n)
    indptr, indices = _event_lists(array)
    rates = np.empty((p, p))
    lags = np.empty((p, p), dtype=np.int64)
    _sync_matrix_kernel(indptr, indices, n, lag_window, rates, lags)
    if names is not None:
        import pandas as pd

        return pd.DataFrame(rates, index=names, columns=names), pd.DataFrame(lags, index=names, columns=names)
    return rates, lags


def dynamic_sync(a, b, window=20, lag_window=10):
    """Sync rate and optimal lag of two binary event series in a sliding window.

    Element ``s`` (``s = 0 … n - window``) is the ``sync_rate`` and ``optimal_lag`` of
    ``sync_profile(a[s : s + window], b[s : s + window], min(lag_window, window - 1))``:
    the windows are the ``n - window + 1`` full windows, each starting at step ``s``, and
    within a window the rate at lag ``τ`` divides by its overlap ``window - |τ|``.

    Parameters
    ----------
    a, b : array-like of shape (n_steps,)
        Binary event series (0/1 or booleans) of equal length.
    window : int, default=20
        Length of the sliding window, ``1 <= window <= n_steps``.
    lag_window : int, default=10
        Largest lag ``L``, clipped to ``window - 1`` inside each window.

    Returns
    -------
    sync_rates : ndarray of shape (n_steps - window + 1,)
        The sync rate of each window.
    optimal_lags : ndarray of shape (n_steps - window + 1,), dtype int64
        The lag of the first maximum in each window (``0`` where no events coincide).

    Raises
    ------
    TypeError
        If the events are not numeric or a parameter is not an integer.
    ValueError
        If ``a`` or ``b`` is not 1-D, their lengths differ, they are not binary, ``window``
        is outside ``1 … n_steps`` or ``lag_window`` is negative.

    Examples
    --------
    >>> from sklearn_lambda3.analysis import dynamic_sync
    >>> a = [1, 0, 0, 0, 1, 0, 0, 0]
    >>> b = [0, 1, 0, 0, 0, 0, 0, 1]
    >>> rates, lags = dynamic_sync(a, b, window=4, lag_window=1)
    >>> rates.round(3)
    array([0.333, 0.   , 0.   , 0.   , 0.   ])
    >>> lags
    array([1, 0, 0, 0, 0])
    """
    a = check_binary_events(a, "a", 1)
    b = check_binary_events(b, "b", 1)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same length; got {a.shape[0]} and {b.shape[0]}.")
    n = a.shape[0]
    window = check_int(window, "window", 1)
    if window > n:
        raise ValueError(f"window must be at most the number of steps ({n}); got {window}.")
    lag_window = min(check_int(lag_window, "lag_window", 0), window - 1)
    rates = np.empty(n - window + 1)
    lags = np.empty(n - window + 1, dtype=np.int64)
    _dynamic_sync_kernel(a, b, window, lag_window, rates, lags)
    return rates, lags


def sync_network(events, lag_window=10, threshold=0.3, as_networkx=False):
    """Directed synchronisation network: an edge ``a → b`` where the sync rate ≥ threshold.

    The rates and lags are those of :func:`sync_matrix`; every ordered pair ``a ≠ b`` whose
    rate is at least ``threshold`` gives an edge weighted by the rate and labelled with the
    optimal lag (method §2). Both directions of a synchronised pair appear, with opposite lags.

    Parameters
    ----------
    events : array-like or pandas DataFrame of shape (n_steps, n_series)
        Binary events, one series per column; the series are named by the DataFrame's
        columns, else by their column numbers.
    lag_window : int, default=10
        Largest lag ``L``; must be ``< n_steps``.
    threshold : float, default=0.3
        Smallest sync rate that makes an edge.
    as_networkx : bool, default=False
        Return a :class:`networkx.DiGraph` (needs networkx) with every series as a node and
        edge attributes ``weight`` (the rate) and ``lag``.

    Returns
    -------
    edges : list of tuple (source, target, rate, lag) or networkx.DiGraph
        The edges, sources in column order and targets in column order within a source.

    Raises
    ------
    TypeError
        If the events are not numeric or a parameter has the wrong type.
    ValueError
        As :func:`sync_matrix`, or if ``threshold`` is not finite.
    ImportError
        If ``as_networkx=True`` and networkx is not installed.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lambda3.analysis import sync_network
    >>> events = np.zeros((10, 3), dtype=int)
    >>> events[[1, 4, 7], 0] = 1
    >>> events[[3, 6, 9], 1] = 1
    >>> events[[0, 5], 2] = 1
    >>> sync_network(events, lag_window=3, threshold=0.3)
    [(0, 1, 0.375, 2), (1, 0, 0.375, -2)]
    """
    threshold = check_real(threshold, "threshold")
    if not isinstance(as_networkx, bool | np.bool_):
        raise TypeError(f"as_networkx must be a bool; got {type(as_networkx).__name__}.")
    array, names = check_events_2d(events)
    lag_window = _check_lag_window(lag_window, array.shape[0])
    rates, lags = sync_matrix(array, lag_window)
    names = names if names is not None else list(range(array.shape[1]))
    edges = [
        (names[i], names[j], float(rates[i, j]), int(lags[i, j]))
        for i, j in zip(*np.nonzero(sync_edges(rates, threshold)), strict=True)
    ]
    if not as_networkx:
        return edges
    try:
        import networkx as nx
    except ImportError as exc:
        raise ImportError("as_networkx=True needs networkx: pip install networkx") from exc
    graph = nx.DiGraph()
    graph.add_nodes_from(names)
    for source, target, rate, lag in edges:
        graph.add_edge(source, target, weight=rate, lag=lag)
    return graph


def sync_edges(rates, threshold):
    """Which ordered pairs are edges of a sync network: ``i → j`` where ``rates[i, j] >= threshold``.

    The one rule by which a matrix of pair values (sync rates, or shares of coinciding
    events) becomes a network: every ordered pair of distinct series whose value reaches
    the threshold is an edge; a series is never linked to itself.

    Parameters
    ----------
    rates : array-like of shape (n_series, n_series)
        The value of each ordered pair ``[source, target]``; NaN is never an edge.
    threshold : float
        Smallest value that makes an edge.

    Returns
    -------
    edges : ndarray of bool of shape (n_series, n_series)
        ``edges[i, j]``: whether ``i → j`` is an edge; False on the diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lambda3._sync import sync_edges
    >>> sync_edges(np.array([[1.0, 0.4], [0.2, 1.0]]), 0.3)
    array([[False,  True],
           [False, False]])
    """
    edges = np.asarray(rates) >= threshold
    np.fill_diagonal(edges, False)
    return edges


def sync_shares(events, rates, lags):
    """Share of the rarer series' events that coincide with the other's, for every pair.

    Entry ``[a, b]`` counts the coinciding events of ``a`` and ``b`` at the pair's optimal lag
    (``rates[a, b] * (n_steps - |lags[a, b]|)``) over the events of whichever of the two has
    fewer: 1 when every event of the rarer series has a partner. A rate says how often the
    two jump together among all steps; a share says how much of their jumping is shared,
    which does not shrink with the series' length.

    Parameters
    ----------
    events : ndarray of shape (n_steps, n_series)
        Binary events, one series per column, as given to :func:`sync_matrix`.
    rates, lags : ndarray of shape (n_series, n_series)
        :func:`sync_matrix`'s rates and optimal lags of ``events``.

    Returns
    -------
    shares : ndarray of shape (n_series, n_series)
        In [0, 1]; 0 where either series has no event, 1 on the diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lambda3._sync import sync_matrix, sync_shares
    >>> events = np.zeros((10, 2), dtype=int)
    >>> events[[1, 4, 7], 0] = 1
    >>> events[[3, 6], 1] = 1   # two of series 0's three jumps, two steps later
    >>> rates, lags = sync_matrix(events, lag_window=3)
    >>> sync_shares(events, rates, lags)
    array([[1., 1.],
           [1., 1.]])
    """
    events = np.asarray(events)
    rates = np.asarray(rates)
    lags = np.asarray(lags)
    counts = events.sum(axis=0)
    n = events.shape[0]
    rarer = np.minimum.outer(counts, counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(rarer > 0, rates * (n - np.abs(lags)) / rarer, 0.0)
    shares = np.minimum(shares, 1.0)
    np.fill_diagonal(shares, 1.0)
    return shares


def share_links(shares, threshold=SYNC_SHARE_THRESHOLD):
    """Which series are linked: at least ``threshold`` of the rarer one's events shared.

    A pair is linked when its share (:func:`sync_shares`) reaches the threshold in either
    direction; the links are :func:`sync_edges` of the symmetrised shares.

    Parameters
    ----------
    shares : array-like of shape (n_series, n_series)
        :func:`sync_shares`.
    threshold : float, default=SYNC_SHARE_THRESHOLD
        Smallest share that links two series.

    Returns
    -------
    links : ndarray of bool of shape (n_series, n_series)
        Symmetric, False on the diagonal.
    """
    shares = np.asarray(shares, dtype=np.float64)
    return sync_edges(np.maximum(shares, shares.T), threshold)


def sync_clusters(shares, names, threshold=SYNC_SHARE_THRESHOLD):
    """Groups of series that jump together, from their shares of coinciding events.

    Average-linkage hierarchical clustering on the distance ``1 - share`` (the shares
    symmetrised, as in :func:`share_links`), cut at ``1 - threshold``: the members of a
    cluster are linked on average, though not necessarily each pair.

    Parameters
    ----------
    shares : array-like of shape (n_series, n_series)
        :func:`sync_shares`.
    names : sequence of str
        Names of the series, in the order of ``shares``.
    threshold : float, default=SYNC_SHARE_THRESHOLD
        Smallest average share within a cluster.

    Returns
    -------
    clusters : list of list of str
        The clusters of at least two series, each in series order; the largest first, ties
        in the order of their names.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lambda3._sync import sync_clusters
    >>> shares = np.array([[1.0, 0.9, 0.1], [0.9, 1.0, 0.0], [0.1, 0.0, 1.0]])
    >>> sync_clusters(shares, ["a", "b", "c"])
    [['a', 'b']]
    """
    shares = np.asarray(shares, dtype=np.float64)
    p = len(names)
    if p > 1:
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import squareform

        distance = 1.0 - np.maximum(shares, shares.T)
        np.fill_diagonal(distance, 0.0)
        tree = linkage(squareform(distance, checks=False), method="average")
        groups = fcluster(tree, t=1.0 - threshold, criterion="distance")
    else:
        groups = np.ones(1, dtype=int)
    clusters = [[names[k] for k in range(p) if groups[k] == g] for g in np.unique(groups)]
    return sorted((c for c in clusters if len(c) > 1), key=lambda c: (-len(c), c))


def sync_hubs(shares, names, threshold=SYNC_SHARE_THRESHOLD):
    """The hubs of the sync network: the series with the most links (:func:`share_links`).

    Parameters
    ----------
    shares : array-like of shape (n_series, n_series)
        :func:`sync_shares`.
    names : sequence of str
        Names of the series, in the order of ``shares``.
    threshold : float, default=SYNC_SHARE_THRESHOLD
        Smallest share that links two series.

    Returns
    -------
    hubs : list of (str, list of str)
        Each hub's name and its partners (the series it is linked to), in series order;
        every series that ties for the most links, none when no two series are linked.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lambda3._sync import sync_hubs
    >>> shares = np.array([[1.0, 0.5, 0.4], [0.5, 1.0, 0.0], [0.4, 0.0, 1.0]])
    >>> sync_hubs(shares, ["a", "b", "c"])
    [('a', ['b', 'c'])]
    """
    links = share_links(shares, threshold)
    degree = links.sum(axis=1)
    top = int(degree.max()) if len(names) else 0
    return [
        (names[k], [names[m] for m in np.flatnonzero(links[k])])
        for k in range(len(names))
        if top > 0 and degree[k] == top
    ]


def causality_matrix(pos_events, neg_events, lag=1):
    """Structural causality: P(ΔΛC⁻ of the target at ``t`` | ΔΛC⁺ of the source at ``t - k``).

    ``C[s, g] = Σ_t pos[t - k, s] · neg[t, g] / Σ_t pos[t - k, s]``, both sums over
    ``t = k … n - 1`` (so over the source's jumps at ``0 … n - 1 - k``, those whose
    consequence ``k`` steps later is observed); ``0`` when the source has no jump there
    (method §2). The diagonal is the self-causality of each series.

    Parameters
    ----------
    pos_events : array-like or pandas DataFrame of shape (n_steps, n_series)
        Binary ΔΛC⁺ events of the sources, one series per column.
    neg_events : array-like or pandas DataFrame of shape (n_steps, n_series)
        Binary ΔΛC⁻ events of the same series, in the same column order.
    lag : int, default=1
        The delay ``k >= 1``; must be ``< n_steps``.

    Returns
    -------
    C : ndarray or DataFrame of shape (n_series, n_series)
        ``C[source, target]``; a DataFrame when ``pos_events`` is one (its column names).

    Raises
    ------
    TypeError
        If the events are not numeric or ``lag`` is not an integer.
    ValueError
        If the arrays are not 2-D, differ in shape, are not binary, or ``lag`` is outside
        ``1 … n_steps - 1``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lambda3.analysis import causality_matrix
    >>> pos = np.array([[1, 0], [0, 0], [1, 1], [0, 0], [0, 0]])
    >>> neg = np.array([[0, 0], [0, 1], [0, 0], [1, 1], [0, 0]])
    >>> causality_matrix(pos, neg, lag=1)
    array([[0.5, 1. ],
           [1. , 1. ]])
    """
    pos, names = check_events_2d(pos_events, "pos_events")
    neg, _ = check_events_2d(neg_events, "neg_events")
    if pos.shape != neg.shape:
        raise ValueError(
            f"pos_events and neg_events must have the same shape; got {pos.shape} and {neg.shape}."
        )
    n = pos.shape[0]
    lag = check_int(lag, "lag", 1)
    if lag >= n:
        raise ValueError(f"lag must be smaller than the number of steps ({n}); got {lag}.")
    source = pos[: n - lag].astype(np.float64)
    joint = source.T @ neg[lag:].astype(np.float64)  # exact: integer counts
    totals = source.sum(axis=0)
    C = np.divide(joint, totals[:, None], out=np.zeros_like(joint), where=totals[:, None] > 0)
    if names is not None:
        import pandas as pd

        return pd.DataFrame(C, index=names, columns=names)
    return C
