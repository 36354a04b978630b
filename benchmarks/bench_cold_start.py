"""Cold start of the first fit, with and without JAX's persistent compilation cache.

Run ``python benchmarks/bench_cold_start.py [--rows N] [--repeat R]``.

Every measurement is a fresh Python process (a subprocess) that imports the package and fits the
default ``Lambda3BayesRegressor`` (linear model, NUTS, 4 chains x 1000 draws after 1000 warm-up)
on ``--rows`` rows of 3 regressors. Reported: the wall time of ``fit`` (compilation included) and
of the whole process. Three runs per repetition:

1. *no cache*: JAX's persistent cache off (the package's default: it changes no JAX setting);
2. *cache, first*: ``JAX_COMPILATION_CACHE_DIR`` set to an empty temporary folder and
   ``JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0``: the fit compiles and writes the cache;
3. *cache, second*: the same folder again: the fit loads the compiled sampler from the cache.

The cache is opt-in: the user sets these environment variables (or calls
``jax.config.update("jax_compilation_cache_dir", ...)``) before the first fit.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

CHILD = """
import time
start = time.perf_counter()
import numpy as np
from sklearn_lambda3 import Lambda3BayesRegressor
rng = np.random.default_rng(0)
X = rng.normal(size=({rows}, 3))
y = X @ [1.5, -2.0, 0.5] + 1.0 + rng.normal(size={rows})
fit_start = time.perf_counter()
Lambda3BayesRegressor(random_state=0, progress_bar=False).fit(X, y)
end = time.perf_counter()
print(f"{{end - fit_start:.3f}} {{end - start:.3f}}")
"""

CACHE_VARIABLES = ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS")


def run_child(rows, cache_dir=None):
    """Fit time and process time (seconds) of one fresh process."""
    env = {key: value for key, value in os.environ.items() if key not in CACHE_VARIABLES}
    if cache_dir is not None:
        env["JAX_COMPILATION_CACHE_DIR"] = cache_dir
        env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", CHILD.format(rows=rows)], env=env, check=True, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    fit, inside = (float(value) for value in result.stdout.split()[-2:])
    return fit, inside, wall


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    print(f"default linear model, {args.rows} rows x 3 regressors; fresh process per run")
    print(f"{'run':<16}{'fit (s)':>10}{'import+fit (s)':>16}{'process (s)':>13}")
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="jax-cache-") as cache_dir:
            runs = [
                ("no cache", run_child(args.rows)),
                ("cache, first", run_child(args.rows, cache_dir)),
                ("cache, second", run_child(args.rows, cache_dir)),
            ]
            entries = len(os.listdir(cache_dir))
        for name, (fit, inside, wall) in runs:
            print(f"{name:<16}{fit:>10.2f}{inside:>16.2f}{wall:>13.2f}")
        print(f"cache entries written: {entries}; saved on the fit: {runs[0][1][0] - runs[2][1][0]:.2f} s")


if __name__ == "__main__":
    main()
