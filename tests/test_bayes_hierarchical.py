"""Lambda3HierarchicalRegressor: partial pooling, its collapsed likelihood, output shapes and errors."""


import numpy as np
import pytest
from _bayes_helpers import FAST, POPULATION, grouped_series, linear_data

from sklearn_lambda3 import Lambda3BayesRegressor, Lambda3HierarchicalRegressor


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


def test_hierarchical_integrated_likelihood_matches_dense_gaussian():
    """The collapsed likelihood equals log N(y_s; Z_s μ, Z_s D Z_sᵀ + σ² I) summed over series."""
    import jax.numpy as jnp
    from numpyro.infer.util import log_density

    from sklearn_lambda3.bayes._hierarchical import HierarchicalModel, pooled_centre, series_statistics

    rng = np.random.default_rng(3)
    Z = np.column_stack([np.ones(12), rng.normal(size=(12, 2))])
    Y = rng.normal(size=(12, 2))
    Y[9:, 1] = np.nan
    data = series_statistics(Z, Y)
    data.update(prior_scale=np.ones(3), pool_scale=np.ones(3), noise_scale=1.0)
    data.update(pooled_centre(data))
    mu, tau, sigma = np.array([0.2, -0.1, 0.4]), np.array([0.5, 0.3, 0.8]), np.array([0.7, 1.3])
    w = (np.log(sigma) - data["log_sigma_hat"]) / data["log_sigma_sd"]
    eta = (mu - data["mu_center"]) / np.sqrt(tau**2 / 2 + data["mu_var"])
    params = {"eta": jnp.asarray(eta), "tau": jnp.asarray(tau), "w": jnp.asarray(w)}
    _, trace = log_density(HierarchicalModel().program, (data,), {}, params)
    np.testing.assert_allclose(trace["mu"]["value"], mu, rtol=1e-5)
    collapsed = float(trace["loglik"]["fn"].log_prob(trace["loglik"]["value"]))

    expected = 0.0
    for s in range(2):
        rows = ~np.isnan(Y[:, s])
        Zs, ys = Z[rows], Y[rows, s]
        cov = Zs @ np.diag(tau**2) @ Zs.T + sigma[s] ** 2 * np.eye(rows.sum())
        _, logdet = np.linalg.slogdet(cov)
        r = ys - Zs @ mu
        expected += -0.5 * (logdet + r @ np.linalg.solve(cov, r) + rows.sum() * np.log(2 * np.pi))
        # The sampler's form drops constants that depend only on the data: add them back.
        sigma_hat = np.exp(data["log_sigma_hat"][s])
        expected -= (
            -rows.sum() * np.log(sigma_hat)
            - rows.sum() * np.log(2 * np.pi) / 2
            - (data["rss_excess"][s] + rows.sum() / 2)
        )
    assert collapsed == pytest.approx(expected, rel=1e-4, abs=1e-3)


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
