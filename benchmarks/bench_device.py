"""The same Bayesian scenarios on ``device="cpu"`` and ``device="gpu"``, side by side.

Run ``python benchmarks/bench_device.py [--quick] [--only NAME ...] [--json FILE]``.
Without an accelerator the GPU column says "not available" and only the CPU is measured.
``--quick`` shrinks every scenario (for a smoke run on a laptop or CI-like machine); the
full sizes are the issue's.

Scenarios (full size)
---------------------
- ``linear``: :class:`Lambda3BayesRegressor` on 10^7 rows x 4 Lambda³ features (4 chains x
  1000 draws).
- ``hierarchical``: :class:`Lambda3HierarchicalRegressor`, 1000 series x 10^4 steps, 3 shared
  regressors.
- ``dynamic``: :class:`Lambda3DynamicRegressor`, 10^5 steps, 2 regressors, a level with steps.
- ``interactions``: :func:`interaction_effects` of 20 series (380 ordered pairs), 2000 steps.

For each scenario and device: wall time of the first fit (compiles) and of a second fit with
another seed (compiled program reused), min bulk ESS and ESS/s of the second fit, max split
R-hat, divergences, and the peak memory: the device's ``peak_bytes_in_use`` on an accelerator,
the process's peak resident set on the CPU. The ratio column is CPU time / GPU time of the
second fit (> 1: the GPU is faster).

``--crossover`` fits the linear model at 10^3 … 10^7 rows on both devices and prints the
smallest size at which the GPU's warm fit is faster, and the values of the sampler's data
there (rows x 8: the padded design with its intercept, y, tension and mask): the figure
``device="auto"`` follows (:data:`sklearn_lambda3.bayes._inference.AUTO_GPU_MIN_VALUES`).
"""

import argparse
import json
import resource
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

FULL = {"linear": 10_000_000, "hierarchical": (1000, 10_000), "dynamic": 100_000, "interactions": (20, 2000)}
QUICK = {"linear": 100_000, "hierarchical": (100, 500), "dynamic": 2_000, "interactions": (4, 500)}
SETTINGS = {"num_warmup": 1000, "num_samples": 1000, "num_chains": 4, "progress_bar": False}
QUICK_SETTINGS = {"num_warmup": 300, "num_samples": 300, "num_chains": 2, "progress_bar": False}


def available_devices():
    import jax

    devices = ["cpu"]
    try:
        if jax.devices("gpu"):
            devices.append("gpu")
    except RuntimeError:
        pass
    return devices


def peak_memory(device):
    """Peak bytes: the accelerator's allocator statistics, or the process's peak RSS on the CPU."""
    import jax

    if device != "cpu":
        stats = jax.devices(device)[0].memory_stats() or {}
        return stats.get("peak_bytes_in_use")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def linear_problem(n_rows, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, 4)).astype(np.float32)
    y = X @ np.array([1.0, -0.5, 0.25, 0.0]) + rng.standard_normal(n_rows)
    return X, y


def hierarchical_problem(n_series, n_steps, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_steps, 3))
    coef = np.array([1.0, -0.5, 0.3]) + 0.2 * rng.standard_normal((n_series, 3))
    Y = X @ coef.T + rng.standard_normal((n_steps, n_series))
    return X, Y


def dynamic_problem(n_steps, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_steps, 2))
    level = np.cumsum(0.05 * rng.standard_normal(n_steps))
    level[n_steps // 2 :] += 3.0
    return X, level + X @ np.array([0.8, -0.4]) + 0.5 * rng.standard_normal(n_steps)


def interactions_problem(n_series, n_steps, seed=0):
    import pandas as pd

    rng = np.random.default_rng(seed)
    values = rng.standard_normal((n_steps, n_series)) + 4.0 * (rng.random((n_steps, n_series)) < 0.01)
    return pd.DataFrame(values, columns=[f"s{i}" for i in range(n_series)])


def fit_twice(make_estimator, X, y):
    """Wall times of a first (compiling) and a second fit, and the second fit's diagnostics."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        started = time.perf_counter()
        make_estimator(0).fit(X, y)
        first = time.perf_counter() - started
        started = time.perf_counter()
        estimator = make_estimator(1).fit(X, y)
        second = time.perf_counter() - started
    d = estimator.diagnostics_
    return {
        "first_s": first,
        "second_s": second,
        "ess_bulk_min": float(d.get("ess_bulk_min", np.nan)),
        "ess_per_s": float(d.get("ess_bulk_min", np.nan)) / second,
        "r_hat_max": float(d.get("r_hat_max", np.nan)),
        "divergences": int(d.get("num_divergences", 0)),
    }


def scenario(name, device, sizes, settings):
    from sklearn_lambda3 import Lambda3BayesRegressor, Lambda3DynamicRegressor, Lambda3HierarchicalRegressor

    if name == "linear":
        X, y = linear_problem(sizes["linear"])
        result = fit_twice(lambda s: Lambda3BayesRegressor(device=device, random_state=s, **settings), X, y)
    elif name == "hierarchical":
        X, Y = hierarchical_problem(*sizes["hierarchical"])
        result = fit_twice(
            lambda s: Lambda3HierarchicalRegressor(device=device, random_state=s, **settings), X, Y
        )
    elif name == "dynamic":
        X, y = dynamic_problem(sizes["dynamic"])
        result = fit_twice(
            lambda s: Lambda3DynamicRegressor(
                change_points="auto", device=device, random_state=s, **settings
            ),
            X,
            y,
        )
    elif name == "interactions":
        from sklearn_lambda3.analysis import interaction_effects

        frame = interactions_problem(*sizes["interactions"])
        regressor = Lambda3BayesRegressor(device=device, **settings)
        times = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for seed in (0, 1):
                started = time.perf_counter()
                out = interaction_effects(frame, regressor=regressor, random_state=seed)
                times.append(time.perf_counter() - started)
        off = ~np.eye(len(out.names), dtype=bool)
        ess = float(np.nanmin(out.ess_bulk_min[off]))
        result = {
            "first_s": times[0],
            "second_s": times[1],
            "ess_bulk_min": ess,
            "ess_per_s": ess * off.sum() / times[1],
            "r_hat_max": float(np.nanmax(out.r_hat_max[off])),
            "divergences": int(np.nansum(out.num_divergences[off])),
        }
    else:
        raise ValueError(name)
    result["peak_memory_bytes"] = peak_memory(device)
    return result


def crossover(devices, settings):
    rows = [10**k for k in range(3, 8)]
    from sklearn_lambda3 import Lambda3BayesRegressor

    table = {}
    for n in rows:
        X, y = linear_problem(n)
        table[n] = {
            device: fit_twice(
                lambda s, d=device: Lambda3BayesRegressor(device=d, random_state=s, **settings), X, y
            )["second_s"]
            for device in devices
        }
        cells = "  ".join(f"{device} {t:8.2f} s" for device, t in table[n].items())
        print(f"  linear, {n:>10,} rows: {cells}", flush=True)
    if "gpu" in devices:
        faster = [n for n in rows if table[n]["gpu"] < table[n]["cpu"]]
        if faster:
            print(f"  GPU faster from {faster[0]:,} rows (about {8 * faster[0]:,} values of program data)")
        else:
            print("  the GPU was never faster")
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and short chains")
    parser.add_argument("--only", nargs="+", choices=list(FULL), default=list(FULL))
    parser.add_argument("--crossover", action="store_true", help="also measure the CPU/GPU crossover")
    parser.add_argument("--json", default=None, help="write the figures to this file")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    settings = QUICK_SETTINGS if args.quick else SETTINGS
    devices = available_devices()
    print(f"devices: {', '.join(devices)}" + ("" if "gpu" in devices else " (gpu: not available)"))
    results = {}
    for name in args.only:
        print(f"== {name} {sizes[name]}", flush=True)
        results[name] = {}
        for device in devices:
            r = scenario(name, device, sizes, settings)
            results[name][device] = r
            memory = r["peak_memory_bytes"]
            print(
                f"  {device}: first fit {r['first_s']:8.2f} s, second {r['second_s']:8.2f} s, "
                f"ESS/s {r['ess_per_s']:9.1f} (min bulk ESS {r['ess_bulk_min']:.0f}), "
                f"R-hat {r['r_hat_max']:.4f}, divergences {r['divergences']}, "
                f"peak memory {memory / 2**20 if memory else float('nan'):.0f} MiB",
                flush=True,
            )
        if "gpu" in results[name]:
            ratio = results[name]["cpu"]["second_s"] / results[name]["gpu"]["second_s"]
            print(f"  CPU / GPU wall time (second fit): {ratio:.2f}")
    if args.crossover:
        print("== crossover (second fit)")
        results["crossover"] = crossover(devices, settings)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
