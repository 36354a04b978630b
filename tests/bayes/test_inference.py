"""The inference runner: reproducibility, compilation (counted across the process), devices,
SVI and the JAX settings a fit leaves alone."""

import warnings

import numpy as np
import pytest
from _bayes_helpers import COMPILES, FAST, _CompileCounter, grouped_series, linear_data
from sklearn.exceptions import ConvergenceWarning

from sklearn_lambda3 import (
    Lambda3BayesRegressor,
    Lambda3DynamicRegressor,
    Lambda3Features,
    Lambda3HierarchicalRegressor,
)
from sklearn_lambda3.datasets import make_jump_series


def test_random_state_gives_bitwise_identical_posteriors():
    X, y, _ = linear_data(n=120, k=2, seed=5)
    a = Lambda3BayesRegressor(**FAST, random_state=42).fit(X, y)
    b = Lambda3BayesRegressor(**FAST, random_state=42).fit(X, y)
    c = Lambda3BayesRegressor(**FAST, random_state=43).fit(X, y)
    np.testing.assert_array_equal(a.coef_samples_, b.coef_samples_)
    np.testing.assert_array_equal(a.noise_samples_["sigma"], b.noise_samples_["sigma"])
    assert not np.array_equal(a.coef_samples_, c.coef_samples_)


def test_refit_of_same_shape_compiles_nothing():
    global COMPILES
    if COMPILES is None:
        COMPILES = _CompileCounter()
    # Seven regressors: a shape no other test uses, so the first fit must compile.
    X, y, _ = linear_data(n=150, k=7, seed=11)
    before = COMPILES.count
    Lambda3BayesRegressor(**FAST, random_state=0).fit(X, y)
    assert COMPILES.count > before
    before = COMPILES.count
    X2, y2, _ = linear_data(n=333, k=7, seed=12)
    for scale in (0.5, 3.0):
        Lambda3BayesRegressor(
            coef_prior_scale=scale,
            intercept_prior_scale=scale,
            noise_prior_scale=scale,
            **FAST,
            random_state=1,
        ).fit(X2, y2)
    assert COMPILES.count == before


def test_tension_model_buckets_rows():
    global COMPILES
    if COMPILES is None:
        COMPILES = _CompileCounter()
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(13)

    def frame(n):
        return pd.DataFrame(
            {"a": rng.normal(size=n), "b": rng.normal(size=n), "c__rho_T": rng.random(n) + 0.5}
        )

    small = {"num_warmup": 50, "num_samples": 50, "num_chains": 1, "progress_bar": False, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        Lambda3BayesRegressor(noise="tension", **small).fit(frame(300), rng.normal(size=300))
        before = COMPILES.count
        # 300 and 400 rows share the 512-row bucket.
        Lambda3BayesRegressor(noise="tension", **small).fit(frame(400), rng.normal(size=400))
    assert COMPILES.count == before


def test_unavailable_device_lists_what_jax_sees():
    import jax

    if any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("a GPU is present")
    X, y, _ = linear_data(n=20, k=1)
    with pytest.raises(ValueError, match=r"device='gpu' is not available: JAX sees cpu:0"):
        Lambda3BayesRegressor(device="gpu", **FAST).fit(X, y)


# ------------------------------------------------------------------ SVI
SVI = {"inference": "svi", "num_samples": 1000, "num_chains": 2, "progress_bar": False}


@pytest.mark.parametrize("guide", ["normal", "lowrank"])
def test_svi_agrees_with_nuts_on_the_linear_model(guide):
    X, y, _ = linear_data(n=500, k=3, noise=1.0, seed=2)
    nuts = Lambda3BayesRegressor(
        num_warmup=500, num_samples=1000, num_chains=2, progress_bar=False, random_state=0
    ).fit(X, y)
    svi = Lambda3BayesRegressor(**SVI, guide=guide, random_state=0).fit(X, y)
    sd = nuts.coef_samples_.std(axis=0)
    assert np.all(np.abs(svi.coef_ - nuts.coef_) < 0.2 * sd)
    assert abs(svi.intercept_ - nuts.intercept_) < 0.2 * nuts.intercept_samples_.std()
    np.testing.assert_allclose(svi.coef_samples_.std(axis=0), sd, rtol=0.25)
    sigma_sd = nuts.noise_samples_["sigma"].std()
    assert abs(svi.noise_samples_["sigma"].mean() - nuts.noise_samples_["sigma"].mean()) < 0.2 * sigma_sd
    # Same result attributes as NUTS, plus the loss history.
    assert svi.coef_samples_.shape == (2000, 3) and svi.loss_.shape == (svi.svi_steps,)
    assert svi.loss_[-100:].mean() < svi.loss_[:100].mean()
    assert "final_loss" in svi.diagnostics_ and len(svi.diagnostics_["table"]["mean"]) == 5


def test_svi_runs_every_model_and_is_reproducible():
    series = make_jump_series(300, n_series=1, random_state=3)[:, 0]
    X = np.arange(300.0)[:, None]
    dynamic = Lambda3DynamicRegressor(change_points="auto", **SVI, random_state=0)
    dynamic.fit(X, series)
    assert dynamic.level_samples_.shape[1] == 300 and np.all(np.isfinite(dynamic.level_mean_))
    assert np.corrcoef(dynamic.predict(X), series)[0, 1] > 0.95

    X3, Y, _ = grouped_series(1, n_long=200, n_short=30, n_series=4)
    first = Lambda3HierarchicalRegressor(**SVI, random_state=5).fit(X3, Y)
    again = Lambda3HierarchicalRegressor(**SVI, random_state=5).fit(X3, Y)
    np.testing.assert_array_equal(first.coef_samples_, again.coef_samples_)
    assert first.predict(X3).shape == (200, 5)

    frame = make_jump_series(400, n_series=1, random_state=4)
    import pandas as pd

    to_frame = Lambda3Features().set_output(transform="pandas")
    features = to_frame.fit_transform(pd.DataFrame(frame, columns=["a"]))
    tension = Lambda3BayesRegressor(noise="tension", **SVI, random_state=0).fit(features, frame[:, 0])
    assert set(tension.noise_samples_) == {"sigma_base", "sigma_scale"}
    assert tension.to_inference_data().posterior["coef"].shape[:2] == (2, 1000)


def test_svi_too_few_steps_warns():
    X, y, _ = linear_data(n=200, k=2, seed=4)
    with pytest.warns(ConvergenceWarning, match="SVI did not converge"):
        Lambda3BayesRegressor(**SVI, svi_steps=50, svi_learning_rate=1e-3, random_state=0).fit(X, y)


def test_svi_refit_of_same_shape_compiles_nothing():
    global COMPILES
    if COMPILES is None:
        COMPILES = _CompileCounter()
    X, y, _ = linear_data(n=150, k=6, seed=21)
    Lambda3BayesRegressor(**SVI, svi_steps=500, random_state=0).fit(X, y)
    before = COMPILES.count
    X2, y2, _ = linear_data(n=250, k=6, seed=22)
    Lambda3BayesRegressor(**SVI, svi_steps=500, coef_prior_scale=3.0, random_state=1).fit(X2, y2)
    assert COMPILES.count == before


# ------------------------------------------------------------------ JAX settings
def test_fit_leaves_jax_compilation_cache_settings_alone():
    # The persistent compilation cache is the user's choice (README): a fit never turns it on.
    import jax

    names = ("jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs")
    before = [getattr(jax.config, name) for name in names]
    X, y, _ = linear_data(n=50, k=2, seed=24)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        Lambda3BayesRegressor(**FAST, random_state=0).fit(X, y)
    assert [getattr(jax.config, name) for name in names] == before


class _FakeGPU:
    platform = "gpu"
    id = 0


def test_auto_device_takes_the_gpu_only_for_large_problems(monkeypatch):
    import jax

    from sklearn_lambda3.bayes import _inference

    real_devices = jax.devices

    def devices(backend=None):
        return [_FakeGPU()] if backend == "gpu" else real_devices(backend)

    monkeypatch.setattr(_inference.jax, "devices", devices)
    limit = _inference.AUTO_GPU_MIN_VALUES
    assert _inference.resolve_device("auto", limit - 1).platform == "cpu"
    assert _inference.resolve_device("auto", limit).platform == "gpu"
    assert _inference.resolve_device("auto").platform == "gpu"  # size unknown: the accelerator
    assert _inference.resolve_device("cpu", 10 * limit).platform == "cpu"
    data = {"design": np.zeros((limit // 4, 4)), "y": np.zeros(3)}
    assert _inference.program_size(data) == limit + 3


def test_auto_device_is_the_cpu_without_an_accelerator(monkeypatch):
    import jax

    from sklearn_lambda3.bayes import _inference

    real_devices = jax.devices

    def devices(backend=None):
        if backend == "gpu":
            raise RuntimeError("Unknown backend gpu")
        return real_devices(backend)

    monkeypatch.setattr(_inference.jax, "devices", devices)
    assert _inference.resolve_device("auto", 10**9).platform == "cpu"


def test_independent_chains_depend_on_neither_threads_nor_other_chains(monkeypatch):
    from sklearn_lambda3.bayes import _inference

    # The dynamic model with the Numba filter runs each chain as its own program, in threads.
    y = make_jump_series(120, n_series=1, random_state=3)[:, 0]
    X = np.random.default_rng(3).normal(size=(120, 1))
    settings = {**FAST, "num_warmup": 150, "num_samples": 100}
    fits = {}
    for workers, chains in ((1, 2), (2, 2), (3, 3)):
        monkeypatch.setattr(_inference, "chain_workers", lambda n, workers=workers: min(n, workers))
        reg = Lambda3DynamicRegressor(**{**settings, "num_chains": chains}, random_state=7)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fits[workers] = reg.fit(X, y)
    assert fits[1].kalman_ == "numba"
    np.testing.assert_array_equal(fits[1].tau_samples_, fits[2].tau_samples_)
    np.testing.assert_array_equal(fits[1].coef_samples_, fits[2].coef_samples_)
    # A third chain leaves the first two as they were.
    np.testing.assert_array_equal(fits[3].tau_samples_[:200], fits[1].tau_samples_)
    np.testing.assert_array_equal(fits[3].coef_samples_[:200], fits[1].coef_samples_)
    assert not np.array_equal(fits[3].tau_samples_[200:], fits[3].tau_samples_[:100])


def test_chain_workers_is_one_per_chain_up_to_the_usable_cores(monkeypatch):
    from sklearn_lambda3.bayes import _inference

    monkeypatch.setattr(_inference.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert [_inference.chain_workers(n) for n in (1, 2, 4)] == [1, 2, 2]
    monkeypatch.setattr(_inference.os, "sched_getaffinity", lambda pid: {3}, raising=False)
    assert _inference.chain_workers(4) == 1
