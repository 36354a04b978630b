"""Input checks shared by the analysis functions, run before data reaches a Numba kernel."""

import math
from numbers import Integral, Real

import numpy as np
import scipy.sparse


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
