"""Multi-scale Lambda³ features (tension and local jumps at several windows) and scale breaks (method §1)."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data

from ._columns import MULTISCALE_SUFFIXES
from ._features import Lambda3Features
from ._persistence import VersionStampMixin
from ._validation import check_int, check_real, reject_sparse_and_complex


class Lambda3MultiScale(VersionStampMixin, TransformerMixin, BaseEstimator):
    """Tension ρT and local jumps of time series at several scales (the method's §1).

    For each scale ``w`` in ``windows`` the transformer computes the features of
    ``Lambda3Features(window=w, local_window=w, local_jump_percentile=...)`` and keeps their
    ``rho_T`` and ``local_jump`` columns; the local-jump thresholds of every scale are learned
    in :meth:`fit` and applied by :meth:`transform`. Rows are consecutive time steps.

    Parameters
    ----------
    windows : tuple of int, default=(5, 10, 20, 50)
        The scales (the method's defaults): distinct window lengths, each at least 1.
    local_jump_percentile : float, default=97.0
        Percentile of the local score, in [0, 100], above which a step is a local jump.

    Attributes
    ----------
    scale_features_ : list of Lambda3Features
        The fitted transformer of each scale, in the order of ``windows``.
    n_features_in_ : int
        Number of input series.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Input names, when ``X`` has string column names.

    See Also
    --------
    Lambda3Features : The four features at one scale.
    sklearn_lambda3.analysis.scale_breaks : Where the tension at one scale breaks out.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lambda3 import Lambda3MultiScale
    >>> x = np.sin(np.arange(100) / 5.0)[:, None]
    >>> multi = Lambda3MultiScale(windows=(5, 20)).fit(x)
    >>> multi.transform(x).shape
    (100, 4)
    >>> multi.get_feature_names_out()
    array(['x0__rho_T__w5', 'x0__local_jump__w5', 'x0__rho_T__w20',
           'x0__local_jump__w20'], dtype=object)
    """

    _parameter_constraints: dict = {
        "windows": ["array-like"],
        "local_jump_percentile": [Interval(Real, 0, 100, closed="both")],
    }

    def __init__(self, windows=(5, 10, 20, 50), local_jump_percentile=97.0):
        self.windows = windows
        self.local_jump_percentile = local_jump_percentile

    def _checked_windows(self):
        windows = list(np.asarray(self.windows, dtype=object).reshape(-1))
        if not windows:
            raise ValueError("windows must hold at least one scale.")
        for w in windows:
            if isinstance(w, bool) or not isinstance(w, Integral):
                raise TypeError(f"windows must be integers; got {w!r} ({type(w).__name__}).")
            if w < 1:
                raise ValueError(f"windows must be >= 1; got {w}.")
        if len(set(windows)) != len(windows):
            raise ValueError(f"windows must be distinct; got {windows}.")
        return [int(w) for w in windows]

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the local-jump thresholds of every scale.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Series in columns, rows in time order; at least two rows.
        y : None
            Ignored.

        Returns
        -------
        self : Lambda3MultiScale
            The fitted transformer.
        """
        windows = self._checked_windows()
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        self.scale_features_ = [
            Lambda3Features(window=w, local_window=w, local_jump_percentile=self.local_jump_percentile).fit(X)
            for w in windows
        ]
        return self

    def transform(self, X):
        """Tension and local jumps of ``X`` at every scale.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Series in columns, rows in time order, treated as one contiguous stretch.

        Returns
        -------
        X_new : ndarray of shape (n_samples, 2 * len(windows) * n_features)
            For each input column, for each scale: its ``rho_T`` then its ``local_jump``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        # (n, p, 4) per scale -> keep rho_T and local_jump -> (n, p, scales, 2).
        blocks = [f.transform(X).reshape(X.shape[0], -1, 4)[:, :, 2:] for f in self.scale_features_]
        return np.ascontiguousarray(np.stack(blocks, axis=2).reshape(X.shape[0], -1))

    def get_feature_names_out(self, input_features=None):
        """Output names ``<input name>__<feature>__w<window>``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input names; defaults to ``feature_names_in_`` or ``x0, x1, …``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The output names.
        """
        check_is_fitted(self, "n_features_in_")
        names = _check_feature_names_in(self, input_features)
        windows = [f.window for f in self.scale_features_]
        return np.asarray(
            [f"{name}__{suffix}__w{w}" for name in names for w in windows for suffix in MULTISCALE_SUFFIXES],
            dtype=object,
        )


def scale_breaks(rho, window, k=2.0):
    """Scale breaks of a tension series: where ρT exceeds its mean by ``k`` standard deviations.

    The candidates are the indices ``t`` with ``rho[t] > mean(rho) + k · std(rho)``
    (population std); scanning them in order, a candidate closer than ``window`` to the last
    kept index is dropped, so kept breaks are at least ``window`` apart (method §1).

    Parameters
    ----------
    rho : array-like of shape (n_steps,)
        Tension ρT at one scale, e.g. a ``rho_T`` column of :func:`multiscale_features`.
    window : int
        The scale ``w`` (``>= 1``): the smallest distance between kept breaks.
    k : float, default=2.0
        Number of standard deviations above the mean.

    Returns
    -------
    breaks : ndarray of shape (n_breaks,), dtype int64
        The kept indices, increasing. Empty for a constant series.

    Raises
    ------
    TypeError
        If ``rho`` is not numeric or a parameter has the wrong type.
    ValueError
        If ``rho`` is not 1-D, is empty or has non-finite values, ``window < 1`` or ``k``
        is not finite.

    Examples
    --------
    >>> from sklearn_lambda3.analysis import scale_breaks
    >>> rho = [0.0, 0.0, 9.0, 9.0, 0.0, 0.0, 0.0, 9.0, 0.0, 0.0, 0.0, 0.0]
    >>> scale_breaks(rho, window=3, k=1.0)
    array([2, 7])
    """
    reject_sparse_and_complex(rho, "rho")
    try:
        values = np.asarray(rho, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"rho must be a 1-D array-like of real numbers: {exc}") from exc
    if values.ndim != 1:
        raise ValueError(f"rho must be 1-D; got an array of shape {values.shape}.")
    if values.shape[0] < 1:
        raise ValueError("rho must have at least one value.")
    if not np.all(np.isfinite(values)):
        raise ValueError("rho contains NaN or infinite values.")
    window = check_int(window, "window", 1)
    k = check_real(k, "k")
    candidates = np.flatnonzero(values > values.mean() + k * values.std())
    kept = []
    for index in candidates:
        if not kept or index - kept[-1] >= window:
            kept.append(index)
    return np.asarray(kept, dtype=np.int64)


def multiscale_features(X, windows=(5, 10, 20, 50), return_names=False):
    """Tension ρT and local jumps of each series at several scales (method §1).

    ``Lambda3MultiScale(windows).fit_transform(X)`` as a function: for each scale ``w`` the
    features are those of ``Lambda3Features(window=w, local_window=w).fit_transform(X)``
    (thresholds learned on ``X`` itself). Columns: for each input column, for each scale in
    the order given, its ``rho_T`` then its ``local_jump``, named ``<name>__rho_T__w<w>`` and
    ``<name>__local_jump__w<w>`` (input names from a DataFrame's columns, else ``x0, x1, …``).

    Parameters
    ----------
    X : array-like or pandas DataFrame of shape (n_steps, n_series)
        Series in columns, rows in time order; at least two rows.
    windows : sequence of int, default=(5, 10, 20, 50)
        The scales, distinct and ``>= 1`` (the method's defaults).
    return_names : bool, default=False
        Also return the column names (ignored for a DataFrame, whose columns carry them).

    Returns
    -------
    features : ndarray or DataFrame of shape (n_steps, 2 * len(windows) * n_series)
        A DataFrame (same index as ``X``) when ``X`` is one.
    names : ndarray of str objects
        Only when ``return_names`` and ``X`` is not a DataFrame.

    Raises
    ------
    TypeError
        If a scale is not an integer.
    ValueError
        If ``windows`` is empty, has duplicates or a scale below 1, or ``X`` is invalid for
        :class:`~sklearn_lambda3.Lambda3Features`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lambda3.analysis import multiscale_features
    >>> x = np.sin(np.arange(100) / 5.0)[:, None]
    >>> features, names = multiscale_features(x, windows=(5, 20), return_names=True)
    >>> features.shape
    (100, 4)
    >>> names
    array(['x0__rho_T__w5', 'x0__local_jump__w5', 'x0__rho_T__w20',
           'x0__local_jump__w20'], dtype=object)
    """
    if isinstance(windows, Integral) or not hasattr(windows, "__iter__"):
        raise TypeError(f"windows must be a sequence of integers; got {type(windows).__name__}.")
    multiscale = Lambda3MultiScale(windows=tuple(windows))
    values = multiscale.fit_transform(X)
    names = multiscale.get_feature_names_out()
    if hasattr(X, "columns") and hasattr(X, "index"):
        import pandas as pd

        return pd.DataFrame(values, index=X.index, columns=names)
    return (values, names) if return_names else values
