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

from sklearn_lambda3 import Lambda3BayesRegressor, Lambda3DynamicRegressor, Lambda3Features  # noqa: E402
from sklearn_lambda3.analysis import detect_regimes, sync_matrix, sync_network  # noqa: E402
from sklearn_lambda3.datasets import make_jump_series  # noqa: E402
from sklearn_lambda3.plot import (  # noqa: E402
    plot_fit,
    plot_posterior,
    plot_regimes,
    plot_series,
    plot_sync_matrix,
    plot_sync_network,
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
