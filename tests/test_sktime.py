"""The sktime forecaster: sktime's own checks, its tools, and agreement with the regressor."""

import inspect
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.exceptions import ConvergenceWarning
from sktime.datasets import load_airline
from sktime.forecasting.base import ForecastingHorizon
from sktime.forecasting.model_evaluation import evaluate
from sktime.forecasting.model_selection import ForecastingGridSearchCV
from sktime.performance_metrics.forecasting import MeanAbsoluteError, MeanSquaredError
from sktime.split import ExpandingWindowSplitter, SingleWindowSplitter
from sktime.utils.estimator_checks import check_estimator

from sklearn_lambda3 import Lambda3DynamicRegressor, Lambda3Features
from sklearn_lambda3.sktime import Lambda3Forecaster

QUICK = {"num_warmup": 20, "num_samples": 20, "num_chains": 1, "random_state": 0, "progress_bar": False}
# The regressor's own defaults: no season, a level, y on its own scale (the forecaster's choose them).
PLAIN = {"seasonality": None, "trend": "level", "transform": None}

pytestmark = [
    # Few draws: the convergence rule warns, as it should; sktime 1.2's own forecasters (the grid
    # search) warn of a coming default, which ours sets explicitly.
    pytest.mark.filterwarnings("ignore:NUTS did not converge:sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings(
        "ignore:Lambda3Forecaster. the sampler did not converge:sklearn.exceptions.ConvergenceWarning"
    ),
    pytest.mark.filterwarnings("ignore:The default of config ``remember_data``:FutureWarning"),
]


@pytest.fixture(scope="module")
def airline():
    return load_airline()


@pytest.fixture(scope="module")
def seasonal_fit(airline):
    """The airline series but its last year, fitted with a drift and a yearly season."""
    forecaster = Lambda3Forecaster(seasonality=12, trend="drift", transform=None, **QUICK)
    return forecaster.fit(airline.iloc[:-12])


def test_import_of_the_package_does_not_import_sktime():
    code = "import sys, sklearn_lambda3; assert 'sktime' not in sys.modules, 'sktime imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_sktime_check_estimator_passes():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_estimator(Lambda3Forecaster, raise_exceptions=True)


def test_parameters_are_the_regressors_with_its_defaults_and_features():
    forecaster = inspect.signature(Lambda3Forecaster).parameters
    regressor = inspect.signature(Lambda3DynamicRegressor).parameters
    assert set(forecaster) == set(regressor) | {"features", "transform"}
    # The forecaster chooses the season, the trend and the scale by default; the rest are the regressor's.
    assert (forecaster["seasonality"].default, forecaster["trend"].default) == ("auto", "auto")
    assert forecaster["transform"].default == "auto"
    for name, parameter in regressor.items():
        if name not in ("seasonality", "trend"):
            assert forecaster[name].default == parameter.default, name


def test_construction_is_silent_and_update_with_params_refits_on_all_the_data(exogenous):
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        forecaster = Lambda3Forecaster(**QUICK)
        forecaster.clone()
    assert forecaster.get_config()["remember_data"]
    y, X = exogenous
    forecaster.fit(y.iloc[:60], X=X.iloc[:60])
    with warnings.catch_warnings():
        # sktime's default update warns that it "will be refit each time": ours is no default.
        warnings.filterwarnings("error", message=".*will be refit each time")
        forecaster.update(y.iloc[60:70], X=X.iloc[60:70])
    assert forecaster.cutoff[0] == y.index[69]
    fresh = Lambda3Forecaster(**QUICK).fit(y.iloc[:70], X=X.iloc[:70])
    fh = np.arange(1, 6)
    np.testing.assert_allclose(
        forecaster.predict(fh=fh, X=X.iloc[70:75]).to_numpy(),
        fresh.predict(fh=fh, X=X.iloc[70:75]).to_numpy(),
        rtol=1e-12,
    )


def test_relative_and_absolute_horizons_agree(airline, seasonal_fit):
    cutoff = airline.index[-13]
    relative = ForecastingHorizon([-3, 0, 1, 2, 6], is_relative=True)
    absolute = ForecastingHorizon(relative.to_absolute_index(cutoff), is_relative=False)
    by_relative = seasonal_fit.predict_interval(fh=relative)
    by_absolute = seasonal_fit.predict_interval(fh=absolute)
    pd.testing.assert_frame_equal(by_relative, by_absolute)
    assert list(by_relative.index) == [cutoff - 3, cutoff, cutoff + 1, cutoff + 2, cutoff + 6]


def test_forecasts_are_the_regressors_for_the_same_seed(airline, seasonal_fit):
    y = airline.iloc[:-12].to_numpy()
    regressor = Lambda3DynamicRegressor(seasonality=12, trend="drift", **QUICK).fit(None, y)
    mean, sd = regressor.forecast(steps=12, return_std=True)
    fh = np.arange(1, 13)
    np.testing.assert_allclose(seasonal_fit.predict(fh=fh).to_numpy(), mean, rtol=1e-12)
    np.testing.assert_allclose(seasonal_fit.predict_var(fh=fh).to_numpy()[:, 0], sd**2, rtol=1e-12)
    # In-sample steps are the smoothed fit, the regressor's predict at those steps.
    fit_mean = regressor.predict(np.empty((len(y), 0)), start=0)
    in_sample = seasonal_fit.predict(fh=-np.arange(len(y))[::-1])
    np.testing.assert_allclose(in_sample.to_numpy(), fit_mean, rtol=1e-12)
    # A forecast does not depend on in-sample steps being asked for with it.
    mixed = seasonal_fit.predict(fh=[-5, 3])
    assert mixed.iloc[1] == pytest.approx(mean[2], rel=1e-12)


def test_intervals_quantiles_variance_and_distribution_are_one_normal(seasonal_fit):
    fh = [1, 4, 12]
    mean = seasonal_fit.predict(fh=fh).to_numpy()
    sd = np.sqrt(seasonal_fit.predict_var(fh=fh).to_numpy()[:, 0])
    alpha = [0.05, 0.25, 0.5, 0.95]
    quantiles = seasonal_fit.predict_quantiles(fh=fh, alpha=alpha).to_numpy()
    np.testing.assert_allclose(quantiles, norm.ppf(np.array(alpha)[None], mean[:, None], sd[:, None]))
    interval = seasonal_fit.predict_interval(fh=fh, coverage=[0.5, 0.9]).to_numpy()
    np.testing.assert_allclose(interval[:, 2:], quantiles[:, [0, 3]])  # 90 %: 5 % and 95 %
    np.testing.assert_allclose(interval[:, :2], norm.ppf([[0.25, 0.75]], mean[:, None], sd[:, None]))
    distribution = seasonal_fit.predict_proba(fh=fh)
    np.testing.assert_allclose(distribution.mean().to_numpy()[:, 0], mean)
    np.testing.assert_allclose(distribution.var().to_numpy()[:, 0], sd**2)
    assert np.all(np.diff(sd) > 0)  # wider with the horizon


def test_normal_intervals_are_close_to_the_regressors_monte_carlo_ones(airline, seasonal_fit):
    interval = seasonal_fit.predict_interval(fh=np.arange(1, 13), coverage=0.9).to_numpy()
    regressor = seasonal_fit.regressor_
    design = pd.DataFrame(index=pd.RangeIndex(len(airline) - 12, len(airline)))
    monte_carlo = regressor.predict_interval(design, coverage=0.9)
    width = monte_carlo[:, 1] - monte_carlo[:, 0]
    assert np.all(np.abs(interval - monte_carlo) < 0.1 * width[:, None])


def test_evaluate_with_an_expanding_window_refits_every_fold(airline):
    forecaster = Lambda3Forecaster(seasonality=12, trend="drift", transform=None, **QUICK)
    splitter = ExpandingWindowSplitter(fh=np.arange(1, 13), initial_window=108, step_length=12)
    results = evaluate(forecaster, splitter, airline, scoring=MeanAbsoluteError(), return_data=True)
    assert len(results) == 3
    # The second fold, fitted and scored by hand: the same forecast for the same seed.
    train, test = airline.iloc[:120], airline.iloc[120:132]
    y_pred = (
        Lambda3Forecaster(seasonality=12, trend="drift", transform=None, **QUICK)
        .fit(train)
        .predict(fh=np.arange(1, 13))
    )
    pd.testing.assert_series_equal(results["y_pred"].iloc[1], y_pred)
    assert results["test_MeanAbsoluteError"].iloc[1] == pytest.approx(np.mean(np.abs(test - y_pred)))


def test_grid_search_finds_the_season():
    steps = np.arange(72)
    rng = np.random.default_rng(1)
    y = pd.Series(10 + 3 * np.sin(2 * np.pi * steps / 6) + rng.normal(scale=0.3, size=72))
    search = ForecastingGridSearchCV(
        Lambda3Forecaster(**QUICK),
        cv=SingleWindowSplitter(fh=np.arange(1, 13), window_length=60),
        param_grid={"seasonality": [None, 4, 6]},
        scoring=MeanSquaredError(),
        backend=None,  # in this process: a worker process would compile the sampler again
    )
    search.fit(y)
    assert search.best_params_ == {"seasonality": 6}
    assert search.cv_results_["mean_test_MeanSquaredError"].notna().all()


@pytest.fixture(scope="module")
def exogenous():
    """A level plus twice a regressor, on a daily index."""
    rng = np.random.default_rng(2)
    index = pd.date_range("2024-01-01", periods=80, freq="D")
    x = np.r_[np.zeros(40), np.ones(40)] + rng.normal(scale=0.5, size=80)
    X = pd.DataFrame({"x": x, "other": rng.normal(size=80)}, index=index)
    y = pd.Series(5 + 2 * x + rng.normal(scale=0.2, size=80), index=index, name="y")
    return y, X


def test_exogenous_forecasts_use_the_future_regressors(exogenous):
    y, X = exogenous
    forecaster = Lambda3Forecaster(**QUICK, **PLAIN).fit(y.iloc[:70], X=X.iloc[:70])
    y_pred = forecaster.predict(fh=np.arange(1, 11), X=X.iloc[70:])
    regressor = Lambda3DynamicRegressor(**QUICK).fit(X.iloc[:70].to_numpy(), y.iloc[:70].to_numpy())
    np.testing.assert_allclose(y_pred.to_numpy(), regressor.forecast(X.iloc[70:].to_numpy()), rtol=1e-12)
    # The regressor carries the forecast: far closer than the level's alone.
    level_only = Lambda3Forecaster(**QUICK, **PLAIN).fit(y.iloc[:70]).predict(fh=np.arange(1, 11))
    rmse = np.sqrt(np.mean((y_pred - y.iloc[70:]) ** 2))
    assert rmse < 0.5 * np.sqrt(np.mean((level_only - y.iloc[70:]) ** 2))
    # A step of its own: rows are looked up by their labels.
    alone = forecaster.predict(fh=[7], X=X.iloc[[76]])
    assert alone.iloc[0] == pytest.approx(y_pred.iloc[6], rel=1e-12)


def test_features_of_the_exogenous_series_are_the_regressors(exogenous):
    y, X = exogenous
    features = Lambda3Features(window=4, local_window=3)
    forecaster = Lambda3Forecaster(features=features, **QUICK, **PLAIN).fit(y.iloc[:70], X=X.iloc[:70])
    assert forecaster.get_tag("capability:non_contiguous_X") is False
    y_pred = forecaster.predict(fh=[2, 5], X=X.iloc[70:75])
    # By hand: features of the training rows and the steps up to the horizon, as one stretch.
    reference_features = Lambda3Features(window=4, local_window=3).fit(X.iloc[:70].to_numpy())
    names = reference_features.get_feature_names_out(["x", "other"])
    train = pd.DataFrame(reference_features.transform(X.iloc[:70].to_numpy()), columns=names)
    regressor = Lambda3DynamicRegressor(**QUICK).fit(train, y.iloc[:70].to_numpy())
    future = reference_features.transform(X.iloc[:75].to_numpy())[70:]
    expected = regressor.forecast(pd.DataFrame(future, columns=names))[[1, 4]]
    np.testing.assert_allclose(y_pred.to_numpy(), expected, rtol=1e-12)
    assert list(forecaster.regressor_.feature_names_in_) == list(names)
    with pytest.raises(ValueError, match="every forecast step up to the horizon"):
        forecaster.predict(fh=[2, 5], X=X.iloc[[71, 74]])


def test_missing_values_in_y_are_unobserved_steps(airline):
    y = airline.iloc[:60].copy()
    y.iloc[[10, 11, 30]] = np.nan
    forecaster = Lambda3Forecaster(**QUICK, **PLAIN).fit(y)
    regressor = Lambda3DynamicRegressor(**QUICK).fit(None, y.to_numpy())
    np.testing.assert_allclose(forecaster.predict(fh=[1, 2]).to_numpy(), regressor.forecast(steps=2))
    in_sample = forecaster.predict(fh=[-50, -49]).to_numpy()  # the gap's steps: interpolated
    assert np.all(np.isfinite(in_sample))
    assert y.iloc[9] - 30 < in_sample.mean() < y.iloc[12] + 30


def test_bad_input_is_refused_with_a_clear_message(exogenous):
    y, X = exogenous
    with pytest.raises(ValueError, match="features must be a transformer"):
        Lambda3Forecaster(features="yes", **QUICK).fit(y)
    forecaster = Lambda3Forecaster(**QUICK).fit(y.iloc[:70], X=X.iloc[:70])
    with pytest.raises(ValueError, match="finite exogenous values of every forecast step"):
        forecaster.predict(fh=[1, 2])
    with pytest.raises(ValueError, match="lacks the columns"):
        forecaster.predict(fh=[1, 2], X=X.iloc[70:72][["x"]])
    with pytest.raises(ValueError, match="before the start"):
        forecaster.predict(fh=[-75], X=X.iloc[70:72])
    with pytest.raises(ValueError, match="at least 2 observed"):
        Lambda3Forecaster(**QUICK).fit(pd.Series([1.0, np.nan, np.nan]))


@pytest.mark.parametrize("index_kind", ["datetime", "period"])
def test_auto_season_takes_the_calendar_of_y(index_kind):
    # Two days of hourly rows whose season the data alone put at 23 hours.
    rng = np.random.default_rng(3)
    t = np.arange(48)
    day = 3.0 * np.sin(2 * np.pi * t / 24) + 0.9 * np.cos(4 * np.pi * t / 24)
    values = day + np.cumsum(0.05 * rng.standard_normal(48)) + 0.1 * rng.standard_normal(48)
    hours = pd.date_range("2025-06-19", periods=48, freq="h")
    index = hours if index_kind == "datetime" else hours.to_period("h")
    found = {}
    for label, y in (("calendar", pd.Series(values, index=index)), ("integers", pd.Series(values))):
        forecaster = Lambda3Forecaster(seasonality="auto", **QUICK).fit(y)
        found[label] = forecaster.regressor_.seasonality_
        assert forecaster.get_params()["seasonality"] == "auto"
    assert found == {"calendar": {24: 3}, "integers": {23: 3}}


def test_update_without_params_equals_the_refit_it_stands_for(airline):
    """The issue's example: new observations count, and the forecast is the refitted model's."""
    y = np.log(airline)
    settings = {"seasonality": 12, "trend": "drift", "random_state": 0, "progress_bar": False}
    forecaster = Lambda3Forecaster(**settings).fit(y.iloc[:-24])
    before = forecaster.predict(fh=[13]).iloc[0]
    forecaster.update(y.iloc[-24:-12], update_params=False)
    assert forecaster.cutoff[0] == y.index[-13]
    refit = Lambda3Forecaster(**settings).fit(y.iloc[:-12])
    updated, refitted = forecaster.predict(fh=[1]).iloc[0], refit.predict(fh=[1]).iloc[0]
    assert abs(updated - refitted) < 0.01
    assert abs(updated - y.iloc[-12]) < abs(before - y.iloc[-12])
    width = np.diff(forecaster.predict_interval(fh=[1]).to_numpy())[0, 0]
    refit_width = np.diff(refit.predict_interval(fh=[1]).to_numpy())[0, 0]
    assert abs(width / refit_width - 1) < 0.1
    # Every later forecast starts from the new steps: twelve steps ahead is the refit's too.
    np.testing.assert_allclose(
        forecaster.predict(fh=range(1, 13)).to_numpy(), refit.predict(fh=range(1, 13)).to_numpy(), atol=0.02
    )


@pytest.mark.parametrize("with_features", [False, True])
def test_update_without_params_is_the_regressors_append(exogenous, with_features):
    y, X = exogenous
    features = Lambda3Features(window=4, local_window=3) if with_features else None
    forecaster = Lambda3Forecaster(features=features, **QUICK, **PLAIN).fit(y.iloc[:60], X=X.iloc[:60])
    forecaster.update(y.iloc[60:70], X=X.iloc[60:70], update_params=False)
    # By hand: the regressor's design of every step, fitted to the first 60, appended the next 10.
    if with_features:
        # The features of a stretch, as the forecaster computes them: from the rows known then
        # (local jumps look at the rows on both sides).
        reference_features = Lambda3Features(window=4, local_window=3).fit(X.iloc[:60].to_numpy())
        seen, ahead = (reference_features.transform(X.iloc[:end].to_numpy()) for end in (70, 75))
        design = np.vstack([seen, ahead[70:]])
        names = reference_features.get_feature_names_out(["x", "other"])
    else:
        design, names = X.iloc[:75].to_numpy(), ["x", "other"]
    design = pd.DataFrame(design, columns=names)
    regressor = Lambda3DynamicRegressor(**QUICK).fit(design.iloc[:60], y.iloc[:60].to_numpy())
    regressor.append(design.iloc[60:70], y.iloc[60:70].to_numpy())
    expected = regressor.forecast(design.iloc[70:75].reset_index(drop=True), return_std=True)
    got = forecaster.predict(fh=np.arange(1, 6), X=X.iloc[70:75]).to_numpy()
    np.testing.assert_allclose(got, expected[0], rtol=1e-12)
    np.testing.assert_allclose(
        forecaster.predict_var(fh=np.arange(1, 6), X=X.iloc[70:75]).to_numpy()[:, 0],
        expected[1] ** 2,
        rtol=1e-12,
    )
    in_sample = forecaster.predict(fh=[-2, -1, 0]).to_numpy()
    np.testing.assert_allclose(in_sample, regressor.predict(design.iloc[67:70], start=67), rtol=1e-12)


def test_update_without_params_skips_seen_steps_and_leaves_gaps_unobserved(airline):
    y = np.log(airline)
    forecaster = Lambda3Forecaster(seasonality=12, **QUICK).fit(y.iloc[:100])
    # The whole window again (as evaluate's "no-update_params" passes it), then a gap of two months.
    forecaster.update(y.iloc[:110], update_params=False)
    forecaster.update(y.iloc[112:120], update_params=False)
    assert forecaster.regressor_.n_train_ == 120
    observed = forecaster.regressor_._y_train
    np.testing.assert_array_equal(np.isnan(observed), np.isin(np.arange(120), [110, 111]))
    np.testing.assert_array_equal(observed[:110], y.iloc[:110].to_numpy())
    np.testing.assert_array_equal(observed[112:], y.iloc[112:120].to_numpy())
    assert forecaster.predict(fh=[1]).index[0] == y.index[120]


def test_evaluate_without_params_updates_conditions_on_each_window(airline):
    y = np.log(airline.iloc[:96])
    forecaster = Lambda3Forecaster(seasonality=12, **QUICK)
    cv = ExpandingWindowSplitter(initial_window=72, step_length=6, fh=[1, 2, 3])
    results = evaluate(forecaster, cv, y, strategy="no-update_params", return_data=True)
    assert len(results) == 4
    last = results.iloc[-1]
    manual = Lambda3Forecaster(seasonality=12, **QUICK).fit(y.iloc[:72])
    manual.update(y.iloc[:90], update_params=False)
    np.testing.assert_allclose(last["y_pred"].to_numpy(), manual.predict(fh=[1, 2, 3]).to_numpy(), rtol=1e-12)


def test_predict_components_are_frames_on_the_index_that_add_up(seasonal_fit, airline):
    in_sample = seasonal_fit.predict_components()
    assert list(in_sample.columns.get_level_values("component").unique()) == ["level", "trend", "season"]
    assert list(in_sample["level"].columns) == ["mean", "lower", "upper"]
    pd.testing.assert_index_equal(in_sample.index, airline.index[:-12], check_names=False)
    total = in_sample.xs("mean", axis=1, level="statistic").sum(axis=1)
    fh = ForecastingHorizon(np.arange(-len(airline) + 13, 1), is_relative=True)
    np.testing.assert_allclose(total.to_numpy(), seasonal_fit.predict(fh=fh).to_numpy(), rtol=1e-10)
    ahead = seasonal_fit.predict_components(fh=[1, 2, 12], coverage=0.5)
    pd.testing.assert_index_equal(ahead.index, airline.index[[-12, -11, -1]], check_names=False)
    season = ahead["season"]
    assert np.all((season["lower"] <= season["mean"]) & (season["mean"] <= season["upper"]))


def test_predict_components_of_exogenous_steps_ahead(exogenous):
    y, X = exogenous
    forecaster = Lambda3Forecaster(**QUICK, **PLAIN).fit(y.iloc[:70], X=X.iloc[:70])
    ahead = forecaster.predict_components(fh=[1, 2], X=X.iloc[70:72])
    rows = pd.DataFrame(X.iloc[70:72].to_numpy(), columns=forecaster.regressor_.feature_names_in_)
    expected = forecaster.regressor_.components(rows, start=70)
    np.testing.assert_allclose(ahead["regressors"].to_numpy(), expected["regressors"])
    with pytest.raises(ValueError, match="finite exogenous values"):
        forecaster.predict_components(fh=[1, 2])


def test_plot_components_takes_the_forecaster_and_dates_its_axis(seasonal_fit):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sklearn_lambda3.plot import plot_components

    fig = plot_components(seasonal_fit, fh=np.arange(-23, 7))
    assert [ax.get_title() for ax in fig.axes] == ["level", "trend", "season"]
    assert fig.axes[-1].get_xlabel() == "date"
    low, high = fig.axes[0].get_xlim()
    # From January 1958 (with the axis' margin, late 1957) to June 1960.
    assert 1957 <= matplotlib.dates.num2date(low).year <= 1958
    assert matplotlib.dates.num2date(high).year == 1960
    assert len(fig.axes[0].lines) == 2  # the mean and the line where the forecasts start
    plt.close(fig)
    with pytest.raises(ValueError, match="fh gives a forecaster's steps"):
        plot_components(seasonal_fit.regressor_, fh=[1])


def _with_nan_row(X, row):
    X = X.copy()
    X.iloc[row] = np.nan
    return X


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda y, X: (y, X.assign(region="north")), TypeError, r"column\(s\) \['region'\].*encode them"),
        (lambda y, X: (y, _with_nan_row(X, 5)), ValueError, r"NaN in \['x', 'other'\].*impute X"),
        (
            lambda y, X: (y.drop(y.index[[10, 20, 30]]), None),
            ValueError,
            r"not regularly spaced.*asfreq\('D'\)",
        ),
    ],
)
def test_bad_exogenous_data_get_our_messages(exogenous, make, error, match):
    y, X = make(*exogenous)
    with pytest.raises(error, match=match):
        Lambda3Forecaster(**QUICK).fit(y, X=X)


def test_bad_exogenous_data_in_update_get_our_messages(exogenous):
    y, X = exogenous
    forecaster = Lambda3Forecaster(**QUICK).fit(y.iloc[:60], X=X.iloc[:60])
    with pytest.raises(ValueError, match="NaN in"):
        forecaster.update(y.iloc[60:65], X=_with_nan_row(X.iloc[60:65], 1), update_params=False)


@pytest.mark.parametrize(
    "index, suggestion",
    [
        (pd.period_range("2000-01", periods=40, freq="M"), 12),
        (pd.period_range("2000Q1", periods=40, freq="Q"), 4),
    ],
)
def test_a_named_season_is_refused_with_the_period_of_the_index(index, suggestion):
    y = pd.Series(np.arange(40.0), index=index)
    with pytest.raises(ValueError, match=rf"12 for monthly data.*seasonality={suggestion}\)"):
        Lambda3Forecaster(seasonality="monthly", **QUICK).fit(y)


def test_a_backtest_warns_of_convergence_once_not_once_per_fold(airline):
    cv = ExpandingWindowSplitter(initial_window=60, step_length=12, fh=[1, 2, 3])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # Python's own filter, as in a script or a notebook
        results = evaluate(Lambda3Forecaster(**QUICK), cv, airline.rename("backtested"), strategy="refit")
        unconverged = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
        assert len(results) == 7
        assert len(unconverged) == 1  # twenty draws: no fold converges
        assert "regressor_.diagnostics_" in str(unconverged[0].message)
        Lambda3Forecaster(**QUICK).fit(airline.rename("another series"))
        assert sum(issubclass(w.category, ConvergenceWarning) for w in caught) == 2


@pytest.mark.parametrize(
    "index, expected",
    [
        (pd.period_range("2000-01", periods=30, freq="M"), {12: 6}),
        (pd.date_range("2000-01-01", periods=30, freq="MS"), {12: 6}),
        (pd.period_range("2000Q1", periods=12, freq="Q"), {4: 2}),
        (pd.period_range("2000-01", periods=20, freq="M"), {}),  # under two years: no season
    ],
)
def test_auto_season_of_monthly_and_quarterly_rows_is_the_year(index, expected):
    # A trend without a season: the calendar names the year, with every harmonic, all the same.
    y = pd.Series(
        np.linspace(0.0, 3.0, len(index)) + np.random.default_rng(0).normal(size=len(index)), index=index
    )
    forecaster = Lambda3Forecaster(seasonality="auto", **QUICK).fit(y)
    assert forecaster.regressor_.seasonality_ == expected


def _multiplicative_series(n=120, seed=5):
    """A growing series whose season grows with it: additive on the log scale."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    log_y = 3.0 + 0.01 * t + 0.3 * np.sin(2 * np.pi * t / 12) + np.cumsum(0.02 * rng.standard_normal(n))
    return pd.Series(
        np.exp(log_y + 0.02 * rng.standard_normal(n)), index=pd.period_range("2000-01", periods=n, freq="M")
    )


def test_transform_log_back_transforms_every_prediction():
    y = _multiplicative_series()
    forecaster = Lambda3Forecaster(seasonality=12, trend="drift", transform="log", **QUICK).fit(y.iloc[:-12])
    regressor = Lambda3DynamicRegressor(seasonality=12, trend="drift", **QUICK).fit(
        None, np.log(y.iloc[:-12].to_numpy())
    )
    mean, sd = regressor.forecast(steps=12, return_std=True)
    fh = np.arange(1, 13)
    np.testing.assert_allclose(forecaster.predict(fh=fh).to_numpy(), np.exp(mean), rtol=1e-12)  # the median
    quantiles = forecaster.predict_quantiles(fh=fh, alpha=[0.05, 0.95]).to_numpy()
    np.testing.assert_allclose(
        quantiles, np.exp(norm.ppf([0.05, 0.95], mean[:, None], sd[:, None])), rtol=1e-12
    )
    variance = forecaster.predict_var(fh=fh).to_numpy()[:, 0]
    np.testing.assert_allclose(variance, np.expm1(sd**2) * np.exp(2 * mean + sd**2), rtol=1e-12)
    distribution = forecaster.predict_proba(fh=fh)
    np.testing.assert_allclose(distribution.ppf(0.95).to_numpy()[:, 0], quantiles[:, 1], rtol=1e-9)
    assert forecaster.transform_ == "log" and forecaster.log_evidence_ == {}
    forecaster.update(y.iloc[-12:-6], update_params=False)
    regressor.append(None, np.log(y.iloc[-12:-6].to_numpy()))
    np.testing.assert_allclose(
        forecaster.predict(fh=[1]).to_numpy(), np.exp(regressor.forecast(steps=1)), rtol=1e-12
    )


def test_transform_auto_and_trend_auto_choose_by_the_evidence():
    multiplicative = _multiplicative_series()
    forecaster = Lambda3Forecaster(**QUICK).fit(multiplicative)
    assert forecaster.transform_ == "log" and forecaster.regressor_.trend == "drift"
    assert set(forecaster.log_evidence_) == {
        (None, "level"),
        (None, "drift"),
        ("log", "level"),
        ("log", "drift"),
    }
    assert max(forecaster.log_evidence_, key=forecaster.log_evidence_.get) == ("log", "drift")
    # The log's Jacobian makes the evidences comparable: on an additive series shifted far from 0
    # (where log is nearly linear) the two scales' evidences are close, and y's own is not lower.
    additive = pd.Series(1000.0 + np.log(multiplicative.to_numpy()) * 10, index=multiplicative.index)
    chosen = Lambda3Forecaster(**QUICK).fit(additive)
    evidences = chosen.log_evidence_
    assert abs(evidences[None, "drift"] - evidences["log", "drift"]) < 2.0
    # A series with values at or below 0 is never logged.
    negative = multiplicative - multiplicative.mean()
    assert Lambda3Forecaster(**QUICK).fit(negative).transform_ is None


@pytest.mark.parametrize(
    "transform, y, error, match",
    [
        ("log", pd.Series(np.r_[1.0, -1.0, np.arange(2.0, 30.0)]), ValueError, "transform='log' needs y > 0"),
        ("exp", pd.Series(np.arange(1.0, 31.0)), ValueError, "transform must be None, 'log' or 'auto'"),
    ],
)
def test_bad_transforms_are_clear_errors(transform, y, error, match):
    with pytest.raises(error, match=match):
        Lambda3Forecaster(transform=transform, **QUICK).fit(y)


def test_a_logged_forecaster_refuses_non_positive_updates():
    y = _multiplicative_series()
    forecaster = Lambda3Forecaster(seasonality=12, transform="log", **QUICK).fit(y.iloc[:-12])
    with pytest.raises(ValueError, match="must be > 0 at every observed step"):
        forecaster.update(-y.iloc[-12:-6], update_params=False)


@pytest.fixture(scope="module")
def averaged():
    """A random walk of 60 months at 50: all four variants keep a share (about 0.13 to 0.48)."""
    rng = np.random.default_rng(0)
    values = 50 + np.cumsum(rng.normal(size=72)) + 0.1 * np.arange(72)
    y = pd.Series(values, index=pd.period_range("2000-01", periods=72, freq="M"))
    return Lambda3Forecaster(**QUICK).fit(y.iloc[:60]), y


def test_the_variants_are_weighed_by_their_evidence(averaged):
    forecaster, _ = averaged
    evidence = forecaster.log_evidence_
    assert set(forecaster.weights_) == set(evidence) == set(forecaster.regressors_)
    values = np.array([evidence[variant] for variant in forecaster.weights_])
    expected = np.exp(values - values.max()) / np.exp(values - values.max()).sum()
    np.testing.assert_allclose(list(forecaster.weights_.values()), expected, rtol=1e-12)
    assert (
        forecaster.regressor_ is forecaster.regressors_[max(forecaster.weights_, key=forecaster.weights_.get)]
    )
    for (_, trend), regressor in forecaster.regressors_.items():
        assert regressor.trend == trend


def test_averaged_forecasts_are_the_mixture_of_the_variants(averaged):
    """Against scipy's own distributions, summed by hand: the CDF at each quantile, the median and
    the variance of the mixture of Normals (of y) and log-normals (of log y)."""
    from scipy.stats import lognorm

    forecaster, _ = averaged
    fh = np.arange(1, 13)
    parts = []
    for (transform, trend), weight in forecaster.weights_.items():
        regressor = forecaster.regressors_[transform, trend]
        mean, sd = regressor.forecast(steps=12, return_std=True)
        parts.append((weight, lognorm(s=sd, scale=np.exp(mean)) if transform == "log" else norm(mean, sd)))

    def cdf(x):
        return sum(weight * dist.cdf(x) for weight, dist in parts)

    alpha = [0.05, 0.5, 0.95]
    quantiles = forecaster.predict_quantiles(fh=fh, alpha=alpha).to_numpy()
    for k, a in enumerate(alpha):
        np.testing.assert_allclose(cdf(quantiles[:, k]), a, atol=1e-10)
    np.testing.assert_allclose(forecaster.predict(fh=fh).to_numpy(), quantiles[:, 1], rtol=1e-12)
    mean = sum(weight * dist.mean() for weight, dist in parts)
    second = sum(weight * (dist.var() + dist.mean() ** 2) for weight, dist in parts)
    np.testing.assert_allclose(forecaster.predict_var(fh=fh).to_numpy()[:, 0], second - mean**2, rtol=1e-9)
    mixture = forecaster.predict_proba(fh=fh)
    np.testing.assert_allclose(
        mixture.cdf(pd.DataFrame(quantiles[:, [2]], index=mixture.index, columns=mixture.columns)).to_numpy()[
            :, 0
        ],
        0.95,
        atol=1e-6,
    )


def test_averaged_update_appends_every_variant(averaged):
    forecaster, y = averaged
    forecaster = forecaster.clone().fit(y.iloc[:60])
    forecaster.update(y.iloc[60:66], update_params=False)
    for (transform, _), regressor in forecaster.regressors_.items():
        assert regressor.n_train_ == 66
        expected = np.log(y.iloc[60:66].to_numpy()) if transform == "log" else y.iloc[60:66].to_numpy()
        np.testing.assert_array_equal(regressor._y_train[60:], expected)
    interval = forecaster.predict_interval(fh=[1]).to_numpy()[0]
    assert interval[0] < forecaster.predict(fh=[1]).iloc[0] < interval[1]
