"""The ArviZ adapter: the installed generation's real calls, and both branches' logic.

The branch of the ArviZ generation that is not installed is exercised with a stand-in
module recording how it is called; WAIC and the comparison table, computed here under
ArviZ 1.x, are checked against direct NumPy computations and against ArviZ 0.23.4's
numbers for fixed inputs (and, under ArviZ 0.x, against ArviZ itself).
"""

import types
import warnings

import numpy as np
import pandas as pd
import pytest

from sklearn_lambda3 import _arviz

arviz = pytest.importorskip("arviz")
GENERATION = _arviz.generation(arviz)
SCALES = ("log", "negative_log", "deviance")


def fixed_log_lik(seed, shift, spread):
    """Log-likelihood (2 chains, 250 draws, 30 observations) of a well-behaved model."""
    rng = np.random.default_rng(seed)
    centre = rng.normal(-1.0, 0.5, size=30) + shift
    return centre + spread * rng.standard_normal((2, 250, 30))


def three_models():
    return {
        "a": fixed_log_lik(0, 0.0, 0.3),
        "b": fixed_log_lik(1, -0.2, 0.5),
        "c": fixed_log_lik(2, 0.1, 0.2),
    }


class Recorder:
    """Stand-in ``arviz`` module of a given version that records the calls it gets."""

    def __init__(self, version, **returns):
        self.__version__ = version
        self.calls = []
        self.returns = returns

    def __getattr__(self, name):
        if name.startswith("__") or name not in self.returns:
            raise AttributeError(name)

        def call(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            value = self.returns[name]
            return value(*args, **kwargs) if callable(value) else value

        return call


@pytest.mark.parametrize(
    ("version", "expected"),
    [("0.17.0", 0), ("0.23.4", 0), ("1.0.0", 1), ("1.3.0", 1), ("2.0.0.dev1", 1), ("1.0.0rc1", 1)],
)
def test_generation_reads_the_major_version(version, expected):
    assert _arviz.generation(types.SimpleNamespace(__version__=version)) == expected


def test_generation_of_unreadable_version_raises():
    with pytest.raises(ValueError, match="version"):
        _arviz.generation(types.SimpleNamespace(__version__="unknown"))


def test_installed_generation_is_the_api_it_has():
    assert GENERATION == (0 if arviz.__version__.startswith("0.") else 1)
    assert hasattr(arviz, "waic") == (GENERATION == 0)


def test_from_groups_calls_each_generations_from_dict():
    posterior = {"coef": np.zeros((2, 5, 3))}
    groups = {"posterior": posterior, "sample_stats": None, "observed_data": {"y": np.zeros(4)}}
    old = Recorder("0.23.4", from_dict="idata")
    assert (
        _arviz.from_groups(old, groups, coords={"feature": list("abc")}, dims={"coef": ["feature"]})
        == "idata"
    )
    (name, args, kwargs), *rest = old.calls
    assert (name, args, rest) == ("from_dict", (), [])
    assert set(kwargs) == {"posterior", "observed_data", "coords", "dims"}  # None group left out
    assert kwargs["posterior"] == posterior and kwargs["dims"] == {"coef": ["feature"]}

    new = Recorder("1.3.0", from_dict="datatree")
    assert (
        _arviz.from_groups(new, groups, coords={"feature": list("abc")}, dims={"coef": ["feature"]})
        == "datatree"
    )
    (name, args, kwargs), *rest = new.calls
    assert (name, rest) == ("from_dict", [])
    assert list(args[0]) == ["posterior", "observed_data"]
    assert set(kwargs) == {"coords", "dims"}


def test_from_groups_builds_the_installed_container():
    rng = np.random.default_rng(0)
    coef = rng.normal(size=(2, 5, 3))
    data = _arviz.from_groups(
        arviz,
        {
            "posterior": {"coef": coef},
            "log_likelihood": {"y": rng.normal(size=(2, 5, 4))},
            "sample_stats": {},
        },
        coords={"feature": ["a", "b", "c"]},
        dims={"coef": ["feature"], "unused": ["time"]},
    )
    expected = "InferenceData" if GENERATION == 0 else "DataTree"
    assert type(data).__name__ == expected
    assert group_names(data) == {"posterior", "log_likelihood"}
    assert data.posterior["coef"].dims == ("chain", "draw", "feature")
    assert list(data.posterior["feature"].values) == ["a", "b", "c"]
    np.testing.assert_array_equal(data.posterior["coef"].values, coef)
    assert data.log_likelihood["y"].shape == (2, 5, 4)


def group_names(data):
    """Group names of an InferenceData (0.x) or a DataTree (1.x)."""
    return set(data.groups()) if callable(data.groups) else set(data.children)


def ar1(n_chains, n_draws, phi, seed):
    rng = np.random.default_rng(seed)
    x = np.empty((n_chains, n_draws))
    x[:, 0] = rng.standard_normal(n_chains)
    for t in range(1, n_draws):
        x[:, t] = phi * x[:, t - 1] + np.sqrt(1 - phi**2) * rng.standard_normal(n_chains)
    return x


def test_ess_mean_known_truth():
    # Independent draws: ESS ≈ number of draws; AR(1): N (1 - φ) / (1 + φ).
    values = np.stack([ar1(4, 2000, 0.0, 0), ar1(4, 2000, 0.8, 1)], axis=-1)
    ess = _arviz.ess_mean(arviz, values)
    assert ess.shape == (2,)
    assert ess[0] == pytest.approx(8000, rel=0.1)
    assert ess[1] == pytest.approx(8000 * 0.2 / 1.8, rel=0.2)


def test_ess_mean_calls_each_generations_ess():
    values = np.ones((2, 10, 3))
    old = Recorder("0.22.0", convert_to_dataset=lambda array: {"array": array}, ess={"x": [1.0, 2.0, 3.0]})
    np.testing.assert_array_equal(_arviz.ess_mean(old, values), [1.0, 2.0, 3.0])
    assert [call[0] for call in old.calls] == ["convert_to_dataset", "ess"]
    assert old.calls[1][1][0]["array"] is old.calls[0][1][0]
    assert old.calls[1][2] == {"method": "mean"}

    new = Recorder("1.3.0", ess=np.array([4.0, 5.0, 6.0]))
    np.testing.assert_array_equal(_arviz.ess_mean(new, values), [4.0, 5.0, 6.0])
    (name, args, kwargs), *rest = new.calls
    assert (name, rest, kwargs) == ("ess", [], {"method": "mean"})
    np.testing.assert_array_equal(args[0], values)


def waic_by_hand(log_lik, factor):
    """WAIC by a loop over observations, from the definition."""
    draws = log_lik.reshape(-1, log_lik.shape[-1])
    pointwise, penalty = [], []
    for column in draws.T:
        lppd = np.log(np.mean(np.exp(column)))
        variance = np.mean((column - column.mean()) ** 2)
        pointwise.append(factor * (lppd - variance))
        penalty.append(variance)
    pointwise = np.array(pointwise)
    se = np.sqrt(len(pointwise) * np.mean((pointwise - pointwise.mean()) ** 2))
    return pointwise.sum(), se, sum(penalty), pointwise


@pytest.mark.parametrize("scale", SCALES)
def test_waic_numpy_matches_the_definition(scale):
    log_lik = fixed_log_lik(3, 0.0, 0.4)
    result = _arviz.waic_numpy(log_lik, scale=scale)
    elpd, se, p, pointwise = waic_by_hand(log_lik, _arviz.SCALE_FACTOR[scale])
    assert (result.kind, result.scale, result.warning, result.source) == ("waic", scale, False, None)
    assert result.elpd == pytest.approx(elpd, rel=1e-12)
    assert result.se == pytest.approx(se, rel=1e-10)
    assert result.p == pytest.approx(p, rel=1e-12)
    np.testing.assert_allclose(result.elpd_i, pointwise, rtol=1e-12)


def test_waic_numpy_stable_for_very_negative_log_likelihood_and_warns_on_large_variance():
    log_lik = fixed_log_lik(4, -2000.0, 0.1)  # exp() underflows: needs logsumexp
    assert np.isfinite(_arviz.waic_numpy(log_lik).elpd)
    wide = fixed_log_lik(5, 0.0, 1.0)  # variance ≈ 1 > 0.4
    with pytest.warns(UserWarning, match="exceeds 0.4"):
        assert _arviz.waic_numpy(wide).warning


@pytest.mark.parametrize("scale", SCALES)
def test_waic_of_installed_arviz(scale):
    log_lik = fixed_log_lik(6, 0.0, 0.4)
    result = _arviz.waic(arviz, log_lik, scale=scale)
    ours = _arviz.waic_numpy(log_lik, scale=scale)
    if GENERATION == 0:  # ArviZ's own WAIC, which ours reproduces
        assert result.source is not None
    else:  # ArviZ 1.x has none: ours
        assert result.source is None
    for name in ("elpd", "se", "p"):
        assert getattr(result, name) == pytest.approx(getattr(ours, name), rel=1e-9)
    np.testing.assert_allclose(result.elpd_i, ours.elpd_i, rtol=1e-9)


def test_waic_calls_arviz_0x_waic_with_scale():
    native = {"elpd_waic": -5.0, "se": 1.0, "p_waic": 2.0, "waic_i": np.array([-2.0, -3.0]), "warning": True}
    old = Recorder("0.23.0", from_dict="idata", waic=native)
    result = _arviz.waic(old, np.zeros((2, 3, 2)), scale="negative_log")
    assert [call[0] for call in old.calls] == ["from_dict", "waic"]
    assert old.calls[1][1] == ("idata",) and old.calls[1][2] == {"pointwise": True, "scale": "negative_log"}
    assert (result.elpd, result.se, result.p, result.warning, result.source) == (-5.0, 1.0, 2.0, True, native)
    np.testing.assert_array_equal(result.elpd_i, [-2.0, -3.0])


@pytest.mark.parametrize("scale", SCALES)
def test_loo_of_installed_arviz_on_every_scale(scale):
    log_lik = fixed_log_lik(7, 0.0, 0.3)
    log_score = _arviz.loo(arviz, log_lik, reff=1.0)
    result = _arviz.loo(arviz, log_lik, reff=1.0, scale=scale)
    factor = _arviz.SCALE_FACTOR[scale]
    assert (result.kind, result.scale, result.warning) == ("loo", scale, False)
    assert result.source is not None
    assert result.elpd == pytest.approx(factor * log_score.elpd, rel=1e-12)
    assert result.se == pytest.approx(abs(factor) * log_score.se, rel=1e-12)
    assert result.p == pytest.approx(log_score.p, rel=1e-12)
    np.testing.assert_allclose(result.elpd_i, factor * log_score.elpd_i, rtol=1e-12)
    assert result.elpd_i.sum() == pytest.approx(result.elpd, rel=1e-12)
    # For a well-behaved likelihood PSIS-LOO and WAIC nearly agree.
    assert log_score.elpd == pytest.approx(_arviz.waic_numpy(log_lik).elpd, abs=0.1)


def test_loo_calls_each_generations_loo():
    log_lik = np.zeros((2, 3, 2))
    native = {"elpd_loo": -4.0, "se": 0.5, "p_loo": 1.5, "loo_i": np.array([-1.0, -3.0]), "warning": False}
    old = Recorder("0.20.0", from_dict="idata", loo=native)
    result = _arviz.loo(old, log_lik, reff=0.7, scale="deviance")
    assert old.calls[1] == ("loo", ("idata",), {"pointwise": True, "reff": 0.7, "scale": "deviance"})
    assert (result.elpd, result.se, result.p, result.scale) == (-4.0, 0.5, 1.5, "deviance")

    # ArviZ 1.x: no scale argument; the log-score result is converted here.
    elpd_data = types.SimpleNamespace(elpd=-4.0, se=0.5, p=1.5, elpd_i=np.array([-1.0, -3.0]), warning=True)
    new = Recorder("1.2.0", from_dict="datatree", loo=elpd_data)
    result = _arviz.loo(new, log_lik, reff=0.7, scale="deviance")
    assert new.calls[1] == ("loo", ("datatree",), {"pointwise": True, "reff": 0.7})
    assert (result.elpd, result.se, result.p, result.warning) == (8.0, 1.0, 1.5, True)
    np.testing.assert_array_equal(result.elpd_i, [2.0, 6.0])
    assert result.source is elpd_data


# arviz.compare(ic="waic", scale=...) of ArviZ 0.23.4 on three_models(), rounded to 10 digits.
ARVIZ_0_TABLE = {
    "c": {"rank": 0, "elpd_waic": -28.6501495963, "p_waic": 1.2017601735, "elpd_diff": 0.0,
          "weight": 0.8457956696, "se": 2.7463280059, "dse": 0.0},
    "a": {"rank": 1, "elpd_waic": -33.1056299951, "p_waic": 2.6926317302, "elpd_diff": 4.4554803988,
          "weight": 0.1542043304, "se": 2.2134287925, "dse": 3.6661178315},
    "b": {"rank": 2, "elpd_waic": -40.8749648574, "p_waic": 7.4311014726, "elpd_diff": 12.2248152612,
          "weight": 0.0, "se": 2.2811204660, "dse": 3.0840226140},
}  # fmt: skip


@pytest.mark.parametrize("scale", SCALES)
def test_comparison_table_reproduces_arviz_0x_numbers(scale):
    elpds = {name: _arviz.waic_numpy(log_lik, scale=scale) for name, log_lik in three_models().items()}
    table = _arviz.comparison_table(elpds, ic="waic", scale=scale)
    columns = ["rank", "elpd_waic", "p_waic", "elpd_diff", "weight", "se", "dse", "warning", "scale"]
    assert list(table.columns) == columns
    assert list(table.index) == ["c", "a", "b"]
    assert table["rank"].dtype == np.int64 and table["warning"].dtype == bool
    assert list(table["scale"]) == [scale] * 3 and not table["warning"].any()
    factor = _arviz.SCALE_FACTOR[scale]
    for name, row in ARVIZ_0_TABLE.items():
        assert table.loc[name, "rank"] == row["rank"]
        assert table.loc[name, "elpd_waic"] == pytest.approx(factor * row["elpd_waic"], rel=1e-9)
        assert table.loc[name, "p_waic"] == pytest.approx(row["p_waic"], rel=1e-9)
        for column in ("elpd_diff", "se", "dse"):
            assert table.loc[name, column] == pytest.approx(abs(factor) * row[column], rel=1e-9, abs=1e-12)
        assert table.loc[name, "weight"] == pytest.approx(row["weight"], abs=1e-5)


def test_comparison_table_by_hand():
    rng = np.random.default_rng(8)
    a, b = rng.normal(-1.0, 0.3, size=40), rng.normal(-1.1, 0.3, size=40)
    elpds = {
        "a": _arviz.Elpd("loo", a.sum(), 1.0, 2.0, a, False, "log"),
        "b": _arviz.Elpd("loo", b.sum(), 1.5, 3.0, b, True, "log"),
    }
    table = _arviz.comparison_table(elpds, ic="loo")
    best, worse = ("a", "b") if a.sum() > b.sum() else ("b", "a")
    diff = elpds[best].elpd_i - elpds[worse].elpd_i
    assert list(table.index) == [best, worse]
    assert table.loc[worse, "elpd_diff"] == pytest.approx(diff.sum())
    assert table.loc[worse, "dse"] == pytest.approx(np.sqrt(40) * diff.std())
    assert table.loc[best, ["elpd_diff", "dse"]].tolist() == [0.0, 0.0]
    assert table.loc["b", "warning"] and table.loc["b", "p_loo"] == 3.0 and table.loc["b", "se"] == 1.5
    # Stacking weight of a against a brute-force maximum over a fine grid.
    grid = np.linspace(0, 1, 100001)
    score = np.log(np.outer(np.exp(a), grid) + np.outer(np.exp(b), 1 - grid)).sum(axis=0)
    assert table.loc["a", "weight"] == pytest.approx(grid[np.argmax(score)], abs=1e-3)
    assert table["weight"].sum() == pytest.approx(1.0)


def test_comparison_table_needs_the_same_observations():
    elpds = {
        name: _arviz.Elpd("loo", -1.0, 1.0, 1.0, np.zeros(n), False, "log")
        for name, n in [("a", 3), ("b", 4)]
    }
    with pytest.raises(ValueError, match="same across all models"):
        _arviz.comparison_table(elpds, ic="loo")


def test_stacking_weights_of_extreme_log_densities():
    # One model far better on every point: all weight on it, without overflow.
    log_density = np.column_stack([np.full(20, -1000.0), np.full(20, -1010.0)])
    np.testing.assert_allclose(_arviz.stacking_weights(log_density), [1.0, 0.0], atol=1e-6)


def test_compare_of_installed_arviz_matches_comparison_table():
    """Under ArviZ 0.x ``arviz.compare`` itself; under 1.x the table built here."""
    for scale in SCALES:
        for ic in ("loo", "waic"):
            elpds = {
                name: (_arviz.loo(arviz, ll, reff=1.0, scale=scale) if ic == "loo" else
                       _arviz.waic(arviz, ll, scale=scale))
                for name, ll in three_models().items()
            }  # fmt: skip
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # no pandas or NumPy deprecations either
                table = _arviz.compare(arviz, elpds, ic=ic, scale=scale)
            ours = _arviz.comparison_table(elpds, ic=ic, scale=scale)
            assert list(table.columns) == list(ours.columns)
            assert list(table.index) == list(ours.index)
            pd.testing.assert_frame_equal(
                table.drop(columns="weight"), ours.drop(columns="weight"), check_dtype=False
            )
            np.testing.assert_allclose(table["weight"], ours["weight"], atol=1e-5)


def test_compare_dispatch():
    elpds = {name: _arviz.waic_numpy(ll) for name, ll in three_models().items()}
    with_source = {name: _arviz.Elpd(**{**vars(e), "source": f"native {name}"}) for name, e in elpds.items()}
    old = Recorder("0.23.4", compare="arviz table")
    assert _arviz.compare(old, with_source, ic="waic", scale="log") == "arviz table"
    assert old.calls == [
        ("compare", ({n: f"native {n}" for n in with_source},), {"ic": "waic", "scale": "log"})
    ]
    # Without ArviZ's own results (or under 1.x, which has no such compare): the table built here.
    for module, values in ((Recorder("0.23.4"), elpds), (Recorder("1.3.0"), with_source)):
        table = _arviz.compare(module, values, ic="waic")
        assert module.calls == []
        pd.testing.assert_frame_equal(table, _arviz.comparison_table(elpds, ic="waic"))


def test_import_arviz_says_how_to_install(monkeypatch):
    import sys

    assert _arviz.import_arviz("x") is arviz
    monkeypatch.setitem(sys.modules, "arviz", None)
    with pytest.raises(
        ImportError, match=r"to_inference_data needs ArviZ: pip install 'sklearn-lambda3\[arviz\]'"
    ):
        _arviz.import_arviz("to_inference_data")
