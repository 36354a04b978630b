"""Throughput, scaling, cold start and peak memory of Lambda3Features.

Run: ``python benchmarks/bench_features.py`` (needs pandas). Every figure is compared with
a baseline measured in the same run: a pandas implementation of the same features, eight
one-column calls, and a fresh process running scikit-learn's StandardScaler.
"""

import subprocess
import sys
import time

import numpy as np
import pandas as pd

from sklearn_lambda3 import Lambda3Features
from sklearn_lambda3.datasets import make_jump_series


def pandas_features(frame, window=10, local_window=10, delta_percentile=97.0, local_percentile=97.0):
    """The same four features per column with pandas' rolling windows."""
    out = {}
    for name, x in frame.items():
        d = x.diff().fillna(0.0)
        theta = np.percentile(d.abs(), delta_percentile)
        rho = x.rolling(window + 1, min_periods=1).std(ddof=0)
        sigma = x.rolling(2 * local_window + 1, min_periods=1, center=True).std(ddof=0)
        score = d.abs() / (sigma + 1e-8)
        theta_local = np.percentile(score, local_percentile)
        out[f"{name}__delta_LambdaC_pos"] = (d > theta).astype(float)
        out[f"{name}__delta_LambdaC_neg"] = (d < -theta).astype(float)
        out[f"{name}__rho_T"] = rho
        out[f"{name}__local_jump"] = (score > theta_local).astype(float)
    return pd.DataFrame(out)


def best_time(func, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def throughput():
    print("fit_transform throughput (best of several runs, samples = rows x columns)")
    print(f"{'shape':>14} {'ours M/s':>10} {'pandas M/s':>11} {'ours/pandas':>12}")
    Lambda3Features().fit_transform(make_jump_series(100, random_state=0))  # compile / load cache
    for n, p in [(10**4, 1), (10**5, 1), (10**6, 1), (10**6, 8)]:
        X = make_jump_series(n, n_series=p, n_jumps=20, random_state=0)
        frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
        repeat = 20 if n <= 10**5 else 5
        ours = best_time(lambda X=X: Lambda3Features().fit_transform(X), repeat)
        theirs = best_time(lambda frame=frame: pandas_features(frame), max(3, repeat // 4))
        rate = n * p / ours / 1e6
        print(f"{f'{n} x {p}':>14} {rate:>10.1f} {n * p / theirs / 1e6:>11.1f} {theirs / ours:>11.1f}x")


def column_scaling():
    X = make_jump_series(10**6, n_series=8, n_jumps=20, random_state=1)
    columns = [np.ascontiguousarray(X[:, [j]]) for j in range(8)]
    together = best_time(lambda: Lambda3Features().fit_transform(X), 5)
    apart = best_time(lambda: [Lambda3Features().fit_transform(c) for c in columns], 5)
    print(
        f"\n10^6 x 8 in one call: {together * 1e3:.1f} ms; eight one-column calls: {apart * 1e3:.1f} ms; "
        f"speed-up {apart / together:.2f}x"
    )


COLD_OURS = """
import numpy as np
from sklearn_lambda3 import Lambda3Features
Lambda3Features().fit_transform(np.random.default_rng(0).standard_normal((10000, 1)).cumsum(0))
"""
COLD_SKLEARN = """
import numpy as np
from sklearn.preprocessing import StandardScaler
StandardScaler().fit_transform(np.random.default_rng(0).standard_normal((10000, 1)).cumsum(0))
"""


def cold_start():
    def run(code):
        return best_time(lambda: subprocess.run([sys.executable, "-c", code], check=True), 5)

    run(COLD_OURS)  # make sure Numba's on-disk cache exists, as after installation
    ours, theirs = run(COLD_OURS), run(COLD_SKLEARN)
    print(
        f"\ncold start (fresh process: import + first fit_transform): ours {ours:.2f} s, "
        f"StandardScaler {theirs:.2f} s, ratio {ours / theirs:.2f}"
    )


PEAK = """
import resource, numpy as np
from sklearn_lambda3 import Lambda3Features
X = np.random.default_rng(0).standard_normal(({n}, {p})).cumsum(0)
Lambda3Features().fit_transform(X[:100])
import tracemalloc
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
out = Lambda3Features().fit_transform(X)
current, peak = tracemalloc.get_traced_memory()
print(peak, out.nbytes)
"""


def peak_memory():
    print("\npeak memory of fit_transform (NumPy and Numba allocations, traced) against its output")
    for n, p in [(10**6, 1), (10**6, 8)]:
        result = subprocess.run(
            [sys.executable, "-c", PEAK.format(n=n, p=p)], check=True, capture_output=True, text=True
        )
        peak, out = map(int, result.stdout.split())
        print(
            f"  {n} x {p}: peak {peak / 2**20:.1f} MiB, output {out / 2**20:.1f} MiB, ratio {peak / out:.2f}"
        )


if __name__ == "__main__":
    print(f"numpy {np.__version__}, pandas {pd.__version__}, python {sys.version.split()[0]}\n")
    throughput()
    column_scaling()
    cold_start()
    peak_memory()
