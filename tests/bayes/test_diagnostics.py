"""Split R-hat, bulk and tail ESS, MCSE and E-BFMI against ArviZ and against known truth."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sklearn_lambda3 import _arviz
from sklearn_lambda3.bayes._diagnostics import (
    e_bfmi,
    ess_bulk,
    ess_mean,
    ess_tail,
    mcse_mean,
    split_rhat,
    tree_depth,
)


def ar1_chains(n_chains, n_draws, phi, seed, shift=0.0):
    rng = np.random.default_rng(seed)
    x = np.empty((n_chains, n_draws))
    x[:, 0] = rng.standard_normal(n_chains)
    for t in range(1, n_draws):
        x[:, t] = phi * x[:, t - 1] + np.sqrt(1 - phi**2) * rng.standard_normal(n_chains)
    return x + shift * np.arange(n_chains)[:, None]


@settings(max_examples=25, deadline=None)
@given(
    chains=st.integers(2, 4),
    draws=st.integers(100, 400),
    phi=st.floats(0.0, 0.95),
    seed=st.integers(0, 10**6),
)
def test_matches_arviz(chains, draws, phi, seed):
    az = pytest.importorskip("arviz")
    x = ar1_chains(chains, draws, phi, seed)
    assert split_rhat(x) == pytest.approx(float(az.rhat(x, method="rank")), rel=1e-9)
    assert ess_bulk(x) == pytest.approx(float(az.ess(x, method="bulk")), rel=1e-9)


def test_known_truth():
    independent = ar1_chains(4, 1000, 0.0, 0)
    assert split_rhat(independent) < 1.01
    assert ess_bulk(independent) == pytest.approx(4000, rel=0.1)
    # AR(1) with phi: ESS = N (1 - phi) / (1 + phi).
    sticky = ar1_chains(4, 5000, 0.8, 1)
    assert ess_bulk(sticky) == pytest.approx(20000 / 9, rel=0.15)
    stuck = ar1_chains(4, 1000, 0.0, 2, shift=3.0)
    assert split_rhat(stuck) > 1.5


def arviz_scalar(az, function, draws, **kwargs):
    """ArviZ's diagnostic of one scalar's (chains, draws) array, under ArviZ 0.x or 1.x."""
    if _arviz.generation(az) == 0:
        return float(function(az.convert_to_dataset(draws), **kwargs)["x"])
    return float(function(draws, **kwargs))


@settings(max_examples=15, deadline=None)
@given(
    chains=st.integers(1, 4),
    draws=st.integers(50, 400),
    phi=st.floats(0.0, 0.95),
    seed=st.integers(0, 10**6),
)
def test_tail_ess_and_mcse_match_arviz(chains, draws, phi, seed):
    az = pytest.importorskip("arviz")
    # When 0.05 (N - 1) is a whole number the type-7 quantile is exactly a draw, and ArviZ's
    # computation of it may round just below that draw, leaving it out of the indicator.
    assume((chains * draws - 1) % 20 != 0)
    x = ar1_chains(chains, draws, phi, seed) ** 3  # skewed, heavy tails
    tail = arviz_scalar(az, az.ess, x, method="tail", prob=(0.05, 0.95))
    assert ess_tail(x) == pytest.approx(tail, rel=1e-9)
    assert ess_mean(x) == pytest.approx(arviz_scalar(az, az.ess, x, method="mean"), rel=1e-9)
    assert mcse_mean(x) == pytest.approx(arviz_scalar(az, az.mcse, x, method="mean"), rel=1e-9)


def test_tail_ess_and_mcse_known_truth():
    independent = ar1_chains(4, 1000, 0.0, 3)
    assert ess_tail(independent) == pytest.approx(4000, rel=0.15)
    assert mcse_mean(independent) == pytest.approx(1 / np.sqrt(4000), rel=0.1)
    # A chain stuck in its lower tail for long stretches: the tails mix far worse than the bulk.
    sticky = ar1_chains(4, 2000, 0.95, 4)
    assert ess_tail(sticky) < 0.2 * 8000
    assert mcse_mean(sticky) == pytest.approx(np.sqrt(1 / (8000 * 0.05 / 1.95)), rel=0.3)
    constant = np.ones((2, 50))
    assert ess_tail(constant) == 100 and mcse_mean(constant) == 0.0
    assert np.isnan(ess_tail(np.zeros((2, 3)))) and np.isnan(mcse_mean(np.zeros((2, 3))))


def test_e_bfmi_of_constructed_energies():
    rng = np.random.default_rng(5)
    # Independent energies: E[(E_t - E_{t-1})^2] = 2 var, so E-BFMI is about 2.
    assert e_bfmi(rng.standard_normal((2, 20000))) == pytest.approx([2, 2], rel=0.05)
    # A random walk of energies (momentum resampling barely moves the energy): E-BFMI near 0.
    walk = np.cumsum(rng.standard_normal((1, 2000)), axis=1)
    assert e_bfmi(walk)[0] < 0.05
    # By hand: diffs 1, 1, -1 (sum of squares 3); deviations -1, 0, 1, 0 (sum of squares 2).
    np.testing.assert_allclose(e_bfmi([[0.0, 1.0, 2.0, 1.0]]), [3 / 2])
    assert np.isnan(e_bfmi([[3.0, 3.0, 3.0]]))[0]


def test_e_bfmi_matches_arviz():
    az = pytest.importorskip("arviz")
    rng = np.random.default_rng(6)
    energy = ar1_chains(3, 300, 0.9, 7) + rng.standard_normal((3, 300))
    np.testing.assert_allclose(e_bfmi(energy), np.asarray(az.bfmi(energy)), rtol=1e-9)


def test_tree_depth_as_arviz_from_numpyro():
    # A full tree of depth d takes 2**d - 1 leapfrog steps.
    np.testing.assert_array_equal(tree_depth([1, 3, 7, 8, 1023]), [1, 2, 3, 4, 10])


@settings(max_examples=30, deadline=None)
@given(
    chains=st.integers(1, 4),
    draws=st.integers(2, 80),
    phi=st.floats(-0.5, 0.95),
    seed=st.integers(0, 10**6),
)
def test_many_parameters_at_once_equal_one_at_a_time(chains, draws, phi, seed):
    from sklearn_lambda3.bayes import _diagnostics

    # Parameters of every kind side by side: autocorrelated, constant, few distinct values
    # (ties), and more of them than one block holds.
    rng = np.random.default_rng(seed)
    count = _diagnostics._BLOCK + 5
    batch = np.stack([ar1_chains(chains, draws, phi, seed + j) for j in range(count)], axis=2)
    batch[:, :, 3] = 2.5
    batch[:, :, 7] = np.round(batch[:, :, 7])
    batch[:, :, -1] = rng.integers(0, 2, size=(chains, draws))
    for function in (split_rhat, ess_bulk, ess_tail, ess_mean, mcse_mean):
        together = function(batch)
        alone = np.array([function(batch[:, :, j]) for j in range(count)])
        assert together.shape == (count,) and isinstance(function(batch[:, :, 0]), float)
        np.testing.assert_allclose(together, alone, rtol=1e-12, atol=0, equal_nan=True)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(1, 60),
    columns=st.integers(1, 4),
    levels=st.integers(1, 30),
    seed=st.integers(0, 10**6),
)
def test_average_ranks_equal_scipys(rows, columns, levels, seed):
    from scipy.stats import rankdata

    from sklearn_lambda3.bayes._diagnostics import _average_ranks

    values = np.random.default_rng(seed).integers(0, levels, size=(rows, columns)).astype(np.float64)
    np.testing.assert_array_equal(_average_ranks(values), rankdata(values, method="average", axis=0))
    values[0, 0] = np.nan  # NaN is left to scipy's rule
    np.testing.assert_array_equal(_average_ranks(values), rankdata(values, method="average", axis=0))
