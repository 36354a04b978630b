"""Every documented configuration of the Bayesian estimators through every public method.

One fit per configuration (estimator × noise × inference × change-point mode, the dynamic
model without regressors, its seasonality × trend pairs, the hierarchical model with one and
with several series), then each
method on it: a refit of the same instance, ``predict(return_std=True)``, ``predict_interval``,
``sample_y``, ``pointwise_log_likelihood``, ``to_inference_data``, ``parameter_draws``, pickle
and skops round trips,
``plot_fit``, ``plot_posterior`` (and ``components``, forecasts and ``plot_components`` of the
dynamic ones), ``compare`` and, for the linear configurations,
``interaction_effects``. Short chains: the draws are a valid (unconverged) posterior sample,
which is all these contracts need.
"""

import pickle
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402

from sklearn_lambda3 import (  # noqa: E402
    TRUSTED_TYPES,
    Lambda3BayesRegressor,
    Lambda3DynamicRegressor,
    Lambda3Features,
    Lambda3HierarchicalRegressor,
    compare,
)
from sklearn_lambda3.analysis import interaction_effects  # noqa: E402
from sklearn_lambda3.datasets import make_jump_series  # noqa: E402
from sklearn_lambda3.plot import plot_fit, plot_posterior  # noqa: E402

N = 120
SAMPLER = {"num_warmup": 40, "num_samples": 40, "num_chains": 2, "progress_bar": False, "random_state": 0}
SVI = {"inference": "svi", "svi_steps": 200}


def _configurations():
    configs = {}
    for noise in ("constant", "tension"):
        for inference in ("nuts", "svi"):
            extra = SVI if inference == "svi" else {}
            configs[f"linear-{noise}-{inference}"] = (Lambda3BayesRegressor, {"noise": noise, **extra})
            for mode, points in (("none", None), ("auto", "auto"), ("list", [40, 80])):
                name = f"dynamic-{noise}-{inference}-{mode}"
                configs[name] = (Lambda3DynamicRegressor, {"noise": noise, "change_points": points, **extra})
    for inference in ("nuts", "svi"):
        extra = SVI if inference == "svi" else {}
        level_only = {"change_points": "auto", **extra}
        configs[f"dynamic-level-only-{inference}"] = (Lambda3DynamicRegressor, level_only)
        for series in ("one", "several"):
            configs[f"hierarchical-{series}-{inference}"] = (Lambda3HierarchicalRegressor, dict(extra))
    # Seasonality × trend, each pair once, with the other settings varied across the pairs so
    # that every noise, change-point mode, inference and the level without regressors occurs.
    others = [
        {"noise": "constant", "change_points": None},
        {"noise": "tension", "change_points": "auto"},
        {"noise": "constant", "change_points": [40, 80], **SVI},
        {"noise": "tension", "change_points": [60]},
        {"noise": "constant", "change_points": "auto", **SVI},
        {"noise": "constant", "change_points": None, "regressors": False},
    ]
    pairs = [(season, trend) for season in SEASONALITIES for trend in ("level", "drift")]
    for (season, trend), other in zip(pairs, others, strict=True):
        name = f"dynamic-structural-{season}-{trend}-{'-'.join(str(v) for v in other.values())}"
        params = {"seasonality": SEASONALITIES[season], "trend": trend, **other}
        configs[name] = (Lambda3DynamicRegressor, params)
    return configs


SEASONALITIES = {"period": 12, "periods": {12: 2, 30: 1}, "auto": "auto"}


CONFIGS = _configurations()
STRUCTURAL = [name for name in CONFIGS if name.startswith("dynamic-structural")]


def _data(name):
    """Regressors (pandas, named by Lambda3Features) and target of a configuration."""
    series = make_jump_series(N + 1, n_series=3, random_state=1)
    frame = pd.DataFrame(series[:-1], columns=["a", "b", "c"])
    X = Lambda3Features().set_output(transform="pandas").fit_transform(frame[["b", "c"]])
    step = np.r_[np.zeros(N // 2), np.full(N - N // 2, 3.0)]
    y = series[1:, 0] + step
    if name.startswith("dynamic-structural"):
        y = y + 4.0 * np.sin(2 * np.pi * np.arange(N) / 12)
        if CONFIGS[name][1].get("regressors") is False:
            return X.iloc[:, :0], y
    if name.startswith("dynamic-level-only"):
        return X.iloc[:, :0], y
    if name.startswith("hierarchical-several"):
        Y = np.column_stack([y, series[1:, 1], series[1:, 2] - step])
        Y[90:, 1] = np.nan  # a shorter series
        return X, Y
    return X, y


_FITS = {}


def fitted(name):
    """The configuration's estimator, fitted once per test session, with its data."""
    if name not in _FITS:
        cls, params = CONFIGS[name]
        X, y = _data(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            params = {key: value for key, value in params.items() if key != "regressors"}
            _FITS[name] = (cls(**SAMPLER, **params).fit(X, y), X, y)
    return _FITS[name]


def _output_shape(y):
    return y.shape[1:]


@pytest.mark.parametrize("name", CONFIGS)
def test_refit_of_the_same_instance(name):
    reg, X, y = fitted(name)
    before = reg.predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)  # refitting raised TypeError with noise="tension" (issue 13)
    np.testing.assert_allclose(reg.predict(X), before, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", CONFIGS)
def test_predictions_intervals_and_draws(name):
    reg, X, y = fitted(name)
    mean, std = reg.predict(X, return_std=True)
    assert mean.shape == std.shape == (N, *_output_shape(y))
    assert np.isfinite(mean).all() and np.all(std > 0)
    interval = reg.predict_interval(X, coverage=0.8)
    assert interval.shape == (N, *_output_shape(y), 2)
    assert np.all(interval[..., 0] < interval[..., 1])
    draws = reg.sample_y(X, n_samples=3, random_state=0)
    assert draws.shape == (N, *_output_shape(y), 3) and np.isfinite(draws).all()


@pytest.mark.parametrize("name", CONFIGS)
def test_pointwise_log_likelihood_and_inference_data(name):
    reg, X, y = fitted(name)
    log_lik = reg.pointwise_log_likelihood(X, y)
    n_draws = len(reg._draw_set(reg._training_time_steps()))
    assert log_lik.shape == (2, n_draws // 2, int(np.sum(~np.isnan(y))))
    assert np.isfinite(log_lik).all()
    idata = reg.to_inference_data()  # raised a reshape error for a dynamic fit without change points
    assert idata.posterior["coef"].shape[:2] == (2, n_draws // 2)
    assert idata.log_likelihood["y"].shape[-1] == log_lik.shape[-1]


@pytest.mark.parametrize("name", CONFIGS)
def test_parameter_draws_are_those_of_the_diagnostics_and_the_samples(name):
    reg, X, y = fitted(name)
    names, draws = reg.parameter_draws()
    assert names == reg.diagnostics_["table"]["parameter"]
    assert draws.shape == (2 * SAMPLER["num_samples"], len(names)) and np.isfinite(draws).all()
    coef = [i for i, label in enumerate(names) if label.startswith("coef")]
    np.testing.assert_array_equal(draws[:, coef], reg.coef_samples_.reshape(len(draws), -1))
    names_by_chain, by_chain = reg.parameter_draws(group_by_chain=True)
    assert names_by_chain == names
    np.testing.assert_array_equal(by_chain[1], draws[SAMPLER["num_samples"] :])


def test_parameter_draws_of_an_unfitted_model_is_an_error():
    with pytest.raises(NotFittedError):
        Lambda3BayesRegressor().parameter_draws()


@pytest.mark.parametrize("name", CONFIGS)
def test_pickle_and_skops_round_trips(name, tmp_path):
    sio = pytest.importorskip("skops.io")
    reg, X, y = fitted(name)
    expected = reg.predict_interval(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(reg)).predict_interval(X), expected)
    path = tmp_path / "model.skops"
    sio.dump(reg, path)
    np.testing.assert_array_equal(sio.load(path, trusted=TRUSTED_TYPES).predict_interval(X), expected)


@pytest.mark.parametrize("name", CONFIGS)
def test_plots(name):
    reg, X, y = fitted(name)
    ax = plot_fit(reg, X, y)  # refused hierarchical fits (issue 13)
    assert "predictive mean" in [line.get_label() for line in ax.lines]
    plt.close(ax.figure)
    fig = plot_posterior(reg)  # broadcast error on hierarchical fits (issue 13)
    assert len(fig.axes) >= 2 and len(fig.axes) % 2 == 0
    plt.close(fig)
    if name.startswith("dynamic"):
        from sklearn_lambda3.plot import plot_components

        fig = plot_components(reg)
        assert [ax.get_title() for ax in fig.axes] == list(reg.components_)
        plt.close(fig)


@pytest.mark.parametrize("name", CONFIGS)
def test_compare_against_itself(name):
    reg, X, y = fitted(name)
    table = compare({"a": reg, "b": reg}, X, y, ic="waic")
    assert list(table.index) in (["a", "b"], ["b", "a"])
    assert table["elpd_diff"].abs().max() < 1e-9


@pytest.mark.parametrize("name", [name for name in CONFIGS if name.startswith("linear")])
def test_interaction_effects_with_every_linear_configuration(name):
    cls, params = CONFIGS[name]
    data = pd.DataFrame(make_jump_series(120, n_series=2, random_state=2), columns=["u", "v"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # SVI raised KeyError 'r_hat_max' here (issue 13).
        result = interaction_effects(data, regressor=cls(**SAMPLER, **params), random_state=0)
    assert result.converged.shape == (2, 2) and not result.converged[0, 0]
    assert np.isfinite(result.mean["tension"][0, 1])
    if params.get("inference") == "svi":
        assert np.isnan(result.r_hat_max[0, 1])
    assert "diagnostics over the 2 models" in repr(result)


def test_the_matrix_holds_every_documented_configuration():
    kinds = {name.split("-")[0] for name in CONFIGS}
    assert kinds == {"linear", "dynamic", "hierarchical"}
    plain_dynamic = [name for name in CONFIGS if name.startswith("dynamic-") and name not in STRUCTURAL]
    assert sum(not name.startswith("dynamic-level") for name in plain_dynamic) == 12
    assert len(CONFIGS) == 4 + 12 + 2 + 4 + 6
    structural = [CONFIGS[name][1] for name in STRUCTURAL]
    assert {(p["seasonality"].__repr__(), p["trend"]) for p in structural} == {
        (repr(season), trend) for season in SEASONALITIES.values() for trend in ("level", "drift")
    }
    assert {p["noise"] for p in structural} == {"constant", "tension"}
    assert {str(p["change_points"]) for p in structural} >= {"None", "auto", "[40, 80]"}
    assert {p.get("inference", "nuts") for p in structural} == {"nuts", "svi"}
    assert any(p.get("regressors") is False for p in structural)


@pytest.mark.parametrize("name", STRUCTURAL)
def test_components_and_forecasts_of_every_structural_configuration(name):
    reg, X, y = fitted(name)
    expected = {"level", "season", "regressors", "trend", "change_points"}
    if reg.trend == "level":
        expected.discard("trend")
    if not reg.n_features_in_:
        expected.discard("regressors")
    if not reg.change_points_.size:
        expected.discard("change_points")
    assert set(reg.components_) == expected
    assert 12 in reg.seasonality_  # "auto" finds the period of the season in y
    total = sum(part[:, 0] for part in reg.components_.values())
    np.testing.assert_allclose(total, reg.predict(X), rtol=1e-9, atol=1e-9)
    future = X.iloc[:5] if reg.n_features_in_ else None
    mean, std = reg.forecast(future, steps=None if future is not None else 5, return_std=True)
    assert mean.shape == std.shape == (5,) and np.all(np.diff(std) > 0)
    ahead = reg.components(X.iloc[:5], start=reg.n_train_)
    assert set(ahead) == expected and np.isfinite(np.stack(list(ahead.values()))).all()


def test_grid_search_over_model_kinds():
    # The estimator-as-parameter idiom: the model kind is the pipeline step itself.
    from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
    from sklearn.pipeline import Pipeline

    _, y = _data("linear-constant-svi")
    frame = pd.DataFrame(make_jump_series(N, n_series=2, random_state=1), columns=["b", "c"])
    pipe = Pipeline([("features", Lambda3Features()), ("reg", Lambda3BayesRegressor())])
    candidates = [
        Lambda3BayesRegressor(**SAMPLER, **SVI),
        Lambda3DynamicRegressor(**SAMPLER, **SVI),
        Lambda3DynamicRegressor(change_points="auto", **SAMPLER, **SVI),
    ]
    search = GridSearchCV(pipe.set_output(transform="pandas"), {"reg": candidates}, cv=TimeSeriesSplit(3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(frame, y)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 3 and np.all(np.isfinite(scores))
    assert type(search.best_estimator_[-1]) is type(candidates[int(np.argmax(scores))])


DYNAMIC = [name for name in CONFIGS if name.startswith("dynamic")]


@pytest.mark.parametrize("name", DYNAMIC)
def test_append_then_every_method(name, tmp_path):
    reg, X, y = fitted(name)
    reg = pickle.loads(pickle.dumps(reg))
    new = 10
    X_new = X.iloc[-new:].set_axis(pd.RangeIndex(N, N + new)) if reg.n_features_in_ else None
    y_new = y[-new:] + 0.5
    y_new[3] = np.nan
    reg.append(X_new, y_new)
    assert reg.n_train_ == N + new and reg.level_samples_.shape[1] == N + new
    X_all = pd.concat([X, X_new]) if reg.n_features_in_ else None
    mean, std = reg.predict(X_all, return_std=True)
    assert mean.shape == std.shape == (N + new,) and np.all(np.isfinite(mean))
    assert reg.predict_interval(X_all).shape == (N + new, 2)
    assert reg.sample_y(X_all, n_samples=3, random_state=0).shape == (N + new, 3)
    y_all = np.r_[y, y_new]
    assert reg.pointwise_log_likelihood(X_all, y_all).shape[-1] == N + new - 1  # the NaN step left out
    assert reg.to_inference_data() is not None
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(restored.predict(X_all), mean)
    from sklearn_lambda3.plot import plot_components

    plt.close(plot_components(reg))
