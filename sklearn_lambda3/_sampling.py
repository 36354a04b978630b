"""NumPyro programs of the Lambda³ regressor and the compiled NUTS runner.

This module imports JAX and NumPyro; the estimators import it only inside ``fit`` so that
``import sklearn_lambda3`` stays light. Everything here works on standardised data
prepared in NumPy by :mod:`sklearn_lambda3._regressor`.

One jitted function, :func:`run_nuts`, runs warm-up and sampling of all chains (vectorised)
for a model. Data and prior scales are its traced arguments and the sampler settings its
static ones, so refits of the same shapes reuse the compiled program.
"""

import itertools
import math
import sys
from functools import partial

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from numpyro.distributions import constraints
from numpyro.infer.hmc import hmc
from numpyro.infer.util import constrain_fn, potential_energy

# Smallest noise scale in standard deviations of y: keeps the posterior proper when the
# target is (nearly) constant.
NOISE_FLOOR = 1e-6

# Largest number of latent dimensions for which the hierarchical model adapts a dense mass matrix.
DENSE_MASS_LIMIT = 64


def _coefficients(data):
    """Coefficients θ = centre + whiten @ u with the Normal prior of the method on θ.

    ``u`` is a whitened coordinate: ``whiten`` is the inverse Cholesky factor of an
    approximate posterior precision, so the posterior of ``u`` is close to isotropic and
    NUTS needs short trajectories. The prior stays exactly the method's, on θ.
    """
    k = data["center"].shape[0]
    u = numpyro.sample("u", dist.ImproperUniform(constraints.real_vector, (), event_shape=(k,)))
    theta = numpyro.deterministic("theta", data["center"] + data["whiten"] @ u)
    numpyro.factor("theta_prior", dist.Normal(0.0, data["prior_scale"]).log_prob(theta).sum())
    return u, theta


def _exp_minus_one_minus(x):
    """``exp(x) - 1 - x`` without cancellation near 0 (float32-safe)."""
    series = x * x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x / 120.0)))
    return jnp.where(jnp.abs(x) < 0.1, series, jnp.expm1(x) - x)


def constant_noise_model(data):
    """Linear model with constant noise, likelihood from sufficient statistics.

    ``RSS(θ) = RSS_ols + |R (θ - θ_ols)|²`` with ``RᵀR = ZᵀZ``; with θ = centre + whiten @ u
    the residual part is ``offset + root_whiten @ u``, so a gradient costs O(k²) whatever n.

    The log-likelihood is written relative to σ̂ (``σ = σ̂ e^v``) with its constant dropped:
    ``-(n/2) (e^{-2v} - 1 + 2v) - (excess + |r|² / (2σ̂²)) e^{-2v}``. Every term is then O(k)
    near the posterior mode, so float32 keeps the energy differences NUTS relies on exact
    enough at any n (the plain form has terms of order n that float32 rounds to ~n·1e-7).
    """
    u, _ = _coefficients(data)
    # σ is sampled as w with log σ = log σ̂ + w / sqrt(2n), the scale of its posterior, so w is
    # O(1) like u whatever n; the HalfNormal prior on σ is kept exactly (Jacobian: σ).
    w = numpyro.sample("w", dist.ImproperUniform(constraints.real, (), ()))
    log_sigma = data["log_sigma_hat"] + data["log_sigma_sd"] * w
    sigma = numpyro.deterministic("sigma", jnp.exp(log_sigma))
    numpyro.factor("sigma_prior", dist.HalfNormal(data["noise_scale"]).log_prob(sigma) + log_sigma)
    residual = data["offset"] + data["root_whiten"] @ u
    x = -2.0 * (jnp.log(sigma + NOISE_FLOOR) - data["log_sigma_hat"])
    excess = data["rss_excess"] + residual @ residual * data["half_inv_sigma_hat2"]
    numpyro.factor("loglik", -0.5 * data["n"] * _exp_minus_one_minus(x) - excess * jnp.exp(x))


def tension_noise_model(data):
    """Linear model with the method's tension-dependent noise σ_t = σ_base + σ_scale ρT[t].

    Rows are padded to a bucket size; ``mask`` weights each row's log-likelihood (1 or the
    row's sample weight) and zeroes the padding out of it.
    """
    _, theta = _coefficients(data)
    sigma_base = numpyro.sample("sigma_base", dist.HalfNormal(data["noise_scale"]))
    sigma_scale = numpyro.sample("sigma_scale", dist.HalfNormal(0.5 * data["noise_scale"]))
    sigma = sigma_base + sigma_scale * data["tension"] + NOISE_FLOOR
    mean = data["design"] @ theta
    loglik = dist.Normal(mean, sigma).log_prob(data["y"]) * data["mask"]
    numpyro.factor("loglik", loglik.sum())


# Host-side data of the dynamic fits in progress, by token. The compiled sampler passes
# only the token and the parameters to the host, so its program does not depend on the
# series (any length reuses it) and no array crosses the callback boundary per step.
_HOST_DATA = {}
_TOKENS = itertools.count()
# Errors of the host Kalman filter, by token (see _host_kalman).
_HOST_ERRORS = {}
KALMAN_INPUTS = ("y", "design", "prior_scale", "change", "level0_var", "step_var", "tension")


def _host_kalman(params, token):
    """Host side of :func:`kalman_log_likelihood`: the Numba kernel for every chain."""
    import numpy as np

    from ._kalman_kernels import batched_loglik_and_grad

    key = int(np.asarray(token).reshape(-1)[0])
    inputs = _HOST_DATA[key]
    params = np.asarray(params, dtype=np.float64)
    flat = params.reshape(-1, 3)
    try:
        values, grads = batched_loglik_and_grad(
            *inputs,
            np.ascontiguousarray(flat[:, 0]),
            np.ascontiguousarray(flat[:, 1]),
            np.ascontiguousarray(flat[:, 2]),
            NOISE_FLOOR,
        )
    except Exception as error:
        # An exception here would surface as an opaque XLA "CpuCallback error"; record it
        # and reject the point instead, and sample_posterior raises it after the run.
        _HOST_ERRORS.setdefault(key, f"{type(error).__name__}: {error} at (tau, sigma_base, "
                                     f"sigma_scale) = {flat.tolist()}")
        values, grads = np.full(len(flat), -np.inf), np.zeros_like(flat)
    values = values.reshape(params.shape[:-1]).astype(np.float32)
    return values, grads.reshape(params.shape).astype(np.float32)


def _kalman_callback(params, token):
    shapes = (
        jax.ShapeDtypeStruct(params.shape[:-1], jnp.float32),
        jax.ShapeDtypeStruct(params.shape, jnp.float32),
    )
    # Under vmap over chains, "expand_dims" hands the host one call with every chain.
    return jax.pure_callback(_host_kalman, shapes, params, token, vmap_method="expand_dims")


@jax.custom_vjp
def kalman_log_likelihood(params, token):
    """Collapsed log-likelihood of the dynamic model at ``params = (τ, σ_base, σ_scale)``.

    Computed on the host by a Numba Kalman filter that carries forward-mode derivatives,
    so the gradient comes with the value (:mod:`sklearn_lambda3._kalman_kernels`).
    """
    value, _ = _kalman_callback(params, token)
    return value


def _kalman_fwd(params, token):
    value, grad = _kalman_callback(params, token)
    return value, (grad, token)


def _kalman_bwd(residual, cotangent):
    grad, token = residual
    return cotangent[..., None] * grad, None


kalman_log_likelihood.defvjp(_kalman_fwd, _kalman_bwd)


def dynamic_model(data, noise):
    """Dynamic Lambda³ model: random-walk level, change-point steps, feature terms, noise.

    The level path, the steps and the coefficients are integrated out exactly by a Kalman
    filter; NUTS samples only τ and the noise. They are sampled in a whitened, folded
    coordinate ``v``: ``σ = |c_σ + s_σ v_σ|`` and ``τ = |c_τ + b (σ - c_σ) + s_τ v_τ|``, with
    the centre ``c``, the spreads ``s`` and the slope ``b`` of τ on σ from a Laplace
    approximation of their posterior (:func:`dynamic_reference`), so ``v`` is O(1) and
    nearly isotropic whatever the series. The map has a constant Jacobian, so the priors on
    τ and σ are kept exactly, and either sign of a folded coordinate gives the same τ and σ.

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
    v = numpyro.sample("v", dist.ImproperUniform(constraints.real_vector, (), event_shape=(2,)))
    center, spread = data["center"], data["spread"]
    level = jnp.abs(center[1] + spread[1] * v[1])
    # τ given σ follows the ridge τ² + κσ² ≈ const: regressed on σ² (the bend), scaled to
    # the Laplace slope at the mode. A function of σ, not of its signed coordinate, so the
    # posterior of v is exactly symmetric about the fold σ = 0.
    bend = (level**2 - center[1] ** 2) * data["bend_scale"]
    tau = numpyro.deterministic("tau", jnp.abs(center[0] + data["slope"] * bend + spread[0] * v[0]))
    prior = dist.HalfNormal(data["level_scale"]).log_prob(tau)
    if noise == "constant":
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
    numpyro.factor("loglik", kalman_log_likelihood(params, data["token"]))


def _scale_posterior(inputs, prior):
    """Log posterior of (τ, σ) (HalfNormal priors of scales ``prior``) and its gradient."""
    import numpy as np

    from ._kalman_kernels import batched_loglik_and_grad

    def log_density(scales):
        try:
            values, grads = batched_loglik_and_grad(
                *inputs, scales[:1].copy(), scales[1:].copy(), np.zeros(1), NOISE_FLOOR
            )
        except Exception as error:
            raise ValueError(
                f"the dynamic model's Kalman filter failed: {type(error).__name__}: {error} at "
                f"(tau, sigma) = {scales.tolist()}. Check X and y for extreme or degenerate values."
            ) from error
        return values[0] - 0.5 * np.sum((scales / prior) ** 2), grads[0, :2] - scales / prior**2

    return log_density


def _scale_mode(log_density, starts):
    """BFGS in (log τ, log σ) from each start: the best result, or None if none is finite."""
    import numpy as np
    from scipy.optimize import minimize

    def negative_log(z):
        scales = np.exp(np.clip(z, -30.0, 30.0))
        value, grad = log_density(scales)
        value, grad = value + z.sum(), grad * scales + 1.0
        if not (np.isfinite(value) and np.all(np.isfinite(grad))):
            return np.inf, np.zeros(2)
        return -value, -grad

    best = None
    for start in starts:
        result = minimize(negative_log, start, jac=True, method="BFGS")
        found = np.all(np.isfinite(result.x)) and np.isfinite(result.fun)
        if found and (best is None or result.fun < best.fun):
            best = result
    return best


def dynamic_evidence_shrinkage(inputs, level_scale, noise_scale):
    """The factor ``g`` in [1e-4, 1] of the coefficients' prior scales that maximises the evidence.

    The dynamic model's counterpart of :func:`sklearn_lambda3._priors.evidence_shrinkage`:
    the collapsed likelihood of the Kalman filter already integrates the level, the steps
    and the coefficients out, so it is the marginal likelihood of ``g`` once τ and σ are set
    to their posterior mode (profiled, for each ``g``). A grid of half decades, then a
    bounded search between the neighbours of the best one.
    """
    import math

    import numpy as np
    from scipy.optimize import minimize_scalar

    from ._priors import MIN_SHRINKAGE

    prior = np.array([float(level_scale), float(noise_scale)])
    starts = [np.log(0.5 * prior), np.log([0.05, 0.5] * prior)]
    base = inputs[2]

    def objective(log_g):
        shrunk = (*inputs[:2], base * math.exp(log_g), *inputs[3:])
        best = _scale_mode(_scale_posterior(shrunk, prior), starts)
        if best is None:
            return np.inf
        starts[:] = [best.x, *starts[:1]]
        return float(best.fun)

    grid = np.linspace(math.log(MIN_SHRINKAGE), 0.0, 9)
    values = [objective(log_g) for log_g in grid[::-1]][::-1]
    if not np.any(np.isfinite(values)):
        return 1.0
    best = int(np.nanargmin(values))
    low, high = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    refined = minimize_scalar(objective, bounds=(low, high), method="bounded", options={"xatol": 1e-2})
    log_g = refined.x if refined.fun <= values[best] else grid[best]
    return float(min(math.exp(log_g), 1.0))


def dynamic_reference(inputs, level_scale, noise_scale):
    """Centre and whitening of the dynamic model's sampling coordinate, in float64 on the host.

    The mode of the posterior of ``(τ, σ)`` (tension noise: σ the noise level σ_base +
    σ_scale, at share 0), found by BFGS in log coordinates on the exact collapsed likelihood
    with its gradient, and the inverse Hessian there in (τ, σ) (finite differences of the
    gradient; each sd at most the prior scale and twice the mode), returned as σ's centre
    and sd and τ's regression on σ (see :func:`dynamic_model`). It only fixes the
    coordinates NUTS moves in:
    the posterior is the model's whatever it returns, and a failed search falls back to
    half the prior scales with the prior scales as spread.
    """
    import numpy as np

    prior = np.array([float(level_scale), float(noise_scale)])
    log_density = _scale_posterior(inputs, prior)
    fallback = {
        "center": 0.5 * prior, "spread": prior, "slope": np.float64(0.0), "bend_scale": np.float64(1.0)
    }
    best = _scale_mode(log_density, (np.log(0.5 * prior), np.log([0.05, 0.5] * prior)))
    if best is None:
        return fallback
    z = np.clip(best.x, -30.0, 30.0)
    center = np.exp(z)

    def log_gradient(z):
        """Gradient of the (τ, σ) log density with respect to (log τ, log σ)."""
        return log_density(np.exp(z))[1] * np.exp(z)

    # The Hessian in (τ, σ) from differences in log coordinates, which stay well scaled
    # whatever the mode (σ at the noise floor for a constant target, say):
    # ∂²/∂zᵢ∂zⱼ = σᵢ σⱼ Hᵢⱼ + δᵢⱼ σᵢ ∂ᵢ.
    log_hessian = np.empty((2, 2))
    for i in range(2):
        step = np.zeros(2)
        step[i] = 1e-4
        log_hessian[:, i] = (log_gradient(z - step) - log_gradient(z + step)) / 2e-4
    log_hessian = 0.5 * (log_hessian + log_hessian.T) + np.diag(log_gradient(z))
    hessian = log_hessian / np.outer(center, center)
    if not np.all(np.isfinite(hessian)):
        return {**fallback, "center": center}
    eigval, eigvec = np.linalg.eigh(hessian)
    eigval = np.clip(eigval, 1.0 / np.max(prior) ** 2, 1e40)
    covariance = (eigvec / eigval) @ eigvec.T
    # Each sd at most its prior scale, and at most twice the mode (or the noise floor): where
    # the posterior piles up at 0, the mode in log coordinates sits at its scale, while the
    # curvature can vanish (a constant target: flat in σ below the noise floor).
    sd = np.sqrt(np.diag(covariance))
    cap = np.minimum(prior, 2.0 * np.maximum(center, NOISE_FLOOR))
    covariance *= np.outer(np.minimum(1.0, cap / sd), np.minimum(1.0, cap / sd))
    # σ's marginal sd, τ's regression on σ and its conditional sd.
    slope = covariance[0, 1] / covariance[1, 1]
    spread = np.sqrt([covariance[0, 0] - slope * covariance[0, 1], covariance[1, 1]])
    # σ² / (2 c_σ) has slope 1 at the mode; c_σ is bounded below by its sd, where σ's
    # posterior reaches 0.
    bend_scale = 0.5 / max(center[1], spread[1])
    return {
        "center": center, "spread": spread, "slope": np.float64(slope), "bend_scale": np.float64(bend_scale)
    }


def hierarchical_model(data):
    """Partial pooling of several series' coefficients (spec §3, hierarchical).

    Series ``s`` has coefficients ``θ_s ~ Normal(μ, τ)`` (intercept included) and noise σ_s.
    Given (μ, τ, σ_s) the series is linear-Gaussian, so ``θ_s`` is integrated out exactly
    from its sufficient statistics and NUTS samples only μ, τ and σ: no funnel between τ
    and the θ_s, however short or long the series (what a non-centred parameterisation
    buys, without its trouble when the data are strong). The θ_s are then drawn exactly
    for every draw (:func:`hierarchical_coefficients`).

    With ``H = G_s / σ_s²`` (``G_s = Z_sᵀZ_s``), ``A = diag(τ) H diag(τ)`` and
    ``q = (μ - θ̂_s) / τ`` the collapsed log-likelihood is, up to a constant,
    ``-n log σ - RSS_ols / (2σ²) - ½ log|I + A| - ½ qᵀ(I + A)⁻¹A q``; every matrix
    factorised is ``I + A``, whose eigenvalues are at least 1.
    """
    tau = numpyro.sample("tau", dist.HalfNormal(data["pool_scale"]).to_event(1))
    n_series = data["n"].shape[0]
    # μ = centre + spread(τ) η: given τ, μ's posterior is about Normal(centre, spread²) with
    # spread² = τ²/S + pooled sampling variance, so η is O(1) at every τ (no funnel between μ
    # and τ when few series inform τ). The prior on μ is kept exactly (Jacobian: spread).
    k = data["prior_scale"].shape[0]
    eta = numpyro.sample("eta", dist.ImproperUniform(constraints.real_vector, (), event_shape=(k,)))
    spread = jnp.sqrt(tau**2 / n_series + data["mu_var"])
    mu = numpyro.deterministic("mu", data["mu_center"] + spread * eta)
    numpyro.factor("mu_prior", (dist.Normal(0.0, data["prior_scale"]).log_prob(mu) + jnp.log(spread)).sum())
    w = numpyro.sample("w", dist.ImproperUniform(constraints.real_vector, (), event_shape=(n_series,)))
    log_sigma = data["log_sigma_hat"] + data["log_sigma_sd"] * w
    sigma = numpyro.deterministic("sigma", jnp.exp(log_sigma))
    numpyro.factor("sigma_prior", (dist.HalfNormal(data["noise_scale"]).log_prob(sigma) + log_sigma).sum())
    x = -2.0 * (jnp.log(sigma + NOISE_FLOOR) - data["log_sigma_hat"])
    scale = jnp.exp(x) * data["half_inv_sigma_hat2"] * 2.0  # 1 / σ²
    loglik = -0.5 * data["n"] * _exp_minus_one_minus(x) - data["rss_excess"] * jnp.exp(x)
    tau_safe = tau + 1e-12
    A = tau_safe[:, None] * data["gram"] * scale[:, None, None] * tau_safe[None, :]
    eye = jnp.eye(A.shape[-1])
    cholesky = jnp.linalg.cholesky(eye + A)
    q = (mu - data["theta_hat"]) / tau_safe
    a = jax.scipy.linalg.solve_triangular(cholesky, q[..., None], lower=True)[..., 0]
    b = jax.scipy.linalg.solve_triangular(cholesky, (A @ q[..., None]), lower=True)[..., 0]
    log_det = jnp.log(jnp.diagonal(cholesky, axis1=-2, axis2=-1)).sum(axis=-1)
    numpyro.factor("loglik", (loglik - log_det - 0.5 * (a * b).sum(axis=-1)).sum())


def hierarchical_coefficients(inputs, draws, seed):
    """Exact draws of every series' θ_s given each draw of (μ, τ, σ), in float64 on the host.

    In the coordinate φ with θ = μ + τ ⊙ φ the prior is standard normal and the posterior
    Normal with precision ``I + A`` and mean ``(I + A)⁻¹ τ ⊙ (G(θ̂ - μ)) / σ²``.
    """
    import numpy as np

    mu = draws["mu"].reshape(-1, draws["mu"].shape[-1]).astype(np.float64)
    tau = draws["tau"].reshape(mu.shape).astype(np.float64) + 1e-12
    sigma = draws["sigma"].reshape(len(mu), -1).astype(np.float64) + NOISE_FLOOR
    gram, theta_hat = inputs["gram"], inputs["theta_hat"]
    rng = np.random.default_rng([seed, 2])
    noise = rng.standard_normal((len(mu), gram.shape[0], gram.shape[1]))
    out = np.empty_like(noise)
    k = gram.shape[1]
    # Blocks of draws bound the (draws, series, k, k) temporaries.
    block = max(1, 2**21 // (gram.shape[0] * k * k))
    for start in range(0, len(mu), block):
        rows = slice(start, start + block)
        t, m, inv_var = tau[rows, None, :], mu[rows, None, :], 1.0 / sigma[rows, :, None] ** 2
        A = t[..., :, None] * gram[None] * inv_var[..., None] * t[..., None, :]
        cholesky = np.linalg.cholesky(np.eye(k) + A)
        rhs = t * np.einsum("sij,dsj->dsi", gram, theta_hat[None] - m) * inv_var
        mean = np.linalg.solve(np.swapaxes(cholesky, -1, -2), np.linalg.solve(cholesky, rhs[..., None]))
        # φ = mean + L⁻ᵀ z has covariance (L Lᵀ)⁻¹.
        phi = mean[..., 0] + np.linalg.solve(np.swapaxes(cholesky, -1, -2), noise[rows, ..., None])[..., 0]
        out[rows] = m + t * phi
    return out


MODELS = {
    ("hierarchical", "constant"): hierarchical_model,
    ("linear", "constant"): constant_noise_model,
    ("linear", "tension"): tension_noise_model,
    ("dynamic", "constant"): partial(dynamic_model, noise="constant"),
    ("dynamic", "tension"): partial(dynamic_model, noise="tension"),
}
NOISE_SITES = {"constant": ("sigma",), "tension": ("sigma_base", "sigma_scale")}
# Latent sites that only reparameterise the reported ones (not returned as draws).
SAMPLING_COORDINATES = ("u", "w", "eta", "v", "noise_share")


def latent_sites(model, noise, data):
    """Unconstrained shapes of the sites NUTS samples."""
    if model == "linear":
        sites = {"u": (data["center"].shape[0],)}
        sites.update({"w": ()} if noise == "constant" else {site: () for site in NOISE_SITES[noise]})
        return sites
    if model == "hierarchical":
        k = data["prior_scale"].shape[0]
        return {"eta": (k,), "tau": (k,), "w": (data["n"].shape[0],)}
    if noise == "constant":
        return {"v": (2,)}
    return {"v": (2,), "noise_share": ()}

# The progress bar of the fit in progress and the iteration where its sampling phase starts.
_PROGRESS = {"bar": None, "warmup": 0, "sample": None}


def _tick(i):
    """Advance the progress bar by one tick at iteration ``i``; name the phase it is in."""
    bar = _PROGRESS["bar"]
    if bar is None:
        return
    # Only ever forward: a late warm-up tick does not take the name back.
    if _PROGRESS["sample"] is not None and int(i) >= _PROGRESS["warmup"]:
        bar.set_description(_PROGRESS["sample"], refresh=False)
        _PROGRESS["sample"] = None
    bar.update(1)


def _report(i, every):
    """Call :func:`_tick` on the host every ``every`` iterations (traced; nothing when 0)."""
    if every:
        jax.lax.cond(i % every == 0, lambda: jax.debug.callback(_tick, i), lambda: None)


def show_progress(setting):
    """Whether a fit shows a progress bar: ``setting``, or for ``"auto"`` whether it is interactive.

    ``"auto"`` shows one when stderr is a terminal or when running in an IPython/Jupyter kernel
    (a notebook, where tqdm's auto front end draws a widget), and none in logs or CI.
    """
    if setting != "auto":
        return bool(setting)
    isatty = getattr(sys.stderr, "isatty", None)
    if isatty is not None and isatty():
        return True
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return getattr(shell, "kernel", None) is not None


def _initial_point(key, sites):
    """Unconstrained starting point: uniform in (-2, 2), as NumPyro's ``init_to_uniform``."""
    keys = jax.random.split(key, len(sites))
    return {
        site: jax.random.uniform(site_key, shape, minval=-2.0, maxval=2.0)
        for site_key, (site, shape) in zip(keys, sites.items(), strict=True)
    }


@partial(
    jax.jit,
    static_argnames=(
        "model",
        "noise",
        "num_warmup",
        "num_samples",
        "num_chains",
        "target_accept_prob",
        "max_tree_depth",
        "progress_every",
    ),
)
def run_nuts(
    rng_key,
    data,
    *,
    model,
    noise,
    num_warmup,
    num_samples,
    num_chains,
    target_accept_prob,
    max_tree_depth,
    progress_every=0,
):
    """Warm up and sample ``num_chains`` vectorised NUTS chains of one model.

    Returns a dict of draws shaped ``(num_chains, num_samples, ...)``: the constrained
    sites (``theta`` and the noise sites) and the sampler statistics.
    """
    program = MODELS[model, noise]

    def potential(z):
        return potential_energy(program, (data,), {}, z)

    init_kernel, sample_kernel = hmc(potential_fn=potential, algo="NUTS")
    init_key, chain_key = jax.random.split(rng_key)
    sites = latent_sites(model, noise, data)
    starts = jax.vmap(lambda key: _initial_point(key, sites))(jax.random.split(init_key, num_chains))

    # The dynamic model has three correlated variance parameters and the hierarchical one
    # couples μ, τ and σ: a dense mass matrix is cheap at these sizes and follows them.
    dimension = sum(math.prod(shape) for shape in sites.values())
    dense = model == "dynamic" or (model == "hierarchical" and dimension <= DENSE_MASS_LIMIT)

    def init_chain(z, key):
        return init_kernel(
            z,
            num_warmup,
            target_accept_prob=target_accept_prob,
            max_tree_depth=max_tree_depth,
            dense_mass=dense,
            rng_key=key,
        )

    states = jax.vmap(init_chain)(starts, jax.random.split(chain_key, num_chains))
    step = jax.vmap(sample_kernel)

    def body(states, i):
        _report(i, progress_every)
        states = step(states)
        stats = {
            "z": states.z,
            "diverging": states.diverging,
            "num_steps": states.num_steps,
            "accept_prob": states.accept_prob,
            "potential_energy": states.potential_energy,
            "energy": states.energy,
            "step_size": states.adapt_state.step_size,
        }
        return states, stats

    # One scan over warm-up and sampling (the kernel adapts while its counter is below
    # num_warmup): the NUTS step is traced and compiled once, not twice.
    _, trace = jax.lax.scan(body, states, jnp.arange(num_warmup + num_samples))
    draws = jax.tree.map(lambda a: a[num_warmup:], trace)

    def constrain(z):
        return constrain_fn(program, (data,), {}, z, return_deterministic=True)

    constrained = jax.vmap(jax.vmap(constrain))(draws.pop("z"))
    out = {site: constrained[site] for site in constrained if site not in SAMPLING_COORDINATES}
    out.update(draws)
    # (num_samples, num_chains, ...) -> (num_chains, num_samples, ...)
    return jax.tree.map(lambda a: jnp.swapaxes(a, 0, 1), out)


def initial_values(model, noise, data):
    """Starting values of the SVI guides: the whitened or relative coordinates' centres."""
    if model == "linear":
        values = {"u": jnp.zeros(data["center"].shape[0])}
        if noise == "constant":
            values["w"] = jnp.zeros(())
        return values
    if model == "hierarchical":
        k = data["prior_scale"].shape[0]
        return {"eta": jnp.zeros(k), "tau": 0.1 * data["pool_scale"], "w": jnp.zeros(data["n"].shape[0])}
    values = {"v": jnp.zeros(2)}
    if noise == "tension":
        values["noise_share"] = jnp.zeros(())
    return values


# Particles of the ELBO estimates that tell whether SVI has converged.
CHECK_PARTICLES = 256

# Sites whose draws SVI returns (those NUTS reports).
REPORTED_SITES = {
    ("linear", "constant"): ("theta", "sigma"),
    ("linear", "tension"): ("theta", "sigma_base", "sigma_scale"),
    ("dynamic", "constant"): ("tau", "sigma"),
    ("dynamic", "tension"): ("tau", "sigma_base", "sigma_scale"),
    ("hierarchical", "constant"): ("mu", "tau", "sigma"),
}


@partial(
    jax.jit,
    static_argnames=("model", "noise", "guide", "num_steps", "num_draws", "learning_rate", "progress_every"),
)
def run_svi(rng_key, data, *, model, noise, guide, num_steps, num_draws, learning_rate, progress_every=0):
    """Fit an autoguide by stochastic variational inference and draw from it.

    Adam runs ``num_steps`` steps whose size decays exponentially from ``learning_rate`` to a
    tenth of it, inside one ``lax.scan`` (compiled once per model and shapes). Returns the
    loss (negative ELBO) of every step and ``num_draws`` draws of the reported sites.
    """
    from numpyro.infer import SVI, Predictive, Trace_ELBO
    from numpyro.infer.autoguide import AutoLowRankMultivariateNormal, AutoNormal
    from numpyro.infer.initialization import init_to_value

    program = MODELS[model, noise]
    init = init_to_value(values=initial_values(model, noise, data))
    if guide == "normal":
        autoguide = AutoNormal(program, init_loc_fn=init)
    else:
        autoguide = AutoLowRankMultivariateNormal(program, init_loc_fn=init)
    optimizer = numpyro.optim.Adam(lambda i: learning_rate * 0.1 ** (i / num_steps))
    svi = SVI(program, autoguide, optimizer, Trace_ELBO())
    init_key, draw_key, predict_key = jax.random.split(rng_key, 3)
    state = svi.init(init_key, data)
    checkpoint = num_steps - max(num_steps // 10, 1)

    def body(carry, i):
        _report(i, progress_every)
        state, snapshot = carry
        state, loss = svi.update(state, data)
        params = svi.get_params(state)
        snapshot = jax.tree.map(lambda old, new: jnp.where(i == checkpoint - 1, new, old), snapshot, params)
        return (state, snapshot), loss

    (state, snapshot), losses = jax.lax.scan(
        body, (state, svi.get_params(state)), jnp.arange(num_steps)
    )
    params = svi.get_params(state)
    # The ELBO at the checkpoint (nine tenths of the steps) and at the end, estimated with the
    # same random numbers (common random numbers): their difference is precise even where
    # the single-particle losses are noisy, so slow progress is told from a plateau.
    check_key = jax.random.fold_in(rng_key, 7)
    precise = Trace_ELBO(num_particles=CHECK_PARTICLES)
    check = jnp.stack([
        precise.loss(check_key, snapshot, program, autoguide, data),
        precise.loss(check_key, params, program, autoguide, data),
    ])
    latent = autoguide.sample_posterior(draw_key, params, sample_shape=(num_draws,))
    sites = list(REPORTED_SITES[model, noise])
    predictive = Predictive(program, posterior_samples=latent, return_sites=sites, batch_ndims=1)
    draws = predictive(predict_key, data)
    draws["loss"] = losses
    draws["loss_check"] = check
    return draws


def resolve_device(device):
    """The JAX device for ``device`` ("cpu", "gpu" or "auto"), or a ValueError naming those seen."""
    if device == "auto":
        try:
            return jax.devices("gpu")[0]
        except RuntimeError:
            return jax.devices("cpu")[0]
    try:
        return jax.devices(device)[0]
    except RuntimeError:
        seen = ", ".join(f"{d.platform}:{d.id}" for d in jax.devices())
        raise ValueError(
            f"device={device!r} is not available: JAX sees {seen}. Use device='cpu' or 'auto'."
        ) from None


def _as_jax_input(value, float_type):
    import numpy as np

    value = np.asarray(value)
    return value.astype(np.int32) if np.issubdtype(value.dtype, np.integer) else value.astype(float_type)


def _precision(model):
    """Context for the model's floating-point precision: float64 for the hierarchical model.

    Its collapsed likelihood factorises ``I + A`` whose condition number grows like
    τ² n / σ²; in float32 a chain that wanders far out in early warm-up can meet garbage
    densities there and stick. The switch is scoped to this fit (and thread), never global.
    """
    import contextlib

    if model != "hierarchical":
        return contextlib.nullcontext()
    enable_x64 = getattr(jax, "enable_x64", None)
    if enable_x64 is None:  # JAX before 0.7
        from jax.experimental import enable_x64 as legacy

        return legacy()
    return enable_x64(True)


def sample_posterior(data, model, noise, seed, device, settings, progress_bar):
    """Run :func:`run_nuts` on ``device`` and return NumPy draws.

    For the dynamic model ``data`` holds the float64 series (:data:`KALMAN_INPUTS`), which
    stay on the host, and the draws also hold the coefficients ``beta`` and the last level
    ``level_last`` of every draw and the level paths ``level`` of the draws listed in
    ``settings["path_draws"]``, all drawn exactly given each NUTS draw.
    """
    import numpy as np

    settings = dict(settings)
    path_draws = settings.pop("path_draws", None)
    svi_settings = settings.pop("svi", None)
    host = data
    target = resolve_device(device)
    token = None
    if model == "dynamic":
        token = next(_TOKENS)
        _HOST_DATA[token] = tuple(data[name] for name in KALMAN_INPUTS)
        reference = dynamic_reference(_HOST_DATA[token], data["level_scale"], data["noise_scale"])
        data = {key: value for key, value in data.items() if key not in KALMAN_INPUTS}
        data.update(reference)
        data["token"] = np.int32(token)
    float_type = np.float64 if model == "hierarchical" else np.float32
    jax_data = {key: _as_jax_input(value, float_type) for key, value in data.items()}
    if svi_settings is None:
        total = settings["num_warmup"] + settings["num_samples"]
        chains = f"({settings['num_chains']} chains)"
        phases = (f"NUTS warmup {chains}", f"NUTS sample {chains}")
        warmup = settings["num_warmup"]
    else:
        total = svi_settings["num_steps"]
        phases = (f"SVI optimise ({svi_settings['guide']} guide)", None)
        warmup = total
    every = max(1, total // 100) if progress_bar else 0
    if progress_bar:
        from tqdm.auto import tqdm

        first = phases[0] if warmup > 0 else phases[1]
        _PROGRESS.update(warmup=warmup, sample=phases[1] if warmup > 0 else None)
        _PROGRESS["bar"] = tqdm(total=-(-total // every), desc=first)
    try:
        with _precision(model):
            draws = _run(jax_data, target, seed, model, noise, settings, svi_settings, every)
        if token in _HOST_ERRORS:
            raise ValueError(
                "the dynamic model's Kalman filter failed while sampling: "
                f"{_HOST_ERRORS[token]}. Check X and y for extreme or degenerate values."
            )
        if model == "hierarchical":
            draws["theta"] = hierarchical_coefficients(host, draws, seed)
        if model == "dynamic":
            draws.update(dynamic_posterior(_HOST_DATA[token], draws, noise, path_draws, seed))
    finally:
        _HOST_DATA.pop(token, None)
        _HOST_ERRORS.pop(token, None)
        if _PROGRESS["bar"] is not None:
            _PROGRESS["bar"].close()
            _PROGRESS["bar"] = None
    return draws


def _run(jax_data, target, seed, model, noise, settings, svi_settings, every):
    """NUTS or SVI on ``target``; NumPy draws shaped (num_chains, num_samples, ...)."""
    import numpy as np

    jax_data = jax.device_put(jax_data, target)
    key = jax.device_put(jax.random.PRNGKey(seed), target)
    if svi_settings is None:
        draws = run_nuts(key, jax_data, model=model, noise=noise, progress_every=every, **settings)
        return {name: np.asarray(value) for name, value in jax.device_get(draws).items()}
    shape = (settings["num_chains"], settings["num_samples"])
    draws = run_svi(
        key, jax_data, model=model, noise=noise, num_draws=math.prod(shape), progress_every=every,
        **svi_settings,
    )
    draws = {name: np.asarray(value) for name, value in jax.device_get(draws).items()}
    return {
        name: value if name.startswith("loss") else value.reshape(shape + value.shape[1:])
        for name, value in draws.items()
    }


def dynamic_posterior(inputs, draws, noise, path_draws, seed):
    """Coefficients and last level for every NUTS draw, level paths for ``path_draws``.

    Given a draw of (τ, σ) the model is linear-Gaussian, so β, the level path and the last
    level are drawn exactly (forward filtering, backward sampling) on the host, from
    normals of a generator seeded by ``seed``: the result is reproducible.
    """
    import numpy as np

    from ._kalman_kernels import conditional_draws

    tau = draws["tau"].reshape(-1).astype(np.float64)
    if noise == "constant":
        sigma_base = draws["sigma"].reshape(-1).astype(np.float64)
        sigma_scale = np.zeros_like(sigma_base)
    else:
        sigma_base = draws["sigma_base"].reshape(-1).astype(np.float64)
        sigma_scale = draws["sigma_scale"].reshape(-1).astype(np.float64)
    rng = np.random.default_rng([seed, 1])
    z_beta = rng.standard_normal((len(tau), inputs[1].shape[1]))
    z_last = rng.standard_normal(len(tau))
    z_path = rng.standard_normal((len(path_draws), len(inputs[0])))
    beta, last, _ = conditional_draws(
        *inputs, tau, sigma_base, sigma_scale, NOISE_FLOOR, z_beta, z_last, z_path[:0], False
    )
    _, _, paths = conditional_draws(
        *inputs, tau[path_draws], sigma_base[path_draws], sigma_scale[path_draws], NOISE_FLOOR,
        z_beta[path_draws], z_last[path_draws], z_path, True,
    )
    return {"beta": beta, "level_last": last, "level": paths}
