"""Lambda3BayesRegressor, the linear model: statistics against known truth (priors against
BayesianRidge and OLS, predictive intervals, tension noise), sample_weight, persistence and
errors."""

import pickle
import subprocess
import sys
import textwrap
import warnings

import joblib
import numpy as np
import pytest
from _bayes_helpers import FAST, linear_data
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import BayesianRidge, LinearRegression
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import Pipeline

from sklearn_lambda3 import (
    Lambda3BayesRegressor,
    Lambda3DynamicRegressor,
    Lambda3Features,
    Lambda3HierarchicalRegressor,
)
from sklearn_lambda3.datasets import make_jump_series


def test_weak_priors_agree_with_bayesian_ridge_and_ols():
    X, y, _ = linear_data(n=500, k=4, seed=1)
    weak = {f"{p}_prior_scale": 100.0 for p in ("intercept", "coef", "jump", "tension")}
    reg = Lambda3BayesRegressor(**weak, **FAST, random_state=0).fit(X, y)
    ridge = BayesianRidge().fit(X, y)
    ols = LinearRegression().fit(X, y)
    sd = reg.coef_samples_.std(axis=0)
    assert np.all(np.abs(reg.coef_ - ridge.coef_) < 0.2 * sd)
    assert np.all(np.abs(reg.coef_ - ols.coef_) < 0.2 * sd)
    # Posterior sd matches the conjugate posterior's (BayesianRidge's sigma_).
    np.testing.assert_allclose(sd, np.sqrt(np.diag(ridge.sigma_)), rtol=0.15)
    assert reg.intercept_ == pytest.approx(ols.intercept_, abs=0.2 * reg.intercept_samples_.std())
    assert reg.noise_samples_["sigma"].mean() == pytest.approx(0.5, rel=0.1)


def test_tight_prior_shrinks_towards_zero():
    X, y, _ = linear_data(n=30, k=2, noise=2.0, seed=2)
    loose = Lambda3BayesRegressor(coef_prior_scale=10.0, **FAST, random_state=0).fit(X, y)
    tight = Lambda3BayesRegressor(coef_prior_scale=0.01, **FAST, random_state=0).fit(X, y)
    assert np.all(np.abs(tight.coef_) < 0.1 * np.abs(loose.coef_))


def test_predictive_interval_coverage_near_nominal():
    coverages = []
    for seed in range(5):
        X, y, coef = linear_data(n=200, k=3, noise=1.0, seed=seed)
        reg = Lambda3BayesRegressor(**FAST, random_state=seed).fit(X, y)
        rng = np.random.default_rng(100 + seed)
        X_new = X[rng.integers(0, len(X), 2000)] + rng.normal(size=(2000, 3))
        y_new = X_new @ coef + 3.0 + rng.standard_normal(2000)
        interval = reg.predict_interval(X_new, coverage=0.9)
        coverages.append(np.mean((y_new >= interval[:, 0]) & (y_new <= interval[:, 1])))
        mean, std = reg.predict(X_new, return_std=True)
        # The interval is the predictive distribution's: about mean ± 1.645 std.
        assert np.mean(np.abs(interval.mean(axis=1) - mean)) < 0.05 * np.mean(std)
        assert np.median(np.diff(interval, axis=1)[:, 0] / (2 * 1.645 * std)) == pytest.approx(1.0, abs=0.03)
    assert 0.87 <= np.mean(coverages) <= 0.93


def test_predict_std_includes_parameter_uncertainty_and_noise():
    X, y, _ = linear_data(n=100, k=2, noise=1.0, seed=3)
    reg = Lambda3BayesRegressor(**FAST, random_state=0).fit(X, y)
    far = X.mean(axis=0) + 50 * X.std(axis=0)
    _, std = reg.predict(np.vstack([X.mean(axis=0), far]), return_std=True)
    noise = np.sqrt(np.mean(reg.noise_samples_["sigma"] ** 2))
    assert std[0] == pytest.approx(noise, rel=0.05)
    assert std[1] > 3 * std[0]
    # Matches the predictive draws' spread.
    draws = reg.sample_y(np.vstack([X.mean(axis=0), far]), n_samples=4000, random_state=0)
    np.testing.assert_allclose(draws.std(axis=1), std, rtol=0.08)


def test_sample_y_shape_and_seed():
    X, y, _ = linear_data(n=80, k=2, seed=4)
    reg = Lambda3BayesRegressor(**FAST, random_state=0).fit(X, y)
    a = reg.sample_y(X[:5], n_samples=3, random_state=1)
    assert a.shape == (5, 3)
    np.testing.assert_array_equal(a, reg.sample_y(X[:5], n_samples=3, random_state=1))
    assert not np.array_equal(a, reg.sample_y(X[:5], n_samples=3, random_state=2))


def test_prior_scale_follows_regressor_names():
    pd = pytest.importorskip("pandas")
    X, y, _ = linear_data(n=60, k=5, seed=6)
    names = ["time", "s__delta_LambdaC_pos", "s__delta_LambdaC_neg", "s__rho_T", "s__local_jump"]
    reg = Lambda3BayesRegressor(
        coef_prior_scale=0.7, jump_prior_scale=4.0, tension_prior_scale=2.5, **FAST, random_state=0
    )
    reg.fit(pd.DataFrame(X, columns=names), y)
    np.testing.assert_array_equal(reg.prior_scales_, [0.7, 4.0, 4.0, 2.5, 4.0])
    assert reg.diagnostics_["table"]["parameter"][:2] == ["coef[time]", "coef[s__delta_LambdaC_pos]"]
    unnamed = Lambda3BayesRegressor(coef_prior_scale=0.7, **FAST, random_state=0).fit(X, y)
    np.testing.assert_array_equal(unnamed.prior_scales_, np.full(5, 0.7))


def test_tension_noise_learns_heteroscedasticity():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(7)
    n = 600
    tension = np.exp(rng.normal(size=n))
    x = rng.normal(size=n)
    y = 2.0 * x + (0.1 + 0.8 * tension) * rng.standard_normal(n)
    X = pd.DataFrame({"x": x, "s__rho_T": tension})
    reg = Lambda3BayesRegressor(noise="tension", **FAST, random_state=0).fit(X, y)
    assert set(reg.noise_samples_) == {"sigma_base", "sigma_scale"}
    assert reg.coef_[0] == pytest.approx(2.0, abs=0.1)
    # sigma_scale is per unit of tension / mean tension: 0.8 * mean(tension) in truth.
    truth = 0.8 * tension.mean()
    assert reg.noise_samples_["sigma_scale"].mean() == pytest.approx(truth, rel=0.25)
    _, std = reg.predict(pd.DataFrame({"x": [0.0, 0.0], "s__rho_T": [0.1, 5.0]}), return_std=True)
    assert std[1] > 3 * std[0]
    constant = Lambda3BayesRegressor(**FAST, random_state=0).fit(X, y)
    assert reg.diagnostics_["num_divergences"] == 0
    assert reg.score(X, y) == pytest.approx(constant.score(X, y), abs=0.02)


def test_tension_noise_needs_a_tension_column():
    X, y, _ = linear_data(n=50, k=2, seed=8)
    with pytest.raises(ValueError, match="rho_T"):
        Lambda3BayesRegressor(noise="tension", **FAST).fit(X, y)
    with pytest.raises(ValueError, match="tension_feature"):
        Lambda3BayesRegressor(noise="tension", tension_feature="nope", **FAST).fit(X, y)


def _pipeline():
    reg = Lambda3BayesRegressor(
        num_warmup=150, num_samples=150, num_chains=2, progress_bar=False, random_state=0
    )
    return Pipeline([("l3", Lambda3Features()), ("reg", reg)]).set_output(transform="pandas")


def test_pipeline_grid_search_and_joblib_round_trip(tmp_path):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(make_jump_series(300, n_series=2, random_state=0), columns=["a", "b"])
    y = X["a"].shift(-1).to_numpy()[:-1]
    X = X.iloc[:-1]
    search = GridSearchCV(_pipeline(), {"reg__jump_prior_scale": [1.0, 5.0]}, cv=TimeSeriesSplit(3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert search.best_params_["reg__jump_prior_scale"] in (1.0, 5.0)
    fitted = search.best_estimator_
    assert list(fitted[-1].feature_names_in_[:2]) == ["a__delta_LambdaC_pos", "a__delta_LambdaC_neg"]
    np.testing.assert_array_equal(
        fitted[-1].prior_scales_[:2], [search.best_params_["reg__jump_prior_scale"]] * 2
    )
    path = tmp_path / "model.joblib"
    joblib.dump(fitted, path)
    X.to_pickle(tmp_path / "X.pkl")
    expected = fitted.predict(X)
    code = textwrap.dedent(f"""
        import sys, joblib, numpy as np, pandas as pd
        model = joblib.load({str(path)!r})
        X = pd.read_pickle({str(tmp_path / "X.pkl")!r})
        np.save({str(tmp_path / "pred.npy")!r}, model.predict(X))
        mean, std = model[-1].predict(model[:-1].transform(X), return_std=True)
        assert np.all(std > 0)
        assert "jax" not in sys.modules, "loading or predicting imported JAX"
    """)
    subprocess.run([sys.executable, "-c", code], check=True)
    np.testing.assert_array_equal(np.load(tmp_path / "pred.npy"), expected)


def test_pickle_holds_only_numpy_state():
    X, y, _ = linear_data(n=60, k=2, seed=14)
    reg = Lambda3BayesRegressor(**FAST, random_state=0).fit(X, y)
    for name, value in vars(reg).items():
        values = value.values() if isinstance(value, dict) else [value]
        for item in values:
            assert "jax" not in type(item).__module__, name
    clone = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(clone.predict(X), reg.predict(X))


def test_to_inference_data_groups():
    pytest.importorskip("arviz")
    X, y, _ = linear_data(n=70, k=2, seed=15)
    reg = Lambda3BayesRegressor(**FAST, random_state=0).fit(X, y)
    idata = reg.to_inference_data()
    groups = set(idata.groups()) if callable(idata.groups) else set(idata.children)  # ArviZ 0.x or 1.x
    assert groups == {"posterior", "sample_stats", "log_likelihood", "observed_data"}
    assert idata.posterior["coef"].shape == (2, 300, 2)
    assert idata.log_likelihood["y"].shape == (2, 300, 70)
    np.testing.assert_allclose(idata.observed_data["y"].values, y)
    np.testing.assert_allclose(idata.posterior["coef"].mean(("chain", "draw")).values, reg.coef_)
    # Pointwise log-likelihood of one draw equals the Normal density by hand.
    ll = reg.pointwise_log_likelihood(X, y)
    mu = X @ reg.coef_samples_[0] + reg.intercept_samples_[0]
    sigma = reg.noise_samples_["sigma"][0]
    expected = -0.5 * ((y - mu) / sigma) ** 2 - np.log(sigma * np.sqrt(2 * np.pi))
    np.testing.assert_allclose(ll[0, 0], expected, rtol=1e-10)
    # sample_stats as arviz.from_numpyro names them.
    stats = idata.sample_stats
    names = {"diverging", "acceptance_rate", "lp", "n_steps", "tree_depth", "energy", "step_size"}
    assert set(stats.data_vars) == names
    assert all(stats[name].shape == (2, 300) for name in names)
    n_steps = stats["n_steps"].values
    np.testing.assert_array_equal(stats["tree_depth"].values, np.floor(np.log2(n_steps)) + 1)
    assert np.all((stats["acceptance_rate"] >= 0) & (stats["acceptance_rate"] <= 1))
    # Hamiltonian = potential (-lp) + kinetic (>= 0); the step size is fixed after warm-up.
    assert np.all(stats["energy"].values >= -stats["lp"].values - 1e-4)
    assert np.any(stats["energy"].values > -stats["lp"].values + 1e-2)
    step = stats["step_size"].values
    assert np.all(step > 0) and np.all(step == step[:, :1])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"noise": "cauchy"}, "noise"),
        ({"coef_prior_scale": 0.0}, "coef_prior_scale"),
        ({"jump_prior_scale": -1.0}, "jump_prior_scale"),
        ({"num_chains": 0}, "num_chains"),
        ({"target_accept_prob": 1.0}, "target_accept_prob"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_invalid_parameters(params, match):
    X, y, _ = linear_data(n=20, k=1)
    with pytest.raises(ValueError, match=match):
        Lambda3BayesRegressor(**params).fit(X, y)


def test_model_kind_is_the_class_not_a_parameter():
    for cls in (Lambda3BayesRegressor, Lambda3DynamicRegressor, Lambda3HierarchicalRegressor):
        assert "model" not in cls().get_params()
    with pytest.raises(TypeError, match="unexpected keyword argument 'model'"):
        Lambda3BayesRegressor(model="dynamic")


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda X, y: (X, np.r_[y[:-1], np.nan]), "NaN"),
        (lambda X, y: (X, y[:-1]), "inconsistent numbers of samples"),
        (lambda X, y: (X[:, 0], y), "2D array"),
        (lambda X, y: (X, np.r_[y[:-1], np.inf]), "infinity"),
    ],
)
def test_bad_data(mutate, match):
    X, y, _ = linear_data(n=20, k=2)
    X, y = mutate(X, y)
    with pytest.raises(ValueError, match=match):
        Lambda3BayesRegressor(**FAST).fit(X, y)


def test_bad_arguments_after_fit():
    X, y, _ = linear_data(n=40, k=2, seed=16)
    reg = Lambda3BayesRegressor(**FAST, random_state=0).fit(X, y)
    for coverage in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="coverage"):
            reg.predict_interval(X, coverage=coverage)
    with pytest.raises(TypeError, match="coverage must be a real number"):
        reg.predict_interval(X, coverage="0.9")
    with pytest.raises(ValueError, match="features"):
        reg.predict(X[:, :1])
    with pytest.raises(ValueError, match="n_samples"):
        reg.sample_y(X, n_samples=0)


def test_nan_in_y_is_an_error_for_the_linear_model_only():
    X, y, _ = linear_data(n=30, k=2, seed=18)
    y = y.copy()
    y[4] = np.nan
    with pytest.raises(ValueError, match=r"y holds NaN; Lambda3BayesRegressor needs"):
        Lambda3BayesRegressor(**FAST).fit(X, y)
    with pytest.raises(ValueError, match=r"y holds NaN; Lambda3BayesRegressor needs"):
        Lambda3BayesRegressor(**FAST).fit(X, list(y))


# ------------------------------------------------------------------------- sample_weight
def _sampler_inputs(monkeypatch, reg, X, y, **fit_params):
    """Fit ``reg`` and return (a copy of) the data dict its sampler was given."""
    from sklearn_lambda3.bayes import _inference

    seen = {}
    with monkeypatch.context() as patch:
        original = _inference.sample_posterior

        def recording(model, data, *args):
            seen.update({name: np.copy(value) for name, value in data.items()})
            return original(model, data, *args)

        patch.setattr(_inference, "sample_posterior", recording)
        reg.fit(X, y, **fit_params)
    return seen


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_weight_two_equals_a_repeated_row_and_zero_drops_it(monkeypatch):
    X, y, _ = linear_data(n=120, k=3, seed=20)
    weight = np.random.default_rng(0).integers(0, 3, size=120).astype(float)
    rows = np.repeat(np.arange(120), weight.astype(int))
    weighted = Lambda3BayesRegressor(**FAST, random_state=0)
    repeated = Lambda3BayesRegressor(**FAST, random_state=0)
    data_w = _sampler_inputs(monkeypatch, weighted, X, y, sample_weight=weight)
    data_r = _sampler_inputs(monkeypatch, repeated, X[rows], y[rows])
    assert data_w.keys() == data_r.keys()
    for name in data_w:
        np.testing.assert_allclose(data_w[name], data_r[name], rtol=1e-9, atol=1e-12, err_msg=name)
    assert weighted.prior_shrinkage_ == pytest.approx(repeated.prior_shrinkage_, rel=1e-6)
    sd = repeated.coef_samples_.std(axis=0)
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=0.05 * sd.min())
    np.testing.assert_allclose(weighted.coef_samples_.std(axis=0), sd, rtol=0.05)
    intercept_sd = repeated.intercept_samples_.std()
    assert weighted.intercept_ == pytest.approx(repeated.intercept_, abs=0.05 * intercept_sd)
    # Ignoring the weights would give the sampler other statistics.
    plain = _sampler_inputs(monkeypatch, Lambda3BayesRegressor(**FAST), X, y)
    assert not np.allclose(plain["center"], data_w["center"])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_weighted_tension_noise_equals_repeated_rows():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(21)
    n = 300
    tension = np.exp(rng.normal(size=n))
    x = rng.normal(size=n)
    X = pd.DataFrame({"x": x, "s__rho_T": tension})
    y = 2.0 * x + (0.1 + 0.8 * tension) * rng.standard_normal(n)
    weight = rng.integers(0, 3, size=n)
    rows = np.repeat(np.arange(n), weight)
    weighted = Lambda3BayesRegressor(noise="tension", **FAST, random_state=0).fit(X, y, sample_weight=weight)
    repeated = Lambda3BayesRegressor(noise="tension", **FAST, random_state=1).fit(X.iloc[rows], y[rows])
    plain = Lambda3BayesRegressor(noise="tension", **FAST, random_state=0).fit(X, y)
    pairs = [(weighted.coef_samples_[:, 0], repeated.coef_samples_[:, 0])]
    pairs += [(weighted.noise_samples_[s], repeated.noise_samples_[s]) for s in weighted.noise_samples_]
    for a, b in pairs:
        # Two independent 600-draw runs of the same posterior: means within a few MCSE.
        assert abs(a.mean() - b.mean()) < 0.25 * b.std()
        assert a.std() == pytest.approx(b.std(), rel=0.25)
    assert weighted._tension_scale == pytest.approx(repeated._tension_scale, rel=1e-12)
    assert weighted._tension_scale != pytest.approx(plain._tension_scale, rel=1e-3)


@pytest.mark.parametrize(
    "weight, message",
    [
        (-np.ones(30), "Negative values in data passed to `sample_weight`"),
        (np.ones(29), r"sample_weight.shape == \(29,\), expected \(30,\)"),
        (np.r_[np.ones(29), np.nan], "sample_weight contains NaN"),
        (np.r_[np.ones(29), np.inf], "sample_weight contains infinity"),
        (np.zeros(30), "Sample weights must contain at least one non-zero number"),
    ],
)
def test_bad_sample_weight_is_rejected_before_sampling(weight, message, monkeypatch):
    from sklearn_lambda3.bayes import _inference

    monkeypatch.setattr(_inference, "sample_posterior", None)  # a call would fail differently
    X, y, _ = linear_data(n=30, k=2, seed=22)
    with pytest.raises(ValueError, match=message):
        Lambda3BayesRegressor(**FAST).fit(X, y, sample_weight=weight)


@pytest.mark.parametrize("regressor", [Lambda3DynamicRegressor, Lambda3HierarchicalRegressor])
def test_sample_weight_is_for_the_linear_model_only(regressor):
    # Rows of the other models are time steps or series entries: fit takes no weights.
    X, y, _ = linear_data(n=30, k=2, seed=23)
    with pytest.raises(TypeError, match="unexpected keyword argument 'sample_weight'"):
        regressor(**FAST).fit(X, y, sample_weight=np.ones(30))
