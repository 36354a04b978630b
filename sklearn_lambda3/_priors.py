"""Prior scales of the Bayesian models: by column kind, in units of the target, and their shrinkage.

Every coefficient's prior is stated in standard deviations of ``y`` (training) per raw unit of
its regressor: a jump indicator's effect is ``jump_prior_scale`` standard deviations of ``y``
per jump, a ρT feature's ``tension_prior_scale`` per unit of ρT (that is, per unit of its
source series). The prior therefore does not depend on how much a regressor happened to vary in
the training window: a feature nearly constant there keeps a bounded effect when it varies
later. The samplers work in standardised coordinates (each regressor divided by its training
spread), where the same prior has scale ``scale · spread``.

With ``prior_shrinkage="evidence"`` the linear model multiplies every coefficient's scale by
one factor ``g`` in (0, 1] that maximises the marginal likelihood of the data (type-II maximum
likelihood, the way :class:`sklearn.linear_model.BayesianRidge` chooses its weight precision),
so that many weak regressors do not overfit a short series.
"""

import math

import numpy as np
from scipy.optimize import minimize_scalar

JUMP_SUFFIXES = ("__delta_LambdaC_pos", "__delta_LambdaC_neg", "__local_jump")
TENSION_SUFFIX = "__rho_T"

# Smallest shrinkage factor searched (a prior 10⁴ times narrower than the stated one).
MIN_SHRINKAGE = 1e-4
_GRID = np.geomspace(MIN_SHRINKAGE, 1.0, 25)


def column_prior_scales(names, n_features, coef_scale, jump_scale, tension_scale):
    """Prior scale of each regressor by the kind its name ends with (jump, tension, other)."""
    if names is None:
        return np.full(n_features, float(coef_scale))
    scales = []
    for name in names:
        if name.endswith(JUMP_SUFFIXES):
            scales.append(jump_scale)
        elif name.endswith(TENSION_SUFFIX):
            scales.append(tension_scale)
        else:
            scales.append(coef_scale)
    return np.asarray(scales, dtype=np.float64)


def log_evidence(gram, moment, yy, n, prior_sd, noise_var):
    """``log N(y; 0, σ² I + Z V Zᵀ)`` from ``ZᵀZ``, ``Zᵀy``, ``yᵀy`` and ``n``, ``V = diag(prior_sd²)``.

    Written with ``I + V½ G V½ / σ²`` (eigenvalues ≥ 1), so a prior scale near zero, as a
    regressor constant in the training window has, is harmless.
    """
    scaled = prior_sd[:, None] * gram * prior_sd[None, :] / noise_var
    cholesky = np.linalg.cholesky(np.eye(len(prior_sd)) + scaled)
    projected = np.linalg.solve(cholesky, prior_sd * moment) / noise_var
    log_det = 2.0 * np.sum(np.log(np.diag(cholesky))) + n * math.log(noise_var)
    quadratic = yy / noise_var - projected @ projected
    return -0.5 * (n * math.log(2.0 * math.pi) + log_det + quadratic)


def _profile(gram, moment, yy, n, prior_sd):
    """Largest log-evidence over the noise variance for these prior scales, and that variance."""
    upper = math.log(max(yy / n, 1e-300)) + 1.0
    result = minimize_scalar(
        lambda log_var: -log_evidence(gram, moment, yy, n, prior_sd, math.exp(log_var)),
        bounds=(upper - 40.0, upper),
        method="bounded",
        options={"xatol": 1e-6},
    )
    return -float(result.fun)


def evidence_shrinkage(Z, y, prior_sd, shrunk):
    """The factor ``g`` in [1e-4, 1] applied to ``prior_sd[shrunk]`` that maximises the evidence.

    The noise variance is profiled out (maximised too). ``Z`` and ``y`` are the standardised
    design (intercept column included) and target; ``shrunk`` marks the scales that ``g``
    multiplies (the coefficients, not the intercept).
    """
    gram, moment, yy, n = Z.T @ Z, Z.T @ y, float(y @ y), len(y)

    def objective(log_g):
        sd = np.where(shrunk, prior_sd * math.exp(log_g), prior_sd)
        return -_profile(gram, moment, yy, n, sd)

    values = [objective(math.log(g)) for g in _GRID]
    best = int(np.argmin(values))
    low = math.log(_GRID[max(best - 1, 0)])
    high = math.log(_GRID[min(best + 1, len(_GRID) - 1)])
    refined = minimize_scalar(objective, bounds=(low, high), method="bounded", options={"xatol": 1e-3})
    log_g = refined.x if refined.fun <= values[best] else math.log(_GRID[best])
    return float(min(math.exp(log_g), 1.0))
