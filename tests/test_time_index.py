"""Time indexes: labels, even spacing and the calendar periods of a pandas index."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sklearn_lambda3._time_index import calendar_periods, even_spacing, index_labels, likely_period

DAY_NS = 86_400 * 10**9


@pytest.mark.parametrize(
    ("freq", "expected"),
    [("h", (24, 168)), ("15min", (96, 672)), ("D", (7,)), ("7h", (24,)), ("W", ()), ("5D", ())],
)
def test_calendar_periods_of_a_datetime_index(freq, expected):
    index = pd.date_range("2025-03-01", periods=50, freq=freq)
    assert calendar_periods(pd.Series(np.zeros(50), index=index)) == expected
    assert calendar_periods(pd.DataFrame({"a": np.zeros(50)}, index=index)) == expected


def test_calendar_periods_ignore_time_zones_and_need_a_regular_datetime_index():
    hourly = pd.date_range("2025-03-29", periods=72, freq="h", tz="Europe/Paris")  # crosses DST
    assert calendar_periods(pd.Series(np.zeros(72), index=hourly)) == (24, 168)
    uneven = hourly.delete(5)
    assert calendar_periods(pd.Series(np.zeros(71), index=uneven)) == ()
    assert calendar_periods(pd.Series(np.zeros(72))) == ()  # RangeIndex: rows, not time
    assert calendar_periods(np.zeros(72)) == ()
    assert calendar_periods(pd.Series([1.0], index=hourly[:1])) == ()


@given(st.sampled_from([d for d in range(1, 24 * 60 + 1) if (24 * 60) % d == 0 and d < 24 * 60]))
def test_a_spacing_dividing_the_day_repeats_it_every_period(minutes):
    index = pd.date_range("2024-01-01", periods=3, freq=f"{minutes}min")
    periods = calendar_periods(pd.Series(np.zeros(3), index=index))
    assert periods[0] * minutes == 24 * 60 and periods[1] == 7 * periods[0]


def test_labels_and_spacing():
    kind, labels = index_labels(pd.date_range("1970-01-01", periods=3, freq="D"))
    assert kind == "datetime" and list(labels) == [0, DAY_NS, 2 * DAY_NS]
    assert index_labels(pd.Index(["a", "b"])) == (None, None)
    assert even_spacing(np.array([3, 5, 7])) == 2
    assert even_spacing(np.array([3, 5, 8])) is None
    assert even_spacing(np.array([5, 3])) is None
    assert even_spacing(np.array([5])) is None


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (pd.date_range("2000-01-01", periods=30, freq="MS"), 12),
        (pd.date_range("2000-01-31", periods=30, freq="ME"), 12),
        (pd.period_range("2000-01", periods=30, freq="M"), 12),
        (pd.period_range("2000Q1", periods=30, freq="Q"), 4),
        (pd.date_range("2000-01-02", periods=30, freq="W"), 52),
        (pd.date_range("2000-01-03", periods=30, freq="B"), 5),
        (pd.date_range("2000-01-01", periods=30, freq="D"), 7),
        (pd.date_range("2000-01-01", periods=30, freq="h"), 24),
        (pd.DatetimeIndex(pd.date_range("2000-01-01", periods=30, freq="MS").to_numpy()), 12),  # inferred
        (pd.date_range("2000-01-01", periods=30, freq="2D"), None),
        (pd.date_range("2000-01-01", periods=30, freq="min"), None),
        (pd.date_range("2000-01-01", periods=30, freq="YS"), None),
        (pd.RangeIndex(30), None),
    ],
)
def test_likely_period_of_a_calendar_index(index, expected):
    assert likely_period(index) == expected
