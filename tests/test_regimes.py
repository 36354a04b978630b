"""Regimes: hand-computed statistics, recovery of calm and volatile stretches and of a Markov
chain of volatility, errors."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from sklearn_lambda3 import Lambda3Features
from sklearn_lambda3.analysis import RegimeResult, detect_regimes


def stretches(seed, lengths=(300, 150, 300, 150, 300), calm=0.1, volatile=2.0):
    """Noise whose scale alternates calm / volatile; returns the series and the true stretch of each step."""
    rng = np.random.default_rng(seed)
    parts = [rng.normal(0, calm if i % 2 == 0 else volatile, m) for i, m in enumerate(lengths)]
    truth = np.concatenate([np.full(m, i % 2) for i, m in enumerate(lengths)])
    return np.concatenate(parts), truth


def volatility_chain(seed, n, transition, scales):
    """Noise whose scale follows a two-state Markov chain started in state 0; series and states."""
    rng = np.random.default_rng(seed)
    uniform = rng.random(n)
    states = np.zeros(n, dtype=np.int64)
    for t in range(1, n):
        stay = uniform[t] < transition[states[t - 1], states[t - 1]]
        states[t] = states[t - 1] if stay else 1 - states[t - 1]
    return rng.normal(0.0, np.asarray(scales)[states]), states


def mean_run(result):
    return float(np.mean(np.concatenate(result.durations)))


def majority_accuracy(labels, truth):
    """Accuracy after mapping each regime to the stretch most of its steps belong to."""
    mapped = np.empty_like(truth)
    for r in np.unique(labels):
        mapped[labels == r] = np.bincount(truth[labels == r]).argmax()
    return float(np.mean(mapped == truth))


def test_hand_computed_statistics():
    rho = np.array([0.0, 0.0, 0.0, 5.0, 5.0, 0.0, 0.0, 5.0])
    pos = np.array([0, 0, 0, 1, 1, 0, 0, 1])  # the jumps come with the tension
    neg = np.zeros(8)
    level = np.arange(8.0)
    result = detect_regimes(np.c_[pos, neg, rho], n_regimes=2, random_state=0, level=level)
    assert isinstance(result, RegimeResult)
    np.testing.assert_array_equal(result.labels, [0, 0, 0, 1, 1, 0, 0, 1])
    np.testing.assert_allclose(result.frequency, [5 / 8, 3 / 8])
    np.testing.assert_allclose(result.mean_tension, [0.0, 5.0])
    np.testing.assert_allclose(result.pos_jump_rate, [0.0, 1.0])
    np.testing.assert_allclose(result.neg_jump_rate, [0.0, 0.0])
    np.testing.assert_allclose(result.mean_level, [(0 + 1 + 2 + 5 + 6) / 5, (3 + 4 + 7) / 3])
    np.testing.assert_array_equal(result.durations[0], [3, 2])
    np.testing.assert_array_equal(result.durations[1], [2, 1])
    # From 0: 0→0 at t=0,1,5; 0→1 at t=2,6. From 1: 1→1 at t=3; 1→0 at t=4.
    np.testing.assert_allclose(result.transition_matrix, [[0.6, 0.4], [0.5, 0.5]])
    assert result.labels.dtype == np.int64


def test_regime_only_at_last_step_stays():
    rho = np.array([0.0, 0.0, 0.0, 0.0, 9.0])
    result = detect_regimes(np.c_[np.zeros(5), np.zeros(5), rho], n_regimes=2, random_state=0)
    np.testing.assert_array_equal(result.labels, [0, 0, 0, 0, 1])
    np.testing.assert_allclose(result.transition_matrix, [[0.75, 0.25], [0.0, 1.0]])
    assert result.mean_level is None


@pytest.mark.parametrize("seed", range(4))
def test_recovers_calm_and_volatile_stretches(seed):
    """Default features: regimes calm, volatile and one per jump sign (see the Notes)."""
    x, truth = stretches(seed)
    features = Lambda3Features().fit_transform(x[:, None])
    result = detect_regimes(features, n_regimes=4, random_state=seed, level=x)
    assert majority_accuracy(result.labels, truth) >= 0.95
    # Regime 0 (lowest tension) is the calm stretches, up to the ρT window at their starts.
    assert np.mean(truth[result.labels == 0] == 0) >= 0.97
    assert np.mean(result.labels[truth == 0] == 0) >= 0.97
    np.testing.assert_allclose(result.transition_matrix.sum(axis=1), 1.0)
    assert sum(d.sum() for d in result.durations) == len(x)
    np.testing.assert_allclose(result.frequency, np.bincount(result.labels, minlength=4) / len(x))


@pytest.mark.parametrize("seed", range(4))
def test_two_tension_regimes_without_jumps(seed):
    x, truth = stretches(seed)
    features = Lambda3Features(delta_percentile=100).fit_transform(x[:, None])
    assert not features[:, :2].any()
    result = detect_regimes(features, n_regimes=2, random_state=seed)
    # Numbered by tension, so no matching is needed: 0 = calm, 1 = volatile.
    assert np.mean(result.labels == truth) >= 0.97
    assert result.mean_tension[0] < result.mean_tension[1]
    # Five stretches: three long calm runs, and long volatile runs.
    assert np.all(np.sort(result.durations[0])[-3:] >= 250)
    assert result.durations[1].max() >= 100  # volatile ρT dips now and then, splitting a stretch
    assert result.transition_matrix[0, 0] > 0.98 and result.transition_matrix[1, 1] > 0.95


def test_dataframe_columns_picked_by_name():
    x, _ = stretches(0)
    frame = pd.DataFrame({"price": x})
    features = Lambda3Features().set_output(transform="pandas").fit_transform(frame)
    shuffled = features[
        ["price__rho_T", "price__local_jump", "price__delta_LambdaC_neg", "price__delta_LambdaC_pos"]
    ]
    a = detect_regimes(features, n_regimes=4, random_state=0)
    b = detect_regimes(shuffled, n_regimes=4, random_state=0)
    c = detect_regimes(features.to_numpy()[:, :3], n_regimes=4, random_state=0)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.labels, c.labels)


def test_random_state_reproducible():
    x, _ = stretches(1)
    features = Lambda3Features().fit_transform(x[:, None])
    a = detect_regimes(features, random_state=np.random.RandomState(3))
    b = detect_regimes(features, random_state=np.random.RandomState(3))
    np.testing.assert_array_equal(a.labels, b.labels)


@pytest.mark.parametrize("method", ["kmeans", "hmm"])
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(2, 60), k=st.integers(1, 4))
def test_invariants(method, seed, n, k):
    if k > n:
        return
    rng = np.random.default_rng(seed)
    u = rng.random(n)
    features = np.c_[u < 0.1, u > 0.9, rng.gamma(2.0, 1.0, n)].astype(float)
    level = rng.standard_normal(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # k-means: fewer distinct points than k
        result = detect_regimes(features, n_regimes=k, random_state=0, level=level, method=method)
    assert result.labels.shape == (n,) and set(result.labels) <= set(range(k))
    np.testing.assert_allclose(result.transition_matrix.sum(axis=1), 1.0)
    assert np.all(result.transition_matrix >= 0)
    assert sum(d.sum() for d in result.durations) == n
    assert result.frequency.sum() == pytest.approx(1.0)
    for r in range(k):
        steps = result.labels == r
        if steps.any():
            assert result.mean_level[r] == pytest.approx(level[steps].mean())
            assert result.mean_tension[r] == pytest.approx(features[steps, 2].mean())
    present = result.mean_tension[~np.isnan(result.mean_tension)]
    assert np.all(np.diff(present) >= 0)
    assert np.all(np.isnan(result.mean_tension[len(present) :]))  # empty regimes last
    if method == "hmm":
        np.testing.assert_allclose(result.fitted_transition_matrix.sum(axis=1), 1.0)
        np.testing.assert_allclose(result.state_probabilities.sum(axis=1), 1.0)
        assert result.state_probabilities.shape == (n, k)
        assert np.isfinite(result.log_likelihood)


GOOD = np.c_[np.zeros(10), np.zeros(10), np.arange(10.0)]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"features": np.arange(10.0)}, ValueError, "2-D"),
        ({"features": np.zeros((10, 5))}, ValueError, "2-D with the columns"),
        ({"features": np.zeros((10, 2))}, ValueError, "2-D with the columns"),
        ({"features": np.c_[GOOD[:, :2], np.r_[np.nan, np.ones(9)]]}, ValueError, "NaN"),
        ({"features": np.c_[np.full(10, 2.0), GOOD[:, 1:]]}, ValueError, "binary"),
        ({"features": [["a", "b", "c"]]}, TypeError, "real numbers"),
        ({"features": GOOD, "n_regimes": 0}, ValueError, "between 1"),
        ({"features": GOOD, "n_regimes": 11}, ValueError, "between 1"),
        ({"features": GOOD, "n_regimes": 2.0}, TypeError, "integer"),
        ({"features": GOOD, "level": np.ones(9)}, ValueError, "shape"),
        ({"features": GOOD, "level": np.r_[np.inf, np.ones(9)]}, ValueError, "NaN or infinite"),
        ({"features": GOOD, "level": ["x"] * 10}, TypeError, "real numbers"),
        ({"features": GOOD, "method": "markov"}, ValueError, "method must be one of"),
        ({"features": GOOD, "method": "HMM"}, ValueError, "method must be one of"),
        ({"features": GOOD, "method": None}, TypeError, "method must be a string"),
        ({"features": GOOD, "method": "hmm", "max_iter": 0}, ValueError, "max_iter must be >= 1"),
        ({"features": GOOD, "method": "hmm", "max_iter": 2.5}, TypeError, "max_iter must be an integer"),
        ({"features": GOOD, "method": "hmm", "tol": 0.0}, ValueError, "tol must be > 0"),
        ({"features": GOOD, "method": "hmm", "tol": float("nan")}, ValueError, "tol must be > 0"),
        ({"features": GOOD, "method": "hmm", "tol": "small"}, TypeError, "tol must be a real number"),
    ],
)
def test_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        detect_regimes(**kwargs)


def test_several_series_in_a_frame_is_an_error():
    X = np.random.default_rng(0).standard_normal((50, 2))
    frame = pd.DataFrame(X, columns=["a", "b"])
    features = Lambda3Features().set_output(transform="pandas").fit_transform(frame)
    with pytest.raises(ValueError, match="several columns"):
        detect_regimes(features)


# The hidden Markov model.


def test_kmeans_is_the_default_and_has_no_model_fields():
    x, _ = stretches(0)
    features = Lambda3Features().fit_transform(x[:, None])
    default = detect_regimes(features, 3, 0, x)  # the positional call of the report
    explicit = detect_regimes(features, 3, 0, x, method="kmeans")
    np.testing.assert_array_equal(default.labels, explicit.labels)
    assert default.method == "kmeans"
    assert default.fitted_transition_matrix is None and default.expected_durations is None
    assert default.state_probabilities is None and default.log_likelihood is None


@pytest.mark.parametrize("seed", range(3))
def test_hmm_recovers_a_markov_chain_of_volatility(seed):
    """Volatility switching by a known chain: the states, the transition matrix and the durations."""
    transition = np.array([[0.995, 0.005], [0.01, 0.99]])
    x, states = volatility_chain(seed, 6000, transition, (0.5, 2.0))
    features = Lambda3Features().fit_transform(x[:, None])
    hmm = detect_regimes(features, 2, seed, x, method="hmm")
    kmeans = detect_regimes(features, 2, seed, x)
    assert hmm.method == "hmm"
    # Numbered by tension, 0 = calm as in the truth; the trailing ρT window sees each switch a
    # few steps late, which costs about 3 % of the steps at ~40 switches.
    assert np.mean(hmm.labels == states) >= 0.95
    assert np.mean(kmeans.labels == states) < 0.9  # the jump steps pull k-means apart
    # Within 3 standard errors of an estimate from the chain's own path, sqrt(p (1 - p) / n_i),
    # n_i the steps in state i at the stationary occupancy (2/3, 1/3).
    occupancy = 6000 * np.array([2 / 3, 1 / 3])
    standard_error = np.sqrt(transition * (1 - transition) / occupancy[:, None])
    np.testing.assert_array_less(np.abs(hmm.fitted_transition_matrix - transition), 3 * standard_error)
    np.testing.assert_allclose(hmm.expected_durations, 1 / (1 - np.diag(hmm.fitted_transition_matrix)))
    # The decoded path's own transition frequencies agree with the model's.
    np.testing.assert_allclose(hmm.transition_matrix, hmm.fitted_transition_matrix, atol=2e-3)
    # Runs of about a hundred steps (true mean durations 200 and 100), k-means' a few dozen.
    assert mean_run(hmm) >= 100
    assert mean_run(hmm) >= 3 * mean_run(kmeans)


@pytest.mark.parametrize("seed", range(3))
def test_hmm_recovers_calm_and_volatile_stretches_jumps_included(seed):
    x, truth = stretches(seed)
    features = Lambda3Features().fit_transform(x[:, None])
    hmm = detect_regimes(features, n_regimes=2, random_state=seed, level=x, method="hmm")
    kmeans = detect_regimes(features, n_regimes=4, random_state=seed, level=x)
    assert np.mean(hmm.labels == truth) >= 0.97
    # Five stretches, five runs: each volatile stretch is one run, its jumps inside it.
    assert [len(d) for d in hmm.durations] == [3, 2]
    assert hmm.pos_jump_rate[1] > 0.05 and hmm.neg_jump_rate[1] > 0.05
    assert hmm.pos_jump_rate[0] == 0 and hmm.neg_jump_rate[0] == 0
    assert np.all(hmm.expected_durations > 100)
    # k-means gives the jump steps regimes of their own (see its Notes), runs of about one step.
    assert mean_run(hmm) >= 10 * mean_run(kmeans)


def test_hmm_state_probabilities_follow_the_labels():
    x, truth = stretches(1)
    features = Lambda3Features().fit_transform(x[:, None])
    result = detect_regimes(features, n_regimes=3, random_state=0, level=x, method="hmm")
    # The columns are permuted with the labels: the most probable regime is the decoded one
    # nearly everywhere, and each column's mean is nearly its regime's frequency.
    assert np.mean(result.state_probabilities.argmax(axis=1) == result.labels) >= 0.98
    np.testing.assert_allclose(result.state_probabilities.mean(axis=0), result.frequency, atol=0.02)
    fitted = result.fitted_transition_matrix
    np.testing.assert_allclose(result.expected_durations, 1 / (1 - np.diag(fitted)))
    assert np.all(np.diff(result.mean_tension) > 0)


def test_hmm_one_regime():
    x, _ = stretches(0)
    features = Lambda3Features().fit_transform(x[:, None])
    result = detect_regimes(features, n_regimes=1, random_state=0, method="hmm")
    assert np.all(result.labels == 0)
    np.testing.assert_array_equal(result.fitted_transition_matrix, [[1.0]])
    np.testing.assert_array_equal(result.expected_durations, [np.inf])
    np.testing.assert_allclose(result.state_probabilities, 1.0)


@pytest.mark.parametrize("seed", range(3))
def test_hmm_first_tension_is_not_a_regime(seed):
    """ρT[0] = 0 (a window of one point) is left out: otherwise a regime of that step alone, entered
    at the start and never again, with a variance at the floor, would be the best fit."""
    rng = np.random.default_rng(seed)
    rho = np.r_[0.0, rng.normal(5.0, 0.5, 299)]
    result = detect_regimes(np.c_[np.zeros(300), np.zeros(300), rho], 2, seed, method="hmm")
    assert np.sum(result.labels == result.labels[0]) > 1


def test_hmm_flat_series_without_jumps():
    features = np.zeros((50, 3))
    result = detect_regimes(features, n_regimes=2, random_state=0, method="hmm")
    assert np.isfinite(result.log_likelihood)
    np.testing.assert_allclose(result.frequency.sum(), 1.0)


def test_hmm_random_state_reproducible():
    x, _ = stretches(2)
    features = Lambda3Features().fit_transform(x[:, None])
    a = detect_regimes(features, 3, np.random.RandomState(3), method="hmm")
    b = detect_regimes(features, 3, np.random.RandomState(3), method="hmm")
    c = detect_regimes(features, 3, 3, method="hmm")
    d = detect_regimes(features, 3, 3, method="hmm")
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.fitted_transition_matrix, b.fitted_transition_matrix)
    np.testing.assert_array_equal(c.labels, d.labels)
    assert c.log_likelihood == d.log_likelihood


def test_hmm_warns_when_em_stops_early():
    x, _ = stretches(0)
    features = Lambda3Features().fit_transform(x[:, None])
    with pytest.warns(ConvergenceWarning, match="did not converge in max_iter=1 "):
        detect_regimes(features, 2, 0, method="hmm", max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        detect_regimes(features, 2, 0, method="hmm")
