"""Input checks shared by the analysis functions, run before data reaches a Numba kernel."""

from numbers import Integral

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
