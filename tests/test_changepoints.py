"""Change-point detection: exactness against brute force, recovery of known shifts, errors."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_lambda3._changepoints import (
    _clip_outliers,
    _fit_ar1,
    _long_run_variance,
    _pelt,
    _robust_slope,
    seasonal_period,
)
from sklearn_lambda3.analysis import detect_change_points
from sklearn_lambda3.datasets import make_jump_series


def segment_cost(x, drift):
    """min over level paths a of Σ (x - a)² + Σ (a_t - a_{t-1})² / drift (drift 0: a constant)."""
    if drift == 0.0 or len(x) == 1:
        return float(np.sum((x - x.mean()) ** 2))
    m = len(x)
    D = np.diff(np.eye(m), axis=0)
    a = np.linalg.solve(np.eye(m) + D.T @ D / drift, x)
    return float(np.sum((x - a) ** 2) + np.sum(np.diff(a) ** 2) / drift)


def brute_force(x, drift, penalty, min_size):
    """Optimal partitioning over every segmentation (O(n²) segments): best penalised cost."""
    n = len(x)
    best = np.full(n + 1, np.inf)
    best[0] = -penalty
    for t in range(1, n + 1):
        for s in range(0, t - min_size + 1):
            if best[s] < np.inf:
                best[t] = min(best[t], best[s] + segment_cost(x[s:t], drift) + penalty)
    return best[n]


def penalised_cost(x, points, drift, penalty):
    edges = [0, *points, len(x)]
    costs = [segment_cost(x[a:b], drift) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return sum(costs) + penalty * len(points)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    n=st.integers(2, 40),
    drift=st.sampled_from([0.0, 0.05, 1.0]),
    penalty=st.floats(0.0, 20.0),
    min_size=st.integers(1, 6),
)
def test_pelt_reaches_the_brute_force_optimum(seed, n, drift, penalty, min_size):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n) + np.repeat(rng.normal(0, 3, 4), -(-n // 4))[:n]
    if n < min_size:
        return
    found = _pelt(x, drift, penalty, min_size)
    gaps = np.diff(np.r_[0, found, n])
    assert np.all(gaps >= min_size)
    assert penalised_cost(x, found, drift, penalty) == pytest.approx(
        brute_force(x, drift, penalty, min_size), rel=1e-9, abs=1e-9
    )


def f1_within(found, truth, margin=3):
    hits_found = sum(np.min(np.abs(truth - c)) <= margin for c in found) if len(truth) else 0
    hits_true = sum(np.min(np.abs(found - c)) <= margin for c in truth) if len(found) else 0
    precision = hits_found / len(found) if len(found) else 1.0
    recall = hits_true / len(truth) if len(truth) else 1.0
    return precision, recall


@pytest.mark.parametrize("seed", range(6))
def test_recovers_level_shifts_of_make_jump_series(seed):
    X, jumps = make_jump_series(2000, n_jumps=12, return_jumps=True, random_state=seed)
    truth = np.flatnonzero(jumps[0])
    precision, recall = f1_within(detect_change_points(X[:, 0]), truth)
    assert precision >= 0.8 and recall >= 0.8


def test_smaller_shifts_among_noise_are_found():
    rng = np.random.default_rng(0)
    truth = np.array([300, 700])
    x = rng.standard_normal(1000) + 2.0 * (np.arange(1000) >= 300) - 2.5 * (np.arange(1000) >= 700)
    precision, recall = f1_within(detect_change_points(x), truth)
    assert precision == 1.0 and recall == 1.0


@pytest.mark.parametrize("kind", ["white", "walk", "season"])
def test_no_flood_on_series_without_shifts(kind):
    false_alarms = 0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        t = np.arange(1000)
        x = {
            "white": rng.standard_normal(1000),
            "walk": 0.2 * np.cumsum(rng.standard_normal(1000)) + rng.standard_normal(1000),
            "season": 2 * np.sin(2 * np.pi * t / 80) + 0.003 * t + 0.3 * rng.standard_normal(1000),
        }[kind]
        false_alarms += len(detect_change_points(x))
    assert false_alarms <= 2  # over 10 000 points in all


def test_invariant_to_offset_and_scale():
    X = make_jump_series(800, n_jumps=6, random_state=1)[:, 0]
    base = detect_change_points(X)
    np.testing.assert_array_equal(detect_change_points(3e-4 * X + 1e9), base)


def test_penalty_and_max_change_points_trade_off():
    rng = np.random.default_rng(2)
    positions = np.array([150, 300, 450, 600, 750])
    sizes = np.array([1.5, -8.0, 3.0, 12.0, -5.0])
    steps = np.zeros(900)
    steps[positions] = sizes
    x = np.cumsum(steps) + 0.5 * rng.standard_normal(900)
    np.testing.assert_array_equal(detect_change_points(x), positions)
    assert len(detect_change_points(x, penalty=1.0)) >= 5
    assert len(detect_change_points(x, penalty=1e4)) < 5
    # The three largest shifts are kept.
    np.testing.assert_array_equal(detect_change_points(x, max_change_points=3), [300, 600, 750])


def test_min_size_spaces_change_points():
    noise = 0.01 * np.random.default_rng(0).standard_normal(103)
    x = np.r_[np.zeros(50), np.full(3, 10.0), np.zeros(50)] + noise
    points = detect_change_points(x, min_size=5)
    assert np.all(np.diff(np.r_[0, points, len(x)]) >= 5)


def test_short_constant_and_linear_series_have_none():
    assert detect_change_points([1.0, 2.0]).size == 0
    assert detect_change_points(np.full(100, 4.2)).size == 0
    assert detect_change_points(np.linspace(0, 5, 100)).size == 0


@pytest.mark.parametrize(
    "x, kwargs, error, match",
    [
        (np.zeros((10, 2)), {}, ValueError, "1-D"),
        ([1.0], {}, ValueError, "at least 2"),
        ([1.0, np.nan, 2.0], {}, ValueError, "NaN"),
        (["a", "b", "c"], {}, TypeError, "real numbers"),
        (np.arange(20.0), {"penalty": -1.0}, ValueError, "penalty"),
        (np.arange(20.0), {"penalty": "aic"}, ValueError, "penalty"),
        (np.arange(20.0), {"penalty": [1]}, TypeError, "penalty"),
        (np.arange(20.0), {"min_size": 0}, ValueError, "min_size"),
        (np.arange(20.0), {"min_size": 2.5}, TypeError, "min_size"),
        (np.arange(20.0), {"max_change_points": -1}, ValueError, "max_change_points"),
        (np.arange(20.0), {"drift": -0.1}, ValueError, "drift"),
        (np.arange(20.0), {"drift": "big"}, ValueError, "drift"),
        (np.arange(20.0), {"noise": "pink"}, ValueError, "noise"),
        (np.arange(20.0), {"noise": 1}, TypeError, "noise"),
        (np.arange(20.0), {"season": "yearly"}, ValueError, "season"),
        (np.arange(20.0), {"season": 1}, ValueError, "season"),
        (np.arange(20.0), {"season": 11}, ValueError, "season"),
        (np.arange(20.0), {"season": 2.5}, TypeError, "season"),
        (np.arange(20.0), {"outliers": "drop"}, ValueError, "outliers"),
        (np.arange(20.0), {"outliers": None}, TypeError, "outliers"),
    ],
)
def test_bad_input_raises_clear_errors(x, kwargs, error, match):
    with pytest.raises(error, match=match):
        detect_change_points(x, **kwargs)


OLD = {"noise": "white", "outliers": "keep", "season": None}


def ar1(phi, n, seed):
    rng = np.random.default_rng(seed)
    e = rng.standard_normal(n + 100)
    x = np.zeros(n + 100)
    for t in range(1, n + 100):
        x[t] = phi * x[t - 1] + e[t]
    return x[100:]


def share_with_change_points(series, **kwargs):
    return np.mean([len(detect_change_points(x, **kwargs)) > 0 for x in series])


@pytest.mark.parametrize("phi", [0.5, 0.8])
def test_ar1_noise_has_no_change_points(phi):
    series = [ar1(phi, 500, seed) for seed in range(30)]
    assert share_with_change_points(series) <= 0.1
    # The white-noise model reads the slow swings as shifts.
    assert share_with_change_points(series, **OLD) >= 0.5


def test_heavy_tailed_noise_has_no_change_points():
    series = [np.random.default_rng(seed).standard_t(3, 500) for seed in range(30)]
    assert share_with_change_points(series) <= 0.1
    # Without clipping, bursts of large values are cut out as segments.
    assert share_with_change_points(series, outliers="keep") >= 0.5


def test_single_spikes_are_not_change_points():
    series = []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        x = rng.standard_normal(300)
        x[[40, 110, 200, 260]] += np.array([10.0, -9.0, 12.0, -10.0])
        series.append(x)
    assert share_with_change_points(series) <= 0.1
    assert share_with_change_points(series, outliers="keep") >= 0.9


def monthly(seed, shift=0.0):
    t = np.arange(300)
    rng = np.random.default_rng(seed)
    return 3.0 * np.sin(2 * np.pi * t / 12) + 0.02 * t + 0.5 * rng.standard_normal(300) + shift * (t >= 170)


def test_seasonal_series_without_shift_has_no_change_points():
    t = np.arange(300)
    summer = np.array([0, 0, 0, 0, 0, 0, 4, 4, 0, 0, 0, 0.0])
    series = [monthly(seed) for seed in range(10)]
    series += [
        summer[t % 12] + 0.01 * t + 0.3 * np.random.default_rng(seed).standard_normal(300)
        for seed in range(10)
    ]
    assert all(seasonal_period(x) == 12 for x in series)
    assert share_with_change_points(series) == 0.0
    # The white-noise model cuts the summer peaks into shifts.
    assert share_with_change_points(series[10:], **OLD) == 1.0


def test_shift_in_a_seasonal_series_is_found():
    def found(**kwargs):
        hits = 0
        for seed in range(10):
            points = detect_change_points(monthly(seed, shift=2.0), **kwargs)
            hits += len(points) == 1 and abs(points[0] - 170) <= 3
        return hits

    assert found() >= 9
    assert found(season=12) >= 9
    # Left in, the season hides a shift of four noise standard deviations.
    assert found(season=None) <= 2


def test_season_detection_ignores_noise():
    assert seasonal_period(np.random.default_rng(0).standard_normal(400)) == 0
    assert seasonal_period(ar1(0.8, 400, 0)) == 0
    assert seasonal_period(np.cumsum(np.random.default_rng(1).standard_normal(400))) == 0


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.8])
def test_ar1_fit_recovers_the_noise_despite_shifts(phi):
    x = 0.5 * ar1(phi, 20000, 3) + np.repeat(np.random.default_rng(4).normal(0, 5, 20), 1000)
    gamma, phi_hat = _fit_ar1(x)
    assert phi_hat == pytest.approx(phi, abs=0.03)
    assert gamma == pytest.approx(0.25 / (1 - phi**2), rel=0.1)


def _optimal_for_series_or_detrended(x, found):
    """Whether ``found`` is the brute-force optimal L2 partition, in long-run-variance units, of
    ``x`` centred or of ``x`` less its robust trend (whichever the deviance kept)."""
    centred = x - np.median(x)
    detrended = centred - _robust_slope(centred) * (np.arange(len(x)) - (len(x) - 1) / 2)
    penalty = 2 * np.log(len(x))
    optimal = []
    for series in (centred, detrended):
        y = series / np.sqrt(_long_run_variance(*_fit_ar1(series)))
        optimal.append(np.isclose(penalised_cost(y, found, 0.0, penalty), brute_force(y, 0.0, penalty, 3)))
    return any(optimal)


def test_piecewise_constant_ar1_model_is_exact():
    """With the drifting model, season and clipping off, the result is the optimal partition of
    the L2 cost in units of the long-run variance (brute force), of the series or of the series
    less its robust trend, whichever the deviance keeps."""
    rng = np.random.default_rng(5)
    for _ in range(6):
        x = ar1(0.4, 36, int(rng.integers(1000))) + np.repeat(rng.normal(0, 3, 3), 12)
        found = detect_change_points(x, drift=0, season=None, outliers="keep")
        assert _optimal_for_series_or_detrended(x, found)


def test_trend_with_autocorrelated_noise_has_no_change_points():
    t = np.arange(400)
    series = [0.02 * t + ar1(0.5, 400, seed) for seed in range(10)]
    assert share_with_change_points(series) <= 0.1
    assert share_with_change_points(series, **OLD) >= 0.5


def test_old_behaviour_is_kept_by_parameter():
    e = np.random.default_rng(7).standard_normal(400)
    x = np.zeros(400)
    for t in range(1, 400):
        x[t] = 0.6 * x[t - 1] + e[t]
    # Output of the detector before the noise, season and outlier models (commit ddfdda3).
    np.testing.assert_array_equal(detect_change_points(x, **OLD), [206, 247, 252])
    assert detect_change_points(x).size == 0


def test_noise_free_and_quantised_steps_are_found():
    np.testing.assert_array_equal(detect_change_points([0.0] * 3 + [5.0] * 3), [3])
    np.testing.assert_array_equal(detect_change_points([0.0] * 8 + [5.0] * 8), [8])
    rng = np.random.default_rng(0)
    x = np.round(np.r_[np.zeros(100), np.full(100, 2.0)] + 0.3 * rng.standard_normal(200))
    np.testing.assert_array_equal(detect_change_points(x), [100])


def test_clipped_series_is_segmented_exactly():
    """Clipping is a transform of the data; the segmentation of the clipped series is still the
    optimal partition (brute force), of the series or of the series less its robust trend."""
    rng = np.random.default_rng(6)
    for _ in range(6):
        x = rng.standard_t(3, 36) + np.repeat(rng.normal(0, 4, 3), 12)
        found = detect_change_points(x, drift=0, season=None)
        assert _optimal_for_series_or_detrended(_clip_outliers(x, 3), found)


@pytest.mark.parametrize("n, size, minimum", [(100, 3.0, 0.95), (200, 2.0, 0.9)])
def test_several_shifts_in_a_short_series_are_found(n, size, minimum):
    # The AR(1) fit must not take the differences that straddle the shifts for persistence, nor
    # the deviance judge the model with shifts by that blurred fit.
    recalls = []
    for seed in range(30):
        rng = np.random.default_rng(seed)
        truth = np.sort(rng.choice(np.arange(15, n - 15, 15), 3, replace=False))
        levels = np.cumsum(np.r_[0.0, rng.choice([-size, size], 3)])
        x = levels[np.searchsorted(truth, np.arange(n), side="right")] + rng.standard_normal(n)
        recalls.append(f1_within(detect_change_points(x), truth)[1])
    assert np.mean(recalls) >= minimum


def _two_days(seed, n=48, amplitude=3.0):
    """Hourly temperature-like rows: a daily cycle (two harmonics), a slow random walk, noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    day = amplitude * np.sin(2 * np.pi * t / 24) + 0.3 * amplitude * np.cos(4 * np.pi * t / 24)
    return day + np.cumsum(0.05 * rng.standard_normal(n)) + 0.1 * rng.standard_normal(n)


def test_a_season_seen_only_twice_is_found_and_the_calendar_names_it():
    series = [_two_days(seed) for seed in range(20)]
    assert seasonal_period(series[0]) in (23, 24, 25)  # lag 24 is beyond n / 3
    found = [seasonal_period(x) for x in series]
    assert all(period in (23, 24, 25) for period in found)
    assert all(seasonal_period(x, calendar=(24, 168)) == 24 for x in series)
    # The calendar only names a period the data shows, within 10 %.
    assert seasonal_period(series[0], calendar=(30,)) == found[0]
    assert seasonal_period(np.random.default_rng(0).standard_normal(48), calendar=(24, 168)) == 0


def test_two_cycles_of_noise_are_not_a_season():
    rng = np.random.default_rng(5)
    for n in (30, 48, 100, 200):
        nulls = [rng.standard_normal(n) for _ in range(100)]
        nulls += [np.cumsum(rng.standard_normal(n)) for _ in range(100)]
        nulls += [rng.standard_t(3, n) for _ in range(100)]
        assert sum(seasonal_period(x) != 0 for x in nulls) <= 3, n


def test_the_detector_takes_the_calendar_of_a_datetime_index():
    x = _two_days(1, n=96)
    x[60:] += 4.0
    hourly = pd.Series(x, index=pd.date_range("2025-06-19", periods=96, freq="h", tz="UTC"))
    assert seasonal_period(x, calendar=(24, 168)) == 24
    np.testing.assert_array_equal(detect_change_points(hourly), detect_change_points(x, season=24))
    assert np.min(np.abs(detect_change_points(hourly) - 60)) <= 2
