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
2. **hierarchical**: ``Lambda3HierarchicalRegressor`` on 10 series x 500 steps with 4 shared
   regressors (default sampler): wall time of the first fit (compilation included) and of a
   refit, max R-hat, min bulk ESS and divergences; baseline: 10 separate linear fits. Then a
   30-step series among ten 500-step ones, 5 data sets: coefficient RMSE of the short series,
   pooled against a separate fit.
3. **svi**: ``inference="svi"`` (both guides) against NUTS on the linear model (10,000 rows x
   4 regressors) and the hierarchical model: first-fit and refit times, the speed-up, and
   the largest gap between posterior means in NUTS posterior sds.
4. **hierarchical-large**: ``Lambda3HierarchicalRegressor`` on 1000 series x 1000 steps
   (``--series``, ``--steps``) with 3 shared regressors and the default sampler, as the first
   fit of the process (compilation included): wall time, the part of it spent in the
   convergence diagnostics of every parameter, max R-hat, min bulk and tail ESS, divergences,
   leapfrog steps per draw. Baseline in the same run: scikit-learn's ``BayesianRidge`` fitted to
   each series on its own. Before the sampler was reworked (commit 8ecedc9) this fit took
   232 s; after, on the same shared 2-core machine with another process busy on one core:
   53.8 s, of which 14.8 s convergence diagnostics (R-hat max 1.0075, min bulk ESS 3021, min
   tail ESS 2001, no divergences, 15 leapfrog steps per draw), against 0.70 s for the
   BayesianRidge fits.
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
HERE = os.path.dirname(os.path.abspath(__file__))
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


# ----------------------------------------------------------------------------- section 2
HIERARCHY = {"mean": np.array([1.0, -0.5, 0.3, 0.0]), "sd": 0.25, "noise": 2.0}


def grouped_series(seed, n_steps=500, n_series=10, short=None, n_regressors=4):
    """Series sharing ``n_regressors`` (at most 4) regressors, coefficients from the population;
    ``short`` steps of one more series."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_steps, n_regressors))
    total = n_series + (short is not None)
    mean = HIERARCHY["mean"][:n_regressors]
    coef = mean + HIERARCHY["sd"] * rng.standard_normal((total, n_regressors))
    Y = X @ coef.T + 1.0 + HIERARCHY["noise"] * rng.standard_normal((n_steps, total))
    if short is not None:
        Y[short:, 0] = np.nan
    return X, Y, coef


def bench_hierarchical():
    from sklearn_lambda3 import Lambda3BayesRegressor, Lambda3HierarchicalRegressor

    print("\n[hierarchical] 10 series x 500 steps, 4 shared regressors, default sampler (4 x 1000 draws)")
    X, Y, _ = grouped_series(0)
    for label in ("first fit (compiles)", "second fit"):
        reg, seconds = timed(
            lambda: Lambda3HierarchicalRegressor(progress_bar=False, random_state=0).fit(X, Y)
        )
        d = reg.diagnostics_
        print(
            f"  {label}: {seconds:6.2f} s  R-hat max {d['r_hat_max']:.4f}  min bulk ESS "
            f"{d['ess_bulk_min']:.0f}  divergences {d['num_divergences']}  "
            f"({len(d['table']['parameter'])} parameters)"
        )
    separate, seconds = timed(
        lambda: [Lambda3BayesRegressor(progress_bar=False, random_state=0).fit(X, Y[:, s]) for s in range(10)]
    )
    print(f"  baseline, 10 separate linear fits (same sampler, compiled once): {seconds:6.2f} s")

    print("  borrowing strength: a 30-step series among ten 500-step series, 5 data sets")
    pooled_err, separate_err = [], []
    for seed in range(5):
        X, Y, coef = grouped_series(100 + seed, short=30)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            pooled = Lambda3HierarchicalRegressor(progress_bar=False, random_state=seed).fit(X, Y)
            alone = Lambda3BayesRegressor(progress_bar=False, random_state=seed).fit(X[:30], Y[:30, 0])
        pooled_err.append(np.sqrt(np.mean((pooled.coef_[0] - coef[0]) ** 2)))
        separate_err.append(np.sqrt(np.mean((alone.coef_ - coef[0]) ** 2)))
    print(
        f"    coefficient RMSE of the short series: pooled {np.mean(pooled_err):.3f}, separate fit "
        f"{np.mean(separate_err):.3f} (ratio {np.mean(pooled_err) / np.mean(separate_err):.2f}); "
        f"pooled better in {sum(p < q for p, q in zip(pooled_err, separate_err, strict=True))} of 5"
    )


# ----------------------------------------------------------------------------- section 3
def _agreement(svi, nuts):
    """Largest |posterior mean difference| / NUTS posterior sd over every scalar parameter."""
    table_svi, table_nuts = svi.diagnostics_["table"], nuts.diagnostics_["table"]
    gaps = np.abs(np.subtract(table_svi["mean"], table_nuts["mean"])) / np.asarray(table_nuts["sd"])
    return float(gaps.max())


def _linear_problem():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(10_000, 4))
    return X, X @ np.array([1.0, -2.0, 0.5, 0.0]) + 3.0 + rng.normal(size=10_000)


def _cold_svi_fit(label):
    """Seconds of the first fit in a fresh process (NUTS or an SVI guide), JAX already imported."""
    params = {} if label == "nuts" else {"inference": "svi", "guide": label}
    code = (
        f"import sys, time, json; sys.path.insert(0, {HERE!r}); import jax, numpyro; "
        "from bench_multiseries import _linear_problem; from sklearn_lambda3 import Lambda3BayesRegressor; "
        "X, y = _linear_problem(); t = time.perf_counter(); "
        f"Lambda3BayesRegressor(**{params!r}, progress_bar=False, random_state=0).fit(X, y); "
        "print(json.dumps(time.perf_counter() - t))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_svi():
    from sklearn_lambda3 import Lambda3BayesRegressor, Lambda3HierarchicalRegressor

    X, y = _linear_problem()
    print("\n[svi] linear model, 10,000 rows x 4 regressors, 4 x 1000 draws; SVI 4000 steps")
    cold = {label: _cold_svi_fit(label) for label in ("nuts", "normal", "lowrank")}
    print(
        "  fresh processes, first fit (JAX import excluded, compilation included): NUTS "
        f"{cold['nuts']:.2f} s, SVI normal {cold['normal']:.2f} s ({cold['nuts'] / cold['normal']:.1f}x), "
        f"SVI lowrank {cold['lowrank']:.2f} s ({cold['nuts'] / cold['lowrank']:.1f}x)"
    )
    fits = {}
    for label, params in (
        ("NUTS", {}),
        ("SVI normal", {"inference": "svi", "guide": "normal"}),
        ("SVI lowrank", {"inference": "svi", "guide": "lowrank"}),
    ):

        def fit(seed, params=params):
            return Lambda3BayesRegressor(**params, progress_bar=False, random_state=seed).fit(X, y)

        cold_fit, cold = timed(lambda: fit(0))
        _, warm = timed(lambda: fit(1))
        fits[label] = (cold_fit, cold, warm)
    nuts, nuts_cold, nuts_warm = fits["NUTS"]
    print("  in this process (earlier sections may have compiled the NUTS program already):")
    print(f"  NUTS: first fit {nuts_cold:6.2f} s, refit {nuts_warm:6.3f} s")
    for label in ("SVI normal", "SVI lowrank"):
        svi_fit, cold, warm = fits[label]
        print(
            f"  {label}: first fit {cold:6.2f} s ({nuts_cold / cold:.1f}x faster), refit {warm:6.3f} s "
            f"({nuts_warm / warm:.1f}x faster); largest |mean gap| / NUTS sd {_agreement(svi_fit, nuts):.3f}"
        )

    X3, Y, _ = grouped_series(0)
    print("  hierarchical 10 x 500 (refits, programs already compiled):")
    for params in ({}, {"inference": "svi"}):
        Lambda3HierarchicalRegressor(**params, progress_bar=False, random_state=0).fit(X3, Y)

    def fit_hierarchical(params):
        return Lambda3HierarchicalRegressor(**params, progress_bar=False, random_state=1).fit(X3, Y)

    pair = [timed(lambda p=p: fit_hierarchical(p)) for p in ({}, {"inference": "svi"})]
    (nuts_fit, t_nuts), (svi_fit, t_svi) = pair
    print(
        f"    NUTS {t_nuts:6.2f} s, SVI {t_svi:6.2f} s ({t_nuts / t_svi:.1f}x faster); "
        f"largest |mean gap| / NUTS sd {_agreement(svi_fit, nuts_fit):.3f}"
    )


# ----------------------------------------------------------------------------- section 4
def bench_hierarchical_large(n_series=1000, n_steps=1000):
    from sklearn.linear_model import BayesianRidge

    from sklearn_lambda3 import Lambda3HierarchicalRegressor

    print(
        f"\n[hierarchical-large] {n_series} series x {n_steps} steps, 3 shared regressors, default sampler "
        "(4 chains x 1000 draws after 1000 warm-up), first fit in this process"
    )
    X, Y, _ = grouped_series(0, n_steps=n_steps, n_series=n_series, n_regressors=3)
    reg, seconds = timed(lambda: Lambda3HierarchicalRegressor(progress_bar=False, random_state=0).fit(X, Y))
    d = reg.diagnostics_
    _, diagnose = timed(reg._diagnose)
    print(
        f"  fit {seconds:6.1f} s (compilation included; of which convergence diagnostics of the "
        f"{len(d['table']['parameter'])} parameters {diagnose:.1f} s, timed again apart)"
    )
    print(
        f"  R-hat max {d['r_hat_max']:.4f}  min bulk ESS {d['ess_bulk_min']:.0f}  min tail ESS "
        f"{d['ess_tail_min']:.0f}  divergences {d['num_divergences']}  mean leapfrog steps per draw "
        f"{d['mean_num_steps']:.1f}  step sizes {np.round(d['step_size'], 3).tolist()}"
    )
    separate, baseline = timed(lambda: [BayesianRidge().fit(X, Y[:, s]) for s in range(n_series)])
    print(
        f"  baseline, scikit-learn BayesianRidge per series (point estimates, no pooling): {baseline:6.2f} s"
    )
    truth = HIERARCHY["mean"][:3]
    pooled_rmse = np.sqrt(np.mean((reg.population_coef_ - truth) ** 2))
    separate_mean = np.mean([model.coef_ for model in separate], axis=0)
    print(
        f"  population mean: RMSE vs the truth {pooled_rmse:.4f} (hierarchical), "
        f"{np.sqrt(np.mean((separate_mean - truth) ** 2)):.4f} (average of the BayesianRidge fits)"
    )


# Section name -> function of the parsed command-line arguments; add new sections here.
SECTIONS = {
    "interactions": lambda args: bench_interactions(repeat=args.repeat),
    "hierarchical": lambda args: bench_hierarchical(),
    "svi": lambda args: bench_svi(),
    "hierarchical-large": lambda args: bench_hierarchical_large(args.series, args.steps),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", choices=sorted(SECTIONS), help="run these sections only")
    parser.add_argument("--repeat", type=int, default=2, help="timed warm calls per setting")
    parser.add_argument("--series", type=int, default=1000, help="series of the hierarchical-large section")
    parser.add_argument("--steps", type=int, default=1000, help="steps of the hierarchical-large section")
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
