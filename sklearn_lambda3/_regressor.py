"""Bayesian regression on Lambda³ features with NumPyro's NUTS."""

import sys
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._diagnostics import ess_bulk, split_rhat

JUMP_SUFFIXES = ("__delta_LambdaC_pos", "__delta_LambdaC_neg", "__local_jump")
TENSION_SUFFIX = "__rho_T"

# Convergence thresholds of the method (spec §3) used for the ConvergenceWarning.
RHAT_LIMIT = 1.01
ESS_PER_CHAIN_LIMIT = 100

# Smallest number of predictive draws per row behind predict_interval's quantiles.
PREDICTIVE_DRAWS = 4000

_POSITIVE = Interval(Real, 0, None, closed="neither")


class Lambda3BayesRegressor(RegressorMixin, BaseEstimator):
    """Bayesian linear regression of the Lambda³ method, sampled with NumPyro's NUTS.

    The model (spec §3) is ``y_t = β0 + Σ_k β_k f_k[t] + ε_t`` with Normal priors on the
    coefficients and a HalfNormal prior on the noise. ``X`` and ``y`` are standardised
    internally (mean 0, std 1 per column), so **every prior scale is in standard
    deviations of y per standard deviation of the regressor**; the reported coefficients
    are in original units. A regressor whose name ends in ``__delta_LambdaC_pos``,
    ``__delta_LambdaC_neg`` or ``__local_jump`` gets ``jump_prior_scale``, one ending in
    ``__rho_T`` gets ``tension_prior_scale`` and any other ``coef_prior_scale``; names come
    from pandas columns (in a pipeline, ``set_output(transform="pandas")``).

    With ``noise="constant"`` the likelihood is evaluated from the sufficient statistics
    (XᵀX, Xᵀy, yᵀy, n), so sampling cost does not grow with the number of rows. The
    coefficients are sampled in a whitened coordinate (a fixed linear map computed from
    the data) so that NUTS sees a near-isotropic posterior; the priors are unchanged.

    Parameters
    ----------
    model : {"linear"}, default="linear"
        The Lambda³ model. Only the linear model exists so far.
    noise : {"constant", "tension"}, default="constant"
        ``"constant"``: ``ε_t ~ Normal(0, σ)``, ``σ ~ HalfNormal(noise_prior_scale)``.
        ``"tension"``: ``σ_t = σ_base + σ_scale · τ_t`` with ``τ_t`` the ρT regressor divided
        by its training mean, ``σ_base ~ HalfNormal(noise_prior_scale)`` and
        ``σ_scale ~ HalfNormal(noise_prior_scale / 2)`` (the method's 1 and 0.5).
    intercept_prior_scale : float, default=2.0
        Scale of the Normal prior on the intercept.
    coef_prior_scale : float, default=1.0
        Scale of the Normal prior on ordinary regressors (a time index, say).
    jump_prior_scale : float, default=5.0
        Scale of the Normal prior on jump regressors (ΔΛC±, local jumps).
    tension_prior_scale : float, default=3.0
        Scale of the Normal prior on tension regressors (ρT).
    noise_prior_scale : float, default=1.0
        Scale of the HalfNormal prior on the noise.
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
        Show a progress bar while sampling; ``"auto"`` shows it when stderr is a terminal.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features_in_,)
        Posterior mean of the coefficients, original units.
    intercept_ : float
        Posterior mean of the intercept, original units.
    coef_samples_ : ndarray of shape (num_chains * num_samples, n_features_in_)
        Posterior draws of the coefficients, chain after chain.
    intercept_samples_ : ndarray of shape (num_chains * num_samples,)
        Posterior draws of the intercept.
    noise_samples_ : dict of str to ndarray
        Posterior draws of the noise parameters in units of y: ``"sigma"``, or
        ``"sigma_base"`` and ``"sigma_scale"``.
    prior_scales_ : ndarray of shape (n_features_in_,)
        Prior scale used for each coefficient (standardised units).
    diagnostics_ : dict
        ``r_hat_max``, ``ess_bulk_min``, ``num_divergences``, ``mean_num_steps`` and
        ``table``, a dict of per-parameter lists (``parameter``, ``mean``, ``sd``,
        ``r_hat``, ``ess_bulk``).
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
    """

    _parameter_constraints: dict = {
        "model": [StrOptions({"linear"})],
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
        intercept_prior_scale=2.0,
        coef_prior_scale=1.0,
        jump_prior_scale=5.0,
        tension_prior_scale=3.0,
        noise_prior_scale=1.0,
        tension_feature=None,
        num_warmup=1000,
        num_samples=1000,
        num_chains=4,
        target_accept_prob=0.8,
        max_tree_depth=10,
        device="cpu",
        random_state=None,
        progress_bar="auto",
    ):
        self.model = model
        self.noise = noise
        self.intercept_prior_scale = intercept_prior_scale
        self.coef_prior_scale = coef_prior_scale
        self.jump_prior_scale = jump_prior_scale
        self.tension_prior_scale = tension_prior_scale
        self.noise_prior_scale = noise_prior_scale
        self.tension_feature = tension_feature
        self.num_warmup = num_warmup
        self.num_samples = num_samples
        self.num_chains = num_chains
        self.target_accept_prob = target_accept_prob
        self.max_tree_depth = max_tree_depth
        self.device = device
        self.random_state = random_state
        self.progress_bar = progress_bar

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Sample the posterior of the model given regressors ``X`` and target ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Regressors, for example the output of :class:`Lambda3Features`.
        y : array-like of shape (n_samples,)
            Target.

        Returns
        -------
        self : Lambda3BayesRegressor
            The fitted regressor.
        """
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True, ensure_min_samples=2)
        names = getattr(self, "feature_names_in_", None)
        self.prior_scales_ = self._prior_scales(names, X.shape[1])
        tension_index = self._tension_index(names) if self.noise == "tension" else None

        self._x_mean = X.mean(axis=0)
        self._x_scale = _safe_scale(X.std(axis=0))
        self._y_mean = float(y.mean())
        self._y_scale = float(_safe_scale(np.atleast_1d(y.std()))[0])
        Z = np.column_stack([np.ones(len(y)), (X - self._x_mean) / self._x_scale])
        ys = (y - self._y_mean) / self._y_scale
        prior = np.r_[self.intercept_prior_scale, self.prior_scales_]
        data = _whitened_statistics(Z, ys, prior)
        data["prior_scale"] = prior
        data["noise_scale"] = np.float64(self.noise_prior_scale)
        if tension_index is not None:
            tension = X[:, tension_index]
            self._tension_index = tension_index
            self._tension_scale = float(_safe_scale(np.atleast_1d(tension.mean()))[0])
            data.update(_padded_rows(Z, ys, tension / self._tension_scale))

        from ._sampling import sample_posterior

        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        settings = {
            "num_warmup": int(self.num_warmup),
            "num_samples": int(self.num_samples),
            "num_chains": int(self.num_chains),
            "target_accept_prob": float(self.target_accept_prob),
            "max_tree_depth": int(self.max_tree_depth),
        }
        progress = sys.stderr.isatty() if self.progress_bar == "auto" else bool(self.progress_bar)
        draws = sample_posterior(data, self.noise, seed, self.device, settings, progress)
        self._summarise(draws)
        self._X_train, self._y_train = X, y
        return self

    def _prior_scales(self, names, n_features):
        if names is None:
            return np.full(n_features, float(self.coef_prior_scale))
        scales = []
        for name in names:
            if name.endswith(JUMP_SUFFIXES):
                scales.append(self.jump_prior_scale)
            elif name.endswith(TENSION_SUFFIX):
                scales.append(self.tension_prior_scale)
            else:
                scales.append(self.coef_prior_scale)
        return np.asarray(scales, dtype=np.float64)

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

    def _summarise(self, draws):
        theta = draws["theta"].reshape(-1, draws["theta"].shape[-1])
        coef = theta[:, 1:] * (self._y_scale / self._x_scale)
        intercept = self._y_mean + self._y_scale * theta[:, 0] - coef @ self._x_mean
        self.coef_samples_ = coef
        self.intercept_samples_ = intercept
        self.coef_ = coef.mean(axis=0)
        self.intercept_ = float(intercept.mean())
        from ._sampling import NOISE_FLOOR, NOISE_SITES

        noise = {}
        for site in NOISE_SITES[self.noise]:
            value = draws[site].reshape(-1).astype(np.float64)
            if site != "sigma_scale":
                value = value + NOISE_FLOOR
            noise[site] = value * self._y_scale
        self.noise_samples_ = noise
        self._sample_stats = {
            "diverging": draws["diverging"],
            "num_steps": draws["num_steps"],
            "accept_prob": draws["accept_prob"],
            "potential_energy": draws["potential_energy"],
        }
        self.diagnostics_ = self._diagnose()

    def _parameter_names(self):
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            names = [f"x{i}" for i in range(self.n_features_in_)]
        return [f"coef[{name}]" for name in names] + ["intercept"] + list(self.noise_samples_)

    def _draws_by_chain(self):
        """(num_chains, num_samples, n_parameters) array of every scalar parameter."""
        columns = [self.coef_samples_, self.intercept_samples_[:, None]]
        columns += [value[:, None] for value in self.noise_samples_.values()]
        flat = np.column_stack(columns)
        return flat.reshape(self.num_chains, -1, flat.shape[1])

    def _diagnose(self):
        draws = self._draws_by_chain()
        table = {"parameter": self._parameter_names(), "mean": [], "sd": [], "r_hat": [], "ess_bulk": []}
        for j in range(draws.shape[2]):
            table["mean"].append(float(draws[:, :, j].mean()))
            table["sd"].append(float(draws[:, :, j].std()))
            table["r_hat"].append(split_rhat(draws[:, :, j]))
            table["ess_bulk"].append(ess_bulk(draws[:, :, j]))
        diagnostics = {
            "r_hat_max": float(np.nanmax(table["r_hat"])),
            "ess_bulk_min": float(np.nanmin(table["ess_bulk"])),
            "num_divergences": int(self._sample_stats["diverging"].sum()),
            "mean_num_steps": float(self._sample_stats["num_steps"].mean()),
            "table": table,
        }
        problems = []
        if diagnostics["r_hat_max"] > RHAT_LIMIT:
            problems.append(f"r_hat_max={diagnostics['r_hat_max']:.3f} > {RHAT_LIMIT}")
        if diagnostics["ess_bulk_min"] < ESS_PER_CHAIN_LIMIT * self.num_chains:
            problems.append(
                f"ess_bulk_min={diagnostics['ess_bulk_min']:.0f} < "
                f"{ESS_PER_CHAIN_LIMIT} per chain ({ESS_PER_CHAIN_LIMIT * self.num_chains})"
            )
        if diagnostics["num_divergences"]:
            problems.append(f"num_divergences={diagnostics['num_divergences']}")
        if problems:
            warnings.warn(
                "NUTS did not converge: " + "; ".join(problems) + ". Increase num_warmup/num_samples, "
                "raise target_accept_prob, or check the regressors (see diagnostics_['table']).",
                ConvergenceWarning,
                stacklevel=3,
            )
        return diagnostics

    # -------------------------------------------------------------- predict
    def _validated(self, X):
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=np.float64)

    def _noise_variance(self, X):
        """Posterior mean of the noise variance of each row."""
        noise = self.noise_samples_
        if self.noise == "constant":
            return np.full(X.shape[0], np.mean(noise["sigma"] ** 2))
        tension = X[:, self._tension_index] / self._tension_scale
        base, scale = noise["sigma_base"], noise["sigma_scale"]
        return np.mean(base**2) + 2 * np.mean(base * scale) * tension + np.mean(scale**2) * tension**2

    def _noise_std_draws(self, X, draws):
        """Noise std of each row (axis 0) for the posterior draws ``draws`` (axis 1)."""
        noise = self.noise_samples_
        if self.noise == "constant":
            return np.broadcast_to(noise["sigma"][draws], (X.shape[0], len(draws)))
        tension = X[:, self._tension_index] / self._tension_scale
        return noise["sigma_base"][draws] + np.outer(tension, noise["sigma_scale"][draws])

    def predict(self, X, return_std=False):
        """Posterior predictive mean (and standard deviation) of the target.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Regressors.
        return_std : bool, default=False
            Also return the posterior predictive standard deviation, which includes the
            coefficient uncertainty and the noise. It costs O(n_samples · n_features²):
            no (rows × draws) matrix is formed.

        Returns
        -------
        y_mean : ndarray of shape (n_samples,)
            Predictive mean.
        y_std : ndarray of shape (n_samples,)
            Predictive standard deviation; only if ``return_std``.
        """
        X = self._validated(X)
        mean = X @ self.coef_ + self.intercept_
        if not return_std:
            return mean
        params = np.column_stack([self.coef_samples_, self.intercept_samples_])
        covariance = np.atleast_2d(np.cov(params, rowvar=False))
        k = X.shape[1]
        cov_xx, cov_xb, var_b = covariance[:k, :k], covariance[:k, k], covariance[k, k]
        var_mean = np.einsum("ij,ij->i", X @ cov_xx, X) + 2 * X @ cov_xb + var_b
        return mean, np.sqrt(np.maximum(var_mean, 0) + self._noise_variance(X))

    def _predictive_draws(self, X, draws, rng):
        mean = X @ self.coef_samples_[draws].T + self.intercept_samples_[draws]
        return mean + rng.standard_normal(mean.shape) * self._noise_std_draws(X, draws)

    def predict_interval(self, X, coverage=0.9):
        """Central posterior predictive interval of the target.

        The bounds are quantiles of posterior predictive draws (every posterior draw at
        least once, 4000 draws or more per row, noise included), computed a block of rows
        at a time with a fixed seed, so the result is reproducible.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Regressors.
        coverage : float, default=0.9
            Probability mass inside the interval, in (0, 1).

        Returns
        -------
        interval : ndarray of shape (n_samples, 2)
            Lower and upper bounds.
        """
        if not isinstance(coverage, Real) or not 0 < coverage < 1:
            raise ValueError(f"coverage must be a float in (0, 1); got {coverage!r}.")
        X = self._validated(X)
        rng = np.random.default_rng(0)
        n_draws = len(self.intercept_samples_)
        # At least PREDICTIVE_DRAWS predictive draws per row, cycling over the posterior draws.
        draws = np.arange(max(n_draws, PREDICTIVE_DRAWS)) % n_draws
        quantiles = [(1 - coverage) / 2, (1 + coverage) / 2]
        block = max(1, 2**22 // len(draws))
        out = np.empty((X.shape[0], 2))
        for start in range(0, X.shape[0], block):
            rows = X[start : start + block]
            out[start : start + block] = np.quantile(
                self._predictive_draws(rows, draws, rng), quantiles, axis=1
            ).T
        return out

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
        y_samples : ndarray of shape (n_samples_X, n_samples)
            The draws.
        """
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}.")
        X = self._validated(X)
        rng = np.random.default_rng(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        draws = rng.integers(0, len(self.intercept_samples_), size=n_samples)
        return self._predictive_draws(X, draws, rng)

    def pointwise_log_likelihood(self, X, y):
        """Log-likelihood of every row under every posterior draw.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Regressors.
        y : array-like of shape (n_samples,)
            Target.

        Returns
        -------
        log_lik : ndarray of shape (num_chains, num_samples, n_samples)
            Chain by chain, as ArviZ expects.
        """
        X = self._validated(X)
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if len(y) != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {len(y)}.")
        draws = np.arange(len(self.intercept_samples_))
        mean = X @ self.coef_samples_.T + self.intercept_samples_
        std = self._noise_std_draws(X, draws)
        log_lik = -0.5 * ((y[:, None] - mean) / std) ** 2 - np.log(std) - 0.5 * np.log(2 * np.pi)
        return log_lik.T.reshape(self.num_chains, -1, X.shape[0])

    def to_inference_data(self):
        """The posterior as an ArviZ ``InferenceData`` (needs the ``[arviz]`` extra).

        Returns
        -------
        idata : arviz.InferenceData
            Groups ``posterior`` (coef, intercept, noise), ``sample_stats`` (diverging,
            n_steps, acceptance_rate, lp), ``log_likelihood`` (y, on the training rows) and
            ``observed_data`` (y).
        """
        check_is_fitted(self)
        try:
            import arviz
        except ImportError as error:
            raise ImportError(
                "to_inference_data needs ArviZ: pip install 'sklearn-lambda3[arviz]'"
            ) from error
        chains = self.num_chains
        names = getattr(self, "feature_names_in_", None)
        names = [f"x{i}" for i in range(self.n_features_in_)] if names is None else list(names)
        posterior = {
            "coef": self.coef_samples_.reshape(chains, -1, self.n_features_in_),
            "intercept": self.intercept_samples_.reshape(chains, -1),
        }
        posterior.update({k: v.reshape(chains, -1) for k, v in self.noise_samples_.items()})
        stats = self._sample_stats
        return arviz.from_dict(
            posterior=posterior,
            sample_stats={
                "diverging": stats["diverging"],
                "n_steps": stats["num_steps"],
                "acceptance_rate": stats["accept_prob"],
                "lp": -stats["potential_energy"],
            },
            log_likelihood={"y": self.pointwise_log_likelihood(self._X_train, self._y_train)},
            observed_data={"y": self._y_train},
            coords={"feature": names},
            dims={"coef": ["feature"]},
        )


def _safe_scale(scale):
    """Standard deviations with zeros (constant columns) replaced by one."""
    scale = np.asarray(scale, dtype=np.float64).copy()
    scale[~(scale > 0)] = 1.0
    return scale


def _whitened_statistics(Z, y, prior_scale):
    """Sufficient statistics of the linear model in the whitened coordinate.

    With ``G = ZᵀZ = RᵀR`` and ``θ_ols`` a least-squares solution,
    ``|y - Zθ|² = RSS_ols + |R(θ - θ_ols)|²``. ``θ = center + whiten @ u`` where
    ``whiten`` is the inverse transposed Cholesky factor of the approximate posterior
    precision ``G / σ̂² + diag(1 / prior_scale²)`` and ``center`` its ridge mean.
    Everything is in float64 here; the sampler then works in float32 on O(1) quantities.
    """
    gram = Z.T @ Z
    moment = Z.T @ y
    eigval, eigvec = np.linalg.eigh(gram)
    tol = eigval.max() * len(eigval) * np.finfo(np.float64).eps
    inv_eig = np.where(eigval > tol, 1.0 / np.where(eigval > tol, eigval, 1.0), 0.0)
    theta_ols = eigvec @ (inv_eig * (eigvec.T @ moment))
    root = np.sqrt(np.clip(eigval, 0, None))[:, None] * eigvec.T
    rss_ols = float(np.sum((y - Z @ theta_ols) ** 2))
    sigma2 = max(rss_ols / max(len(y) - Z.shape[1], 1), 1e-8)
    precision = gram / sigma2 + np.diag(1.0 / prior_scale**2)
    cholesky = np.linalg.cholesky(precision)
    center = np.linalg.solve(precision, moment / sigma2)
    whiten = np.linalg.inv(cholesky).T
    return {
        "center": center,
        "whiten": whiten,
        "root_whiten": root @ whiten,
        "offset": root @ (center - theta_ols),
        "rss_ols": np.float64(rss_ols),
        "n": np.float64(len(y)),
    }


def _padded_rows(Z, y, tension):
    """Rows padded to a power-of-two bucket (at least 64), with a mask of the real ones.

    Padding keeps the compiled sampler's shapes the same across folds of similar size.
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
        "mask": np.r_[np.ones(n), pad[n:]],
    }
