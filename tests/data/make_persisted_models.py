"""Write the persisted models that ``tests/test_persisted_release.py`` loads.

Run once, with the release whose saved files the tests must keep loading, from the repository
root::

    python tests/data/make_persisted_models.py

It fits tiny models (few draws, one chain, short series) of every estimator of the package,
saves each with joblib (``persisted_<name>.joblib``) and with skops (``persisted_<name>.skops``)
and stores their outputs on fixed inputs in ``persisted_outputs.npz`` (``<name>__<output>``).
The test suite never runs this script: the files it wrote are the record of what a model saved
by that release predicts, so a later change that moves a persisted class or alters its fitted
state shows up as a load failure or a different prediction. Regenerate the files only for a
release that deliberately breaks loading of older models (and say so in CHANGELOG.md).
"""

import warnings
from pathlib import Path

import joblib
import numpy as np
import skops.io as sio
from sklearn.exceptions import ConvergenceWarning

import sklearn_lambda3
from sklearn_lambda3 import (
    Lambda3BayesRegressor,
    Lambda3DynamicRegressor,
    Lambda3Features,
    Lambda3HierarchicalRegressor,
    Lambda3MultiScale,
    make_jump_series,
)

HERE = Path(__file__).parent
FAST = {"num_warmup": 50, "num_samples": 50, "num_chains": 1, "progress_bar": False, "random_state": 0}
N_TRAIN = 96


def data():
    """The training series (96 rows, 3 columns) and target, and 8 rows that follow them."""
    X = make_jump_series(N_TRAIN + 8, n_series=3, random_state=0)
    y = X[:, 0] + np.random.default_rng(0).normal(scale=0.3, size=len(X))
    return X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:]


def fit_models():
    """Every estimator fitted on :func:`data`, by the file name it is saved under."""
    X, y, _ = data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return {
            "features": Lambda3Features(window=5).fit(X),
            "multiscale": Lambda3MultiScale(windows=(3, 8)).fit(X),
            "linear": Lambda3BayesRegressor(**FAST).fit(X, y),
            "dynamic": Lambda3DynamicRegressor(seasonality=24, change_points=[40, 70], **FAST).fit(X, y),
            "hierarchical": Lambda3HierarchicalRegressor(**FAST).fit(X[:, 1:], np.c_[y, X[:, 0]]),
        }


def outputs(name, model):
    """The outputs the test compares, by name: transform, or the predictive mean and std."""
    X, _, X_future = data()
    if name in ("features", "multiscale"):
        return {"transform": model.transform(X)}
    if name == "hierarchical":
        X, X_future = X[:, 1:], X_future[:, 1:]
    mean, std = model.predict(X, return_std=True)
    result = {"mean": mean, "std": std}
    if name == "dynamic":
        result["forecast_mean"], result["forecast_std"] = model.forecast(X_future, return_std=True)
    return result


def main():
    arrays = {}
    for name, model in fit_models().items():
        joblib.dump(model, HERE / f"persisted_{name}.joblib", compress=3)
        sio.dump(model, HERE / f"persisted_{name}.skops", compression=8)
        for output, values in outputs(name, model).items():
            arrays[f"{name}__{output}"] = values
    np.savez_compressed(HERE / "persisted_outputs.npz", version=sklearn_lambda3.__version__, **arrays)


if __name__ == "__main__":
    main()
