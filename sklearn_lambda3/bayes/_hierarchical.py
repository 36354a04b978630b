"""The hierarchical Lambda³ model (several related series) and its estimator,
:class:`Lambda3HierarchicalRegressor`."""

from dataclasses import dataclass

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils.validation import validate_data

from .._validation import check_series_target
from ._base import POSITIVE, BaseBayesRegressor, mean_variance
from ._docs import substitute_docs
from ._hierarchical_linalg import UNROLLED_LIMIT, collapsed_terms, matheron_batched, matheron_unrolled
from ._model import HostFreeModel
from ._noise import NOISE_FLOOR, NOISE_FLOOR_VARIANCE, collapsed_noise_loglik, relative_log_precision

# Largest number of latent dimensions for which the model adapts a dense mass matrix.
DENSE_MASS_LIMIT = 64

# Fewest series informing a coefficient's spread τ for which the sampler takes τ itself, not
# log τ, as its coordinate (see HierarchicalModel).
LINEAR_SPREAD_SERIES = 20

# Inputs of the sampler's program; the rest of the model's data serves the host only.
PROGRAM_INPUTS = (
    "root",
    "root_theta_hat",
    "n",
    "log_sigma_hat",
    "log_sigma_sd",
    "half_inv_sigma_hat2",
    "rss_excess",
    "prior_scale",
    "mu_center",
    "mu_var",
    "pool_scale",
    "tau_linear",
    "tau_center",
    "tau_scale",
    "noise_scale",
)


@dataclass(frozen=True)
class HierarchicalModel(HostFreeModel):
    """Partial pooling of several series' coefficients (spec §3, hierarchical).

    Series ``s`` has coefficients ``θ_s ~ Normal(μ, τ)`` (intercept included) and noise σ_s.
    Given (μ, τ, σ_s) the series is linear-Gaussian, so ``θ_s`` is integrated out exactly
    from its sufficient statistics and NUTS samples only μ, τ and σ: no funnel between τ
    and the θ_s, however short or long the series. The θ_s are then drawn exactly on the host
    for every draw (:meth:`complete`).

    With ``R_s`` a square root of the Gram matrix (``R_sᵀR_s = G_s = Z_sᵀZ_s``),
    ``N_s = I + R_s diag(τ²) R_sᵀ / σ_s²`` and ``ρ_s = R_s (μ - θ̂_s) / σ_s`` the collapsed
    log-likelihood is, up to a constant, ``-n log σ - RSS_ols / (2σ²) - ½ log|N_s| - ½
    ρ_sᵀN_s⁻¹ρ_s`` (the Normal ``θ̂_s ~ N(μ, σ² G_s⁻¹ + diag(τ²))`` written so that it needs no
    inverse of G_s and no division by τ). It depends on τ², smoothly through τ = 0.

    τ's coordinate depends on how many series inform it (:func:`spread_coordinate`). With many,
    τ's posterior is either pinned near zero, cut off like ``exp(-S τ⁴ / 4 se⁴)`` (a wall in
    ``log τ``, whose curvature would set NUTS's step size, but a gentle quartic in τ), or a
    narrow bump: τ is then sampled as a signed coordinate ``τ_signed = c + b z``, centred and
    scaled on a moment estimate, with ``τ = |τ_signed|`` and ``τ_signed ~ Normal(0,
    population_prior_scale)`` (exactly the HalfNormal prior). With few, τ's posterior has long
    polynomial tails, which ``log τ`` turns into exponential ones: τ is sampled as ``log τ``.
    Every matrix factorised is ``N_s``, whose eigenvalues are at least 1; the program runs in
    float64 (scoped to the fit), as the condition number of ``N_s`` grows like τ² n / σ².
    """

    #: Whether the program writes the per-series factorisation out entry by entry (with its
    #: gradient) rather than calling LAPACK; at most :data:`UNROLLED_LIMIT` coefficients.
    unrolled: bool = True

    float64 = True
    reported_sites = ("mu", "tau", "sigma")

    def program(self, data):
        import jax.numpy as jnp
        import numpyro
        import numpyro.distributions as dist
        from numpyro.distributions import constraints

        k = data["prior_scale"].shape[0]
        n_series = data["n"].shape[0]
        real = dist.ImproperUniform(constraints.real_vector, (), event_shape=(k,))
        # τ_signed = c + b z where many series inform the spread, log τ = c + b z where few do.
        linear = data["tau_linear"] > 0
        stretched = data["tau_center"] + data["tau_scale"] * numpyro.sample("tau_z", real)
        log_jacobian = jnp.where(linear, 0.0, stretched)
        tau_signed = jnp.where(linear, stretched, jnp.exp(log_jacobian))
        # |τ_signed| has τ's HalfNormal prior; the likelihood depends on τ² only.
        numpyro.factor(
            "tau_prior", (dist.Normal(0.0, data["pool_scale"]).log_prob(tau_signed) + log_jacobian).sum()
        )
        tau2 = tau_signed**2
        numpyro.deterministic("tau", jnp.abs(tau_signed))
        # μ = centre + spread(τ) η: given τ, μ's posterior is about Normal(centre, spread²) with
        # spread² = τ²/S + pooled sampling variance, so η is O(1) at every τ (no funnel between μ
        # and τ when few series inform τ). The prior on μ is kept exactly (Jacobian: spread).
        eta = numpyro.sample("eta", real)
        spread = jnp.sqrt(tau2 / n_series + data["mu_var"])
        mu = numpyro.deterministic("mu", data["mu_center"] + spread * eta)
        numpyro.factor(
            "mu_prior", (dist.Normal(0.0, data["prior_scale"]).log_prob(mu) + jnp.log(spread)).sum()
        )
        w = numpyro.sample("w", dist.ImproperUniform(constraints.real_vector, (), event_shape=(n_series,)))
        log_sigma = data["log_sigma_hat"] + data["log_sigma_sd"] * w
        sigma = numpyro.deterministic("sigma", jnp.exp(log_sigma))
        numpyro.factor(
            "sigma_prior", (dist.HalfNormal(data["noise_scale"]).log_prob(sigma) + log_sigma).sum()
        )
        x = relative_log_precision(sigma, data["log_sigma_hat"])
        inv_var = jnp.exp(x) * data["half_inv_sigma_hat2"] * 2.0  # 1 / σ²
        loglik = collapsed_noise_loglik(x, data["n"], data["rss_excess"])
        half_log_det, quadratic = collapsed_terms(
            tau2, mu, inv_var, data["root"], data["root_theta_hat"], self._unrolled(k)
        )
        numpyro.factor("loglik", (loglik - half_log_det - 0.5 * quadratic).sum())

    def latent_shapes(self, data):
        k = data["prior_scale"].shape[0]
        return {"tau_z": (k,), "eta": (k,), "w": (data["n"].shape[0],)}

    def initial_values(self, data):
        import jax.numpy as jnp

        k = data["prior_scale"].shape[0]
        # SVI starts at the moment estimate of τ (signed coordinate) or a tenth of its prior's scale.
        tau_z = jnp.where(data["tau_linear"] > 0, 0.0, jnp.log(0.1 * data["pool_scale"]))
        return {"tau_z": tau_z, "eta": jnp.zeros(k), "w": jnp.zeros(data["n"].shape[0])}

    def dense_mass(self, dimension):
        # μ, τ and σ are coupled: a dense mass matrix is cheap at small sizes and follows them.
        return dimension <= DENSE_MASS_LIMIT

    def _unrolled(self, n_coef):
        return self.unrolled and n_coef <= UNROLLED_LIMIT

    def prepare(self, data):
        inputs = {key: data[key] for key in PROGRAM_INPUTS}
        if self._unrolled(data["root"].shape[-1]):  # series last: see collapsed_terms
            inputs["root"] = np.ascontiguousarray(np.moveaxis(data["root"], 0, -1))
            inputs["root_theta_hat"] = np.ascontiguousarray(data["root_theta_hat"].T)
        return inputs, None

    def complete(self, draws, data, state, seed):
        """Exact draws of every series' θ_s given each draw of (μ, τ, σ), in float64 on the host.

        In the coordinate φ with θ = μ + τ ⊙ φ the prior is standard normal and the data say
        ``R(θ̂ - μ) / σ = B φ + ε`` with ``B = R diag(τ) / σ`` and ε standard normal. A joint
        draw (φ₀, ε₀) of that pair is moved onto the observed value (Matheron's rule):
        ``φ = φ₀ + Bᵀ N⁻¹ (R(θ̂ - μ) / σ - B φ₀ - ε₀)`` with ``N = I + B Bᵀ``, an exact
        posterior draw, valid at τ = 0 too.
        """
        mu = draws["mu"].reshape(-1, draws["mu"].shape[-1]).astype(np.float64)
        tau = draws["tau"].reshape(mu.shape).astype(np.float64)
        sigma = draws["sigma"].reshape(len(mu), -1).astype(np.float64) + NOISE_FLOOR
        root, root_theta_hat = data["root"], data["root_theta_hat"]
        n_series, k = root_theta_hat.shape
        rng = np.random.default_rng([seed, 2])
        out = np.empty((len(mu), n_series, k))
        draw = matheron_unrolled if k <= UNROLLED_LIMIT else matheron_batched
        # Blocks of draws bound the (draws, series, k, k) temporaries.
        block = max(1, 2**21 // (n_series * k * k))
        for start in range(0, len(mu), block):
            rows = slice(start, start + block)
            phi0, eps0 = rng.standard_normal((2, len(mu[rows]), n_series, k))
            out[rows] = draw(mu[rows], tau[rows], 1.0 / sigma[rows], root, root_theta_hat, phi0, eps0)
        return {**draws, "theta": out}


def unrolled_program(n_coef, n_series):
    """Whether the program of ``n_series`` series of ``n_coef`` coefficients writes the
    factorisation out entry by entry (:attr:`HierarchicalModel.unrolled`).

    Written out, a gradient costs far less than LAPACK's per series, but the program grows like
    k³ and compiles longer: with the default 2000 iterations (some 40,000 gradients) it pays
    from about k³ / 5 series.
    """
    return n_coef <= UNROLLED_LIMIT and 5 * n_series >= n_coef**3


def series_statistics(Z, y):
    """Per-series sufficient statistics of the hierarchical model (standardised units).

    For series ``s`` (rows where ``y[:, s]`` is observed): ``G_s = Z_sᵀZ_s`` and a square root
    ``R_s`` of it (``R_sᵀR_s = G_s``, from its eigendecomposition, so a singular G_s is fine), a
    least-squares solution ``θ̂_s`` and ``R_s θ̂_s``, ``RSS_s`` and the reference noise level
    ``σ̂_s`` of the relative likelihood (see :class:`HierarchicalModel`).
    """
    n_series, k = y.shape[1], Z.shape[1]
    gram = np.empty((n_series, k, k))
    theta_hat = np.empty((n_series, k))
    rss = np.empty(n_series)
    n = np.empty(n_series)
    observed = ~np.isnan(y)
    if observed.all():  # every series observed at every step: one Gram matrix, one solve
        gram[:] = Z.T @ Z
        theta_hat[:] = np.linalg.lstsq(Z, y, rcond=None)[0].T
        rss[:] = np.sum((y - Z @ theta_hat.T) ** 2, axis=0)
        n[:] = len(y)
    else:
        for s in range(n_series):
            rows = observed[:, s]
            Zs, ys = Z[rows], y[rows, s]
            gram[s] = Zs.T @ Zs
            theta_hat[s] = np.linalg.lstsq(Zs, ys, rcond=None)[0]
            rss[s] = np.sum((ys - Zs @ theta_hat[s]) ** 2)
            n[s] = rows.sum()
    eigval, eigvec = np.linalg.eigh(gram)
    root = np.sqrt(np.maximum(eigval, 0.0))[..., :, None] * np.swapaxes(eigvec, -1, -2)
    # A series with no more steps than coefficients fits exactly: its reference noise is the
    # standardised scale, not the zero residual.
    determined = n > k
    sigma_hat2 = np.where(determined, np.maximum(rss / np.maximum(n, 1), NOISE_FLOOR_VARIANCE), 1.0)
    return {
        "gram": gram,
        "theta_hat": theta_hat,
        "root": root,
        "root_theta_hat": np.einsum("sij,sj->si", root, theta_hat),
        "n": n,
        "log_sigma_hat": 0.5 * np.log(sigma_hat2),
        "log_sigma_sd": 1.0 / np.sqrt(2.0 * np.maximum(n - k, 1)),
        "half_inv_sigma_hat2": 0.5 / sigma_hat2,
        "rss_excess": (rss - n * sigma_hat2) / (2.0 * sigma_hat2),
    }


def pooled_centre(data):
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


def spread_coordinate(data):
    """The sampler's coordinate for each coefficient's spread τ (see :class:`HierarchicalModel`):
    ``tau_linear`` (1: ``τ_signed = c + b z``, 0: ``log τ = c + b z``), ``tau_center`` (c) and
    ``tau_scale`` (b).

    Coefficients that at least :data:`LINEAR_SPREAD_SERIES` series inform take the signed
    coordinate, centred and scaled on a moment estimate: τ̃² (DerSimonian and Laird's, the θ̂_s
    weighted by their sampling precisions ``1 / (σ̂_s² (G_s⁻¹)_kk)``; series with a singular G_s
    or no residual degree of freedom are left out) has a standard deviation of about ``v =
    sqrt(2 / (S - 1)) (τ̃² + typical sampling variance)``, so τ's posterior is about the square
    root of Normal(τ̃², v²) cut at zero: centre τ̃ and sd ``v / (2 sqrt(τ̃² + v/4))``, that is
    ``v / (2τ̃)`` where the data pin τ and ``sqrt(v)`` where they put it near zero (both capped by
    the prior's scale). The others take ``log τ`` itself (c = 0, b = 1).
    """
    k = data["theta_hat"].shape[1]
    eigval, eigvec = np.linalg.eigh(data["gram"])
    regular = eigval[:, 0] > 1e-10 * np.maximum(eigval[:, -1], np.finfo(float).tiny)
    regular &= data["n"] > k
    inverse_diagonal = (eigvec**2 / np.where(regular[:, None], eigval, 1.0)[:, None, :]).sum(axis=-1)
    sigma_hat2 = np.exp(2.0 * data["log_sigma_hat"])[:, None]
    weight = np.where(regular[:, None], 1.0 / (sigma_hat2 * inverse_diagonal), 0.0)
    informed = (weight > 0).sum(axis=0)
    total = weight.sum(axis=0)
    safe_total = np.where(total > 0, total, 1.0)
    mean = (weight * data["theta_hat"]).sum(axis=0) / safe_total
    heterogeneity = (weight * (data["theta_hat"] - mean) ** 2).sum(axis=0)
    denominator = np.maximum(total - (weight**2).sum(axis=0) / safe_total, np.finfo(float).tiny)
    spread2 = np.maximum((heterogeneity - (informed - 1)) / denominator, 0.0)
    typical = np.maximum(informed - 1, 1) / denominator
    v = np.sqrt(2.0 / np.maximum(informed - 1, 1)) * (spread2 + typical)
    pool = data["pool_scale"]
    linear = informed >= LINEAR_SPREAD_SERIES
    centre = np.minimum(np.sqrt(spread2), 2.0 * pool)
    sd = np.minimum(v / (2.0 * np.sqrt(spread2 + v / 4.0)), pool)
    return {
        "tau_linear": linear.astype(np.float64),
        "tau_center": np.where(linear, centre, 0.0),
        "tau_scale": np.where(linear, sd, 1.0),
    }


@substitute_docs
class Lambda3HierarchicalRegressor(BaseBayesRegressor):
    """Several related series with partially pooled coefficients, sampled with NumPyro's NUTS.

    ``y`` is (n_samples, n_series), with NaN where a series is not observed (a short series is
    a column that is NaN after its last step); all series share the regressors ``X``, and
    series ``s`` has its own intercept and coefficients ``θ_s ~ Normal(μ, τ)`` drawn from a
    population (``μ_k`` with the coefficient's usual prior, ``τ_k ~
    HalfNormal(population_prior_scale)``) and its own noise σ_s. A short or noisy series is
    pulled towards the population mean, as far as τ allows. Given (μ, τ, σ) each series is
    linear-Gaussian, so the θ_s are integrated out exactly and NUTS samples only μ, τ and σ
    (no funnel, whether the series are short or long); the θ_s are then drawn exactly for
    every draw. ``predict`` returns (n_samples, n_series); a 1-D ``y`` is one series, and
    ``predict`` then returns (n_samples,).

    The priors are those of :class:`Lambda3BayesRegressor` (standard deviations of y per raw
    unit of each regressor, by column kind), used as given: there is no evidence shrinkage
    here, the population spread τ does that work across series. The noise is constant per
    series. ``inference="svi"`` fits an autoguide instead of running NUTS, as in
    :class:`Lambda3BayesRegressor`.

    Parameters
    ----------
    intercept_prior_scale : float, default=2.0
        Scale of the Normal prior on the population's intercept, standard deviations of y.
    coef_prior_scale : float, default=1.0
        Scale of the Normal prior on ordinary regressors' population mean.
    jump_prior_scale : float, default=5.0
        Scale of the Normal prior on jump regressors' population mean.
    tension_prior_scale : float, default=3.0
        Scale of the Normal prior on tension regressors' population mean.
    noise_prior_scale : float, default=1.0
        Scale of the HalfNormal prior on each series' noise.
    population_prior_scale : float, default=1.0
        Scale of the HalfNormal prior on τ_k, the spread of coefficient ``k`` across series
        (standardised units).
    {sampler_parameters_as_in_linear}

    Attributes
    ----------
    coef_ : ndarray of shape (n_series, n_features_in_) or (n_features_in_,)
        Posterior mean of each series' coefficients, original units (1-D ``y``: one row).
    intercept_ : ndarray of shape (n_series,) or float
        Posterior mean of each series' intercept.
    coef_samples_ : ndarray of shape (n_draws, [n_series,] n_features_in_)
        Posterior draws of the coefficients, chain after chain.
    intercept_samples_ : ndarray of shape (n_draws, [n_series])
        Posterior draws of the intercepts.
    population_coef_, population_sd_ : ndarray of shape (n_features_in_,)
        Posterior means of μ and τ, the population mean and spread of the coefficients,
        original units; ``population_coef_samples_`` and ``population_sd_samples_`` hold
        their draws.
    noise_samples_ : dict
        ``"sigma"``: draws of every series' noise sd, (n_draws, [n_series]).
    prior_scales_ : ndarray of shape (n_features_in_,)
        Prior scale of each coefficient by its column kind (sd of y per raw unit).
    prior_shrinkage_ : float
        Always 1.0 (the scales are used as given).
    loss_, diagnostics_, n_features_in_, feature_names_in_
        As in :class:`Lambda3BayesRegressor`.

    See Also
    --------
    Lambda3BayesRegressor : One series, linear model.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lambda3 import Lambda3HierarchicalRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> Y = np.column_stack([X @ [1.5 + 0.1 * s, -2.0] + rng.normal(size=200) for s in range(4)])
    >>> Y[30:, 0] = np.nan  # the first series is observed on 30 steps only
    >>> pooled = Lambda3HierarchicalRegressor(random_state=0).fit(X, Y)
    >>> pooled.coef_.shape, pooled.predict(X[:5]).shape
    ((4, 2), (5, 4))
    >>> np.round(pooled.population_coef_, 0)
    array([ 2., -2.])
    """

    _parameter_constraints: dict = {
        **BaseBayesRegressor._parameter_constraints,
        "population_prior_scale": [POSITIVE],
    }

    def __init__(
        self,
        *,
        intercept_prior_scale=2.0,
        coef_prior_scale=1.0,
        jump_prior_scale=5.0,
        tension_prior_scale=3.0,
        noise_prior_scale=1.0,
        population_prior_scale=1.0,
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
        self.intercept_prior_scale = intercept_prior_scale
        self.coef_prior_scale = coef_prior_scale
        self.jump_prior_scale = jump_prior_scale
        self.tension_prior_scale = tension_prior_scale
        self.noise_prior_scale = noise_prior_scale
        self.population_prior_scale = population_prior_scale
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
        tags.target_tags.multi_output = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Sample the posterior of the hierarchical model given the shared regressors ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Regressors shared by every series; finite, at most ``1e150`` in absolute value.
        y : array-like of shape (n_samples, n_series) or (n_samples,)
            One column per series, NaN where a series is not observed (each series needs two
            observed steps); real, at most ``1e150`` in absolute value.

        Returns
        -------
        self : Lambda3HierarchicalRegressor
            The fitted regressor.
        """
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        y = check_series_target(y, X.shape[0])
        self._single_output = y.ndim == 1
        self._n_series = 1 if self._single_output else y.shape[1]
        return self._fit_posterior(X, y)

    def _model(self):
        return HierarchicalModel(unrolled=unrolled_program(self.n_features_in_ + 1, self._n_series))

    def _model_data(self, X, W, ys, standardised_prior, weight):
        self.prior_shrinkage_ = 1.0
        Z = np.column_stack([np.ones(len(ys)), W])
        data = series_statistics(Z, ys.reshape(len(ys), -1))
        data["prior_scale"] = np.r_[self.intercept_prior_scale, standardised_prior]
        data.update(pooled_centre(data))
        data["pool_scale"] = np.full(Z.shape[1], float(self.population_prior_scale))
        data.update(spread_coordinate(data))
        return data

    def _summarise(self, draws):
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
        self.coef_samples_ = coef
        self.coef_ = coef.mean(axis=0)

    def _output_shape(self):
        return () if self._single_output else (self.coef_.shape[0],)

    def _series_draws(self):
        """Coefficients, intercepts and noise draws with a series axis, (n_draws, n_series, ...)."""
        n_draws = len(self.coef_samples_)
        coef = self.coef_samples_.reshape(n_draws, -1, self.n_features_in_)
        return (
            coef,
            self.intercept_samples_.reshape(n_draws, -1),
            self.noise_samples_["sigma"].reshape(n_draws, -1),
        )

    def _scalar_draws(self):
        names = self._feature_labels()
        coef, intercept, sigma = self._series_draws()
        series = [""] if self._single_output else [f"[{s}]" for s in range(coef.shape[1])]
        labels = [f"coef{tag}[{name}]" for tag in series for name in names]
        labels += [f"intercept{tag}" for tag in series]
        labels += [f"population_coef[{name}]" for name in names]
        labels += [f"population_sd[{name}]" for name in names]
        labels += ["population_intercept", "population_intercept_sd"] + [f"sigma{tag}" for tag in series]
        columns = [
            coef.reshape(len(coef), -1),
            intercept,
            self.population_coef_samples_,
            self.population_sd_samples_,
            self._population_intercept[:, None],
            self._population_intercept_sd[:, None],
            sigma,
        ]
        return labels, np.column_stack(columns)

    def _draw_moments(self, X, draws, rows, time_steps):
        # (rows, series, draws), or (rows, draws) for a 1-D y.
        mean = np.einsum("nk,d...k->n...d", X[rows], self.coef_samples_[draws])
        mean += self.intercept_samples_[draws].T
        sd = np.broadcast_to(self.noise_samples_["sigma"][draws].T, mean.shape)
        return mean, sd

    def _plug_in_moments(self, X, return_std, time_steps):
        mean = X @ self.coef_.T + self.intercept_
        if not return_std:
            return mean
        coef, intercept, sigma = self._series_draws()
        std = np.empty((X.shape[0], coef.shape[1]))
        for s in range(coef.shape[1]):
            std[:, s] = np.sqrt(mean_variance(X, coef[:, s], intercept[:, s]) + np.mean(sigma[:, s] ** 2))
        return mean, std.reshape(mean.shape)

    def _likelihood_target(self, y, n_rows):
        y = check_series_target(y, n_rows)
        if y.shape[1:] != self._output_shape():
            fitted = self._output_shape()[0] if self._output_shape() else "one (1-D y)"
            raise ValueError(f"y has shape {y.shape}; the model was fitted on {fitted} series.")
        return y

    def _observed_target(self):
        return self._y_train

    def _posterior_variables(self, draws):
        variables = {
            "coef": self.coef_samples_[draws],
            "intercept": self.intercept_samples_[draws],
            "population_coef": self.population_coef_samples_[draws],
            "population_sd": self.population_sd_samples_[draws],
        }
        dims = {"coef": ["feature"], "population_coef": ["feature"], "population_sd": ["feature"]}
        if not self._single_output:
            dims.update(coef=["series", "feature"], intercept=["series"], sigma=["series"])
        return variables, dims
