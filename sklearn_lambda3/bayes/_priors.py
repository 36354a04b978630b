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

from .._columns import column_kind

# Smallest shrinkage factor searched (a prior 10⁴ times narrower than the stated one).
MIN_SHRINKAGE = 1e-4
_GRID = np.geomspace(MIN_SHRINKAGE, 1.0, 25)
# Smallest noise variance searched, as a share of the mean square of y. Below it the evidence
# of a design that fits exactly (more columns than rows) is rounding: its quadratic term
# subtracts two numbers equal to about 1e-16 of yᵀy and divides by the noise variance.
MIN_NOISE_SHARE = 1e-8


def column_prior_scales(names, n_features, coef_scale, jump_scale, tension_scale):
    """Prior scale of each regressor by the kind its name ends with (jump, tension, other)."""
    if names is None:
        return np.full(n_features, float(coef_scale))
    scales = []
    for name in names:
        kind = column_kind(name)
        scales.append(jump_scale if kind == "jump" else tension_scale if kind == "tension" else coef_scale)
    return np.asarray(scales, dtype=np.float64)


def _spectrum(gram, moment, prior_sd):
    """Eigenvalues ``λ ≥ 0`` of ``V½ G V½`` and the projections ``c = Qᵀ V½ Zᵀy`` on their vectors.

    ``G = ZᵀZ``, ``V = diag(prior_sd²)``. Written with them, the evidence
    (:func:`_spectral_log_evidence`) takes a prior scale near zero, as a regressor constant in
    the training window has, and a noise variance far below the rounding of ``G`` (a design
    with more columns than rows) in its stride.
    """
    scaled = prior_sd[:, None] * gram * prior_sd[None, :]
    eigval, eigvec = np.linalg.eigh(0.5 * (scaled + scaled.T))
    return np.clip(eigval, 0.0, None), eigvec.T @ (prior_sd * moment)


def _spectral_log_evidence(eigval, projection, yy, n, noise_var):
    """``log N(y; 0, σ² I + Z V Zᵀ)``: ``|I + V½GV½/σ²| = Π (1 + λ/σ²)`` and Woodbury's inverse."""
    log_det = np.sum(np.log1p(eigval / noise_var)) + n * math.log(noise_var)
    quadratic = (yy - np.sum(projection**2 / (noise_var + eigval))) / noise_var
    return -0.5 * (n * math.log(2.0 * math.pi) + log_det + quadratic)


def _profile(gram, moment, yy, n, prior_sd):
    """Largest log-evidence over the noise variance for these prior scales, and that variance."""
    # A constant target (yy = 0 once centred) would put the noise variance at 1e-308 and overflow
    # λ/σ²: in standardised units 1e-12 is far below any real noise.
    mean_square = math.log(max(yy / n, 1e-12))
    eigval, projection = _spectrum(gram, moment, prior_sd)
    result = minimize_scalar(
        lambda log_var: -_spectral_log_evidence(eigval, projection, yy, n, math.exp(log_var)),
        bounds=(mean_square + math.log(MIN_NOISE_SHARE), mean_square + 1.0),
        method="bounded",
        options={"xatol": 1e-6},
    )
    return -float(result.fun)


def evidence_shrinkage(Z, y, prior_sd, shrunk, sample_weight=None):
    """The factor ``g`` in [1e-4, 1] applied to ``prior_sd[shrunk]`` that maximises the evidence.

    The noise variance is profiled out (maximised too). ``Z`` and ``y`` are the standardised
    design (intercept column included) and target; ``shrunk`` marks the scales that ``g``
    multiplies (the coefficients, not the intercept). With ``sample_weight`` the evidence is
    that of the data with each row repeated by its weight: it uses ``ZᵀWZ``, ``ZᵀWy``,
    ``yᵀWy`` and ``n = Σ w``.
    """
    n = len(y) if sample_weight is None else float(np.sum(sample_weight))
    if sample_weight is not None:  # rows scaled by √w: ZᵀZ stays exactly symmetric
        root_weight = np.sqrt(sample_weight)
        Z, y = Z * root_weight[:, None], y * root_weight
    gram, moment, yy = Z.T @ Z, Z.T @ y, float(y @ y)

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
