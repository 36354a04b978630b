"""Hidden Markov model with diagonal Gaussian and Bernoulli emissions, fitted by EM.

The state ``z_t`` of each step follows a Markov chain (start probabilities ``π``, transition
matrix ``A``); given the state, the step's continuous columns are independent Normals
``N(μ_{z,d}, σ²_{z,d})`` and its binary columns independent Bernoullis with rates ``p_{z,d}``.
A continuous value may be missing (NaN): it then contributes nothing to the likelihood.

Everything runs in log space: the forward–backward recursions and Viterbi are Numba loops of
O(n k²) with a log-sum-exp at every step, so no probability underflows, however long the series
or unlikely a state, and the forward–backward variables are normalised at every step, so they
keep full precision (Rabiner, 1989, for the recursions and their scaling; Bishop, 2006, §13.2,
for EM). The
M-step is exact within the constraints that keep the likelihood bounded (a variance floor and
rates in ``[ε, 1 - ε]``): each constrained maximiser is the clipped unconstrained one, because
the expected complete-data log-likelihood is unimodal in each variance and each rate, so every
EM iteration leaves the log-likelihood unchanged or larger.
"""

import math
import warnings
from dataclasses import dataclass

import numpy as np
from numba import njit
from sklearn.exceptions import ConvergenceWarning

# Smallest and largest Bernoulli rate: a rate of exactly 0 or 1 would give an observation of
# the other value probability 0 and a state could then never be entered again.
RATE_BOUND = 1e-6
# Variance floor of a Gaussian column, as a fraction of the column's overall variance: without
# it a state could sit on a few equal values and make the likelihood unbounded.
VARIANCE_FLOOR = 1e-3
# Probability of staying in a state in the initial transition matrices that are not taken from labels.
STAY = 0.9
_LOG_2PI = math.log(2.0 * math.pi)


@njit(cache=True)
def _logsumexp(values):
    top = -np.inf
    for v in values:
        if v > top:
            top = v
    if top == -np.inf:
        return -np.inf
    total = 0.0
    for v in values:
        total += math.exp(v - top)
    return top + math.log(total)


@njit(cache=True)
def forward_backward(log_emission, log_start, log_transition):
    """Log-likelihood, state posteriors and expected transition counts of one sequence.

    The forward and backward variables are normalised at every step in log space (Rabiner's
    scaling): they stay of the order of the emissions whatever ``n``, so the posteriors keep
    full precision, and the log-likelihood is the sum of the normalisers.

    Parameters
    ----------
    log_emission : ndarray of shape (n, k)
        ``log p(observation_t | z_t = j)``.
    log_start, log_transition : ndarray of shape (k,) and (k, k)
        Log start probabilities and log transition matrix (``-inf`` allowed).

    Returns
    -------
    log_likelihood : float
    posterior : ndarray of shape (n, k)
        ``p(z_t = j | all observations)``.
    expected_transitions : ndarray of shape (k, k)
        ``Σ_t p(z_t = i, z_{t+1} = j | all observations)``.
    """
    n, k = log_emission.shape
    log_alpha = np.empty((n, k))  # log p(z_t, obs_0..t) - log p(obs_0..t)
    log_beta = np.empty((n, k))  # log p(obs_t+1..n-1 | z_t) - log p(obs_t+1..n-1 | obs_0..t)
    log_scale = np.empty(n)  # log p(obs_t | obs_0..t-1)
    terms = np.empty(k)
    for j in range(k):
        log_alpha[0, j] = log_start[j] + log_emission[0, j]
    log_scale[0] = _logsumexp(log_alpha[0])
    log_alpha[0] -= log_scale[0]
    for t in range(1, n):
        for j in range(k):
            for i in range(k):
                terms[i] = log_alpha[t - 1, i] + log_transition[i, j]
            log_alpha[t, j] = _logsumexp(terms) + log_emission[t, j]
        log_scale[t] = _logsumexp(log_alpha[t])
        log_alpha[t] -= log_scale[t]
    log_beta[n - 1, :] = 0.0
    for t in range(n - 2, -1, -1):
        for i in range(k):
            for j in range(k):
                terms[j] = log_transition[i, j] + log_emission[t + 1, j] + log_beta[t + 1, j]
            log_beta[t, i] = _logsumexp(terms) - log_scale[t + 1]
    posterior = np.empty((n, k))
    for t in range(n):
        for j in range(k):
            posterior[t, j] = math.exp(log_alpha[t, j] + log_beta[t, j])
    expected = np.zeros((k, k))
    for t in range(n - 1):
        for i in range(k):
            if log_alpha[t, i] == -np.inf:
                continue
            for j in range(k):
                step = log_transition[i, j] + log_emission[t + 1, j] + log_beta[t + 1, j]
                if step > -np.inf:
                    expected[i, j] += math.exp(log_alpha[t, i] + step - log_scale[t + 1])
    return log_scale.sum(), posterior, expected


@njit(cache=True)
def viterbi(log_emission, log_start, log_transition):
    """Most probable state path (ties go to the lowest state) and its log joint probability."""
    n, k = log_emission.shape
    score = np.empty(k)
    previous = np.empty(k)
    back = np.empty((n, k), dtype=np.int64)
    for j in range(k):
        score[j] = log_start[j] + log_emission[0, j]
    for t in range(1, n):
        previous[:] = score
        for j in range(k):
            best = 0
            best_value = previous[0] + log_transition[0, j]
            for i in range(1, k):
                value = previous[i] + log_transition[i, j]
                if value > best_value:
                    best, best_value = i, value
            back[t, j] = best
            score[j] = best_value + log_emission[t, j]
    path = np.empty(n, dtype=np.int64)
    last = 0
    for j in range(1, k):
        if score[j] > score[last]:
            last = j
    path[n - 1] = last
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path, score[last]


@dataclass
class HMMParameters:
    """Parameters of the model; per-state arrays are indexed by the state."""

    start: np.ndarray  # (k,)
    transition: np.ndarray  # (k, k), rows sum to 1
    means: np.ndarray  # (k, n_continuous)
    variances: np.ndarray  # (k, n_continuous)
    rates: np.ndarray  # (k, n_binary)


@dataclass
class HMMFit:
    """A fitted model, the posteriors of the training sequence and the EM trace."""

    parameters: HMMParameters
    posterior: np.ndarray  # (n, k)
    log_likelihood: float
    history: np.ndarray  # log-likelihood of the initial parameters, then after each M-step
    n_iter: int
    converged: bool


def log_emission(parameters, continuous, binary):
    """``log p(observation_t | z_t = j)`` of shape (n, k); NaN continuous values are skipped."""
    n = continuous.shape[0]
    k = parameters.start.shape[0]
    out = np.zeros((n, k))
    observed = ~np.isnan(continuous)
    filled = np.where(observed, continuous, 0.0)
    for d in range(continuous.shape[1]):
        mean, var = parameters.means[:, d], parameters.variances[:, d]
        term = -0.5 * (_LOG_2PI + np.log(var) + (filled[:, d, None] - mean) ** 2 / var)
        out += np.where(observed[:, d, None], term, 0.0)
    for d in range(binary.shape[1]):
        rate = parameters.rates[:, d]
        out += np.where(binary[:, d, None] == 1.0, np.log(rate), np.log1p(-rate))
    return out


def _safe_log(values):
    with np.errstate(divide="ignore"):
        return np.log(values)


def _m_step(previous, posterior, expected, continuous, binary, floors):
    """Exact constrained maximiser of the expected complete-data log-likelihood."""
    occupancy = posterior.sum(axis=0)
    outgoing = expected.sum(axis=1)
    transition = previous.transition.copy()
    live = outgoing > 0
    transition[live] = expected[live] / outgoing[live, None]
    means = previous.means.copy()
    variances = previous.variances.copy()
    observed = ~np.isnan(continuous)
    filled = np.where(observed, continuous, 0.0)
    for d in range(continuous.shape[1]):
        weights = posterior * observed[:, d, None]
        total = weights.sum(axis=0)
        live = total > 0
        mean = (weights[:, live] * filled[:, d, None]).sum(axis=0) / total[live]
        spread = (weights[:, live] * (filled[:, d, None] - mean) ** 2).sum(axis=0)
        means[live, d] = mean
        variances[live, d] = np.maximum(spread / total[live], floors[d])
    rates = previous.rates.copy()
    live = occupancy > 0
    if binary.shape[1]:
        rate = (posterior.T @ binary)[live] / occupancy[live, None]
        rates[live] = np.clip(rate, RATE_BOUND, 1.0 - RATE_BOUND)
    start = posterior[0] / posterior[0].sum()
    return HMMParameters(start, transition, means, variances, rates)


def _sticky(n_states, stay):
    if n_states == 1:
        return np.ones((1, 1))
    transition = np.full((n_states, n_states), (1.0 - stay) / (n_states - 1))
    np.fill_diagonal(transition, stay)
    return transition


def _overall(continuous, binary, n_states, floors):
    """Every state with the moments of all the steps."""
    observed = ~np.isnan(continuous)
    mean = np.array([continuous[observed[:, d], d].mean() for d in range(continuous.shape[1])])
    var = np.array([continuous[observed[:, d], d].var() for d in range(continuous.shape[1])])
    return HMMParameters(
        start=np.full(n_states, 1.0 / n_states),
        transition=_sticky(n_states, STAY),
        means=np.tile(mean, (n_states, 1)),
        variances=np.tile(np.maximum(var, floors), (n_states, 1)),
        rates=np.tile(np.clip(binary.mean(axis=0), RATE_BOUND, 1 - RATE_BOUND), (n_states, 1)),
    )


def parameters_from_labels(labels, n_states, continuous, binary, floors):
    """Initial parameters whose states are the groups of a hard assignment.

    Emission parameters are each group's moments (floored and clipped as in the M-step; a
    group without steps gets those of all the steps); the transition matrix is the labels'
    empirical transition frequencies with one pseudo-count per cell, so that no transition
    starts impossible; the start probabilities are uniform.
    """
    one_hot = np.zeros((labels.shape[0], n_states))
    one_hot[np.arange(labels.shape[0]), labels] = 1.0
    counts = np.zeros((n_states, n_states))
    np.add.at(counts, (labels[:-1], labels[1:]), 1.0)
    overall = _overall(continuous, binary, n_states, floors)
    fitted = _m_step(overall, one_hot, counts, continuous, binary, floors)
    fitted.transition = (counts + 1.0) / (counts.sum(axis=1, keepdims=True) + n_states)
    fitted.start = overall.start
    return fitted


def random_parameters(rng, n_states, continuous, binary, floors):
    """Initial parameters with the means at distinct observed steps drawn at random.

    Variances and rates are those of all the steps; transitions stay with probability
    ``STAY``; start probabilities are uniform.
    """
    parameters = _overall(continuous, binary, n_states, floors)
    for d in range(continuous.shape[1]):
        column = continuous[~np.isnan(continuous[:, d]), d]
        parameters.means[:, d] = rng.choice(column, size=n_states, replace=column.size < n_states)
    return parameters


def variance_floors(continuous):
    """The variance floor of each continuous column (positive even for a constant column)."""
    floors = []
    for d in range(continuous.shape[1]):
        column = continuous[~np.isnan(continuous[:, d]), d]
        scale = max(float(np.max(np.abs(column))), 1.0)
        floors.append(max(VARIANCE_FLOOR * column.var(), 1e-12 * scale**2))
    return np.array(floors)


def _e_step(parameters, continuous, binary):
    log_b = log_emission(parameters, continuous, binary)
    return forward_backward(log_b, _safe_log(parameters.start), _safe_log(parameters.transition))


def run_em(continuous, binary, initial, floors, max_iter, tol):
    """EM from ``initial`` until an iteration gains less than ``tol`` in mean log-likelihood per step.

    ``converged`` is False when ``max_iter`` M-steps were not enough.
    """
    n = continuous.shape[0]
    parameters = initial
    log_likelihood, posterior, expected = _e_step(parameters, continuous, binary)
    history = [log_likelihood]
    converged = False
    for _ in range(max_iter):
        candidate = _m_step(parameters, posterior, expected, continuous, binary, floors)
        step = _e_step(candidate, continuous, binary)
        parameters, (log_likelihood, posterior, expected) = candidate, step
        history.append(log_likelihood)
        if history[-1] - history[-2] < tol * n:
            converged = True
            break
    return HMMFit(
        parameters=parameters,
        posterior=posterior,
        log_likelihood=float(log_likelihood),
        history=np.array(history),
        n_iter=len(history) - 1,
        converged=converged,
    )


def fit_hmm(continuous, binary, initials, floors, max_iter, tol):
    """EM from each of ``initials``; the fit of highest log-likelihood (the first of equals).

    Warns with a ConvergenceWarning if that fit's EM had not converged in ``max_iter`` iterations.
    """
    best = None
    for initial in initials:
        fit = run_em(continuous, binary, initial, floors, max_iter, tol)
        if best is None or fit.log_likelihood > best.log_likelihood:
            best = fit
    if not best.converged:
        gain = (best.history[-1] - best.history[-2]) / continuous.shape[0]
        warnings.warn(
            f"The hidden Markov model's EM did not converge in max_iter={max_iter} iterations (the "
            f"last one gained {gain:.3g} in mean log-likelihood per step, tol={tol:g}); raise "
            "max_iter or tol.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return best


def decode(parameters, continuous, binary):
    """The Viterbi path of the sequence under ``parameters``."""
    log_b = log_emission(parameters, continuous, binary)
    path, _ = viterbi(log_b, _safe_log(parameters.start), _safe_log(parameters.transition))
    return path
