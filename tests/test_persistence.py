"""Saving and loading: joblib and skops round trips, TRUSTED_TYPES, the version stamp."""

import pickle
import warnings

import joblib
import numpy as np
import pytest
import skops.io as sio
from sklearn.exceptions import ConvergenceWarning

import sklearn_lambda3
from sklearn_lambda3 import (
    TRUSTED_TYPES,
    Lambda3BayesRegressor,
    Lambda3DynamicRegressor,
    Lambda3Features,
    Lambda3HierarchicalRegressor,
    Lambda3MultiScale,
    Lambda3VersionWarning,
    make_jump_series,
)
from sklearn_lambda3.bayes import BaseBayesRegressor

FAST = {"num_warmup": 50, "num_samples": 50, "num_chains": 1, "progress_bar": False, "random_state": 0}


def _data():
    X = make_jump_series(120, n_series=3, random_state=0)
    y = X[:, 0] + np.random.default_rng(0).normal(scale=0.3, size=len(X))
    return X, y


def _fitted():
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return {
            "features": Lambda3Features(window=5).fit(X),
            "multiscale": Lambda3MultiScale(windows=(3, 8)).fit(X),
            "linear": Lambda3BayesRegressor(**FAST).fit(X, y),
            "dynamic": Lambda3DynamicRegressor(change_points=[60], **FAST).fit(X, y),
            "hierarchical": Lambda3HierarchicalRegressor(**FAST).fit(X[:, 1:], np.c_[y, X[:, 0]]),
        }


@pytest.fixture(scope="module")
def fitted():
    return _fitted()


def _outputs(model, X):
    if isinstance(model, BaseBayesRegressor):
        if isinstance(model, Lambda3HierarchicalRegressor):
            X = X[:, 1:]
        mean, std = model.predict(X, return_std=True)
        return [mean, std, model.predict_interval(X), model.sample_y(X, n_samples=3, random_state=1)]
    return [model.transform(X)]


def _assert_same(loaded, original, X):
    assert type(loaded) is type(original)
    for got, expected in zip(_outputs(loaded, X), _outputs(original, X), strict=True):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name", ["features", "multiscale", "linear", "dynamic", "hierarchical"])
def test_joblib_round_trip(fitted, name, tmp_path):
    X, _ = _data()
    path = tmp_path / "model.joblib"
    joblib.dump(fitted[name], path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Lambda3VersionWarning)
        loaded = joblib.load(path)
    _assert_same(loaded, fitted[name], X)
    # In-sample (dynamic: the training rows) and out-of-sample inputs both agree.
    _assert_same(loaded, fitted[name], X[:40] + 1.0)


@pytest.mark.parametrize("name", ["features", "multiscale", "linear", "dynamic", "hierarchical"])
def test_skops_round_trip_with_trusted_types(fitted, name, tmp_path):
    X, _ = _data()
    path = tmp_path / "model.skops"
    sio.dump(fitted[name], path)
    assert set(sio.get_untrusted_types(file=path)) <= set(TRUSTED_TYPES)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Lambda3VersionWarning)
        loaded = sio.load(path, trusted=TRUSTED_TYPES)
    _assert_same(loaded, fitted[name], X)
    _assert_same(loaded, fitted[name], X[:40] + 1.0)
    # skops hands the saved state to __setstate__, which removes the stamp.
    assert "_sklearn_lambda3_version" not in vars(loaded)


@pytest.mark.parametrize("name", ["features", "multiscale", "linear", "dynamic", "hierarchical"])
def test_skops_load_without_trust_refuses(fitted, name, tmp_path):
    path = tmp_path / "model.skops"
    sio.dump(fitted[name], path)
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException, match="sklearn_lambda3"):
        sio.load(path)


def test_trusted_types_are_minimal(fitted, tmp_path):
    """Every entry is needed by at least one saved model, and each is one of ours."""
    needed = set()
    for name, model in fitted.items():
        path = tmp_path / f"{name}.skops"
        sio.dump(model, path)
        needed |= set(sio.get_untrusted_types(file=path))
    assert needed == set(TRUSTED_TYPES)
    assert all(t.startswith("sklearn_lambda3.") for t in TRUSTED_TYPES)
    assert "TRUSTED_TYPES" in sklearn_lambda3.__all__


def test_pickled_state_carries_version_without_touching_instance(fitted):
    model = fitted["features"]
    state = model.__getstate__()
    assert state["_sklearn_lambda3_version"] == sklearn_lambda3.__version__
    assert "_sklearn_lambda3_version" not in vars(model)


class _SavedState:
    """Pickles as ``model`` with an arbitrary state (as another release would have saved it)."""

    def __init__(self, model, state):
        self.cls, self.state = type(model), state

    def __reduce__(self):
        return object.__new__, (self.cls,), self.state


def _with_stamp(model, version):
    """A pickle of ``model`` whose version stamp reads ``version`` (None: no stamp)."""
    state = model.__getstate__()
    if version is None:
        del state["_sklearn_lambda3_version"]
    else:
        state["_sklearn_lambda3_version"] = version
    return pickle.dumps(_SavedState(model, state))


@pytest.mark.parametrize("name", ["features", "multiscale", "linear", "dynamic", "hierarchical"])
def test_older_version_warns_on_pickle_load(fitted, name):
    data = _with_stamp(fitted[name], "0.0.1")
    with pytest.warns(Lambda3VersionWarning, match=r"0\.0\.1.*" + sklearn_lambda3.__version__ + ".*refit"):
        loaded = pickle.loads(data)
    X, _ = _data()
    _assert_same(loaded, fitted[name], X)


def test_older_version_warns_on_joblib_load(fitted, tmp_path):
    path = tmp_path / "old.joblib"
    path.write_bytes(_with_stamp(fitted["dynamic"], "0.0.1"))
    match = r"Lambda3DynamicRegressor was saved with sklearn-lambda3 0\.0\.1"
    with pytest.warns(Lambda3VersionWarning, match=match):
        joblib.load(path)


def test_older_version_warns_on_skops_load(fitted, tmp_path, monkeypatch):
    path = tmp_path / "old.skops"
    monkeypatch.setattr(sklearn_lambda3._persistence, "__version__", "0.0.1")
    sio.dump(fitted["linear"], path)
    monkeypatch.undo()
    with pytest.warns(Lambda3VersionWarning) as record:
        sio.load(path, trusted=TRUSTED_TYPES)
    message = str(record[0].message)
    assert "0.0.1" in message and sklearn_lambda3.__version__ in message
    assert record[0].category is Lambda3VersionWarning
    assert issubclass(Lambda3VersionWarning, UserWarning)


def test_unstamped_pickle_warns(fitted):
    with pytest.warns(Lambda3VersionWarning, match="before the version stamp"):
        pickle.loads(_with_stamp(fitted["features"], None))


def test_same_version_loads_silently(fitted):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pickle.loads(pickle.dumps(fitted["multiscale"]))
