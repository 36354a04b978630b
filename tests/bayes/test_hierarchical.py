"""Lambda3HierarchicalRegressor: partial pooling, its collapsed likelihood, output shapes and errors."""

import numpy as np
import pytest
from _bayes_helpers import FAST, POPULATION, grouped_series, linear_data

from sklearn_lambda3 import Lambda3BayesRegressor, Lambda3HierarchicalRegressor
from sklearn_lambda3.bayes._hierarchical import (
    LINEAR_SPREAD_SERIES,
    HierarchicalModel,
    pooled_centre,
    series_statistics,
    spread_coordinate,
)
from sklearn_lambda3.bayes._hierarchical_linalg import UNROLLED_LIMIT
from sklearn_lambda3.bayes._noise import NOISE_FLOOR


def model_data(Z, Y, prior_scale=1.0, pool_scale=1.0):
    """The hierarchical model's data for design ``Z`` (intercept included) and series ``Y``."""
    data = series_statistics(Z, Y)
    k = Z.shape[1]
    data.update(prior_scale=np.full(k, prior_scale), pool_scale=np.full(k, pool_scale), noise_scale=1.0)
    data.update(pooled_centre(data))
    data.update(spread_coordinate(data))
    return data


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_hierarchical_pooling_beats_separate_fits_for_a_short_series():
    pooled_errors, separate_errors = [], []
    for seed in range(8):
        X, Y, coef = grouped_series(seed)
        pooled = Lambda3HierarchicalRegressor(**FAST, random_state=seed).fit(X, Y)
        separate = Lambda3BayesRegressor(**FAST, random_state=seed).fit(X[:30], Y[:30, 0])
        pooled_errors.append(np.mean((pooled.coef_[0] - coef[0]) ** 2))
        separate_errors.append(np.mean((separate.coef_ - coef[0]) ** 2))
    # A separate fit's squared error is about noise² / 30 ≈ 0.13 per coefficient; pooling pulls
    # the short series towards the population mean (spread 0.25²), about 0.04 in theory.
    assert np.mean(pooled_errors) < 0.6 * np.mean(separate_errors)


@pytest.fixture(scope="module")
def hierarchical_fit():
    X, Y, coef = grouped_series(7)
    settings = {**FAST, "num_warmup": 500, "num_samples": 500}
    return X, Y, coef, Lambda3HierarchicalRegressor(**settings, random_state=0).fit(X, Y)


def test_hierarchical_recovers_series_and_population(hierarchical_fit):
    X, Y, coef, reg = hierarchical_fit
    assert reg.coef_.shape == (11, 3) and reg.intercept_.shape == (11,)
    assert reg.coef_samples_.shape == (1000, 11, 3)
    # Long series: within about three posterior sds of their true coefficients.
    sd = reg.coef_samples_.std(axis=0)
    assert np.all(np.abs(reg.coef_[1:] - coef[1:]) < 4 * sd[1:])
    np.testing.assert_allclose(reg.intercept_[1:], 1.0, atol=0.5)
    # Population mean near the mean of the drawn coefficients; sd of the right order.
    np.testing.assert_allclose(reg.population_coef_, coef.mean(axis=0), atol=0.25)
    assert np.all((reg.population_sd_ > 0.05) & (reg.population_sd_ < 0.8))
    sigma = reg.noise_samples_["sigma"].mean(axis=0)
    np.testing.assert_allclose(sigma[1:], POPULATION["noise"], rtol=0.15)
    assert abs(sigma[0] - POPULATION["noise"]) < 4 * reg.noise_samples_["sigma"][:, 0].std()
    assert reg.diagnostics_["r_hat_max"] < 1.02 and reg.diagnostics_["num_divergences"] == 0


def test_hierarchical_predictions_have_one_column_per_series(hierarchical_fit):
    X, Y, _, reg = hierarchical_fit
    mean, std = reg.predict(X[:5], return_std=True)
    assert mean.shape == std.shape == (5, 11)
    np.testing.assert_allclose(mean, X[:5] @ reg.coef_.T + reg.intercept_)
    assert np.all(std > reg.noise_samples_["sigma"].mean(axis=0) * 0.99)
    # The short series' coefficients are the least certain, so its predictions are the widest.
    assert np.all(std[:, 0] >= std[:, 1:].max(axis=1) * 0.99)
    interval = reg.predict_interval(X[:5], coverage=0.9)
    assert interval.shape == (5, 11, 2)
    assert np.all(interval[..., 0] < mean) and np.all(mean < interval[..., 1])
    assert reg.sample_y(X[:5], n_samples=3, random_state=0).shape == (5, 11, 3)
    log_lik = reg.pointwise_log_likelihood(X, Y)
    assert log_lik.shape == (2, 500, np.isfinite(Y).sum())
    assert np.all(np.isfinite(log_lik))


# Three coefficients, written out entry by entry or through LAPACK; UNROLLED_LIMIT + 2 always
# through LAPACK (the series observed on 9 of 12 steps then has a singular Gram matrix). τ's
# coordinate: log τ (two series) or the signed one (forced).
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize(("n_coef", "unrolled"), [(3, True), (3, False), (UNROLLED_LIMIT + 2, True)])
def test_hierarchical_integrated_likelihood_matches_dense_gaussian(n_coef, unrolled, signed):
    """The collapsed likelihood equals log N(y_s; Z_s μ, Z_s D Z_sᵀ + σ² I) summed over series."""
    import jax.numpy as jnp
    from numpyro.infer.util import log_density

    from sklearn_lambda3.bayes._inference import _precision

    rng = np.random.default_rng(3)
    Z = np.column_stack([np.ones(12), rng.normal(size=(12, n_coef - 1))])
    Y = rng.normal(size=(12, 2))
    Y[9:, 1] = np.nan
    data = model_data(Z, Y)
    np.testing.assert_array_equal(data["tau_linear"], 0.0)
    mu, tau = rng.normal(size=n_coef) * 0.3, rng.uniform(0.2, 0.9, size=n_coef)
    sigma = np.array([0.7, 1.3])
    w = (np.log(sigma) - data["log_sigma_hat"]) / data["log_sigma_sd"]
    eta = (mu - data["mu_center"]) / np.sqrt(tau**2 / 2 + data["mu_var"])
    if signed:  # its sign changes nothing
        data.update(
            tau_linear=np.ones(n_coef), tau_center=np.full(n_coef, 0.1), tau_scale=np.full(n_coef, 0.3)
        )
        coordinate = rng.choice([-1, 1], size=n_coef) * tau
    else:
        coordinate = np.log(tau)
    tau_z = (coordinate - data["tau_center"]) / data["tau_scale"]
    model = HierarchicalModel(unrolled=unrolled)
    inputs, _ = model.prepare(data)
    with _precision(True):
        params = {"eta": jnp.asarray(eta), "tau_z": jnp.asarray(tau_z), "w": jnp.asarray(w)}
        _, trace = log_density(model.program, (inputs,), {}, params)
        np.testing.assert_allclose(trace["mu"]["value"], mu, rtol=1e-12)
        np.testing.assert_allclose(trace["tau"]["value"], tau, rtol=1e-12)
        collapsed = float(trace["loglik"]["fn"].log_prob(trace["loglik"]["value"]))

    expected = 0.0
    for s in range(2):
        rows = ~np.isnan(Y[:, s])
        Zs, ys = Z[rows], Y[rows, s]
        # The likelihood's noise is σ plus the floor (as the fitted noise draws are).
        noise = sigma[s] + NOISE_FLOOR
        cov = Zs @ np.diag(tau**2) @ Zs.T + noise**2 * np.eye(rows.sum())
        _, logdet = np.linalg.slogdet(cov)
        r = ys - Zs @ mu
        expected += -0.5 * (logdet + r @ np.linalg.solve(cov, r) + rows.sum() * np.log(2 * np.pi))
        # The sampler's form is relative to the reference noise σ̂: it adds n log σ̂ + n/2 and
        # drops the 2π (σ̂ is 1 for the series with fewer steps than coefficients).
        expected += rows.sum() * (data["log_sigma_hat"][s] + 0.5 + 0.5 * np.log(2 * np.pi))
    assert collapsed == pytest.approx(expected, rel=1e-10)


def test_hierarchical_collapsed_gradient_matches_autodiff_of_the_dense_form():
    """The written-out gradient of the collapsed terms equals JAX's through LAPACK's dense form."""
    import jax
    import jax.numpy as jnp

    from sklearn_lambda3.bayes._hierarchical_linalg import collapsed_terms
    from sklearn_lambda3.bayes._inference import _precision

    rng = np.random.default_rng(8)
    Z = np.column_stack([np.ones(30), rng.normal(size=(30, 3))])
    Y = rng.normal(size=(30, 4))
    Y[3:, 0] = np.nan  # 3 steps, 4 coefficients: a singular Gram matrix
    data = model_data(Z, Y)
    inputs, _ = HierarchicalModel().prepare(data)
    weights = rng.uniform(0.5, 2.0, size=(2, 4))
    root, root_theta_hat = data["root"], data["root_theta_hat"]

    def dense(tau_signed, mu, inv_var):
        N = jnp.eye(4) + inv_var[:, None, None] * jnp.einsum("sim,sjm->sij", root * tau_signed**2, root)
        rho = jnp.sqrt(inv_var)[:, None] * (root @ mu - root_theta_hat)
        quadratic = jnp.einsum("si,si->s", rho, jnp.linalg.solve(N, rho[..., None])[..., 0])
        return weights[0] @ (0.5 * jnp.linalg.slogdet(N)[1]) + weights[1] @ quadratic

    def unrolled(tau_signed, mu, inv_var):
        terms = collapsed_terms(tau_signed**2, mu, inv_var, inputs["root"], inputs["root_theta_hat"], True)
        return weights[0] @ terms[0] + weights[1] @ terms[1]

    with _precision(True):
        # One spread at zero, one negative: τ enters squared.
        point = (
            jnp.array([0.0, -0.3, 0.7, 1.5]),
            jnp.array([0.2, -0.4, 0.1, 0.9]),
            jnp.array([0.5, 1.0, 2.0, 4.0]),
        )
        assert float(unrolled(*point)) == pytest.approx(float(dense(*point)), rel=1e-12)
        got = jax.grad(unrolled, argnums=(0, 1, 2))(*point)
        expected = jax.grad(dense, argnums=(0, 1, 2))(*point)
        for a, b in zip(got, expected, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n_coef", [3, UNROLLED_LIMIT + 2])
def test_hierarchical_series_draws_are_the_exact_conditional(n_coef):
    """θ_s given (μ, τ, σ): the mean and covariance of ``complete``'s draws against the dense
    Gaussian conditional of θ ~ N(μ, diag τ²), y_s ~ N(Z_s θ, σ² I), computed from y itself."""
    rng = np.random.default_rng(4)
    Z = np.column_stack([np.ones(40), rng.normal(size=(40, n_coef - 1))])
    Y = rng.normal(size=(40, 2)) + 1.0
    Y[n_coef - 1 :, 1] = np.nan  # fewer steps than coefficients
    data = model_data(Z, Y)
    mu = rng.normal(size=n_coef) * 0.5
    tau = rng.uniform(0.2, 1.0, size=n_coef)
    tau[1] = 0.0  # a coefficient with no spread: every series' is μ's exactly
    sigma = np.array([0.6, 1.4])
    n_draws = 20_000
    draws = {
        "mu": np.broadcast_to(mu, (2, n_draws // 2, n_coef)),
        "tau": np.broadcast_to(tau, (2, n_draws // 2, n_coef)),
        "sigma": np.broadcast_to(sigma, (2, n_draws // 2, 2)),
    }
    theta = HierarchicalModel().complete(draws, data, None, seed=0)["theta"]
    assert theta.shape == (n_draws, 2, n_coef)
    for s in range(2):
        rows = ~np.isnan(Y[:, s])
        Zs, ys = Z[rows], Y[rows, s]
        prior = np.diag(tau**2)
        marginal = Zs @ prior @ Zs.T + (sigma[s] + NOISE_FLOOR) ** 2 * np.eye(rows.sum())
        gain = prior @ Zs.T @ np.linalg.inv(marginal)
        mean = mu + gain @ (ys - Zs @ mu)
        cov = prior - gain @ Zs @ prior
        draws_s = theta[:, s]
        np.testing.assert_allclose(draws_s[:, 1], mu[1], atol=1e-12)
        sd = np.sqrt(np.diag(cov))
        assert np.all(np.abs(draws_s.mean(axis=0) - mean) < 4.5 * sd / np.sqrt(n_draws) + 1e-12)
        # Covariance entries of n_draws Gaussian draws: standard error below sd_i sd_j sqrt(2/n).
        error = np.outer(sd, sd) * np.sqrt(2.0 / n_draws)
        assert np.all(np.abs(np.cov(draws_s, rowvar=False) - cov) < 4.5 * error + 1e-12)


def test_hierarchical_series_statistics_match_per_series_least_squares():
    rng = np.random.default_rng(6)
    Z = np.column_stack([np.ones(25), rng.normal(size=(25, 2))])
    Y = Z @ rng.normal(size=(3, 4)) + rng.normal(size=(25, 4))
    for target in (Y, np.where(np.arange(25)[:, None] < [25, 25, 10, 25], Y, np.nan)):
        stats = series_statistics(Z, target)
        for s in range(4):
            rows = ~np.isnan(target[:, s])
            Zs, ys = Z[rows], target[rows, s]
            beta = np.linalg.solve(Zs.T @ Zs, Zs.T @ ys)
            np.testing.assert_allclose(stats["gram"][s], Zs.T @ Zs, rtol=1e-12)
            np.testing.assert_allclose(
                stats["root"][s].T @ stats["root"][s], Zs.T @ Zs, rtol=1e-10, atol=1e-10
            )
            np.testing.assert_allclose(stats["theta_hat"][s], beta, rtol=1e-10)
            np.testing.assert_allclose(
                stats["root_theta_hat"][s], stats["root"][s] @ beta, rtol=1e-10, atol=1e-12
            )
            assert stats["n"][s] == rows.sum()
            sigma_hat2 = np.sum((ys - Zs @ beta) ** 2) / rows.sum()
            assert stats["log_sigma_hat"][s] == pytest.approx(0.5 * np.log(sigma_hat2))


def test_hierarchical_spread_coordinate_follows_the_data():
    """The sampler's coordinate for τ: with many series, τ itself, centred near the spread the
    data show and scaled like its posterior sd where the data pin τ, centred at zero where there
    is no spread; with few, log τ."""
    rng = np.random.default_rng(2)
    n_series, n_steps, noise = 400, 50, 1.0
    Z = np.column_stack([np.ones(n_steps), rng.normal(size=n_steps)])
    coef = np.column_stack([np.full(n_series, 1.0), 0.5 + 0.5 * rng.standard_normal(n_series)])
    Y = Z @ coef.T + noise * rng.standard_normal((n_steps, n_series))
    data = model_data(Z, Y)
    np.testing.assert_array_equal(data["tau_linear"], 1.0)
    # Coefficient 1: spread 0.5, posterior sd of τ about τ / sqrt(2 S) (1 + se² / τ²).
    se2 = noise**2 / n_steps
    assert data["tau_center"][1] == pytest.approx(0.5, rel=0.15)
    expected_sd = 0.5 / np.sqrt(2 * n_series) * (1 + se2 / 0.25)
    assert expected_sd / 2 < data["tau_scale"][1] < 2 * expected_sd
    # Intercept: no spread; τ's posterior lives below a fraction of the sampling sd.
    assert data["tau_center"][0] < 2 * data["tau_scale"][0] < np.sqrt(se2)
    # Fewer series than LINEAR_SPREAD_SERIES: log τ, unscaled.
    few = model_data(Z, Y[:, : LINEAR_SPREAD_SERIES - 1])
    np.testing.assert_array_equal(few["tau_linear"], 0.0)
    np.testing.assert_array_equal(few["tau_center"], 0.0)
    np.testing.assert_array_equal(few["tau_scale"], 1.0)
    assert model_data(Z, Y[:, :LINEAR_SPREAD_SERIES])["tau_linear"].all()


# Both coordinates of τ (six series take log τ; the signed one is forced).
@pytest.mark.parametrize("signed", [False, True])
def test_hierarchical_posterior_matches_quadrature_for_an_intercept_model(signed):
    """NUTS on the model with only intercepts against the posterior of (μ, τ) on a grid: given
    (μ, τ), each series' likelihood is one integral over its σ."""
    from scipy.special import logsumexp

    from sklearn_lambda3.bayes._diagnostics import mcse_mean
    from sklearn_lambda3.bayes._inference import sample_posterior

    rng = np.random.default_rng(0)
    lengths = np.array([5, 8, 12, 20, 30, 50])
    Y = np.full((50, len(lengths)), np.nan)
    for s, n in enumerate(lengths):
        Y[:n, s] = 0.3 + 0.4 * rng.standard_normal() + rng.uniform(0.5, 1.5) * rng.standard_normal(n)
    data = model_data(np.ones((50, 1)), Y, prior_scale=2.0)
    if signed:
        data.update(tau_linear=np.ones(1), tau_center=np.full(1, 0.2), tau_scale=np.full(1, 0.2))
    settings = dict(num_warmup=500, num_samples=2000, num_chains=4, target_accept_prob=0.8, max_tree_depth=10)
    draws = sample_posterior(HierarchicalModel(), data, 0, "cpu", settings)
    assert draws["diverging"].sum() == 0

    mus, taus = np.linspace(-2.5, 3.0, 276), np.linspace(0.0, 3.0, 601)[1:]
    log_sigma = np.linspace(np.log(0.05), np.log(6.0), 400)
    sigma = np.exp(log_sigma)
    log_prior_sigma = -(sigma**2) / 2 + log_sigma  # HalfNormal(1) in log σ
    log_post = -(mus[:, None] ** 2) / 8 - taus[None, :] ** 2 / 2  # Normal(0, 2), HalfNormal(1)
    for s, n in enumerate(lengths):
        ys = Y[:n, s]
        # N(y; μ1, τ²11ᵀ + σ²I): log-determinant and quadratic form in closed form.
        total_var = sigma**2 + n * taus[:, None] ** 2
        ss = np.sum((ys - ys.mean()) ** 2)
        log_lik = -0.5 * (
            (n - 1) * np.log(sigma**2)
            + np.log(total_var)
            + ss / sigma**2
            + n * (ys.mean() - mus[:, None, None]) ** 2 / total_var
        )
        log_post = log_post + logsumexp(log_lik + log_prior_sigma, axis=-1)
    weight = np.exp(log_post - log_post.max())
    weight /= weight.sum()
    for site, grid, marginal in (("mu", mus, weight.sum(axis=1)), ("tau", taus, weight.sum(axis=0))):
        chains = draws[site][..., 0]
        mean = marginal @ grid
        sd = np.sqrt(marginal @ grid**2 - mean**2)
        assert abs(chains.mean() - mean) < 4 * mcse_mean(chains) + 0.01 * sd
        assert chains.std() == pytest.approx(sd, rel=0.05)


def test_hierarchical_program_written_out_only_where_it_pays():
    from sklearn_lambda3.bayes._hierarchical import unrolled_program

    # Many series: the entry-by-entry gradient; few series of several coefficients, or more
    # coefficients than UNROLLED_LIMIT: LAPACK (a smaller program, compiled sooner).
    assert unrolled_program(4, 1000) and unrolled_program(1, 1)
    assert not unrolled_program(5, 10)
    assert not unrolled_program(UNROLLED_LIMIT + 1, 10**6)


def test_hierarchical_float64_stays_inside_the_fit(hierarchical_fit):
    import jax
    import jax.numpy as jnp

    # The hierarchical sampler runs in float64 under a scoped switch; the global setting is untouched.
    assert not jax.config.jax_enable_x64
    assert jnp.ones(1).dtype == jnp.float32


# With one series τ keeps its prior, a heavy-tailed posterior that short chains mix slowly.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_hierarchical_one_series_gives_one_dimensional_output():
    X, y, coef = linear_data(n=200, k=2, noise=0.3, seed=5)
    reg = Lambda3HierarchicalRegressor(**FAST, random_state=0).fit(X, y)
    assert reg.coef_.shape == (2,) and isinstance(reg.intercept_, float)
    assert reg.predict(X[:4]).shape == (4,)
    np.testing.assert_allclose(reg.coef_, coef, rtol=0.05)


@pytest.mark.parametrize(
    ("y_factory", "error", "match"),
    [
        (lambda Y: np.where(np.arange(len(Y))[:, None] > 0, np.nan, Y), ValueError, "at least 2 observed"),
        (lambda Y: np.r_[Y[:-1], np.full((1, Y.shape[1]), np.inf)], ValueError, "infinite"),
        (lambda Y: Y[..., None], ValueError, "1-D or 2-D"),
        (lambda Y: Y[:-1], ValueError, "inconsistent numbers of samples"),
        (lambda Y: Y.astype(str), TypeError, "real numbers"),
    ],
)
def test_hierarchical_bad_targets(y_factory, error, match):
    X, Y, _ = grouped_series(0, n_long=40, n_short=40, n_series=2)
    with pytest.raises(error, match=match):
        Lambda3HierarchicalRegressor(**FAST).fit(X, y_factory(Y))


def test_hierarchical_has_constant_noise_only():
    # Each estimator takes only the parameters that act on it.
    assert "noise" not in Lambda3HierarchicalRegressor().get_params()
    with pytest.raises(TypeError, match="unexpected keyword argument 'noise'"):
        Lambda3HierarchicalRegressor(noise="tension")
