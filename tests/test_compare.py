"""compare (PSIS-LOO / WAIC) and posterior_predictive_check against known truth."""

import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from _bayes_helpers import dynamic_data
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from sklearn_lambda3 import (
    Lambda3BayesRegressor,
    Lambda3DynamicRegressor,
    Lambda3HierarchicalRegressor,
    PredictiveCheck,
    compare,
    posterior_predictive_check,
)

FAST = {"num_warmup": 300, "num_samples": 300, "num_chains": 2, "progress_bar": False}
N = 200
HALF_LOG_2PI = 0.5 * np.log(2 * np.pi)


def two_regressor_data(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, 2))
    y = 1.0 + 2.0 * X[:, 0] + 1.5 * X[:, 1] + rng.standard_normal(N)
    return X, y


@pytest.fixture(scope="module")
def linear_fits():
    X, y = two_regressor_data(0)
    both = Lambda3BayesRegressor(**FAST, random_state=0).fit(X, y)
    first = Lambda3BayesRegressor(**FAST, random_state=0).fit(X[:, :1], y)
    return X, y, both, first


@pytest.mark.parametrize(("ic", "column"), [("loo", "elpd_loo"), ("waic", "elpd_waic")])
def test_model_with_both_regressors_ranks_first(linear_fits, ic, column):
    X, y, both, first = linear_fits
    table = compare({"first": first, "both": both}, {"first": X[:, :1], "both": X}, y, ic=ic)
    assert list(table.index) == ["both", "first"]
    assert list(table["rank"]) == [0, 1]
    assert np.all(table["se"] > 0)
    assert table.loc["first", "dse"] > 0
    assert table["weight"].sum() == pytest.approx(1.0)
    assert table.loc["both", "weight"] > 0.95
    # Known truth: unit Normal noise gives elpd ≈ n·(-log√(2π) - 1/2); leaving out x1 (coef 1.5)
    # inflates the noise sd to √(1 + 1.5²), costing n·log√(3.25) more.
    se, dse = table.loc["both", "se"], table.loc["first", "dse"]
    assert table.loc["both", column] == pytest.approx(N * (-HALF_LOG_2PI - 0.5), abs=3 * se)
    assert table.loc["first", "elpd_diff"] == pytest.approx(N * 0.5 * np.log(3.25), abs=3 * dse)
    assert table.loc["first", "elpd_diff"] > 5 * table.loc["first", "dse"]
    # Effective number of parameters: intercept, coefficients and noise.
    assert table.loc["both", f"p_{ic}"] == pytest.approx(4, abs=1.5)
    assert table.loc["first", f"p_{ic}"] == pytest.approx(3, abs=1.5)


def test_loo_and_waic_agree_and_scales_convert(linear_fits):
    X, y, both, _ = linear_fits
    loo = compare([both], X, y, ic="loo")
    waic = compare([both], X, y, ic="waic")
    deviance = compare([both], X, y, ic="loo", scale="deviance")
    assert list(loo.index) == ["model0"]
    assert loo["elpd_loo"].iloc[0] == pytest.approx(waic["elpd_waic"].iloc[0], abs=0.5)
    assert deviance["elpd_loo"].iloc[0] == pytest.approx(-2 * loo["elpd_loo"].iloc[0])
    assert not loo["warning"].iloc[0]
    # The ArviZ 0.x table with either ArviZ generation.
    for table, ic in ((loo, "loo"), (waic, "waic"), (deviance, "loo")):
        columns = ["rank", f"elpd_{ic}", f"p_{ic}", "elpd_diff", "weight", "se", "dse", "warning", "scale"]
        assert list(table.columns) == columns
    assert list(deviance["scale"]) == ["deviance"]
    assert deviance["se"].iloc[0] == pytest.approx(2 * loo["se"].iloc[0])
    assert deviance["p_loo"].iloc[0] == pytest.approx(loo["p_loo"].iloc[0])


def test_tension_noise_beats_constant_noise_on_heteroscedastic_data():
    rng = np.random.default_rng(1)
    rho = rng.uniform(0.1, 3.0, N)
    X = pd.DataFrame({"x": rng.normal(size=N), "s__rho_T": rho})
    y = 2.0 * X["x"].to_numpy() + (0.05 + 0.5 * rho) * rng.standard_normal(N)
    settings = {**FAST, "num_warmup": 500, "random_state": 0}
    tension = Lambda3BayesRegressor(noise="tension", **settings).fit(X, y)
    constant = Lambda3BayesRegressor(**settings).fit(X, y)
    table = compare({"constant": constant, "tension": tension}, X, y)
    assert list(table.index) == ["tension", "constant"]
    assert table.loc["constant", "elpd_diff"] > 4 * table.loc["constant", "dse"]


def test_ppc_of_well_specified_model_is_moderate(linear_fits):
    X, y, both, _ = linear_fits
    check = posterior_predictive_check(both, X, y, n_samples=1000, random_state=0)
    assert isinstance(check, PredictiveCheck)
    assert check.statistics == ("mean", "std", "min", "max", "median")
    for name in check.statistics:
        assert 0.05 < check.p_value[name] < 0.95, (name, check.p_value[name])
        assert check.replicated[name].shape == (1000,)
    assert check.observed["mean"] == pytest.approx(y.mean())
    assert check.observed["std"] == pytest.approx(y.std())
    assert check.observed["max"] == y.max()
    # The p-value is the share of replicates above the observed value (continuous: no ties).
    assert check.p_value["max"] == pytest.approx(np.mean(check.replicated["max"] > y.max()))


# Short chains sometimes miss the strict R-hat ≤ 1.01; p-values, not convergence, are tested here.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_ppc_p_values_are_calibrated_over_repeated_datasets(linear_fits):
    # Same shapes as the fixture's fit, so no recompilation: 20 datasets from the true model.
    p_values = {name: [] for name in ("mean", "std", "min", "max", "median")}
    for seed in range(20):
        X, y = two_regressor_data(100 + seed)
        reg = Lambda3BayesRegressor(**FAST, random_state=seed).fit(X, y)
        check = posterior_predictive_check(reg, X, y, n_samples=500, random_state=seed)
        for name in p_values:
            p_values[name].append(check.p_value[name])
    p_values = {name: np.array(values) for name, values in p_values.items()}
    for name, values in p_values.items():
        assert np.all((values >= 0) & (values <= 1))
        # Posterior predictive p-values are uniform or more concentrated around 1/2: never
        # piled up in the tails when the model is right.
        assert np.mean((values < 0.025) | (values > 0.975)) <= 0.15, (name, values)
    # The mean is fitted, so its p-value sits near 1/2.
    assert np.all(np.abs(p_values["mean"] - 0.5) < 0.2)


def test_ppc_flags_skewed_noise_fitted_with_normal_noise():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(N, 1))
    y = 2.0 * X[:, 0] + rng.lognormal(sigma=1.0, size=N)
    reg = Lambda3BayesRegressor(**FAST, random_state=0).fit(X, y)
    check = posterior_predictive_check(reg, X, y, n_samples=1000, random_state=0)
    # The lognormal's right tail is far longer than a Normal's: no replicate reaches the observed max.
    assert check.p_value["max"] < 0.01
    assert 0.05 < check.p_value["mean"] < 0.95
    assert 0.05 < check.p_value["std"] < 0.95


def test_ppc_reproducible_custom_statistic_frame_and_repr(linear_fits):
    X, y, both, _ = linear_fits

    def iqr(values, axis):
        return np.subtract(*np.percentile(values, [75, 25], axis=axis))

    a = posterior_predictive_check(both, X, y, n_samples=200, statistics=("max", iqr), random_state=3)
    b = posterior_predictive_check(both, X, y, n_samples=200, statistics=("max", iqr), random_state=3)
    c = posterior_predictive_check(both, X, y, n_samples=200, statistics=("max", iqr), random_state=4)
    assert a.statistics == ("max", "iqr")
    np.testing.assert_array_equal(a.replicated["iqr"], b.replicated["iqr"])
    assert a.p_value == b.p_value
    assert not np.array_equal(a.replicated["max"], c.replicated["max"])
    assert 0 <= a.p_value["iqr"] <= 1
    frame = a.to_frame()
    assert list(frame["statistic"]) == ["max", "iqr"]
    assert frame["p_value"].tolist() == [a.p_value["max"], a.p_value["iqr"]]
    summary = a.replicated_summary("max")
    assert summary["lower"] < summary["mean"] < summary["upper"]
    text = repr(a)
    assert "200 replicates" in text and "iqr" in text and "p_value" in text


class StandIn:
    """Fitted-model stand-in with the hierarchical model's 2-D contract.

    Every entry is Normal(``mean[series]``, ``sd[series]``). Entries missing (NaN) in the
    target ``y_fit`` are replicated as 1e6, which a check must leave out.
    """

    n_features_in_ = 1

    def __init__(self, mean, sd, y_fit, draws=(2, 100)):
        self.mean = np.asarray(mean, dtype=float)
        self.sd = np.asarray(sd, dtype=float)
        self.missing = np.isnan(y_fit)
        self.draws = draws

    def pointwise_log_likelihood(self, X, y):
        observed = ~np.isnan(y)
        z = (y - self.mean) / self.sd
        log_lik = (-0.5 * z**2 - np.log(self.sd) - HALF_LOG_2PI)[observed]
        # Small draw-to-draw jitter so that the posterior is not a point mass.
        jitter = np.random.default_rng(0).normal(scale=0.01, size=self.draws + (1,))
        return log_lik + jitter

    def sample_y(self, X, n_samples=1, random_state=None):
        rng = np.random.default_rng(random_state)
        n_rows, n_series = np.shape(X)[0], len(self.mean)
        draws = self.mean[:, None] + self.sd[:, None] * rng.standard_normal((n_rows, n_series, n_samples))
        draws[self.missing] = 1e6
        return draws


@pytest.fixture
def panel():
    rng = np.random.default_rng(5)
    y = np.column_stack([rng.normal(0.0, 1.0, 120), rng.normal(3.0, 2.0, 120)])
    y[rng.choice(120, 15, replace=False), 0] = np.nan
    y[rng.choice(120, 30, replace=False), 1] = np.nan
    return np.ones((120, 1)), y


def test_compare_2d_target_skips_missing_entries(panel):
    X, y = panel
    true = StandIn([0.0, 3.0], [1.0, 2.0], y)
    shifted = StandIn([0.5, 3.0], [1.0, 2.0], y)
    assert true.pointwise_log_likelihood(X, y).shape == (2, 100, 240 - 45)
    table = compare({"shifted": shifted, "true": true}, X, y, ic="waic")
    assert list(table.index) == ["true", "shifted"]
    # Known truth: the shift costs 0.5²/2 per observed entry of series 0, 105 of them, in expectation.
    dse = table.loc["shifted", "dse"]
    assert table.loc["shifted", "elpd_diff"] == pytest.approx(105 * 0.125, abs=4 * dse)


def test_ppc_2d_target_per_series_nan_aware(panel):
    X, y = panel
    # Series 1 has sd 2 but the model says 1: its spread is flagged, series 0's is not.
    model = StandIn([0.0, 3.0], [1.0, 1.0], y)
    check = posterior_predictive_check(model, X, y, n_samples=500, random_state=0)
    np.testing.assert_allclose(check.observed["mean"], np.nanmean(y, axis=0))
    np.testing.assert_allclose(check.observed["max"], np.nanmax(y, axis=0))
    assert check.replicated["std"].shape == (2, 500)
    # Missing entries replicated as 1e6 were left out of the replicated statistics.
    assert np.all(check.replicated["max"] < 100)
    # Series 0 follows the stand-in exactly (no fitted parameters), so its p-value is uniform.
    assert 0.01 < check.p_value["std"][0] < 0.99
    assert check.p_value["std"][1] < 0.001
    assert check.p_value["max"][1] < 0.01 and check.p_value["min"][1] > 0.99
    assert np.all((check.p_value["median"] >= 0) & (check.p_value["median"] <= 1))
    frame = check.to_frame()
    assert len(frame) == 10 and set(frame["series"]) == {0, 1}


def test_hierarchical_model_is_compared_and_checked_per_series():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(150, 2))
    coef = np.array([1.0, -1.0]) + 0.2 * rng.normal(size=(3, 2))
    Y = X @ coef.T + rng.normal(size=(150, 3))
    Y[40:, 0] = np.nan
    full = Lambda3HierarchicalRegressor(**FAST, random_state=0).fit(X, Y)
    partial = Lambda3HierarchicalRegressor(**FAST, random_state=0).fit(X[:, :1], Y)
    table = compare({"partial": partial, "full": full}, {"partial": X[:, :1], "full": X}, Y)
    assert list(table.index) == ["full", "partial"]
    assert table.loc["partial", "elpd_diff"] > 4 * table.loc["partial", "dse"]
    check = posterior_predictive_check(full, X, Y, n_samples=300, random_state=0)
    assert check.replicated["mean"].shape == (3, 300)
    np.testing.assert_allclose(check.observed["mean"], np.nanmean(Y, axis=0))
    assert np.all((check.p_value["std"] > 0.01) & (check.p_value["std"] < 0.99))


@pytest.fixture(scope="module")
def gap_fits():
    """A dynamic model fitted through unobserved steps, and a linear one fitted on the observed rows."""
    X, y, _, _ = dynamic_data(n=150, seed=3)
    y_gap = y.copy()
    y_gap[[0, 30, 70, 71, 72, 73, 149]] = np.nan
    observed = ~np.isnan(y_gap)
    tiny = {"num_warmup": 150, "num_samples": 150, "num_chains": 2, "progress_bar": False, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dynamic = Lambda3DynamicRegressor(change_points=[120], **tiny).fit(X, y_gap)
        static = Lambda3BayesRegressor(**tiny).fit(X[observed], y_gap[observed])
    return X, y_gap, observed, dynamic, static


class FixedLogLik:
    """Model stand-in whose pointwise log-likelihood is a given array, whatever y is."""

    n_features_in_ = 2

    def __init__(self, log_lik):
        self.log_lik = log_lik

    def pointwise_log_likelihood(self, X, y):
        return self.log_lik


def hand_waic(log_lik):
    """elpd_waic on the log scale: Σ_i log mean_s p(y_i | θ_s) - Var_s log p(y_i | θ_s), as ArviZ (ddof=0)."""
    draws = log_lik.reshape(-1, log_lik.shape[-1])
    lppd = logsumexp(draws, axis=0) - np.log(len(draws))
    return float(np.sum(lppd - draws.var(axis=0)))


# Short fits give a few observations a log-likelihood variance above ArviZ's WAIC warning limit.
@pytest.mark.filterwarnings("ignore:For one or more samples:UserWarning")
def test_compare_1d_target_with_missing_steps_covers_the_observed_steps(gap_fits):
    X, y_gap, observed, dynamic, static = gap_fits
    # References from y without NaN: the dynamic model's log-likelihood of every step with the
    # unobserved steps filled, then dropped; the linear model's of the observed rows alone.
    filled = dynamic.pointwise_log_likelihood(X, np.where(observed, y_gap, 0.0))[..., observed]
    rows = static.pointwise_log_likelihood(X[observed], y_gap[observed])
    assert filled.shape[-1] == rows.shape[-1] == observed.sum()
    models = {"dynamic": dynamic, "static": static}
    waic = compare(models, X, y_gap, ic="waic")
    assert list(waic.index) == ["dynamic", "static"]
    assert waic.loc["dynamic", "elpd_waic"] == pytest.approx(hand_waic(filled), rel=1e-9)
    assert waic.loc["static", "elpd_waic"] == pytest.approx(hand_waic(rows), rel=1e-9)
    loo = compare(models, X, y_gap)
    reference = compare(
        {"dynamic": FixedLogLik(filled), "static": FixedLogLik(rows)}, X[observed], y_gap[observed]
    )
    columns = ["elpd_loo", "p_loo", "se", "elpd_diff", "dse", "weight"]
    pd.testing.assert_frame_equal(loo[columns], reference[columns], rtol=1e-9)


def test_compare_rejects_a_model_that_keeps_missing_steps(gap_fits):
    X, y_gap, observed, dynamic, _ = gap_fits
    every_row = FixedLogLik(np.zeros((2, 10, len(y_gap))))
    with pytest.raises(
        ValueError, match=rf"'every_row'.*{observed.sum()}\), one value per observed \(non-NaN\) entry of y"
    ):
        compare({"dynamic": dynamic, "every_row": every_row}, X, y_gap)


def test_ppc_1d_target_with_missing_steps_uses_the_observed_steps(gap_fits):
    X, y_gap, observed, dynamic, _ = gap_fits
    check = posterior_predictive_check(dynamic, X, y_gap, n_samples=200, random_state=0)
    replicates = dynamic.sample_y(X, 200, random_state=0)[observed]
    y_observed = y_gap[observed]
    for name, function in (("mean", np.mean), ("std", np.std), ("max", np.max), ("median", np.median)):
        assert check.observed[name] == pytest.approx(function(y_observed))
        np.testing.assert_allclose(check.replicated[name], function(replicates, axis=0))
        assert check.p_value[name] == pytest.approx(
            np.mean(function(replicates, axis=0) > function(y_observed))
        )
    # A statistic that does not skip NaN sees the observed steps only.
    spread = posterior_predictive_check(dynamic, X, y_gap, n_samples=200, statistics=np.ptp, random_state=0)
    assert spread.observed["ptp"] == pytest.approx(np.ptp(y_observed))
    np.testing.assert_allclose(spread.replicated["ptp"], np.ptp(replicates, axis=0))


def test_ties_count_half():
    class Constant(StandIn):
        def sample_y(self, X, n_samples=1, random_state=None):
            return np.full((np.shape(X)[0], n_samples), 1.0)

    X, y = np.ones((10, 1)), np.ones(10)
    model = Constant([1.0], [1.0], y[:, None])
    check = posterior_predictive_check(model, X, y, n_samples=50, statistics=["mean"])
    assert check.p_value["mean"] == 0.5


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda m, X, y: compare(m, X, y, ic="aic"), ValueError, "ic must be"),
        (lambda m, X, y: compare(m, X, y, scale="bits"), ValueError, "scale must be"),
        (lambda m, X, y: compare({}, X, y), ValueError, "empty"),
        (lambda m, X, y: compare([], X, y), ValueError, "empty"),
        (lambda m, X, y: compare(m["both"], X, y), TypeError, "dict"),
        (lambda m, X, y: compare([m["first"]], X, y), ValueError, "fitted on 1 features but X has 2"),
        (lambda m, X, y: compare([m["both"]], X, y[:-1]), ValueError, "rows"),
        (lambda m, X, y: compare(m, {"both": X}, y), ValueError, "keys"),
        (lambda m, X, y: compare([object()], X, y), TypeError, "pointwise_log_likelihood"),
        (lambda m, X, y: compare([m["both"]], X, np.full_like(y, np.nan)), ValueError, "no observed"),
        (
            lambda m, X, y: posterior_predictive_check(m["both"], X, np.full_like(y, np.nan)),
            ValueError,
            "no obs",
        ),
        (lambda m, X, y: posterior_predictive_check(m["first"], X, y), ValueError, "features"),
        (lambda m, X, y: posterior_predictive_check(m["both"], X[:5], y), ValueError, "rows"),
        (lambda m, X, y: posterior_predictive_check(m["both"], X, y, n_samples=0), ValueError, "n_samples"),
        (lambda m, X, y: posterior_predictive_check(m["both"], X, y, statistics=["skew"]), ValueError, "sk"),
        (lambda m, X, y: posterior_predictive_check(m["both"], X, y[:, None, None]), ValueError, "1-D"),
    ],
)
def test_errors(linear_fits, call, error, match):
    X, y, both, first = linear_fits
    with pytest.raises(error, match=match):
        call({"both": both, "first": first}, X, y)


def test_unfitted_model_and_wrong_sample_shape(linear_fits):
    X, y, _, _ = linear_fits
    unfitted = Lambda3BayesRegressor()
    with pytest.raises(NotFittedError):
        compare({"a": unfitted}, X, y)
    with pytest.raises(ValueError):
        posterior_predictive_check(unfitted, X, y)
    # A 1-D target with a model whose sample_y has the 2-D layout.
    model = StandIn([0.0], [1.0], y[:, None])
    with pytest.raises(ValueError, match="sample_y returned shape"):
        posterior_predictive_check(model, X[:, :1], y, n_samples=5)


def test_missing_arviz_says_how_to_install(linear_fits, monkeypatch):
    X, y, both, _ = linear_fits
    monkeypatch.setitem(sys.modules, "arviz", None)
    with pytest.raises(ImportError, match=r"pip install 'sklearn-lambda3\[arviz\]'"):
        compare([both], X, y)
