"""Input checks shared by the analysis functions, run before data reaches a Numba kernel."""

import numpy as np
import scipy.sparse


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
