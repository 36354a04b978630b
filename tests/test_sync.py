"""Synchronisation, causality, scale breaks and multi-scale features against plain-NumPy references."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_lambda3 import Lambda3Features
from sklearn_lambda3._sync import share_links, sync_clusters, sync_edges, sync_hubs, sync_shares
from sklearn_lambda3.analysis import (
    causality_matrix,
    dynamic_sync,
    multiscale_features,
    scale_breaks,
    sync_matrix,
    sync_network,
    sync_profile,
)

# ----------------------------------------------------------------------------------------------
# Dense references, written literally from the method's §1 and §2


def dense_profile(a, b, L):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    rates = []
    for tau in range(-L, L + 1):
        if tau == 0:
            rates.append(np.mean(a * b))
        elif tau > 0:
            rates.append(np.mean(a[:-tau] * b[tau:]))
        else:
            rates.append(np.mean(a[-tau:] * b[:tau]))
    rates = np.array(rates)
    if rates.max() == 0:
        return rates, 0.0, 0
    k = int(np.argmax(rates))
    return rates, float(rates[k]), k - L


def dense_matrix(events, L):
    p = events.shape[1]
    rates = np.eye(p)
    lags = np.zeros((p, p), dtype=np.int64)
    for i in range(p):
        for j in range(p):
            if i != j:
                _, rates[i, j], lags[i, j] = dense_profile(events[:, i], events[:, j], L)
    return rates, lags


def dense_causality(pos, neg, k):
    n, p = pos.shape
    C = np.zeros((p, p))
    for s in range(p):
        for g in range(p):
            num = sum(pos[t - k, s] * neg[t, g] for t in range(k, n))
            den = sum(pos[t - k, s] for t in range(k, n))
            C[s, g] = num / den if den > 0 else 0.0
    return C


def random_events(rng, n, p, rate):
    events = (rng.random((n, p)) < rate).astype(int)
    events[:, 0] = 0  # a series without events
    if p > 2:
        events[[0, n - 1], 1] = 1  # events at both edges
        events[[0, n - 1], 2] = 1
    return events


# ----------------------------------------------------------------------------------------------
# sync_profile


def test_profile_hand_computed():
    a = [1, 0, 0, 1, 0, 0, 0, 0]
    b = [0, 1, 0, 0, 1, 0, 0, 0]
    lags, rates, rate, lag = sync_profile(a, b, lag_window=2)
    np.testing.assert_array_equal(lags, [-2, -1, 0, 1, 2])
    # τ=-2: a[2:]*b[:-2] has a[3]b[1] -> 1/6; τ=1: a[0]b[1], a[3]b[4] -> 2/7
    np.testing.assert_allclose(rates, [1 / 6, 0, 0, 2 / 7, 0])
    assert (rate, lag) == (2 / 7, 1)


def test_profile_no_coincidence_gives_zero():
    lags, rates, rate, lag = sync_profile([1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1], lag_window=2)
    assert rate == 0.0 and lag == 0 and not rates.any()
    assert sync_profile(np.zeros(5), np.zeros(5), 1)[2:] == (0.0, 0)


def test_profile_first_maximum_on_ties():
    # a at 2; b at 1 and 3: lags -1 and +1 both give 1/(n-1); the first (-1) wins.
    _, rates, rate, lag = sync_profile([0, 0, 1, 0, 0], [0, 1, 0, 1, 0], lag_window=2)
    assert rates[1] == rates[3] == rate and lag == -1


def test_profile_accepts_booleans():
    a = np.array([True, False, True])
    assert sync_profile(a, a, 1)[2:] == (2 / 3, 0)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    n=st.integers(1, 40),
    L=st.integers(0, 12),
    rate=st.sampled_from([0.05, 0.3, 0.8]),
)
def test_profile_matches_dense(seed, n, L, rate):
    if L >= n:
        return
    rng = np.random.default_rng(seed)
    a, b = (rng.random((2, n)) < rate).astype(int)
    lags, rates, best, lag = sync_profile(a, b, L)
    ref_rates, ref_best, ref_lag = dense_profile(a, b, L)
    np.testing.assert_array_equal(lags, np.arange(-L, L + 1))
    np.testing.assert_allclose(rates, ref_rates, rtol=1e-15, atol=0)
    assert best == ref_best and lag == ref_lag


# ----------------------------------------------------------------------------------------------
# sync_matrix


@pytest.mark.parametrize("L", [0, 1, 3, 10])
@pytest.mark.parametrize("rate", [0.03, 0.2, 0.7])
def test_matrix_matches_dense(L, rate):
    rng = np.random.default_rng(L * 100 + int(rate * 100))
    events = random_events(rng, 60, 7, rate)
    rates, lags = sync_matrix(events, lag_window=L)
    ref_rates, ref_lags = dense_matrix(events, L)
    np.testing.assert_allclose(rates, ref_rates, rtol=1e-15, atol=0)
    np.testing.assert_array_equal(lags, ref_lags)
    assert lags.dtype == np.int64


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    n=st.integers(2, 30),
    p=st.integers(1, 6),
    L=st.integers(0, 8),
    rate=st.sampled_from([0.05, 0.3, 0.9]),
)
def test_matrix_matches_dense_property(seed, n, p, L, rate):
    if L >= n:
        return
    rng = np.random.default_rng(seed)
    events = (rng.random((n, p)) < rate).astype(np.uint8)
    rates, lags = sync_matrix(events, lag_window=L)
    ref_rates, ref_lags = dense_matrix(events, L)
    np.testing.assert_allclose(rates, ref_rates, rtol=1e-15, atol=0)
    np.testing.assert_array_equal(lags, ref_lags)
    # The rate is symmetric; lags are opposite unless there are ties.
    np.testing.assert_array_equal(rates, rates.T)


def test_matrix_hand_computed_and_diagonal():
    events = np.zeros((10, 3), dtype=int)
    events[[1, 4, 7], 0] = 1
    events[[3, 6, 9], 1] = 1
    rates, lags = sync_matrix(events, lag_window=3)
    assert rates[0, 1] == rates[1, 0] == 3 / 8
    assert lags[0, 1] == 2 and lags[1, 0] == -2
    assert rates[2, 2] == 1.0 and lags[2, 2] == 0  # diagonal even without events
    assert rates[0, 2] == 0.0 and lags[0, 2] == 0


def test_matrix_dataframe_keeps_names():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(random_events(rng, 50, 3, 0.3), columns=["x", "y", "z"])
    rates, lags = sync_matrix(frame, lag_window=4)
    assert list(rates.index) == list(rates.columns) == ["x", "y", "z"]
    assert list(lags.columns) == ["x", "y", "z"]
    ref_rates, ref_lags = dense_matrix(frame.to_numpy(), 4)
    np.testing.assert_allclose(rates.to_numpy(), ref_rates)
    np.testing.assert_array_equal(lags.to_numpy(), ref_lags)


def test_matrix_large_sparse_matches_blocked_reference():
    """A long, sparse case against a dense reference over all lags at once (one matmul per lag)."""
    rng = np.random.default_rng(1)
    n, p, L = 5000, 12, 10
    events = (rng.random((n, p)) < 0.03).astype(float)
    rates, lags = sync_matrix(events, lag_window=L)
    profile = np.empty((2 * L + 1, p, p))
    for k, tau in enumerate(range(-L, L + 1)):
        a, b = (events[: n - tau], events[tau:]) if tau >= 0 else (events[-tau:], events[: n + tau])
        profile[k] = a.T @ b / (n - abs(tau))
    best = profile.max(axis=0)
    ref_lags = np.where(best > 0, profile.argmax(axis=0) - L, 0)
    np.fill_diagonal(best, 1.0)
    np.fill_diagonal(ref_lags, 0)
    np.testing.assert_allclose(rates, best, rtol=1e-15)
    np.testing.assert_array_equal(lags, ref_lags)


# ----------------------------------------------------------------------------------------------
# dynamic_sync


def dense_dynamic(a, b, window, L):
    out_rates, out_lags = [], []
    for s in range(len(a) - window + 1):
        _, rate, lag = dense_profile(a[s : s + window], b[s : s + window], min(L, window - 1))
        out_rates.append(rate)
        out_lags.append(lag)
    return np.array(out_rates), np.array(out_lags)


def test_dynamic_hand_computed():
    a = [1, 0, 0, 0, 1, 0, 0, 0]
    b = [0, 1, 0, 0, 0, 0, 0, 1]
    rates, lags = dynamic_sync(a, b, window=4, lag_window=1)
    np.testing.assert_allclose(rates, [1 / 3, 0, 0, 0, 0])
    np.testing.assert_array_equal(lags, [1, 0, 0, 0, 0])


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    n=st.integers(1, 50),
    window=st.integers(1, 25),
    L=st.integers(0, 30),
    rate=st.sampled_from([0.1, 0.4]),
)
def test_dynamic_matches_dense(seed, n, window, L, rate):
    if window > n:
        return
    rng = np.random.default_rng(seed)
    a, b = (rng.random((2, n)) < rate).astype(int)
    rates, lags = dynamic_sync(a, b, window=window, lag_window=L)
    ref_rates, ref_lags = dense_dynamic(a, b, window, L)
    assert rates.shape == (n - window + 1,)
    np.testing.assert_allclose(rates, ref_rates, rtol=1e-15, atol=0)
    np.testing.assert_array_equal(lags, ref_lags)


def test_dynamic_whole_window_equals_profile():
    rng = np.random.default_rng(3)
    a, b = (rng.random((2, 40)) < 0.2).astype(int)
    rates, lags = dynamic_sync(a, b, window=40, lag_window=5)
    assert (rates[0], lags[0]) == sync_profile(a, b, 5)[2:]


# ----------------------------------------------------------------------------------------------
# sync_network


def test_network_edges():
    events = np.zeros((10, 3), dtype=int)
    events[[1, 4, 7], 0] = 1
    events[[3, 6, 9], 1] = 1
    events[[0, 5], 2] = 1
    assert sync_network(events, lag_window=3, threshold=0.3) == [(0, 1, 0.375, 2), (1, 0, 0.375, -2)]
    edges = sync_network(events, lag_window=3, threshold=0.0)
    assert len(edges) == 6 and all(s != t for s, t, _, _ in edges)
    assert sync_network(events, lag_window=3, threshold=0.5) == []


def test_network_matches_matrix_and_names():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(random_events(rng, 40, 4, 0.4), columns=list("abcd"))
    rates, lags = sync_matrix(frame, lag_window=3)
    edges = sync_network(frame, lag_window=3, threshold=0.2)
    expected = [
        (s, t, rates.loc[s, t], lags.loc[s, t])
        for s in "abcd"
        for t in "abcd"
        if s != t and rates.loc[s, t] >= 0.2
    ]
    assert edges == expected
    assert all(isinstance(rate, float) and isinstance(lag, int) for _, _, rate, lag in edges)


def test_network_networkx():
    nx = pytest.importorskip("networkx")
    events = np.zeros((10, 3), dtype=int)
    events[[1, 4, 7], 0] = 1
    events[[3, 6, 9], 1] = 1
    graph = sync_network(events, lag_window=3, threshold=0.3, as_networkx=True)
    assert isinstance(graph, nx.DiGraph)
    assert set(graph.nodes) == {0, 1, 2}
    assert graph.edges[0, 1] == {"weight": 0.375, "lag": 2}
    assert graph.edges[1, 0]["lag"] == -2 and graph.number_of_edges() == 2


# ----------------------------------------------------------------------------------------------
# causality_matrix


def test_causality_hand_computed():
    pos = np.array([[1, 0], [0, 0], [1, 1], [0, 0], [0, 0]])
    neg = np.array([[0, 0], [0, 1], [0, 0], [1, 1], [0, 0]])
    np.testing.assert_array_equal(causality_matrix(pos, neg, lag=1), [[0.5, 1.0], [1.0, 1.0]])
    # lag 2: source 0 jumps at 0 and 2 -> targets at 2 and 4; source 1 at 2 -> 4.
    np.testing.assert_array_equal(causality_matrix(pos, neg, lag=2), [[0.0, 0.0], [0.0, 0.0]])


def test_causality_source_jump_out_of_range_is_ignored():
    # The only positive jump is at the last step: no consequence observed, C = 0.
    pos = np.array([[0], [0], [1]])
    neg = np.array([[1], [1], [1]])
    assert causality_matrix(pos, neg, lag=1)[0, 0] == 0.0


@pytest.mark.parametrize("k", [1, 2, 5])
def test_causality_matches_dense(k):
    rng = np.random.default_rng(k)
    pos = random_events(rng, 40, 5, 0.2)
    neg = (rng.random((40, 5)) < 0.3).astype(int)
    np.testing.assert_allclose(causality_matrix(pos, neg, lag=k), dense_causality(pos, neg, k), rtol=1e-15)


def test_causality_dataframe():
    rng = np.random.default_rng(2)
    pos = pd.DataFrame((rng.random((30, 2)) < 0.3).astype(int), columns=["u", "v"])
    neg = pd.DataFrame((rng.random((30, 2)) < 0.3).astype(int), columns=["u", "v"])
    C = causality_matrix(pos, neg)
    assert list(C.index) == list(C.columns) == ["u", "v"]
    np.testing.assert_allclose(C.to_numpy(), dense_causality(pos.to_numpy(), neg.to_numpy(), 1))


# ----------------------------------------------------------------------------------------------
# scale_breaks and multiscale_features


def dense_breaks(rho, window, k):
    rho = np.asarray(rho, dtype=float)
    kept = []
    for t in range(len(rho)):
        if rho[t] > rho.mean() + k * rho.std() and (not kept or t - kept[-1] >= window):
            kept.append(t)
    return kept


def test_scale_breaks_hand_computed():
    rho = [0.0, 0.0, 9.0, 9.0, 0.0, 0.0, 0.0, 9.0, 0.0, 0.0, 0.0, 0.0]
    np.testing.assert_array_equal(scale_breaks(rho, window=3, k=1.0), [2, 7])
    np.testing.assert_array_equal(scale_breaks(rho, window=1, k=1.0), [2, 3, 7])
    np.testing.assert_array_equal(scale_breaks(rho, window=6, k=1.0), [2])
    assert scale_breaks(np.ones(10), window=2).shape == (0,)
    assert scale_breaks(rho, window=3).dtype == np.int64


def test_scale_breaks_keeps_relative_to_last_kept():
    # 0 kept; 2 dropped (closer than 3 to 0); 3 kept (3 away from 0, even though 1 from dropped 2).
    rho = np.zeros(30)
    rho[[0, 2, 3]] = 10.0
    np.testing.assert_array_equal(scale_breaks(rho, window=3, k=1.0), [0, 3])


@settings(max_examples=50, deadline=None)
@given(
    values=st.lists(st.floats(0, 100), min_size=1, max_size=40),
    window=st.integers(1, 10),
    k=st.floats(-1, 3),
)
def test_scale_breaks_matches_dense(values, window, k):
    breaks = scale_breaks(values, window, k)
    assert list(breaks) == dense_breaks(values, window, k)
    assert np.all(np.diff(breaks) >= window)


def test_multiscale_features_columns():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 2)).cumsum(axis=0)
    features, names = multiscale_features(X, windows=(5, 20), return_names=True)
    assert features.shape == (120, 8)
    assert list(names[:4]) == ["x0__rho_T__w5", "x0__local_jump__w5", "x0__rho_T__w20", "x0__local_jump__w20"]
    assert names[4] == "x1__rho_T__w5"
    for w, col in [(5, 0), (20, 2)]:
        reference = Lambda3Features(window=w, local_window=w).fit_transform(X)
        np.testing.assert_array_equal(features[:, col], reference[:, 2])  # x0 rho_T
        np.testing.assert_array_equal(features[:, col + 1], reference[:, 3])  # x0 local_jump
        np.testing.assert_array_equal(features[:, col + 4], reference[:, 6])  # x1 rho_T
    plain = multiscale_features(X, windows=(5, 20))
    np.testing.assert_array_equal(plain, features)


def test_multiscale_features_default_windows_and_dataframe():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.standard_normal((80, 1)), columns=["price"], index=np.arange(80) + 100)
    out = multiscale_features(frame)
    assert list(out.columns) == [
        f"price__{s}__w{w}" for w in (5, 10, 20, 50) for s in ("rho_T", "local_jump")
    ]
    assert list(out.index) == list(frame.index)
    assert len(scale_breaks(out["price__rho_T__w10"].to_numpy(), 10)) >= 0


# ----------------------------------------------------------------------------------------------
# Errors


GOOD = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: sync_profile([[1, 0]], [[1, 0]]), ValueError, "1-D"),
        (lambda: sync_profile([1, 0, 1], [1, 0]), ValueError, "same length"),
        (lambda: sync_profile([1, 2, 0], [1, 0, 0], 1), ValueError, "binary"),
        (lambda: sync_profile([0.5, 0, 0], [1, 0, 0], 1), ValueError, "binary"),
        (lambda: sync_profile([1, 0, 0], [1, 0, 0], -1), ValueError, ">= 0"),
        (lambda: sync_profile([1, 0, 0], [1, 0, 0], 3), ValueError, "smaller than the number of steps"),
        (lambda: sync_profile([1, 0, 0], [1, 0, 0], 1.5), TypeError, "integer"),
        (lambda: sync_profile(["a", "b"], [1, 0], 1), TypeError, "numeric"),
        (lambda: sync_profile([], [], 0), ValueError, "at least one"),
        (lambda: sync_matrix([1, 0, 1]), ValueError, "2-D"),
        (lambda: sync_matrix(np.ones((2, 2, 2))), ValueError, "2-D"),
        (lambda: sync_matrix(GOOD * 3, 1), ValueError, "binary"),
        (lambda: sync_matrix(GOOD, -2), ValueError, ">= 0"),
        (lambda: sync_matrix(GOOD, 4), ValueError, "smaller"),
        (lambda: sync_matrix(GOOD, True), TypeError, "integer"),
        (lambda: sync_matrix(np.zeros((0, 3)), 0), ValueError, "at least one"),
        (lambda: dynamic_sync([1, 0, 1], [1, 0, 1], window=4), ValueError, "at most"),
        (lambda: dynamic_sync([1, 0, 1], [1, 0, 1], window=0), ValueError, ">= 1"),
        (lambda: dynamic_sync([1, 0, 1], [1, 0, 1], window=2, lag_window=-1), ValueError, ">= 0"),
        (lambda: dynamic_sync([1, 0, 1], [1, 0], window=2), ValueError, "same length"),
        (lambda: dynamic_sync([1, 0, 5], [1, 0, 1], window=2), ValueError, "binary"),
        (lambda: sync_network(GOOD, 1, threshold="high"), TypeError, "real number"),
        (lambda: sync_network(GOOD, 1, threshold=np.nan), ValueError, "finite"),
        (lambda: sync_network(GOOD, 1, as_networkx="yes"), TypeError, "bool"),
        (lambda: sync_network(GOOD, 9), ValueError, "smaller"),
        (lambda: causality_matrix(GOOD, GOOD[:3]), ValueError, "same shape"),
        (lambda: causality_matrix(GOOD, GOOD, lag=0), ValueError, ">= 1"),
        (lambda: causality_matrix(GOOD, GOOD, lag=4), ValueError, "smaller"),
        (lambda: causality_matrix(GOOD * 2, GOOD), ValueError, "binary"),
        (lambda: causality_matrix(GOOD[:, 0], GOOD[:, 0]), ValueError, "2-D"),
        (lambda: scale_breaks([[1.0, 2.0]], 2), ValueError, "1-D"),
        (lambda: scale_breaks([1.0, np.nan], 2), ValueError, "NaN"),
        (lambda: scale_breaks([], 2), ValueError, "at least one"),
        (lambda: scale_breaks([1.0, 2.0], 0), ValueError, ">= 1"),
        (lambda: scale_breaks([1.0, 2.0], 2, k=np.inf), ValueError, "finite"),
        (lambda: scale_breaks(["x"], 2), TypeError, "real numbers"),
        (lambda: multiscale_features(np.ones((10, 1)), windows=()), ValueError, "at least one"),
        (lambda: multiscale_features(np.ones((10, 1)), windows=(5, 5)), ValueError, "distinct"),
        (lambda: multiscale_features(np.ones((10, 1)), windows=(0,)), ValueError, ">= 1"),
        (lambda: multiscale_features(np.ones((10, 1)), windows=5), TypeError, "sequence"),
        (lambda: multiscale_features(np.ones((10, 1)), windows=(2.5,)), TypeError, "integer"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ----------------------------------------------------------------------------------------------
# The sync network's edges, shares, clusters and hubs (hand-computed cases)


def test_sync_edges_is_the_rule_of_sync_network():
    rates = np.array([[1.0, 0.3, 0.29], [0.5, 1.0, np.nan], [0.0, 0.31, 1.0]])
    expected = np.array([[False, True, False], [True, False, False], [False, True, False]])
    np.testing.assert_array_equal(sync_edges(rates, 0.3), expected)
    events = np.zeros((10, 3), dtype=int)
    events[[1, 4, 7], 0] = 1
    events[[3, 6, 9], 1] = 1
    events[[0, 5], 2] = 1
    rates, lags = sync_matrix(events, lag_window=3)
    edges = sync_network(events, lag_window=3, threshold=0.13)
    assert [(i, j) for i, j, _, _ in edges] == [tuple(pair) for pair in np.argwhere(sync_edges(rates, 0.13))]


def test_sync_shares_by_hand():
    events = np.zeros((10, 3), dtype=int)
    events[[1, 4, 7], 0] = 1
    events[[3, 6], 1] = 1  # 1 -> 3 and 4 -> 6: both of series 1's jumps, two steps after series 0's
    events[[0, 5], 2] = 1  # 7 -> 5 at lag -2: one of its two jumps
    rates, lags = sync_matrix(events, lag_window=3)
    assert lags[0, 1] == 2 and lags[0, 2] == -2
    shares = sync_shares(events, rates, lags)
    # (1, 2): one coincidence (3 -> 0, lag -3, rate 1/7) of the two jumps of either.
    expected = np.array([[1.0, 1.0, 0.5], [1.0, 1.0, 0.5], [0.5, 0.5, 1.0]])
    np.testing.assert_allclose(shares, expected, rtol=1e-12)
    quiet = np.column_stack([events[:, 0], np.zeros(10, dtype=int)])
    rates, lags = sync_matrix(quiet, lag_window=3)
    np.testing.assert_array_equal(sync_shares(quiet, rates, lags), [[1.0, 0.0], [0.0, 1.0]])


def test_share_links_clusters_and_hubs_by_hand():
    names = ["a", "b", "c", "d"]
    # a-b share 0.9, a-c 0.6, b-c only 0.2 (one direction 0.1), d shares nothing.
    shares = np.array(
        [
            [1.0, 0.9, 0.6, 0.0],
            [0.9, 1.0, 0.1, 0.0],
            [0.6, 0.2, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ]
    )
    links = share_links(shares)
    np.testing.assert_array_equal(links, [[0, 1, 1, 0], [1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]])
    # Average linkage: c is 0.4 from a and 0.8 from b, 0.6 from {a, b} on average, within 0.7.
    assert sync_clusters(shares, names) == [["a", "b", "c"]]
    assert sync_clusters(shares, names, threshold=0.5) == [["a", "b"]]  # cut at 0.5
    assert sync_hubs(shares, names) == [("a", ["b", "c"])]
    # a tie: both ends of the only link are hubs; no link, no hub.
    assert sync_hubs(shares, names, threshold=0.7) == [("a", ["b"]), ("b", ["a"])]
    assert sync_hubs(np.eye(3), names[:3]) == [] and sync_clusters(np.eye(3), names[:3]) == []
    assert sync_clusters(np.eye(1), ["a"]) == [] and sync_hubs(np.eye(1), ["a"]) == []
    # Clusters in series order, the larger first, then by their names.
    pairs = np.eye(5)
    for i, j, share in [(0, 3, 0.9), (1, 2, 0.9), (2, 4, 0.9), (1, 4, 0.9)]:
        pairs[i, j] = pairs[j, i] = share
    assert sync_clusters(pairs, ["y", "z", "x", "w", "v"]) == [["z", "x", "v"], ["y", "w"]]
    assert sync_clusters(pairs[:4, :4], ["y", "z", "x", "w"]) == [["y", "w"], ["z", "x"]]
