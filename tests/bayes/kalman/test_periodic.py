"""Periodic columns through the steady stretches in closed form (``_kalman/_periodic.py``).

The kernel's fast path for a season's Fourier columns is checked against references that do
not share it: the dense Gaussian (value, score, and the exact posterior of the draws), the JAX
filter (value and gradient, on long series where the stretches cover most steps) and plain
NumPy for the layout and the stretches. Each case first asserts that the kernel does take the
fast path on it, so that a test cannot pass by falling back to the general filter.
"""

import numpy as np
import pytest
from _kalman_helpers import (
    FLOOR,
    dense_gradient,
    dense_moments,
    dense_posterior,
    jax_value_and_grad,
    numba_value_and_grad,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_normal

from sklearn_lambda3.bayes._kalman._kernels import _variances, conditional_draws, likelihood_columns
from sklearn_lambda3.bayes._kalman._periodic import (
    LONGEST_PERIOD,
    MIN_PERIODS,
    periodic_layout,
    steady_segments,
    variable_rows,
)
from sklearn_lambda3.bayes._structural import seasonal_columns

KEYS = ("y", "design", "prior_scale", "change", "level0_var", "step_var", "tension")


def fourier_columns(n, harmonics=3):
    """The model's columns of a 24-step season (phase from the step modulo the period, so they
    repeat bit for bit; ``2πht/24`` computed from ``t`` itself would not)."""
    return seasonal_columns(np.arange(n), ((24, harmonics),))


def seasonal_case(n=480, seed=0, changes=(240,), missing=(), tension=None, harmonics=3):
    """A level with steps, a 24-step season and two regressors (given before the season, as the
    model orders them), constant noise unless ``tension`` is given."""
    rng = np.random.default_rng(seed)
    change = np.zeros(n)
    change[list(changes)] = 1.0
    regressors = rng.standard_normal((n, 2))
    design = np.column_stack([regressors, fourier_columns(n, harmonics=harmonics)])
    level = np.cumsum(0.1 * rng.standard_normal(n)) + 1.5 * change.cumsum()
    y = level + design @ rng.standard_normal(design.shape[1]) + 0.3 * rng.standard_normal(n)
    y[list(missing)] = np.nan
    return {
        "y": y,
        "design": design,
        "prior_scale": rng.uniform(0.5, 2.0, design.shape[1]),
        "change": change,
        "level0_var": 4.0,
        "step_var": 9.0,
        "tension": np.zeros(n) if tension is None else tension,
    }


def inputs_of(case):
    return tuple(case[key] for key in KEYS)


def stretches(case, tau, sigma_base, sigma_scale):
    """The steady stretches the kernel finds at these parameters, as (start, stop) rows."""
    n = len(case["y"])
    layout = periodic_layout(np.ascontiguousarray(case["design"]))
    arrays = [np.empty(n) for _ in range(4)]
    _variances(*inputs_of(case)[:1], *inputs_of(case)[3:], tau, sigma_base, sigma_scale, FLOOR, *arrays)
    segments = np.empty((n, 2), dtype=np.int64)
    count = steady_segments(arrays[1], arrays[2], arrays[3], layout[0], segments) if layout[1] else 0
    return segments[:count]


def covered(case, params):
    """Share of the steps inside steady stretches."""
    found = stretches(case, *params)
    return (found[:, 1] - found[:, 0]).sum() / len(case["y"])


def assert_equals_the_jax_filter(case, params, rel, atol):
    """The kernel's value within ``rel`` of the JAX filter's (sequential, float64) and its
    gradient within ``atol`` times the largest entry."""
    value, grad = numba_value_and_grad(inputs_of(case), params)
    expected, expected_grad = jax_value_and_grad(inputs_of(case), params, "sequential")
    assert value == pytest.approx(expected, rel=rel)
    np.testing.assert_allclose(grad, expected_grad, rtol=0, atol=atol * np.abs(expected_grad).max())


# ----------------------------------------------------------------------------- the layout


def test_layout_puts_the_fourier_columns_first_with_their_common_period():
    rng = np.random.default_rng(0)
    n = 500
    design = np.column_stack([rng.standard_normal(n), fourier_columns(n), rng.standard_normal(n)])
    layout = periodic_layout(design)
    # cos/sin of 1, 2 and 3 cycles a day repeat after 24, 12 and 8 steps: together after 24.
    assert layout[0] == 24
    assert layout[1] == 6
    np.testing.assert_array_equal(layout[2:], [1, 2, 3, 4, 5, 6, 0, 7])


def test_layout_finds_dummies_and_constants_and_takes_the_least_common_multiple():
    n = 2000
    t = np.arange(n)
    hour_dummy = (t % 24 == 5).astype(float)
    weekday = np.cos(2 * np.pi * (t % 168) / 168)
    constant = np.ones(n)
    trend = t / n
    layout = periodic_layout(np.column_stack([trend, hour_dummy, constant, weekday]))
    assert layout[0] == 168  # lcm(24, 1, 168)
    assert layout[1] == 3
    np.testing.assert_array_equal(layout[2:], [1, 2, 3, 0])


def test_layout_rules_out_a_step_dummy_and_keeps_patterns_with_few_changes():
    n = 200_000
    step = (np.arange(n) >= 150_000).astype(float)  # a policy dummy: one change
    assert periodic_layout(step[:, None])[1] == 0
    # Two changes per 1000 steps: the least period the bound allows is about 500, and 1000 holds.
    pulse = (np.arange(n) % 1000 < 3).astype(float)
    layout = periodic_layout(pulse[:, None])
    assert (layout[0], layout[1]) == (1000, 1)


def test_layout_leaves_a_period_longer_than_the_cap_or_a_quarter_of_the_steps():
    n = 4 * LONGEST_PERIOD + 8
    t = np.arange(n)
    too_long = np.cos(2 * np.pi * (t % (LONGEST_PERIOD + 1)) / (LONGEST_PERIOD + 1))
    assert periodic_layout(too_long[:, None])[1] == 0
    short = np.cos(2 * np.pi * (t[:40] % 12) / 12)  # 12 > 40 // 4
    assert periodic_layout(short[:, None])[1] == 0
    enough = np.cos(2 * np.pi * (t[:48] % 12) / 12)  # 12 = 48 // 4
    assert periodic_layout(enough[:, None])[0] == 12


def test_layout_adds_a_column_only_while_the_common_period_stays_under_the_cap():
    n = 4 * LONGEST_PERIOD
    t = np.arange(n)
    first = np.cos(2 * np.pi * (t % 1000) / 1000)
    second = np.cos(2 * np.pi * (t % 999) / 999)  # lcm 999000: too long together
    layout = periodic_layout(np.column_stack([first, second]))
    assert (layout[0], layout[1]) == (1000, 1)
    np.testing.assert_array_equal(layout[2:], [0, 1])


@settings(max_examples=40, deadline=None)
@given(
    period=st.integers(1, 30),
    repeats=st.integers(4, 12),
    seed=st.integers(0, 2**16),
)
def test_layout_period_of_any_repeated_pattern_divides_its_period(period, repeats, seed):
    pattern = np.random.default_rng(seed).integers(0, 3, period).astype(float)
    column = np.tile(pattern, repeats)
    layout = periodic_layout(column[:, None])
    assert layout[1] == 1
    found = layout[0]
    assert period % found == 0
    np.testing.assert_array_equal(column[found:], column[:-found])


def test_rows_of_the_variables_pad_each_block_to_four():
    layout = np.array([24, 6, 1, 2, 3, 4, 5, 6, 0, 7])
    # Six periodic variables in rows 0-5 (6, 7 padding), then the two others and y from row 8.
    np.testing.assert_array_equal(variable_rows(layout, 8), [0, 1, 2, 3, 4, 5, 8, 9, 10])
    columns, same = likelihood_columns(np.arange(30.0), np.zeros((30, 0)))
    assert columns.shape == (4, 30)
    assert same[0] == same[1] == 0


# ------------------------------------------------------------------------- the stretches


def reference_stretches(inv_sqrt_f, gain, keep, period):
    """Maximal runs of observed steps with the same three variances, cut to whole periods."""
    found, n, t = [], len(gain), 0
    while t < n:
        start, t = t, t + 1
        if inv_sqrt_f[start] == 0.0:
            continue
        while t < n and (gain[t], keep[t], inv_sqrt_f[t]) == (gain[start], keep[start], inv_sqrt_f[start]):
            t += 1
        whole = (t - start) // period
        if whole >= MIN_PERIODS:
            found.append((start, start + whole * period))
    return found


@settings(max_examples=60, deadline=None)
@given(
    runs=st.lists(st.tuples(st.integers(1, 700), st.integers(0, 2)), min_size=1, max_size=8),
    period=st.sampled_from([1, 7, 24, 100]),
)
def test_stretches_are_the_runs_of_repeated_variances_in_whole_periods(runs, period):
    values = {0: (0.3, 0.7, 2.0), 1: (0.31, 0.69, 2.0), 2: (0.0, 1.0, 0.0)}  # 2: a missing step
    gain = np.concatenate([np.full(length, values[kind][0]) for length, kind in runs])
    keep = np.concatenate([np.full(length, values[kind][1]) for length, kind in runs])
    scale = np.concatenate([np.full(length, values[kind][2]) for length, kind in runs])
    segments = np.empty((len(gain), 2), dtype=np.int64)
    count = steady_segments(scale, gain, keep, period, segments)
    assert [tuple(row) for row in segments[:count]] == reference_stretches(scale, gain, keep, period)


def test_stretches_cover_most_of_a_long_constant_noise_series():
    case = seasonal_case(n=3000, changes=(1000, 2000))
    found = stretches(case, 0.05, 0.3, 0.0)
    assert len(found) == 3  # one per stretch between change points
    assert covered(case, (0.05, 0.3, 0.0)) > 0.85
    # Tension noise: the variances change at every step, nothing is steady.
    noisy = seasonal_case(n=3000, tension=np.random.default_rng(1).uniform(0.5, 2.0, 3000))
    assert covered(noisy, (0.05, 0.3, 0.2)) == 0.0


def test_roundings_that_cycle_around_the_fixed_point_are_held():
    # Parameters whose variances, run as plain float64 recursions, end in a cycle of two or three
    # values rather than a fixed point: the kernel holds them, so the stretches still come.
    n = 1500
    rng = np.random.default_rng(0)
    cycling = []
    for _ in range(3000):
        tau, sigma = np.exp(rng.uniform(-5, 1)), np.exp(rng.uniform(-4, 1))
        q, r, p, seq = tau * tau, (sigma + FLOOR) ** 2, 0.0, []
        for t in range(n):
            P = p + (4.0 if t == 0 else q)
            F = P + r
            p = P * r * (1.0 / F)
            seq.append(p)
        tail = np.array(seq[-24:])
        if not np.array_equal(tail[1:], tail[:-1]) and (
            np.array_equal(tail[2:], tail[:-2]) or np.array_equal(tail[3:], tail[:-3])
        ):
            cycling.append((tau, sigma))
        if len(cycling) == 5:
            break
    assert len(cycling) == 5
    case = seasonal_case(n=n, changes=())
    for tau, sigma in cycling:
        # Without the hold, a cycle never repeats one step's variances: no stretch at all.
        assert covered(case, (tau, sigma, 0.0)) > 0.0
        assert_equals_the_jax_filter(case, (tau, sigma, 0.0), rel=1e-10, atol=1e-9)


# -------------------------------------------------------------- value, gradient and draws


@pytest.mark.parametrize("params", [(0.3, 0.5, 0.0), (0.1, 0.4, 0.0), (1.0, 0.2, 0.0)])
def test_value_and_score_equal_the_dense_normal_through_the_stretches(params):
    case = seasonal_case(n=480)
    assert covered(case, params) > 0.5
    _, _, y_cov = dense_moments(case, *params)
    expected = multivariate_normal(np.zeros(len(case["y"])), y_cov).logpdf(case["y"])
    value, grad = numba_value_and_grad(inputs_of(case), params)
    assert value == pytest.approx(expected, rel=1e-10)
    expected_grad = dense_gradient(case, *params)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-8, atol=1e-8 * np.abs(expected_grad).max())


@pytest.mark.parametrize(
    ("n", "changes", "missing", "harmonics"),
    [
        (4000, (1000, 2500), (), 3),
        (3000, (900,), (5, 1500, 1501, 2999), 3),  # gaps split the stretches
        (2400, (), (), 12),  # every harmonic of a 24-step day, the last a cosine alone
    ],
)
@pytest.mark.parametrize("params", [(0.02, 0.1, 0.0), (0.3, 0.5, 0.0), (0.001, 1.0, 0.0)])
def test_value_and_gradient_equal_the_jax_filter_on_long_seasonal_series(
    n, changes, missing, harmonics, params
):
    case = seasonal_case(n=n, changes=changes, missing=missing, harmonics=harmonics)
    assert_equals_the_jax_filter(case, params, rel=1e-10, atol=1e-9)


def test_stretches_with_constant_tension_and_varying_tension_without_its_scale():
    n = 2000
    # Tension constant over long stretches: with σ_scale > 0 the variances are steady there, and
    # the σ_scale gradient takes the stretch's tension.
    blocks = np.repeat(np.random.default_rng(2).uniform(0.5, 2.0, 4), n // 4)
    stepwise = seasonal_case(n=n, changes=(), tension=blocks)
    assert covered(stepwise, (0.2, 0.3, 0.2)) > 0.5
    # Tension varying at every step with σ_scale = 0: steady, but the σ_scale gradient needs the
    # steps one by one.
    varying = seasonal_case(n=n, changes=(), tension=np.random.default_rng(3).uniform(0.5, 2.0, n))
    assert covered(varying, (0.2, 0.3, 0.0)) > 0.5
    for case, params in ((stepwise, (0.2, 0.3, 0.2)), (varying, (0.2, 0.3, 0.0))):
        assert_equals_the_jax_filter(case, params, rel=1e-10, atol=1e-9)


def test_nearly_collinear_periodic_columns_fall_back_to_the_factor_of_the_innovations():
    # A periodic column that repeats another up to 1e-9: the Gram matrix loses the prior
    # precision that keeps A definite, so the kernel recomputes the periodic columns at every
    # step for the Householder factor, as the JAX filter's QR does.
    case = seasonal_case(n=1200, changes=())
    design = case["design"]
    twin = design[:, 2] + 1e-9 * np.cos(2 * np.pi * np.arange(1200) / 12)
    case["design"] = np.column_stack([design, twin])
    case["prior_scale"] = np.r_[case["prior_scale"], 1.0]
    params = (0.2, 0.3, 0.0)
    assert covered(case, params) > 0.5
    assert_equals_the_jax_filter(case, params, rel=1e-9, atol=1e-8)


def test_draws_through_the_stretches_follow_the_exact_gaussian_posterior():
    case = seasonal_case(n=360, changes=(180,), missing=(100,))
    n, k = case["design"].shape
    tau, sigma = 0.3, 0.4
    assert covered(case, (tau, sigma, 0.0)) > 0.5
    mean, cov = dense_posterior(case, tau, sigma, 0.0)

    draws = 6000
    rng = np.random.default_rng(6)
    ones = np.ones(draws)
    z_beta, z_last = rng.standard_normal((draws, k)), rng.standard_normal(draws)
    common = (*inputs_of(case), tau * ones, sigma * ones, 0.0 * ones, FLOOR, z_beta, z_last)
    beta, last, paths = conditional_draws(*common, rng.standard_normal((draws, n)), True)
    sample = np.column_stack([paths, beta])
    sd = np.sqrt(np.diag(cov))
    assert np.all(np.abs(sample.mean(axis=0) - mean) < 5 * sd / np.sqrt(draws))
    np.testing.assert_allclose(sample.std(axis=0), sd, rtol=0.08)
    np.testing.assert_array_equal(last, paths[:, -1])
    # The same normals give the same β and last level without the paths, bit for bit.
    beta_only, last_only, _ = conditional_draws(*common, np.zeros((0, n)), False)
    np.testing.assert_array_equal(beta_only, beta)
    np.testing.assert_array_equal(last_only, last)


@pytest.mark.parametrize(
    "kind",
    ["constant column (period 1)", "hour-of-day dummy", "alternating (period 2)", "weekly, no other column"],
)
def test_any_exactly_repeating_regressor_takes_the_fast_path_and_equals_the_jax_filter(kind):
    n = 1500
    t = np.arange(n)
    rng = np.random.default_rng(7)
    other = rng.standard_normal(n)
    design = {
        "constant column (period 1)": np.column_stack([np.ones(n), other]),
        "hour-of-day dummy": np.column_stack([(t % 24 == 3).astype(float), other]),
        "alternating (period 2)": np.column_stack([(t % 2).astype(float), other]),
        "weekly, no other column": seasonal_columns(t, ((7, 3),)),
    }[kind]
    y = np.cumsum(0.1 * rng.standard_normal(n)) + rng.standard_normal(n)
    case = {
        "y": y,
        "design": design,
        "prior_scale": np.ones(design.shape[1]),
        "change": np.zeros(n),
        "level0_var": 4.0,
        "step_var": 25.0,
        "tension": np.zeros(n),
    }
    params = (0.1, 0.5, 0.0)
    assert covered(case, params) > 0.8
    assert_equals_the_jax_filter(case, params, rel=1e-10, atol=1e-9)
