"""The shared base of the Bayesian estimators: validation, standardisation, priors, inference
settings, diagnostics and the predictive methods.

Data flow one way through :meth:`BaseBayesRegressor._fit_posterior`: the subclass validates
``X`` and ``y``; the base standardises them and sets the prior scales by column kind; the
subclass builds its model's data dict (:meth:`_model_data`); the runner samples the model's
posterior (compiled once per shape); the subclass turns the draws into NumPy attributes
(:meth:`_summarise`) and the base records the diagnostics. Every predictive method goes
through one hook, :meth:`_draw_moments` (each row's predictive Normal under each draw), and an
optional fast path, :meth:`_plug_in_moments`.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import _arviz
from .._persistence import VersionStampMixin
from .._validation import check_coverage, check_magnitude, check_n_samples
from ._convergence import nuts_diagnostics, svi_diagnostics, warn_if_unconverged
from ._noise import NOISE_FLOOR, NOISE_SITES
from ._priors import column_prior_scales

# Smallest prior scale in the standardised coordinate: its square stays a normal float32.
PRIOR_FLOOR = 1e-15

# Smallest number of predictive draws per row behind predict_interval's quantiles.
PREDICTIVE_DRAWS = 4000

# Values of (rows × draws) worked on at once by the predictive methods.
BLOCK_VALUES = 2**22

POSITIVE = Interval(Real, 0, None, closed="neither")

# Sampler statistics kept from NUTS.
SAMPLE_STATS = ("diverging", "num_steps", "accept_prob", "potential_energy", "energy", "step_size")


def safe_scale(scale):
    """Standard deviations with zeros (constant columns) replaced by one."""
    scale = np.asarray(scale, dtype=np.float64).copy()
    scale[~(scale > 0)] = 1.0
    return scale


def mean_variance(X, coef_draws, offset_draws):
    """Posterior variance of ``X β + b`` for every row, from the draws' covariance of (β, b).

    O(n k²) time and O(n k) memory: no (rows × draws) matrix is formed.
    """
    covariance = np.atleast_2d(np.cov(np.column_stack([coef_draws, offset_draws]), rowvar=False))
    k = X.shape[1]
    cov_xx, cov_xb, var_b = covariance[:k, :k], covariance[:k, k], covariance[k, k]
    return np.maximum(np.einsum("ij,ij->i", X @ cov_xx, X) + 2 * X @ cov_xb + var_b, 0)


class BaseBayesRegressor(VersionStampMixin, RegressorMixin, BaseEstimator):
    """Base of the Lambda³ Bayesian regressors; not an estimator on its own.

    Subclasses define ``__init__`` with their parameters, :meth:`_model` (the model object),
    :meth:`_model_data`, :meth:`_summarise`, :meth:`_draw_moments`, :meth:`_scalar_draws` (behind
    :meth:`parameter_draws`) and
    :meth:`_posterior_variables`.
    """

    _parameter_constraints: dict = {
        "intercept_prior_scale": [POSITIVE],
        "coef_prior_scale": [POSITIVE],
        "jump_prior_scale": [POSITIVE],
        "tension_prior_scale": [POSITIVE],
        "noise_prior_scale": [POSITIVE],
        "num_warmup": [Interval(Integral, 0, None, closed="left")],
        "num_samples": [Interval(Integral, 4, None, closed="left")],
        "num_chains": [Interval(Integral, 1, None, closed="left")],
        "target_accept_prob": [Interval(Real, 0, 1, closed="neither")],
        "max_tree_depth": [Interval(Integral, 1, 20, closed="both")],
        "device": [StrOptions({"cpu", "gpu", "auto"})],
        "random_state": ["random_state"],
        "progress_bar": ["boolean", StrOptions({"auto"})],
        "inference": [StrOptions({"nuts", "svi"})],
        "guide": [StrOptions({"normal", "lowrank"})],
        "svi_steps": [Interval(Integral, 1, None, closed="left")],
        "svi_learning_rate": [POSITIVE],
    }

    # The noise model of estimators without a ``noise`` parameter.
    noise = "constant"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags

    # ------------------------------------------------------------------ fit
    def _fit_posterior(self, X, y, weight=None):
        """Standardise, set the priors, sample the model's posterior and summarise it."""
        from ._inference import sample_posterior, show_progress

        data = self._posterior_data(X, y, weight)
        settings = {
            "num_warmup": int(self.num_warmup),
            "num_samples": int(self.num_samples),
            "num_chains": int(self.num_chains),
            "target_accept_prob": float(self.target_accept_prob),
            "max_tree_depth": int(self.max_tree_depth),
        }
        svi_settings = None
        if self.inference == "svi":
            svi_settings = {
                "guide": self.guide,
                "num_steps": int(self.svi_steps),
                "learning_rate": float(self.svi_learning_rate),
            }
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self._seed = seed
        draws = sample_posterior(
            self._model(), data, seed, self.device, settings, svi_settings, show_progress(self.progress_bar)
        )
        self._summarise(draws)
        self.noise_samples_ = self._noise_draws(draws)
        self._record_inference(draws)
        self._X_train, self._y_train = X, y
        return self

    def _posterior_data(self, X, y, weight=None):
        """Standardise and set the priors: the model's data, in the standardised coordinates."""
        if X.size:
            check_magnitude(X, "X", type(self).__name__)
        names = getattr(self, "feature_names_in_", None)
        self.prior_scales_ = column_prior_scales(
            names, X.shape[1], self.coef_prior_scale, self.jump_prior_scale, self.tension_prior_scale
        )
        self._standardise(X, y, weight)
        W = (X - self._x_mean) / self._x_scale
        ys = (y - self._y_mean) / self._y_scale
        # Priors are per raw unit of each regressor; in the standardised coordinate that is the
        # scale times the regressor's training spread (the floor keeps float32 squares normal).
        standardised_prior = np.maximum(self.prior_scales_ * self._x_scale, PRIOR_FLOOR)
        data = self._model_data(X, W, ys, standardised_prior, weight)
        data["noise_scale"] = np.float64(self.noise_prior_scale)
        return data

    def _standardise(self, X, y, weight):
        """Set the means and scales of X and y (NaN in y skipped) that the model works in."""
        if weight is None:
            self._x_mean = X.mean(axis=0)
            self._x_scale = safe_scale(X.std(axis=0))
            self._y_mean = float(np.nanmean(y))
            self._y_scale = float(safe_scale(np.atleast_1d(np.nanstd(y)))[0])
        else:  # the moments of the data with each row repeated by its weight
            self._x_mean = np.average(X, axis=0, weights=weight)
            self._x_scale = safe_scale(np.sqrt(np.average((X - self._x_mean) ** 2, axis=0, weights=weight)))
            self._y_mean = float(np.average(y, weights=weight))
            y_sd = np.sqrt(np.average((y - self._y_mean) ** 2, weights=weight))
            self._y_scale = float(safe_scale(np.atleast_1d(y_sd))[0])

    def _noise_draws(self, draws):
        """Draws of the noise sites in units of y, (n_draws,) or (n_draws, n_series)."""
        noise = {}
        n_draws = int(self.num_chains) * int(self.num_samples)
        for site in NOISE_SITES[self.noise]:
            value = draws[site].reshape(n_draws, -1).astype(np.float64)
            if site != "sigma_scale":
                value = value + NOISE_FLOOR
            noise[site] = value * self._y_scale
            if not self._output_shape():
                noise[site] = noise[site][:, 0]
        return noise

    def _record_inference(self, draws):
        if self.inference == "svi":
            self.loss_ = draws["loss"].astype(np.float64)
            self._loss_check = draws["loss_check"].astype(np.float64)
            self._sample_stats = None
        else:
            self._sample_stats = {name: draws[name] for name in SAMPLE_STATS}
        self.diagnostics_ = self._diagnose()

    def parameter_draws(self, *, group_by_chain=False):
        """Names and posterior draws of every scalar parameter, in units of ``y``.

        The parameters of ``diagnostics_["table"]``, in its order: the coefficients
        (``coef[name]``), the intercept or the model's own terms (seasons, drift, change-point
        steps, τ, the population parameters of a hierarchical fit) and the noise sites. Like
        NumPyro's ``MCMC.get_samples``, without ArviZ.

        Parameters
        ----------
        group_by_chain : bool, default=False
            Keep the chains apart: draws of shape ``(num_chains, num_samples, n_parameters)``.

        Returns
        -------
        names : list of str
            One name per parameter.
        draws : ndarray of shape (n_draws, n_parameters)
            ``n_draws = num_chains * num_samples``, chain after chain.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_lambda3 import Lambda3BayesRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(100, 2))
        >>> y = X @ [1.5, -2.0] + rng.normal(scale=0.3, size=100)
        >>> reg = Lambda3BayesRegressor(inference="svi", random_state=0).fit(X, y)
        >>> names, draws = reg.parameter_draws()
        >>> names[:3], draws.shape
        (['coef[x0]', 'coef[x1]', 'intercept'], (4000, 4))
        """
        check_is_fitted(self)
        names, draws = self._scalar_draws()
        draws = np.asarray(draws, dtype=np.float64)
        if group_by_chain:
            draws = draws.reshape(int(self.num_chains), -1, draws.shape[-1])
        return list(names), draws

    def _diagnose(self):
        """The fit's ``diagnostics_``, with the warnings of the convergence rule."""
        labels, draws = self.parameter_draws(group_by_chain=True)
        if self.inference == "svi":
            diagnostics = svi_diagnostics(
                labels, draws, self.loss_, self._loss_check, float(self.svi_learning_rate)
            )
        else:
            diagnostics = nuts_diagnostics(labels, draws, self._sample_stats, int(self.max_tree_depth))
        if not getattr(self, "_convergence_warned_by_caller", False):
            warn_if_unconverged(diagnostics)
        return diagnostics

    def _feature_labels(self):
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            return [f"x{i}" for i in range(self.n_features_in_)]
        return [str(name) for name in names]

    # -------------------------------------------------------------- predict
    def _validated(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64, ensure_min_features=0)
        if X.size:
            check_magnitude(X, "X", type(self).__name__)
        return X

    def _output_shape(self):
        """Shape of one row's prediction: () for one series, (n_series,) for several."""
        return ()

    def _draw_set(self, time_steps):
        """Posterior draws behind the predictions (indices into the draws)."""
        return np.arange(len(self.coef_samples_))

    def _plug_in_moments(self, X, return_std, time_steps):
        """Predictive mean (and std) from posterior moments, or None to go through the draws."""
        return None

    def _predict(self, X, return_std, time_steps=None):
        moments = self._plug_in_moments(X, return_std, time_steps)
        if moments is not None:
            return moments
        draws = self._draw_set(time_steps)
        mean = np.empty((X.shape[0], *self._output_shape()))
        std = np.empty_like(mean)
        for rows in self._row_blocks(X.shape[0], len(draws)):
            draw_mean, draw_sd = self._draw_moments(X, draws, rows, time_steps)
            mean[rows] = draw_mean.mean(axis=-1)
            std[rows] = np.sqrt(draw_mean.var(axis=-1) + (draw_sd**2).mean(axis=-1))
        return (mean, std) if return_std else mean

    def _row_blocks(self, n_rows, n_draws):
        per_row = n_draws * max(1, int(np.prod(self._output_shape(), dtype=int)))
        block = max(1, BLOCK_VALUES // per_row)
        return [slice(start, start + block) for start in range(0, n_rows, block)]

    def _interval(self, X, coverage, time_steps=None):
        coverage = check_coverage(coverage)
        rng = np.random.default_rng(0)
        available = self._draw_set(time_steps)
        # At least PREDICTIVE_DRAWS predictive draws per row, cycling over the posterior draws.
        draws = available[np.arange(max(len(available), PREDICTIVE_DRAWS)) % len(available)]
        quantiles = [(1 - coverage) / 2, (1 + coverage) / 2]
        out = np.empty((X.shape[0], *self._output_shape(), 2))
        for rows in self._row_blocks(X.shape[0], len(draws)):
            mean, sd = self._draw_moments(X, draws, rows, time_steps)
            sample = mean + sd * rng.standard_normal(mean.shape)
            out[rows] = np.moveaxis(np.quantile(sample, quantiles, axis=-1), 0, -1)
        return out

    def _sample_y(self, X, n_samples, random_state, time_steps=None):
        n_samples = check_n_samples(n_samples)
        rng = np.random.default_rng(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        available = self._draw_set(time_steps)
        draws = available[rng.integers(0, len(available), size=n_samples)]
        mean, sd = self._draw_moments(X, draws, slice(None), time_steps)
        return mean + sd * rng.standard_normal(mean.shape)

    def _log_likelihood(self, X, y, time_steps=None):
        """Normal log-density of every observed entry of ``y`` under every draw, chain by chain."""
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}.")
        draws = self._draw_set(time_steps)
        mean, sd = self._draw_moments(X, draws, slice(None), time_steps)
        observed = ~np.isnan(y)
        residual = (y[observed][:, None] - mean[observed]) / sd[observed]
        log_lik = -0.5 * residual**2 - np.log(sd[observed]) - 0.5 * np.log(2 * np.pi)
        return log_lik.T.reshape(self.num_chains, -1, int(observed.sum()))

    def predict(self, X, return_std=False):
        """Posterior predictive mean (and standard deviation) of the target.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Regressors.
        return_std : bool, default=False
            Also return the posterior predictive standard deviation, which includes the
            coefficient uncertainty and the noise.

        Returns
        -------
        y_mean : ndarray of shape (n_samples,) or (n_samples, n_series)
            Predictive mean.
        y_std : ndarray of shape (n_samples,) or (n_samples, n_series)
            Predictive standard deviation; only if ``return_std``.
        """
        return self._predict(self._validated(X), return_std)

    def predict_interval(self, X, coverage=0.9):
        """Central posterior predictive interval of the target.

        The bounds are quantiles of posterior predictive draws (every posterior draw at least
        once, 4000 draws or more per row, noise included), computed a block of rows at a time
        with a fixed seed, so the result is reproducible.

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
        return self._interval(self._validated(X), coverage)

    def sample_y(self, X, n_samples=1, random_state=None):
        """Draw targets from the posterior predictive distribution.

        Each draw takes one posterior draw of the parameters at random and adds noise, as
        :meth:`sklearn.gaussian_process.GaussianProcessRegressor.sample_y` does.

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
        return self._sample_y(self._validated(X), n_samples, random_state)

    def pointwise_log_likelihood(self, X, y):
        """Log-likelihood of every observation under every posterior draw.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Regressors.
        y : array-like of shape (n_samples,) or (n_samples, n_series)
            Target; NaN entries are not observations and are left out.

        Returns
        -------
        log_lik : ndarray of shape (num_chains, n_draws_per_chain, n_observations)
            Chain by chain, as ArviZ expects; the observations are the non-NaN entries of
            ``y``, row by row.
        """
        X = self._validated(X)
        return self._log_likelihood(X, self._likelihood_target(y, X.shape[0]))

    def _likelihood_target(self, y, n_rows):
        y = np.asarray(y, dtype=np.float64)
        if y.shape[1:] != self._output_shape() and not (
            y.ndim == 2 and y.shape[1] == 1 and not self._output_shape()
        ):
            raise ValueError(
                f"y has shape {y.shape}; predictions have shape (n_samples, *{self._output_shape()})."
            )
        return y.reshape(len(y), *self._output_shape())

    # ------------------------------------------------------------ ArviZ
    def _observed_target(self):
        """The observations of ``log_likelihood``'s ``y``: the non-NaN training targets."""
        return self._y_train[~np.isnan(self._y_train)]

    def to_inference_data(self):
        """The posterior in ArviZ's container (needs the ``[arviz]`` extra).

        The groups and names are those ``arviz.from_numpyro`` gives.

        Returns
        -------
        idata : arviz.InferenceData or xarray.DataTree
            An ``InferenceData`` under ArviZ 0.x, a ``DataTree`` under ArviZ 1.x, with groups
            ``posterior`` (coef, intercept or the level, noise, and the model's own
            parameters), ``sample_stats`` (NUTS only: diverging, acceptance_rate, lp, n_steps,
            and for fits that recorded them energy, step_size and tree_depth),
            ``log_likelihood`` (y, on the training observations) and ``observed_data`` (y's
            observed, non-NaN entries, those of ``log_likelihood``).
        """
        check_is_fitted(self)
        arviz = _arviz.import_arviz("to_inference_data")
        chains = int(self.num_chains)
        draws = self._draw_set(self._training_time_steps())
        variables, dims = self._posterior_variables(draws)
        posterior = {}
        for name, values in variables.items():
            values = np.asarray(values)
            posterior[name] = values.reshape(chains, len(draws) // chains, *values.shape[1:])
        for site, values in self.noise_samples_.items():
            posterior[site] = values[draws].reshape(chains, len(draws) // chains, *values.shape[1:])
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
                "energy": stats["energy"],
                "step_size": stats["step_size"],
            }
        observed = self._observed_target()
        groups = {
            "posterior": posterior,
            "sample_stats": sample_stats,
            "log_likelihood": {
                "y": self._log_likelihood(self._X_train, self._y_train, self._training_time_steps())
            },
            "observed_data": {"y": observed},
        }
        return _arviz.from_groups(arviz, groups, coords={"feature": self._feature_labels()}, dims=dims)

    def _training_time_steps(self):
        return None
