"""Multi-scale Lambda³ features: tension and local jumps at several window lengths."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data

from ._columns import MULTISCALE_SUFFIXES
from ._features import Lambda3Features
from ._persistence import _VersionStampMixin


class Lambda3MultiScale(_VersionStampMixin, TransformerMixin, BaseEstimator):
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
