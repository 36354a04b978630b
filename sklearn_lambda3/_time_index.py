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
