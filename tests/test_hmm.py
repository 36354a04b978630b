"""Hidden Markov model: recursions against enumeration of all paths, EM's monotonicity, recovery."""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from sklearn_lambda3 import _hmm


def random_model(rng, n, k):
    log_emission = rng.normal(0.0, 2.0, (n, k))
    start = rng.dirichlet(np.ones(k))
    transition = rng.dirichlet(np.ones(k), size=k)
    return log_emission, start, transition


def log(values):
    with np.errstate(divide="ignore"):
        return np.log(values)


def enumerate_paths(log_emission, start, transition):
    """Log joint probability of every state path, by brute force."""
    n, k = log_emission.shape
    paths = np.array(list(itertools.product(range(k), repeat=n)))
    scores = log(start)[paths[:, 0]] + log_emission[0, paths[:, 0]]
    for t in range(1, n):
        scores = scores + log(transition)[paths[:, t - 1], paths[:, t]] + log_emission[t, paths[:, t]]
    return paths, scores


def brute_force(log_emission, start, transition):
    """Log-likelihood, posteriors and expected transition counts by summing over all paths."""
    n, k = log_emission.shape
    paths, scores = enumerate_paths(log_emission, start, transition)
    top = scores.max()
    log_likelihood = top + np.log(np.exp(scores - top).sum())
    weights = np.exp(scores - log_likelihood)
    posterior = np.zeros((n, k))
    expected = np.zeros((k, k))
    for path, weight in zip(paths, weights, strict=True):
        posterior[np.arange(n), path] += weight
        np.add.at(expected, (path[:-1], path[1:]), weight)
    return log_likelihood, posterior, expected


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n, k", [(6, 2), (5, 3), (1, 2), (2, 1)])
def test_forward_backward_equals_enumeration(seed, n, k):
    log_emission, start, transition = random_model(np.random.default_rng(seed), n, k)
    ll, posterior, expected = _hmm.forward_backward(log_emission, np.log(start), np.log(transition))
    ll_ref, posterior_ref, expected_ref = brute_force(log_emission, start, transition)
    assert abs(ll - ll_ref) <= 1e-10
    np.testing.assert_allclose(posterior, posterior_ref, atol=1e-10)
    np.testing.assert_allclose(expected, expected_ref, atol=1e-10)


def test_forward_backward_with_impossible_transitions():
    rng = np.random.default_rng(1)
    log_emission, start, _ = random_model(rng, 6, 3)
    # A left-to-right chain: 0 → 1 → 2, never back; and no start in state 2.
    transition = np.array([[0.6, 0.4, 0.0], [0.0, 0.7, 0.3], [0.0, 0.0, 1.0]])
    start = np.array([0.5, 0.5, 0.0])
    ll, posterior, expected = _hmm.forward_backward(log_emission, log(start), log(transition))
    ll_ref, posterior_ref, expected_ref = brute_force(log_emission, start, transition)
    assert abs(ll - ll_ref) <= 1e-10
    np.testing.assert_allclose(posterior, posterior_ref, atol=1e-10)
    np.testing.assert_allclose(expected, expected_ref, atol=1e-10)
    assert expected[1, 0] == 0.0 and expected[2, 1] == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_viterbi_is_the_most_probable_path(seed):
    log_emission, start, transition = random_model(np.random.default_rng(seed), 6, 2)
    path, score = _hmm.viterbi(log_emission, np.log(start), np.log(transition))
    paths, scores = enumerate_paths(log_emission, start, transition)
    np.testing.assert_array_equal(path, paths[scores.argmax()])
    assert abs(score - scores.max()) <= 1e-10


def test_no_underflow_on_long_unlikely_sequences():
    """Shifting each step's log emissions by a constant shifts the log-likelihood by their sum
    and leaves the posteriors alone, even at -1e5 per step (probabilities of e^-1e5)."""
    rng = np.random.default_rng(2)
    log_emission, start, transition = random_model(rng, 3000, 3)
    shift = rng.uniform(-1e5, 0.0, 3000)
    ll, posterior, expected = _hmm.forward_backward(log_emission, np.log(start), np.log(transition))
    ll_shifted, posterior_shifted, expected_shifted = _hmm.forward_backward(
        log_emission + shift[:, None], np.log(start), np.log(transition)
    )
    assert np.isfinite(ll_shifted)
    assert ll_shifted == pytest.approx(ll + shift.sum(), rel=1e-12)
    np.testing.assert_allclose(posterior_shifted, posterior, atol=1e-8)
    np.testing.assert_allclose(expected_shifted, expected, rtol=1e-8)
    np.testing.assert_allclose(posterior.sum(axis=1), 1.0)
    assert expected.sum() == pytest.approx(2999.0)


def sample_chain(rng, n, start, transition, means, sds, rates):
    """A path of the Markov chain and its Gaussian and Bernoulli observations."""
    k = start.shape[0]
    z = np.empty(n, dtype=np.int64)
    z[0] = rng.choice(k, p=start)
    for t in range(1, n):
        z[t] = rng.choice(k, p=transition[z[t - 1]])
    continuous = rng.normal(means[z], sds[z])[:, None]
    binary = (rng.random((n, 1)) < rates[z, None]).astype(float)
    return z, continuous, binary


TRUE_TRANSITION = np.array([[0.97, 0.03], [0.05, 0.95]])
TRUE_MEANS = np.array([0.0, 3.0])
TRUE_SDS = np.array([1.0, 1.5])
TRUE_RATES = np.array([0.02, 0.3])


@pytest.mark.parametrize("seed", range(3))
def test_em_recovers_a_known_chain(seed):
    rng = np.random.default_rng(seed)
    n = 5000
    z, continuous, binary = sample_chain(
        rng, n, np.array([0.5, 0.5]), TRUE_TRANSITION, TRUE_MEANS, TRUE_SDS, TRUE_RATES
    )
    floors = _hmm.variance_floors(continuous)
    initial = _hmm.random_parameters(np.random.RandomState(seed), 2, continuous, binary, floors)
    fit = _hmm.fit_hmm(continuous, binary, [initial], floors, max_iter=500, tol=1e-9)
    assert fit.converged
    order = np.argsort(fit.parameters.means[:, 0])  # state 0 = the low mean, as in the truth
    p = fit.parameters
    # Tolerances: 4 standard errors of a maximum-likelihood estimate from n steps, taking the
    # stationary occupancy (5/8, 3/8) of the chain: sqrt(p (1 - p) / n_i) for a transition or
    # rate, sd / sqrt(n_i) for a mean.
    occupancy = n * np.array([5 / 8, 3 / 8])
    se_transition = np.sqrt(TRUE_TRANSITION * (1 - TRUE_TRANSITION) / occupancy[:, None])
    np.testing.assert_array_less(
        np.abs(p.transition[np.ix_(order, order)] - TRUE_TRANSITION), 4 * se_transition
    )
    np.testing.assert_array_less(np.abs(p.means[order, 0] - TRUE_MEANS), 4 * TRUE_SDS / np.sqrt(occupancy))
    np.testing.assert_allclose(np.sqrt(p.variances[order, 0]), TRUE_SDS, rtol=0.05)
    se_rates = np.sqrt(TRUE_RATES * (1 - TRUE_RATES) / occupancy)
    np.testing.assert_array_less(np.abs(p.rates[order, 0] - TRUE_RATES), 4 * se_rates)
    path = np.argsort(order)[_hmm.decode(p, continuous, binary)]
    assert np.mean(path == z) >= 0.95


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31), n=st.integers(2, 300), k=st.integers(1, 4), binary_columns=st.integers(0, 2)
)
def test_em_never_decreases_the_log_likelihood(seed, n, k, binary_columns):
    rng = np.random.default_rng(seed)
    continuous = np.cumsum(rng.standard_normal((n, 2)), axis=0) * rng.uniform(0.1, 10)
    continuous[rng.random((n, 2)) < 0.1] = np.nan  # missing values
    continuous[0] = 1.0  # at least one observed value per column
    binary = (rng.random((n, binary_columns)) < 0.1).astype(float)
    floors = _hmm.variance_floors(continuous)
    initial = _hmm.random_parameters(np.random.RandomState(seed % 2**31), k, continuous, binary, floors)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = _hmm.fit_hmm(continuous, binary, [initial], floors, max_iter=50, tol=1e-12)
    gains = np.diff(fit.history)
    assert np.all(gains >= -1e-9 * max(1.0, abs(fit.log_likelihood)))
    assert np.all(fit.parameters.variances >= floors - 1e-15)
    assert np.all((fit.parameters.rates >= _hmm.RATE_BOUND) & (fit.parameters.rates <= 1 - _hmm.RATE_BOUND))
    np.testing.assert_allclose(fit.parameters.transition.sum(axis=1), 1.0)
    np.testing.assert_allclose(fit.posterior.sum(axis=1), 1.0)
    # The reported log-likelihood is that of the returned parameters.
    log_b = _hmm.log_emission(fit.parameters, continuous, binary)
    ll, _, _ = _hmm.forward_backward(log_b, log(fit.parameters.start), log(fit.parameters.transition))
    assert ll == pytest.approx(fit.log_likelihood, rel=1e-12)


def test_log_emission_by_hand():
    parameters = _hmm.HMMParameters(
        start=np.array([0.5, 0.5]),
        transition=np.eye(2),
        means=np.array([[0.0], [2.0]]),
        variances=np.array([[1.0], [4.0]]),
        rates=np.array([[0.1], [0.5]]),
    )
    continuous = np.array([[1.0], [np.nan]])
    binary = np.array([[1.0], [0.0]])
    out = _hmm.log_emission(parameters, continuous, binary)
    gauss = [-0.5 * np.log(2 * np.pi) - 0.5, -0.5 * np.log(2 * np.pi * 4) - 0.125]
    np.testing.assert_allclose(out[0], [gauss[0] + np.log(0.1), gauss[1] + np.log(0.5)])
    np.testing.assert_allclose(out[1], [np.log(0.9), np.log(0.5)])  # the missing value adds nothing


def test_variance_floor_holds_on_a_constant_stretch():
    continuous = np.r_[np.zeros(100), np.random.default_rng(0).normal(5, 1, 100)][:, None]
    binary = np.zeros((200, 0))
    floors = _hmm.variance_floors(continuous)
    labels = np.r_[np.zeros(100, dtype=np.int64), np.ones(100, dtype=np.int64)]
    initial = _hmm.parameters_from_labels(labels, 2, continuous, binary, floors)
    fit = _hmm.fit_hmm(continuous, binary, [initial], floors, max_iter=100, tol=1e-9)
    assert floors[0] == pytest.approx(_hmm.VARIANCE_FLOOR * continuous.var())
    assert fit.parameters.variances.min() == pytest.approx(floors[0])
    assert np.isfinite(fit.log_likelihood)


def test_parameters_from_labels():
    continuous = np.array([[1.0], [3.0], [np.nan], [10.0], [12.0]])
    binary = np.array([[0.0], [1.0], [1.0], [0.0], [0.0]])
    labels = np.array([0, 0, 0, 1, 1])
    floors = np.array([1e-3])
    p = _hmm.parameters_from_labels(labels, 3, continuous, binary, floors)
    np.testing.assert_allclose(p.means[:, 0], [2.0, 11.0, 6.5])  # the empty state: all the steps
    np.testing.assert_allclose(p.variances[:, 0], [1.0, 1.0, np.var([1.0, 3.0, 10.0, 12.0])])
    np.testing.assert_allclose(p.rates[:, 0], [2 / 3, _hmm.RATE_BOUND, 0.4])
    # Counts 0→0: 2, 0→1: 1, 1→1: 1, plus one per cell.
    np.testing.assert_allclose(p.transition, [[3 / 6, 2 / 6, 1 / 6], [1 / 4, 2 / 4, 1 / 4], [1 / 3] * 3])
    np.testing.assert_allclose(p.start, 1 / 3)


def test_best_of_several_runs_is_kept():
    rng = np.random.default_rng(4)
    _, continuous, binary = sample_chain(
        rng, 400, np.array([0.5, 0.5]), TRUE_TRANSITION, TRUE_MEANS, TRUE_SDS, TRUE_RATES
    )
    floors = _hmm.variance_floors(continuous)
    state = np.random.RandomState(0)
    initials = [_hmm.random_parameters(state, 3, continuous, binary, floors) for _ in range(4)]
    runs = [_hmm.run_em(continuous, binary, p, floors, 300, 1e-9).log_likelihood for p in initials]
    best = _hmm.fit_hmm(continuous, binary, initials, floors, 300, 1e-9)
    assert best.log_likelihood == max(runs)


def test_convergence_warning_when_max_iter_is_too_small():
    rng = np.random.default_rng(5)
    _, continuous, binary = sample_chain(
        rng, 300, np.array([0.5, 0.5]), TRUE_TRANSITION, TRUE_MEANS, TRUE_SDS, TRUE_RATES
    )
    floors = _hmm.variance_floors(continuous)
    initial = _hmm.random_parameters(np.random.RandomState(1), 2, continuous, binary, floors)
    with pytest.warns(ConvergenceWarning, match="max_iter=1 "):
        fit = _hmm.fit_hmm(continuous, binary, [initial], floors, max_iter=1, tol=1e-9)
    assert not fit.converged and fit.n_iter == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fit = _hmm.fit_hmm(continuous, binary, [initial], floors, max_iter=500, tol=1e-6)
    assert fit.converged and fit.n_iter < 500
