"""The report's figures: time labels parsed for the plots' x axes."""

import numpy as np
import pandas as pd

from sklearn_lambda3._report._figures import _parsed_times


def test_numeric_labels_are_numbers():
    np.testing.assert_array_equal(_parsed_times(["0", "1", "2.5"]), [0.0, 1.0, 2.5])


def test_datetime_labels_are_datetimes():
    labels = ["2025-06-19 15:00:00+00:00", "2025-06-19 16:00:00+00:00", "2025-06-19 18:00:00+01:00"]
    parsed = _parsed_times(labels)
    assert list(parsed) == list(pd.to_datetime(pd.Series(labels), utc=True))


def test_labels_that_do_not_parse_or_increase_give_row_numbers():
    assert _parsed_times(None) is None
    assert _parsed_times(["monday", "tuesday"]) is None
    assert _parsed_times(["2", "1"]) is None
    assert _parsed_times(["2025-01-02", "2025-01-01"]) is None
    assert _parsed_times(["1", "1"]) is None
