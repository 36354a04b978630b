"""The dynamic Lambda³ model as an sktime forecaster: :class:`Lambda3Forecaster`.

sktime is the optional extra ``[sktime]`` (``pip install "sklearn-lambda3[sktime]"``, with
skpro for :meth:`~Lambda3Forecaster.predict_proba`'s distribution objects); only this module
imports it, so ``import sklearn_lambda3`` does not need it.
"""

import collections
import warnings

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sktime.forecasting.base import BaseForecaster, ForecastingHorizon

from ._features import Lambda3Features
from ._time_index import calendar_periods, likely_period
from ._validation import check_regressors, check_transform
from .bayes import Lambda3DynamicRegressor
from .bayes._convergence import convergence_problems
from .bayes._structural import find_seasonality

__all__ = ["Lambda3Forecaster"]

# The parameters handed to Lambda3DynamicRegressor unchanged, with its defaults.
REGRESSOR_PARAMS = (
    "noise",
    "seasonality",
    "trend",
    "change_points",
    "intercept_prior_scale",
    "coef_prior_scale",
    "jump_prior_scale",
    "tension_prior_scale",
    "noise_prior_scale",
    "level_prior_scale",
    "change_point_prior_scale",
    "seasonal_prior_scale",
    "drift_prior_scale",
    "prior_shrinkage",
    "tension_feature",
    "kalman",
    "num_warmup",
    "num_samples",
    "num_chains",
    "target_accept_prob",
    "max_tree_depth",
    "device",
    "random_state",
    "progress_bar",
    "inference",
    "guide",
    "svi_steps",
    "svi_learning_rate",
)


def _calendar_seasonality(y):
    """``seasonality="auto"`` on ``y``'s index, for the regressor's integer clock.

    Monthly or quarterly rows (a ``PeriodIndex`` or a ``DatetimeIndex`` of that frequency) with two
    whole years: the year, 12 or 4 steps, with every harmonic. Rows spaced by a divisor of a day or
    a week: the finder's period, preferring the day's or the week's. Otherwise "auto" as the
    regressor reads it, from the values alone.
    """
    period = likely_period(y.index)
    if period in (4, 12):
        return {period: period // 2} if len(y) >= 2 * period else None
    calendar = _calendar(y.index)
    if calendar:
        return dict(find_seasonality(y.to_numpy(dtype=np.float64), calendar)) or None
    return "auto"


def _calendar(index):
    """The day's and the week's periods in rows of ``y``'s index (see
    :func:`~sklearn_lambda3._time_index.calendar_periods`): a ``PeriodIndex`` is read as the
    timestamps of its periods; ``()`` for any other index."""
    if isinstance(index, pd.PeriodIndex):
        index = index.to_timestamp()
    return calendar_periods(pd.Series(0.0, index=index)) if isinstance(index, pd.DatetimeIndex) else ()


# The (configuration, series) pairs already warned of, in this process: a backtest's folds share
# both, so it warns once. Bounded: the oldest is forgotten first.
_WARNED = collections.OrderedDict()

# Variants whose posterior probability is under this share are not fitted (the rest renormalised).
MIN_WEIGHT = 0.01


def _warn_if_unconverged(diagnostics, key):
    """The regressor's convergence warnings, once per ``key`` (the configuration and the series).

    A backtest fits the forecaster once per fold: it warns at the first fold that does not
    converge, not at every one; each fit's numbers stay in its ``regressor_.diagnostics_``.
    """
    kinds = []
    if convergence_problems(diagnostics):
        kinds.append(
            (
                "Lambda3Forecaster: the sampler did not converge (the convergence rule's numbers are in "
                "regressor_.diagnostics_; later fits of this configuration to this series that do not "
                "converge either are not reported again); increase num_warmup/num_samples (or "
                "svi_steps), or raise target_accept_prob.",
                ConvergenceWarning,
            )
        )
    if diagnostics.get("tree_depth_saturation", 0.0) > 0:
        kinds.append(
            (
                "Lambda3Forecaster: some NUTS draws hit max_tree_depth (the draws stay valid, the sampler "
                "loses efficiency; see regressor_.diagnostics_); raise max_tree_depth.",
                UserWarning,
            )
        )
    for message, category in kinds:
        if (key, category) in _WARNED:
            continue
        _WARNED[key, category] = True
        if len(_WARNED) > 256:
            _WARNED.popitem(last=False)
        warnings.warn(message, category, stacklevel=3)


def _model_scale(values, transform, name):
    """``values`` of y on the scale a variant models: their log under ``transform="log"``."""
    if transform != "log":
        return values
    if np.any(values[~np.isnan(values)] <= 0):
        raise ValueError(
            f"{name} must be > 0 at every observed step: the forecaster models log y "
            "(transform_='log'); refit with transform=None to forecast such values."
        )
    return np.log(values)


def _back_transformed(transform, values):
    return np.exp(values) if transform == "log" else values


def _mixture_quantiles(variants, alpha):
    """Quantiles ``(steps, len(alpha))`` on y's scale of the mixture of the variants' predictive
    distributions (each a Normal of ``y`` or of ``log y``, see :meth:`Lambda3Forecaster._variants`).

    A variant's own quantiles in closed form; several: the mixture's CDF inverted by bisection
    between the variants' quantiles, which bracket it, to the float's precision.
    """
    alpha = np.asarray(alpha, dtype=np.float64)[None, :]
    own = np.stack(
        [
            _back_transformed(transform, norm.ppf(alpha, loc=mean[:, None], scale=sd[:, None]))
            for _, transform, mean, sd in variants
        ]
    )
    if len(variants) == 1:
        return own[0]
    low, high = own.min(axis=0), own.max(axis=0)
    for _ in range(200):
        middle = 0.5 * (low + high)
        below = _mixture_cdf(variants, middle) < alpha
        low, high = np.where(below, middle, low), np.where(below, high, middle)
        if np.all(high - low <= 4 * np.finfo(np.float64).eps * np.maximum(np.abs(high), 1e-300)):
            break
    return 0.5 * (low + high)


def _mixture_cdf(variants, x):
    """The mixture's CDF at ``x`` ``(steps, k)``, on y's scale."""
    total = np.zeros_like(x)
    for weight, transform, mean, sd in variants:
        if transform == "log":
            with np.errstate(divide="ignore", invalid="ignore"):
                z = np.where(x > 0, (np.log(np.where(x > 0, x, 1.0)) - mean[:, None]) / sd[:, None], -np.inf)
        else:
            z = (x - mean[:, None]) / sd[:, None]
        total += weight * norm.cdf(z)
    return total


def _mixture_variance(variants):
    """The variance on y's scale of the mixture of the variants (a log variant's is the log-normal's)."""
    means, variances = [], []
    for _, transform, mean, sd in variants:
        variance = sd**2
        if transform == "log":
            means.append(np.exp(mean + variance / 2))
            variances.append(np.expm1(variance) * np.exp(2 * mean + variance))
        else:
            means.append(mean)
            variances.append(variance)
    if len(variants) == 1:
        return variances[0]
    weights = np.array([weight for weight, *_ in variants])[:, None]
    means, variances = np.array(means), np.array(variances)
    mixture_mean = (weights * means).sum(axis=0)
    return (weights * (variances + (means - mixture_mean) ** 2)).sum(axis=0)


def _check_time_index(index):
    """An irregularly spaced ``DatetimeIndex`` is a ValueError saying how to make it regular: the
    model counts steps, and sktime cannot place a forecast after such an index."""
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 3 or index.freq is not None:
        return
    if pd.infer_freq(index) is not None:
        return
    spacing = np.diff(index.to_numpy())
    regular = pd.date_range(index[0], periods=3, freq=pd.Timedelta(np.median(spacing)))
    usual = pd.tseries.frequencies.to_offset(pd.infer_freq(regular))
    raise ValueError(
        f"y's DatetimeIndex is not regularly spaced (its steps run from {pd.Timedelta(spacing.min())} to "
        f"{pd.Timedelta(spacing.max())}), and the model counts steps: give y a regular index with the "
        f"missing steps as NaN, for example y.asfreq({usual.freqstr!r}) (and X.asfreq({usual.freqstr!r}) "
        "with the gaps filled), or no time index (y.reset_index(drop=True))."
    )


class Lambda3Forecaster(BaseForecaster):
    """sktime forecaster of the dynamic Lambda³ model, :class:`~sklearn_lambda3.Lambda3DynamicRegressor`.

    ``fit(y, X)`` fits the regressor to the series ``y`` (its values in order: the ``t``-th
    value is the model's time step ``t``, whatever ``y``'s index) with the exogenous series
    ``X`` as regressors, or, with ``features``, the Lambda³ features of ``X``. Every
    forecasting horizon, relative or absolute, is turned into the model's time steps
    relative to the end of the series the model was fitted to: a step inside it is the
    smoothed in-sample fit, a step after it a forecast (the level continues as a random walk
    from its last posterior value, the season in phase, the drift along its slope).

    The predictive distribution of each step is summarised by the regressor's posterior
    predictive mean and standard deviation (those of
    :meth:`~sklearn_lambda3.Lambda3DynamicRegressor.predict` with ``return_std=True``: the
    noise, the level's random walk and the uncertainty of every coefficient), and every
    probabilistic output is that of the Normal with these moments:
    :meth:`predict_var` is its variance, :meth:`predict_quantiles` and
    :meth:`predict_interval` its quantiles, :meth:`predict_proba` the Normal itself (an
    ``skpro`` distribution where skpro is installed). The posterior predictive is a mixture
    of Normals over the posterior draws, so these intervals are close to, not equal to,
    the Monte Carlo quantiles of the regressor's own ``predict_interval``. Where a variant
    models ``log y``, these moments are those of ``log y``: its :meth:`predict` is the
    predictive **median** ``exp(mean)``, its quantiles and intervals the log's,
    back-transformed (exactly), its :meth:`predict_var` the log-normal's variance and its
    :meth:`predict_proba` the log-normal; its components stay on the log scale (a season is
    then a factor, ``exp`` of its component). Several variants (``transform`` and ``trend``
    "auto", the defaults) give the weighted mixture of theirs: :meth:`predict` is the
    mixture's median.

    ``y`` may hold NaN (steps that are not observed; at least two observed). ``X`` must be
    finite and, for forecasts, hold the exogenous values of every forecast step (with
    ``features``, of every step from the end of the series to the last one, since the
    features of a step look back over the steps before it).

    Parameters
    ----------
    noise, seasonality, trend, change_points, intercept_prior_scale, coef_prior_scale, \
jump_prior_scale, tension_prior_scale, noise_prior_scale, level_prior_scale, \
change_point_prior_scale, seasonal_prior_scale, drift_prior_scale, prior_shrinkage, \
tension_feature, kalman, num_warmup, num_samples, num_chains, target_accept_prob, \
max_tree_depth, device, random_state, progress_bar, inference, guide, svi_steps, \
svi_learning_rate
        The parameters of :class:`~sklearn_lambda3.Lambda3DynamicRegressor`, with its
        defaults but for ``seasonality`` and ``trend``: for example ``seasonality=12`` for
        monthly data, ``trend="drift"``, ``change_points="auto"``. Seasonal periods and
        ``change_points`` count steps of ``y`` (``change_points`` are positions in ``y``, not
        index labels). ``seasonality="auto"`` (the default here) reads ``y``'s index:
        monthly or quarterly rows (a ``PeriodIndex`` or ``DatetimeIndex`` of that frequency)
        with two whole years get the year, 12 or 4 steps, with every harmonic
        (``{12: 6}``, ``{4: 2}``); on an evenly spaced index of datetimes or periods, a
        period found within 10 % of a day or a week of rows is taken to be it, as the
        regressor does with a ``DatetimeIndex``; otherwise the period found in the values, or
        none. ``trend="auto"`` (the default here): ``"level"`` and ``"drift"``, averaged by
        their marginal likelihoods (see ``transform``).
    transform : {None, "log", "auto"}, default="auto"
        The scale the model is fitted on: ``y`` itself (None), ``log y`` ("log": ``y`` must be
        positive; a multiplicative season, a growth rate) or, with "auto", both where ``y`` is
        positive. Where ``transform`` or ``trend`` is "auto", the forecast **averages** the
        candidate variants (a level or a drift, on ``y`` or ``log y``): each is weighed by its
        posterior probability under equal prior odds, from its log marginal likelihood
        (:meth:`Lambda3DynamicRegressor.log_evidence
        <sklearn_lambda3.Lambda3DynamicRegressor.log_evidence>`: the filter's exact
        likelihood, τ and σ by Laplace's method, no sampling; the log's Jacobian ``-Σ log y``
        added), and the variants under 1 % are dropped before sampling. The predictive
        distribution is then the weighted mixture of the variants': :meth:`predict` is its
        median, the quantiles and intervals its own (the mixture's CDF inverted),
        :meth:`predict_var` its variance, :meth:`predict_proba` skpro's ``Mixture``.
    features : transformer or None, default=None
        A transformer (cloned in ``fit``) whose output on the exogenous ``X`` is the
        regressors, for example :class:`~sklearn_lambda3.Lambda3Features` (jump and tension
        features; ``noise="tension"`` then finds its ρT column). None: ``X``'s columns are
        the regressors. Its rows are treated as one contiguous stretch of time, so forecasts
        with ``features`` need ``X`` on every step up to the horizon.

    Attributes
    ----------
    regressor_ : Lambda3DynamicRegressor
        The fitted regressor: its ``components_``, ``diagnostics_`` and posterior draws.
    features_ : transformer or None
        The fitted clone of ``features``.
    weights_ : dict of (transform, trend) to float
        The variants the forecast averages and their weights (one variant of weight 1 where
        ``transform`` and ``trend`` are given).
    regressors_ : dict of (transform, trend) to Lambda3DynamicRegressor
        The fitted regressor of each variant; ``regressor_`` is the heaviest one, whose
        components :meth:`predict_components` gives.
    transform_ : None or "log"
        The scale of the heaviest variant.
    log_evidence_ : dict of (transform, trend) to float
        The log marginal likelihood of every candidate (in units of ``y``, comparable); empty
        where nothing was weighed.

    See Also
    --------
    sklearn_lambda3.Lambda3DynamicRegressor : The model, with its scikit-learn time contract.

    Examples
    --------
    >>> from sktime.datasets import load_airline
    >>> from sklearn_lambda3.sktime import Lambda3Forecaster
    >>> y = load_airline()
    >>> forecaster = Lambda3Forecaster(seasonality=12, trend="drift", num_warmup=200,
    ...                                num_samples=200, num_chains=1, random_state=0,
    ...                                progress_bar=False).fit(y[:-12])
    >>> y_pred = forecaster.predict(fh=range(1, 13))
    >>> intervals = forecaster.predict_interval(fh=range(1, 13), coverage=0.9)
    >>> intervals.shape
    (12, 2)
    >>> bool((intervals.iloc[:, 0] < y_pred).all() and (y_pred < intervals.iloc[:, 1]).all())
    True
    """

    _tags = {
        "authors": ["sklearn-lambda3 developers"],
        "maintainers": ["sklearn-lambda3 developers"],
        "python_dependencies": None,
        "y_inner_mtype": "pd.Series",
        "X_inner_mtype": "pd.DataFrame",
        "capability:multivariate": False,
        "capability:exogenous": True,
        "capability:insample": True,
        "capability:pred_int": True,
        "capability:pred_int:insample": True,
        # A NaN in y is a step the dynamic model does not observe.
        "capability:missing_values": True,
        # Without features the rows of X are placed by their labels one by one.
        "capability:non_contiguous_X": True,
        "capability:random_state": True,
        "property:randomness": "derandomized",
        # update(update_params=False) conditions on the new steps with the sampled scales held
        # (the regressor's append); update_params=True refits on every step seen.
        "capability:update": True,
        "requires-fh-in-fit": False,
        "X-y-must-have-same-index": True,
        "fit_is_empty": False,
    }

    # Forecasts look up exogenous rows seen since fit in the data sktime keeps (``_X``), and the
    # default ``update`` refits on all of it: the forecaster keeps that memory, stated here so that
    # sktime's coming change of the default (to False, in 1.3) does not change the forecaster.
    _config = {"remember_data": True}

    def __init__(
        self,
        noise="constant",
        *,
        seasonality="auto",
        trend="auto",
        transform="auto",
        change_points=None,
        features=None,
        intercept_prior_scale=2.0,
        coef_prior_scale=1.0,
        jump_prior_scale=5.0,
        tension_prior_scale=3.0,
        noise_prior_scale=1.0,
        level_prior_scale=0.1,
        change_point_prior_scale=5.0,
        seasonal_prior_scale=1.0,
        drift_prior_scale=0.1,
        prior_shrinkage="evidence",
        tension_feature=None,
        kalman="auto",
        num_warmup=1000,
        num_samples=1000,
        num_chains=4,
        target_accept_prob=0.8,
        max_tree_depth=10,
        device="cpu",
        random_state=None,
        progress_bar="auto",
        inference="nuts",
        guide="normal",
        svi_steps=4000,
        svi_learning_rate=0.02,
    ):
        self.noise = noise
        self.seasonality = seasonality
        self.trend = trend
        self.transform = transform
        self.change_points = change_points
        self.features = features
        self.intercept_prior_scale = intercept_prior_scale
        self.coef_prior_scale = coef_prior_scale
        self.jump_prior_scale = jump_prior_scale
        self.tension_prior_scale = tension_prior_scale
        self.noise_prior_scale = noise_prior_scale
        self.level_prior_scale = level_prior_scale
        self.change_point_prior_scale = change_point_prior_scale
        self.seasonal_prior_scale = seasonal_prior_scale
        self.drift_prior_scale = drift_prior_scale
        self.prior_shrinkage = prior_shrinkage
        self.tension_feature = tension_feature
        self.kalman = kalman
        self.num_warmup = num_warmup
        self.num_samples = num_samples
        self.num_chains = num_chains
        self.target_accept_prob = target_accept_prob
        self.max_tree_depth = max_tree_depth
        self.device = device
        self.random_state = random_state
        self.progress_bar = progress_bar
        self.inference = inference
        self.guide = guide
        self.svi_steps = svi_steps
        self.svi_learning_rate = svi_learning_rate
        with warnings.catch_warnings():
            # sktime 1.2 warns of that coming change at every construction, even where the
            # config is set explicitly, as its message advises.
            warnings.filterwarnings(
                "ignore", message="The default of config ``remember_data``", category=FutureWarning
            )
            super().__init__()
        if features is not None:
            # A transformer's row depends on the rows before it: forecasts need X on every step.
            self.set_tags(**{"capability:non_contiguous_X": False})

    # ------------------------------------------------------------------ fit
    def _fit(self, y, X, fh):
        """Fit the regressor to ``y`` with the regressors of ``X``.

        Parameters
        ----------
        y : pd.Series
            The series; its values are the model's time steps ``0, 1, …`` in order.
        X : pd.DataFrame or None
            Exogenous series on ``y``'s index.
        fh : ForecastingHorizon or None
            Not needed: any horizon is forecast from the fitted posterior.

        Returns
        -------
        self : Lambda3Forecaster
        """
        if self.features is not None and not (
            hasattr(self.features, "fit_transform") and hasattr(self.features, "transform")
        ):
            raise ValueError(
                f"features must be a transformer such as Lambda3Features, or None; got {self.features!r}."
            )
        _check_time_index(y.index)
        self._check_seasonality(y.index)
        check_regressors(X)
        if X is not None and X.shape[1] == 0:
            X = None
        self._y_name = y.name
        self._n_train = len(y)
        self._fit_cutoff = self.cutoff
        self._X_columns = None if X is None else list(X.columns)
        self._X_fit = None if X is None else X.to_numpy(dtype=np.float64)
        self.features_ = None
        if X is None:
            design = np.zeros((len(y), 0))
            names = []
        elif self.features is None:
            design = self._X_fit
            names = [str(column) for column in X.columns]
        else:
            self.features_ = clone(self.features)
            raw = pd.DataFrame(self._X_fit, columns=[str(column) for column in X.columns])
            design = np.asarray(self.features_.fit_transform(raw), dtype=np.float64)
            names = [str(name) for name in self.features_.get_feature_names_out()]
        # Integer labels 0 … n - 1: the regressor places every later row by its step label.
        self._design = pd.DataFrame(design, index=pd.RangeIndex(len(y)), columns=names)
        params = {name: getattr(self, name) for name in REGRESSOR_PARAMS}
        if isinstance(self.seasonality, str) and self.seasonality == "auto":
            params["seasonality"] = _calendar_seasonality(y)
        values = y.to_numpy(dtype=np.float64)
        self.weights_ = self._variant_weights(values, params)
        series = (
            y.name,
            type(y.index).__name__,
            str(getattr(y.index, "freq", None)),
            len(self._X_columns or ()),
        )
        self.regressors_ = {}
        for (transform, trend), _ in sorted(self.weights_.items(), key=lambda item: -item[1]):
            regressor = Lambda3DynamicRegressor(**{**params, "trend": trend})
            regressor._convergence_warned_by_caller = True
            regressor.fit(self._design, _model_scale(values, transform, "y"))
            self.regressors_[transform, trend] = regressor
            _warn_if_unconverged(regressor.diagnostics_, (repr(sorted(self.get_params().items())), series))
        # The heaviest variant: its scale, its components, its diagnostics.
        self.transform_, _ = best = max(self.weights_, key=self.weights_.get)
        self.regressor_ = self.regressors_[best]
        return self

    def _variant_weights(self, values, params):
        """``{(transform, trend): weight}`` of the variants the forecast averages.

        The given transform and trend, weight 1; where either is "auto", every candidate (a
        level or a drift; ``y`` or ``log y`` for a positive series) weighed by its posterior
        probability under equal prior odds, ``exp`` of its log marginal likelihood
        (:meth:`Lambda3DynamicRegressor.log_evidence`, with the log's Jacobian ``-Σ log y``),
        normalised; those under :data:`MIN_WEIGHT` are dropped and the rest renormalised.
        ``log_evidence_`` keeps every candidate's.
        """
        transform = check_transform(self.transform)
        positive = bool(np.all(values[~np.isnan(values)] > 0))
        if transform == "log" and not positive:
            raise ValueError(
                "transform='log' needs y > 0 at every observed step; use transform=None or 'auto' "
                "(which takes the log only for positive series), or shift y."
            )
        transforms = [transform] if transform != "auto" else ([None, "log"] if positive else [None])
        trends = ["level", "drift"] if self.trend == "auto" else [self.trend]
        self.log_evidence_ = {}
        if len(transforms) * len(trends) == 1:
            return {(transforms[0], trends[0]): 1.0}
        for candidate in transforms:
            model_y = np.log(values) if candidate == "log" else values
            jacobian = -np.nansum(model_y) if candidate == "log" else 0.0
            for trend in trends:
                regressor = Lambda3DynamicRegressor(**{**params, "trend": trend})
                evidence = regressor.log_evidence(self._design, model_y) + jacobian
                self.log_evidence_[candidate, trend] = float(evidence)
        variants = list(self.log_evidence_)
        evidence = np.array([self.log_evidence_[variant] for variant in variants])
        if not np.isfinite(evidence).any():
            evidence = np.zeros(len(variants))  # no mode found anywhere: equal weights
        weights = np.exp(evidence - evidence.max())
        weights /= weights.sum()
        kept = weights >= MIN_WEIGHT
        return {
            variant: float(weight / weights[kept].sum())
            for variant, weight, keep in zip(variants, weights, kept, strict=True)
            if keep
        }

    def _check_seasonality(self, index):
        """A string other than "auto" is a ValueError suggesting the period of ``y``'s calendar."""
        if isinstance(self.seasonality, str) and self.seasonality != "auto":
            period = likely_period(index)
            hint = f"y's index looks {index.freqstr}-spaced: seasonality={period}" if period else None
            raise ValueError(
                f"seasonality={self.seasonality!r}: give the period in steps of y, for example 12 for "
                "monthly data, 4 for quarterly, 7 for daily, 24 for hourly"
                + (f" ({hint})" if hint else "")
                + "; or 'auto', to find it from y's calendar and values."
            )

    # ----------------------------------------------------------------- update
    def _update(self, y, X=None, update_params=True):
        """Condition on the new steps of ``y`` (scales held), or refit on every step seen.

        Parameters
        ----------
        y : pd.Series
            The new observations (steps already seen are left as they are).
        X : pd.DataFrame or None
            Exogenous series on ``y``'s index.
        update_params : bool, default=True
            True: refit the regressor to every step seen since fit (its posterior sampled
            anew). False: keep the sampled τ and noise and condition on the new steps
            exactly (:meth:`~sklearn_lambda3.Lambda3DynamicRegressor.append`): a filter pass,
            no sampling. Steps between the last one seen and the new ones are not observed.

        Returns
        -------
        self : Lambda3Forecaster
        """
        _check_time_index(self._y.index)
        check_regressors(X)
        if update_params:
            return self._fit(self._y, self._X, self._fh)
        known = len(self._design)
        steps = self._steps(ForecastingHorizon(y.index, is_relative=False, freq=self.cutoff))
        new = steps >= known
        if not new.any():
            return self
        stretch = np.arange(known, steps.max() + 1)
        values = np.full(len(stretch), np.nan)
        values[steps[new] - known] = y.to_numpy(dtype=np.float64)[new]
        design = pd.DataFrame(
            self._future_design(X, stretch, self.cutoff),
            index=pd.Index(stretch),
            columns=self._design.columns,
        )
        scaled = {transform: _model_scale(values, transform, "y") for transform, _ in self.regressors_}
        for (transform, _), regressor in self.regressors_.items():
            regressor.append(design, scaled[transform])
        self._design = pd.concat([self._design, design])
        return self

    # ------------------------------------------------------------ placement
    def _steps(self, fh):
        """The model's time step of every horizon entry: step ``n - 1`` is the fit's cutoff."""
        absolute = fh.to_absolute(self.cutoff)
        steps = absolute.to_relative(self._fit_cutoff).to_numpy().astype(np.int64) + self._n_train - 1
        if np.any(steps < 0):
            raise ValueError(
                "fh reaches before the start of the series the forecaster was fitted to; "
                "in-sample steps must lie within it."
            )
        return steps

    def _exogenous(self, X, horizons, freq):
        """Rows of the exogenous series at ``horizons`` steps after the fit's cutoff.

        Looked up by label in ``X`` (the one given to predict) and then in the data seen
        since fit, in the columns seen in fit.
        """
        labels = ForecastingHorizon(horizons, is_relative=True, freq=freq).to_absolute_index(self._fit_cutoff)
        if X is not None:
            missing_columns = [column for column in self._X_columns if column not in X.columns]
            if missing_columns:
                raise ValueError(f"X lacks the columns {missing_columns} that it had in fit.")
        frames = [frame[self._X_columns] for frame in (X, self._X) if frame is not None and len(frame)]
        if frames:
            known = pd.concat(frames)
            rows = known[~known.index.duplicated(keep="first")].reindex(labels)
        else:
            rows = pd.DataFrame(np.nan, index=labels, columns=self._X_columns)
        absent = rows.isna().any(axis=1).to_numpy()
        if absent.any():
            raise ValueError(
                "X must hold finite exogenous values of every forecast step"
                + (" up to the horizon (features look back over the steps before)" if self.features_ else "")
                + f"; it has none at {list(labels[absent][:5])} (NaN is allowed in y only: impute X)."
            )
        return rows.to_numpy(dtype=np.float64)

    def _future_design(self, X, steps, freq):
        """Regressors of the forecast ``steps`` (all at or after the training steps' end)."""
        if self._X_columns is None:
            return np.zeros((len(steps), 0))
        if self.features_ is None:
            return self._exogenous(X, steps - self._n_train + 1, freq)
        # The features of a step look back: transform the training rows and every step up to
        # the last one as one stretch, then keep the forecast steps.
        horizons = np.arange(1, steps.max() - self._n_train + 2)
        stretch = np.vstack([self._X_fit, self._exogenous(X, horizons, freq)])
        raw = pd.DataFrame(stretch, columns=[str(column) for column in self._X_columns])
        return np.asarray(self.features_.transform(raw), dtype=np.float64)[steps]

    def _variants(self, fh, X):
        """``[(weight, transform, mean, sd)]`` of every variant at the steps of ``fh``, each on the
        scale it models (``log y`` where ``transform`` is "log")."""
        return [
            (weight, transform, *self._moments(fh, X, self.regressors_[transform, trend]))
            for (transform, trend), weight in self.weights_.items()
        ]

    def _moments(self, fh, X, regressor):
        """Predictive mean and standard deviation of every entry of ``fh``, in its order.

        In-sample steps and forecasts are predicted by separate calls, so a forecast does not
        depend on whether in-sample steps were asked for with it.
        """
        steps = self._steps(fh)
        mean = np.empty(len(steps))
        sd = np.empty(len(steps))
        inside = steps < len(self._design)
        if inside.any():
            rows = self._design.iloc[steps[inside]]
            mean[inside], sd[inside] = regressor.predict(rows, return_std=True)
        if (~inside).any():
            ahead = steps[~inside]
            design = pd.DataFrame(
                self._future_design(X, ahead, fh.freq), index=pd.Index(ahead), columns=self._design.columns
            )
            mean[~inside], sd[~inside] = regressor.predict(design, return_std=True)
        return mean, sd

    # -------------------------------------------------------------- predict
    def _predict(self, fh, X):
        """Posterior predictive mean of the steps of ``fh``.

        Parameters
        ----------
        fh : ForecastingHorizon
            The steps to predict, in-sample or ahead.
        X : pd.DataFrame or None
            Exogenous series on (at least) the forecast steps.

        Returns
        -------
        y_pred : pd.Series
            The mean, indexed by ``fh``'s absolute labels.
        """
        median = _mixture_quantiles(self._variants(fh, X), [0.5])[:, 0]
        return pd.Series(median, index=fh.to_absolute_index(self.cutoff), name=self._y_name)

    def _predict_var(self, fh, X=None, cov=False):
        """Posterior predictive variance of the steps of ``fh``.

        Parameters
        ----------
        fh : ForecastingHorizon
            The steps to predict.
        X : pd.DataFrame or None
            Exogenous series on (at least) the forecast steps.
        cov : bool, default=False
            Covariance across steps: not available (the steps' joint distribution is not
            summarised), so True raises NotImplementedError.

        Returns
        -------
        pred_var : pd.DataFrame
            One column (``y``'s name), indexed by ``fh``'s absolute labels.
        """
        if cov:
            raise NotImplementedError("Lambda3Forecaster gives the variance of each step, not a covariance.")
        variance = _mixture_variance(self._variants(fh, X))
        return pd.DataFrame(
            variance, index=fh.to_absolute_index(self.cutoff), columns=self._get_columns(method="predict_var")
        )

    def _predict_quantiles(self, fh, X, alpha):
        """Quantiles of the Normal with each step's predictive mean and standard deviation.

        Parameters
        ----------
        fh : ForecastingHorizon
            The steps to predict.
        X : pd.DataFrame or None
            Exogenous series on (at least) the forecast steps.
        alpha : list of float
            Probabilities of the quantiles, in (0, 1).

        Returns
        -------
        quantiles : pd.DataFrame
            Columns (``y``'s name, alpha), indexed by ``fh``'s absolute labels.
        """
        values = _mixture_quantiles(self._variants(fh, X), alpha)
        return pd.DataFrame(
            values,
            index=fh.to_absolute_index(self.cutoff),
            columns=self._get_columns(method="predict_quantiles", alpha=alpha),
        )

    def _predict_proba(self, fh, X, marginal=True):
        """The predictive distribution of each step: the Normal of its mean and standard deviation,
        or for a variant of ``log y`` the log-normal whose log has them (skpro's); several
        variants, skpro's ``Mixture`` of theirs with the weights ``weights_``.

        Parameters
        ----------
        fh : ForecastingHorizon
            The steps to predict.
        X : pd.DataFrame or None
            Exogenous series on (at least) the forecast steps.
        marginal : bool, default=True
            The steps' marginal distributions (the only ones given).

        Returns
        -------
        pred_dist : skpro BaseDistribution
            One column (``y``'s name), indexed by ``fh``'s absolute labels.
        """
        variants = self._variants(fh, X)
        if len(variants) == 1 and variants[0][1] != "log":
            return super()._predict_proba(marginal=marginal, fh=fh, X=X)
        from skpro.distributions import LogNormal, Mixture, Normal

        index = fh.to_absolute_index(self.cutoff)
        columns = self._get_columns(method="predict_var")
        components = []
        for k, (_, transform, mean, sd) in enumerate(variants):
            family = LogNormal if transform == "log" else Normal
            parameters = {
                "mu": pd.DataFrame(mean, index=index, columns=columns),
                "sigma": pd.DataFrame(sd, index=index, columns=columns),
            }
            components.append((f"variant{k}", family(**parameters, index=index, columns=columns)))
        if len(components) == 1:
            return components[0][1]
        weights = [weight for weight, *_ in variants]
        return Mixture(distributions=components, weights=weights, index=index, columns=columns)

    # ------------------------------------------------------------ components
    def predict_components(self, fh=None, X=None, coverage=0.9):
        """Posterior mean and central interval of each structural component at the steps of ``fh``.

        The components of :meth:`Lambda3DynamicRegressor.components
        <sklearn_lambda3.Lambda3DynamicRegressor.components>` of ``regressor_`` (the heaviest
        variant, on its scale: ``log y`` where ``transform_ == "log"``), on ``y``'s index: ``"level"``
        (the random-walk level without the change points' steps, with the regressors at their
        training means), ``"trend"`` (``trend="drift"``: the drift ``μ t``), ``"season"``
        (the Fourier terms of every period), ``"regressors"`` (the regressors' contribution
        relative to their training means, zero on average over the training steps) and
        ``"change_points"`` (the sum of the steps so far), those the model has. Their means add
        up to that regressor's predictive mean (in-sample exactly; ahead, up to the Monte Carlo
        error of the level's drawn spread), which is :meth:`predict`'s for a single variant on
        ``y``'s own scale, and each panel moves about its own scale: a regressor far from
        zero does not swing the level.

        Parameters
        ----------
        fh : int, list, ForecastingHorizon or None, default=None
            The steps, in-sample (relative ``<= 0`` or absolute labels up to the cutoff) or
            ahead; None: every step the forecaster has seen.
        X : pd.DataFrame or None, default=None
            Exogenous series of the steps ahead, as for :meth:`predict`.
        coverage : float, default=0.9
            Probability mass inside each interval, in (0, 1).

        Returns
        -------
        components : pd.DataFrame
            Indexed by the steps' labels; columns a ``MultiIndex`` of (component, statistic),
            the statistics ``"mean"``, ``"lower"`` and ``"upper"``: ``components["level"]``
            is the level's frame.

        Examples
        --------
        >>> from sktime.datasets import load_airline
        >>> from sklearn_lambda3.sktime import Lambda3Forecaster
        >>> forecaster = Lambda3Forecaster(seasonality=12, trend="drift", num_warmup=200,
        ...                                num_samples=200, num_chains=1, random_state=0,
        ...                                progress_bar=False).fit(load_airline())
        >>> ahead = forecaster.predict_components(fh=range(1, 13))
        >>> list(ahead.columns.get_level_values("component").unique())
        ['level', 'trend', 'season']
        >>> str(ahead.index[0])
        '1961-01'
        """
        self.check_is_fitted()
        if fh is None:
            fh = ForecastingHorizon(np.arange(1 - len(self._design), 1), is_relative=True, freq=self.cutoff)
        else:
            fh = self._check_fh(fh)
        if X is not None:
            check_regressors(X)
        steps = self._steps(fh)
        inside = steps < len(self._design)
        design = np.empty((len(steps), self._design.shape[1]))
        design[inside] = self._design.to_numpy()[steps[inside]]
        if (~inside).any():
            design[~inside] = self._future_design(X, steps[~inside], fh.freq)
        rows = pd.DataFrame(design, index=pd.Index(steps), columns=self._design.columns)
        parts = self.regressor_.components(rows, coverage=coverage)
        columns = pd.MultiIndex.from_product(
            [list(parts), ["mean", "lower", "upper"]], names=["component", "statistic"]
        )
        return pd.DataFrame(
            np.hstack(list(parts.values())), index=fh.to_absolute_index(self.cutoff), columns=columns
        )

    @classmethod
    def get_test_params(cls, parameter_set="default"):
        """Small, fast configurations for sktime's checks (few posterior draws).

        Parameters
        ----------
        parameter_set : str, default="default"
            Name of the set; there is one.

        Returns
        -------
        params : list of dict
            A local level; a drifting level with a season and Lambda³ features of ``X``.
        """
        quick = {
            "num_warmup": 20,
            "num_samples": 20,
            "num_chains": 1,
            "random_state": 0,
            "progress_bar": False,
        }
        return [
            quick,
            {
                **quick,
                "trend": "drift",
                "seasonality": 4,
                "features": Lambda3Features(window=3, local_window=2),
            },
        ]
