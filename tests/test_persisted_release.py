"""Models saved before the package was laid out by family still load and predict as then.

The files in ``tests/data`` were written by ``tests/data/make_persisted_models.py`` with the
code as it stood before that layout (``__version__`` 0.1.0); a change that moves a persisted
class or changes the meaning of its fitted state fails here.
"""

import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
import skops.io as sio

from sklearn_lambda3 import TRUSTED_TYPES, Lambda3VersionWarning, make_jump_series

DATA = Path(__file__).parent / "data"
NAMES = ["features", "multiscale", "linear", "dynamic", "hierarchical"]
N_TRAIN = 96


def _inputs(name):
    X = make_jump_series(N_TRAIN + 8, n_series=3, random_state=0)
    if name == "hierarchical":
        X = X[:, 1:]
    return X[:N_TRAIN], X[N_TRAIN:]


def _outputs(name, model):
    X, X_future = _inputs(name)
    if name in ("features", "multiscale"):
        return {"transform": model.transform(X)}
    mean, std = model.predict(X, return_std=True)
    result = {"mean": mean, "std": std}
    if name == "dynamic":
        result["forecast_mean"], result["forecast_std"] = model.forecast(X_future, return_std=True)
    return result


def _load(path):
    with warnings.catch_warnings():
        # A later version warns that the model was saved by 0.1.0; it must load all the same.
        warnings.simplefilter("ignore", Lambda3VersionWarning)
        if path.suffix == ".skops":
            return sio.load(path, trusted=TRUSTED_TYPES)
        return joblib.load(path)


@pytest.fixture(scope="module")
def expected():
    with np.load(DATA / "persisted_outputs.npz") as stored:
        return {key: stored[key] for key in stored.files}


@pytest.mark.parametrize("suffix", [".joblib", ".skops"])
@pytest.mark.parametrize("name", NAMES)
def test_saved_model_predicts_as_when_saved(name, suffix, expected):
    model = _load(DATA / f"persisted_{name}{suffix}")
    outputs = _outputs(name, model)
    assert outputs
    for output, values in outputs.items():
        # Equal up to the last bits a different BLAS may round differently.
        stored = expected[f"{name}__{output}"]
        np.testing.assert_allclose(values, stored, rtol=1e-9, atol=1e-12, err_msg=output)


@pytest.mark.parametrize("name", NAMES)
def test_saved_skops_file_needs_only_trusted_types(name):
    untrusted = sio.get_untrusted_types(file=DATA / f"persisted_{name}.skops")
    assert untrusted
    assert set(untrusted) <= set(TRUSTED_TYPES)
