"""The report's stages: the target's dynamic model gets the file's calendar."""

import numpy as np
import pandas as pd
import pytest

from sklearn_lambda3 import Lambda3Features
from sklearn_lambda3._changepoints import seasonal_period
from sklearn_lambda3._report import SeriesTable
from sklearn_lambda3._report._stages import calendar_index, fit_target
from sklearn_lambda3._time_index import calendar_periods


def table_with_times(values, times):
    return SeriesTable(["x", "target"], np.asarray(values, dtype=float), times, "time", {})


def hourly(n, start="2025-06-19 00:00"):
    return [str(label) for label in pd.date_range(start, periods=n, freq="h")]


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        (hourly(30), 24),
        ([label.replace(" ", "T") for label in hourly(30)], 24),  # ISO 8601 with a T
        ([str(day.date()) for day in pd.date_range("2025-01-01", periods=30)], 7),
    ],
)
def test_calendar_index_of_evenly_spaced_times(times, expected):
    index = calendar_index(table_with_times(np.zeros((30, 2)), times))
    assert isinstance(index, pd.DatetimeIndex) and len(index) == 30
    assert expected in calendar_periods(pd.Series(0.0, index=index))


@pytest.mark.parametrize(
    "times",
    [
        None,
        [str(t) for t in range(30)],  # numbers: row labels, not dates
        hourly(29) + ["2025-06-22 05:00"],  # a gap
        hourly(29) + ["not a time"],
    ],
)
def test_no_calendar_index_for_numbers_gaps_or_text(times):
    assert calendar_index(table_with_times(np.zeros((30, 2)), times)) is None


def test_the_target_model_takes_the_day_from_hourly_times():
    # Two days of hourly rows whose season the data alone put at 23 hours.
    rng = np.random.default_rng(3)
    t = np.arange(48)
    day = 3.0 * np.sin(2 * np.pi * t / 24) + 0.9 * np.cos(4 * np.pi * t / 24)
    target = day + np.cumsum(0.05 * rng.standard_normal(48)) + 0.1 * rng.standard_normal(48)
    assert seasonal_period(target) == 23
    driver = np.cumsum(np.random.default_rng(4).standard_normal(48))
    values = np.column_stack([driver, target])
    features = Lambda3Features().fit_transform(values)
    found = {}
    for label, times in (("dates", hourly(48)), ("numbers", [str(i) for i in range(48)])):
        regressor, X, _ = fit_target(table_with_times(values, times), features, 1, False, 0)
        found[label] = regressor.seasonality_
        assert (X.index.dtype.kind == "M") == (label == "dates")
    assert found == {"dates": {24: 3}, "numbers": {23: 3}}
