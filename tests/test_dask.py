"""Grid search and interaction_effects on a dask.distributed cluster of worker processes.

The search and interaction_effects under ``joblib.parallel_backend("dask")`` equal the serial
runs, JAX and Numba work in spawned workers (Numba from its on-disk cache), the dynamic model's
host-side data are per process, and a worker killed mid-search does not lose the search.
"""

import multiprocessing
import os
import signal
import sys
import time

import cloudpickle
import dask
import joblib
import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster
from distributed.utils import get_mp_context
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import Pipeline

from sklearn_lambda3 import Lambda3BayesRegressor, Lambda3DynamicRegressor, Lambda3Features
from sklearn_lambda3.analysis import interaction_effects
from sklearn_lambda3.datasets import make_jump_series

# Short chains do not converge; the warning is beside the point here.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Functions of this module run in the workers, which cannot import it (pytest's importlib
# mode): cloudpickle ships them by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

SETTINGS = {"num_warmup": 100, "num_samples": 100, "num_chains": 2, "progress_bar": False, "random_state": 0}
GRID = {"reg__jump_prior_scale": [0.5, 5.0], "reg__coef_prior_scale": [0.5, 2.0]}
TIMEOUT = 150  # bounds every wait on the cluster; normal runs need a fraction of it


def make_data():
    series = make_jump_series(300, n_series=2, random_state=0)
    frame = pd.DataFrame(series, columns=["a", "b"])
    return frame.iloc[:-1], frame["a"].to_numpy()[1:]  # target: the next step of column a


def make_search(n_jobs=-1):
    pipe = Pipeline([("l3", Lambda3Features()), ("reg", Lambda3BayesRegressor(**SETTINGS))]).set_output(
        transform="pandas"
    )
    return GridSearchCV(pipe, GRID, cv=TimeSeriesSplit(3), n_jobs=n_jobs)


def process_state():
    return {
        "pid": os.getpid(),
        "start_method": multiprocessing.get_start_method(allow_none=True),
        "jax": "jax" in sys.modules,
        "sklearn_lambda3": "sklearn_lambda3" in sys.modules,
    }


def numba_cache_stats():
    """Cache hits and misses of the feature kernels in this process."""
    from numba.core.registry import CPUDispatcher

    from sklearn_lambda3 import _feature_kernels

    kernels = [k for k in vars(_feature_kernels).values() if isinstance(k, CPUDispatcher)]
    hits = sum(sum(k.stats.cache_hits.values()) for k in kernels)
    misses = sum(sum(k.stats.cache_misses.values()) for k in kernels)
    return hits, misses


def executing(dask_worker):
    return os.getpid(), [str(ts.key) for ts in dask_worker.state.executing]


def host_data():
    from sklearn_lambda3.bayes._kalman import _bridge

    return dict(_bridge._HOST_DATA)


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def assert_same_search(search, reference):
    assert search.best_params_ == reference.best_params_
    for key in ["mean_test_score"] + [f"split{i}_test_score" for i in range(3)]:
        np.testing.assert_allclose(search.cv_results_[key], reference.cv_results_[key], rtol=0, atol=1e-10)


@pytest.fixture(scope="module")
def serial():
    # Runs first: JAX is initialised in this process before any worker starts.
    X, y = make_data()
    return make_search(n_jobs=1).fit(X, y)


@pytest.fixture(scope="module")
def cluster(serial):
    assert "jax" in sys.modules
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
    )
    client = Client(cluster, timeout=60)
    try:
        client.wait_for_workers(2, timeout=60)
        # Before any task: what the freshly started workers hold.
        cluster.fresh_state = client.run(process_state)
        yield cluster, client
    finally:
        client.close(timeout=30)
        cluster.close(timeout=30)


def test_workers_are_spawned_not_forked(cluster):
    cluster, client = cluster
    # The Nanny starts workers with this start method: a fresh interpreter, never a fork of
    # this process, in which JAX (threaded) is already initialised.
    assert dask.config.get("distributed.worker.multiprocessing-method") == "spawn"
    assert get_mp_context().get_start_method() == "spawn"
    states = cluster.fresh_state
    assert len(states) == 2
    for state in states.values():
        assert state["pid"] != os.getpid()
        assert not state["jax"] and not state["sklearn_lambda3"]


def test_grid_search_on_dask_equals_serial(cluster, serial):
    cluster, client = cluster
    X, y = make_data()
    search = make_search()
    with joblib.parallel_backend("dask"):
        search.fit(X, y)
    assert_same_search(search, serial)
    # The fits ran in the workers, JAX included, and Numba loaded the kernels compiled by
    # this process from its on-disk cache instead of compiling them again.
    states = client.run(process_state)
    assert any(state["jax"] for state in states.values())
    for _, misses in client.run(numba_cache_stats).values():
        assert misses == 0
    assert sum(hits for hits, _ in client.run(numba_cache_stats).values()) > 0
    np.testing.assert_allclose(search.predict(X), serial.predict(X), rtol=0, atol=1e-10)


def test_dynamic_model_in_a_worker(cluster):
    # The dynamic model keeps its series in the module dict bayes._kalman._bridge._HOST_DATA for the
    # duration of a fit (the FFI handler reads them through the address the program passes): that is
    # per process, filled and emptied in the worker that fits.
    cluster, client = cluster
    X, y = make_data()
    X = X.to_numpy()[:120]
    y = y[:120]
    reg = Lambda3DynamicRegressor(**{**SETTINGS, "num_warmup": 50, "num_samples": 50})
    local = clone(reg).fit(X, y)  # first here: compiles the Kalman kernels into Numba's cache
    remote = client.submit(clone(reg).fit, X, y, pure=False).result(timeout=TIMEOUT)
    assert all(data == {} for data in client.run(host_data).values())
    np.testing.assert_allclose(remote.coef_samples_, local.coef_samples_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(remote.predict(X), local.predict(X), rtol=0, atol=1e-10)


def test_interaction_effects_on_dask_equals_serial(cluster):
    # interaction_effects asks joblib for threads, but the user's backend takes over: the pair
    # fits run as tasks in the worker processes, seeded per pair, so the result is the serial one.
    cluster, client = cluster
    frame = pd.DataFrame(make_jump_series(300, n_series=3, random_state=1), columns=["a", "b", "c"])
    reg = Lambda3BayesRegressor(**SETTINGS)
    serial_result = interaction_effects(frame, regressor=reg, random_state=0, n_jobs=1)
    with joblib.parallel_backend("dask"):
        result = interaction_effects(frame, regressor=reg, random_state=0)
    assert any("_fit_pair" in prefix for prefix in cluster.scheduler.task_prefixes)
    assert result.names == serial_result.names == ["a", "b", "c"]
    for kind in ("jump_pos", "jump_neg", "tension"):
        for field in ("mean", "lower", "upper"):
            np.testing.assert_array_equal(getattr(result, field)[kind], getattr(serial_result, field)[kind])
    np.testing.assert_array_equal(result.r_hat_max, serial_result.r_hat_max)
    np.testing.assert_array_equal(result.ess_bulk_min, serial_result.ess_bulk_min)


def test_killed_worker_does_not_lose_the_search(cluster, serial):
    cluster, client = cluster
    # Fresh workers: the first fit in each compiles the sampler for seconds, so a fit found
    # executing is still executing when its worker is killed a moment later.
    client.restart(timeout=60)
    client.wait_for_workers(2, timeout=60)
    X, y = make_data()

    # A task's function reaches the workers pickled by reference unless plain pickle fails
    # on it, as it does on a local function: then cloudpickle ships it by value.
    def search_with_dask(X, y):
        search = make_search()
        with joblib.parallel_backend("dask"):
            search.fit(X, y)
        return search

    # The search runs as a task: if its own worker dies it is re-run elsewhere, and if the
    # other worker dies with data the fits need (joblib scatters large arguments to one
    # worker), the search fails in the worker and is retried.
    outer = client.submit(search_with_dask, X, y, retries=2, pure=False)

    found = []

    def victim_found():
        home = [a for a, keys in client.processing().items() if outer.key in keys]
        if home:
            # Ask the workers themselves: a fit executing now, on the worker the search is not on.
            for address, (pid, running) in client.run(executing).items():
                if address != home[0] and any("fit_and_score" in key for key in running):
                    found.append((address, pid, running))
                    return True
        return False

    wait_until(victim_found, TIMEOUT, "a fit executing on the other worker")
    address, pid, running = found[0]
    scattered = sum(ts.run_spec is None for ts in cluster.scheduler.workers[address].has_what)
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: address not in cluster.scheduler.workers, 60, "the scheduler to drop the worker")

    search = outer.result(timeout=TIMEOUT)
    assert_same_search(search, serial)
    np.testing.assert_allclose(search.predict(X), serial.predict(X), rtol=0, atol=1e-10)

    # The scheduler saw it: the fit executing on the killed worker went back from processing
    # to released and was then computed elsewhere; or, when the worker took with it data the
    # fits needed, the search failed in its worker and was retried.
    def rerun_elsewhere(key):
        moves = [(start, finish) for k, start, finish, *_ in cluster.scheduler.story(key) if k == key]
        if ("processing", "released") not in moves:
            return False
        return ("processing", "memory") in moves[moves.index(("processing", "released")) :]

    rerun = all(rerun_elsewhere(key) for key in running)
    retried = cluster.scheduler.tasks[outer.key].retries < 2
    print(
        f"killed pid {pid} ({scattered} scattered keys) running {running}: re-run {rerun}, retried {retried}"
    )
    assert rerun or retried
