"""Seasonality and drift as design columns of the dynamic model's Kalman filters.

A seasonal term of period ``p`` and a linear drift enter the filters as extra columns of the
design, whose coefficients the filters integrate out under their own prior scales: Fourier
columns ``cos(2πht/p)``, ``sin(2πht/p)`` and a time column. Here the Numba kernel, the JAX
filter and the dense Gaussian density of ``y`` agree on such a design (with ordinary
regressors, missing steps and a change point), and where the model is one of statsmodels'
structural models, its log-likelihood at given variances is statsmodels' Kalman filter's.
"""

import numpy as np
import pytest
from _kalman_helpers import (
    HARMONICS,
    METHODS,
    PERIOD,
    dense_gradient,
    dense_moments,
    fourier_columns,
    jax_value_and_grad,
    numba_value_and_grad,
    structural_case,
)
from scipy.stats import multivariate_normal

from sklearn_lambda3.bayes._kalman import KALMAN_INPUTS
from sklearn_lambda3.bayes._noise import NOISE_FLOOR


@pytest.mark.parametrize("params", [(0.3, 0.5, 0.2), (0.05, 1.0, 0.0), (1.2, 0.1, 0.4)])
def test_seasonal_and_drift_columns_numba_jax_and_dense_agree(params):
    case = structural_case()
    inputs = tuple(case[name] for name in KALMAN_INPUTS)
    observed = ~np.isnan(case["y"])
    _, _, y_cov = dense_moments(case, *params)
    cov = y_cov[np.ix_(observed, observed)]
    expected = multivariate_normal(np.zeros(observed.sum()), cov).logpdf(case["y"][observed])
    expected_grad = dense_gradient(case, *params)
    atol = 1e-10 * np.abs(expected_grad).max()

    value, grad = numba_value_and_grad(inputs, params)
    assert value == pytest.approx(expected, rel=1e-10)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=atol)
    for method in METHODS:
        jax_value, jax_grad = jax_value_and_grad(inputs, params, method)
        assert jax_value == pytest.approx(expected, rel=1e-10)
        np.testing.assert_allclose(jax_grad, expected_grad, rtol=1e-10, atol=atol)


@pytest.mark.parametrize("level", ["llevel", "lldtrend", "rwdrift"])
@pytest.mark.parametrize("regressors", [0, 2])
def test_log_likelihood_equals_statsmodels_structural_filter(level, regressors):
    """Our model against ``UnobservedComponents(level, freq_seasonal=[24 periods, 3 harmonics])``.

    Timing: statsmodels' known initialisation is the state's distribution at the first
    observation, and so is our ``level0_var`` (the first step's level has variance
    ``level0_var``, not ``level0_var + τ²``). A deterministic trend (``"lldtrend"``,
    ``"rwdrift"``) moves the level by the drift between steps, ``level_t = level_0 + t drift +
    Σ η``: our design column for it is ``t`` itself with the drift's prior scale. The seasonal
    states rotate, which under an isotropic prior on each pair (γ, γ*) is the Fourier columns'
    regression with independent coefficients. ``"rwdrift"`` has no irregular term: our noise
    is then the noise floor alone (variance 1e-12).
    """
    UnobservedComponents = pytest.importorskip("statsmodels.tsa.statespace.structural").UnobservedComponents
    rng = np.random.default_rng(11)
    n = 150
    t = np.arange(n)
    drift = level != "llevel"
    season_scale, drift_scale, level0_var = 0.7, 0.05, 4.0
    exog = rng.standard_normal((n, regressors))
    exog_scale = np.array([1.5, 0.4])[:regressors]
    y = 1.0 + 0.02 * t + np.cumsum(0.2 * rng.standard_normal(n)) + 0.5 * rng.standard_normal(n)
    y = y + fourier_columns(n) @ rng.standard_normal(2 * HARMONICS) + exog @ rng.standard_normal(regressors)
    y[[3, 40, 41, 100]] = np.nan
    columns = [fourier_columns(n)] + ([t[:, None]] if drift else []) + [exog]
    scales = [np.full(2 * HARMONICS, season_scale)] + ([[drift_scale]] if drift else []) + [exog_scale]
    inputs = (y, np.column_stack(columns), np.concatenate(scales), np.zeros(n), level0_var, 9.0, np.zeros(n))
    tau, sigma = 0.25, 0.0 if level == "rwdrift" else 0.45

    model = UnobservedComponents(
        y,
        level=level,
        freq_seasonal=[{"period": PERIOD, "harmonics": HARMONICS}],
        stochastic_freq_seasonal=[False],
        exog=exog if regressors else None,
        mle_regression=False,
    )
    prior_var = {"level": level0_var, "trend": drift_scale**2}
    prior_var.update({f"beta.x{j + 1}": exog_scale[j] ** 2 for j in range(regressors)})
    model.ssm.initialize_known(
        np.zeros(model.k_states),
        np.diag([prior_var.get(name, season_scale**2) for name in model.state_names]),
    )
    # statsmodels leaves out the first k_states steps, set for its diffuse default; a proper
    # prior needs none.
    model.loglikelihood_burn = 0
    variances = {"sigma2.irregular": (sigma + NOISE_FLOOR) ** 2, "sigma2.level": tau**2}
    expected = model.loglike(np.array([variances[name] for name in model.param_names]))

    assert numba_value_and_grad(inputs, (tau, sigma, 0.0))[0] == pytest.approx(expected, rel=1e-10)
    for method in METHODS:
        assert jax_value_and_grad(inputs, (tau, sigma, 0.0), method)[0] == pytest.approx(expected, rel=1e-10)
