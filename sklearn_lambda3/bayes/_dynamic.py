"""The dynamic Lambda³ model (drifting level, change points, forecasts) and its estimator,
:class:`Lambda3DynamicRegressor`, with its explicit time contract."""

import warnings
from dataclasses import dataclass
from numbers import Real

import numpy as np
from sklearn.base import _fit_context, clone
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .._time_index import calendar_periods, pandas_index
from .._validation import (
    check_change_points,
    check_coverage,
    check_dynamic_target,
    check_forecast_steps,
    check_regressors,
    check_seasonality,
)
from ._base import POSITIVE, PRIOR_FLOOR, BaseBayesRegressor, mean_variance
from ._docs import substitute_docs
from ._kalman import (
    FILTERS,
    KALMAN_INPUTS,
    choose_filter,
    conditional_posterior,
    dynamic_evidence_shrinkage,
    dynamic_reference,
    laplace_log_evidence,
)
from ._noise import TensionNoiseMixin
from ._structural import find_seasonality, seasonal_columns, seasonal_cycle, seasonal_labels
from ._time import clock_labels, row_time_steps, training_clock

# Largest number of posterior draws whose level path the model keeps.
LEVEL_PATHS = 500


def path_draws(num_chains, num_samples):
    """Draws that keep a level path: evenly thinned in every chain, at most LEVEL_PATHS in all."""
    per_chain = max(1, LEVEL_PATHS // num_chains)
    step = max(1, -(-num_samples // per_chain))
    within = np.arange(0, num_samples, step)
    return (np.arange(num_chains)[:, None] * num_samples + within).reshape(-1)


@dataclass(frozen=True)
class DynamicModel:
    """The dynamic model's sampled part: τ and the noise, with the rest integrated out.

    ``kalman`` names the filter in :data:`~sklearn_lambda3.bayes._kalman.FILTERS` that
    integrates the level, the steps and the coefficients out while NUTS samples: ``"numba"``,
    the Numba kernel on the CPU as an XLA FFI call (the program does not depend on the series,
    so any length reuses it; each chain runs as its own program), or ``"jax"``, the JAX filter
    inside the program (any device, in float64; lengths in one bucket share a program). The
    name, not the filter, is the field: the model stays a small hashable value.
    """

    noise: str = "constant"
    kalman: str = "numba"

    @property
    def kalman_filter(self):
        return FILTERS[self.kalman]

    @property
    def float64(self):
        return self.kalman_filter.float64

    @property
    def independent_chains(self):
        return self.kalman_filter.independent_chains

    @property
    def reported_sites(self):
        return ("tau", "sigma") if self.noise == "constant" else ("tau", "sigma_base", "sigma_scale")

    def program(self, data):
        """Dynamic Lambda³ model: random-walk level, change-point steps, feature terms, noise.

        The level path, the steps and the coefficients are integrated out exactly by a Kalman
        filter; NUTS samples only τ and the noise. They are sampled in a whitened, folded
        coordinate ``v``: ``σ = |c_σ + s_σ v_σ|`` and ``τ = |c_τ + b (σ - c_σ) + s_τ v_τ|``, with
        the centre ``c``, the spreads ``s`` and the slope ``b`` of τ on σ from a Laplace
        approximation of their posterior (:func:`~sklearn_lambda3.bayes._kalman.dynamic_reference`),
        so ``v`` is O(1) and nearly isotropic whatever the series. The map has a constant
        Jacobian, so the priors on τ and σ are kept exactly, and either sign of a folded
        coordinate gives the same τ and σ.

        Why not log τ and log σ: when a random walk can explain the data, σ's posterior has a
        shoulder reaching down to σ = 0 (and τ's likewise when the level barely moves). In log σ
        that shoulder is a tail without end (density ∝ σ), where chains stuck for hundreds of
        draws (R-hat 1.02, bulk ESS under 400 on the method's scenario of spec §3 with 2 × 500
        draws); folded, it is a short plateau between the mode and its mirror image. τ is
        regressed on σ itself, not on σ's signed coordinate, so the mirror image is exact.

        Tension noise is sampled as its level ``σ_base + σ_scale`` (the σ above) and the share
        ``σ_scale / (σ_base + σ_scale)``, with the method's priors on σ_base and σ_scale kept
        exactly (the Jacobian of that change of variables is the level): the data fix the
        level, whatever the share, so the two are nearly independent where σ_base and σ_scale
        trade off against each other.
        """
        import jax.numpy as jnp
        import numpyro
        import numpyro.distributions as dist
        from numpyro.distributions import constraints

        v = numpyro.sample("v", dist.ImproperUniform(constraints.real_vector, (), event_shape=(2,)))
        center, spread = data["center"], data["spread"]
        level = jnp.abs(center[1] + spread[1] * v[1])
        # τ given σ follows the ridge τ² + κσ² ≈ const: regressed on σ² (the bend), scaled to
        # the Laplace slope at the mode. A function of σ, not of its signed coordinate, so the
        # posterior of v is exactly symmetric about the fold σ = 0.
        bend = (level**2 - center[1] ** 2) * data["bend_scale"]
        shift = data["slope"] * bend
        # Far out along σ the ridge would take τ's centre across the fold at τ = 0, where a level
        # that cannot move (and a noise near 0) makes a wall in v that leapfrog steps overshoot
        # into (divergences on hourly temperatures with a season): a shift towards 0 saturates
        # at half the centre. Smooth at 0, and a function of σ alone, so the map's Jacobian
        # stays constant.
        floor = 0.5 * center[0]
        shift = jnp.where(shift < 0, floor * jnp.tanh(shift / floor), shift)
        tau = numpyro.deterministic("tau", jnp.abs(center[0] + shift + spread[0] * v[0]))
        prior = dist.HalfNormal(data["level_scale"]).log_prob(tau)
        if self.noise == "constant":
            sigma_base = numpyro.deterministic("sigma", level)
            sigma_scale = jnp.zeros_like(sigma_base)
            prior = prior + dist.HalfNormal(data["noise_scale"]).log_prob(sigma_base)
        else:
            # Folded: the share is |g| with g in (-1, 1), so a share near 0 is the middle of g's
            # range (a symmetric, NUTS-friendly posterior) rather than an exponential tail.
            signed = dist.ImproperUniform(constraints.interval(-1.0, 1.0), (), ())
            share = jnp.abs(numpyro.sample("noise_share", signed))
            sigma_base = numpyro.deterministic("sigma_base", level * (1.0 - share))
            sigma_scale = numpyro.deterministic("sigma_scale", level * share)
            prior = prior + (
                dist.HalfNormal(data["noise_scale"]).log_prob(sigma_base)
                + dist.HalfNormal(0.5 * data["noise_scale"]).log_prob(sigma_scale)
                + jnp.log(level)
            )
        numpyro.factor("scale_prior", prior)
        params = jnp.stack([tau, sigma_base, sigma_scale], axis=-1)
        numpyro.factor("loglik", self.kalman_filter.log_likelihood(params, data))

    def latent_shapes(self, data):
        return {"v": (2,)} if self.noise == "constant" else {"v": (2,), "noise_share": ()}

    def initial_values(self, data):
        import jax.numpy as jnp

        values = {"v": jnp.zeros(2)}
        if self.noise == "tension":
            values["noise_share"] = jnp.zeros(())
        return values

    def dense_mass(self, dimension):
        # Two or three correlated scale parameters: a dense mass matrix follows them.
        return True

    def prepare(self, data):
        """Centre the sampling coordinate on the series, and hand the series to the filter."""
        inputs = tuple(data[name] for name in KALMAN_INPUTS)
        program_data = {
            key: value for key, value in data.items() if key not in (*KALMAN_INPUTS, "path_draws")
        }
        program_data.update(dynamic_reference(inputs, data["level_scale"], data["noise_scale"]))
        filter_data, token = self.kalman_filter.prepare(inputs)
        program_data.update(filter_data)
        return program_data, token

    def complete(self, draws, data, token, seed):
        """The coefficients and last level of every draw, the level paths of ``path_draws``."""
        inputs = tuple(data[name] for name in KALMAN_INPUTS)
        return {**draws, **conditional_posterior(inputs, draws, self.noise, data["path_draws"], seed)}

    def release(self, token):
        self.kalman_filter.release(token)


def _without_empty_frame(X):
    """A DataFrame without columns (a level fitted to y alone) as a (n, 0) array: pandas gives
    scikit-learn's validation no dtype to convert it with."""
    if hasattr(X, "columns") and hasattr(X, "iloc") and len(X.columns) == 0:
        return np.zeros((len(X), 0))
    return X


@substitute_docs
class Lambda3DynamicRegressor(TensionNoiseMixin, BaseBayesRegressor):
    """A Bayesian structural time-series model: level, trend, seasons, change points, regressors.

    The dynamic model (spec §3; rows of ``X`` are consecutive time steps) is
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
    linear in σ and folded at 0 rather than logarithmic (see ``benchmarks/bench_dynamic.py``).
    The coefficient priors are those of :class:`Lambda3BayesRegressor` (sd of y per raw unit,
    by column kind) with the evidence shrinkage computed from the filter's collapsed
    likelihood. ``X`` may have no columns (or be None): the model is then a drifting level with
    change points fitted to ``y`` alone.

    **Structural components** (spec §3, as in statsmodels' ``UnobservedComponents``): a season
    of period ``p`` adds ``Σ_h γ_h cos(2π h t / p) + γ'_h sin(2π h t / p)``, ``h = 1 … H``, with
    ``γ ~ Normal(0, seasonal_prior_scale)`` in standard deviations of y, and
    ``trend="drift"`` turns the level into a random walk with drift,
    ``a_t = a_{t-1} + μ + η_t``, that is the term ``μ t`` (the method's progression vector ΛF),
    ``μ ~ Normal(0, drift_prior_scale)`` in standard deviations of y per step. Their
    coefficients are integrated out by the filter exactly like the regressors' (and drawn
    exactly for each draw), and ``t`` is the row's time step of the time contract below, so a
    forecast continues the season in phase and the drift along its slope; the drift's
    uncertainty widens the forecast interval with the horizon. :meth:`components` (and
    ``components_``) splits the fit and the forecasts into level, trend, season, regressors and
    change points. The season is fixed, not drifting, and the slope is fixed, not a random
    walk: on the hourly Tokyo series statsmodels' stochastic season forecasts worse than its
    fixed one and its local linear trend no better than the drift (see
    ``benchmarks/bench_real.py --only seasonal``).

    A NaN in ``y`` is a step that is not observed (``X`` stays finite there): the filter only
    predicts through it (the level's variance grows, no likelihood term), so the in-sample fit
    there is the smoothed level, which interpolates across a gap, and
    ``pointwise_log_likelihood`` covers the observed steps only. ``change_points="auto"`` runs
    the detector on the observed steps and puts a change found across a gap at the first
    observed row after it.

    **Time contract.** Training row ``t`` is time step ``t``. Every predictive method places
    the rows of its ``X`` in time, never by comparing their values with the training data:

    - ``start=s`` (an int): the rows are the consecutive steps ``s, s + 1, …``; a step
      ``t < n_train`` is the smoothed fit of training step ``t`` (its level path plus the
      feature terms, with the noise), a step ``t ≥ n_train`` is forecast ``h = t - n_train + 1``
      steps ahead (the level continues as a random walk from its last value, so the
      predictive variance grows by τ² per step);
    - ``start=None`` and a pandas ``X`` whose index holds datetimes or integers (a
      ``DatetimeIndex``, a ``RangeIndex``): each row is placed by its index label, on the
      training index's clock (its first label and its spacing; NumPy training data count
      ``0, 1, …``). scikit-learn's pandas output keeps the input's index through a pipeline,
      so ``TimeSeriesSplit`` on pandas input scores honest forecasts of each test fold;
    - ``start=None`` and NumPy input (or any other index): the rows are steps ``0, 1, …``, as
      with a default ``RangeIndex``, so ``predict(X_train)`` is the in-sample fit. NumPy rows
      of new steps need ``forecast(X_future)`` (or ``start=n_train_``). Rows placed at training
      steps whose regressors differ from the training rows there get a ``UserWarning``: they
      are most likely new steps given the wrong place (NumPy input to a pipeline with pandas
      output gets a fresh ``RangeIndex`` from 0, so pass pandas input to keep the index).

    ``forecast(X_future)`` is ``predict(X_future, start=n_train)``.

    Parameters
    ----------
    noise : {"constant", "tension"}, default="constant"
        ``"constant"``: ``ε_t ~ Normal(0, σ)``, ``σ ~ HalfNormal(noise_prior_scale)``.
        ``"tension"``: ``σ_t = σ_base + σ_scale · τ_t`` with ``τ_t`` the ρT regressor divided
        by its training mean (the method's priors, as in :class:`Lambda3BayesRegressor`).
    seasonality : None, float, list of float, dict or "auto", default=None
        Seasons of the model: None (none), a period in time steps (at least 2; ``min(3, p // 2)``
        harmonics), a list of periods, a dict ``{period: harmonics}``, or ``"auto"``: the period
        that :func:`~sklearn_lambda3.analysis.detect_change_points` finds with
        ``season="auto"`` (the same finder, on ``y``: three cycles, or two that repeat
        clearly), or none. With a pandas index of datetimes evenly spaced by a divisor of a
        day or a week, a period found within 10 % of the day's or the week's is taken to be
        it (hourly rows: 24 or 168), as two cycles cannot tell 24 from 23.
        ``seasonality_`` holds what was used. A period needs at least one cycle of training rows.
    trend : {"level", "drift"}, default="level"
        ``"level"``: a random-walk level; ``"drift"``: a random walk with drift ``μ``.
    change_points : None, "auto" or array-like of int, default=None
        Row indices where the level may jump (a jump between rows ``c - 1`` and ``c`` is at
        ``c``; sorted, distinct, in ``[1, n_samples - 1]``), or ``"auto"`` to find them with
        :func:`~sklearn_lambda3.analysis.detect_change_points` on ``y`` (its observed steps
        when ``y`` has NaN; a change between two observed rows is put at the later one).
    intercept_prior_scale : float, default=2.0
        Scale of the Normal prior on the first level, standard deviations of y.
    coef_prior_scale, jump_prior_scale, tension_prior_scale : float, default=1.0, 5.0, 3.0
        Scales of the Normal priors on ordinary, jump and tension regressors (sd of y per raw
        unit), as in :class:`Lambda3BayesRegressor`.
    {noise_prior_scale}
    level_prior_scale : float, default=0.1
        Scale of the HalfNormal prior on τ, the sd of the level's steps.
    change_point_prior_scale : float, default=5.0
        Scale of the Normal prior on each change point's step δ_i.
    seasonal_prior_scale : float, default=1.0
        Scale of the Normal prior on each Fourier coefficient, standard deviations of y.
    drift_prior_scale : float, default=0.1
        Scale of the Normal prior on the drift μ, standard deviations of y per step.
    prior_shrinkage : "evidence" or float, default="evidence"
        Factor ``g`` of the coefficients' prior scales. ``"evidence"``: the ``g`` in [1e-4, 1]
        that maximises the Kalman filter's collapsed likelihood (level, steps and coefficients
        integrated out) with τ and σ at their posterior mode for that ``g`` (under
        ``noise="tension"``, σ constant), so that features that only add noise are shrunk and
        the forecast falls back to the local level's. A number fixes ``g``.
    {tension_feature}
    kalman : {"auto", "numba", "jax"}, default="auto"
        The Kalman filter that evaluates the collapsed likelihood while the sampler runs (both
        compute the same value and gradient, equal to 1e-10, so the posterior is the same up to
        Monte Carlo error). ``"numba"``: a Numba kernel on the CPU, called by the compiled
        sampler as an XLA FFI custom call, whose program then does not depend on the series (a
        refit of any length compiles nothing); each chain runs as its own program, the chains
        in parallel threads (one per core), as the kernel's cost grows with the chains handed
        to it. ``"jax"``: the filter written in JAX, parallel in time, inside the program, in
        float64, the chains vectorised; the series is padded (with missing steps, which change
        nothing) to one of four lengths per doubling, and each compiles once. ``"auto"``:
        ``"jax"`` on a GPU (``"numba"`` there is an error: its kernel runs on the CPU); on a CPU
        ``"numba"``, the faster there at every length
        (``benchmarks/bench_dynamic.py --only filters``).
    {sampler_parameters_as_in_linear}

    Attributes
    ----------
    coef_ : ndarray of shape (n_features_in_,)
        Posterior mean of the coefficients, original units.
    seasonality_ : dict of period to harmonics
        The seasons used (given or found; empty without a season).
    seasonal_coef_samples_ : ndarray of shape (num_chains * num_samples, n_fourier_terms)
        Posterior draws of the Fourier coefficients in units of y (cos and sin of each harmonic
        of each period, in increasing order; no sin term at ``h = p / 2``).
    drift_samples_ : ndarray of shape (num_chains * num_samples,) or None
        Posterior draws of the drift μ in units of y per step (``trend="drift"``).
    components_ : dict of str to ndarray of shape (n_samples, 3)
        :meth:`components` of the training rows: each component's posterior mean and 90 %
        interval.
    coef_samples_ : ndarray of shape (num_chains * num_samples, n_features_in_)
        Posterior draws of the coefficients.
    change_points_ : ndarray of int
        The change points used (given or found).
    level_samples_ : ndarray of shape (n_path_draws, n_samples)
        Posterior draws of the level path ``a_t`` in units of y, for at most 500 draws thinned
        evenly from every chain.
    level_mean_ : ndarray of shape (n_samples,)
        Posterior mean of the level path.
    tau_samples_ : ndarray of shape (num_chains * num_samples,)
        Posterior draws of τ in units of y.
    change_point_samples_ : ndarray of shape (n_path_draws, n_change_points)
        Posterior draws of each change point's step δ_i in units of y.
    noise_samples_ : dict of str to ndarray
        Posterior draws of the noise parameters in units of y.
    n_train_ : int
        Number of training steps: predictive rows placed at ``t ≥ n_train_`` are forecasts.
    kalman_ : str
        The filter the sampler used, ``"numba"`` or ``"jax"`` (see ``kalman``).
    prior_scales_, prior_shrinkage_, loss_, diagnostics_, n_features_in_, feature_names_in_
        As in :class:`Lambda3BayesRegressor`.

    See Also
    --------
    Lambda3BayesRegressor : The linear model, rows exchangeable.
    sklearn_lambda3.analysis.detect_change_points : The detector behind ``change_points="auto"``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lambda3 import Lambda3DynamicRegressor
    >>> rng = np.random.default_rng(0)
    >>> y = np.r_[np.zeros(100), np.full(100, 5.0)] + rng.normal(scale=0.5, size=200)
    >>> reg = Lambda3DynamicRegressor(change_points="auto", random_state=0).fit(None, y)
    >>> reg.change_points_
    array([100])
    >>> fit = reg.predict(np.empty((200, 0)), start=0)  # the smoothed in-sample fit
    >>> bool(abs(fit[150] - 5.0) < 0.3)
    True
    >>> mean, std = reg.forecast(steps=3, return_std=True)
    >>> bool(np.all(np.diff(std) > 0))  # wider with the horizon
    True
    """

    _parameter_constraints: dict = {
        **BaseBayesRegressor._parameter_constraints,
        "noise": [StrOptions({"constant", "tension"})],
        "change_points": [None, StrOptions({"auto"}), "array-like"],
        "level_prior_scale": [POSITIVE],
        "change_point_prior_scale": [POSITIVE],
        "prior_shrinkage": [StrOptions({"evidence"}), POSITIVE],
        "tension_feature": [str, None],
        "kalman": [StrOptions({"auto", "numba", "jax"})],
        # Any string: check_seasonality says what a period is where it is not "auto".
        "seasonality": [None, str, Real, "array-like", dict],
        "trend": [StrOptions({"level", "drift"})],
        "seasonal_prior_scale": [POSITIVE],
        "drift_prior_scale": [POSITIVE],
    }

    def __init__(
        self,
        noise="constant",
        *,
        seasonality=None,
        trend="level",
        change_points=None,
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
        self.change_points = change_points
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

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Sample the posterior of the dynamic model; rows are consecutive time steps.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or None
            Regressors of each step, for example the output of :class:`Lambda3Features`;
            finite, at most ``1e150`` in absolute value. Zero columns, or None, fits the level
            to ``y`` alone. A pandas index of datetimes or integers, evenly spaced, sets the
            clock on which later rows are placed (see the class docstring); without ``X``,
            ``y``'s index does.
        y : array-like of shape (n_samples,)
            Target; NaN is a step that is not observed (at least two observed steps).

        Returns
        -------
        self : Lambda3DynamicRegressor
            The fitted regressor.
        """
        X, y = self._training_data(X, y)
        self._fit_posterior(X, y)
        self.components_ = self.components(coverage=0.9)
        return self

    def _training_data(self, X, y):
        """Validate the training rows, set their clock, ``n_train_`` and ``seasonality_``."""
        # The training rows' time index: X's, or y's when there are no regressors.
        indexed = y if X is None else X
        if X is None:
            X = np.zeros((0 if y is None else np.shape(y)[0], 0))
        check_regressors(X)
        self._clock = training_clock(indexed)
        # C order: the standardisation's sums then run in one order whatever the input's
        # layout, so a strided view and its (pickled, contiguous) copy give the same posterior.
        X = validate_data(
            self,
            _without_empty_frame(X),
            dtype=np.float64,
            order="C",
            ensure_min_samples=2,
            ensure_min_features=0,
        )
        y = check_dynamic_target(y, X.shape[0])
        self.n_train_ = int(X.shape[0])
        self.seasonality_ = self._resolve_seasonality(y, calendar_periods(indexed))
        return X, y

    def log_evidence(self, X, y):
        """Log marginal likelihood of ``y`` under this configuration, without sampling.

        The level, the change points' steps, the seasons, the drift and the coefficients are
        integrated out exactly (the Kalman filter's collapsed likelihood, with the priors that
        ``fit`` would set); τ and σ by Laplace's method in log coordinates around their posterior
        mode, with constant noise (as ``prior_shrinkage="evidence"`` does). In units of ``y``:
        comparable between configurations (trends, seasons, change points) and, with the
        Jacobian of the transform added, between transforms of ``y``. The estimator is not
        fitted by it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or None
            Regressors, as in :meth:`fit`.
        y : array-like of shape (n_samples,)
            Target; NaN steps are not observed and do not count.

        Returns
        -------
        log_evidence : float
            ``log p(y)``, or ``-inf`` where the posterior's mode cannot be found.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_lambda3 import Lambda3DynamicRegressor
        >>> t = np.arange(240)
        >>> y = 0.05 * t + np.random.default_rng(0).normal(scale=0.5, size=240)
        >>> level = Lambda3DynamicRegressor().log_evidence(None, y)
        >>> drift = Lambda3DynamicRegressor(trend="drift").log_evidence(None, y)
        >>> bool(drift > level)  # the data carry a drift
        True
        """
        model = clone(self)
        model._validate_params()
        X, y = model._training_data(X, y)
        data = model._posterior_data(X, y)
        inputs = tuple(data[name] for name in KALMAN_INPUTS)
        value = laplace_log_evidence(inputs, data["level_scale"], data["noise_scale"])
        return value - np.count_nonzero(~np.isnan(y)) * np.log(model._y_scale)

    def _resolve_seasonality(self, y, calendar):
        """``{period: harmonics}`` of the seasons: none, the user's (checked), or found in ``y``
        (preferring the periods of the training index's ``calendar``)."""
        seasons = check_seasonality(self.seasonality)
        if seasons == "auto":
            seasons = find_seasonality(y, calendar)
        for period, _ in seasons:
            if period > self.n_train_:
                raise ValueError(
                    f"seasonality: a period of {period} steps needs at least one whole cycle of "
                    f"training rows; X has {self.n_train_}. Use a shorter period or more rows."
                )
        return dict(seasons)

    @property
    def _seasons(self):
        return tuple(self.seasonality_.items())

    def _structural_design(self, steps, standardised=False):
        """Columns of the seasons (Fourier terms) and the drift (the time step) at ``steps``.

        Raw, their coefficients are in units of y (the drift per step); ``standardised``, the
        drift column is ``t / n_train_`` and the coefficients are in standardised units.
        """
        columns = [seasonal_columns(steps, self._seasons)]
        if self.trend == "drift":
            time = np.asarray(steps, dtype=np.float64)[:, None]
            columns.append(time / self._drift_span if standardised else time)
        return np.hstack(columns)

    def _structural_labels(self):
        return seasonal_labels(self._seasons) + (["drift"] if self.trend == "drift" else [])

    def _model(self):
        from ._inference import resolve_device

        # The size device="auto" weighs: the series and its regressors, as the JAX filter reads them.
        size = self.n_train_ * (self.n_features_in_ + 3)
        platform = resolve_device(self.device, size).platform
        self.kalman_ = choose_filter(self.kalman, platform)
        if FILTERS[self.kalman_].cpu_only and platform != "cpu":
            raise ValueError(
                f"kalman='numba' runs the filter in a Numba kernel on the CPU, which a sampler on "
                f"device={self.device!r} ({platform}) cannot call; use kalman='jax' or 'auto' there, "
                "or device='cpu'."
            )
        return DynamicModel(noise=self.noise, kalman=self.kalman_)

    def _model_data(self, X, W, ys, standardised_prior, weight):
        tension = self._set_tension(X)
        self.change_points_ = self._resolve_change_points(ys)
        self._drift_span = self.n_train_
        n_structural = self._structural_design(np.arange(0), standardised=True).shape[1]
        n_seasonal = n_structural - (self.trend == "drift")
        structural_prior = np.r_[
            np.full(n_seasonal, float(self.seasonal_prior_scale)),
            # The drift column is t / n_train: its coefficient is the drift over the training span.
            np.full(n_structural - n_seasonal, float(self.drift_prior_scale) * self.n_train_),
        ]
        shrunk = np.r_[np.ones(W.shape[1], dtype=bool), np.zeros(n_structural, dtype=bool)]
        data = self._filter_data(W, ys, tension, np.r_[standardised_prior, structural_prior])
        if self.prior_shrinkage != "evidence":
            self.prior_shrinkage_ = float(self.prior_shrinkage)
        elif X.shape[1] == 0:
            self.prior_shrinkage_ = 1.0  # no coefficient to shrink
        else:
            inputs = tuple(data[name] for name in KALMAN_INPUTS)
            self.prior_shrinkage_ = dynamic_evidence_shrinkage(
                inputs, self.level_prior_scale, self.noise_prior_scale, shrunk
            )
        shrinkage = np.where(shrunk, self.prior_shrinkage_, 1.0)
        data["prior_scale"] = np.maximum(data["prior_scale"] * shrinkage, PRIOR_FLOOR)
        self._filter_prior_scale = data["prior_scale"]
        return data

    def _filter_data(self, W, ys, tension, prior_scale):
        """The filter's inputs for the standardised regressors ``W`` and target ``ys``, with the
        seasons, the drift and the change points as fitted."""
        change = np.zeros(len(ys))
        change[self.change_points_] = 1.0
        structural = self._structural_design(np.arange(len(ys)), standardised=True)
        return {
            "y": ys,
            "design": np.ascontiguousarray(np.hstack([W, structural])),
            "prior_scale": prior_scale,
            "change": change,
            "level0_var": float(self.intercept_prior_scale**2),
            "step_var": float(self.change_point_prior_scale**2),
            "tension": np.zeros(len(ys)) if tension is None else tension,
            "level_scale": np.float64(self.level_prior_scale),
            "path_draws": self._path_draws(),
        }

    def _resolve_change_points(self, y):
        """Change-point row indices: none, found by the detector, or the user's, checked."""
        n = len(y)
        if self.change_points is None:
            return np.zeros(0, dtype=np.int64)
        if isinstance(self.change_points, str):
            from .._changepoints import detect_change_points

            # On the observed steps only; a change found between two observed steps is put
            # at the row of the later one (the first step where the new level is seen).
            rows = np.flatnonzero(~np.isnan(y))
            found = np.asarray(detect_change_points(y[rows]), dtype=np.int64)
            return rows[found]
        return check_change_points(self.change_points, n)

    def _path_draws(self):
        return path_draws(int(self.num_chains), int(self.num_samples))

    def _summarise(self, draws):
        beta = draws["beta"].astype(np.float64)
        beta, structural = beta[:, : self.n_features_in_], beta[:, self.n_features_in_ :] * self._y_scale
        if self.trend == "drift":
            structural[:, -1] /= self._drift_span
        self._structural_samples = structural
        # The sampled scales, standardised: append() conditions on new steps with them held.
        self._scale_draws = {
            site: np.asarray(draws[site], dtype=np.float64).reshape(-1)
            for site in DynamicModel(noise=self.noise).reported_sites
        }
        n_seasonal = len(seasonal_labels(self._seasons))
        self.seasonal_coef_samples_ = structural[:, :n_seasonal]
        self.drift_samples_ = structural[:, n_seasonal] if self.trend == "drift" else None
        coef = beta * (self._y_scale / self._x_scale)
        # Level in units of y: the standardised level plus what centring the regressors moved.
        offset = self._y_mean - (beta * self._x_mean / self._x_scale).sum(axis=1) * self._y_scale
        # Scaled and shifted in place, in the copy astype makes: (draws × steps) is large.
        level = draws["level"].astype(np.float64)
        level *= self._y_scale
        level += offset[self._path_draws(), None]
        self.level_samples_ = level
        self._level_last = draws["level_last"].astype(np.float64) * self._y_scale + offset
        self.level_mean_ = self.level_samples_.mean(axis=0)
        self.tau_samples_ = draws["tau"].reshape(-1).astype(np.float64) * self._y_scale
        self.coef_samples_ = coef
        self.coef_ = coef.mean(axis=0)
        self.change_point_samples_ = self._step_draws()

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

    # ------------------------------------------------------------ components
    def components(self, X=None, start=None, coverage=0.9, *, steps=None):
        """Posterior mean and central interval of each structural component at the rows' steps.

        The components add up to the predictive mean (:meth:`predict`, noise excluded):

        - ``"level"``: the random-walk level without the change points' steps (the model's
          intercept, with the regressors' contribution at their training means); at a forecast
          step it is the last level, whose interval widens by τ² per step;
        - ``"trend"`` (``trend="drift"``): the drift ``μ t``;
        - ``"season"`` (a seasonality): the sum of the Fourier terms of every period;
        - ``"regressors"`` (regressors in ``X``): ``(X - x̄) β``, the regressors' contribution
          relative to their training means ``x̄`` (zero on average over the training rows);
        - ``"change_points"`` (change points): the sum of the steps ``δ_i`` at or before the step.

        Computed from the draws that keep a level path (at most 500, see ``level_samples_``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or None, default=None
            Regressors of the rows, placed in time as in :meth:`predict`. None: the training
            rows (the in-sample decomposition, as in ``components_``).
        start : int or None, default=None
            Time step of the first row, as in :meth:`predict`.
        coverage : float, default=0.9
            Probability mass inside each interval, in (0, 1).
        steps : int, optional
            For a model fitted without regressors: the ``steps`` forecast steps after the
            training rows, as ``forecast(steps=steps)`` (instead of ``X`` and ``start``).

        Returns
        -------
        components : dict of str to ndarray of shape (n_samples, 3)
            For each component of the model, in the order above, the posterior mean and the
            lower and upper bounds of its interval, by row.
        """
        coverage = check_coverage(coverage)
        if steps is not None:
            if start is not None:
                raise ValueError("components(steps=h) starts after the training rows; pass steps or start.")
            X, start = self._future(X, steps), self.n_train_
        if X is None:
            check_is_fitted(self)
            if start is not None:
                raise ValueError("components(X=None) decomposes the training rows; pass X with start.")
            X, time_steps = self._X_train, np.arange(self.n_train_)
        else:
            X, time_steps = self._with_time_steps(X, start)
        draws = self._path_draws()
        quantiles = [(1 - coverage) / 2, (1 + coverage) / 2]
        summary = {}
        # A block of rows at a time: fit computes components_ over every training step, and
        # (rows × draws) per component for a long series would be several times level_samples_.
        for rows in self._row_blocks(len(time_steps), len(draws)):
            parts = self._component_draws(X[rows], time_steps[rows], draws)
            for name, (values, where) in parts.items():
                # The draws are this block's own: the quantiles may reorder them in place.
                mean = values.mean(axis=1)
                bounds = np.quantile(values, quantiles, axis=1, overwrite_input=True)
                block = np.column_stack([mean, *bounds])
                summary.setdefault(name, np.empty((len(time_steps), 3)))[rows] = (
                    block if where is None else block[where]
                )
        return summary

    def _component_draws(self, X, time_steps, draws):
        """Each component under the path draws ``draws`` (axis 1), by row, as ``(values, where)``.

        ``where`` None: row ``i`` of ``values`` is row ``i``'s. Otherwise row ``i``'s draws are
        ``values[where[i]]``: the components whose rows repeat bit for bit (the season over its
        cycle, the change points' sum between two change points) are drawn once per distinct
        row, and a row's summary is then that row's.
        """
        inside = time_steps < self.n_train_
        steps_sum = np.zeros((len(time_steps), len(draws)))
        if self.change_points_.size:
            cumulative = np.cumsum(self.change_point_samples_, axis=1)  # (draws, points)
            reached = np.searchsorted(self.change_points_, time_steps, side="right")
            padded = np.hstack([np.zeros((len(draws), 1)), cumulative])
            steps_sum = padded[:, reached].T
            distinct, where = np.unique(reached, return_inverse=True)
            points_sum = (padded[:, distinct].T, where)
        level = np.empty((len(time_steps), len(draws)))
        if inside.all():  # the paths less the steps, in one pass
            np.subtract(self.level_samples_[:, time_steps].T, steps_sum, out=level)
        else:
            level[inside] = self.level_samples_[:, time_steps[inside]].T
            horizon = time_steps[~inside] - self.n_train_ + 1
            # One normal per draw for every horizon: the marginals are the forecast's, and the
            # Monte Carlo error does not make a later step look surer than an earlier one.
            noise = np.random.default_rng(0).standard_normal(len(draws))
            tau = self.tau_samples_[draws]
            level[~inside] = self._level_last[draws] + np.sqrt(horizon)[:, None] * tau * noise
            level -= steps_sum
        parts = {"level": (level, None)}
        n_seasonal = self.seasonal_coef_samples_.shape[1]
        if self.trend == "drift":
            parts["trend"] = (time_steps[:, None] * self.drift_samples_[draws], None)
        if n_seasonal:
            # The rows repeat over the seasons' cycle: one per step of it that the rows reach.
            phases, where = time_steps, None
            cycle = seasonal_cycle(self._seasons)
            if cycle is not None:
                _, first, where = np.unique(time_steps % cycle, return_index=True, return_inverse=True)
                phases = time_steps[first]
            seasonal = seasonal_columns(phases, self._seasons)
            parts["season"] = (seasonal @ self.seasonal_coef_samples_[draws].T, where)
        if self.n_features_in_:
            # Centred on the training means, the means' share moved into the level: each panel
            # then moves about its own scale (an uncentred regressor and the level can swing by
            # thousands in opposite directions while their sum is tight).
            coef = self.coef_samples_[draws]
            level += self._x_mean @ coef.T
            parts["regressors"] = ((X - self._x_mean) @ coef.T, None)
        if self.change_points_.size:
            parts["change_points"] = points_sum
        return parts

    def _scalar_draws(self):
        labels = [f"coef[{name}]" for name in self._feature_labels()] + self._structural_labels()
        labels += ["tau", *self.noise_samples_]
        columns = [self.coef_samples_, self._structural_samples, self.tau_samples_[:, None]]
        columns += [value[:, None] for value in self.noise_samples_.values()]
        return labels, np.column_stack(columns)

    # ------------------------------------------------------------- time
    def time_steps(self, X, start=None):
        """The time step each row of ``X`` is placed at by the predictive methods.

        Training row ``t`` is step ``t``; steps from ``n_train_`` on are forecasts (see the
        class docstring's time contract).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to place: a pandas index of datetimes or integers places them by label.
        start : int or None, default=None
            Time step of the first row; overrides the index.

        Returns
        -------
        steps : ndarray of int of shape (n_samples,)
            The time step of every row.
        """
        check_is_fitted(self)
        if pandas_index(X) is not None:
            return row_time_steps(X, len(X), start, self._clock)
        return row_time_steps(X, self._validated(_without_empty_frame(X)).shape[0], start, self._clock)

    def step_labels(self, steps):
        """The labels of time steps on the training index: the inverse of :meth:`time_steps`.

        Parameters
        ----------
        steps : array-like of int
            Time steps (training row ``t`` is step ``t``; later steps are forecasts).

        Returns
        -------
        labels : pandas.DatetimeIndex or ndarray of int
            Datetimes where the training index was an evenly spaced ``DatetimeIndex`` (naive,
            in UTC), else the integer labels (the steps themselves for NumPy training data).
        """
        check_is_fitted(self)
        return clock_labels(steps, self._clock)

    def _without_regressors(self, n_rows, start):
        """The (n_rows, 0) design that ``X=None`` stands for in a model without regressors:
        ``n_rows`` rows from ``start`` or, where the call gives no count, the training steps."""
        check_is_fitted(self)
        if self.n_features_in_:
            raise ValueError(
                f"X is None but the model has {self.n_features_in_} regressors: pass their values as X."
            )
        if n_rows is None:
            if start is not None:
                raise ValueError(
                    "X=None stands for the training steps; for other steps of a model without "
                    "regressors use forecast(steps=h), or pass X=np.empty((n_steps, 0)) with start."
                )
            n_rows = self.n_train_
        return np.zeros((n_rows, 0))

    def _with_time_steps(self, X, start, n_rows=None):
        """``(validated X, time steps)`` with a warning for in-sample rows unlike the training ones.

        ``X=None`` (a model without regressors): ``n_rows`` rows, or the training steps."""
        check_is_fitted(self)
        if X is None:
            X = self._without_regressors(n_rows, start)
        # A pandas index is read before validation turns X into an array.
        time_steps = None if pandas_index(X) is None else row_time_steps(X, len(X), start, self._clock)
        X = self._validated(_without_empty_frame(X))
        if time_steps is None:
            time_steps = row_time_steps(X, X.shape[0], start, self._clock)
        inside = time_steps < self.n_train_
        if X.shape[1] and inside.any():
            train = self._X_train[time_steps[inside]]
            tolerance = 1e-5 * (np.abs(train).max() + 1.0)
            if not np.allclose(X[inside], train, rtol=1e-5, atol=tolerance):
                warnings.warn(
                    f"{int(inside.sum())} rows of X are placed at training steps (by start or by their "
                    "index) but their regressors differ from the training rows there; the predictions "
                    "there are the in-sample fit. If these rows are new steps, give them an index that "
                    "continues the training one, or use forecast.",
                    UserWarning,
                    stacklevel=3,
                )
        return X, time_steps

    def _training_time_steps(self):
        return np.arange(self.n_train_)

    def _draw_set(self, time_steps):
        if time_steps is not None and np.any(time_steps < self.n_train_):
            return self._path_draws()
        return np.arange(len(self.coef_samples_))

    def _draw_moments(self, X, draws, rows, time_steps):
        block, steps = X[rows], time_steps[rows]
        design = np.hstack([block, self._structural_design(steps)])
        coef = np.hstack([self.coef_samples_[draws], self._structural_samples[draws]])
        # Column by column rather than a matrix product: each row's sum is then formed in one
        # order whatever the block's size, so a row predicted alone equals itself in a batch.
        mean = np.zeros((design.shape[0], len(draws)))
        for column in range(design.shape[1]):
            mean += design[:, column, None] * coef[None, :, column]
        sd = np.array(self._noise_sd(block, draws))
        inside = steps < self.n_train_
        if inside.any():
            path_rows = np.searchsorted(self._path_draws(), draws)
            mean[inside] += self.level_samples_[path_rows][:, steps[inside]].T
        ahead = ~inside
        if ahead.any():
            horizon = (steps[ahead] - self.n_train_ + 1)[:, None]
            mean[ahead] += self._level_last[draws]
            sd[ahead] = np.sqrt(sd[ahead] ** 2 + horizon * self.tau_samples_[draws] ** 2)
        return mean, sd

    def _plug_in_moments(self, X, return_std, time_steps):
        if np.any(time_steps < self.n_train_):
            return None
        design = np.hstack([X, self._structural_design(time_steps)])
        coef_samples = np.hstack([self.coef_samples_, self._structural_samples])
        mean = design @ coef_samples.mean(axis=0) + self._level_last.mean()
        if not return_std:
            return mean
        horizon = time_steps - self.n_train_ + 1
        variance = mean_variance(design, coef_samples, self._level_last) + self._noise_variance(X)
        return mean, np.sqrt(variance + horizon * np.mean(self.tau_samples_**2))

    # -------------------------------------------------------------- predict
    def predict(self, X=None, return_std=False, start=None):
        """Posterior predictive mean (and std) of the steps that the rows of ``X`` are placed at.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or None
            Regressors of the steps, in time order. None (a model without regressors): the
            training steps.
        return_std : bool, default=False
            Also return the predictive standard deviation (level, coefficients and noise;
            for forecasts it grows with the horizon).
        start : int or None, default=None
            Time step of the first row (training row ``t`` is step ``t``); None places the rows
            by a pandas index of datetimes or integers, and NumPy rows at steps ``0, 1, …``.
            See the class docstring.

        Returns
        -------
        y_mean : ndarray of shape (n_samples,)
            Predictive mean.
        y_std : ndarray of shape (n_samples,)
            Predictive standard deviation; only if ``return_std``.
        """
        X, time_steps = self._with_time_steps(X, start)
        return self._predict(X, return_std, time_steps)

    def forecast(self, X_future=None, *, steps=None, return_std=False):
        """Forecast the steps that follow the training rows: ``predict(X_future, start=n_train_)``.

        Row ``h`` of ``X_future`` (``h = 1, 2, …``) is the ``h``-th step after the last
        training row, whatever its index. The level continues as a random walk from its last
        posterior value, so the predictive variance grows by τ² per step.

        Parameters
        ----------
        X_future : array-like of shape (n_steps, n_features), optional
            Regressors of the coming steps, in time order.
        steps : int, optional
            Number of steps, for a model fitted without regressors (instead of ``X_future``).
        return_std : bool, default=False
            Also return the predictive standard deviation.

        Returns
        -------
        y_mean : ndarray of shape (n_steps,)
            Forecast mean.
        y_std : ndarray of shape (n_steps,)
            Forecast standard deviation; only if ``return_std``.
        """
        X_future = self._future(X_future, steps)
        return self.predict(X_future, return_std=return_std, start=self.n_train_)

    def _future(self, X_future, steps):
        check_is_fitted(self)
        if X_future is not None:
            if steps is not None:
                raise ValueError("pass X_future or steps, not both.")
            return X_future
        if steps is None:
            raise ValueError("forecast needs X_future (the regressors of the coming steps) or steps=<int>.")
        steps = check_forecast_steps(steps)
        if self.n_features_in_:
            raise ValueError(
                f"the model has {self.n_features_in_} regressors: pass their future values as X_future."
            )
        return np.zeros((steps, 0))

    def append(self, X_new=None, y_new=None):
        """Condition the fitted posterior on steps that follow the training rows, scales held.

        As statsmodels' ``append(refit=False)``: for every posterior draw of τ and the noise,
        the Kalman filter runs over the training rows and the new ones, and the coefficients,
        the seasons' and the drift's terms, the level paths and the last level are drawn anew
        from their exact conditional posterior given all the steps (the same seed as in fit).
        The result is the model fitted to all the steps whose sampler returned the same draws
        of τ and the noise: the standardisation, the priors (with ``prior_shrinkage_``), the
        seasons and the change points found in fit are kept, and nothing is sampled again.
        The new rows become training rows: ``n_train_`` grows, forecasts start after them.
        To sample the scales anew (or find change points in the new steps), refit.

        Parameters
        ----------
        X_new : array-like of shape (n_new, n_features) or None
            Regressors of the new steps, the steps ``n_train_, n_train_ + 1, …`` in order (a
            pandas index on the training clock must continue it). None for a model fitted
            without regressors.
        y_new : array-like of shape (n_new,)
            Target of the new steps; NaN marks a step that is not observed.

        Returns
        -------
        self : Lambda3DynamicRegressor
            The regressor, conditioned on the new steps.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_lambda3 import Lambda3DynamicRegressor
        >>> y = np.cumsum(np.random.default_rng(0).normal(size=120))
        >>> reg = Lambda3DynamicRegressor(random_state=0, progress_bar=False).fit(None, y[:100])
        >>> reg.append(None, y[100:]).n_train_
        120
        >>> bool(abs(reg.forecast(steps=1)[0] - y[-1]) < 1.0)  # the forecast starts from y[119]
        True
        """
        check_is_fitted(self)
        if not hasattr(self, "_scale_draws"):
            raise ValueError("this model was saved by an older release without its scale draws; refit it.")
        if y_new is None:
            raise ValueError("append needs y_new, the target of the new steps (NaN where not observed).")
        n_new = int(np.shape(y_new)[0]) if np.ndim(y_new) else 0
        if n_new == 0:
            raise ValueError("y_new must hold at least one step.")
        if X_new is None:
            X_new = self._without_regressors(n_new, self.n_train_)
        expected = self.n_train_ + np.arange(n_new)
        indexed = X_new if pandas_index(X_new) is not None else y_new
        if pandas_index(indexed) is not None and self._clock[0] is not None:
            placed = row_time_steps(indexed, n_new, None, self._clock)
            if len(placed) != n_new or np.any(placed != expected):
                raise ValueError(
                    f"append's rows must be the steps that follow the training rows, from step "
                    f"{self.n_train_} on, one by one; their index places them at steps "
                    f"{placed[:3].tolist()}…. Mark unobserved steps with NaN in y_new."
                )
        check_regressors(X_new, "X_new")
        X_new = self._validated(_without_empty_frame(X_new))
        if X_new.shape[0] != n_new:
            raise ValueError(f"X_new has {X_new.shape[0]} rows but y_new has {n_new} steps.")
        X = np.ascontiguousarray(np.vstack([self._X_train, X_new]))
        values = np.asarray(y_new)
        if values.dtype.kind not in "biuf":
            raise TypeError(
                f"y_new must hold real numbers (NaN for steps not observed); got dtype {values.dtype}."
            )
        y = check_dynamic_target(np.r_[self._y_train, values.reshape(-1).astype(np.float64)], X.shape[0])
        self.n_train_ = int(X.shape[0])
        W = (X - self._x_mean) / self._x_scale
        ys = (y - self._y_mean) / self._y_scale
        tension = self._tension(X) if self.noise == "tension" else None
        data = self._filter_data(W, ys, tension, self._filter_prior_scale)
        inputs = tuple(data[name] for name in KALMAN_INPUTS)
        draws = conditional_posterior(inputs, self._scale_draws, self.noise, data["path_draws"], self._seed)
        self._summarise({**self._scale_draws, **draws})
        self._X_train, self._y_train = X, y
        self.components_ = self.components(coverage=0.9)
        return self

    def predict_interval(self, X=None, coverage=0.9, start=None):
        """Central posterior predictive interval of the steps the rows of ``X`` are placed at.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or None
            Regressors. None (a model without regressors): the training steps.
        coverage : float, default=0.9
            Probability mass inside the interval, in (0, 1).
        start : int or None, default=None
            Time step of the first row, as in :meth:`predict`.

        Returns
        -------
        interval : ndarray of shape (n_samples, 2)
            Lower and upper bounds (quantiles of 4000 or more predictive draws per row, fixed seed).
        """
        X, time_steps = self._with_time_steps(X, start)
        return self._interval(X, coverage, time_steps)

    def sample_y(self, X=None, n_samples=1, random_state=None, start=None):
        """Draw targets from the posterior predictive distribution at the steps of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples_X, n_features) or None
            Regressors. None (a model without regressors): the training steps.
        n_samples : int, default=1
            Number of draws per row.
        random_state : int, RandomState instance or None, default=None
            Seed of the draws.
        start : int or None, default=None
            Time step of the first row, as in :meth:`predict`.

        Returns
        -------
        y_samples : ndarray of shape (n_samples_X, n_samples)
            The draws.
        """
        X, time_steps = self._with_time_steps(X, start)
        return self._sample_y(X, n_samples, random_state, time_steps)

    def pointwise_log_likelihood(self, X, y, start=None):
        """Log-likelihood of every observed step under every posterior draw.

        For training steps it is the observation density given each draw's level path (the
        draws with a stored path); for steps after the training rows, the draw's forecast
        density.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or None
            Regressors. None (a model without regressors): one row per entry of ``y``.
        y : array-like of shape (n_samples,)
            Target; NaN steps are not observations and are left out.
        start : int or None, default=None
            Time step of the first row, as in :meth:`predict`.

        Returns
        -------
        log_lik : ndarray of shape (num_chains, n_draws_per_chain, n_observations)
            Chain by chain, as ArviZ expects.
        """
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        X, time_steps = self._with_time_steps(X, start, n_rows=len(y))
        return self._log_likelihood(X, y, time_steps)

    def score(self, X, y, sample_weight=None, start=None):
        """Coefficient of determination R² of :meth:`predict` on the observed steps of ``y``.

        Steps where ``y`` is NaN are not observed and are left out, with their weights, as
        :meth:`pointwise_log_likelihood` leaves them out.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or None
            Regressors of the steps, in time order. None (a model without regressors): one
            row per entry of ``y``.
        y : array-like of shape (n_samples,)
            True target; NaN marks a step that is not observed (at least two observed steps).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the steps.
        start : int or None, default=None
            Time step of the first row, as in :meth:`predict`.

        Returns
        -------
        score : float
            :func:`sklearn.metrics.r2_score` of the observed steps.

        Raises
        ------
        ValueError
            If ``y`` or ``sample_weight`` has another length than ``X``, ``y`` holds infinity or
            fewer than two observed steps.
        """
        if X is None:
            X = self._without_regressors(np.shape(y)[0] if y is not None else None, start)
        y_pred = self.predict(X, start=start)
        y = check_dynamic_target(y, y_pred.shape[0])
        observed = ~np.isnan(y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, y)[observed]
        return float(r2_score(y[observed], y_pred[observed], sample_weight=sample_weight))

    def _posterior_variables(self, draws):
        # ``draws`` are the path draws (the training placement): one level path and steps each.
        variables = {
            "coef": self.coef_samples_[draws],
            "tau": self.tau_samples_[draws],
            "level": self.level_samples_,
            "step": self.change_point_samples_,
        }
        dims = {"coef": ["feature"], "level": ["time"], "step": ["change_point"]}
        if self.seasonal_coef_samples_.shape[1]:
            variables["season_coef"] = self.seasonal_coef_samples_[draws]
            dims["season_coef"] = ["fourier_term"]
        if self.drift_samples_ is not None:
            variables["drift"] = self.drift_samples_[draws]
        return variables, dims
