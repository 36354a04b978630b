"""The Lambda³ feature transformer."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data

from ._columns import FEATURE_SUFFIXES
from ._feature_kernels import fit_lambda3_features, lambda3_features
from ._persistence import VersionStampMixin
from ._validation import check_magnitude


class Lambda3Features(VersionStampMixin, TransformerMixin, BaseEstimator):
    """Lambda³ jump and tension features of time series, computed by Numba kernels.

    Each column of ``X`` is one series whose rows are consecutive time steps, oldest
    first. For every input column the transformer emits four columns, in this order:

    - ``delta_LambdaC_pos`` (ΔΛC⁺): 1 where the first difference exceeds the jump threshold;
    - ``delta_LambdaC_neg`` (ΔΛC⁻): 1 where it is below minus the jump threshold;
    - ``rho_T`` (ρT, tension): population std of the trailing window
      ``x[max(0, t - window) : t + 1]``;
    - ``local_jump``: 1 where ``|d[t]| / (σ_loc[t] + 1e-8)`` exceeds the local threshold,
      ``σ_loc`` being the std of the centred window of half-width ``local_window``.

    The thresholds are percentiles of the training data learned in :meth:`fit`, so a test
    period is judged by the training period's standard. Each call of :meth:`transform`
    treats its rows as one contiguous stretch of time.

    Parameters
    ----------
    window : int, default=10
        Look-back of the tension ρT: the trailing window holds ``window + 1`` points.
    local_window : int, default=10
        Half-width of the centred window of the local volatility.
    delta_percentile : float, default=97.0
        Percentile of ``|d|`` (``d[0] = 0`` included) that sets the jump threshold.
    local_jump_percentile : float, default=97.0
        Percentile of the local score that sets the local-jump threshold.

    Attributes
    ----------
    jump_threshold_ : ndarray of shape (n_features_in_,)
        Jump threshold θ of each input column.
    local_jump_threshold_ : ndarray of shape (n_features_in_,)
        Local-jump threshold θ_local of each input column.
    n_features_in_ : int
        Number of input columns seen in :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Input column names, when ``X`` has string column names.

    See Also
    --------
    sklearn_lambda3.datasets.make_jump_series : Series with known jumps to try it on.

    Notes
    -----
    The rolling standard deviations are O(n) whatever the window and exact for constant
    stretches and large offsets (no running sum of squares). Columns run in parallel.
    Values must be at most ``1e150`` in absolute value (a ``ValueError`` says so otherwise):
    larger squared deviations would overflow float64.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lambda3 import Lambda3Features
    >>> x = np.array([0.0, 0.1, 0.0, 5.0, 5.1, 5.0, 5.1, 0.0])[:, None]
    >>> features = Lambda3Features(window=2, delta_percentile=80).fit(x)
    >>> features.get_feature_names_out()
    array(['x0__delta_LambdaC_pos', 'x0__delta_LambdaC_neg', 'x0__rho_T',
           'x0__local_jump'], dtype=object)
    >>> features.transform(x)[:, :2].T
    array([[0., 0., 0., 1., 0., 0., 0., 0.],
           [0., 0., 0., 0., 0., 0., 0., 1.]])
    """

    _parameter_constraints: dict = {
        "window": [Interval(Integral, 1, None, closed="left")],
        "local_window": [Interval(Integral, 1, None, closed="left")],
        "delta_percentile": [Interval(Real, 0, 100, closed="both")],
        "local_jump_percentile": [Interval(Real, 0, 100, closed="both")],
    }

    def __init__(self, window=10, local_window=10, delta_percentile=97.0, local_jump_percentile=97.0):
        self.window = window
        self.local_window = local_window
        self.delta_percentile = delta_percentile
        self.local_jump_percentile = local_jump_percentile

    def _validate_X(self, X, reset):
        X = validate_data(
            self,
            X,
            reset=reset,
            dtype=np.float64,
            # Any memory layout: the kernels transpose non-Fortran input themselves, in
            # parallel, much faster than a copy to Fortran order here.
            ensure_min_samples=2 if reset else 1,
        )
        check_magnitude(X, "X", "Lambda3Features")
        return X

    def _allocate(self, X):
        return np.empty((X.shape[0], 4 * X.shape[1]), order="F")

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the per-column jump thresholds.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Series in columns, rows in time order; at least two rows.
        y : None
            Ignored.

        Returns
        -------
        self : Lambda3Features
            The fitted transformer.
        """
        self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Learn the thresholds and return the features of ``X`` in one pass.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Series in columns, rows in time order; at least two rows.
        y : None
            Ignored.

        Returns
        -------
        X_new : ndarray of shape (n_samples, 4 * n_features)
            The features, four columns per input column.
        """
        return self._fit(X)

    def _fit(self, X):
        X = self._validate_X(X, reset=True)
        out = self._allocate(X)
        jump, local = fit_lambda3_features(
            X,
            int(self.window),
            int(self.local_window),
            float(self.delta_percentile),
            float(self.local_jump_percentile),
            out,
        )
        self.jump_threshold_ = jump
        self.local_jump_threshold_ = local
        return out

    def transform(self, X):
        """Compute the features of ``X`` with the thresholds learned in :meth:`fit`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Series in columns, rows in time order, treated as one contiguous stretch.

        Returns
        -------
        X_new : ndarray of shape (n_samples, 4 * n_features)
            The features, four columns per input column.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        out = self._allocate(X)
        lambda3_features(
            X,
            int(self.window),
            int(self.local_window),
            self.jump_threshold_,
            self.local_jump_threshold_,
            out,
        )
        return out

    def get_feature_names_out(self, input_features=None):
        """Output names ``<input name>__<feature>``, four per input column.

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
        return np.asarray(
            [f"{name}__{suffix}" for name in names for suffix in FEATURE_SUFFIXES], dtype=object
        )
