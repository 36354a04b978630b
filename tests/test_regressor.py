"""Lambda3BayesRegressor: statistics against known truth, compilation, persistence, errors."""

import pickle
import subprocess
import sys
import textwrap
import warnings

import joblib
import numpy as np
import pytest
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

FAST = {"num_warmup": 300, "num_samples": 300, "num_chains": 2, "progress_bar": False}


def linear_data(n=400, k=3, noise=0.5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, k)) * rng.uniform(0.5, 5, size=k) + rng.normal(size=k) * 10
    coef = rng.normal(size=k) * 2
    y = X @ coef + 3.0 + noise * rng.standard_normal(n)
    return X, y, coef


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


def test_random_state_gives_bitwise_identical_posteriors():
    X, y, _ = linear_data(n=120, k=2, seed=5)
    a = Lambda3BayesRegressor(**FAST, random_state=42).fit(X, y)
    b = Lambda3BayesRegressor(**FAST, random_state=42).fit(X, y)
    c = Lambda3BayesRegressor(**FAST, random_state=43).fit(X, y)
    np.testing.assert_array_equal(a.coef_samples_, b.coef_samples_)
    np.testing.assert_array_equal(a.noise_samples_["sigma"], b.noise_samples_["sigma"])
    assert not np.array_equal(a.coef_samples_, c.coef_samples_)


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


def test_convergence_warning_names_the_failing_diagnostic():
    X, y, _ = linear_data(n=50, k=2, seed=9)
    with pytest.warns(ConvergenceWarning, match="ess_bulk_min"):
        reg = Lambda3BayesRegressor(
            num_warmup=0, num_samples=10, num_chains=2, progress_bar=False, random_state=0
        ).fit(X, y)
    assert reg.diagnostics_["ess_bulk_min"] < 200


def test_converged_fit_reports_clean_diagnostics():
    X, y, _ = linear_data(n=300, k=3, seed=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = Lambda3BayesRegressor(
            num_warmup=500, num_samples=500, num_chains=4, progress_bar=False, random_state=0
        ).fit(X, y)
    d = reg.diagnostics_
    assert d["r_hat_max"] <= 1.01 and d["ess_bulk_min"] >= 400 and d["num_divergences"] == 0
    assert len(d["table"]["parameter"]) == len(d["table"]["r_hat"]) == 3 + 1 + 1
    assert d["ess_tail_min"] >= 400 and np.all(d["e_bfmi"] > 0.3) and d["tree_depth_saturation"] == 0
    assert len(d["table"]["ess_tail"]) == len(d["table"]["mcse_mean"]) == 3 + 1 + 1


def test_nuts_diagnostics_as_stan_and_arviz_report_them():
    from sklearn_lambda3.bayes._diagnostics import e_bfmi, ess_tail, mcse_mean

    X, y, _ = linear_data(n=200, k=2, seed=11)
    reg = Lambda3BayesRegressor(**FAST, random_state=0).fit(X, y)
    d, stats = reg.diagnostics_, reg._sample_stats
    np.testing.assert_array_equal(d["e_bfmi"], e_bfmi(stats["energy"]))
    assert d["e_bfmi"].shape == d["step_size"].shape == (2,)
    # The adapted step size is fixed after warm-up: every sampling draw of a chain has it.
    np.testing.assert_array_equal(d["step_size"], stats["step_size"][:, 0])
    assert np.all(d["step_size"] > 0)
    _, draws = reg._chain_draws()
    assert d["table"]["ess_tail"][0] == ess_tail(draws[:, :, 0])
    assert d["table"]["mcse_mean"][0] == mcse_mean(draws[:, :, 0])
    assert d["ess_tail_min"] == min(d["table"]["ess_tail"])
    # MCSE of the coefficient's mean: its posterior sd over sqrt(ESS) with ESS near the draws.
    assert d["table"]["mcse_mean"][0] == pytest.approx(d["table"]["sd"][0] / np.sqrt(600), rel=0.5)


def test_low_e_bfmi_warns_and_names_the_chain():
    X, y, _ = linear_data(n=200, k=2, seed=12)
    reg = Lambda3BayesRegressor(**FAST, random_state=0).fit(X, y)
    # A random walk of energies in chain 1: the momentum resampling barely moves the energy.
    energy = reg._sample_stats["energy"].copy()
    energy[1] = np.cumsum(np.random.default_rng(0).standard_normal(energy.shape[1]))
    reg._sample_stats = {**reg._sample_stats, "energy": energy}
    with pytest.warns(ConvergenceWarning, match=r"e_bfmi=0\.\d\d \(chain 1\) < 0\.3"):
        d = reg._diagnose()
    assert d["e_bfmi"][1] < 0.3 < d["e_bfmi"][0]


def test_saturated_trees_warn():
    X, y, _ = linear_data(n=200, k=2, seed=13)
    with pytest.warns(UserWarning, match="hit max_tree_depth=1"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = Lambda3BayesRegressor(max_tree_depth=1, **FAST, random_state=0).fit(X, y)
    assert reg.diagnostics_["tree_depth_saturation"] == 1.0
    quiet = Lambda3BayesRegressor(**FAST, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)  # a UserWarning too, not the one tested
        assert quiet.fit(X, y).diagnostics_["tree_depth_saturation"] == 0.0


class _CompileCounter:
    """Counts XLA backend compilations, as NumPyro's test_compile counts model traces."""

    def __init__(self):
        import jax.monitoring

        self.count = 0
        jax.monitoring.register_event_duration_secs_listener(self._listen)

    def _listen(self, event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            self.count += 1


COMPILES = None


def test_refit_of_same_shape_compiles_nothing():
    global COMPILES
    if COMPILES is None:
        COMPILES = _CompileCounter()
    # Seven regressors: a shape no other test uses, so the first fit must compile.
    X, y, _ = linear_data(n=150, k=7, seed=11)
    before = COMPILES.count
    Lambda3BayesRegressor(**FAST, random_state=0).fit(X, y)
    assert COMPILES.count > before
    before = COMPILES.count
    X2, y2, _ = linear_data(n=333, k=7, seed=12)
    for scale in (0.5, 3.0):
        Lambda3BayesRegressor(
            coef_prior_scale=scale,
            intercept_prior_scale=scale,
            noise_prior_scale=scale,
            **FAST,
            random_state=1,
        ).fit(X2, y2)
    assert COMPILES.count == before


def test_tension_model_buckets_rows():
    global COMPILES
    if COMPILES is None:
        COMPILES = _CompileCounter()
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(13)

    def frame(n):
        return pd.DataFrame(
            {"a": rng.normal(size=n), "b": rng.normal(size=n), "c__rho_T": rng.random(n) + 0.5}
        )

    small = {"num_warmup": 50, "num_samples": 50, "num_chains": 1, "progress_bar": False, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        Lambda3BayesRegressor(noise="tension", **small).fit(frame(300), rng.normal(size=300))
        before = COMPILES.count
        # 300 and 400 rows share the 512-row bucket.
        Lambda3BayesRegressor(noise="tension", **small).fit(frame(400), rng.normal(size=400))
    assert COMPILES.count == before


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
    # A model saved before energy and step size were recorded still converts.
    for name in ("energy", "step_size"):
        del reg._sample_stats[name]
    assert set(reg.to_inference_data().sample_stats.data_vars) == names - {"energy", "step_size"}


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


def test_unavailable_device_lists_what_jax_sees():
    import jax

    if any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("a GPU is present")
    X, y, _ = linear_data(n=20, k=1)
    with pytest.raises(ValueError, match=r"device='gpu' is not available: JAX sees cpu:0"):
        Lambda3BayesRegressor(device="gpu", **FAST).fit(X, y)


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


# --- dynamic model -----------------------------------------------------------------------

DYNAMIC_TRUTH = {"points": np.array([120, 260]), "steps": np.array([3.0, -2.0]), "tau": 0.05, "sigma": 0.3}


def dynamic_data(n=400, seed=0, regressor_scale=1.0):
    """Series from the dynamic model itself: random-walk level, two steps, two regressors."""
    rng = np.random.default_rng(seed)
    truth = DYNAMIC_TRUTH
    level = 1.0 + np.cumsum(truth["tau"] * rng.standard_normal(n))
    for point, step in zip(truth["points"], truth["steps"], strict=True):
        level[point:] += step
    X = rng.normal(size=(n, 2)) * [1.0, 3.0] + [0.0, 5.0]
    coef = np.array([0.8, -0.5]) * regressor_scale
    y = level + X @ coef + truth["sigma"] * rng.standard_normal(n)
    return X, y, level, coef


@pytest.fixture(scope="module")
def dynamic_fit():
    X, y, level, coef = dynamic_data()
    reg = Lambda3DynamicRegressor(change_points=DYNAMIC_TRUTH["points"], **FAST, random_state=0).fit(X, y)
    return reg, X, y, level, coef


def test_dynamic_recovers_level_path_steps_and_coefficients(dynamic_fit):
    reg, X, y, level, coef = dynamic_fit
    assert reg.diagnostics_["r_hat_max"] <= 1.02 and reg.diagnostics_["num_divergences"] == 0
    low, high = np.quantile(reg.level_samples_, [0.05, 0.95], axis=0)
    assert np.mean((low <= level) & (level <= high)) >= 0.8
    assert np.abs(reg.level_mean_ - level).mean() < DYNAMIC_TRUTH["sigma"]
    steps = reg.change_point_samples_
    assert steps.shape == (reg.level_samples_.shape[0], 2)
    low, high = np.quantile(steps, [0.005, 0.995], axis=0)
    assert np.all((low <= DYNAMIC_TRUTH["steps"]) & (DYNAMIC_TRUTH["steps"] <= high))
    sd = reg.coef_samples_.std(axis=0)
    assert np.all(np.abs(reg.coef_ - coef) < 4 * sd)
    low, high = np.quantile(reg.tau_samples_, [0.005, 0.995])
    assert low <= DYNAMIC_TRUTH["tau"] <= high
    np.testing.assert_array_equal(reg.change_points_, DYNAMIC_TRUTH["points"])


def test_dynamic_in_sample_prediction_and_interval(dynamic_fit):
    reg, X, y, level, coef = dynamic_fit
    mean, std = reg.predict(X, return_std=True)
    np.testing.assert_allclose(mean, reg.level_mean_ + X @ reg.coef_, atol=0.05)
    assert reg.score(X, y) > 0.95
    interval = reg.predict_interval(X, coverage=0.9)
    inside = np.mean((interval[:, 0] <= y) & (y <= interval[:, 1]))
    assert 0.8 <= inside <= 0.99
    assert np.all(std > 0.25)  # at least the noise


def test_dynamic_forecast_widens_with_horizon(dynamic_fit):
    reg, X, y, level, coef = dynamic_fit
    X_future = np.tile(X.mean(axis=0), (60, 1))
    mean, std = reg.forecast(X_future, return_std=True)
    assert np.all(np.diff(std) > 0)
    np.testing.assert_allclose(mean, mean[0])  # a random walk forecasts a flat level
    assert mean[0] == pytest.approx(level[-1] + X_future[0] @ coef, abs=4 * std[0])
    np.testing.assert_array_equal(reg.predict(X_future, start=reg.n_train_), mean)
    width = np.diff(reg.predict_interval(X_future, coverage=0.9, start=reg.n_train_), axis=1)[:, 0]
    assert width[-1] > 1.3 * width[0] and np.all(np.diff(width[::10]) > 0)
    # The predictive sd of step h is sqrt(noise² + sd(level)² + h τ²) in distribution.
    draws = reg.sample_y(X_future, n_samples=4000, random_state=0, start=reg.n_train_)
    assert draws.shape == (60, 4000)
    np.testing.assert_allclose(draws.std(axis=1)[[0, -1]], std[[0, -1]], rtol=0.1)


def test_dynamic_change_points_auto_finds_the_steps():
    # The detector reads y alone, so the regressors' part must not drown the steps.
    X, y, level, coef = dynamic_data(seed=1, regressor_scale=0.1)
    reg = Lambda3DynamicRegressor(change_points="auto", **FAST, random_state=0).fit(X, y)
    found = reg.change_points_
    assert all(np.min(np.abs(found - point)) <= 3 for point in DYNAMIC_TRUTH["points"])
    assert len(found) <= 4


def test_dynamic_refit_of_any_length_compiles_nothing(dynamic_fit):
    global COMPILES
    if COMPILES is None:
        COMPILES = _CompileCounter()
    before = COMPILES.count
    for n, seed in ((300, 2), (420, 3)):
        X, y, _, _ = dynamic_data(n=n, seed=seed)
        Lambda3DynamicRegressor(change_points=[100], level_prior_scale=0.3, **FAST, random_state=seed).fit(
            X, y
        )
    assert COMPILES.count == before


def test_dynamic_state_is_numpy_and_inference_data(dynamic_fit):
    reg, X, y, level, coef = dynamic_fit
    for name, value in vars(reg).items():
        values = value.values() if isinstance(value, dict) else [value]
        for item in values:
            assert "jax" not in type(item).__module__, name
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(reg)).predict(X), reg.predict(X))
    pytest.importorskip("arviz")
    idata = reg.to_inference_data()
    n_paths = reg.level_samples_.shape[0]
    assert idata.posterior["level"].shape == (2, n_paths // 2, len(y))
    assert idata.posterior["step"].shape == (2, n_paths // 2, 2)
    assert idata.log_likelihood["y"].shape == (2, n_paths // 2, len(y))


def test_dynamic_tension_noise_runs_through_features():
    pd = pytest.importorskip("pandas")
    X, jumps = make_jump_series(300, n_jumps=3, return_jumps=True, random_state=4)
    F = Lambda3Features().set_output(transform="pandas").fit_transform(pd.DataFrame(X, columns=["s"]))
    reg = Lambda3DynamicRegressor(noise="tension", change_points="auto", **FAST)
    reg.set_params(random_state=0).fit(F, X[:, 0])
    assert set(reg.noise_samples_) == {"sigma_base", "sigma_scale"}
    assert np.all(reg.noise_samples_["sigma_scale"] >= 0)
    np.testing.assert_array_equal(reg.change_points_, np.flatnonzero(jumps[0]))


def test_dynamic_default_converges_when_sigma_reaches_zero():
    # A pure random walk: the noise's posterior reaches down to σ = 0. Sampled in log σ (as
    # before), that is a tail without end where chains stuck: R-hat 1.046, bulk ESS 106 here.
    rng = np.random.default_rng(0)
    y = np.cumsum(rng.standard_normal(300))
    X = rng.standard_normal((300, 2))
    reg = Lambda3DynamicRegressor(**FAST, random_state=0).fit(X, y)
    d = reg.diagnostics_
    assert d["r_hat_max"] <= 1.01 and d["ess_bulk_min"] >= 200 and d["num_divergences"] == 0
    assert np.quantile(reg.noise_samples_["sigma"], 0.01) < 0.01 * reg.tau_samples_.mean()


def local_level_with_idle_features(seed, n=200, m=40):
    """A local level (τ = σ = 0.3) and six features unrelated to it: three rare indicators and
    three columns nearly constant in training (sd 0.01) that vary out of sample (sd 1)."""
    rng = np.random.default_rng(seed)
    y = 10 + np.cumsum(0.3 * rng.standard_normal(n + m)) + 0.3 * rng.standard_normal(n + m)
    X = rng.standard_normal((n + m, 6)) * np.r_[np.full(n, 0.01), np.ones(m)][:, None]
    X[:, :3] = rng.random((n + m, 3)) < 0.02
    return X[:n], y[:n], X[n:], y[n:]


def test_dynamic_forecast_with_idle_features_falls_back_to_the_local_level():
    # With the coefficients' prior at its stated scales (g = 1) the idle features add their
    # prior spread to the forecasts: RMSE 1.32 x the last value's, 99 % coverage of the 90 %
    # intervals. The evidence shrinks them away (g near 1e-4 on most of these series).
    errors, naive, coverage = [], [], []
    for seed in range(4):
        X, y, X_new, y_new = local_level_with_idle_features(seed)
        reg = Lambda3DynamicRegressor(**FAST, random_state=seed).fit(X, y)
        interval = reg.predict_interval(X_new, coverage=0.9, start=reg.n_train_)
        errors.append(reg.forecast(X_new) - y_new)
        naive.append(y[-1] - y_new)
        coverage.append(np.mean((y_new >= interval[:, 0]) & (y_new <= interval[:, 1])))
    rmse, naive_rmse = (np.sqrt(np.mean(np.concatenate(e) ** 2)) for e in (errors, naive))
    assert rmse <= 1.1 * naive_rmse
    assert 0.8 <= np.mean(coverage) <= 0.97


def test_dynamic_evidence_shrinkage_keeps_informative_features_and_matches_a_grid():
    from sklearn_lambda3.bayes._kalman import _scale_mode, _scale_posterior, dynamic_evidence_shrinkage

    rng = np.random.default_rng(3)
    n = 150
    X = rng.standard_normal((n, 3))
    level = np.cumsum(0.1 * rng.standard_normal(n))

    def inputs(y):
        return (y - y.mean()) / y.std(), X.copy(), np.full(3, 1.0), np.zeros(n), 4.0, 25.0, np.zeros(n)

    strong = inputs(level + X @ [1.0, -0.5, 0.3] + 0.2 * rng.standard_normal(n))
    assert dynamic_evidence_shrinkage(strong, 0.1, 1.0) > 0.3
    idle = inputs(level + 0.2 * rng.standard_normal(n))
    g = dynamic_evidence_shrinkage(idle, 0.1, 1.0)
    assert g < 0.1

    def profile(g):
        shrunk = (*idle[:2], idle[2] * g, *idle[3:])
        starts = [np.log([0.05, 0.5]), np.log([0.005, 0.5])]
        return -_scale_mode(_scale_posterior(shrunk, np.array([0.1, 1.0])), starts).fun

    grid = np.geomspace(1e-4, 1.0, 41)
    assert profile(g) >= max(profile(h) for h in grid) - 1e-3


def collinear_weather(n=150, seed=1):
    """Six related series (dew point a function of temperature and humidity), the target the
    next step of the first: their Lambda³ features are collinear and explain y so well that a
    chain probes σ at the noise floor, where the filter's matrix A was not positive definite."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(seed)
    t = np.arange(n + 1)
    temp = 20 + 4 * np.sin(2 * np.pi * t / 24) + np.cumsum(0.2 * rng.standard_normal(n + 1))
    hum = 70 - 2 * (temp - 20) + rng.standard_normal(n + 1)
    frame = pd.DataFrame(
        {
            "temp": temp,
            "hum": hum,
            "dew": temp - (100 - hum) / 5,
            "rain": (rng.random(n + 1) < 0.03) * 1.0,
            "wind": 2 + np.abs(rng.standard_normal(n + 1)),
            "press": 1010 + np.cumsum(0.1 * rng.standard_normal(n + 1)),
        }
    )
    return frame.iloc[:-1], frame["temp"].shift(-1).iloc[:-1]


def test_dynamic_cross_validation_on_collinear_features_runs():
    from sklearn.model_selection import cross_val_score

    X, y = collinear_weather()
    reg = Lambda3DynamicRegressor(change_points="auto", random_state=0, **FAST)
    pipe = Pipeline([("l3", Lambda3Features()), ("reg", reg)]).set_output(transform="pandas")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(pipe, X, y, cv=TimeSeriesSplit(3), error_score="raise")
    assert np.all(np.isfinite(scores))


@pytest.mark.parametrize("where", ["sampling", "everywhere"])
def test_kalman_filter_failure_is_a_clear_value_error(monkeypatch, where):
    from sklearn_lambda3.bayes import _kalman, _kalman_bridge

    def broken(*args):
        raise np.linalg.LinAlgError("Matrix is not positive definite.")

    # The sampler's callback (the bridge) and the host-side search for the sampling coordinate.
    monkeypatch.setattr(_kalman_bridge, "batched_loglik_and_grad", broken)
    if where == "everywhere":
        monkeypatch.setattr(_kalman, "batched_loglik_and_grad", broken)
    X, y, _, _ = dynamic_data(n=60)
    reg = Lambda3DynamicRegressor(**FAST, random_state=0)
    with pytest.raises(ValueError, match="Kalman filter failed.*not positive definite"):
        reg.fit(X, y)


@pytest.mark.parametrize(
    ("points", "error", "match"),
    [
        ([0, 10], ValueError, r"\[1, 59\]"),
        ([10, 60], ValueError, r"\[1, 59\]"),
        ([30, 10], ValueError, "sorted"),
        ([10, 10], ValueError, "duplicates"),
        ([10.5], TypeError, "integer"),
        (["a"], TypeError, "integer"),
        ([[10, 20]], ValueError, "1-D"),
        ("everywhere", ValueError, "change_points"),
    ],
)
def test_bad_change_points_raise_clear_errors(points, error, match):
    X, y, _, _ = dynamic_data(n=60)
    with pytest.raises(error, match=match):
        Lambda3DynamicRegressor(change_points=points, **FAST).fit(X, y)


def test_forecast_is_the_dynamic_models_own():
    # Only the dynamic model has a time axis; the linear model's rows are exchangeable.
    assert not hasattr(Lambda3BayesRegressor, "forecast")
    assert not hasattr(Lambda3HierarchicalRegressor, "forecast")
    assert callable(Lambda3DynamicRegressor.forecast)


def test_dynamic_fit_through_missing_steps(dynamic_fit):
    global COMPILES
    if COMPILES is None:
        COMPILES = _CompileCounter()
    X, y, level, coef = dynamic_data(n=300, seed=5)
    y_gap = y.copy()
    gap = np.arange(150, 170)
    y_gap[gap] = np.nan
    y_gap[[0, 40, 120, 299]] = np.nan  # the first, a lone one, one at a change point, the last
    observed = ~np.isnan(y_gap)
    before = COMPILES.count
    reg = Lambda3DynamicRegressor(change_points=DYNAMIC_TRUTH["points"][:1], **FAST, random_state=1).fit(
        X, y_gap
    )
    assert COMPILES.count == before  # neither the series nor its missing pattern is compiled in
    assert reg.diagnostics_["num_divergences"] == 0
    mean, std = reg.predict(X, return_std=True)
    assert mean.shape == std.shape == (300,) and np.all(np.isfinite(mean)) and np.all(std > 0)
    assert reg.predict_interval(X).shape == (300, 2)
    # The smoothed level through the gap stays between its neighbours' levels and near the
    # truth, and is least certain in the middle of the gap.
    path = reg.level_mean_
    low, high = sorted([path[gap[0] - 1], path[gap[-1] + 1]])
    spread = reg.level_samples_.std(axis=0)
    assert np.all((path[gap] > low - 0.05) & (path[gap] < high + 0.05))
    assert np.abs(path[gap] - level[gap]).mean() < 3 * spread[gap].mean()
    assert spread[gap[10]] > 1.2 * max(spread[gap[0] - 1], spread[gap[-1] + 1])
    assert spread[gap[10]] > spread[gap[1]] and spread[gap[10]] > spread[gap[-2]]
    log_lik = reg.pointwise_log_likelihood(X, y_gap)
    assert log_lik.shape == (2, reg.level_samples_.shape[0] // 2, observed.sum())
    assert np.all(np.isfinite(log_lik))
    forecast, forecast_std = reg.forecast(X[:10], return_std=True)
    assert np.all(np.isfinite(forecast)) and np.all(np.diff(forecast_std) > 0)
    pytest.importorskip("arviz")
    idata = reg.to_inference_data()
    assert idata.log_likelihood["y"].shape[-1] == observed.sum()
    np.testing.assert_array_equal(np.asarray(idata.observed_data["y"]), y_gap[observed])


def test_dynamic_change_points_auto_with_missing_steps():
    X, y, level, coef = dynamic_data(seed=1, regressor_scale=0.1)
    y = y.copy()
    y[[5, 50, 51, 52, 200, 300, 301]] = np.nan
    reg = Lambda3DynamicRegressor(change_points="auto", **FAST, random_state=0).fit(X, y)
    found = reg.change_points_
    assert all(np.min(np.abs(found - point)) <= 3 for point in DYNAMIC_TRUTH["points"])
    assert len(found) <= 4 and not np.isnan(y[found]).any()


def test_nan_in_y_is_an_error_for_the_linear_model_only():
    X, y, _ = linear_data(n=30, k=2, seed=18)
    y = y.copy()
    y[4] = np.nan
    with pytest.raises(ValueError, match=r"y holds NaN; Lambda3BayesRegressor needs"):
        Lambda3BayesRegressor(**FAST).fit(X, y)
    with pytest.raises(ValueError, match=r"y holds NaN; Lambda3BayesRegressor needs"):
        Lambda3BayesRegressor(**FAST).fit(X, list(y))


def test_dynamic_bad_targets_with_missing_steps():
    X, y, _, _ = dynamic_data(n=40)
    reg = Lambda3DynamicRegressor(**FAST)
    with pytest.raises(ValueError, match="at least 2 observed"):
        reg.fit(X, np.r_[np.full(39, np.nan), y[-1]])
    # NaN marks a missing step; an infinity is still an error, and X must stay finite.
    with pytest.raises(ValueError, match="y holds infinity; mark missing steps with NaN"):
        reg.fit(X, np.r_[y[:-2], np.nan, np.inf])
    with pytest.raises(ValueError, match="NaN"):
        reg.fit(np.r_[X[:-1], [[np.nan, 0.0]]], np.r_[y[:-1], np.nan])


# ------------------------------------------------------------------ hierarchical model
POPULATION = {"mean": np.array([1.0, -0.5, 0.3]), "sd": np.array([0.25, 0.25, 0.25]), "noise": 2.0}


def grouped_series(seed, n_long=500, n_short=30, n_series=10):
    """Ten long series and one short one (NaN where unobserved), coefficients from the population."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_long, 3))
    coef = POPULATION["mean"] + POPULATION["sd"] * rng.standard_normal((n_series + 1, 3))
    Y = X @ coef.T + 1.0 + POPULATION["noise"] * rng.standard_normal((n_long, n_series + 1))
    Y[n_short:, 0] = np.nan  # series 0 is observed on its first n_short steps only
    return X, Y, coef


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


# ------------------------------------------------------------------ SVI
SVI = {"inference": "svi", "num_samples": 1000, "num_chains": 2, "progress_bar": False}


@pytest.mark.parametrize("guide", ["normal", "lowrank"])
def test_svi_agrees_with_nuts_on_the_linear_model(guide):
    X, y, _ = linear_data(n=500, k=3, noise=1.0, seed=2)
    nuts = Lambda3BayesRegressor(
        num_warmup=500, num_samples=1000, num_chains=2, progress_bar=False, random_state=0
    ).fit(X, y)
    svi = Lambda3BayesRegressor(**SVI, guide=guide, random_state=0).fit(X, y)
    sd = nuts.coef_samples_.std(axis=0)
    assert np.all(np.abs(svi.coef_ - nuts.coef_) < 0.2 * sd)
    assert abs(svi.intercept_ - nuts.intercept_) < 0.2 * nuts.intercept_samples_.std()
    np.testing.assert_allclose(svi.coef_samples_.std(axis=0), sd, rtol=0.25)
    sigma_sd = nuts.noise_samples_["sigma"].std()
    assert abs(svi.noise_samples_["sigma"].mean() - nuts.noise_samples_["sigma"].mean()) < 0.2 * sigma_sd
    # Same result attributes as NUTS, plus the loss history.
    assert svi.coef_samples_.shape == (2000, 3) and svi.loss_.shape == (svi.svi_steps,)
    assert svi.loss_[-100:].mean() < svi.loss_[:100].mean()
    assert "final_loss" in svi.diagnostics_ and len(svi.diagnostics_["table"]["mean"]) == 5


def test_svi_runs_every_model_and_is_reproducible():
    series = make_jump_series(300, n_series=1, random_state=3)[:, 0]
    X = np.arange(300.0)[:, None]
    dynamic = Lambda3DynamicRegressor(change_points="auto", **SVI, random_state=0)
    dynamic.fit(X, series)
    assert dynamic.level_samples_.shape[1] == 300 and np.all(np.isfinite(dynamic.level_mean_))
    assert np.corrcoef(dynamic.predict(X), series)[0, 1] > 0.95

    X3, Y, _ = grouped_series(1, n_long=200, n_short=30, n_series=4)
    first = Lambda3HierarchicalRegressor(**SVI, random_state=5).fit(X3, Y)
    again = Lambda3HierarchicalRegressor(**SVI, random_state=5).fit(X3, Y)
    np.testing.assert_array_equal(first.coef_samples_, again.coef_samples_)
    assert first.predict(X3).shape == (200, 5)

    frame = make_jump_series(400, n_series=1, random_state=4)
    import pandas as pd

    to_frame = Lambda3Features().set_output(transform="pandas")
    features = to_frame.fit_transform(pd.DataFrame(frame, columns=["a"]))
    tension = Lambda3BayesRegressor(noise="tension", **SVI, random_state=0).fit(features, frame[:, 0])
    assert set(tension.noise_samples_) == {"sigma_base", "sigma_scale"}
    assert tension.to_inference_data().posterior["coef"].shape[:2] == (2, 1000)


def test_svi_too_few_steps_warns():
    X, y, _ = linear_data(n=200, k=2, seed=4)
    with pytest.warns(ConvergenceWarning, match="SVI did not converge"):
        Lambda3BayesRegressor(**SVI, svi_steps=50, svi_learning_rate=1e-3, random_state=0).fit(X, y)


def test_svi_refit_of_same_shape_compiles_nothing():
    global COMPILES
    if COMPILES is None:
        COMPILES = _CompileCounter()
    X, y, _ = linear_data(n=150, k=6, seed=21)
    Lambda3BayesRegressor(**SVI, svi_steps=500, random_state=0).fit(X, y)
    before = COMPILES.count
    X2, y2, _ = linear_data(n=250, k=6, seed=22)
    Lambda3BayesRegressor(**SVI, svi_steps=500, coef_prior_scale=3.0, random_state=1).fit(X2, y2)
    assert COMPILES.count == before


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


def test_fit_leaves_jax_compilation_cache_settings_alone():
    # The persistent compilation cache is the user's choice (README): a fit never turns it on.
    import jax

    names = ("jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs")
    before = [getattr(jax.config, name) for name in names]
    X, y, _ = linear_data(n=50, k=2, seed=24)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        Lambda3BayesRegressor(**FAST, random_state=0).fit(X, y)
    assert [getattr(jax.config, name) for name in names] == before
