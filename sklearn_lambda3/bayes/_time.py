"""The dynamic model's time contract: the time step of every row a predictive method is given.

Two words, one meaning each:

- a **time step** is a row's integer place in time: training row ``t`` is time step ``t``, and
  steps from ``n_train_`` on are forecasts;
- the **clock** is the training index's ``(kind, origin, spacing)`` (see :func:`training_clock`),
  on which rows with a pandas index of datetimes or integers get their time steps from their
  labels.

:func:`row_time_steps` applies the contract of
:class:`~sklearn_lambda3.bayes.Lambda3DynamicRegressor` (its class docstring states it): an
explicit ``start``, else the rows' index labels on the clock, else ``0, 1, …``.
"""

import numpy as np

from .._time_index import even_spacing, index_labels, pandas_index
from .._validation import check_start


def training_clock(X):
    """The clock ``(kind, origin, spacing)`` of the training rows ``X``.

    NumPy input: rows ``0 … n - 1`` (kind "integer", origin 0, spacing 1). A pandas index of
    datetimes or integers, evenly spaced: its first label and spacing. Any other index, or an
    uneven one: kind ``None`` (rows cannot get their time steps from such an index).
    """
    index = pandas_index(X)
    if index is None:
        return "integer", 0, 1
    kind, labels = index_labels(index)
    if kind is None:
        return None, 0, 1
    if len(labels) < 2:
        return kind, int(labels[0]) if len(labels) else 0, 1
    spacing = even_spacing(labels)
    if spacing is None:
        return None, 0, 1
    return kind, int(labels[0]), spacing


def row_time_steps(X, n_rows, start, clock):
    """Time step of every row of ``X`` (``n_rows`` rows) under the time contract.

    ``start`` (an int) gives the first row's time step; else a pandas index of datetimes or
    integers gives each row's from its label on the training ``clock``; else the rows are
    steps ``0, 1, …``, as with a default ``RangeIndex``.
    """
    if start is not None:
        return check_start(start) + np.arange(n_rows)
    index = pandas_index(X)
    kind = None if index is None else index_labels(index)[0]
    if kind is None:  # NumPy rows count 0, 1, … as a default RangeIndex does
        return np.arange(n_rows)
    fitted_kind, origin, spacing = clock
    if fitted_kind is None:
        raise ValueError(
            "X has a time index but the training rows' index was not an evenly spaced index of "
            "datetimes or integers, so rows cannot be placed by it; pass start=<time step> (0 is "
            "the first training row) or refit on an evenly spaced index (DataFrame.asfreq)."
        )
    if kind != fitted_kind:
        raise ValueError(
            f"X's index holds {kind} values but the training index held {fitted_kind} values; "
            "rows are placed by their index on the training clock. Pass start=<time step> instead."
        )
    offset = index_labels(index)[1] - origin
    if np.any(offset < 0) or np.any(offset % spacing):
        raise ValueError(
            "X's index has labels before the first training row or off the training index's "
            "spacing; rows are placed by their index on the training clock. Pass "
            "start=<time step> instead."
        )
    return offset // spacing


def clock_labels(steps, clock):
    """The training index's labels of time ``steps`` on ``clock``: a ``DatetimeIndex`` on a clock
    of datetimes (naive, UTC), else the integer labels (``steps`` themselves for NumPy input or a
    clock that cannot place rows). The inverse of :func:`row_time_steps` on the clock."""
    kind, origin, spacing = clock
    steps = np.asarray(steps, dtype=np.int64)
    if kind is None:
        return steps
    labels = origin + steps * spacing
    if kind == "datetime":
        import pandas as pd

        return pd.DatetimeIndex(labels.astype("datetime64[ns]"))
    return labels
