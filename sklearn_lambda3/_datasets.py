"""Synthetic series with known jumps: the public generator and the command line demo's data set."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params


@validate_params(
    {
        "n_samples": [Interval(Integral, 2, None, closed="left")],
        "n_series": [Interval(Integral, 1, None, closed="left")],
        "n_jumps": [Interval(Integral, 0, None, closed="left")],
        "jump_size": [Interval(Real, 0, None, closed="left")],
        "trend": [Real],
        "seasonal_amplitude": [Interval(Real, 0, None, closed="left")],
        "period": [Interval(Real, 0, None, closed="neither")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "min_gap": [Interval(Integral, 1, None, closed="left")],
        "return_jumps": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_jump_series(
    n_samples=1000,
    n_series=1,
    *,
    n_jumps=10,
    jump_size=5.0,
    trend=0.002,
    seasonal_amplitude=1.0,
    period=50.0,
    noise=0.2,
    min_gap=10,
    return_jumps=False,
    random_state=None,
):
    """Generate series with a trend, a season, Gaussian noise and signed level jumps.

    Each series is ``trend * t + seasonal_amplitude * sin(2π t / period + phase) + noise * ε_t``
    plus a sum of level shifts: at each jump position the level moves by
    ``± jump_size * u`` with ``u`` uniform in [1, 1.5) and a random sign, and stays there.
    Jump positions are distinct, at least ``min_gap`` steps apart, and never at row 0.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of time steps (rows).
    n_series : int, default=1
        Number of series (columns), each with its own jumps and phase.
    n_jumps : int, default=10
        Number of level jumps per series.
    jump_size : float, default=5.0
        Smallest absolute size of a jump.
    trend : float, default=0.002
        Slope of the linear trend per step.
    seasonal_amplitude : float, default=1.0
        Amplitude of the sine season.
    period : float, default=50.0
        Period of the season in steps.
    noise : float, default=0.2
        Standard deviation of the Gaussian noise.
    min_gap : int, default=10
        Smallest distance between two jumps of a series.
    return_jumps : bool, default=False
        If True, also return the jump positions and signs.
    random_state : int, RandomState instance or None, default=None
        Seed of the generator, for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, n_series)
        The series, rows in time order.
    jumps : ndarray of shape (n_series, n_samples)
        Only if ``return_jumps``: ``+1``/``-1`` at the first step of each upward/downward
        level jump, ``0`` elsewhere.

    Examples
    --------
    >>> from sklearn_lambda3.datasets import make_jump_series
    >>> X, jumps = make_jump_series(500, n_jumps=5, return_jumps=True, random_state=0)
    >>> X.shape, jumps.shape, int(abs(jumps).sum())
    ((500, 1), (1, 500), 5)
    """
    rng = check_random_state(random_state)
    max_jumps = (n_samples + min_gap - 2) // min_gap
    if n_jumps > max_jumps:
        raise ValueError(
            f"n_jumps={n_jumps} jumps at least min_gap={min_gap} apart do not fit in "
            f"n_samples={n_samples} rows; at most {max_jumps} do."
        )
    t = np.arange(n_samples, dtype=np.float64)
    X = np.empty((n_samples, n_series))
    jumps = np.zeros((n_series, n_samples))
    for s in range(n_series):
        positions = _spaced_positions(rng, n_samples, n_jumps, min_gap)
        signs = rng.choice([-1.0, 1.0], size=n_jumps)
        sizes = jump_size * rng.uniform(1.0, 1.5, size=n_jumps)
        steps = np.zeros(n_samples)
        steps[positions] = signs * sizes
        jumps[s, positions] = signs
        phase = rng.uniform(0, 2 * np.pi)
        X[:, s] = (
            trend * t
            + seasonal_amplitude * np.sin(2 * np.pi * t / period + phase)
            + noise * rng.standard_normal(n_samples)
            + np.cumsum(steps)
        )
    if return_jumps:
        return X, jumps
    return X


def _spaced_positions(rng, n_samples, n_jumps, min_gap):
    """Sorted distinct positions in [1, n_samples - 1], consecutive ones >= min_gap apart.

    Position ``i`` is ``1 + c_i + i * (min_gap - 1)`` with ``c`` a sorted sample of distinct
    integers, which spaces them by at least ``min_gap`` and is uniform over valid layouts.
    """
    n_slots = n_samples - 1 - max(n_jumps - 1, 0) * (min_gap - 1)
    chosen = np.sort(rng.choice(n_slots, size=n_jumps, replace=False))
    return 1 + chosen + np.arange(n_jumps) * (min_gap - 1)


# The demo's generated series; the target they drive comes last.
DEMO_NAMES = ["s0", "s1", "s2", "s3"]


def demo_series(seed):
    """Four generated series and a target with known drivers: the ``demo --out`` data set.

    The series are :func:`make_jump_series` (600 steps, 8 jumps each). The target follows
    half of s1's level (drift, season and jumps) and spikes by ±3 at the steps where s0
    jumps up or down: s0's jump features drive it, with signs + and -.

    Parameters
    ----------
    seed : int
        Seed of the series and of the target's noise.

    Returns
    -------
    names : list of str
        ``s0 … s3`` and ``target``.
    values : ndarray of shape (600, 5)
        The series in columns, rows in time order.
    """
    X, jumps = make_jump_series(
        600, n_series=len(DEMO_NAMES), n_jumps=8, return_jumps=True, random_state=seed
    )
    rng = np.random.default_rng(seed)
    target = 0.5 * X[:, 1] + 3.0 * np.sign(jumps[0]) + 0.3 * rng.standard_normal(len(X))
    return DEMO_NAMES + ["target"], np.column_stack([X, target])
