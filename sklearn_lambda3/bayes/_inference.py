"""The inference runner of the Bayesian layer: NUTS and SVI for any model, compiled once per shape.

This module imports JAX and NumPyro; the estimators import it only inside ``fit`` so that
``import sklearn_lambda3`` stays light. It knows no model by name: a model is an object of the
:class:`~sklearn_lambda3.bayes._model.BayesModel` protocol (its NumPyro program, its sites, its
host-side hooks), passed to the jitted runners as a static argument. Models are frozen
dataclasses, so two equal models are the same static argument and a refit of the same shapes
reuses the compiled program.
"""

import contextlib
import math
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
from numpyro.infer.hmc import hmc
from numpyro.infer.util import constrain_fn, potential_energy

# Particles of the ELBO estimates that tell whether SVI has converged.
CHECK_PARTICLES = 256

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
    num_warmup,
    num_samples,
    num_chains,
    target_accept_prob,
    max_tree_depth,
    progress_every=0,
):
    """Warm up and sample ``num_chains`` vectorised NUTS chains of ``model``.

    Returns a dict of draws shaped ``(num_chains, num_samples, ...)``: the model's reported
    sites and the sampler statistics.
    """
    program = model.program

    def potential(z):
        return potential_energy(program, (data,), {}, z)

    init_kernel, sample_kernel = hmc(potential_fn=potential, algo="NUTS")
    init_key, chain_key = jax.random.split(rng_key)
    sites = model.latent_shapes(data)
    starts = jax.vmap(lambda key: _initial_point(key, sites))(jax.random.split(init_key, num_chains))
    dense = model.dense_mass(sum(math.prod(shape) for shape in sites.values()))

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
    out = {site: constrained[site] for site in model.reported_sites}
    out.update(draws)
    # (num_samples, num_chains, ...) -> (num_chains, num_samples, ...)
    return jax.tree.map(lambda a: jnp.swapaxes(a, 0, 1), out)


@partial(
    jax.jit,
    static_argnames=("model", "guide", "num_steps", "num_draws", "learning_rate", "progress_every"),
)
def run_svi(rng_key, data, *, model, guide, num_steps, num_draws, learning_rate, progress_every=0):
    """Fit an autoguide to ``model`` by stochastic variational inference and draw from it.

    Adam runs ``num_steps`` steps whose size decays exponentially from ``learning_rate`` to a
    tenth of it, inside one ``lax.scan`` (compiled once per model and shapes). Returns the
    loss (negative ELBO) of every step and ``num_draws`` draws of the reported sites.
    """
    from numpyro.infer import SVI, Predictive, Trace_ELBO
    from numpyro.infer.autoguide import AutoLowRankMultivariateNormal, AutoNormal
    from numpyro.infer.initialization import init_to_value

    program = model.program
    init = init_to_value(values=model.initial_values(data))
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

    (state, snapshot), losses = jax.lax.scan(body, (state, svi.get_params(state)), jnp.arange(num_steps))
    params = svi.get_params(state)
    # The ELBO at the checkpoint (nine tenths of the steps) and at the end, estimated with the
    # same random numbers (common random numbers): their difference is precise even where
    # the single-particle losses are noisy, so slow progress is told from a plateau.
    check_key = jax.random.fold_in(rng_key, 7)
    precise = Trace_ELBO(num_particles=CHECK_PARTICLES)
    check = jnp.stack(
        [
            precise.loss(check_key, snapshot, program, autoguide, data),
            precise.loss(check_key, params, program, autoguide, data),
        ]
    )
    latent = autoguide.sample_posterior(draw_key, params, sample_shape=(num_draws,))
    sites = list(model.reported_sites)
    predictive = Predictive(program, posterior_samples=latent, return_sites=sites, batch_ndims=1)
    draws = predictive(predict_key, data)
    draws["loss"] = losses
    draws["loss_check"] = check
    return draws


# Smallest program data (values the compiled sampler reads per gradient, all arrays together)
# for which device="auto" takes an accelerator: below it, the fixed cost of launching each
# step's kernels on a GPU outweighs the arithmetic. An estimate, not yet a measurement (no
# accelerator was available when it was set): benchmarks/bench_device.py --crossover prints
# the size at which the GPU starts to win on a given machine.
AUTO_GPU_MIN_VALUES = 1_000_000


def resolve_device(device, size=None):
    """The JAX device for ``device`` ("cpu", "gpu" or "auto"), or a ValueError naming those seen.

    ``"auto"`` takes the first GPU when JAX sees one and the problem holds at least
    :data:`AUTO_GPU_MIN_VALUES` values (``size``; ``None``: any size), else the CPU.
    """
    if device == "auto":
        cpu = jax.devices("cpu")[0]
        try:
            gpus = jax.devices("gpu")
        except RuntimeError:
            return cpu
        if not gpus or (size is not None and size < AUTO_GPU_MIN_VALUES):
            return cpu
        return gpus[0]
    try:
        return jax.devices(device)[0]
    except RuntimeError:
        seen = ", ".join(f"{d.platform}:{d.id}" for d in jax.devices())
        raise ValueError(
            f"device={device!r} is not available: JAX sees {seen}. Use device='cpu' or 'auto'."
        ) from None


def program_size(data):
    """The number of values in a model's data: the size that device="auto" compares."""
    return int(sum(np.size(value) for value in data.values()))


def _as_jax_input(value, float_type):
    value = np.asarray(value)
    return value.astype(np.int32) if np.issubdtype(value.dtype, np.integer) else value.astype(float_type)


def _precision(float64):
    """float64 for this fit (and thread) only, never as a global setting; else nothing."""
    if not float64:
        return contextlib.nullcontext()
    enable_x64 = getattr(jax, "enable_x64", None)
    if enable_x64 is None:  # JAX before 0.7
        from jax.experimental import enable_x64 as legacy

        return legacy()
    return enable_x64(True)


def sample_posterior(model, data, seed, device, settings, svi_settings=None, progress_bar=False):
    """Draws of ``model``'s posterior given ``data`` (NumPy), by NUTS or, with ``svi_settings``, SVI.

    ``settings`` holds ``num_warmup``, ``num_samples``, ``num_chains``, ``target_accept_prob``
    and ``max_tree_depth``; ``svi_settings`` ``guide``, ``num_steps`` and ``learning_rate``.
    The model's :meth:`prepare` turns ``data`` into the program's inputs, the program runs on
    ``device`` (its chains vectorised, or, for a model with ``independent_chains``, each its
    own program in threads), and :meth:`complete` adds what the model draws on the host. Returns NumPy draws
    shaped ``(num_chains, num_samples, ...)`` (SVI: its ``loss`` and ``loss_check`` too).
    """
    program_data, state = model.prepare(data)
    target = resolve_device(device, program_size(program_data))
    float_type = np.float64 if model.float64 else np.float32
    jax_data = {key: _as_jax_input(value, float_type) for key, value in program_data.items()}
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
    independent = svi_settings is None and model.independent_chains
    if progress_bar:
        from tqdm.auto import tqdm

        first = phases[0] if warmup > 0 else phases[1]
        _PROGRESS.update(warmup=warmup, sample=phases[1] if warmup > 0 else None)
        # Independent chains tick each for itself.
        ticks = -(-total // every) * (settings["num_chains"] if independent else 1)
        _PROGRESS["bar"] = tqdm(total=ticks, desc=first)
    try:
        with _precision(model.float64):
            draws = _run(model, jax_data, target, seed, settings, svi_settings, every)
        return model.complete(draws, data, state, seed)
    finally:
        model.release(state)
        if _PROGRESS["bar"] is not None:
            _PROGRESS["bar"].close()
            _PROGRESS["bar"] = None


def chain_workers(num_chains):
    """Threads that run independent chains: one per chain, at most one per core this process may use."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(num_chains, cores))


def _independent_chains(jax_data, key, model, settings, every):
    """NUTS draws of ``settings["num_chains"]`` chains run one by one, each its own program.

    The program of one chain is compiled once (ahead of time, before the threads start, so
    it is never compiled twice) and runs for each chain's key in :func:`chain_workers`
    threads: XLA runs each call on its calling thread, and a model whose likelihood is a host
    kernel does its work outside Python, so the chains run in parallel. Chain ``c`` draws
    with the key ``fold_in(key, c)``: its draws are the same whatever the number of threads
    or of other chains.
    """
    keys = [jax.random.fold_in(key, chain) for chain in range(settings["num_chains"])]
    single = {**settings, "num_chains": 1}
    program = run_nuts.lower(keys[0], jax_data, model=model, progress_every=every, **single).compile()

    def chain(chain_key):
        draws = jax.device_get(program(chain_key, jax_data))
        return {name: np.asarray(value) for name, value in draws.items()}

    workers = chain_workers(len(keys))
    if workers == 1:
        parts = [chain(chain_key) for chain_key in keys]
    else:
        with ThreadPoolExecutor(workers, thread_name_prefix="sklearn-lambda3-chain") as pool:
            parts = list(pool.map(chain, keys))
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def _run(model, jax_data, target, seed, settings, svi_settings, every):
    """NUTS or SVI on ``target``; NumPy draws shaped (num_chains, num_samples, ...)."""
    jax_data = jax.device_put(jax_data, target)
    key = jax.device_put(jax.random.PRNGKey(seed), target)
    if svi_settings is None and model.independent_chains:
        return _independent_chains(jax_data, key, model, settings, every)
    if svi_settings is None:
        draws = run_nuts(key, jax_data, model=model, progress_every=every, **settings)
        return {name: np.asarray(value) for name, value in jax.device_get(draws).items()}
    shape = (settings["num_chains"], settings["num_samples"])
    draws = run_svi(
        key, jax_data, model=model, num_draws=math.prod(shape), progress_every=every, **svi_settings
    )
    draws = {name: np.asarray(value) for name, value in jax.device_get(draws).items()}
    return {
        name: value if name.startswith("loss") else value.reshape(shape + value.shape[1:])
        for name, value in draws.items()
    }
