"""Lambda3DynamicRegressor.append: conditioning on new steps with the sampled scales held, against
the fit to all the steps whose sampler returned the same draws; and its errors."""

import numpy as np
import pandas as pd
import pytest
from _bayes_helpers import FAST
from sklearn.base import clone

from sklearn_lambda3 import Lambda3DynamicRegressor
from sklearn_lambda3.bayes import _inference

N_FIT, N_ALL = 110, 140

# Short chains: the convergence rule warns, as it should; these tests are about the conditioning.
pytestmark = pytest.mark.filterwarnings("ignore:NUTS did not converge:sklearn.exceptions.ConvergenceWarning")


def seasonal_data(seed=0, n=N_ALL):
    """A drifting, seasonal random walk with two regressors (one a tension-like positive column)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    X = np.column_stack([rng.normal(size=n), 1.0 + rng.gamma(2.0, size=n)])
    level = np.cumsum(0.2 * rng.standard_normal(n)) + 0.05 * t
    level[60:] += 3.0
    y = level + np.sin(2 * np.pi * t / 12) + X @ [1.0, -0.5] + 0.3 * rng.standard_normal(n)
    return pd.DataFrame(X, columns=["x", "x__rho_T"]), y


CONFIGURATIONS = {
    "regressors, season, drift, change point, gaps": (
        {"seasonality": 12, "trend": "drift", "change_points": [60]},
        True,
    ),
    "tension noise": ({"noise": "tension", "seasonality": {12: 2}}, True),
    "level alone": ({}, False),
}


def _record_sampler(monkeypatch):
    """Let fits sample as usual, keeping the last sampler output."""
    recorded = {}
    real = _inference.sample_posterior

    def recording(model, data, seed, *args, **kwargs):
        recorded.update(real(model, data, seed, *args, **kwargs))
        return recorded

    monkeypatch.setattr(_inference, "sample_posterior", recording)
    return recorded


@pytest.mark.parametrize("name", list(CONFIGURATIONS))
def test_append_equals_the_fit_to_all_steps_with_the_same_scale_draws(monkeypatch, name):
    params, with_regressors = CONFIGURATIONS[name]
    X, y = seasonal_data()
    y[[115, 116, 130]] = np.nan  # steps the new data do not observe
    if not with_regressors:
        X = None
    rows = (lambda a, b: None) if X is None else (lambda a, b: X.iloc[a:b])
    recorded = _record_sampler(monkeypatch)
    model = Lambda3DynamicRegressor(**params, **FAST, random_state=0).fit(rows(0, N_FIT), y[:N_FIT])
    model.append(rows(N_FIT, N_ALL), y[N_FIT:])
    assert model.n_train_ == N_ALL

    # The reference: a fit to all the steps in the fit's standardisation and priors, whose
    # sampler returns the same draws of the scales; the exact draws given them follow.
    sampled = {key: value for key, value in recorded.items() if key not in ("beta", "level", "level_last")}
    kept = {name: getattr(model, name) for name in ("_x_mean", "_x_scale", "_y_mean", "_y_scale")}

    def held_standardisation(self, X, y, weight):
        for attribute, value in kept.items():
            setattr(self, attribute, value)

    def held_scales(model, data, seed, *args, **kwargs):
        return model.complete(dict(sampled), data, None, seed)

    monkeypatch.setattr(Lambda3DynamicRegressor, "_standardise", held_standardisation)
    monkeypatch.setattr(_inference, "sample_posterior", held_scales)
    if model.noise == "tension":
        # The tension's scale is its training mean: hold the fit's.
        scale = model._tension_scale
        held = lambda self, X, weight=None: _held_tension(self, X, scale)  # noqa: E731
        monkeypatch.setattr(Lambda3DynamicRegressor, "_set_tension", held)
    reference = clone(model).set_params(prior_shrinkage=model.prior_shrinkage_)
    reference.fit(rows(0, N_ALL), y)

    future = None if X is None else X.iloc[:6].set_axis(pd.RangeIndex(N_ALL, N_ALL + 6))
    for method in ("forecast",):
        kwargs = {"steps": 6} if X is None else {}
        for a, b in zip(
            getattr(model, method)(future, return_std=True, **kwargs),
            getattr(reference, method)(future, return_std=True, **kwargs),
            strict=True,
        ):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(model.level_samples_, reference.level_samples_, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(model.coef_samples_, reference.coef_samples_, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(model._level_last, reference._level_last, rtol=1e-10, atol=1e-10)
    assert model.components_.keys() == reference.components_.keys()
    for key in model.components_:
        np.testing.assert_allclose(model.components_[key], reference.components_[key], rtol=1e-9, atol=1e-9)
    insample = None if X is None else X
    np.testing.assert_allclose(
        model.predict_interval(insample), reference.predict_interval(insample), rtol=1e-10, atol=1e-10
    )


def _held_tension(model, X, scale):
    from sklearn_lambda3.bayes._noise import tension_column

    model._tension_col = tension_column(model.feature_names_in_, model.tension_feature)
    model._tension_scale = scale
    return X[:, model._tension_col] / scale


def test_append_moves_the_forecast_to_the_new_level():
    """Known truth: a random walk; after the new steps the forecast starts from where it went."""
    rng = np.random.default_rng(1)
    level = np.cumsum(rng.standard_normal(121))
    y = level + 0.2 * rng.standard_normal(121)
    model = Lambda3DynamicRegressor(**FAST, random_state=0).fit(None, y[:100])
    before_mean, before_std = model.forecast(steps=21, return_std=True)
    mean, std = model.append(None, y[100:120]).forecast(steps=1, return_std=True)
    assert abs(mean[0] - y[119]) < 0.5
    assert abs(mean[0] - level[120]) < 3 * std[0]
    assert std[0] < 0.4 * before_std[-1]
    assert model.level_samples_.shape[1] == 120


def test_append_places_indexed_rows_and_refuses_a_gap():
    index = pd.date_range("2020-01-01", periods=60, freq="D")
    y = pd.Series(np.cumsum(np.random.default_rng(2).normal(size=60)), index=index)
    model = Lambda3DynamicRegressor(**FAST, random_state=0).fit(None, y.iloc[:50])
    with pytest.raises(ValueError, match="from step 50 on"):
        model.append(None, y.iloc[52:])
    model.append(None, y.iloc[50:])
    assert model.n_train_ == 60
    np.testing.assert_array_equal(model.time_steps(y.iloc[55:]), np.arange(55, 60))


@pytest.mark.parametrize(
    "X_new, y_new, error, match",
    [
        (np.ones((3, 1)), np.ones(3), ValueError, "features"),
        (np.ones((3, 2)), np.ones(4), ValueError, "X_new has 3 rows but y_new has 4"),
        (np.ones((2, 2)), np.array(["a", "b"]), TypeError, "y_new must hold real numbers"),
        (np.ones((2, 2)), None, ValueError, "append needs y_new"),
        (np.ones((2, 2)), np.array([1.0, np.inf]), ValueError, "infinity"),
    ],
)
def test_append_bad_input_is_a_clear_error(X_new, y_new, error, match):
    X, y = seasonal_data(n=60)
    model = Lambda3DynamicRegressor(num_warmup=20, num_samples=20, num_chains=1, progress_bar=False)
    model.fit(X.to_numpy(), y)
    with pytest.raises(error, match=match):
        model.append(X_new, y_new)
    assert model.n_train_ == 60


def test_components_of_steps_ahead_equal_those_of_empty_rows():
    y = np.sin(np.arange(96) * 2 * np.pi / 12) + np.random.default_rng(3).normal(scale=0.2, size=96)
    model = Lambda3DynamicRegressor(seasonality=12, **FAST, random_state=0).fit(None, y)
    ahead = model.components(steps=5)
    explicit = model.components(np.empty((5, 0)), start=96)
    assert ahead.keys() == explicit.keys() == {"level", "season"}
    for key in ahead:
        np.testing.assert_array_equal(ahead[key], explicit[key])
    with pytest.raises(ValueError, match="pass steps or start"):
        model.components(steps=5, start=96)


def test_regressor_component_is_centred_and_the_components_add_up():
    X, y = seasonal_data()
    X["x"] += 1000.0  # far from zero: uncentred, the level and X β would swing in opposite ways
    model = Lambda3DynamicRegressor(seasonality=12, **FAST, random_state=0).fit(X, y)
    parts = model.components_
    assert abs(parts["regressors"][:, 0].mean()) < 1e-8 * np.abs(X.to_numpy()).max()
    assert np.ptp(parts["level"][:, 0]) < 4 * np.ptp(y)
    total = sum(part[:, 0] for part in parts.values())
    # In-sample, predict averages the same draws (those with a level path).
    np.testing.assert_allclose(total, model.predict(X), rtol=1e-9, atol=1e-9)


def test_log_evidence_is_in_units_of_y_and_prefers_the_true_structure():
    rng = np.random.default_rng(4)
    t = np.arange(240)
    y = 0.05 * t + np.sin(2 * np.pi * t / 12) + rng.normal(scale=0.3, size=240)
    base = Lambda3DynamicRegressor(seasonality=12)
    # The standardisation removes a scale, the density of y keeps it: log p(c y) = log p(y) - n log c.
    np.testing.assert_allclose(
        base.log_evidence(None, 7.0 * y), base.log_evidence(None, y) - 240 * np.log(7.0)
    )
    drift = Lambda3DynamicRegressor(seasonality=12, trend="drift").log_evidence(None, y)
    no_season = Lambda3DynamicRegressor(trend="drift").log_evidence(None, y)
    assert drift > base.log_evidence(None, y) and drift > no_season
    assert not hasattr(base, "n_train_")  # nothing fitted
