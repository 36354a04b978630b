"""Bayesian regression on Lambda³ features with NumPyro's NUTS."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, column_or_1d, validate_data

from . import _arviz
from ._diagnostics import e_bfmi, ess_bulk, ess_tail, mcse_mean, split_rhat, tree_depth
from ._persistence import _VersionStampMixin
from ._priors import TENSION_SUFFIX, column_prior_scales, evidence_shrinkage
from ._validation import check_magnitude, reject_sparse_and_complex

# Convergence thresholds of the method (spec §3) used for the ConvergenceWarning.
RHAT_LIMIT = 1.01
ESS_PER_CHAIN_LIMIT = 100
# E-BFMI below which a chain's momentum resampling explores the energy poorly (Betancourt 2016).
E_BFMI_LIMIT = 0.3

# Loss decrease (nats) over the last tenth of the SVI steps below which SVI counts as converged.
SVI_LOSS_TOLERANCE = 0.05
# ... and, for a drop above the noise of its estimate, the largest loss decrease per unit of
# Adam's step size (about the gradient's L1 norm) at which SVI counts as converged.
SVI_LOSS_NOISE = 0.002
SVI_RATE_TOLERANCE = 0.1

# Smallest prior scale in the standardised coordinate: its square stays a normal float32.
PRIOR_FLOOR = 1e-15

# Largest number of posterior draws whose level path the dynamic model keeps.
LEVEL_PATHS = 500

# Floor of the reference noise variance of the linear likelihood (standardised units).
NOISE_FLOOR_VARIANCE = 1e-12

# Smallest number of predictive draws per row behind predict_interval's quantiles.
PREDICTIVE_DRAWS = 4000

_POSITIVE = Interval(Real, 0, None, closed="neither")


class Lambda3BayesRegressor(_VersionStampMixin, RegressorMixin, BaseEstimator):
    """Bayesian regression of the Lambda³ method, sampled with NumPyro's NUTS.

    The linear model (spec §3) is ``y_t = β0 + Σ_k β_k f_k[t] + ε_t`` with Normal priors on the
    coefficients and a HalfNormal prior on the noise. **Every coefficient's prior scale is in
    standard deviations of y (over the training rows) per raw unit of its regressor**, as the
    method states its scales: a jump indicator (0 or 1) has an effect of about
    ``jump_prior_scale`` standard deviations of y per jump, a ρT feature ``tension_prior_scale``
    per unit of ρT, that is per unit of its source series, and any other column
    ``coef_prior_scale`` per unit of that column (a time index: per step). The prior does not
    depend on how much a regressor varied in the training window, so a feature nearly constant
    there cannot earn a huge coefficient that explodes once it varies out of sample. A regressor
    whose name ends in ``__delta_LambdaC_pos``, ``__delta_LambdaC_neg`` or ``__local_jump`` gets
    ``jump_prior_scale``, one ending in ``__rho_T`` gets ``tension_prior_scale`` and any other
    ``coef_prior_scale``; names come from pandas columns (in a pipeline,
    ``set_output(transform="pandas")``). With ``prior_shrinkage="evidence"`` (the default) the
    linear model multiplies all coefficient scales by one factor ``g`` in (0, 1] chosen to
    maximise the marginal likelihood (type-II maximum likelihood, as
    :class:`~sklearn.linear_model.BayesianRidge` chooses its weight precision), so that many
    weak regressors on a short series are shrunk together; ``prior_shrinkage_`` holds ``g``.
    The intercept's prior (``intercept_prior_scale`` standard deviations of y around y's
    training mean) is not shrunk. Sampling works on standardised data (mean 0, std 1 per
    column), where the same prior has scale ``g · scale · spread``; the reported coefficients
    are in original units.

    With ``noise="constant"`` the likelihood is evaluated from the sufficient statistics
    (XᵀX, Xᵀy, yᵀy, n), so sampling cost does not grow with the number of rows. The
    coefficients are sampled in a whitened coordinate (a fixed linear map computed from
    the data) so that NUTS sees a near-isotropic posterior; the priors are unchanged.

    The dynamic model (``model="dynamic"``, rows of ``X`` are consecutive time steps) is
    ``y_t = a_t + Σ_k β_k f_k[t] + ε_t``: a level ``a_t`` that follows a Gaussian random walk
    (``a_t = a_{t-1} + η_t``, ``η_t ~ Normal(0, τ)``, ``τ ~ HalfNormal(level_prior_scale)``)
    replaces the intercept and trend, and jumps by ``δ_i ~ Normal(0, change_point_prior_scale)``
    at each change point ``c_i``. Given τ and the noise the model is linear-Gaussian, so the
    level, the steps and the coefficients are integrated out exactly by a Kalman filter and
    NUTS samples only τ and the noise; the coefficients, the level path and the steps are then
    drawn exactly for each draw (forward filtering, backward sampling). The filter accumulates
    its normal matrix in square-root form, so collinear or constant regressors and a noise at
    its floor cannot break it (a constant column's coefficient keeps its prior). τ and σ are
    sampled in a coordinate centred and scaled by a Laplace approximation of their posterior,
    linear in σ and folded at 0 rather than logarithmic: the defaults then converge on the
    method's scenario (spec §3) with 2 chains × 500 draws, where log scales left chains stuck
    in σ's tail towards 0 (see ``benchmarks/bench_dynamic.py``). Time steps are the
    rows: ``predict(X_train)`` gives the in-sample fit (level path plus feature terms), and
    any other ``X`` is read as the steps right after the training rows and forecast (see
    :meth:`forecast`), with intervals that widen with the horizon. A NaN in ``y`` is a step
    that is not observed (``X`` stays finite there): the filter only predicts through it
    (the level's variance grows, no likelihood term), so the in-sample fit there is the
    smoothed level, which interpolates across a gap, and ``pointwise_log_likelihood`` covers
    the observed steps only. ``change_points="auto"`` runs the detector on the observed steps
    and puts a change found across a gap at the first observed row after it.

    The hierarchical model (``model="hierarchical"``) fits several related series at once:
    ``y`` is (n_samples, n_series), with NaN where a series is not observed (a short series
    is a column that is NaN after its last step), all series share the regressors ``X``, and
    series ``s`` has its own intercept and coefficients ``θ_s ~ Normal(μ, τ)`` drawn from a
    population (``μ_k`` with the coefficient's usual prior, ``τ_k ~
    HalfNormal(population_prior_scale)``) and its own noise σ_s. A short or noisy series is
    pulled towards the population mean, as far as τ allows. Given (μ, τ, σ) each series is
    linear-Gaussian, so the θ_s are integrated out exactly and NUTS samples only μ, τ and σ
    (no funnel, whether the series are short or long); the θ_s are then drawn exactly for
    every draw. ``predict`` returns (n_samples, n_series). A 1-D ``y`` is one series.

    ``inference="svi"`` replaces NUTS by stochastic variational inference with a NumPyro
    autoguide on the same model: ``guide="normal"`` (``AutoNormal``, mean-field) or
    ``"lowrank"`` (``AutoLowRankMultivariateNormal``). Adam runs ``svi_steps`` steps, their
    size decaying from ``svi_learning_rate`` to a tenth of it; the loss history is ``loss_``
    and ``num_chains * num_samples`` independent draws from the fitted guide fill the same
    attributes as NUTS's draws, so every method works alike. Because the coefficients are
    sampled in a whitened coordinate, the mean-field guide is close to exact for the linear
    model. A ``ConvergenceWarning`` is raised while the loss is still falling at the end.

    Parameters
    ----------
    model : {"linear", "dynamic", "hierarchical"}, default="linear"
        The Lambda³ model: linear regression, the random-walk level with change points, or
        partial pooling of several series' coefficients.
    noise : {"constant", "tension"}, default="constant"
        ``"constant"``: ``ε_t ~ Normal(0, σ)``, ``σ ~ HalfNormal(noise_prior_scale)``.
        ``"tension"``: ``σ_t = σ_base + σ_scale · τ_t`` with ``τ_t`` the ρT regressor divided
        by its training mean, ``σ_base ~ HalfNormal(noise_prior_scale)`` and
        ``σ_scale ~ HalfNormal(noise_prior_scale / 2)`` (the method's 1 and 0.5).
    change_points : None, "auto" or array-like of int, default=None
        ``model="dynamic"`` only: row indices where the level may jump (a jump between rows
        ``c - 1`` and ``c`` is at ``c``; sorted, distinct, in ``[1, n_samples - 1]``), or
        ``"auto"`` to find them with
        :func:`~sklearn_lambda3.analysis.detect_change_points` on ``y`` (its observed steps
        when ``y`` has NaN; a change between two observed rows is put at the later one).
    intercept_prior_scale : float, default=2.0
        Scale of the Normal prior on the intercept (dynamic model: on the first level).
    coef_prior_scale : float, default=1.0
        Scale of the Normal prior on ordinary regressors (a time index, say).
    jump_prior_scale : float, default=5.0
        Scale of the Normal prior on jump regressors (ΔΛC±, local jumps).
    tension_prior_scale : float, default=3.0
        Scale of the Normal prior on tension regressors (ρT).
    noise_prior_scale : float, default=1.0
        Scale of the HalfNormal prior on the noise.
    level_prior_scale : float, default=0.1
        Dynamic model: scale of the HalfNormal prior on τ, the sd of the level's steps.
    change_point_prior_scale : float, default=5.0
        Dynamic model: scale of the Normal prior on each change point's step δ_i.
    population_prior_scale : float, default=1.0
        Hierarchical model: scale of the HalfNormal prior on τ_k, the spread of coefficient
        ``k`` across series (standardised units, like the other prior scales).
    prior_shrinkage : "evidence" or float, default="evidence"
        Factor ``g`` applied to every coefficient's prior scale (not the intercept's).
        ``"evidence"``: for the linear model, the ``g`` in [1e-4, 1] that maximises the
        marginal likelihood of y (with the noise variance also maximised; under
        ``noise="tension"`` the constant-noise likelihood chooses it); for the dynamic model,
        the ``g`` that maximises the Kalman filter's collapsed likelihood (level, steps and
        coefficients integrated out) with τ and σ at their posterior mode for that ``g``
        (under ``noise="tension"``, σ constant), so that features that only add noise are
        shrunk and the forecast falls back to the local level's; the hierarchical model
        keeps ``g = 1`` (its scales as given). A number fixes ``g`` for every model: ``1.0``
        uses the scales exactly as given.
    tension_feature : str or None, default=None
        With ``noise="tension"``, the name of the ρT regressor that drives the noise;
        ``None`` takes the first column named ``*__rho_T``.
    num_warmup : int, default=1000
        Warm-up (adaptation) iterations per chain.
    num_samples : int, default=1000
        Kept draws per chain.
    num_chains : int, default=4
        Number of chains, run vectorised on one device.
    target_accept_prob : float, default=0.8
        Target acceptance probability of NUTS's step-size adaptation.
    max_tree_depth : int, default=10
        Maximum tree depth of NUTS.
    device : {"cpu", "gpu", "auto"}, default="cpu"
        Where sampling runs. ``"auto"`` picks a GPU when JAX sees one, else the CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds the sampler; the same seed gives bitwise-identical draws on one machine.
    progress_bar : bool or "auto", default="auto"
        Show a progress bar while sampling (NUTS: its description switches from ``warmup`` to
        ``sample``; SVI: the optimisation steps). ``"auto"`` shows it when stderr is a terminal
        or in an IPython/Jupyter kernel (a notebook widget, by tqdm's auto front end), and not
        in logs or CI.
    inference : {"nuts", "svi"}, default="nuts"
        NUTS (exact up to Monte Carlo error) or SVI (a faster approximation).
    guide : {"normal", "lowrank"}, default="normal"
        SVI only: the autoguide, mean-field Normal or low-rank multivariate Normal.
    svi_steps : int, default=4000
        SVI only: number of optimisation steps.
    svi_learning_rate : float, default=0.02
        SVI only: Adam's initial step size (it decays to a tenth over the steps).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features_in_,) or (n_series, n_features_in_)
        Posterior mean of the coefficients, original units (hierarchical model with a 2-D
        ``y``: one row per series).
    intercept_ : float or ndarray of shape (n_series,)
        Posterior mean of the intercept, original units (linear and hierarchical models).
    coef_samples_ : ndarray of shape (num_chains * num_samples, [n_series,] n_features_in_)
        Posterior draws of the coefficients, chain after chain.
    intercept_samples_ : ndarray of shape (num_chains * num_samples, [n_series])
        Posterior draws of the intercept (linear and hierarchical models).
    population_coef_, population_sd_ : ndarray of shape (n_features_in_,)
        Hierarchical model: posterior means of μ and τ, the population mean and spread of the
        coefficients, original units; ``population_coef_samples_`` and
        ``population_sd_samples_`` hold their draws.
    loss_ : ndarray of shape (svi_steps,)
        SVI only: the loss (negative ELBO) at every step.
    change_points_ : ndarray of int
        Dynamic model: the change points used (given or found).
    level_samples_ : ndarray of shape (n_path_draws, n_samples)
        Dynamic model: posterior draws of the level path ``a_t`` in units of y, for at most
        500 draws thinned evenly from every chain.
    level_mean_ : ndarray of shape (n_samples,)
        Dynamic model: posterior mean of the level path.
    tau_samples_ : ndarray of shape (num_chains * num_samples,)
        Dynamic model: posterior draws of τ in units of y.
    change_point_samples_ : ndarray of shape (n_path_draws, n_change_points)
        Dynamic model: posterior draws of each change point's step δ_i in units of y.
    noise_samples_ : dict of str to ndarray
        Posterior draws of the noise parameters in units of y: ``"sigma"``, or
        ``"sigma_base"`` and ``"sigma_scale"`` (hierarchical model: ``"sigma"`` of every
        series, shape (n_draws, n_series)).
    prior_scales_ : ndarray of shape (n_features_in_,)
        Prior scale of each coefficient by its column kind, before shrinkage: standard
        deviations of y per raw unit of the regressor. The prior actually used is
        ``Normal(0, prior_shrinkage_ * prior_scales_ * std(y))`` in original units.
    prior_shrinkage_ : float
        The shrinkage factor ``g`` used (see ``prior_shrinkage``).
    diagnostics_ : dict
        NUTS: ``r_hat_max``, ``ess_bulk_min``, ``ess_tail_min``, ``num_divergences``,
        ``mean_num_steps``, ``e_bfmi`` (ndarray of shape (num_chains,), each chain's energy
        Bayesian fraction of missing information), ``step_size`` (ndarray of shape
        (num_chains,), each chain's adapted step size), ``tree_depth_saturation`` (share of
        the draws whose tree depth reached ``max_tree_depth``) and ``table``, a dict of
        per-parameter lists (``parameter``, ``mean``, ``sd``, ``r_hat``, ``ess_bulk``,
        ``ess_tail``, ``mcse_mean``: the Monte Carlo standard error of the mean). A
        :class:`~sklearn.exceptions.ConvergenceWarning` names the diagnostics beyond the
        method's limits (R-hat above 1.01, bulk or tail ESS below 100 per chain,
        divergences, an E-BFMI below 0.3); a ``UserWarning`` tells of saturated trees.
        SVI: ``final_loss``, ``loss_drop_last_tenth`` and
        ``loss_rate_last_tenth`` (ELBO estimates with common random numbers) and ``table``
        (``parameter``, ``mean``, ``sd``).
    n_features_in_ : int
        Number of regressors.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Regressor names, when ``X`` has string column names.

    See Also
    --------
    sklearn.linear_model.BayesianRidge : Conjugate Bayesian ridge regression.
    Lambda3Features : The jump and tension features this model is made for.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lambda3 import Lambda3BayesRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = 1.5 * X[:, 0] - 2.0 * X[:, 1] + 0.5 + rng.normal(scale=0.1, size=200)
    >>> reg = Lambda3BayesRegressor(num_warmup=300, num_samples=300, num_chains=2,
    ...                             random_state=0).fit(X, y)
    >>> np.round(reg.coef_, 1)
    array([ 1.5, -2. ])
    >>> mean, std = reg.predict(X[:3], return_std=True)
    >>> bool(np.all((std > 0.09) & (std < 0.12)))
    True

    Several series sharing the regressors, the first observed on 30 steps only:

    >>> Y = np.column_stack([X @ [1.5 + 0.1 * s, -2.0] + rng.normal(size=200) for s in range(4)])
    >>> Y[30:, 0] = np.nan
    >>> pooled = Lambda3BayesRegressor("hierarchical", num_warmup=300, num_samples=300,
    ...                                num_chains=2, random_state=0).fit(X, Y)
    >>> pooled.coef_.shape, pooled.predict(X[:5]).shape
    ((4, 2), (5, 4))
    >>> fast = Lambda3BayesRegressor(inference="svi", random_state=0).fit(X, y)
    >>> np.round(fast.coef_, 1)
    array([ 1.5, -2. ])
    """

    _parameter_constraints: dict = {
        "model": [StrOptions({"linear", "dynamic", "hierarchical"})],
        "inference": [StrOptions({"nuts", "svi"})],
        "guide": [StrOptions({"normal", "lowrank"})],
        "svi_steps": [Interval(Integral, 1, None, closed="left")],
        "svi_learning_rate": [_POSITIVE],
        "population_prior_scale": [_POSITIVE],
        "prior_shrinkage": [StrOptions({"evidence"}), _POSITIVE],
        "change_points": [None, StrOptions({"auto"}), "array-like"],
        "level_prior_scale": [_POSITIVE],
        "change_point_prior_scale": [_POSITIVE],
        "noise": [StrOptions({"constant", "tension"})],
        "intercept_prior_scale": [_POSITIVE],
        "coef_prior_scale": [_POSITIVE],
        "jump_prior_scale": [_POSITIVE],
        "tension_prior_scale": [_POSITIVE],
        "noise_prior_scale": [_POSITIVE],
        "tension_feature": [str, None],
        "num_warmup": [Interval(Integral, 0, None, closed="left")],
        "num_samples": [Interval(Integral, 4, None, closed="left")],
        "num_chains": [Interval(Integral, 1, None, closed="left")],
        "target_accept_prob": [Interval(Real, 0, 1, closed="neither")],
        "max_tree_depth": [Interval(Integral, 1, 20, closed="both")],
        "device": [StrOptions({"cpu", "gpu", "auto"})],
        "random_state": ["random_state"],
        "progress_bar": ["boolean", StrOptions({"auto"})],
    }

    def __init__(
        self,
        model="linear",
        noise="constant",
        *,
        change_points=None,
        intercept_prior_scale=2.0,
        coef_prior_scale=1.0,
        jump_prior_scale=5.0,
        tension_prior_scale=3.0,
        noise_prior_scale=1.0,
        level_prior_scale=0.1,
        change_point_prior_scale=5.0,
        population_prior_scale=1.0,
        prior_shrinkage="evidence",
        tension_feature=None,
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
        self.model = model
        self.noise = noise
        self.change_points = change_points
        self.intercept_prior_scale = intercept_prior_scale
        self.coef_prior_scale = coef_prior_scale
        self.jump_prior_scale = jump_prior_scale
        self.tension_prior_scale = tension_prior_scale
        self.noise_prior_scale = noise_prior_scale
        self.level_prior_scale = level_prior_scale
        self.change_point_prior_scale = change_point_prior_scale
        self.population_prior_scale = population_prior_scale
        self.prior_shrinkage = prior_shrinkage
        self.tension_feature = tension_feature
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Sample the posterior of the model given regressors ``X`` and target ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Regressors, for example the output of :class:`Lambda3Features`; finite, at most
            ``1e150`` in absolute value.
        y : array-like of shape (n_samples,) or (n_samples, n_series)
            Target, real, at most ``1e150`` in absolute value, and finite for
            ``model="linear"`` (NaN is an error). ``model="dynamic"`` reads NaN as a step that
            is not observed (the level is carried through it by the Kalman filter; at least
            two observed steps). 2-D only for ``model="hierarchical"``, which also accepts NaN
            for steps where a series is not observed (each series needs two observed steps).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative finite weight of each row, ``model="linear"`` only: each row's
            log-likelihood is multiplied by its weight, so a weight of 2 is the row twice and
            0 leaves it out (the standardisation and the evidence shrinkage are weighted
            alike). None weighs every row 1.

        Returns
        -------
        self : Lambda3BayesRegressor
            The fitted regressor.
        """
        if sample_weight is not None and self.model != "linear":
            raise ValueError(f"sample_weight is supported by model='linear' only; got model={self.model!r}.")
        if self.model == "hierarchical":
            if self.noise != "constant":
                raise ValueError("model='hierarchical' supports noise='constant' only.")
            X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
            y = _hierarchical_target(y, X.shape[0])
        elif self.model == "dynamic":
            X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
            y = _dynamic_target(y, X.shape[0])
        else:
            values = None if y is None or scipy.sparse.issparse(y) else np.asarray(y)
            if values is not None and values.dtype.kind == "f" and np.isnan(values).any():
                raise ValueError(
                    "y holds NaN; model='linear' needs every target observed (model='dynamic' and "
                    "model='hierarchical' read NaN in y as a step that is not observed)."
                )
            X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True, ensure_min_samples=2)
            if y.dtype.kind not in "biuf":
                raise TypeError(f"y must hold real numbers; got dtype {y.dtype}.")
            y = y.astype(np.float64, copy=False)
            check_magnitude(y, "y", "Lambda3BayesRegressor")
        check_magnitude(X, "X", "Lambda3BayesRegressor")
        weight = None
        if sample_weight is not None:
            weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
            if not np.any(weight > 0):  # scikit-learn < 1.7 lets all-zero weights through
                raise ValueError("Sample weights must contain at least one non-zero number.")
        names = getattr(self, "feature_names_in_", None)
        self.prior_scales_ = column_prior_scales(
            names, X.shape[1], self.coef_prior_scale, self.jump_prior_scale, self.tension_prior_scale
        )
        tension_index = self._tension_index(names) if self.noise == "tension" else None

        if weight is None:
            self._x_mean = X.mean(axis=0)
            self._x_scale = _safe_scale(X.std(axis=0))
            self._y_mean = float(np.nanmean(y))
            self._y_scale = float(_safe_scale(np.atleast_1d(np.nanstd(y)))[0])
        else:  # the moments of the data with each row repeated by its weight
            self._x_mean = np.average(X, axis=0, weights=weight)
            self._x_scale = _safe_scale(np.sqrt(np.average((X - self._x_mean) ** 2, axis=0, weights=weight)))
            self._y_mean = float(np.average(y, weights=weight))
            y_sd = np.sqrt(np.average((y - self._y_mean) ** 2, weights=weight))
            self._y_scale = float(_safe_scale(np.atleast_1d(y_sd))[0])
        W = (X - self._x_mean) / self._x_scale
        ys = (y - self._y_mean) / self._y_scale
        # Priors are per raw unit of each regressor; in the standardised coordinate that is the
        # scale times the regressor's training spread (the floor keeps float32 squares normal).
        standardised_prior = np.maximum(self.prior_scales_ * self._x_scale, PRIOR_FLOOR)
        # The evidence needs a closed form (the linear model's, the dynamic model's Kalman
        # filter); the hierarchical model keeps g = 1.
        fixed = self.prior_shrinkage != "evidence" or self.model == "hierarchical"
        self.prior_shrinkage_ = float(1.0 if self.prior_shrinkage == "evidence" else self.prior_shrinkage)
        if fixed:
            standardised_prior = standardised_prior * self.prior_shrinkage_
        tension = None
        if tension_index is not None:
            self._tension_index = tension_index
            tension_mean = np.average(X[:, tension_index], weights=weight)
            self._tension_scale = float(_safe_scale(np.atleast_1d(tension_mean))[0])
            tension = X[:, tension_index] / self._tension_scale

        settings = {
            "num_warmup": int(self.num_warmup),
            "num_samples": int(self.num_samples),
            "num_chains": int(self.num_chains),
            "target_accept_prob": float(self.target_accept_prob),
            "max_tree_depth": int(self.max_tree_depth),
        }
        if self.model == "linear":
            Z = np.column_stack([np.ones(len(y)), W])
            prior = np.r_[self.intercept_prior_scale, standardised_prior]
            if not fixed:
                shrunk = np.r_[False, np.ones(X.shape[1], dtype=bool)]
                self.prior_shrinkage_ = evidence_shrinkage(Z, ys, prior, shrunk, sample_weight=weight)
                prior[1:] *= self.prior_shrinkage_
            data = _whitened_statistics(Z, ys, prior, weight)
            data["prior_scale"] = prior
            if tension is not None:
                data.update(_padded_rows(Z, ys, tension, weight))
        elif self.model == "hierarchical":
            self._single_output = y.ndim == 1
            Z = np.column_stack([np.ones(len(y)), W])
            data = _series_statistics(Z, ys.reshape(len(y), -1))
            data["prior_scale"] = np.r_[self.intercept_prior_scale, standardised_prior]
            data.update(_pooled_centre(data))
            data["pool_scale"] = np.full(Z.shape[1], float(self.population_prior_scale))
        else:
            self.change_points_ = self._resolve_change_points(y)
            change = np.zeros(len(y))
            change[self.change_points_] = 1.0
            data = {
                "y": ys,
                "design": np.ascontiguousarray(W),
                "prior_scale": standardised_prior,
                "change": change,
                "level0_var": float(self.intercept_prior_scale**2),
                "step_var": float(self.change_point_prior_scale**2),
                "tension": np.zeros(len(y)) if tension is None else tension,
                "level_scale": np.float64(self.level_prior_scale),
            }
            if not fixed:
                from ._sampling import KALMAN_INPUTS, dynamic_evidence_shrinkage

                inputs = tuple(data[name] for name in KALMAN_INPUTS)
                self.prior_shrinkage_ = dynamic_evidence_shrinkage(
                    inputs, self.level_prior_scale, self.noise_prior_scale
                )
                data["prior_scale"] = np.maximum(standardised_prior * self.prior_shrinkage_, PRIOR_FLOOR)
            settings["path_draws"] = _path_draws(int(self.num_chains), int(self.num_samples))
        data["noise_scale"] = np.float64(self.noise_prior_scale)

        from ._sampling import sample_posterior, show_progress

        if self.inference == "svi":
            settings["svi"] = {
                "guide": self.guide,
                "num_steps": int(self.svi_steps),
                "learning_rate": float(self.svi_learning_rate),
            }
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        progress = show_progress(self.progress_bar)
        draws = sample_posterior(data, self.model, self.noise, seed, self.device, settings, progress)
        self._summarise(draws, len(y))
        self._X_train, self._y_train = X, y
        return self

    def _resolve_change_points(self, y):
        """Change-point row indices: none, found by the detector, or the user's, checked."""
        n = len(y)
        if self.change_points is None:
            return np.zeros(0, dtype=np.int64)
        if isinstance(self.change_points, str):
            from ._changepoints import detect_change_points

            # On the observed steps only; a change found between two observed steps is put
            # at the row of the later one (the first step where the new level is seen).
            rows = np.flatnonzero(~np.isnan(y))
            found = np.asarray(detect_change_points(y[rows]), dtype=np.int64)
            return rows[found]
        points = np.asarray(self.change_points)
        if points.ndim != 1:
            raise ValueError(f"change_points must be a 1-D list of row indices; got shape {points.shape}.")
        if points.size and not (np.issubdtype(points.dtype, np.integer) and points.dtype != bool):
            raise TypeError(f"change_points must be integer row indices; got dtype {points.dtype}.")
        points = points.astype(np.int64)
        if np.any((points < 1) | (points > n - 1)):
            raise ValueError(
                f"change_points must lie in [1, {n - 1}] (rows of X after the first); got {points}."
            )
        if np.any(np.diff(points) == 0):
            raise ValueError(f"change_points has duplicates: {points}.")
        if np.any(np.diff(points) < 0):
            raise ValueError(f"change_points must be sorted in increasing order; got {points}.")
        return points

    def _tension_index(self, names):
        names = [] if names is None else list(names)
        if self.tension_feature is not None:
            if self.tension_feature not in names:
                raise ValueError(
                    f"tension_feature={self.tension_feature!r} is not a column of X; "
                    f"columns: {names or 'none named (pass a pandas DataFrame)'}."
                )
            return names.index(self.tension_feature)
        for i, name in enumerate(names):
            if name.endswith(TENSION_SUFFIX):
                return i
        raise ValueError(
            "noise='tension' needs a tension regressor: a column named '*__rho_T' (use a "
            "DataFrame or set_output(transform='pandas')) or tension_feature=<column name>."
        )

    def _summarise(self, draws, n_rows):
        from ._sampling import NOISE_FLOOR, NOISE_SITES

        if self.model == "linear":
            # float64 before adding back the means: float32 draws (the sampler's) would round an
            # intercept near an offset of 1e12 to the nearest 2**16.
            theta = draws["theta"].reshape(-1, draws["theta"].shape[-1]).astype(np.float64)
            coef = theta[:, 1:] * (self._y_scale / self._x_scale)
            self.intercept_samples_ = self._y_mean + self._y_scale * theta[:, 0] - coef @ self._x_mean
            self.intercept_ = float(self.intercept_samples_.mean())
        elif self.model == "hierarchical":
            coef = self._summarise_hierarchical(draws)
        else:
            beta = draws["beta"].astype(np.float64)
            coef = beta * (self._y_scale / self._x_scale)
            path_beta = beta[self._path_draws()]
            # Level in units of y: the standardised level plus what centring the regressors moved.
            shift = self._y_mean - (path_beta * self._x_mean / self._x_scale).sum(axis=1) * self._y_scale
            level = draws["level"][:, :n_rows].astype(np.float64)
            self.level_samples_ = level * self._y_scale + shift[:, None]
            self._level_last = (
                draws["level_last"].astype(np.float64) * self._y_scale
                + self._y_mean
                - (beta * self._x_mean / self._x_scale).sum(axis=1) * self._y_scale
            )
            self.level_mean_ = self.level_samples_.mean(axis=0)
            self.tau_samples_ = draws["tau"].reshape(-1).astype(np.float64) * self._y_scale
            self.change_point_samples_ = self._step_draws()
        self.coef_samples_ = coef
        self.coef_ = coef.mean(axis=0)

        noise = {}
        n_draws = int(self.num_chains) * int(self.num_samples)
        for site in NOISE_SITES[self.noise]:
            value = draws[site].reshape(n_draws, -1).astype(np.float64)
            if site != "sigma_scale":
                value = value + NOISE_FLOOR
            noise[site] = value * self._y_scale
            if self.model != "hierarchical" or self._single_output:
                noise[site] = noise[site][:, 0]
        self.noise_samples_ = noise
        if self.inference == "svi":
            self.loss_ = draws["loss"].astype(np.float64)
            self._loss_check = draws["loss_check"].astype(np.float64)
            self._sample_stats = None
        else:
            self._sample_stats = {
                "diverging": draws["diverging"],
                "num_steps": draws["num_steps"],
                "accept_prob": draws["accept_prob"],
                "potential_energy": draws["potential_energy"],
                "energy": draws["energy"],
                "step_size": draws["step_size"],
            }
        self.diagnostics_ = self._diagnose()

    def _summarise_hierarchical(self, draws):
        """Per-series and population coefficients of the hierarchical model, units of y."""
        k = self.n_features_in_
        theta = draws["theta"].reshape(-1, *draws["theta"].shape[-2:]).astype(np.float64)
        unit = self._y_scale / self._x_scale
        coef = theta[..., 1:] * unit
        intercept = self._y_mean + self._y_scale * theta[..., 0] - coef @ self._x_mean
        mu = draws["mu"].reshape(-1, k + 1).astype(np.float64)
        tau = draws["tau"].reshape(-1, k + 1).astype(np.float64)
        self.population_coef_samples_ = mu[:, 1:] * unit
        self.population_coef_ = self.population_coef_samples_.mean(axis=0)
        self.population_sd_samples_ = tau[:, 1:] * unit
        self.population_sd_ = self.population_sd_samples_.mean(axis=0)
        self._population_intercept = (
            self._y_mean + self._y_scale * mu[:, 0] - self.population_coef_samples_ @ self._x_mean
        )
        self._population_intercept_sd = tau[:, 0] * self._y_scale
        if self._single_output:
            coef, intercept = coef[:, 0], intercept[:, 0]
        self.intercept_samples_ = intercept
        self.intercept_ = intercept.mean(axis=0) if intercept.ndim == 2 else float(intercept.mean())
        return coef

    def _path_draws(self):
        return _path_draws(int(self.num_chains), int(self.num_samples))

    def _step_draws(self):
        """Draws of each change point's step δ_i, given the level path draws (units of y).

        A path's move at ``c`` is δ + η with η ~ N(0, τ²) and δ ~ N(0, s_δ²) a priori, so
        δ given the move is Normal with the usual Gaussian shrinkage; drawn with a fixed seed.
        """
        points = self.change_points_
        if points.size == 0:
            return np.zeros((self.level_samples_.shape[0], 0))
        move = self.level_samples_[:, points] - self.level_samples_[:, points - 1]
        tau2 = self.tau_samples_[self._path_draws()][:, None] ** 2
        step_var = (self.change_point_prior_scale * self._y_scale) ** 2
        weight = step_var / (step_var + tau2)
        rng = np.random.default_rng(0)
        return weight * move + np.sqrt(weight * tau2) * rng.standard_normal(move.shape)

    def _scalar_draws(self):
        """Names of every scalar parameter and their draws, (num_chains, num_samples, n_parameters)."""
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            names = [f"x{i}" for i in range(self.n_features_in_)]
        noise = self.noise_samples_
        if self.model == "hierarchical":
            coef = self.coef_samples_.reshape(len(self.coef_samples_), -1, self.n_features_in_)
            n_series = coef.shape[1]
            series = [""] if self._single_output else [f"[{s}]" for s in range(n_series)]
            labels = [f"coef{tag}[{name}]" for tag in series for name in names]
            labels += [f"intercept{tag}" for tag in series]
            labels += [f"population_coef[{name}]" for name in names]
            labels += [f"population_sd[{name}]" for name in names]
            labels += ["population_intercept", "population_intercept_sd"] + [f"sigma{tag}" for tag in series]
            columns = [
                coef.reshape(len(coef), -1),
                self.intercept_samples_.reshape(len(coef), -1),
                self.population_coef_samples_,
                self.population_sd_samples_,
                self._population_intercept[:, None],
                self._population_intercept_sd[:, None],
                noise["sigma"].reshape(len(coef), -1),
            ]
        else:
            middle = ["intercept"] if self.model == "linear" else ["tau"]
            labels = [f"coef[{name}]" for name in names] + middle + list(noise)
            middle_draws = self.intercept_samples_ if self.model == "linear" else self.tau_samples_
            columns = [self.coef_samples_, middle_draws[:, None]]
            columns += [value[:, None] for value in noise.values()]
        flat = np.column_stack(columns)
        return labels, flat.reshape(self.num_chains, -1, flat.shape[1])

    def _diagnose(self):
        labels, draws = self._scalar_draws()
        if self.inference == "svi":
            return self._diagnose_svi(labels, draws)
        columns = {"r_hat": split_rhat, "ess_bulk": ess_bulk, "ess_tail": ess_tail, "mcse_mean": mcse_mean}
        table = {"parameter": labels, "mean": [], "sd": [], **{name: [] for name in columns}}
        for j in range(draws.shape[2]):
            table["mean"].append(float(draws[:, :, j].mean()))
            table["sd"].append(float(draws[:, :, j].std()))
            for name, function in columns.items():
                table[name].append(function(draws[:, :, j]))
        stats = self._sample_stats
        depth = tree_depth(stats["num_steps"])
        diagnostics = {
            "r_hat_max": float(np.nanmax(table["r_hat"])),
            "ess_bulk_min": float(np.nanmin(table["ess_bulk"])),
            "ess_tail_min": float(np.nanmin(table["ess_tail"])),
            "num_divergences": int(stats["diverging"].sum()),
            "mean_num_steps": float(stats["num_steps"].mean()),
            "e_bfmi": e_bfmi(stats["energy"]),
            "step_size": np.asarray(stats["step_size"], dtype=np.float64)[:, -1],
            "tree_depth_saturation": float(np.mean(depth >= int(self.max_tree_depth))),
            "table": table,
        }
        ess_limit = ESS_PER_CHAIN_LIMIT * self.num_chains
        problems = []
        if diagnostics["r_hat_max"] > RHAT_LIMIT:
            problems.append(f"r_hat_max={diagnostics['r_hat_max']:.3f} > {RHAT_LIMIT}")
        for name in ("ess_bulk_min", "ess_tail_min"):
            if diagnostics[name] < ess_limit:
                limit = f"{ess_limit} ({ESS_PER_CHAIN_LIMIT} per chain)"
                problems.append(f"{name}={diagnostics[name]:.0f} < {limit}")
        if diagnostics["num_divergences"]:
            problems.append(f"num_divergences={diagnostics['num_divergences']}")
        low = np.flatnonzero(diagnostics["e_bfmi"] < E_BFMI_LIMIT)
        if low.size:
            values = ", ".join(f"{diagnostics['e_bfmi'][c]:.2f} (chain {c})" for c in low)
            problems.append(f"e_bfmi={values} < {E_BFMI_LIMIT}")
        if problems:
            warnings.warn(
                "NUTS did not converge: " + "; ".join(problems) + ". Increase num_warmup/num_samples, "
                "raise target_accept_prob, or check the regressors (see diagnostics_['table']).",
                ConvergenceWarning,
                stacklevel=3,
            )
        if diagnostics["tree_depth_saturation"] > 0:
            warnings.warn(
                f"{diagnostics['tree_depth_saturation']:.1%} of the NUTS draws hit max_tree_depth="
                f"{self.max_tree_depth}: the trajectories were cut short, which costs efficiency (the "
                "draws stay valid). Raise max_tree_depth, or rescale the regressors.",
                UserWarning,
                stacklevel=3,
            )
        return diagnostics

    def _diagnose_svi(self, labels, draws):
        """SVI: the loss at the end and how much it still fell over the last tenth of the steps."""
        before, after = self._loss_check
        drop = float(before - after)
        steps = len(self.loss_)
        tail = np.arange(steps - max(steps // 10, 1), steps)
        # Adam moves each coordinate by about the step size, so the loss falls by about the
        # gradient's L1 norm per unit of step size: near zero at the optimum, large while the
        # guide still crawls towards it (too small a learning rate shows up here, not in drop).
        rate = drop / float(np.sum(self.svi_learning_rate * 0.1 ** (tail / steps)))
        diagnostics = {
            "final_loss": float(after),
            "loss_drop_last_tenth": drop,
            "loss_rate_last_tenth": rate,
            "table": {
                "parameter": labels,
                "mean": [float(v) for v in draws.mean(axis=(0, 1))],
                "sd": [float(v) for v in draws.std(axis=(0, 1))],
            },
        }
        if drop > SVI_LOSS_TOLERANCE or (drop > SVI_LOSS_NOISE and rate > SVI_RATE_TOLERANCE):
            warnings.warn(
                f"SVI did not converge: the loss (negative ELBO) still fell by {drop:.3g} over the "
                f"last tenth of the {len(self.loss_)} steps. Increase svi_steps or "
                "svi_learning_rate (see loss_).",
                ConvergenceWarning,
                stacklevel=3,
            )
        return diagnostics

    # -------------------------------------------------------------- predict
    def _validated(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        check_magnitude(X, "X", "Lambda3BayesRegressor")
        return X

    def _in_sample(self, X):
        """Whether ``X`` is the training data (the dynamic model's in-sample convention)."""
        return X.shape == self._X_train.shape and np.array_equal(X, self._X_train)

    def _noise_sd(self, X, draws):
        """Noise std of each row (axis 0) under the posterior draws ``draws`` (axis 1)."""
        noise = self.noise_samples_
        if self.noise == "constant":
            return np.broadcast_to(noise["sigma"][draws], (X.shape[0], len(draws)))
        tension = X[:, self._tension_index] / self._tension_scale
        return noise["sigma_base"][draws] + np.outer(tension, noise["sigma_scale"][draws])

    def _draw_set(self, X):
        """Posterior draws behind predictions for ``X``: all, or the level-path draws in-sample."""
        if self.model == "dynamic" and self._in_sample(X):
            return self._path_draws()
        return np.arange(len(self.coef_samples_))

    def _draw_moments(self, X, draws, rows=slice(None), in_sample=None):
        """Mean and std of the predictive Normal of every row (axis 0) and draw (axis 1).

        Linear model: ``X β_d + β0_d`` and the noise. Dynamic model in-sample: the draw's
        level path plus ``X β_d``, with the noise; out of sample the rows are the steps after
        the training rows, so the level is the last one plus a random walk of ``h`` steps.
        ``rows`` restricts the work to a block of ``X``'s rows, which keep their time index;
        ``in_sample`` is :meth:`_in_sample` of ``X`` when the caller already knows it.
        """
        block = X[rows]
        if self.model == "hierarchical":
            # (rows, series, draws), or (rows, draws) for a 1-D y.
            mean = np.einsum("nk,d...k->n...d", block, self.coef_samples_[draws])
            mean += self.intercept_samples_[draws].T
            sd = np.broadcast_to(self.noise_samples_["sigma"][draws].T, mean.shape)
            return mean, sd
        mean = block @ self.coef_samples_[draws].T
        sd = self._noise_sd(block, draws)
        if self.model == "linear":
            return mean + self.intercept_samples_[draws], sd
        if self._in_sample(X) if in_sample is None else in_sample:
            path_rows = np.searchsorted(self._path_draws(), draws)
            return mean + self.level_samples_[:, rows][path_rows].T, sd
        horizon = np.arange(1, X.shape[0] + 1)[rows, None]
        return mean + self._level_last[draws], np.sqrt(sd**2 + horizon * self.tau_samples_[draws] ** 2)

    def predict(self, X, return_std=False):
        """Posterior predictive mean (and standard deviation) of the target.

        For ``model="dynamic"``, rows of ``X`` are time steps: passing the training rows
        gives the in-sample fit (level path plus feature terms); any other ``X`` is taken as
        the steps that directly follow the training rows and is forecast (see
        :meth:`forecast`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Regressors.
        return_std : bool, default=False
            Also return the posterior predictive standard deviation, which includes the
            coefficient (and level) uncertainty and the noise. For the linear model and
            for forecasts it costs O(n_samples · n_features²) time and about
            ``(n_features + 4) · 8`` bytes of temporary memory per row, whatever the number
            of posterior draws: no (rows × draws) matrix is formed (10⁶ rows × 8 features
            with 4000 draws: under 100 MB above the input, well under a second; see
            ``benchmarks/bench_memory.py``). The dynamic model's in-sample fit works through
            the draws a block of rows at a time (blocks of at most 2²² rows × draws values).

        Returns
        -------
        y_mean : ndarray of shape (n_samples,) or (n_samples, n_series)
            Predictive mean.
        y_std : ndarray of shape (n_samples,) or (n_samples, n_series)
            Predictive standard deviation; only if ``return_std``.
        """
        X = self._validated(X)
        if self.model == "dynamic" and self._in_sample(X):
            return self._moments_by_blocks(X, return_std)
        return self._plug_in_moments(X, return_std)

    def _plug_in_moments(self, X, return_std):
        """Mean and std for the linear model and for forecasts, from posterior moments."""
        if self.model == "hierarchical":
            return self._series_moments(X, return_std)
        if self.model == "linear":
            offset, offset_samples = self.intercept_, self.intercept_samples_
        else:
            offset, offset_samples = self._level_last.mean(), self._level_last
        mean = X @ self.coef_ + offset
        if not return_std:
            return mean
        var_mean = _mean_variance(X, self.coef_samples_, offset_samples)
        return mean, np.sqrt(var_mean + self._noise_variance(X))

    def _series_moments(self, X, return_std):
        """Hierarchical model: every series' predictive mean and std from posterior moments."""
        mean = X @ self.coef_.T + self.intercept_
        if not return_std:
            return mean
        coef = self.coef_samples_.reshape(len(self.coef_samples_), -1, self.n_features_in_)
        intercept = self.intercept_samples_.reshape(len(coef), -1)
        sigma = self.noise_samples_["sigma"].reshape(len(coef), -1)
        std = np.empty((X.shape[0], coef.shape[1]))
        for s in range(coef.shape[1]):
            std[:, s] = np.sqrt(_mean_variance(X, coef[:, s], intercept[:, s]) + np.mean(sigma[:, s] ** 2))
        return mean, std.reshape(mean.shape)

    def forecast(self, X_future, return_std=False):
        """Forecast the steps that follow the training rows (``model="dynamic"``).

        Row ``h`` of ``X_future`` (``h = 1, 2, …``) is the ``h``-th step after the last
        training row. The level continues as a random walk from its last posterior value,
        so the predictive variance grows by τ² per step.

        Parameters
        ----------
        X_future : array-like of shape (n_steps, n_features)
            Regressors of the coming steps, in time order.
        return_std : bool, default=False
            Also return the predictive standard deviation.

        Returns
        -------
        y_mean : ndarray of shape (n_steps,)
            Forecast mean.
        y_std : ndarray of shape (n_steps,)
            Forecast standard deviation; only if ``return_std``.
        """
        if self.model != "dynamic":
            raise ValueError("forecast needs model='dynamic'; the linear model's predict has no time axis.")
        return self._plug_in_moments(self._validated(X_future), return_std)

    def _noise_variance(self, X):
        """Posterior mean of the noise variance of each row (plus the random walk for forecasts)."""
        noise = self.noise_samples_
        if self.noise == "constant":
            variance = np.full(X.shape[0], np.mean(noise["sigma"] ** 2))
        else:
            tension = X[:, self._tension_index] / self._tension_scale
            base, scale = noise["sigma_base"], noise["sigma_scale"]
            variance = np.mean(base**2) + 2 * np.mean(base * scale) * tension + np.mean(scale**2) * tension**2
        if self.model == "dynamic":
            variance = variance + np.arange(1, X.shape[0] + 1) * np.mean(self.tau_samples_**2)
        return variance

    def _moments_by_blocks(self, X, return_std):
        """Mixture mean and std over the draws' predictive Normals, a block of rows at a time."""
        draws = self._draw_set(X)
        in_sample = self._in_sample(X)
        mean = np.empty(X.shape[0])
        std = np.empty(X.shape[0])
        block = max(1, 2**22 // len(draws))
        for start in range(0, X.shape[0], block):
            rows = slice(start, start + block)
            draw_mean, draw_sd = self._draw_moments(X, draws, rows, in_sample)
            mean[rows] = draw_mean.mean(axis=1)
            std[rows] = np.sqrt(draw_mean.var(axis=1) + (draw_sd**2).mean(axis=1))
        return (mean, std) if return_std else mean

    def predict_interval(self, X, coverage=0.9):
        """Central posterior predictive interval of the target.

        The bounds are quantiles of posterior predictive draws (every posterior draw at
        least once, 4000 draws or more per row, noise included), computed a block of rows
        at a time with a fixed seed, so the result is reproducible. For the dynamic model
        the same in-sample / forecast convention as :meth:`predict` applies.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Regressors.
        coverage : float, default=0.9
            Probability mass inside the interval, in (0, 1).

        Returns
        -------
        interval : ndarray of shape (n_samples, 2) or (n_samples, n_series, 2)
            Lower and upper bounds.
        """
        if not isinstance(coverage, Real) or not 0 < coverage < 1:
            raise ValueError(f"coverage must be a float in (0, 1); got {coverage!r}.")
        X = self._validated(X)
        rng = np.random.default_rng(0)
        available = self._draw_set(X)
        # At least PREDICTIVE_DRAWS predictive draws per row, cycling over the posterior draws.
        draws = available[np.arange(max(len(available), PREDICTIVE_DRAWS)) % len(available)]
        quantiles = [(1 - coverage) / 2, (1 + coverage) / 2]
        block = max(1, 2**22 // len(draws))
        in_sample = self._in_sample(X)
        out = np.empty((X.shape[0], *self._output_shape(), 2))
        block = max(1, block // max(1, np.prod(self._output_shape(), dtype=int)))
        for start in range(0, X.shape[0], block):
            rows = slice(start, start + block)
            mean, sd = self._draw_moments(X, draws, rows, in_sample)
            sample = mean + sd * rng.standard_normal(mean.shape)
            out[rows] = np.moveaxis(np.quantile(sample, quantiles, axis=-1), 0, -1)
        return out

    def _output_shape(self):
        """Shape of one row's prediction: () for one series, (n_series,) for a 2-D y."""
        if self.model == "hierarchical" and not self._single_output:
            return (self.coef_.shape[0],)
        return ()

    def sample_y(self, X, n_samples=1, random_state=None):
        """Draw targets from the posterior predictive distribution.

        Each draw takes one posterior draw of the parameters at random and adds noise, as
        :meth:`sklearn.gaussian_process.GaussianProcessRegressor.sample_y` does. For the
        dynamic model the same in-sample / forecast convention as :meth:`predict` applies.

        Parameters
        ----------
        X : array-like of shape (n_samples_X, n_features)
            Regressors.
        n_samples : int, default=1
            Number of draws per row.
        random_state : int, RandomState instance or None, default=None
            Seed of the draws.

        Returns
        -------
        y_samples : ndarray of shape (n_samples_X, n_samples) or (n_samples_X, n_series, n_samples)
            The draws.
        """
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}.")
        X = self._validated(X)
        rng = np.random.default_rng(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        available = self._draw_set(X)
        draws = available[rng.integers(0, len(available), size=n_samples)]
        mean, sd = self._draw_moments(X, draws)
        return mean + sd * rng.standard_normal(mean.shape)

    def pointwise_log_likelihood(self, X, y):
        """Log-likelihood of every row under every posterior draw.

        For the dynamic model ``X`` must be the training rows, and the likelihood is the
        observation density given each draw's level path (the draws with a stored path), on
        the observed (non-NaN) steps of ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Regressors.
        y : array-like of shape (n_samples,) or (n_samples, n_series)
            Target; for the hierarchical model (n_samples, n_series) with NaN where a series
            is not observed, and the observations are its non-NaN entries, row by row.

        Returns
        -------
        log_lik : ndarray of shape (num_chains, n_draws_per_chain, n_observations)
            Chain by chain, as ArviZ expects.
        """
        X = self._validated(X)
        if self.model == "hierarchical":
            y = _hierarchical_target(y, X.shape[0])
            if y.shape[1:] != self._output_shape():
                fitted = self._output_shape()[0] if self._output_shape() else "one (1-D y)"
                raise ValueError(f"y has shape {y.shape}; the model was fitted on {fitted} series.")
        else:
            y = np.asarray(y, dtype=np.float64).reshape(-1)
        if len(y) != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {len(y)}.")
        if self.model == "dynamic" and not self._in_sample(X):
            raise ValueError("the dynamic model's pointwise log-likelihood needs the training rows as X.")
        draws = self._draw_set(X)
        mean, sd = self._draw_moments(X, draws)
        observed = ~np.isnan(y)
        residual = (y[observed][:, None] - mean[observed]) / sd[observed]
        log_lik = -0.5 * residual**2 - np.log(sd[observed]) - 0.5 * np.log(2 * np.pi)
        return log_lik.T.reshape(self.num_chains, -1, observed.sum())

    def to_inference_data(self):
        """The posterior in ArviZ's container (needs the ``[arviz]`` extra).

        The groups and names are those ``arviz.from_numpyro`` gives.

        Returns
        -------
        idata : arviz.InferenceData or xarray.DataTree
            An ``InferenceData`` under ArviZ 0.x, a ``DataTree`` under ArviZ 1.x, with groups
            ``posterior`` (coef, intercept, noise; the dynamic model's tau, level, step),
            ``sample_stats`` (NUTS only: diverging, acceptance_rate, lp, n_steps, and for fits
            that recorded them energy, step_size and tree_depth), ``log_likelihood`` (y, on
            the training rows) and ``observed_data`` (y; for the dynamic model its observed,
            non-NaN steps, those of ``log_likelihood``).
        """
        check_is_fitted(self)
        arviz = _arviz.import_arviz("to_inference_data")
        chains = self.num_chains
        names = getattr(self, "feature_names_in_", None)
        names = [f"x{i}" for i in range(self.n_features_in_)] if names is None else list(names)
        draws = self._draw_set(self._X_train)
        coef = self.coef_samples_[draws]
        posterior = {"coef": coef.reshape(chains, -1, *coef.shape[1:])}
        dims = {"coef": ["feature"], "level": ["time"], "step": ["change_point"]}
        if self.model == "linear":
            posterior["intercept"] = self.intercept_samples_.reshape(chains, -1)
        elif self.model == "hierarchical":
            posterior["intercept"] = self.intercept_samples_.reshape(chains, -1, *self._output_shape())
            k = self.n_features_in_
            posterior["population_coef"] = self.population_coef_samples_.reshape(chains, -1, k)
            posterior["population_sd"] = self.population_sd_samples_.reshape(chains, -1, k)
            if not self._single_output:
                dims = {"coef": ["series", "feature"], "intercept": ["series"], "sigma": ["series"]}
            dims.update(population_coef=["feature"], population_sd=["feature"])
        else:
            posterior["tau"] = self.tau_samples_[draws].reshape(chains, -1)
            posterior["level"] = self.level_samples_.reshape(chains, -1, self.level_samples_.shape[1])
            posterior["step"] = self.change_point_samples_.reshape(chains, -1, len(self.change_points_))
        for site, values in self.noise_samples_.items():
            posterior[site] = values[draws].reshape(chains, -1, *values.shape[1:])
        sample_stats = None
        if self._sample_stats is not None:
            stats = {
                key: value.reshape(-1)[draws].reshape(chains, -1) for key, value in self._sample_stats.items()
            }
            sample_stats = {
                "diverging": stats["diverging"],
                "acceptance_rate": stats["accept_prob"],
                "lp": -stats["potential_energy"],
                "n_steps": stats["num_steps"],
                # As arviz.from_numpyro derives it from the number of leapfrog steps.
                "tree_depth": np.log2(stats["num_steps"]).astype(int) + 1,
            }
            for name in ("energy", "step_size"):  # absent from models saved before they were recorded
                if name in stats:
                    sample_stats[name] = stats[name]
        observed_y = self._y_train
        if self.model == "dynamic":
            observed_y = observed_y[~np.isnan(observed_y)]
        groups = {
            "posterior": posterior,
            "sample_stats": sample_stats,
            "log_likelihood": {"y": self.pointwise_log_likelihood(self._X_train, self._y_train)},
            # The dynamic model's observations are its observed steps, as in log_likelihood.
            "observed_data": {"y": observed_y},
        }
        return _arviz.from_groups(arviz, groups, coords={"feature": names}, dims=dims)


def _mean_variance(X, coef_draws, offset_draws):
    """Posterior variance of ``X β + b`` for every row, from the draws' covariance of (β, b).

    O(n k²) time and O(n k) memory: no (rows × draws) matrix is formed.
    """
    covariance = np.atleast_2d(np.cov(np.column_stack([coef_draws, offset_draws]), rowvar=False))
    k = X.shape[1]
    cov_xx, cov_xb, var_b = covariance[:k, :k], covariance[:k, k], covariance[k, k]
    return np.maximum(np.einsum("ij,ij->i", X @ cov_xx, X) + 2 * X @ cov_xb + var_b, 0)


def _safe_scale(scale):
    """Standard deviations with zeros (constant columns) replaced by one."""
    scale = np.asarray(scale, dtype=np.float64).copy()
    scale[~(scale > 0)] = 1.0
    return scale


def _whitened_statistics(Z, y, prior_scale, weight=None):
    """Sufficient statistics of the linear model in the whitened coordinate.

    With ``G = ZᵀWZ = RᵀR`` and ``θ_ols`` a weighted least-squares solution,
    ``(y - Zθ)ᵀW(y - Zθ) = RSS_ols + |R(θ - θ_ols)|²`` (``W`` the diagonal of the sample
    weights, the identity when ``weight`` is None; ``n`` is their sum). ``R`` is the symmetric
    square root of ``G``, a function of ``G`` alone (not of its eigenvectors' signs), so data
    that give the same ``G`` give the same statistics. ``θ = center + whiten @ u`` where
    ``whiten`` is the inverse transposed Cholesky factor of the approximate posterior
    precision ``G / σ̂² + diag(1 / prior_scale²)`` and ``center`` its ridge mean.
    Everything is in float64 here; the sampler then works in float32 on O(1) quantities.
    """
    if weight is None:
        n = len(y)
    else:  # √w scales each row: every sum of squares below is then weighted
        root_weight = np.sqrt(weight)
        Z, y, n = Z * root_weight[:, None], y * root_weight, float(np.sum(weight))
    gram = Z.T @ Z
    moment = Z.T @ y
    eigval, eigvec = np.linalg.eigh(gram)
    tol = eigval.max() * len(eigval) * np.finfo(np.float64).eps
    inv_eig = np.where(eigval > tol, 1.0 / np.where(eigval > tol, eigval, 1.0), 0.0)
    theta_ols = eigvec @ (inv_eig * (eigvec.T @ moment))
    root = (eigvec * np.sqrt(np.where(eigval > tol, eigval, 0.0))) @ eigvec.T
    rss_ols = float(np.sum((y - Z @ theta_ols) ** 2))
    sigma2 = max(rss_ols / max(n - Z.shape[1], 1), 1e-8)
    precision = gram / sigma2 + np.diag(1.0 / prior_scale**2)
    cholesky = np.linalg.cholesky(precision)
    center = np.linalg.solve(precision, moment / sigma2)
    whiten = np.linalg.inv(cholesky).T
    # Reference noise level of the likelihood (see _sampling.constant_noise_model).
    sigma_hat2 = max(rss_ols / n, NOISE_FLOOR_VARIANCE)
    return {
        "center": center,
        "whiten": whiten,
        "root_whiten": root @ whiten,
        "offset": root @ (center - theta_ols),
        "n": np.float64(n),
        "log_sigma_hat": np.float64(0.5 * np.log(sigma_hat2)),
        "log_sigma_sd": np.float64(1.0 / np.sqrt(2.0 * n)),
        "half_inv_sigma_hat2": np.float64(0.5 / sigma_hat2),
        "rss_excess": np.float64((rss_ols - n * sigma_hat2) / (2.0 * sigma_hat2)),
    }


def _hierarchical_target(y, n_rows):
    """``y`` of the hierarchical model as a float (n_rows, n_series) or (n_rows,) array.

    NaN marks a step where a series is not observed; infinities and series with fewer than
    two observed steps are errors.
    """
    reject_sparse_and_complex(y, "y")
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"y must hold real numbers (NaN for missing steps); got dtype {y.dtype}.")
    y = y.astype(np.float64)
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be 1-D or 2-D (n_samples, n_series); got shape {y.shape}.")
    if y.shape[0] != n_rows:
        raise ValueError(f"X has {n_rows} rows but y has {y.shape[0]}.")
    if np.isinf(y).any():
        raise ValueError("y holds infinite values; mark missing steps with NaN.")
    observed = (~np.isnan(y)).reshape(n_rows, -1).sum(axis=0)
    if np.any(observed < 2):
        raise ValueError(
            f"every series of y needs at least 2 observed (non-NaN) steps; series "
            f"{np.flatnonzero(observed < 2).tolist()} have fewer."
        )
    check_magnitude(y[~np.isnan(y)], "y", "Lambda3BayesRegressor")
    return y


def _dynamic_target(y, n_rows):
    """``y`` of the dynamic model as a float (n_rows,) array, NaN where a step is not observed.

    Infinities and fewer than two observed steps are errors.
    """
    if y is None:
        raise ValueError("Lambda3BayesRegressor requires y to be passed, but the target y is None.")
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
    if y.shape[0] != n_rows:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: [{n_rows}, {len(y)}].")
    if np.isinf(y).any():
        raise ValueError("y holds infinity; mark missing steps with NaN.")
    observed = ~np.isnan(y)
    if observed.sum() < 2:
        raise ValueError(f"y needs at least 2 observed (non-NaN) steps; got {int(observed.sum())}.")
    check_magnitude(y[observed], "y", "Lambda3BayesRegressor")
    return y


def _series_statistics(Z, y):
    """Per-series sufficient statistics of the hierarchical model (standardised units).

    For series ``s`` (rows where ``y[:, s]`` is observed): ``G_s = Z_sᵀZ_s``, a least-squares
    solution ``θ̂_s``, ``RSS_s`` and the reference noise level ``σ̂_s`` of the relative
    likelihood (see :func:`sklearn_lambda3._sampling.hierarchical_model`).
    """
    n_series, k = y.shape[1], Z.shape[1]
    gram = np.empty((n_series, k, k))
    theta_hat = np.empty((n_series, k))
    rss = np.empty(n_series)
    n = np.empty(n_series)
    for s in range(n_series):
        rows = ~np.isnan(y[:, s])
        Zs, ys = Z[rows], y[rows, s]
        gram[s] = Zs.T @ Zs
        theta_hat[s] = np.linalg.lstsq(Zs, ys, rcond=None)[0]
        rss[s] = np.sum((ys - Zs @ theta_hat[s]) ** 2)
        n[s] = rows.sum()
    # A series with no more steps than coefficients fits exactly: its reference noise is the
    # standardised scale, not the zero residual.
    determined = n > k
    sigma_hat2 = np.where(determined, np.maximum(rss / np.maximum(n, 1), NOISE_FLOOR_VARIANCE), 1.0)
    return {
        "gram": gram,
        "theta_hat": theta_hat,
        "n": n,
        "log_sigma_hat": 0.5 * np.log(sigma_hat2),
        "log_sigma_sd": 1.0 / np.sqrt(2.0 * np.maximum(n - k, 1)),
        "half_inv_sigma_hat2": 0.5 / sigma_hat2,
        "rss_excess": (rss - n * sigma_hat2) / (2.0 * sigma_hat2),
    }


def _pooled_centre(data):
    """Centre and variance of the population mean μ at τ = 0 (precision-weighted θ̂_s).

    Used only to scale the sampler's coordinate for μ; each coefficient is treated on its own
    (diagonal of G_s), and the variance is capped at the prior's.
    """
    sigma_hat2 = np.exp(2.0 * data["log_sigma_hat"])[:, None]
    precision = np.diagonal(data["gram"], axis1=1, axis2=2) / sigma_hat2
    total = precision.sum(axis=0)
    informed = total > 0
    weighted = (precision * data["theta_hat"]).sum(axis=0)
    centre = np.where(informed, weighted / np.where(informed, total, 1), 0.0)
    variance = np.where(informed, 1.0 / np.where(informed, total, 1), np.inf)
    return {"mu_center": centre, "mu_var": np.minimum(variance, data["prior_scale"] ** 2)}


def _path_draws(num_chains, num_samples):
    """Draws that keep a level path: evenly thinned in every chain, at most LEVEL_PATHS in all."""
    per_chain = max(1, LEVEL_PATHS // num_chains)
    step = max(1, -(-num_samples // per_chain))
    within = np.arange(0, num_samples, step)
    return (np.arange(num_chains)[:, None] * num_samples + within).reshape(-1)


def _padded_rows(Z, y, tension, weight=None):
    """Rows padded to a power-of-two bucket (at least 64), with a mask of the real ones.

    Padding keeps the compiled sampler's shapes the same across folds of similar size. The
    mask multiplies each row's log-likelihood: 1, or the row's sample weight, and 0 for padding.
    """
    n = len(y)
    size = max(64, 1 << int(np.ceil(np.log2(n))))
    design = np.zeros((size, Z.shape[1]))
    design[:n] = Z
    pad = np.zeros(size)
    return {
        "design": design,
        "y": np.r_[y, pad[n:]],
        "tension": np.r_[tension, pad[n:]],
        "mask": np.r_[np.ones(n) if weight is None else weight, pad[n:]],
    }
