"""NumPyro programs of the Lambda³ regressor and the compiled NUTS runner.

This module imports JAX and NumPyro; the estimators import it only inside ``fit`` so that
``import sklearn_lambda3`` stays light. Everything here works on standardised data
prepared in NumPy by :mod:`sklearn_lambda3._regressor`.

One jitted function, :func:`run_nuts`, runs warm-up and sampling of all chains (vectorised)
for a model. Data and prior scales are its traced arguments and the sampler settings its
static ones, so refits of the same shapes reuse the compiled program.
"""

import math
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
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


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


def constant_noise_model(data):
    """Linear model with constant noise, likelihood from sufficient statistics.

    ``RSS(θ) = RSS_ols + |R (θ - θ_ols)|²`` with ``RᵀR = ZᵀZ``; with θ = centre + whiten @ u
    the residual part is ``offset + root_whiten @ u``, so a gradient costs O(k²) whatever n.
    """
    u, _ = _coefficients(data)
    sigma = numpyro.sample("sigma", dist.HalfNormal(data["noise_scale"])) + NOISE_FLOOR
    residual = data["offset"] + data["root_whiten"] @ u
    rss = data["rss_ols"] + residual @ residual
    n = data["n"]
    numpyro.factor("loglik", -n * (jnp.log(sigma) + _HALF_LOG_2PI) - 0.5 * rss / sigma**2)


def tension_noise_model(data):
    """Linear model with the method's tension-dependent noise σ_t = σ_base + σ_scale ρT[t].

    Rows are padded to a bucket size; ``mask`` zeroes the padding out of the likelihood.
    """
    _, theta = _coefficients(data)
    sigma_base = numpyro.sample("sigma_base", dist.HalfNormal(data["noise_scale"]))
    sigma_scale = numpyro.sample("sigma_scale", dist.HalfNormal(0.5 * data["noise_scale"]))
    sigma = sigma_base + sigma_scale * data["tension"] + NOISE_FLOOR
    mean = data["design"] @ theta
    loglik = dist.Normal(mean, sigma).log_prob(data["y"]) * data["mask"]
    numpyro.factor("loglik", loglik.sum())


MODELS = {"constant": constant_noise_model, "tension": tension_noise_model}
NOISE_SITES = {"constant": ("sigma",), "tension": ("sigma_base", "sigma_scale")}

_PROGRESS = {"bar": None}


def _tick(_):
    bar = _PROGRESS["bar"]
    if bar is not None:
        bar.update(1)


def _initial_point(key, k, noise):
    """Unconstrained starting point: uniform in (-2, 2), as NumPyro's ``init_to_uniform``."""
    keys = jax.random.split(key, 1 + len(NOISE_SITES[noise]))
    z = {"u": jax.random.uniform(keys[0], (k,), minval=-2.0, maxval=2.0)}
    for site_key, site in zip(keys[1:], NOISE_SITES[noise], strict=True):
        z[site] = jax.random.uniform(site_key, (), minval=-2.0, maxval=2.0)
    return z


@partial(
    jax.jit,
    static_argnames=(
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
    model = MODELS[noise]

    def potential(z):
        return potential_energy(model, (data,), {}, z)

    init_kernel, sample_kernel = hmc(potential_fn=potential, algo="NUTS")
    init_key, chain_key = jax.random.split(rng_key)
    k = data["center"].shape[0]
    starts = jax.vmap(lambda key: _initial_point(key, k, noise))(jax.random.split(init_key, num_chains))

    def init_chain(z, key):
        return init_kernel(
            z,
            num_warmup,
            target_accept_prob=target_accept_prob,
            max_tree_depth=max_tree_depth,
            rng_key=key,
        )

    states = jax.vmap(init_chain)(starts, jax.random.split(chain_key, num_chains))
    step = jax.vmap(sample_kernel)

    def report(i):
        if progress_every:
            jax.lax.cond(i % progress_every == 0, lambda: jax.debug.callback(_tick, i), lambda: None)

    def warmup_body(states, i):
        report(i)
        return step(states), None

    def sample_body(states, i):
        report(i)
        states = step(states)
        stats = {
            "z": states.z,
            "diverging": states.diverging,
            "num_steps": states.num_steps,
            "accept_prob": states.accept_prob,
            "potential_energy": states.potential_energy,
        }
        return states, stats

    states, _ = jax.lax.scan(warmup_body, states, jnp.arange(num_warmup))
    _, draws = jax.lax.scan(sample_body, states, jnp.arange(num_warmup, num_warmup + num_samples))

    def constrain(z):
        return constrain_fn(model, (data,), {}, z, return_deterministic=True)

    sites = jax.vmap(jax.vmap(constrain))(draws.pop("z"))
    out = {"theta": sites["theta"]}
    for site in NOISE_SITES[noise]:
        out[site] = sites[site]
    out.update(draws)
    # (num_samples, num_chains, ...) -> (num_chains, num_samples, ...)
    return jax.tree.map(lambda a: jnp.swapaxes(a, 0, 1), out)


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


def sample_posterior(data, noise, seed, device, settings, progress_bar):
    """Run :func:`run_nuts` on ``device`` and return NumPy draws."""
    import numpy as np

    target = resolve_device(device)
    data = jax.device_put({key: np.asarray(value, np.float32) for key, value in data.items()}, target)
    key = jax.device_put(jax.random.PRNGKey(seed), target)
    total = settings["num_warmup"] + settings["num_samples"]
    every = max(1, total // 100) if progress_bar else 0
    if progress_bar:
        from tqdm.auto import tqdm

        _PROGRESS["bar"] = tqdm(total=-(-total // every), desc=f"NUTS ({settings['num_chains']} chains)")
    try:
        draws = run_nuts(key, data, noise=noise, progress_every=every, **settings)
        draws = jax.device_get(draws)
    finally:
        if _PROGRESS["bar"] is not None:
            _PROGRESS["bar"].close()
            _PROGRESS["bar"] = None
    return {name: np.asarray(value) for name, value in draws.items()}
