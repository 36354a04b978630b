"""Data generators, settings and the compilation counter shared by ``tests/bayes/`` and the
package-wide tests.

A plain module, imported as ``from _bayes_helpers import ...``: ``tests/conftest.py`` puts this
folder on ``sys.path``, which pytest's ``--import-mode=importlib`` (pyproject.toml) does not.
"""

import numpy as np

FAST = {"num_warmup": 300, "num_samples": 300, "num_chains": 2, "progress_bar": False}


def linear_data(n=400, k=3, noise=0.5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, k)) * rng.uniform(0.5, 5, size=k) + rng.normal(size=k) * 10
    coef = rng.normal(size=k) * 2
    y = X @ coef + 3.0 + noise * rng.standard_normal(n)
    return X, y, coef


DYNAMIC_TRUTH = {"points": np.array([120, 260]), "steps": np.array([3.0, -2.0]), "tau": 0.05, "sigma": 0.3}


def dynamic_data(n=400, seed=0, regressor_scale=1.0):
    """Series from the dynamic model itself: random-walk level, two steps, two regressors."""
    rng = np.random.default_rng(seed)
    truth = DYNAMIC_TRUTH
    level = 1.0 + np.cumsum(truth["tau"] * rng.standard_normal(n))
    for point, step in zip(truth["points"], truth["steps"], strict=True):
        level[point:] += step
    X = rng.normal(size=(n, 2)) * [1.0, 3.0] + [0.0, 5.0]
    coef = np.array([0.8, -0.5]) * regressor_scale
    y = level + X @ coef + truth["sigma"] * rng.standard_normal(n)
    return X, y, level, coef


POPULATION = {"mean": np.array([1.0, -0.5, 0.3]), "sd": np.array([0.25, 0.25, 0.25]), "noise": 2.0}


def grouped_series(seed, n_long=500, n_short=30, n_series=10):
    """Ten long series and one short one (NaN where unobserved), coefficients from the population."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_long, 3))
    coef = POPULATION["mean"] + POPULATION["sd"] * rng.standard_normal((n_series + 1, 3))
    Y = X @ coef.T + 1.0 + POPULATION["noise"] * rng.standard_normal((n_long, n_series + 1))
    Y[n_short:, 0] = np.nan  # series 0 is observed on its first n_short steps only
    return X, Y, coef


class _CompileCounter:
    """Counts XLA backend compilations, as NumPyro's test_compile counts model traces.

    One counter for the whole process: each test file keeps its own ``COMPILES`` global (None
    until a compile-counting test there sets it), and every ``_CompileCounter()`` returns the
    first one, so all those globals name the same object and one listener counts each compilation.
    """

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            import jax.monitoring

            counter = super().__new__(cls)
            counter.count = 0
            jax.monitoring.register_event_duration_secs_listener(counter._listen)
            cls._instance = counter
        return cls._instance

    def _listen(self, event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            self.count += 1


# Copied by each importing file into its own global, which its first compile-counting test sets.
COMPILES = None
