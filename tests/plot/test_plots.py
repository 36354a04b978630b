"""Plots: the artists drawn, the values behind them, PNG rendering and errors."""

import builtins
import importlib
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import LinearRegression  # noqa: E402

from sklearn_lambda3 import (  # noqa: E402
    Lambda3BayesRegressor,
    Lambda3DynamicRegressor,
    Lambda3Features,
    PredictiveCheck,
    posterior_predictive_check,
)
from sklearn_lambda3.analysis import (  # noqa: E402
    InteractionResult,
    causality_matrix,
    detect_regimes,
    dynamic_sync,
    sync_matrix,
    sync_network,
    sync_profile,
)
from sklearn_lambda3.datasets import make_jump_series  # noqa: E402
from sklearn_lambda3.plot import (  # noqa: E402
    plot_causality_by_lag,
    plot_change_points,
    plot_dynamic_sync,
    plot_fit,
    plot_interaction_matrix,
    plot_posterior,
    plot_predictive_check,
    plot_regimes,
    plot_series,
    plot_sync_matrix,
    plot_sync_network,
    plot_sync_profile,
)

FIT = {"num_warmup": 100, "num_samples": 100, "num_chains": 2, "progress_bar": False, "random_state": 0}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def save(figure, tmp_path, name):
    path = tmp_path / f"{name}.png"
    figure.savefig(path)
    assert path.stat().st_size > 1000
    return path


@pytest.fixture(scope="module")
def data():
    X = make_jump_series(150, n_series=2, random_state=0)
    F = Lambda3Features().set_output(transform="pandas").fit_transform(pd.DataFrame(X, columns=["a", "b"]))
    return X, F.iloc[:, :4]


@pytest.fixture(scope="module")
def linear(data):
    X, F = data
    with _no_check():
        reg = Lambda3BayesRegressor(**FIT).fit(F.iloc[:-1], X[1:, 0])
    return reg, F.iloc[:-1], X[1:, 0]


@pytest.fixture(scope="module")
def dynamic(data):
    X, F = data
    with _no_check():
        reg = Lambda3DynamicRegressor(change_points=[40, 90], **FIT).fit(F, X[:, 0])
    return reg, F, X[:, 0]


class _no_check:
    """Tiny chains may not converge: silence the ConvergenceWarning in fixtures."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


# ----------------------------------------------------------------------------------------------


def test_import_without_matplotlib(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delitem(sys.modules, "sklearn_lambda3.plot", raising=False)
    module = importlib.import_module("sklearn_lambda3.plot")
    with pytest.raises(ImportError, match=r'pip install "sklearn-lambda3\[plot\]"'):
        module.plot_series(np.arange(10.0))
    with pytest.raises(ImportError, match="sklearn-lambda3"):
        module.plot_sync_matrix(np.eye(2))
    with pytest.raises(ImportError, match="sklearn-lambda3"):
        module.plot_change_points(np.arange(10.0), [5])


def test_plot_series(tmp_path):
    X = make_jump_series(200, n_jumps=8, random_state=1)
    features = Lambda3Features().fit_transform(X)
    ax = plot_series(X[:, 0], features, name="s")
    save(ax.figure, tmp_path, "series")
    series, up, down = ax.lines
    np.testing.assert_array_equal(series.get_ydata(), X[:, 0])
    assert up.get_marker() == "^" and down.get_marker() == "v"
    pos, neg = np.flatnonzero(features[:, 0]), np.flatnonzero(features[:, 1])
    assert len(pos) > 0 and len(neg) > 0
    np.testing.assert_array_equal(up.get_xdata(), pos)
    np.testing.assert_array_equal(down.get_xdata(), neg)
    np.testing.assert_array_equal(up.get_ydata(), X[pos, 0])
    (band,) = ax.collections
    vertices = band.get_paths()[0].vertices
    n = len(X)
    np.testing.assert_allclose(vertices[1 : n + 1, 1], X[:, 0] - features[:, 2])
    np.testing.assert_allclose(vertices[-(n + 1) : -1, 1][::-1], X[:, 0] + features[:, 2])
    assert ax.get_xlabel() == "time step" and ax.get_ylabel() == "s" and "s" in ax.get_title()
    assert len(ax.get_legend().get_texts()) == 4


def test_plot_series_defaults_and_given_ax(tmp_path):
    x = pd.Series(make_jump_series(120, random_state=2)[:, 0], name="price")
    fig, ax = plt.subplots()
    out = plot_series(x, ax=ax)
    assert out is ax
    features = Lambda3Features().fit_transform(x.to_numpy()[:, None])
    assert len(ax.lines[1].get_xdata()) == features[:, 0].sum()
    assert ax.get_ylabel() == "price"
    save(fig, tmp_path, "series_default")


def test_plot_series_errors():
    x = np.arange(20.0)
    with pytest.raises(ValueError, match="shape \\(20, 4\\)"):
        plot_series(x, np.zeros((20, 3)))
    with pytest.raises(ValueError, match="binary"):
        plot_series(x, np.full((20, 4), 0.5))
    with pytest.raises(ValueError, match="1-D"):
        plot_series(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="NaN"):
        plot_series(np.r_[x, np.nan])
    with pytest.raises(TypeError, match="real numbers"):
        plot_series(["a", "b"])
    with pytest.raises(TypeError, match="Axes"):
        plot_series(x, ax="not an axes")


def test_plot_fit_linear(tmp_path, linear):
    reg, X, y = linear
    ax = plot_fit(reg, X, y, coverage=0.8)
    save(ax.figure, tmp_path, "fit_linear")
    labels = [line.get_label() for line in ax.lines]
    assert labels == ["predictive mean", "observed y"]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), reg.predict(X))
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), y)
    (band,) = ax.collections
    interval = reg.predict_interval(X, coverage=0.8)
    vertices = band.get_paths()[0].vertices
    n = len(y)
    np.testing.assert_allclose(vertices[1 : n + 1], np.column_stack([np.arange(n), interval[:, 0]]))
    np.testing.assert_allclose(vertices[-(n + 1) : -1][::-1], np.column_stack([np.arange(n), interval[:, 1]]))
    assert "80% predictive interval" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert ax.get_xlabel() and ax.get_ylabel() == "y" and ax.get_title()


def test_plot_fit_dynamic(tmp_path, dynamic):
    reg, X, y = dynamic
    ax = plot_fit(reg, X, y)
    save(ax.figure, tmp_path, "fit_dynamic")
    by_label = {line.get_label(): line for line in ax.lines}
    np.testing.assert_allclose(by_label["level mean"].get_ydata(), reg.level_mean_)
    vertical = [line for line in ax.lines if np.ndim(line.get_xdata()) == 1 and len(line.get_xdata()) == 2]
    assert sorted(line.get_xdata()[0] for line in vertical) == [40, 90]
    assert vertical[0].get_label() == "change point" and vertical[1].get_label().startswith("_")
    assert "dynamic" in ax.get_title()


def test_plot_fit_pipeline(data):
    from sklearn.pipeline import make_pipeline

    X, _ = data
    frame = pd.DataFrame(X, columns=["a", "b"]).iloc[:-1]
    y = X[1:, 0]
    with _no_check():
        pipe = make_pipeline(Lambda3Features(), Lambda3BayesRegressor(**FIT)).fit(frame, y)
    ax = plot_fit(pipe, frame, y)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), pipe.predict(frame))


def test_plot_fit_errors(linear):
    reg, X, y = linear
    with pytest.raises(ValueError, match="one value per row"):
        plot_fit(reg, X, y[:-1])
    with pytest.raises(ValueError, match="coverage"):
        plot_fit(reg, X, y, coverage=1.5)
    with pytest.raises(TypeError, match="Lambda3BayesRegressor"):
        plot_fit(LinearRegression().fit(X, y), X, y)
    with pytest.raises(NotFittedError):
        plot_fit(Lambda3BayesRegressor(), X, y)


def test_plot_sync_matrix(tmp_path):
    events = pd.DataFrame(
        (np.random.default_rng(0).random((100, 3)) < 0.2).astype(int), columns=["alpha", "beta", "gamma"]
    )
    rates, _ = sync_matrix(events, lag_window=3)
    ax = plot_sync_matrix(rates)
    save(ax.figure, tmp_path, "sync_matrix")
    (image,) = ax.images
    assert image.colorbar is not None
    assert image.colorbar.ax.get_ylabel() == "sync rate"
    np.testing.assert_allclose(np.ma.getdata(image.get_array()), rates.to_numpy())
    assert [t.get_text() for t in ax.get_xticklabels()] == ["alpha", "beta", "gamma"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["alpha", "beta", "gamma"]
    assert len(ax.texts) == 9
    assert ax.get_xlabel() == "target" and ax.get_ylabel() == "source"
    assert ax.get_title()
    ax = plot_sync_matrix(rates.to_numpy(), labels=["x", "y", "z"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "y", "z"]
    ax = plot_sync_matrix(np.eye(2))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1"]


def test_plot_sync_matrix_errors():
    with pytest.raises(ValueError, match="square"):
        plot_sync_matrix(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="first output of sync_matrix"):
        plot_sync_matrix(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="NaN"):
        plot_sync_matrix(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="2 names"):
        plot_sync_matrix(np.eye(2), labels=["a"])
    with pytest.raises(TypeError, match="sequence"):
        plot_sync_matrix(np.eye(2), labels="ab")


def synced_events():
    rng = np.random.default_rng(1)
    a = (rng.random(200) < 0.15).astype(int)
    return pd.DataFrame(
        {"a": a, "b": np.roll(a, 2), "c": np.roll(a, -1), "d": (rng.random(200) < 0.1).astype(int)}
    )


def test_plot_sync_network_edges(tmp_path):
    events = synced_events()
    edges = sync_network(events, lag_window=5, threshold=0.1)
    assert len(edges) == 6
    ax = plot_sync_network(edges)
    save(ax.figure, tmp_path, "sync_network")
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == len(edges)
    lags = sorted(t.get_text() for t in ax.texts if t.get_text().startswith("τ="))
    assert lags == sorted(f"τ={lag:+d}" for *_, lag in edges)
    names = {t.get_text() for t in ax.texts}
    assert {"a", "b", "c"} <= names and "d" not in names
    assert ax.get_title() == "Synchronisation network (6 edges)"
    # Wider arrows for higher rates.
    weak = [("a", "b", 0.9, 1), ("b", "c", 0.3, 0)]
    ax = plot_sync_network(weak, labels=["a", "b", "c", "d"])
    assert ax.patches[0].get_linewidth() > ax.patches[1].get_linewidth()
    assert "d" in {t.get_text() for t in ax.texts}


def test_plot_sync_network_matrix(tmp_path):
    rates, lags = sync_matrix(synced_events(), lag_window=5)
    ax = plot_sync_network(rates, threshold=0.1)
    expected = int(((rates.to_numpy() >= 0.1) & ~np.eye(4, dtype=bool)).sum())
    assert len(ax.patches) == expected == 6
    assert not any(t.get_text().startswith("τ=") for t in ax.texts)
    ax = plot_sync_network((rates, lags), threshold=0.1)
    assert sum(t.get_text().startswith("τ=") for t in ax.texts) == 6
    assert "d" in {t.get_text() for t in ax.texts}
    save(ax.figure, tmp_path, "sync_network_matrix")
    ax = plot_sync_network([])
    assert len(ax.patches) == 0


def test_plot_sync_network_errors():
    with pytest.raises(ValueError, match="two different"):
        plot_sync_network([("a", "a", 0.5, 0)])
    with pytest.raises(ValueError, match="missing"):
        plot_sync_network([("a", "b", 0.5, 0)], labels=["a"])
    with pytest.raises(ValueError, match="tuple"):
        plot_sync_network([("a", "b")])
    with pytest.raises(TypeError, match="rate"):
        plot_sync_network([("a", "b", "high", 0)])
    with pytest.raises(TypeError, match="threshold"):
        plot_sync_network(np.eye(3), threshold="high")
    with pytest.raises(TypeError, match="edge"):
        plot_sync_network(3.0)


def test_plot_regimes(tmp_path):
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(0, 0.1, 60), rng.normal(0, 2.0, 40), rng.normal(0, 0.1, 60)]
    result = detect_regimes(Lambda3Features().fit_transform(x[:, None]), n_regimes=3, random_state=0)
    ax = plot_regimes(x, result)
    save(ax.figure, tmp_path, "regimes")
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == len(np.unique(result.labels))
    runs = 1 + np.count_nonzero(np.diff(result.labels))
    assert sum(len(c.get_paths()) for c in bands) == runs
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:3] == [f"regime {k} ({share:.0%})" for k, share in enumerate(result.frequency)]
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), x)
    assert ax.get_xlim() == (-0.5, len(x) - 0.5)
    # First band of regime 0 starts at step 0.
    assert bands[0].get_paths()[0].vertices[0, 0] == -0.5


def test_plot_regimes_errors():
    x = np.arange(5.0)
    with pytest.raises(ValueError, match="one regime per step"):
        plot_regimes(x, [0, 1])
    with pytest.raises(TypeError, match="integer"):
        plot_regimes(x, [0.5, 0, 0, 0, 0])
    with pytest.raises(ValueError, match="non-negative"):
        plot_regimes(x, [0, -1, 0, 0, 0])


def test_plot_posterior(tmp_path, linear):
    reg, _, _ = linear
    fig = plot_posterior(reg)
    save(fig, tmp_path, "posterior")
    k = reg.n_features_in_
    assert len(fig.axes) == 2 * k
    chains = reg.coef_samples_.reshape(2, -1, k)
    for row, name in enumerate(reg.feature_names_in_):
        density, trace = fig.axes[2 * row], fig.axes[2 * row + 1]
        assert density.get_title() == f"{name}: posterior" and trace.get_title() == f"{name}: trace"
        assert len(density.patches) > 10  # histogram bars
        assert len(trace.lines) == 2
        for chain in range(2):
            np.testing.assert_array_equal(trace.lines[chain].get_ydata(), chains[chain, :, row])
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["chain 0", "chain 1"]
    fig = plot_posterior(reg, names=[reg.feature_names_in_[2], 0], fig=plt.figure())
    assert [ax.get_title() for ax in fig.axes[::2]] == [
        f"{reg.feature_names_in_[2]}: posterior",
        f"{reg.feature_names_in_[0]}: posterior",
    ]


def test_plot_posterior_at_most_six():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 8))
    y = 3 * X[:, 7] + rng.normal(scale=0.5, size=80)
    with _no_check():
        reg = Lambda3BayesRegressor(**FIT).fit(X, y)
    fig = plot_posterior(reg)
    titles = [ax.get_title() for ax in fig.axes[::2]]
    assert len(titles) == 6 and "x7: posterior" in titles


def test_plot_posterior_errors(linear):
    reg, _, _ = linear
    with pytest.raises(ValueError, match="unknown coefficient"):
        plot_posterior(reg, names=["nope"])
    with pytest.raises(ValueError, match="out of range"):
        plot_posterior(reg, names=[10])
    with pytest.raises(ValueError, match="at least one"):
        plot_posterior(reg, names=[])
    with pytest.raises(TypeError, match="sequence"):
        plot_posterior(reg, names="a__rho_T")
    with pytest.raises(TypeError, match="Figure"):
        plot_posterior(reg, fig="figure")
    with pytest.raises(NotFittedError):
        plot_posterior(Lambda3BayesRegressor())


# ----------------------------------------------------------------------------------------------
# Sync profile, dynamic sync and causality by lag


def lagged_rate(a, b, lag):
    """Sync rate at one lag, by its definition: mean of a[t] * b[t + lag] over the overlap."""
    if lag >= 0:
        return np.mean(a[: len(a) - lag] * b[lag:])
    return np.mean(a[-lag:] * b[: len(b) + lag])


def test_plot_sync_profile(tmp_path):
    rng = np.random.default_rng(3)
    a = (rng.random(150) < 0.15).astype(int)
    b = np.roll(a, 3) | (rng.random(150) < 0.05)
    ax = plot_sync_profile(pd.Series(a, name="rain"), pd.Series(b, name="wind"), lag_window=6)
    save(ax.figure, tmp_path, "sync_profile")
    profile, optimum = ax.lines[:2]
    np.testing.assert_array_equal(profile.get_xdata(), np.arange(-6, 7))
    np.testing.assert_allclose(profile.get_ydata(), [lagged_rate(a, b, lag) for lag in range(-6, 7)])
    lags, rates, sync_rate, optimal_lag = sync_profile(a, b, lag_window=6)
    np.testing.assert_array_equal(profile.get_ydata(), rates)
    assert optimal_lag == 3  # b repeats a three steps later
    assert optimum.get_marker() == "*"
    np.testing.assert_array_equal(optimum.get_xdata(), [3])
    np.testing.assert_allclose(optimum.get_ydata(), [rates.max()])
    marks = [line for line in ax.lines[2:] if line.get_linestyle() == "--"]
    assert [line.get_xdata()[0] for line in marks] == [3]
    assert "+3" in optimum.get_label()
    assert ax.get_title() == "Sync profile: rain vs wind"
    assert "wind follows rain" in ax.get_xlabel()
    ax = plot_sync_profile(a, b, lag_window=2, labels=["x", "y"])
    assert ax.get_title() == "Sync profile: x vs y"


def test_plot_sync_profile_no_coincidence():
    a = np.zeros(40, dtype=int)
    b = np.zeros(40, dtype=int)
    a[5], b[30] = 1, 1
    fig, ax = plt.subplots()
    assert plot_sync_profile(a, b, lag_window=4, ax=ax) is ax
    assert not any(line.get_marker() == "*" for line in ax.lines)
    assert any("no coinciding events" in text.get_text() for text in ax.texts)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), np.zeros(9))


def test_plot_sync_profile_errors():
    a = np.array([0, 1, 0, 1, 0, 0])
    with pytest.raises(ValueError, match="binary"):
        plot_sync_profile(a, a * 0.5)
    with pytest.raises(ValueError, match="lag_window"):
        plot_sync_profile(a, a, lag_window=6)
    with pytest.raises(ValueError, match="2 names"):
        plot_sync_profile(a, a, lag_window=2, labels=["a"])
    with pytest.raises(TypeError, match="pair of names"):
        plot_sync_profile(a, a, lag_window=2, labels="ab")
    with pytest.raises(TypeError, match="Axes"):
        plot_sync_profile(a, a, lag_window=2, ax="axes")


def test_plot_dynamic_sync(tmp_path):
    rng = np.random.default_rng(4)
    a = (rng.random(160) < 0.12).astype(int)
    b = np.r_[np.roll(a, 2)[:80], (rng.random(80) < 0.12).astype(int)]
    ax = plot_dynamic_sync(a, b, window=30, lag_window=4)
    save(ax.figure, tmp_path, "dynamic_sync")
    rates, lags = dynamic_sync(a, b, window=30, lag_window=4)
    line = ax.lines[0]
    np.testing.assert_array_equal(line.get_xdata(), np.arange(131) + 14.5)
    np.testing.assert_array_equal(line.get_ydata(), rates)
    # The rate of a window, from its definition: the best lagged rate inside the window.
    for start in (0, 40, 100, 130):
        wa, wb = a[start : start + 30], b[start : start + 30]
        best = max(lagged_rate(wa, wb, lag) for lag in range(-4, 5))
        assert line.get_ydata()[start] == pytest.approx(best)
    twin = ax.figure.axes[-1]
    assert twin is not ax and twin.get_ylabel() == "optimal lag τ"
    dots = twin.lines[0].get_ydata()
    np.testing.assert_array_equal(np.isnan(dots), rates == 0)
    np.testing.assert_array_equal(dots[rates > 0], lags[rates > 0])
    assert np.all(np.abs(dots[rates > 0]) <= 4)
    assert twin.get_yticks().min() >= -4 and twin.get_yticks().max() <= 4
    assert ax.get_xlim() == (-0.5, 159.5)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["sync rate", "optimal lag"]


def test_plot_dynamic_sync_errors():
    a = np.array([0, 1, 0, 1, 0, 0])
    with pytest.raises(ValueError, match="window must be at most"):
        plot_dynamic_sync(a, a, window=7)
    with pytest.raises(TypeError, match="window"):
        plot_dynamic_sync(a, a, window=2.5)
    with pytest.raises(ValueError, match="same length"):
        plot_dynamic_sync(a, a[:-1], window=3)
    with pytest.raises(ValueError, match="2 names"):
        plot_dynamic_sync(a, a, window=3, labels=["a", "b", "c"])


def causality_events(n_series=3, n_steps=400, seed=5):
    """ΔΛC⁺ of each series at random; the ΔΛC⁻ of series 1 follow those of series 0 by 3 steps."""
    rng = np.random.default_rng(seed)
    names = [f"s{k}" for k in range(n_series)]
    pos = (rng.random((n_steps, n_series)) < 0.1).astype(int)
    neg = (rng.random((n_steps, n_series)) < 0.1).astype(int)
    neg[3:, 1] = pos[:-3, 0]
    return pd.DataFrame(pos, columns=names), pd.DataFrame(neg, columns=names)


def test_plot_causality_by_lag_one_pair(tmp_path):
    pos, neg = causality_events()
    ax = plot_causality_by_lag(pos, neg, max_lag=8, source="s0", target="s1")
    save(ax.figure, tmp_path, "causality_pair")
    line, base = ax.lines
    assert line.get_label() == "s0 → s1"
    np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 9))
    p, q = pos.to_numpy(), neg.to_numpy()
    expected = [np.sum(p[:-k, 0] * q[k:, 1]) / np.sum(p[:-k, 0]) for k in range(1, 9)]
    np.testing.assert_allclose(line.get_ydata(), expected)
    np.testing.assert_allclose(
        line.get_ydata(), [causality_matrix(pos, neg, lag=k).loc["s0", "s1"] for k in range(1, 9)]
    )
    assert line.get_ydata()[2] == 1.0  # every rise of s0 is followed by a fall of s1 3 steps later
    assert np.all(np.delete(line.get_ydata(), 2) < 0.5)
    np.testing.assert_allclose(base.get_ydata(), [q[:, 1].mean()] * 2)
    assert "base rate" in base.get_label()
    # By column number, and the series on itself when asked for.
    ax = plot_causality_by_lag(pos.to_numpy(), neg.to_numpy(), max_lag=3, source=2, target=2)
    assert ax.lines[0].get_label() == "2 → 2"
    expected = [np.sum(p[:-k, 2] * q[k:, 2]) / np.sum(p[:-k, 2]) for k in range(1, 4)]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), expected)


def test_plot_causality_by_lag_many_pairs(tmp_path):
    pos, neg = causality_events()
    ax = plot_causality_by_lag(pos, neg, max_lag=5, source="s0")
    assert [line.get_label() for line in ax.lines[:2]] == ["s0 → s1", "s0 → s2"]
    assert len(ax.lines) == 2  # two targets: no base rate
    ax = plot_causality_by_lag(pos, neg, max_lag=5, target="s2")
    assert [line.get_label() for line in ax.lines] == ["s0 → s2", "s1 → s2", "base rate of ΔΛC⁻ of s2"]
    ax = plot_causality_by_lag(pos, neg, max_lag=5, labels=["a", "b", "c"])
    assert [line.get_label() for line in ax.lines] == ["a → b", "a → c", "b → a", "b → c", "c → a", "c → b"]
    assert ax.get_title() == "Structural causality by lag"
    # 5 series: 20 pairs, of which the 10 with the highest peaks are drawn, in pair order.
    pos, neg = causality_events(n_series=5)
    ax = plot_causality_by_lag(pos, neg, max_lag=4)
    save(ax.figure, tmp_path, "causality_all")
    matrices = np.stack([causality_matrix(pos.to_numpy(), neg.to_numpy(), lag=k) for k in range(1, 5)])
    pairs = [(s, g) for s in range(5) for g in range(5) if s != g]
    peaks = np.array([matrices[:, s, g].max() for s, g in pairs])
    labels = [line.get_label() for line in ax.lines]
    assert len(labels) == 10 and "s0 → s1" in labels
    drawn = [pairs.index((int(lab[1]), int(lab[-1]))) for lab in labels]
    assert drawn == sorted(drawn)
    assert peaks[drawn].min() >= np.delete(peaks, drawn).max()
    assert "10 of 20 pairs" in ax.get_title()
    # Sparse events: of 20 pairs only those with some causality are drawn.
    rises = np.zeros((200, 5), dtype=int)
    falls = np.zeros((200, 5), dtype=int)
    rises[[10, 50, 90], 0] = 1
    falls[[13, 53], 2] = 1
    falls[[100], 4] = 1
    ax = plot_causality_by_lag(rises, falls, max_lag=12)
    assert [line.get_label() for line in ax.lines] == ["0 → 2", "0 → 4"]
    assert "2 of 20 pairs; the others are 0 at every lag" in ax.get_title()
    # One series: the series on itself.
    ax = plot_causality_by_lag(pos[["s0"]], neg[["s0"]], max_lag=2)
    assert ax.lines[0].get_label() == "s0 → s0"


def test_plot_causality_by_lag_errors():
    pos, neg = causality_events(n_steps=20)
    with pytest.raises(ValueError, match="max_lag must be smaller"):
        plot_causality_by_lag(pos, neg, max_lag=20)
    with pytest.raises(ValueError, match="max_lag must be >= 1"):
        plot_causality_by_lag(pos, neg, max_lag=0)
    with pytest.raises(TypeError, match="max_lag"):
        plot_causality_by_lag(pos, neg, max_lag=2.0)
    with pytest.raises(ValueError, match="unknown source 'x'"):
        plot_causality_by_lag(pos, neg, source="x")
    with pytest.raises(ValueError, match="target number 3 is out of range"):
        plot_causality_by_lag(pos, neg, target=3)
    with pytest.raises(TypeError, match="source must be"):
        plot_causality_by_lag(pos, neg, source=1.5)
    with pytest.raises(ValueError, match="same shape"):
        plot_causality_by_lag(pos, neg.iloc[:-1])
    with pytest.raises(ValueError, match="binary"):
        plot_causality_by_lag(pos * 2, neg)
    with pytest.raises(ValueError, match="3 names"):
        plot_causality_by_lag(pos, neg, labels=["a"])


# ----------------------------------------------------------------------------------------------
# Interaction matrix, predictive check, change points


KINDS = ("jump_pos", "jump_neg", "tension")


def interaction_result(mean, half_width, names):
    """An InteractionResult with the same matrices for every kind and intervals mean ± half_width."""
    mean = np.asarray(mean, dtype=np.float64)
    p = len(names)
    return InteractionResult(
        names=list(names),
        mean={kind: mean.copy() for kind in KINDS},
        lower={kind: mean - half_width for kind in KINDS},
        upper={kind: mean + half_width for kind in KINDS},
        r_hat_max=np.ones((p, p)),
        ess_bulk_min=np.full((p, p), 500.0),
        num_divergences=np.zeros((p, p)),
        coverage=0.9,
        lag=1,
    )


def cell_texts(ax):
    """``{(row, column): Text}`` of the texts written in the cells."""
    return {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in ax.texts}


def test_plot_interaction_matrix(tmp_path):
    nan = np.nan
    mean = [[nan, 2.0, -0.1], [0.05, nan, -1.5], [0.3, 0.0, nan]]
    result = interaction_result(mean, 0.2, ["alpha", "beta", "gamma"])
    result.mean["tension"] = result.mean["tension"] * 10
    ax = plot_interaction_matrix(result)
    save(ax.figure, tmp_path, "interaction")
    (image,) = ax.images
    shown = np.ma.filled(np.ma.asarray(image.get_array()).astype(float), np.nan)
    np.testing.assert_array_equal(shown, result.mean["jump_pos"])  # NaN diagonal kept
    assert image.norm.vmin == -2.0 and image.norm.vmax == 2.0  # centred at 0
    assert image.get_cmap().name.startswith("RdBu_r")
    assert image.colorbar is not None and "ΔΛC⁺" in image.colorbar.ax.get_ylabel()
    texts = cell_texts(ax)
    assert set(texts) == {(i, j) for i in range(3) for j in range(3) if i != j}
    marked = result.excludes_zero("jump_pos")
    for (i, j), text in texts.items():
        assert text.get_text().endswith("*") == bool(marked[i, j])
        assert (text.get_fontweight() == "bold") == bool(marked[i, j])
        assert float(text.get_text().rstrip("*")) == pytest.approx(result.mean["jump_pos"][i, j], abs=1e-3)
    assert texts[(0, 1)].get_text() == "2.000*" and texts[(1, 2)].get_text() == "-1.500*"
    grey = [patch for patch in ax.patches if patch.get_hatch() is None]
    assert sorted(patch.get_xy() for patch in grey) == [(-0.5, -0.5), (0.5, 0.5), (1.5, 1.5)]
    assert not any(patch.get_hatch() for patch in ax.patches)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["alpha", "beta", "gamma"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["alpha", "beta", "gamma"]
    assert ax.get_xlabel() == "target" and ax.get_ylabel() == "source"
    assert "lag 1" in ax.get_title() and "90%" in ax.get_title() and "not fitted" not in ax.get_title()
    ax = plot_interaction_matrix(result, kind="tension")
    np.testing.assert_array_equal(
        np.ma.filled(np.ma.asarray(ax.images[0].get_array()).astype(float), np.nan), result.mean["tension"]
    )
    assert ax.images[0].norm.vmax == 20.0 and "ρT" in ax.get_title()


def test_plot_interaction_matrix_partial(tmp_path):
    nan = np.nan
    # Only source 0 was fitted (as the command line fits some pairs): the other pairs are NaN.
    mean = [[nan, 0.8, -0.6], [nan, nan, nan], [nan, nan, nan]]
    result = interaction_result(mean, 0.5, ["a", "b", "c"])
    fig, ax = plt.subplots()
    assert plot_interaction_matrix(result, kind="jump_neg", ax=ax) is ax
    save(fig, tmp_path, "interaction_partial")
    shown = np.ma.filled(np.ma.asarray(ax.images[0].get_array()).astype(float), np.nan)
    np.testing.assert_array_equal(shown, result.mean["jump_neg"])
    hatched = sorted(patch.get_xy() for patch in ax.patches if patch.get_hatch())
    # Rectangles at (column - 0.5, row - 0.5) of the four unfitted pairs.
    assert hatched == [(-0.5, 0.5), (-0.5, 1.5), (0.5, 1.5), (1.5, 0.5)]
    texts = cell_texts(ax)
    assert [texts[cell].get_text() for cell in [(1, 0), (1, 2), (2, 0), (2, 1)]] == ["n/f"] * 4
    assert texts[(0, 1)].get_text() == "0.8000*" and texts[(0, 2)].get_text() == "-0.6000*"
    assert "4 pairs not fitted" in ax.get_title()
    # Nothing fitted at all.
    empty = interaction_result(np.full((2, 2), nan), 0.1, ["a", "b"])
    ax = plot_interaction_matrix(empty)
    assert sum(bool(patch.get_hatch()) for patch in ax.patches) == 2


def test_plot_interaction_matrix_errors():
    result = interaction_result(np.full((2, 2), np.nan), 0.1, ["a", "b"])
    with pytest.raises(ValueError, match="kind must be one of"):
        plot_interaction_matrix(result, kind="rho")
    with pytest.raises(TypeError, match="InteractionResult"):
        plot_interaction_matrix(np.eye(2))
    result.mean["jump_pos"] = np.zeros((3, 3))
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        plot_interaction_matrix(result)


def test_plot_predictive_check(tmp_path, linear):
    reg, X, y = linear
    check = posterior_predictive_check(reg, X, y, n_samples=200, random_state=0)
    fig = plot_predictive_check(check)
    save(fig, tmp_path, "predictive_check")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(fig.axes) == 6 and len(visible) == 5  # a 2 x 3 grid, the spare cell hidden
    for ax, name in zip(visible, check.statistics, strict=True):
        assert ax.get_title() == f"{name}: p = {check.p_value[name]:.3f}"
        heights = [bar.get_height() for bar in ax.patches]
        counts, _ = np.histogram(check.replicated[name], bins=30)
        np.testing.assert_array_equal(heights, counts)
        (observed,) = ax.lines
        np.testing.assert_array_equal(observed.get_xdata(), [check.observed[name]] * 2)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["replicated T(y_rep)", "observed T(y)"]
    assert "200 replicates" in fig.get_suptitle()
    fig = plot_predictive_check(check, statistics=["max", "mean"], fig=plt.figure())
    assert [ax.get_title().split(":")[0] for ax in fig.axes] == ["max", "mean"]


def test_plot_predictive_check_series_and_extremes():
    rng = np.random.default_rng(0)
    replicated = rng.normal(size=(2, 300))
    # Series 1's observed mean is far above every replicate: p = 0, a red title.
    check = PredictiveCheck(
        statistics=("mean",),
        observed={"mean": np.array([0.1, 9.0])},
        replicated={"mean": replicated},
        p_value={"mean": np.array([0.46, 0.0])},
    )
    fig = plot_predictive_check(check, series=1)
    (ax,) = fig.axes
    assert ax.get_title() == "mean: p = 0.000"
    assert matplotlib.colors.same_color(ax.title.get_color(), "tab:red")
    assert sum(bar.get_height() for bar in ax.patches) == 300
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [9.0, 9.0])
    assert ax.get_xlim()[1] > 9.0  # the observed line is in view
    assert "series 1" in fig.get_suptitle()
    ax = plot_predictive_check(check).axes[0]
    assert matplotlib.colors.same_color(ax.title.get_color(), "black")
    with pytest.raises(ValueError, match=r"series must be in \[0, 1\]"):
        plot_predictive_check(check, series=2)


def test_plot_predictive_check_errors(linear):
    reg, X, y = linear
    check = posterior_predictive_check(reg, X, y, n_samples=20, random_state=0)
    with pytest.raises(TypeError, match="PredictiveCheck"):
        plot_predictive_check({"mean": 1.0})
    with pytest.raises(ValueError, match="unknown statistics"):
        plot_predictive_check(check, statistics=["skew"])
    with pytest.raises(ValueError, match="at least one"):
        plot_predictive_check(check, statistics=[])
    with pytest.raises(TypeError, match="sequence"):
        plot_predictive_check(check, statistics="mean")
    with pytest.raises(ValueError, match=r"series must be in \[0, 0\]"):
        plot_predictive_check(check, series=1)
    with pytest.raises(TypeError, match="series must be an integer"):
        plot_predictive_check(check, series=True)
    with pytest.raises(TypeError, match="Figure"):
        plot_predictive_check(check, fig="figure")


def test_plot_change_points(tmp_path):
    rng = np.random.default_rng(6)
    x = np.r_[rng.normal(0, 0.3, 40), rng.normal(3, 0.3, 25), rng.normal(-1, 0.3, 35)]
    points = [40, 65]
    ax = plot_change_points(pd.Series(x, name="level"), points)
    save(ax.figure, tmp_path, "change_points")
    series, steps = ax.lines[:2]
    np.testing.assert_array_equal(series.get_ydata(), x)
    assert steps.get_drawstyle() == "steps-post"
    np.testing.assert_array_equal(steps.get_xdata(), [0, 40, 65, 99])
    means = [x[:40].mean(), x[40:65].mean(), x[65:].mean()]
    np.testing.assert_allclose(steps.get_ydata(), means + means[-1:])
    vertical = ax.lines[2:]
    assert [line.get_xdata()[0] for line in vertical] == points
    assert vertical[0].get_label() == "change points (2)" and vertical[1].get_label().startswith("_")
    assert ax.get_ylabel() == "level" and ax.get_title() == "level: change points"
    assert ax.get_xlabel() == "time step"
    # No change point: one segment.
    ax = plot_change_points(x, np.array([], dtype=int))
    assert len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [x.mean()] * 2)


def test_plot_change_points_time(tmp_path):
    x = np.r_[np.zeros(30), np.full(20, 2.0)] + np.sin(np.arange(50.0))
    hours = pd.date_range("2025-06-19 15:00", periods=50, freq="h", tz="UTC")
    ax = plot_change_points(x, [30], time=hours)
    save(ax.figure, tmp_path, "change_points_time")
    series, steps, vertical = ax.lines
    assert list(steps.get_xdata()) == [hours[0], hours[30], hours[49]]
    assert vertical.get_xdata()[0] == hours[30]
    np.testing.assert_allclose(steps.get_ydata(), [x[:30].mean(), x[30:].mean(), x[30:].mean()])
    assert ax.get_xlabel() == "time"
    assert ax.get_xlim()[0] <= matplotlib.dates.date2num(hours[0])
    # A datetime Series (a parsed CSV column), numpy datetime64 and numbers.
    column = pd.Series(hours)
    ax = plot_change_points(x, [30], time=column)
    assert list(ax.lines[1].get_xdata()) == [hours[0], hours[30], hours[49]]
    naive = np.arange("2025-01-01", "2025-02-20", dtype="datetime64[D]")
    ax = plot_change_points(x, [30], time=naive)
    assert ax.lines[2].get_xdata()[0] == naive[30]
    ax = plot_change_points(x, [30], time=np.linspace(0.0, 4.9, 50))
    np.testing.assert_allclose(ax.lines[1].get_xdata(), [0.0, 3.0, 4.9])


def test_plot_change_points_errors():
    x = np.arange(20.0)
    with pytest.raises(ValueError, match="strictly increasing"):
        plot_change_points(x, [10, 5])
    with pytest.raises(ValueError, match="strictly increasing"):
        plot_change_points(x, [5, 5])
    with pytest.raises(ValueError, match=r"1 … 19"):
        plot_change_points(x, [0])
    with pytest.raises(ValueError, match=r"1 … 19"):
        plot_change_points(x, [20])
    with pytest.raises(TypeError, match="integer step indices"):
        plot_change_points(x, [2.5])
    with pytest.raises(TypeError, match="integer step indices"):
        plot_change_points(x, [True])
    with pytest.raises(ValueError, match="1-D"):
        plot_change_points(x, [[3, 4]])
    with pytest.raises(ValueError, match="NaN"):
        plot_change_points(np.r_[x, np.nan], [3])
    with pytest.raises(ValueError, match=r"shape \(20,\)"):
        plot_change_points(x, [3], time=np.arange(19))
    with pytest.raises(TypeError, match="to_datetime"):
        plot_change_points(x, [3], time=[f"2025-01-{d:02d}" for d in range(1, 21)])
    with pytest.raises(ValueError, match="strictly increasing"):
        plot_change_points(x, [3], time=np.arange(20)[::-1])
    with pytest.raises(ValueError, match="NaT"):
        times = np.arange("2025-01-01", "2025-01-21", dtype="datetime64[D]")
        times[4] = np.datetime64("NaT")
        plot_change_points(x, [3], time=times)
    with pytest.raises(TypeError, match="Axes"):
        plot_change_points(x, [3], ax=plt.figure())
