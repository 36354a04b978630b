"""Peak memory of Lambda3Features.fit_transform and of Lambda3BayesRegressor.predict(return_std=True).

Run: ``python benchmarks/bench_memory.py [--quick]``. Each measurement runs in a fresh Python
process, so that one measurement's peak cannot hide the next. Two figures per measurement:

- ``rss``: peak resident memory during the call minus the resident memory just before it (Linux:
  the peak ``VmHWM`` is reset through ``/proc/self/clear_refs`` first; elsewhere the growth of
  ``ru_maxrss``, which can miss a call that stays below an earlier peak), after the input exists
  and the code is compiled/warmed: every allocation counts, Numba's included;
- ``traced``: peak of the allocations ``tracemalloc`` sees during the call (NumPy's; Numba's own
  scratch arrays are not traced), measured in a second run of the call.

Targets: fit_transform on 10⁷ × 4 peaks at ≤ 3× its output above the input; predict(X,
return_std=True) on 10⁶ × 8 with 4000 posterior draws peaks ≤ 200 MB above the input and runs in
≤ 2 s (no rows × draws matrix is formed).
"""

import argparse
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

MB = 1e6

# Measurement helpers shared by the child processes (not formatted: braces are literal).
PRELUDE = textwrap.dedent("""
    import resource


    def rss(field):
        # VmRSS (current) or VmHWM (peak) from /proc; elsewhere the peak ru_maxrss.
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


    def reset_peak():
        # Reset the kernel's peak (VmHWM) to the current RSS where Linux allows; return the RSS.
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass
        return rss("VmRSS")
""")

FEATURES = textwrap.dedent("""
    import gc, resource, sys, time, tracemalloc
    import numpy as np
    from sklearn_lambda3 import Lambda3Features

    n, p, order = {n}, {p}, {order!r}
    X = np.empty((n, p), order=order)          # built in place: no temporary inflates the baseline
    np.random.default_rng(0).standard_normal(out=X)
    np.cumsum(X, axis=0, out=X)
    Lambda3Features().fit_transform(X[:1000])  # compile / load Numba's cache
    gc.collect()
    before = reset_peak()
    start = time.perf_counter()
    out = Lambda3Features().fit_transform(X)
    seconds = time.perf_counter() - start
    after = rss("VmHWM")
    out_bytes = out.nbytes
    del out
    gc.collect()
    tracemalloc.start()
    Lambda3Features().fit_transform(X)
    traced = tracemalloc.get_traced_memory()[1]
    print(after - before, traced, out_bytes, X.nbytes, seconds)
""")

PREDICT = textwrap.dedent("""
    import gc, resource, sys, time, tracemalloc
    import joblib
    import numpy as np

    model = joblib.load({path!r})
    n, p = {n}, {p}
    X = np.empty((n, p))
    np.random.default_rng(1).standard_normal(out=X)
    model.predict(X[:1000], return_std=True)   # warm up
    gc.collect()
    before = reset_peak()
    start = time.perf_counter()
    mean, std = model.predict(X, return_std=True)
    seconds = time.perf_counter() - start
    after = rss("VmHWM")
    del mean, std
    gc.collect()
    best = seconds
    for _ in range(2):
        start = time.perf_counter()
        model.predict(X, return_std=True)
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    model.predict(X, return_std=True)
    traced = tracemalloc.get_traced_memory()[1]
    assert "jax" not in sys.modules
    print(after - before, traced, X.nbytes, seconds, best, model.coef_samples_.shape[0])
""")


def run(code):
    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return [float(v) for v in result.stdout.split()]


def features(n, p):
    print(f"Lambda3Features().fit_transform on {n:,} x {p} (peak above the input; target <= 3x the output)")
    for order, label in (("C", "C-ordered input (copied to Fortran order)"), ("F", "Fortran-ordered input")):
        grown, traced, out, inp, seconds = run(PRELUDE + FEATURES.format(n=n, p=p, order=order))
        print(
            f"  {label}: input {inp / MB:.0f} MB, output {out / MB:.0f} MB; "
            f"peak RSS +{grown / MB:.0f} MB = {grown / out:.2f}x output; "
            f"traced peak {traced / MB:.0f} MB = {traced / out:.2f}x output; {seconds:.2f} s"
        )


def fit_model(path, p, draws_per_chain):
    import warnings

    import joblib
    from sklearn.exceptions import ConvergenceWarning

    from sklearn_lambda3 import Lambda3BayesRegressor

    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, p))
    y = X @ rng.standard_normal(p) + 0.5 + rng.standard_normal(2000)
    reg = Lambda3BayesRegressor(
        num_warmup=500, num_samples=draws_per_chain, num_chains=4, progress_bar=False, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    joblib.dump(reg, path)


def predict(n, p, draws_per_chain):
    print(
        f"\nLambda3BayesRegressor(linear).predict(X, return_std=True) on {n:,} x {p}, "
        f"{4 * draws_per_chain} posterior draws (target <= 200 MB above the input, <= 2 s)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "model.joblib")
        start = time.perf_counter()
        fit_model(path, p, draws_per_chain)
        elapsed = time.perf_counter() - start
        print(f"  (fitted on 2,000 rows, 4 chains x {draws_per_chain} draws in {elapsed:.1f} s)")
        grown, traced, inp, first, best, draws = run(PRELUDE + PREDICT.format(path=path, n=n, p=p))
    rows_by_draws = n * draws * 8
    print(
        f"  input {inp / MB:.0f} MB, {int(draws)} draws; peak RSS +{grown / MB:.0f} MB, traced peak "
        f"{traced / MB:.0f} MB (a rows x draws float64 matrix would be {rows_by_draws / MB:,.0f} MB); "
        f"time {first:.3f} s first call, {best:.3f} s best of 3"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10x fewer rows, for a smoke test")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    print(f"numpy {np.__version__}, python {sys.version.split()[0]}\n")
    features(10**7 // scale, 4)
    predict(10**6 // scale, 8, 1000)
