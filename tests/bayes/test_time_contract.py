"""The dynamic model's time contract: where a row sits in time is never guessed from its values."""

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import TimeSeriesSplit  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from sklearn_lambda3 import Lambda3DynamicRegressor, Lambda3Features  # noqa: E402
from sklearn_lambda3.plot import plot_fit  # noqa: E402

FAST = {"num_warmup": 150, "num_samples": 150, "num_chains": 2, "progress_bar": False, "random_state": 0}
N = 200


def _series(n=N + 40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    level = np.r_[np.zeros(n // 2), np.full(n - n // 2, 4.0)] + np.cumsum(0.05 * rng.standard_normal(n))
    return X, level + X @ [1.0, -0.5] + 0.3 * rng.standard_normal(n)


def _quiet_fit(reg, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return reg.fit(X, y)


@pytest.fixture(scope="module")
def numpy_fit():
    X, y = _series()
    return _quiet_fit(Lambda3DynamicRegressor(change_points=[N // 2], **FAST), X[:N], y[:N]), X, y


@pytest.fixture(scope="module")
def hourly_fit():
    X, y = _series()
    index = pd.date_range("2024-01-01", periods=len(y), freq="h", tz="Asia/Tokyo")
    frame = pd.DataFrame(X, columns=["a", "b"], index=index)
    reg = _quiet_fit(Lambda3DynamicRegressor(change_points=[N // 2], **FAST), frame.iloc[:N], y[:N])
    return reg, frame, y


def test_numpy_rows_are_steps_from_zero(numpy_fit):
    reg, X, _ = numpy_fit
    np.testing.assert_array_equal(reg.time_steps(X[:N]), np.arange(N))
    np.testing.assert_array_equal(reg.predict(X[:N]), reg.predict(X[:N], start=0))
    mean = reg.predict(X[:N])
    np.testing.assert_allclose(mean, reg.level_mean_ + X[:N] @ reg.coef_, atol=0.05)


def test_float32_copy_and_first_rows_agree_with_the_whole(numpy_fit):
    reg, X, _ = numpy_fit
    mean, std = reg.predict(X[:N], return_std=True)
    mean32, std32 = reg.predict(X[:N].astype(np.float32), return_std=True)
    # float32 rounding of the regressors only (1e-7 relative), not another place in time.
    np.testing.assert_allclose(mean32, mean, atol=1e-5)
    np.testing.assert_allclose(std32, std, atol=1e-5)
    for k in (1, 17, 100):
        np.testing.assert_array_equal(reg.predict(X[:k]), mean[:k])
        np.testing.assert_allclose(reg.predict_interval(X[:k]), reg.predict_interval(X[:N])[:k])
    future = X[N:]
    forecast = reg.forecast(future)
    np.testing.assert_array_equal(reg.forecast(future[:7]), forecast[:7])
    np.testing.assert_allclose(reg.forecast(future.astype(np.float32)), forecast, atol=1e-5)


def test_start_places_a_stretch_of_training_and_the_steps_after(numpy_fit):
    reg, X, _ = numpy_fit
    inside = reg.predict(X[:N])
    np.testing.assert_array_equal(reg.predict(X[50:60], start=50), inside[50:60])
    # Rows straddling the end of training: the last training steps, then forecasts.
    rows = np.r_[X[N - 3 : N], X[N : N + 4]]
    straddle, straddle_std = reg.predict(rows, start=N - 3, return_std=True)
    np.testing.assert_allclose(straddle[:3], inside[-3:], atol=1e-9)
    forecast, forecast_std = reg.forecast(X[N : N + 4], return_std=True)
    # The same forecast, up to the Monte Carlo error of using the stored level paths' draws.
    np.testing.assert_allclose(straddle[3:], forecast, atol=3 * forecast_std.max() / np.sqrt(100))
    assert np.all(np.diff(straddle_std[3:]) > 0)
    np.testing.assert_array_equal(reg.predict(X[N:], start=N), reg.forecast(X[N:]))


def test_new_numpy_rows_placed_at_training_steps_warn(numpy_fit):
    reg, X, _ = numpy_fit
    with pytest.warns(UserWarning, match="rows of X are placed at training steps"):
        reg.predict(X[N:])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        reg.predict(X[:N])
        reg.forecast(X[N:])


def test_pandas_datetime_index_places_rows_by_label(hourly_fit):
    reg, frame, _ = hourly_fit
    np.testing.assert_array_equal(reg.time_steps(frame.iloc[50:60]), np.arange(50, 60))
    np.testing.assert_array_equal(reg.time_steps(frame.iloc[N:]), np.arange(N, len(frame)))
    np.testing.assert_array_equal(reg.predict(frame.iloc[50:60]), reg.predict(frame.iloc[:N])[50:60])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        np.testing.assert_array_equal(reg.predict(frame.iloc[N:]), reg.forecast(frame.iloc[N:]))
    # Every other hour ahead: horizons 1, 3, 5, … so the intervals widen faster than hourly.
    sparse = frame.iloc[N::2]
    np.testing.assert_array_equal(reg.time_steps(sparse), np.arange(N, len(frame), 2))
    # start overrides the index.
    np.testing.assert_array_equal(reg.time_steps(frame.iloc[N:], start=0), np.arange(len(frame) - N))


def test_rows_that_cannot_be_placed_are_clear_errors(hourly_fit):
    reg, frame, _ = hourly_fit
    shifted = frame.iloc[N:].copy()
    shifted.index = shifted.index + pd.Timedelta(minutes=30)
    with pytest.raises(ValueError, match="off the training index's spacing"):
        reg.predict(shifted)
    earlier = frame.iloc[:5].copy()
    earlier.index = earlier.index - pd.Timedelta(days=30)
    with pytest.raises(ValueError, match="before the first training row"):
        reg.predict(earlier)
    with pytest.raises(ValueError, match="holds integer values but the training index held datetime"):
        reg.predict(frame.iloc[:5].reset_index(drop=True))
    with pytest.raises(ValueError, match="start must be a non-negative integer"):
        reg.predict(frame.iloc[:5], start=1.5)


def test_uneven_training_index_needs_start():
    X, y = _series(n=80)
    frame = pd.DataFrame(X, index=pd.Index(np.r_[0:40, 50:90]))
    reg = _quiet_fit(Lambda3DynamicRegressor(**FAST), frame, y)
    with pytest.raises(ValueError, match="not an evenly spaced index"):
        reg.predict(frame)
    np.testing.assert_array_equal(reg.predict(frame, start=0), reg.predict(frame.to_numpy()))


def test_time_series_split_on_pandas_scores_honest_forecasts():
    X, y = _series(n=240, seed=3)
    frame = pd.DataFrame(X, columns=["a", "b"])
    pipe = Pipeline([("features", Lambda3Features()), ("reg", Lambda3DynamicRegressor(**FAST))]).set_output(
        transform="pandas"
    )
    for train, test in TimeSeriesSplit(3).split(frame):
        _quiet_fit(pipe, frame.iloc[train], y[train])
        features = pipe[0].transform(frame.iloc[test])
        np.testing.assert_array_equal(features.index, test)  # the pipeline keeps the input's index
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            scored = pipe.predict(frame.iloc[test])
        np.testing.assert_array_equal(scored, pipe[-1].forecast(features))


def test_plot_fit_places_rows_by_the_same_rule(hourly_fit):
    reg, frame, y = hourly_fit
    ax = plot_fit(reg, frame.iloc[N - 20 :], y[N - 20 :])
    line = next(line for line in ax.lines if line.get_label() == "predictive mean")
    # The rows' dates (the training index is hourly), in UTC: the steps' labels on its clock.
    dates = frame.index[N - 20 :].tz_convert("UTC").tz_localize(None)
    np.testing.assert_array_equal(pd.DatetimeIndex(line.get_xdata()).as_unit("ns"), dates.as_unit("ns"))
    np.testing.assert_array_equal(line.get_ydata(), reg.predict(frame.iloc[N - 20 :]))
    labels = [line.get_label() for line in ax.lines]
    assert "level mean" in labels and "end of training" in labels
    assert ax.get_xlabel() == "date"
    end = next(line for line in ax.lines if line.get_label() == "end of training").get_xdata()[0]
    assert pd.Timestamp(end) == dates[20] - pd.Timedelta(minutes=30)
    plt.close(ax.figure)


def test_a_level_fitted_to_y_alone():
    rng = np.random.default_rng(4)
    y = np.r_[np.zeros(120), np.full(120, 6.0)] + 0.5 * rng.standard_normal(240)
    reg = _quiet_fit(Lambda3DynamicRegressor(change_points="auto", **FAST), None, y)
    assert reg.n_features_in_ == 0 and reg.coef_.shape == (0,)
    assert np.min(np.abs(reg.change_points_ - 120)) <= 2
    fit = reg.predict(np.empty((240, 0)))
    np.testing.assert_allclose(fit, reg.level_mean_)
    assert abs(fit[:100].mean()) < 0.3 and abs(fit[140:].mean() - 6.0) < 0.3
    mean, std = reg.forecast(steps=5, return_std=True)
    np.testing.assert_allclose(mean, mean[0])  # a random walk forecasts a flat level
    assert np.all(np.diff(std) > 0)
    assert abs(mean[0] - 6.0) < 0.5
    same = _quiet_fit(Lambda3DynamicRegressor(change_points="auto", **FAST), np.empty((240, 0)), y)
    np.testing.assert_array_equal(same.predict(np.empty((240, 0))), fit)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        reg.forecast(steps=0)
    with pytest.raises(ValueError, match="pass X_future or steps, not both"):
        reg.forecast(np.empty((3, 0)), steps=3)


def test_step_labels_invert_the_placement(hourly_fit, numpy_fit):
    reg, frame, _ = hourly_fit
    steps = reg.time_steps(frame.iloc[150:230])
    labels = reg.step_labels(steps)
    expected = frame.index[150:230].tz_convert("UTC").tz_localize(None)
    pd.testing.assert_index_equal(labels.as_unit("ns"), expected.as_unit("ns"), check_names=False)
    np.testing.assert_array_equal(numpy_fit[0].step_labels([0, 5, 250]), [0, 5, 250])


def test_plot_components_of_a_dated_regressor_has_dates_on_its_axis(hourly_fit):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sklearn_lambda3.plot import plot_components

    reg, frame, _ = hourly_fit
    fig = plot_components(reg, frame.iloc[N - 10 : N + 10])
    assert fig.axes[-1].get_xlabel() == "date"
    utc = frame.index.tz_convert("UTC").tz_localize(None)
    first, last, boundary = (matplotlib.dates.date2num(utc[i]) for i in (N - 10, N + 9, N))
    low, high = fig.axes[0].get_xlim()
    assert first - 1 < low <= first and last <= high < last + 1  # days, with the axis' margins
    lines = [line.get_xdata()[0] for line in fig.axes[0].lines if len(line.get_xdata()) == 2]
    forecast_start = [matplotlib.dates.date2num(x) for x in lines]
    assert forecast_start and abs(forecast_start[0] - boundary + 1 / 48) < 1e-6  # half an hour before
    plt.close(fig)


def test_regressors_with_text_or_nan_are_clear_errors():
    X, y = _series(60)
    frame = pd.DataFrame(X, columns=["a", "b"]).assign(shop=["north", "south"] * 30)
    reg = Lambda3DynamicRegressor(**FAST)
    with pytest.raises(TypeError, match=r"\['shop'\] hold non-numeric values \(for example 'north'\)"):
        reg.fit(frame, y)
    X[[3, 7], 1] = np.nan
    with pytest.raises(
        ValueError, match=r"NaN in \['column 1'\] \(2 rows, the first row 3\).*allowed in y only"
    ):
        reg.fit(X, y)
