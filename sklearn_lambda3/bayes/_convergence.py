"""The one convergence rule of the Bayesian layer: diagnostics of a fit and their verdict.

:func:`nuts_diagnostics` and :func:`svi_diagnostics` summarise a fit's draws into the
``diagnostics_`` dict of the estimators; :func:`convergence_problems` is the verdict every
caller applies (the estimators' ``ConvergenceWarning``, ``interaction_effects``, the report).
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._diagnostics import e_bfmi, ess_bulk, ess_tail, mcse_mean, split_rhat, tree_depth

# The method's limits (spec §3).
#: Largest rank-normalised split R-hat that passes the convergence checks.
RHAT_LIMIT = 1.01
#: Smallest bulk and tail effective sample size per chain that passes the convergence checks.
ESS_PER_CHAIN_LIMIT = 100
# E-BFMI below which a chain's momentum resampling explores the energy poorly (Betancourt 2016).
E_BFMI_LIMIT = 0.3

# Loss decrease (nats) over the last tenth of the SVI steps below which SVI counts as converged.
SVI_LOSS_TOLERANCE = 0.05
# ... and, for a drop above the noise of its estimate, the largest loss decrease per unit of
# Adam's step size (about the gradient's L1 norm) at which SVI counts as converged.
SVI_LOSS_NOISE = 0.002
SVI_RATE_TOLERANCE = 0.1


def nuts_diagnostics(labels, draws, stats, max_tree_depth):
    """R-hat, ESS, MCSE, divergences, E-BFMI, step sizes and tree depths of a NUTS fit.

    ``draws`` is (chains, draws, parameters) with the parameters named by ``labels``;
    ``stats`` the sampler statistics shaped (chains, draws).
    """
    columns = {"r_hat": split_rhat, "ess_bulk": ess_bulk, "ess_tail": ess_tail, "mcse_mean": mcse_mean}
    draws = np.asarray(draws, dtype=np.float64)
    table = {
        "parameter": list(labels),
        "mean": draws.mean(axis=(0, 1)).tolist(),
        "sd": draws.std(axis=(0, 1)).tolist(),
        **{name: function(draws).tolist() for name, function in columns.items()},
    }
    depth = tree_depth(stats["num_steps"])
    return {
        "inference": "nuts",
        "num_chains": int(draws.shape[0]),
        "r_hat_max": float(np.nanmax(table["r_hat"])) if labels else 1.0,
        "ess_bulk_min": float(np.nanmin(table["ess_bulk"]))
        if labels
        else float(draws.shape[0] * draws.shape[1]),
        "ess_tail_min": float(np.nanmin(table["ess_tail"]))
        if labels
        else float(draws.shape[0] * draws.shape[1]),
        "num_divergences": int(stats["diverging"].sum()),
        "mean_num_steps": float(stats["num_steps"].mean()),
        "e_bfmi": e_bfmi(stats["energy"]),
        "step_size": np.asarray(stats["step_size"], dtype=np.float64)[:, -1],
        "tree_depth_saturation": float(np.mean(depth >= int(max_tree_depth))),
        "max_tree_depth": int(max_tree_depth),
        "table": table,
    }


def svi_diagnostics(labels, draws, loss, loss_check, learning_rate):
    """SVI: the loss at the end and how much it still fell over the last tenth of the steps."""
    before, after = loss_check
    drop = float(before - after)
    steps = len(loss)
    tail = np.arange(steps - max(steps // 10, 1), steps)
    # Adam moves each coordinate by about the step size, so the loss falls by about the
    # gradient's L1 norm per unit of step size: near zero at the optimum, large while the
    # guide still crawls towards it (too small a learning rate shows up here, not in drop).
    rate = drop / float(np.sum(learning_rate * 0.1 ** (tail / steps)))
    return {
        "inference": "svi",
        "num_chains": int(draws.shape[0]),
        "final_loss": float(after),
        "loss_drop_last_tenth": drop,
        "loss_rate_last_tenth": rate,
        "num_steps": steps,
        "table": {
            "parameter": list(labels),
            "mean": [float(v) for v in draws.mean(axis=(0, 1))],
            "sd": [float(v) for v in draws.std(axis=(0, 1))],
        },
    }


def convergence_problems(diagnostics):
    """The diagnostics of a fit beyond the method's limits, in words; empty when it converged."""
    if diagnostics.get("inference") == "svi":
        drop, rate = diagnostics["loss_drop_last_tenth"], diagnostics["loss_rate_last_tenth"]
        if drop > SVI_LOSS_TOLERANCE or (drop > SVI_LOSS_NOISE and rate > SVI_RATE_TOLERANCE):
            return [
                f"the loss (negative ELBO) still fell by {drop:.3g} over the last tenth of the "
                f"{diagnostics['num_steps']} steps"
            ]
        return []
    problems = []
    if diagnostics["r_hat_max"] > RHAT_LIMIT:
        problems.append(f"r_hat_max={diagnostics['r_hat_max']:.3f} > {RHAT_LIMIT}")
    ess_limit = ESS_PER_CHAIN_LIMIT * diagnostics["num_chains"]
    for name in ("ess_bulk_min", "ess_tail_min"):
        if diagnostics[name] < ess_limit:
            problems.append(f"{name}={diagnostics[name]:.0f} < {ess_limit} ({ESS_PER_CHAIN_LIMIT} per chain)")
    if diagnostics["num_divergences"]:
        problems.append(f"num_divergences={diagnostics['num_divergences']}")
    low = np.flatnonzero(diagnostics["e_bfmi"] < E_BFMI_LIMIT)
    if low.size:
        values = ", ".join(f"{diagnostics['e_bfmi'][c]:.2f} (chain {c})" for c in low)
        problems.append(f"e_bfmi={values} < {E_BFMI_LIMIT}")
    return problems


def warn_if_unconverged(diagnostics, stacklevel=7):
    """The estimators' ConvergenceWarning (and a UserWarning for saturated NUTS trees)."""
    problems = convergence_problems(diagnostics)
    if problems and diagnostics.get("inference") == "svi":
        warnings.warn(
            f"SVI did not converge: {problems[0]}. Increase svi_steps or svi_learning_rate (see loss_).",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )
    elif problems:
        warnings.warn(
            "NUTS did not converge: " + "; ".join(problems) + ". Increase num_warmup/num_samples, "
            "raise target_accept_prob, or check the regressors (see diagnostics_['table']).",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )
    saturation = diagnostics.get("tree_depth_saturation", 0.0)
    if saturation > 0:
        warnings.warn(
            f"{saturation:.1%} of the NUTS draws hit max_tree_depth={diagnostics['max_tree_depth']}: the "
            "trajectories were cut short, which costs efficiency (the draws stay valid). Raise "
            "max_tree_depth, or rescale the regressors.",
            UserWarning,
            stacklevel=stacklevel,
        )
