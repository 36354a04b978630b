"""Time indexes: the labels of a pandas index of datetimes or integers, and the calendar cycles
that rows evenly spaced in time repeat (a day of hourly rows is 24 of them).

The dynamic model places rows on its clock by these labels (``bayes/_time``), and the season
finder of the change-point detector takes the calendar's periods as the periods to prefer.
"""

import numpy as np

# A day and a week in nanoseconds: rows spaced by a divisor of one repeat it every cycle / spacing rows.
_CALENDAR_CYCLES_NS = (86_400 * 10**9, 7 * 86_400 * 10**9)


def pandas_index(X):
    """The index of a pandas DataFrame or Series ``X``, else None."""
    return X.index if hasattr(X, "iloc") and hasattr(X, "index") else None


def index_labels(index):
    """``(kind, int64 labels)`` of a time index: "datetime" (ns since the epoch, UTC) or "integer";
    ``(None, None)`` for any other index (strings, floats, several levels)."""
    import pandas as pd

    if isinstance(index, pd.DatetimeIndex):
        if index.tz is not None:
            index = index.tz_convert("UTC").tz_localize(None)
        return "datetime", index.to_numpy().astype("datetime64[ns]").astype(np.int64)
    if isinstance(index, pd.MultiIndex) or not pd.api.types.is_integer_dtype(index.dtype):
        return None, None
    return "integer", np.asarray(index, dtype=np.int64)


def even_spacing(labels):
    """The common positive difference of ``labels``, or None if they are not evenly spaced
    (or fewer than two)."""
    if len(labels) < 2:
        return None
    spacing = np.diff(labels)
    if spacing[0] <= 0 or np.any(spacing != spacing[0]):
        return None
    return int(spacing[0])


def calendar_periods(X):
    """Periods, in rows, of the day and the week on the pandas index of ``X``: for an evenly
    spaced index of datetimes whose spacing divides the cycle into at least two rows, e.g.
    ``(24, 168)`` for hourly rows and ``(7,)`` for daily ones; ``()`` for any other index and
    for NumPy input."""
    index = pandas_index(X)
    if index is None:
        return ()
    kind, labels = index_labels(index)
    spacing = even_spacing(labels) if kind == "datetime" else None
    if spacing is None:
        return ()
    return tuple(
        cycle // spacing for cycle in _CALENDAR_CYCLES_NS if cycle % spacing == 0 and cycle // spacing >= 2
    )


# Seasonal periods, in rows, of the calendar frequencies a forecaster meets most (by the first
# letter of pandas' frequency code): a year of months, quarters or weeks, a week of business
# days or days, a day of hours.
_FREQUENCY_PERIODS = (("M", 12), ("Q", 4), ("W", 52), ("B", 5), ("D", 7), ("H", 24))


def likely_period(index):
    """The usual seasonal period, in rows, of a pandas index's calendar frequency (12 for
    monthly rows, 4 for quarterly, 52 for weekly, 7 for daily, 5 for business days, 24 for
    hourly), or None where the index has no such frequency (or a multiple of one)."""
    import pandas as pd

    if not isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)):
        return None
    freq = index.freqstr if index.freq is not None else (pd.infer_freq(index) if len(index) >= 3 else None)
    if not freq or freq[0].isdigit() or freq.upper().startswith(("MIN", "BH")):
        return None
    return next((period for code, period in _FREQUENCY_PERIODS if freq.upper().startswith(code)), None)
