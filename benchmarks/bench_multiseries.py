"""Analyses of several series at once: wall times of the Bayesian multi-series analyses.

Run ``python benchmarks/bench_multiseries.py [--only SECTION ...] [--repeat N]`` (needs pandas).
Every section is a function of this module registered in ``SECTIONS``; ``main()`` runs them in order.

Measured
--------
1. **interactions**: :func:`~sklearn_lambda3.analysis.interaction_effects` of 6 series x 1000
   steps (``make_jump_series``), i.e. 30 ordered pairs, each a linear model of 6 regressors
   sampled with the default settings (4 chains x 500 draws after 500 warm-up), with
   ``n_jobs=1`` and ``n_jobs=2`` (threads).

   - *cold*: each run in a fresh Python process (a subprocess), so the time includes
     importing JAX and compiling the sampler once; the time of the call itself and of the
     whole process are reported.
   - *warm*: in this process, after one untimed call has compiled the sampler; best of
     ``--repeat`` calls.

   Baseline: ``n_jobs=1``; the ratio t(n_jobs=1) / t(n_jobs=2) is the speed-up of the
   threads. On a machine shared with other work, the wall times (and above all the ratio)
   depend on what else runs.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from sklearn_lambda3.analysis import interaction_effects
from sklearn_lambda3.datasets import make_jump_series

N_SERIES = 6
N_STEPS = 1000


def timed(func):
    """``(result, seconds)`` of one call of ``func``."""
    start = time.perf_counter()
    result = func()
    return result, time.perf_counter() - start


def multiseries_frame(n_steps=N_STEPS, n_series=N_SERIES, random_state=0):
    """``n_series`` jump series of ``n_steps`` steps as a DataFrame with columns ``s0, s1, …``."""
    values = make_jump_series(n_steps, n_series=n_series, random_state=random_state)
    return pd.DataFrame(values, columns=[f"s{i}" for i in range(n_series)])


# ----------------------------------------------------------------------------- section 1
def _interactions_call(n_jobs):
    """One timed interaction_effects call: ``(seconds, number of non-converged pairs warned about)``."""
    frame = multiseries_frame()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        _, seconds = timed(lambda: interaction_effects(frame, n_jobs=n_jobs, random_state=0))
    return seconds, sum(issubclass(w.category, ConvergenceWarning) for w in caught)


def _cold_interactions(n_jobs):
    """Run one call in a fresh interpreter; ``(call seconds, process seconds)``."""
    command = [sys.executable, __file__, "--child-interactions", str(n_jobs)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    process = time.perf_counter() - start
    return json.loads(done.stdout.strip().splitlines()[-1])["seconds"], process


def bench_interactions(repeat=2):
    pairs = N_SERIES * (N_SERIES - 1)
    print(
        f"\n[interactions] interaction_effects: {N_SERIES} series x {N_STEPS} steps = {pairs} pair models, "
        "default sampler (4 chains x 500 draws, 500 warm-up)"
    )
    cold = {}
    for n_jobs in (1, 2):
        cold[n_jobs] = _cold_interactions(n_jobs)
        print(
            f"  cold n_jobs={n_jobs}: call {cold[n_jobs][0]:6.2f} s (JAX import + one compilation included), "
            f"whole fresh process {cold[n_jobs][1]:6.2f} s"
        )

    _, t_compile = timed(lambda: _interactions_call(1))
    print(f"  warm-up call in this process (compiles): {t_compile:.2f} s")
    warm = {}
    for n_jobs in (1, 2):
        runs = [_interactions_call(n_jobs) for _ in range(repeat)]
        warm[n_jobs] = min(seconds for seconds, _ in runs)
        warned = max(count for _, count in runs)
        print(
            f"  warm n_jobs={n_jobs}: {' / '.join(f'{s:.2f}' for s, _ in runs)} s "
            f"-> best {warm[n_jobs]:.2f} s "
            f"({warm[n_jobs] / pairs:.3f} s per pair; ConvergenceWarnings: {warned})"
        )
    print(f"  ratio cold t(n_jobs=1) / t(n_jobs=2): {cold[1][0] / cold[2][0]:.2f} (call times)")
    print(f"  ratio warm t(n_jobs=1) / t(n_jobs=2): {warm[1] / warm[2]:.2f}")


# Section name -> function of the parsed command-line arguments; add new sections here.
SECTIONS = {"interactions": lambda args: bench_interactions(repeat=args.repeat)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", choices=sorted(SECTIONS), help="run these sections only")
    parser.add_argument("--repeat", type=int, default=2, help="timed warm calls per setting")
    parser.add_argument("--child-interactions", type=int, metavar="N_JOBS", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_interactions is not None:
        seconds, _ = _interactions_call(args.child_interactions)
        print(json.dumps({"seconds": seconds}))
        return

    import jax
    import numpyro
    import sklearn

    print(
        f"jax {jax.__version__}, numpyro {numpyro.__version__}, scikit-learn {sklearn.__version__}, "
        f"numpy {np.__version__}, python {sys.version.split()[0]}, os.cpu_count() {os.cpu_count()}"
    )
    start = time.perf_counter()
    for name in args.only or SECTIONS:
        SECTIONS[name](args)
    print(f"\ntotal benchmark wall time {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
