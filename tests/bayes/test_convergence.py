"""The convergence rule and the NUTS diagnostics in diagnostics_: R-hat, ESS, MCSE, E-BFMI,
saturated trees and the ConvergenceWarning that names the failing diagnostic."""

import warnings

import numpy as np
import pytest
from _bayes_helpers import FAST, linear_data
from sklearn.exceptions import ConvergenceWarning

from sklearn_lambda3 import Lambda3BayesRegressor


def test_convergence_warning_names_the_failing_diagnostic():
    X, y, _ = linear_data(n=50, k=2, seed=9)
    with pytest.warns(ConvergenceWarning, match="ess_bulk_min"):
        reg = Lambda3BayesRegressor(
            num_warmup=0, num_samples=10, num_chains=2, progress_bar=False, random_state=0
        ).fit(X, y)
    assert reg.diagnostics_["ess_bulk_min"] < 200


def test_converged_fit_reports_clean_diagnostics():
    X, y, _ = linear_data(n=300, k=3, seed=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = Lambda3BayesRegressor(
            num_warmup=500, num_samples=500, num_chains=4, progress_bar=False, random_state=0
        ).fit(X, y)
    d = reg.diagnostics_
    assert d["r_hat_max"] <= 1.01 and d["ess_bulk_min"] >= 400 and d["num_divergences"] == 0
    assert len(d["table"]["parameter"]) == len(d["table"]["r_hat"]) == 3 + 1 + 1
    assert d["ess_tail_min"] >= 400 and np.all(d["e_bfmi"] > 0.3) and d["tree_depth_saturation"] == 0
    assert len(d["table"]["ess_tail"]) == len(d["table"]["mcse_mean"]) == 3 + 1 + 1


def test_nuts_diagnostics_as_stan_and_arviz_report_them():
    from sklearn_lambda3.bayes._diagnostics import e_bfmi, ess_tail, mcse_mean

    X, y, _ = linear_data(n=200, k=2, seed=11)
    reg = Lambda3BayesRegressor(**FAST, random_state=0).fit(X, y)
    d, stats = reg.diagnostics_, reg._sample_stats
    np.testing.assert_array_equal(d["e_bfmi"], e_bfmi(stats["energy"]))
    assert d["e_bfmi"].shape == d["step_size"].shape == (2,)
    # The adapted step size is fixed after warm-up: every sampling draw of a chain has it.
    np.testing.assert_array_equal(d["step_size"], stats["step_size"][:, 0])
    assert np.all(d["step_size"] > 0)
    _, draws = reg.parameter_draws(group_by_chain=True)
    # The same computation on the same draws, equal up to the order of its sums (seen: 4e-16 apart).
    assert d["table"]["ess_tail"][0] == pytest.approx(ess_tail(draws[:, :, 0]), rel=1e-12)
    assert d["table"]["mcse_mean"][0] == pytest.approx(mcse_mean(draws[:, :, 0]), rel=1e-12)
    assert d["ess_tail_min"] == min(d["table"]["ess_tail"])
    # MCSE of the coefficient's mean: its posterior sd over sqrt(ESS) with ESS near the draws.
    assert d["table"]["mcse_mean"][0] == pytest.approx(d["table"]["sd"][0] / np.sqrt(600), rel=0.5)


def test_low_e_bfmi_warns_and_names_the_chain():
    X, y, _ = linear_data(n=200, k=2, seed=12)
    reg = Lambda3BayesRegressor(**FAST, random_state=0).fit(X, y)
    # A random walk of energies in chain 1: the momentum resampling barely moves the energy.
    energy = reg._sample_stats["energy"].copy()
    energy[1] = np.cumsum(np.random.default_rng(0).standard_normal(energy.shape[1]))
    reg._sample_stats = {**reg._sample_stats, "energy": energy}
    with pytest.warns(ConvergenceWarning, match=r"e_bfmi=0\.\d\d \(chain 1\) < 0\.3"):
        d = reg._diagnose()
    assert d["e_bfmi"][1] < 0.3 < d["e_bfmi"][0]


def test_saturated_trees_warn():
    X, y, _ = linear_data(n=200, k=2, seed=13)
    with pytest.warns(UserWarning, match="hit max_tree_depth=1"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = Lambda3BayesRegressor(max_tree_depth=1, **FAST, random_state=0).fit(X, y)
    assert reg.diagnostics_["tree_depth_saturation"] == 1.0
    quiet = Lambda3BayesRegressor(**FAST, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)  # a UserWarning too, not the one tested
        assert quiet.fit(X, y).diagnostics_["tree_depth_saturation"] == 0.0
