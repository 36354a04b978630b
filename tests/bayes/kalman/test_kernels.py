"""The dynamic model's Kalman kernels against dense multivariate-normal algebra."""

import numpy as np
import pytest
from _kalman_helpers import FLOOR, dense_gradient, dense_moments, dense_posterior, small_case
from scipy.stats import multivariate_normal

from sklearn_lambda3.bayes._kalman._kernels import batched_loglik_and_grad, conditional_draws


def kernel_loglik(case, tau, sigma_base, sigma_scale):
    values, grads = batched_loglik_and_grad(
        case["y"],
        case["design"],
        case["prior_scale"],
        case["change"],
        case["level0_var"],
        case["step_var"],
        case["tension"],
        np.array([tau]),
        np.array([sigma_base]),
        np.array([sigma_scale]),
        FLOOR,
    )
    return values[0], grads[0]


@pytest.mark.parametrize("params", [(0.3, 0.5, 0.2), (0.05, 1.2, 0.0), (1.5, 0.1, 0.7)])
@pytest.mark.parametrize("seed", [0, 1])
def test_collapsed_likelihood_equals_dense_normal(params, seed):
    case = small_case(seed=seed)
    _, _, y_cov = dense_moments(case, *params)
    expected = multivariate_normal(np.zeros(len(case["y"])), y_cov).logpdf(case["y"])
    value, _ = kernel_loglik(case, *params)
    assert value == pytest.approx(expected, rel=1e-10, abs=1e-9)


@pytest.mark.parametrize("params", [(0.3, 0.5, 0.2), (0.05, 1.2, 0.0), (1.5, 0.1, 0.7)])
@pytest.mark.parametrize("missing", [False, True])
def test_gradient_equals_the_dense_normal_score(params, missing):
    case = gapped_case(seed=1) if missing else small_case(seed=1)
    _, grad = kernel_loglik(case, *params)
    expected = dense_gradient(case, *params)
    np.testing.assert_allclose(grad, expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max())


def assert_gradient_matches_finite_differences(case, params, steps, **tolerance):
    """The kernel's gradient against central differences, parameter ``i`` moved by ``steps[i]``."""
    _, grad = kernel_loglik(case, *params)
    for i, step in enumerate(steps):
        up, down = params.copy(), params.copy()
        up[i] += step
        down[i] -= step
        numeric = (kernel_loglik(case, *up)[0] - kernel_loglik(case, *down)[0]) / (2 * step)
        assert grad[i] == pytest.approx(numeric, **tolerance)


def test_gradient_matches_finite_differences():
    case = small_case(n=40, k=3, seed=2)
    assert_gradient_matches_finite_differences(
        case, np.array([0.4, 0.6, 0.3]), [1e-6] * 3, rel=1e-5, abs=1e-6
    )


def test_non_finite_parameters_give_minus_infinity():
    value, grad = kernel_loglik(small_case(), np.inf, 0.5, 0.1)
    assert value == -np.inf and np.all(grad == 0)


def test_batch_rows_are_independent_fits():
    case = small_case(seed=3)
    params = np.array([[0.2, 0.4, 0.1], [0.9, 0.3, 0.5]])
    values, grads = batched_loglik_and_grad(
        case["y"],
        case["design"],
        case["prior_scale"],
        case["change"],
        case["level0_var"],
        case["step_var"],
        case["tension"],
        params[:, 0].copy(),
        params[:, 1].copy(),
        params[:, 2].copy(),
        FLOOR,
    )
    for row, (value, grad) in zip(params, zip(values, grads, strict=True), strict=True):
        single_value, single_grad = kernel_loglik(case, *row)
        assert value == single_value
        np.testing.assert_array_equal(grad, single_grad)


def test_conditional_draws_follow_the_exact_gaussian_posterior():
    case = small_case(n=20, k=2, seed=4)
    n, k = case["design"].shape
    tau, sigma_base, sigma_scale = 0.4, 0.5, 0.2
    mean, cov = dense_posterior(case, tau, sigma_base, sigma_scale)

    draws = 40000
    rng = np.random.default_rng(5)
    ones = np.ones(draws)
    z_beta, z_last = rng.standard_normal((draws, k)), rng.standard_normal(draws)
    beta, last, paths = conditional_draws(
        case["y"],
        case["design"],
        case["prior_scale"],
        case["change"],
        case["level0_var"],
        case["step_var"],
        case["tension"],
        tau * ones,
        sigma_base * ones,
        sigma_scale * ones,
        FLOOR,
        z_beta,
        z_last,
        rng.standard_normal((draws, n)),
        True,
    )
    sample = np.column_stack([paths, beta])
    sd = np.sqrt(np.diag(cov))
    assert np.all(np.abs(sample.mean(axis=0) - mean) < 5 * sd / np.sqrt(draws))
    np.testing.assert_allclose(sample.std(axis=0), sd, rtol=0.03)
    np.testing.assert_allclose(np.corrcoef(sample, rowvar=False), cov / np.outer(sd, sd), atol=0.03)
    np.testing.assert_array_equal(last, paths[:, -1])

    # Without paths the same normals give the same β and last level.
    beta_only, last_only, no_paths = conditional_draws(
        case["y"],
        case["design"],
        case["prior_scale"],
        case["change"],
        case["level0_var"],
        case["step_var"],
        case["tension"],
        tau * ones[:50],
        sigma_base * ones[:50],
        sigma_scale * ones[:50],
        FLOOR,
        z_beta[:50],
        z_last[:50],
        np.zeros((0, n)),
        False,
    )
    assert no_paths.shape == (0, n)
    np.testing.assert_allclose(beta_only, beta[:50], rtol=1e-12)
    np.testing.assert_allclose(last_only, last[:50], rtol=1e-12)


def collinear_case(n=97, k=24, rank=6, seed=0):
    """Standardised regressors spanning only ``rank`` directions (Lambda³ features of a few
    related series): at σ near the noise floor, ``Σ e eᵀ`` formed directly is indefinite
    beyond the prior precision and the Cholesky factorisation failed."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n, rank)).cumsum(axis=0)
    design = base @ rng.standard_normal((rank, k))
    design = (design - design.mean(axis=0)) / design.std(axis=0)
    design[:, 3] = 0.0  # a column constant in training, centred
    y = np.cumsum(rng.standard_normal(n)) * 0.3
    return {
        "y": (y - y.mean()) / y.std(),
        "design": design,
        "prior_scale": np.full(k, 5.0),
        "change": np.zeros(n),
        "level0_var": 4.0,
        "step_var": 25.0,
        "tension": np.zeros(n),
    }


def exact_dense_loglik(case, tau, sigma_base, sigma_scale):
    """The dense Normal log-density of y in exact rational arithmetic (no rounding at all
    until the final logarithms), a reference where float64 dense algebra is ill-conditioned."""
    from fractions import Fraction
    from math import log, pi

    y = [Fraction(v) for v in case["y"]]
    W = [[Fraction(v) for v in row] for row in case["design"]]
    s2 = [Fraction(v) ** 2 for v in case["prior_scale"]]
    n, k = len(y), len(s2)
    tau2 = Fraction(tau) ** 2
    step_var = Fraction(case["step_var"])
    q = [
        (Fraction(case["level0_var"]) if t == 0 else tau2) + Fraction(case["change"][t]) * step_var
        for t in range(n)
    ]
    cum = np.cumsum(np.array(q, dtype=object))
    noise = [
        (Fraction(sigma_base) + Fraction(sigma_scale) * Fraction(v) + Fraction(FLOOR)) ** 2
        for v in case["tension"]
    ]
    C = [
        [
            cum[min(i, j)] + sum(W[i][m] * s2[m] * W[j][m] for m in range(k)) + (noise[i] if i == j else 0)
            for j in range(n)
        ]
        for i in range(n)
    ]
    # LDLᵀ elimination: log det C = Σ log d_i and yᵀC⁻¹y = Σ z_i² / d_i with L z = y.
    z = list(y)
    log_det = 0.0
    quad = Fraction(0)
    for i in range(n):
        d = C[i][i]
        log_det += log(d.numerator) - log(d.denominator)
        quad += z[i] * z[i] / d
        for r in range(i + 1, n):
            factor = C[r][i] / d
            if factor:
                for c in range(i + 1, n):
                    C[r][c] -= factor * C[i][c]
                z[r] -= factor * z[i]
    return -0.5 * n * log(2 * pi) - 0.5 * log_det - 0.5 * float(quad)


@pytest.mark.parametrize("params", [(0.0, 0.0, 0.0), (1e-10, 0.0, 0.0), (1e-3, 0.0, 0.0), (0.3, 0.2, 0.0)])
def test_collinear_design_at_the_noise_floor_matches_the_exact_density(params):
    case = collinear_case(n=24, k=10, rank=3, seed=1)
    value, grad = kernel_loglik(case, *params)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert value == pytest.approx(exact_dense_loglik(case, *params), rel=1e-8)


@pytest.mark.parametrize("seed", range(3))
def test_collinear_design_no_longer_breaks_the_filter(seed):
    # The shapes of the failing cross-validation fold: 97 steps, 24 features of rank 6.
    case = collinear_case(seed=seed)
    for tau, sigma_base in [(0.0, 0.0), (1e-10, 0.0), (9e-11, 0.0)]:
        value, grad = kernel_loglik(case, tau, sigma_base, 0.0)
        assert np.isfinite(value) and value < kernel_loglik(case, 0.3, 0.3, 0.0)[0]
        assert np.all(np.isfinite(grad))
    ones = np.ones(2)
    beta, last, paths = conditional_draws(
        case["y"],
        case["design"],
        case["prior_scale"],
        case["change"],
        case["level0_var"],
        case["step_var"],
        case["tension"],
        np.array([0.0, 1e-10]),
        0 * ones,
        0 * ones,
        FLOOR,
        np.zeros((2, 24)),
        np.zeros(2),
        np.zeros((2, 97)),
        True,
    )
    assert np.all(np.isfinite(beta)) and np.all(np.isfinite(paths)) and np.all(np.isfinite(last))
    # The constant column is not informed by the data: its coefficient's draw is the prior's.
    assert np.all(beta[:, 3] == 0.0)


def test_collinear_gradient_matches_finite_differences():
    case = collinear_case(n=60, k=12, rank=3, seed=3)
    params = np.array([0.05, 0.02, 0.0])
    assert_gradient_matches_finite_differences(case, params, 1e-7 * params[:2], rel=1e-4)


# Missing steps (NaN in y): the first, one at a change point, an inner gap and the last.
MISSING = [0, 3, 10, 11, 12, 13, 16, 24]


def gapped_case(seed=0, n=25, k=2):
    case = small_case(n=n, k=k, seed=seed)
    case["y"] = case["y"].copy()
    case["y"][[m for m in MISSING if m < n]] = np.nan
    return case


@pytest.mark.parametrize("params", [(0.3, 0.5, 0.2), (0.05, 1.2, 0.0), (1.5, 0.1, 0.7)])
@pytest.mark.parametrize("seed", [0, 1])
def test_likelihood_with_missing_steps_is_the_marginal_of_the_observed(params, seed):
    case = gapped_case(seed=seed)
    observed = ~np.isnan(case["y"])
    _, _, y_cov = dense_moments(case, *params)
    expected = multivariate_normal(np.zeros(observed.sum()), y_cov[np.ix_(observed, observed)]).logpdf(
        case["y"][observed]
    )
    value, grad = kernel_loglik(case, *params)
    assert value == pytest.approx(expected, rel=1e-10, abs=1e-9)
    assert np.all(np.isfinite(grad))


def test_gradient_with_missing_steps_matches_finite_differences():
    case = gapped_case(seed=2, n=25, k=3)
    assert_gradient_matches_finite_differences(
        case, np.array([0.4, 0.6, 0.3]), [1e-6] * 3, rel=1e-5, abs=1e-6
    )


def test_conditional_draws_through_a_gap_follow_the_exact_posterior_and_interpolate():
    case = gapped_case(seed=4)
    n, k = case["design"].shape
    tau, sigma_base, sigma_scale = 0.4, 0.5, 0.2
    mean, cov = dense_posterior(case, tau, sigma_base, sigma_scale)  # given the observed y only

    draws = 40000
    rng = np.random.default_rng(6)
    ones = np.ones(draws)
    beta, last, paths = conditional_draws(
        case["y"],
        case["design"],
        case["prior_scale"],
        case["change"],
        case["level0_var"],
        case["step_var"],
        case["tension"],
        tau * ones,
        sigma_base * ones,
        sigma_scale * ones,
        FLOOR,
        rng.standard_normal((draws, k)),
        rng.standard_normal(draws),
        rng.standard_normal((draws, n)),
        True,
    )
    sample = np.column_stack([paths, beta])
    assert np.all(np.isfinite(sample))
    sd = np.sqrt(np.diag(cov))
    assert np.all(np.abs(sample.mean(axis=0) - mean) < 5 * sd / np.sqrt(draws))
    np.testing.assert_allclose(sample.std(axis=0), sd, rtol=0.03)
    np.testing.assert_allclose(np.corrcoef(sample, rowvar=False), cov / np.outer(sd, sd), atol=0.03)
    np.testing.assert_array_equal(last, paths[:, -1])

    # The gap 10..13 (neighbours 9 and 14): the smoothed level interpolates between the
    # neighbours' means, and is least certain in the middle of the gap.
    level_mean, level_var = paths.mean(axis=0), paths.var(axis=0)
    low, high = sorted([level_mean[9], level_mean[14]])
    slack = 5 * sd[9:15].max() / np.sqrt(draws)
    assert np.all((level_mean[10:14] > low - slack) & (level_mean[10:14] < high + slack))
    assert level_var[11] > 1.05 * level_var[10] and level_var[12] > 1.05 * level_var[13]
    assert min(level_var[11], level_var[12]) > 1.2 * max(level_var[9], level_var[14])
    np.testing.assert_allclose(np.diag(cov)[10:14], level_var[10:14], rtol=0.03)


def _stacked_target(prior_scale, innovations):
    k = prior_scale.shape[0]
    E = innovations[: k + 1].T
    target = E.T @ E
    target[:k, :k] += np.diag(1.0 / prior_scale**2)
    return target


def _gram(innovations, rows):
    from sklearn_lambda3.bayes._kalman._kernels import _add_gram

    G = np.zeros((len(rows), len(rows)))
    _add_gram(innovations, rows, 0, len(rows), 0, innovations.shape[1], G)
    return G


def test_gram_factor_is_the_cholesky_factor_of_prior_plus_gram():
    from sklearn_lambda3.bayes._kalman._kernels import _gram_factor

    rng = np.random.default_rng(3)
    k, n = 5, 700
    prior_scale = rng.uniform(0.5, 2.0, k)
    innovations = np.zeros((8, n))
    innovations[: k + 1] = rng.standard_normal((k + 1, n))
    R, factored = _gram_factor(_gram(innovations, np.arange(k + 1)), prior_scale)
    assert factored
    expected = np.linalg.cholesky(_stacked_target(prior_scale, innovations)).T
    np.testing.assert_allclose(R, expected, rtol=1e-12, atol=1e-12)


def test_nearly_collinear_innovations_fall_back_to_the_householder_factor():
    # The third column repeats the second up to 1e-9: its Schur complement in the Gram matrix is
    # the prior precision 1 under diagonals of ~1e6, where squaring loses about 1e-10 of it. The
    # Gram factor must refuse it, and the Householder factor reproduce prior + Gram there.
    from sklearn_lambda3.bayes._kalman._kernels import _gram_factor, _stacked_root

    rng = np.random.default_rng(4)
    k, n = 3, 1000
    prior_scale = np.ones(k)
    innovations = np.zeros((4, n))
    innovations[0] = 30.0 * rng.standard_normal(n)
    innovations[1] = innovations[0] + 1e-9 * rng.standard_normal(n)
    innovations[2] = rng.standard_normal(n)
    innovations[3] = rng.standard_normal(n)
    _, factored = _gram_factor(_gram(innovations, np.arange(k + 1)), prior_scale)
    assert not factored
    block = np.empty((k + 1, k + 1 + 512))
    R = _stacked_root(prior_scale, innovations.copy(), np.arange(k + 1), block)
    # The collinear pair's Schur complement, (1 + a) - a² / (1 + a) with a = ‖e_0‖², is about 2
    # under a diagonal of about 9e5: held by the prior precisions alone.
    a = innovations[0] @ innovations[0]
    assert R[1, 1] ** 2 == pytest.approx((1.0 + 2.0 * a) / (1.0 + a), rel=1e-6)
