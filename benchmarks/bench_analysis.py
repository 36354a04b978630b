"""Speed of sync_matrix on many long series, against dense NumPy references.

Run: ``python benchmarks/bench_analysis.py [n_series] [n_steps]`` (defaults 200 and 100,000).
The events are the jumps (ΔΛC⁺ or ΔΛC⁻) of Lambda3Features at its default 97th percentile,
about 3 % of the steps, on random walks that share a common shock factor at random delays.
Two dense references compute the same matrix from products of whole shifted columns:

- ``literal``: the method's definition, ``mean(a[:-τ] * b[τ:])`` for every ordered pair and
  lag, timed on a few series and extrapolated by the number of pairs;
- ``matmul``: one float32 BLAS product per lag over all series at once, on the full case.

Both are checked to give the same rates and lags as ``sync_matrix`` on their subset.
"""

import sys
import time

import numpy as np

from sklearn_lambda3 import Lambda3Features
from sklearn_lambda3.analysis import sync_matrix


def make_events(n_steps, n_series, seed=0):
    rng = np.random.default_rng(seed)
    factor = rng.standard_t(3, n_steps + 20)
    events = np.empty((n_steps, n_series), dtype=np.uint8)
    for start in range(0, n_series, 25):
        cols = range(start, min(start + 25, n_series))
        delays = rng.integers(0, 20, len(cols))
        steps = np.stack([0.6 * factor[d : d + n_steps] for d in delays], axis=1)
        steps += rng.standard_t(3, (n_steps, len(cols)))
        out = Lambda3Features().fit_transform(steps.cumsum(axis=0))
        events[:, start : start + len(cols)] = (out[:, 0::4] + out[:, 1::4]) > 0
    return events


def literal_matrix(events, L):
    """The definition of §2 for every ordered pair, in plain NumPy."""
    ev = events.astype(np.float64)
    p = ev.shape[1]
    rates = np.eye(p)
    lags = np.zeros((p, p), dtype=np.int64)
    for i in range(p):
        for j in range(p):
            if i == j:
                continue
            a, b = ev[:, i], ev[:, j]
            profile = [
                np.mean(a * b) if t == 0 else np.mean(a[:-t] * b[t:]) if t > 0 else np.mean(a[-t:] * b[:t])
                for t in range(-L, L + 1)
            ]
            best = max(profile)
            rates[i, j] = best
            lags[i, j] = int(np.argmax(profile)) - L if best > 0 else 0
    return rates, lags


def matmul_matrix(events, L):
    """One BLAS product per lag: counts[τ] = A[:n-τ]ᵀ B[τ:] (float32 is exact below 2^24)."""
    ev = events.astype(np.float32)
    other = ev.copy()  # a second buffer: numpy's x.T @ x shortcut (syrk) is slower here
    n, p = ev.shape
    profile = np.empty((2 * L + 1, p, p))
    for k, t in enumerate(range(-L, L + 1)):
        a, b = (ev[: n - t], other[t:]) if t >= 0 else (ev[-t:], other[: n + t])
        profile[k] = (a.T @ b) / (n - abs(t))
    best = profile.max(axis=0)
    lags = np.where(best > 0, profile.argmax(axis=0) - L, 0)
    np.fill_diagonal(best, 1.0)
    np.fill_diagonal(lags, 0)
    return best, lags


def timed(func, *args, repeat=1):
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    n_series = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    n_steps = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    L = 10
    events = make_events(n_steps, n_series)
    print(f"sync_matrix: {n_series} series x {n_steps} steps, lag_window={L}, event rate {events.mean():.2%}")
    sync_matrix(events[:50, :3], 2)  # compile / load the cache
    t_ours, (rates, lags) = timed(sync_matrix, events, L, repeat=3)
    print(f"  sync_matrix (events, Numba)     {t_ours:8.3f} s")

    p_lit = min(6, n_series)
    t_lit, (ref_rates, ref_lags) = timed(literal_matrix, events[:, :p_lit], L)
    assert np.array_equal(ref_rates, rates[:p_lit, :p_lit]) and np.array_equal(ref_lags, lags[:p_lit, :p_lit])
    t_lit_full = t_lit * (n_series * (n_series - 1)) / (p_lit * (p_lit - 1))
    print(f"  literal NumPy, {p_lit} series          {t_lit:8.3f} s  (same result)")
    print(f"  literal NumPy, extrapolated    {t_lit_full:8.1f} s  -> ratio {t_lit_full / t_ours:8.0f}x")

    matmul_matrix(events[:1000, :20], L)  # start BLAS threads
    t_mm, (ref_rates, ref_lags) = timed(matmul_matrix, events, L)
    assert np.allclose(ref_rates, rates, rtol=1e-12) and np.array_equal(ref_lags, lags)
    print(f"  BLAS matmul per lag, all series {t_mm:8.3f} s  (same result) -> ratio {t_mm / t_ours:8.1f}x")


if __name__ == "__main__":
    main()
