"""Input checks shared by the analysis functions and the Bayesian estimators, run before data reaches a
Numba kernel or a sampler."""

import math
from numbers import Integral, Real

import numpy as np
import scipy.sparse
from sklearn.utils.validation import column_or_1d


def check_int(value, name, minimum, allow_none=False):
    """``value`` as an int, or a TypeError (not an integer) / ValueError (below ``minimum``)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, Integral):
        kind = "an integer or None" if allow_none else "an integer"
        raise TypeError(f"{name} must be {kind}; got {type(value).__name__}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}.")
    return int(value)


def check_real(value, name):
    """``value`` as a float, or a TypeError (not a real number) / ValueError (not finite)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__}.")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value!r}.")
    return float(value)


def reject_sparse_and_complex(values, name):
    """Raise a TypeError for a scipy.sparse matrix or complex values, which would otherwise be
    turned into object arrays or silently lose their imaginary part."""
    if scipy.sparse.issparse(values):
        raise TypeError(
            f"{name} must be a dense array-like; got a scipy.sparse {type(values).__name__}. "
            "Convert it with .toarray()."
        )
    if np.iscomplexobj(values):
        raise TypeError(f"{name} must hold real numbers; got complex values.")


# Largest |value| accepted by the estimators: squared deviations of larger values (and their
# sums over up to 4·10⁷ rows) would overflow float64 and give inf or NaN results.
MAX_ABS_VALUE = 1e150


def check_magnitude(values, name, owner):
    """Raise a ValueError if a (non-empty, finite) float array holds a value beyond MAX_ABS_VALUE."""
    # min and max rather than abs: no copy of the data.
    largest = max(-float(values.min()), float(values.max()))
    if largest > MAX_ABS_VALUE:
        raise ValueError(
            f"{name} has values as large as {largest:.3g} in absolute value; {owner} supports "
            f"|{name}| <= {MAX_ABS_VALUE:g} (larger squared deviations overflow float64). "
            f"Rescale {name}, e.g. divide it by a power of ten."
        )


def check_series(x, name="x"):
    """One finite series as a contiguous float64 array: a 1-D array-like or a one-column 2-D one."""
    reject_sparse_and_complex(x, name)
    values = getattr(x, "to_numpy", lambda: x)()
    try:
        values = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be a 1-D array-like of real numbers; it could not be converted: {exc}"
        ) from exc
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D (one series, rows in time order); got an array of shape {values.shape}. "
            "Pass one column, e.g. X[:, j]."
        )
    if values.shape[0] < 2:
        raise ValueError(f"{name} must have at least 2 points; got {values.shape[0]}.")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or infinite values; fill or drop them first.")
    return np.ascontiguousarray(values)


def check_coverage(coverage):
    """``coverage`` as a float in (0, 1): the probability mass of a central interval."""
    if isinstance(coverage, bool) or not isinstance(coverage, Real):
        raise TypeError(f"coverage must be a real number in (0, 1); got {type(coverage).__name__}.")
    if not 0 < coverage < 1:
        raise ValueError(f"coverage must lie strictly between 0 and 1; got {coverage!r}.")
    return float(coverage)


# ----------------------------------------------------------------------------------------------
# Binary event series (synchronisation and causality, and their plots)


def _split_frame(data):
    """``(values, column names or None)``; the names are kept for pandas DataFrames."""
    columns = getattr(data, "columns", None)
    if columns is not None and hasattr(data, "to_numpy"):
        return data.to_numpy(), list(columns)
    return data, None


def check_binary_events(values, name, ndim):
    """Events as a uint8 array of ``ndim`` dimensions; only 0 and 1 (or booleans) are accepted."""
    reject_sparse_and_complex(values, name)
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as exc:  # pragma: no cover - ragged input
        raise TypeError(f"{name} must be an array-like of 0/1 events: {exc}") from exc
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must hold numeric 0/1 events; got dtype {array.dtype}.")
    if array.ndim != ndim:
        shape = "(n_steps,)" if ndim == 1 else "(n_steps, n_series)"
        raise ValueError(f"{name} must be {ndim}-D of shape {shape}; got an array of shape {array.shape}.")
    if array.dtype != np.bool_:
        if np.iscomplexobj(array):
            raise TypeError(f"{name} must hold real 0/1 events; got dtype {array.dtype}.")
        if not np.all((array == 0) | (array == 1)):
            raise ValueError(
                f"{name} must be binary (only 0 and 1, e.g. ΔΛC⁺ jump events); "
                "got other values. Threshold the series into events first."
            )
    return array.astype(np.uint8)


def check_events_2d(events, name="events"):
    """``(events as a uint8 array of shape (n_steps, n_series), column names or None)``:
    binary events, one series per column; the names are a DataFrame's columns."""
    values, names = _split_frame(events)
    array = check_binary_events(values, name, 2)
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"{name} must have at least one step and one series; got shape {array.shape}.")
    return array, names


# ---------------------------------------------------------------------------------------------
# Argument checks of the Bayesian layer (sklearn_lambda3.bayes); the estimators'
# _parameter_constraints stay on the estimators.


def check_start(start):
    """``start`` of the dynamic model's predictive methods (a time step) as an int >= 0."""
    if isinstance(start, bool) or not isinstance(start, Integral) or start < 0:
        raise ValueError(f"start must be a non-negative integer time step or None; got {start!r}.")
    return int(start)


def check_forecast_steps(steps):
    """``steps`` of ``forecast`` (a number of steps ahead) as an int >= 1."""
    if isinstance(steps, bool) or not isinstance(steps, Integral) or steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps!r}.")
    return int(steps)


def check_n_samples(n_samples):
    """``n_samples`` of ``sample_y`` (draws per row) as an int >= 1."""
    if isinstance(n_samples, bool) or not isinstance(n_samples, Integral) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}.")
    return int(n_samples)


def check_change_points(change_points, n):
    """A list of change points (row indices of a series of ``n`` rows) as a sorted int64 array
    in ``[1, n - 1]``; a TypeError or ValueError names the problem otherwise."""
    points = np.asarray(change_points)
    if points.ndim != 1:
        raise ValueError(f"change_points must be a 1-D list of row indices; got shape {points.shape}.")
    if points.size and not (np.issubdtype(points.dtype, np.integer) and points.dtype != bool):
        raise TypeError(f"change_points must be integer row indices; got dtype {points.dtype}.")
    points = points.astype(np.int64)
    if np.any((points < 1) | (points > n - 1)):
        raise ValueError(f"change_points must lie in [1, {n - 1}] (rows of X after the first); got {points}.")
    if np.any(np.diff(points) == 0):
        raise ValueError(f"change_points has duplicates: {points}.")
    if np.any(np.diff(points) < 0):
        raise ValueError(f"change_points must be sorted in increasing order; got {points}.")
    return points


def check_regressors(X, name="X"):
    """A clear error for regressors that are not all numbers or hold NaN, naming the columns.

    Text columns are a TypeError (encode them first); NaN a ValueError (NaN marks an unobserved
    step in ``y`` only, so regressors are imputed or their rows dropped). Anything else is left
    to scikit-learn's validation. ``X`` may be a pandas DataFrame, an array or None.
    """
    if X is None or scipy.sparse.issparse(X):
        return
    dtypes = getattr(X, "dtypes", None)
    if dtypes is not None and hasattr(X, "columns"):
        import pandas as pd

        numeric = pd.api.types.is_numeric_dtype
        text = [column for column, dtype in zip(X.columns, dtypes, strict=True) if not numeric(dtype)]
        if text:
            example = X[text[0]].dropna()
            raise TypeError(
                f"{name} column(s) {[str(column) for column in text]} hold non-numeric values"
                + (f" (for example {example.iloc[0]!r})" if len(example) else "")
                + "; the model needs numbers: encode them first (pandas.get_dummies or "
                "sklearn.preprocessing.OneHotEncoder), or drop them."
            )
        values = X.to_numpy()
        columns = [str(column) for column in X.columns]
    else:
        try:
            values = np.asarray(X)
        except (TypeError, ValueError):
            return  # scikit-learn's validation says what is wrong
        columns = [f"column {i}" for i in range(values.shape[1])] if values.ndim == 2 else []
    if values.dtype.kind != "f" or values.ndim != 2:
        return  # no NaN, or scikit-learn's validation says what is wrong
    missing = np.isnan(values)
    if missing.any():
        where = np.flatnonzero(missing.any(axis=0))
        rows = np.flatnonzero(missing.any(axis=1))
        raise ValueError(
            f"{name} has NaN in {[columns[i] for i in where]} ({len(rows)} rows, the first row "
            f"{int(rows[0])}); NaN is allowed in y only, where it marks a step that is not observed: "
            f"impute {name} (for example interpolate or carry the last value forward) or drop those rows."
        )


def check_dynamic_target(y, n_rows):
    """``y`` of the dynamic model as a float (n_rows,) array, NaN where a step is not observed.

    Infinities and fewer than two observed steps are errors.
    """
    if y is None:
        raise ValueError("Lambda3DynamicRegressor requires y to be passed, but the target y is None.")
    if scipy.sparse.issparse(y):
        reject_sparse_and_complex(y, "y")
    y = np.asarray(y)  # first: array-likes that are not arrays refuse NumPy's functions
    reject_sparse_and_complex(y, "y")
    if y.dtype.kind == "O":  # numbers held as objects are numbers, as y_numeric reads them
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            pass
    if y.dtype.kind not in "biuf":
        raise TypeError(f"y must hold real numbers (NaN for missing steps); got dtype {y.dtype}.")
    y = column_or_1d(y, warn=True).astype(np.float64)
    if n_rows is not None and y.shape[0] != n_rows:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: [{n_rows}, {len(y)}].")
    if np.isinf(y).any():
        raise ValueError("y holds infinity; mark missing steps with NaN.")
    observed = ~np.isnan(y)
    if observed.sum() < 2:
        raise ValueError(f"y needs at least 2 observed (non-NaN) steps; got {int(observed.sum())}.")
    check_magnitude(y[observed], "y", "Lambda3DynamicRegressor")
    return y


def check_series_target(y, n_rows):
    """``y`` of the hierarchical model as a float (n_rows, n_series) or (n_rows,) array.

    NaN marks a step where a series is not observed; infinities and series with fewer than
    two observed steps are errors.
    """
    if y is None:
        raise ValueError("Lambda3HierarchicalRegressor requires y to be passed, but the target y is None.")
    if scipy.sparse.issparse(y):
        reject_sparse_and_complex(y, "y")
    y = np.asarray(y)  # first: array-likes that are not arrays refuse NumPy's functions
    reject_sparse_and_complex(y, "y")
    if y.dtype.kind == "O":  # numbers held as objects are numbers, as y_numeric reads them
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            pass
    if y.dtype.kind not in "biuf":
        raise TypeError(f"y must hold real numbers (NaN for missing steps); got dtype {y.dtype}.")
    y = y.astype(np.float64)
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be 1-D or 2-D (n_samples, n_series); got shape {y.shape}.")
    if y.shape[0] != n_rows:
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: [{n_rows}, {y.shape[0]}]."
        )
    if np.isinf(y).any():
        raise ValueError("y holds infinite values; mark missing steps with NaN.")
    observed = (~np.isnan(y)).reshape(n_rows, -1).sum(axis=0)
    if np.any(observed < 2):
        raise ValueError(
            f"every series of y needs at least 2 observed (non-NaN) steps; series "
            f"{np.flatnonzero(observed < 2).tolist()} have fewer."
        )
    check_magnitude(y[~np.isnan(y)], "y", "Lambda3HierarchicalRegressor")
    return y


# Harmonics of a period given without them: a smooth profile, as Prophet's weekly and daily
# seasons and statsmodels' examples use, or every harmonic of a short period.
DEFAULT_HARMONICS = 3


def default_harmonics(period):
    """``min(3, ⌊p / 2⌋)`` harmonics for a period ``p``."""
    return max(1, min(DEFAULT_HARMONICS, int(period // 2)))


def _check_period(period):
    """A season's period (a number of time steps >= 2) as an int when whole, else a float."""
    if isinstance(period, bool) or not isinstance(period, Real) or not math.isfinite(period) or period < 2:
        raise ValueError(f"seasonality periods must be numbers of at least 2 time steps; got {period!r}.")
    return int(period) if float(period).is_integer() else float(period)


def check_seasonality(seasonality):
    """The ``seasonality`` parameter as a tuple of ``(period, harmonics)``, or ``"auto"``.

    Accepts None (no season), a period, a list of periods, a dict ``{period: harmonics}`` or
    ``"auto"``; raises a ValueError or TypeError naming the problem otherwise.
    """
    if seasonality is None:
        return ()
    if isinstance(seasonality, str):
        if seasonality == "auto":
            return "auto"
        raise ValueError(
            f"seasonality={seasonality!r}: give the period in time steps (rows), for example 12 for "
            "monthly data, 4 for quarterly, 7 for daily, 24 for hourly; or None, 'auto', a list of "
            "periods or a dict {period: harmonics}."
        )
    if isinstance(seasonality, dict):
        pairs = []
        for period, harmonics in seasonality.items():
            period = _check_period(period)
            if isinstance(harmonics, bool) or not isinstance(harmonics, Integral) or harmonics < 1:
                raise ValueError(
                    f"seasonality={{{period}: {harmonics!r}}}: harmonics must be a positive integer."
                )
            if harmonics > period / 2:
                raise ValueError(
                    f"seasonality={{{period}: {harmonics}}}: a period of {period} steps has at most "
                    f"{int(period // 2)} harmonics (frequencies up to half a cycle per step)."
                )
            pairs.append((period, int(harmonics)))
    else:
        periods = np.atleast_1d(np.asarray(seasonality, dtype=object))
        if periods.ndim != 1 or periods.size == 0:
            raise ValueError(
                f"seasonality must be a period or a non-empty list of periods; got {seasonality!r}."
            )
        pairs = [(p, default_harmonics(p)) for p in (_check_period(p) for p in periods)]
    periods = [p for p, _ in pairs]
    if len(set(periods)) != len(periods):
        raise ValueError(f"seasonality lists a period twice: {periods}.")
    return tuple(sorted(pairs))


def check_transform(transform):
    """The forecaster's ``transform``: None, "log" or "auto", or a ValueError saying so."""
    if transform is None or (isinstance(transform, str) and transform in ("log", "auto")):
        return transform
    raise ValueError(f"transform must be None, 'log' or 'auto'; got {transform!r}.")
