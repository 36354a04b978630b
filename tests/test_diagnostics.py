"""Rank-normalised split R-hat and bulk ESS against ArviZ and against known truth."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_lambda3._diagnostics import ess_bulk, split_rhat


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
    assert ess_bulk(x) == pytest.approx(float(az.ess(x, method="bulk")), rel=0.1)


def test_known_truth():
    independent = ar1_chains(4, 1000, 0.0, 0)
    assert split_rhat(independent) < 1.01
    assert ess_bulk(independent) == pytest.approx(4000, rel=0.1)
    # AR(1) with phi: ESS = N (1 - phi) / (1 + phi).
    sticky = ar1_chains(4, 5000, 0.8, 1)
    assert ess_bulk(sticky) == pytest.approx(20000 / 9, rel=0.15)
    stuck = ar1_chains(4, 1000, 0.0, 2, shift=3.0)
    assert split_rhat(stuck) > 1.5
