"""Progress bars: when ``progress_bar="auto"`` shows one, NUTS's phases, SVI, one compiled program."""

import sys
import types
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_lambda3 import Lambda3BayesRegressor
from sklearn_lambda3.bayes._inference import show_progress


class _Stream:
    def __init__(self, tty):
        self.tty = tty

    def isatty(self):
        return self.tty

    def write(self, text):
        return len(text)

    def flush(self):
        pass


class _Bar:
    """Stands in for tqdm: records the descriptions and the ticks."""

    made = []

    def __init__(self, total, desc):
        self.total, self.descriptions, self.ticks, self.closed = total, [desc], 0, False
        _Bar.made.append(self)

    def set_description(self, desc, refresh=True):
        self.descriptions.append(desc)

    def update(self, n):
        self.ticks += n

    def close(self):
        self.closed = True


@pytest.fixture
def bars(monkeypatch):
    import tqdm.auto

    _Bar.made = []
    monkeypatch.setattr(tqdm.auto, "tqdm", _Bar)
    return _Bar.made


def _fake_ipython(monkeypatch, shell):
    module = types.ModuleType("IPython")
    module.get_ipython = lambda: shell
    monkeypatch.setitem(sys.modules, "IPython", module)


def test_auto_shows_progress_in_a_terminal_or_a_notebook_kernel_only(monkeypatch):
    monkeypatch.setattr(sys, "stderr", _Stream(tty=False))
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert show_progress("auto") is False  # a log file, CI
    _fake_ipython(monkeypatch, None)  # IPython imported, but no shell running
    assert show_progress("auto") is False
    _fake_ipython(monkeypatch, types.SimpleNamespace())  # a terminal IPython shell has no kernel
    assert show_progress("auto") is False
    _fake_ipython(monkeypatch, types.SimpleNamespace(kernel=object()))  # Jupyter's kernel
    assert show_progress("auto") is True
    monkeypatch.delitem(sys.modules, "IPython")
    monkeypatch.setattr(sys, "stderr", _Stream(tty=True))
    assert show_progress("auto") is True
    assert show_progress(False) is False and show_progress(True) is True


def _data(n=80):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2))
    return X, X @ [1.0, -1.0] + rng.normal(size=n)


def test_nuts_bar_tells_warmup_from_sampling(bars):
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        Lambda3BayesRegressor(
            num_warmup=150, num_samples=50, num_chains=2, progress_bar=True, random_state=0
        ).fit(X, y)
    (bar,) = bars
    assert bar.descriptions == ["NUTS warmup (2 chains)", "NUTS sample (2 chains)"]
    assert bar.ticks == bar.total == 100 and bar.closed  # one tick every 2 of the 200 iterations


def test_nuts_bar_without_warmup_starts_in_sampling(bars):
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        Lambda3BayesRegressor(
            num_warmup=0, num_samples=30, num_chains=1, progress_bar=True, random_state=0
        ).fit(X, y)
    (bar,) = bars
    assert bar.descriptions == ["NUTS sample (1 chains)"] and bar.ticks == bar.total == 30


def test_svi_shows_a_bar(bars):
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        Lambda3BayesRegressor(inference="svi", svi_steps=500, progress_bar=True, random_state=0).fit(X, y)
    (bar,) = bars
    assert bar.descriptions == ["SVI optimise (normal guide)"]
    assert bar.ticks == bar.total == 100 and bar.closed


def test_no_bar_when_off(bars):
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        Lambda3BayesRegressor(num_warmup=20, num_samples=20, num_chains=1, progress_bar=False).fit(X, y)
        Lambda3BayesRegressor(inference="svi", svi_steps=100, progress_bar=False).fit(X, y)
    assert bars == []


def test_progress_refits_compile_nothing(bars):
    import jax.monitoring

    compiles = []

    def listener(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            compiles.append(event)

    jax.monitoring.register_event_duration_secs_listener(listener)
    X, y = _data()
    settings = {"num_warmup": 30, "num_samples": 30, "num_chains": 1, "progress_bar": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for inference in ("nuts", "svi"):
            Lambda3BayesRegressor(inference=inference, svi_steps=300, **settings, random_state=0).fit(X, y)
            before = len(compiles)
            Lambda3BayesRegressor(inference=inference, svi_steps=300, **settings, random_state=1).fit(X, y)
            assert len(compiles) == before, inference
