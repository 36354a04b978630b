"""The linear Lambda³ model (spec §3) and its estimator, :class:`Lambda3BayesRegressor`."""

from dataclasses import dataclass

import numpy as np
import scipy.sparse
from sklearn.base import _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import _check_sample_weight, validate_data

from .._validation import check_magnitude
from ._base import POSITIVE, BaseBayesRegressor, mean_variance
from ._docs import substitute_docs
from ._model import HostFreeModel
from ._noise import (
    NOISE_FLOOR,
    NOISE_FLOOR_VARIANCE,
    TensionNoiseMixin,
    collapsed_noise_loglik,
    relative_log_precision,
    tension_noise,
)
from ._priors import evidence_shrinkage


def whitened_coefficients(data):
    """Coefficients θ = centre + whiten @ u with the Normal prior of the method on θ.

    ``u`` is a whitened coordinate: ``whiten`` is the inverse Cholesky factor of an
    approximate posterior precision, so the posterior of ``u`` is close to isotropic and
    NUTS needs short trajectories. The prior stays exactly the method's, on θ.
    """
    import numpyro
    import numpyro.distributions as dist
    from numpyro.distributions import constraints

    k = data["center"].shape[0]
    u = numpyro.sample("u", dist.ImproperUniform(constraints.real_vector, (), event_shape=(k,)))
    theta = numpyro.deterministic("theta", data["center"] + data["whiten"] @ u)
    numpyro.factor("theta_prior", dist.Normal(0.0, data["prior_scale"]).log_prob(theta).sum())
    return u, theta


@dataclass(frozen=True)
class LinearModel(HostFreeModel):
    """``y_t = θ0 + Σ_k θ_k w_k[t] + ε_t`` on standardised data, constant or tension noise."""

    noise: str = "constant"

    @property
    def reported_sites(self):
        return ("theta", "sigma") if self.noise == "constant" else ("theta", "sigma_base", "sigma_scale")

    def program(self, data):
        if self.noise == "constant":
            self._constant_noise(data)
        else:
            self._tension_noise(data)

    @staticmethod
    def _constant_noise(data):
        """Constant noise, likelihood from sufficient statistics.

        ``RSS(θ) = RSS_ols + |R (θ - θ_ols)|²`` with ``RᵀR = ZᵀZ``; with θ = centre + whiten @ u
        the residual part is ``offset + root_whiten @ u``, so a gradient costs O(k²) whatever n.

        The log-likelihood is written relative to σ̂ (``σ = σ̂ e^v``) with its constant dropped:
        ``-(n/2) (e^{-2v} - 1 + 2v) - (excess + |r|² / (2σ̂²)) e^{-2v}``
        (:func:`~sklearn_lambda3.bayes._noise.collapsed_noise_loglik`, float32-safe at any n).
        """
        import jax.numpy as jnp
        import numpyro
        import numpyro.distributions as dist
        from numpyro.distributions import constraints

        u, _ = whitened_coefficients(data)
        # σ is sampled as w with log σ = log σ̂ + w / sqrt(2n), the scale of its posterior, so w is
        # O(1) like u whatever n; the HalfNormal prior on σ is kept exactly (Jacobian: σ).
        w = numpyro.sample("w", dist.ImproperUniform(constraints.real, (), ()))
        log_sigma = data["log_sigma_hat"] + data["log_sigma_sd"] * w
        sigma = numpyro.deterministic("sigma", jnp.exp(log_sigma))
        numpyro.factor("sigma_prior", dist.HalfNormal(data["noise_scale"]).log_prob(sigma) + log_sigma)
        residual = data["offset"] + data["root_whiten"] @ u
        x = relative_log_precision(sigma, data["log_sigma_hat"])
        excess = data["rss_excess"] + residual @ residual * data["half_inv_sigma_hat2"]
        numpyro.factor("loglik", collapsed_noise_loglik(x, data["n"], excess))

    @staticmethod
    def _tension_noise(data):
        """The method's tension-dependent noise; rows padded to a bucket size.

        ``mask`` weights each row's log-likelihood (1 or the row's sample weight) and zeroes the
        padding out of it.
        """
        import numpyro
        import numpyro.distributions as dist

        _, theta = whitened_coefficients(data)
        sigma_base = numpyro.sample("sigma_base", dist.HalfNormal(data["noise_scale"]))
        sigma_scale = numpyro.sample("sigma_scale", dist.HalfNormal(0.5 * data["noise_scale"]))
        sigma = tension_noise(sigma_base, sigma_scale, data["tension"]) + NOISE_FLOOR
        loglik = dist.Normal(data["design"] @ theta, sigma).log_prob(data["y"]) * data["mask"]
        numpyro.factor("loglik", loglik.sum())

    def latent_shapes(self, data):
        sites = {"u": (data["center"].shape[0],)}
        sites.update({"w": ()} if self.noise == "constant" else {"sigma_base": (), "sigma_scale": ()})
        return sites

    def initial_values(self, data):
        import jax.numpy as jnp

        values = {"u": jnp.zeros(data["center"].shape[0])}
        if self.noise == "constant":
            values["w"] = jnp.zeros(())
        return values


def whitened_statistics(Z, y, prior_scale, weight=None):
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
    # Reference noise level of the likelihood (see LinearModel._constant_noise).
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


def padded_rows(Z, y, tension, weight=None):
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


@substitute_docs
class Lambda3BayesRegressor(TensionNoiseMixin, BaseBayesRegressor):
    """Bayesian linear regression of the Lambda³ method, sampled with NumPyro's NUTS (or SVI).

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
    ``set_output(transform="pandas")``). With ``prior_shrinkage="evidence"`` (the default) all
    coefficient scales are multiplied by one factor ``g`` in (0, 1] chosen to maximise the
    marginal likelihood (type-II maximum likelihood, as
    :class:`~sklearn.linear_model.BayesianRidge` chooses its weight precision), so that many
    weak regressors on a short series are shrunk together; ``prior_shrinkage_`` holds ``g``.
    The intercept's prior (``intercept_prior_scale`` standard deviations of y around y's
    training mean) is not shrunk. Sampling works on standardised data (mean 0, std 1 per
    column), where the same prior has scale ``g · scale · spread``; the reported coefficients
    are in original units.

    With ``noise="constant"`` the likelihood is evaluated from the sufficient statistics
    (XᵀX, Xᵀy, yᵀy, n), so sampling cost does not grow with the number of rows. The
    coefficients are sampled in a whitened coordinate (a fixed linear map computed from
    the data) so that NUTS sees a near-isotropic posterior; the priors are unchanged. Rows are
    exchangeable: predictions do not depend on where a row sits in time.

    ``inference="svi"`` replaces NUTS by stochastic variational inference with a NumPyro
    autoguide on the same model: ``guide="normal"`` (``AutoNormal``, mean-field) or
    ``"lowrank"`` (``AutoLowRankMultivariateNormal``). Adam runs ``svi_steps`` steps, their
    size decaying from ``svi_learning_rate`` to a tenth of it; the loss history is ``loss_``
    and ``num_chains * num_samples`` independent draws from the fitted guide fill the same
    attributes as NUTS's draws, so every method works alike. Because the coefficients are
    sampled in a whitened coordinate, the mean-field guide is close to exact. A
    ``ConvergenceWarning`` is raised while the loss is still falling at the end.

    For a level that drifts over time with change points use
    :class:`~sklearn_lambda3.Lambda3DynamicRegressor`; for several related series,
    :class:`~sklearn_lambda3.Lambda3HierarchicalRegressor`.

    Parameters
    ----------
    noise : {"constant", "tension"}, default="constant"
        ``"constant"``: ``ε_t ~ Normal(0, σ)``, ``σ ~ HalfNormal(noise_prior_scale)``.
        ``"tension"``: ``σ_t = σ_base + σ_scale · τ_t`` with ``τ_t`` the ρT regressor divided
        by its training mean, ``σ_base ~ HalfNormal(noise_prior_scale)`` and
        ``σ_scale ~ HalfNormal(noise_prior_scale / 2)`` (the method's 1 and 0.5).
    intercept_prior_scale : float, default=2.0
        Scale of the Normal prior on the intercept, standard deviations of y.
    coef_prior_scale : float, default=1.0
        Scale of the Normal prior on ordinary regressors (a time index, say).
    jump_prior_scale : float, default=5.0
        Scale of the Normal prior on jump regressors (ΔΛC±, local jumps).
    tension_prior_scale : float, default=3.0
        Scale of the Normal prior on tension regressors (ρT).
    {noise_prior_scale}
    prior_shrinkage : "evidence" or float, default="evidence"
        Factor ``g`` applied to every coefficient's prior scale (not the intercept's).
        ``"evidence"``: the ``g`` in [1e-4, 1] that maximises the marginal likelihood of y
        (with the noise variance also maximised; under ``noise="tension"`` the constant-noise
        likelihood chooses it). A number fixes ``g``: ``1.0`` uses the scales exactly as given.
    {tension_feature}
    {sampler_parameters}

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
    loss_ : ndarray of shape (svi_steps,)
        SVI only: the loss (negative ELBO) at every step.
    prior_scales_ : ndarray of shape (n_features_in_,)
        Prior scale of each coefficient by its column kind, before shrinkage: standard
        deviations of y per raw unit of the regressor. The prior actually used is
        ``Normal(0, prior_shrinkage_ * prior_scales_ * std(y))`` in original units.
    prior_shrinkage_ : float
        The shrinkage factor ``g`` used (see ``prior_shrinkage``).
    diagnostics_ : dict
        ``inference`` (``"nuts"`` or ``"svi"``) and ``num_chains``. NUTS: ``r_hat_max``,
        ``ess_bulk_min``, ``ess_tail_min``, ``num_divergences``, ``mean_num_steps``, ``e_bfmi``
        (ndarray of shape (num_chains,), each chain's energy Bayesian fraction of missing
        information), ``step_size`` (ndarray of shape (num_chains,), each chain's adapted step
        size), ``tree_depth_saturation`` (share of the draws whose tree depth reached
        ``max_tree_depth``) and ``table``, a dict of per-parameter lists (``parameter``,
        ``mean``, ``sd``, ``r_hat``, ``ess_bulk``, ``ess_tail``, ``mcse_mean``: the Monte Carlo
        standard error of the mean). A :class:`~sklearn.exceptions.ConvergenceWarning` names
        the diagnostics beyond the method's limits (R-hat above 1.01, bulk or tail ESS below
        100 per chain, divergences, an E-BFMI below 0.3); a ``UserWarning`` tells of saturated
        trees. SVI: ``final_loss``, ``loss_drop_last_tenth`` and ``loss_rate_last_tenth`` (ELBO
        estimates with common random numbers), ``num_steps`` and ``table`` (``parameter``,
        ``mean``, ``sd``). :func:`~sklearn_lambda3.bayes.convergence_problems` gives the verdict.
    n_features_in_ : int
        Number of regressors.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Regressor names, when ``X`` has string column names.

    See Also
    --------
    sklearn.linear_model.BayesianRidge : Conjugate Bayesian ridge regression.
    Lambda3Features : The jump and tension features this model is made for.
    Lambda3DynamicRegressor : A drifting level with change points instead of an intercept.
    Lambda3HierarchicalRegressor : Several related series with partially pooled coefficients.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lambda3 import Lambda3BayesRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = 1.5 * X[:, 0] - 2.0 * X[:, 1] + 0.5 + rng.normal(scale=0.1, size=200)
    >>> reg = Lambda3BayesRegressor(random_state=0).fit(X, y)
    >>> np.round(reg.coef_, 1)
    array([ 1.5, -2. ])
    >>> mean, std = reg.predict(X[:3], return_std=True)
    >>> bool(np.all((std > 0.09) & (std < 0.12)))
    True
    >>> fast = Lambda3BayesRegressor(inference="svi", random_state=0).fit(X, y)
    >>> np.round(fast.coef_, 1)
    array([ 1.5, -2. ])
    """

    _parameter_constraints: dict = {
        **BaseBayesRegressor._parameter_constraints,
        "noise": [StrOptions({"constant", "tension"})],
        "prior_shrinkage": [StrOptions({"evidence"}), POSITIVE],
        "tension_feature": [str, None],
    }

    def __init__(
        self,
        noise="constant",
        *,
        intercept_prior_scale=2.0,
        coef_prior_scale=1.0,
        jump_prior_scale=5.0,
        tension_prior_scale=3.0,
        noise_prior_scale=1.0,
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
        self.noise = noise
        self.intercept_prior_scale = intercept_prior_scale
        self.coef_prior_scale = coef_prior_scale
        self.jump_prior_scale = jump_prior_scale
        self.tension_prior_scale = tension_prior_scale
        self.noise_prior_scale = noise_prior_scale
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

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Sample the posterior of the linear model given regressors ``X`` and target ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Regressors, for example the output of :class:`Lambda3Features`; finite, at most
            ``1e150`` in absolute value.
        y : array-like of shape (n_samples,)
            Target, real, finite, at most ``1e150`` in absolute value (NaN is an error: the
            dynamic and hierarchical regressors read NaN as a step that is not observed).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative finite weight of each row: each row's log-likelihood is multiplied by
            its weight, so a weight of 2 is the row twice and 0 leaves it out (the
            standardisation and the evidence shrinkage are weighted alike). None weighs every
            row 1.

        Returns
        -------
        self : Lambda3BayesRegressor
            The fitted regressor.
        """
        values = None if y is None or scipy.sparse.issparse(y) else np.asarray(y)
        if values is not None and values.dtype.kind == "f" and np.isnan(values).any():
            raise ValueError(
                "y holds NaN; Lambda3BayesRegressor needs every target observed "
                "(Lambda3DynamicRegressor and Lambda3HierarchicalRegressor read NaN in y as a step "
                "that is not observed)."
            )
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True, ensure_min_samples=2)
        if y.dtype.kind not in "biuf":
            raise TypeError(f"y must hold real numbers; got dtype {y.dtype}.")
        y = y.astype(np.float64, copy=False)
        check_magnitude(y, "y", "Lambda3BayesRegressor")
        weight = None
        if sample_weight is not None:
            weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
            if not np.any(weight > 0):  # scikit-learn < 1.7 lets all-zero weights through
                raise ValueError("Sample weights must contain at least one non-zero number.")
        return self._fit_posterior(X, y, weight)

    def _model(self):
        return LinearModel(noise=self.noise)

    def _model_data(self, X, W, ys, standardised_prior, weight):
        tension = self._set_tension(X, weight)
        Z = np.column_stack([np.ones(len(ys)), W])
        prior = np.r_[self.intercept_prior_scale, standardised_prior]
        if self.prior_shrinkage == "evidence":
            shrunk = np.r_[False, np.ones(X.shape[1], dtype=bool)]
            self.prior_shrinkage_ = evidence_shrinkage(Z, ys, prior, shrunk, sample_weight=weight)
        else:
            self.prior_shrinkage_ = float(self.prior_shrinkage)
        prior[1:] *= self.prior_shrinkage_
        data = whitened_statistics(Z, ys, prior, weight)
        data["prior_scale"] = prior
        if tension is not None:
            data.update(padded_rows(Z, ys, tension, weight))
        return data

    def _summarise(self, draws):
        # float64 before adding back the means: float32 draws (the sampler's) would round an
        # intercept near an offset of 1e12 to the nearest 2**16.
        theta = draws["theta"].reshape(-1, draws["theta"].shape[-1]).astype(np.float64)
        coef = theta[:, 1:] * (self._y_scale / self._x_scale)
        self.intercept_samples_ = self._y_mean + self._y_scale * theta[:, 0] - coef @ self._x_mean
        self.intercept_ = float(self.intercept_samples_.mean())
        self.coef_samples_ = coef
        self.coef_ = coef.mean(axis=0)

    def _scalar_draws(self):
        labels = [f"coef[{name}]" for name in self._feature_labels()] + ["intercept", *self.noise_samples_]
        columns = [self.coef_samples_, self.intercept_samples_[:, None]]
        columns += [value[:, None] for value in self.noise_samples_.values()]
        return labels, np.column_stack(columns)

    def _draw_moments(self, X, draws, rows, time_steps):
        block = X[rows]
        mean = block @ self.coef_samples_[draws].T + self.intercept_samples_[draws]
        return mean, self._noise_sd(block, draws)

    def _plug_in_moments(self, X, return_std, time_steps):
        mean = X @ self.coef_ + self.intercept_
        if not return_std:
            return mean
        var_mean = mean_variance(X, self.coef_samples_, self.intercept_samples_)
        return mean, np.sqrt(var_mean + self._noise_variance(X))

    def _posterior_variables(self, draws):
        variables = {"coef": self.coef_samples_[draws], "intercept": self.intercept_samples_[draws]}
        return variables, {"coef": ["feature"]}
