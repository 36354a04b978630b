"""ArviZ 0.x and 1.x behind one small interface.

ArviZ 1.0 split the library into ``arviz-base`` and ``arviz-stats``: ``from_dict`` takes one
dict of groups and returns an :class:`xarray.DataTree` instead of an ``InferenceData``,
``loo`` lost its ``scale`` argument, ``waic`` is gone, ``ess`` of an array no longer needs a
Dataset, and ``compare`` has other columns, another sign of ``elpd_diff`` and no ``ic`` or
``scale``. The functions here take the imported ``arviz`` module and call whichever API it
has; :func:`compare` returns the ArviZ 0.x table on both generations.
"""

import re
import warnings
from dataclasses import dataclass, field

import numpy as np

SCALE_FACTOR = {"log": 1.0, "negative_log": -1.0, "deviance": -2.0}
"""Factor from the log-score elpd to each scale of ArviZ 0.x."""

WAIC_VARIANCE_LIMIT = 0.4
"""Posterior variance of a log predictive density above which WAIC may fail (ArviZ 0.x)."""

COMPARE_COLUMNS = ("rank", "elpd_{ic}", "p_{ic}", "elpd_diff", "weight", "se", "dse", "warning", "scale")
"""Columns of :func:`compare`'s table, those of ``arviz.compare`` in ArviZ 0.x."""


def import_arviz(caller):
    """Import ArviZ, or say how to install it.

    Parameters
    ----------
    caller : str
        Name of the function that needs ArviZ, for the error message.

    Returns
    -------
    arviz : module
        The imported ``arviz`` package.

    Raises
    ------
    ImportError
        If ArviZ is not installed.
    """
    try:
        import arviz
    except ImportError as error:
        raise ImportError(f"{caller} needs ArviZ: pip install 'sklearn-lambda3[arviz]'") from error
    return arviz


def generation(arviz):
    """ArviZ's API generation: 0 (``InferenceData``) or 1 (``DataTree``, 1.0 and later).

    Parameters
    ----------
    arviz : module
        The imported ``arviz`` package (anything with a ``__version__`` string).

    Returns
    -------
    generation : int
        0 for versions below 1.0, else 1.
    """
    match = re.match(r"\s*(\d+)", str(arviz.__version__))
    if match is None:
        raise ValueError(f"cannot read ArviZ's version {arviz.__version__!r}.")
    return 0 if int(match.group(1)) == 0 else 1


def from_groups(arviz, groups, *, coords=None, dims=None):
    """Build ArviZ's container of inference results from a dict of groups.

    Parameters
    ----------
    arviz : module
        The imported ``arviz`` package.
    groups : dict of str to (dict of str to array-like, or None)
        Group name (``posterior``, ``sample_stats``, ``log_likelihood``, ``observed_data``, …)
        to its variables; sampled groups have the chain and draw axes first. Empty or None
        groups are left out.
    coords : dict of str to array-like, optional
        Coordinate values of named dimensions.
    dims : dict of str to list of str, optional
        Names of each variable's dimensions after chain and draw.

    Returns
    -------
    data : arviz.InferenceData or xarray.DataTree
        An ``InferenceData`` under ArviZ 0.x, a ``DataTree`` under ArviZ 1.x; both give a
        group by attribute (``data.posterior``).
    """
    groups = {name: dict(values) for name, values in groups.items() if values}
    if generation(arviz) == 0:
        return arviz.from_dict(**groups, coords=coords, dims=dims)
    return arviz.from_dict(groups, coords=coords, dims=dims)


def ess_mean(arviz, values):
    """Effective sample size of the mean of each component of sampled values.

    Parameters
    ----------
    arviz : module
        The imported ``arviz`` package.
    values : ndarray of shape (n_chains, n_draws, ...)
        Draws, chain by chain.

    Returns
    -------
    ess : ndarray of shape values.shape[2:]
        ArviZ's ``ess(..., method="mean")`` of each component.
    """
    values = np.asarray(values, dtype=np.float64)
    if generation(arviz) == 0:
        return np.asarray(arviz.ess(arviz.convert_to_dataset(values), method="mean")["x"])
    return np.asarray(arviz.ess(values, method="mean"))


@dataclass(frozen=True, eq=False)
class Elpd:
    """Expected log pointwise predictive density of one model, on one scale.

    Attributes
    ----------
    kind : {"loo", "waic"}
        The estimator.
    elpd : float
        Sum of :attr:`elpd_i`.
    se : float
        Its standard error, ``sqrt(n var(elpd_i))``.
    p : float
        Effective number of parameters (the same on every scale).
    elpd_i : ndarray of shape (n_observations,)
        Pointwise values, on :attr:`scale`.
    warning : bool
        True when the estimate may be unreliable (a Pareto k above ArviZ's threshold for
        LOO, a pointwise log-density variance above 0.4 for WAIC).
    scale : {"log", "negative_log", "deviance"}
        The log score times 1, -1 or -2.
    source : object or None
        ArviZ's own result, when ArviZ computed it.
    """

    kind: str
    elpd: float
    se: float
    p: float
    elpd_i: np.ndarray = field(repr=False)
    warning: bool
    scale: str
    source: object = field(default=None, repr=False)


def loo(arviz, log_lik, *, reff, scale="log"):
    """PSIS-LOO of a pointwise log-likelihood, by the installed ArviZ.

    Parameters
    ----------
    arviz : module
        The imported ``arviz`` package.
    log_lik : ndarray of shape (n_chains, n_draws, n_observations)
        Log-likelihood of each observation under each draw.
    reff : float
        Relative efficiency of the draws, for the Pareto smoothing.
    scale : {"log", "negative_log", "deviance"}, default="log"
        Scale of the result (ArviZ 1.x computes on the log scale; it is converted here).

    Returns
    -------
    elpd : Elpd
        The estimate, ``source`` holding ArviZ's result.
    """
    data = from_groups(arviz, {"log_likelihood": {"y": log_lik}})
    if generation(arviz) == 0:
        return _elpd_of_0x("loo", arviz.loo(data, pointwise=True, reff=reff, scale=scale), scale)
    result = arviz.loo(data, pointwise=True, reff=reff)
    factor = SCALE_FACTOR[scale]
    return Elpd(
        "loo",
        factor * float(result.elpd),
        abs(factor) * float(result.se),
        float(result.p),
        factor * np.asarray(result.elpd_i).reshape(-1),
        bool(result.warning),
        scale,
        result,
    )


def waic(arviz, log_lik, *, scale="log"):
    """WAIC of a pointwise log-likelihood: ArviZ's under 0.x, :func:`waic_numpy` under 1.x.

    Parameters
    ----------
    arviz : module
        The imported ``arviz`` package.
    log_lik : ndarray of shape (n_chains, n_draws, n_observations)
        Log-likelihood of each observation under each draw.
    scale : {"log", "negative_log", "deviance"}, default="log"
        Scale of the result.

    Returns
    -------
    elpd : Elpd
        The estimate.
    """
    if generation(arviz) == 1:  # ArviZ 1.x has no WAIC
        return waic_numpy(log_lik, scale=scale)
    result = arviz.waic(from_groups(arviz, {"log_likelihood": {"y": log_lik}}), pointwise=True, scale=scale)
    return _elpd_of_0x("waic", result, scale)


def _elpd_of_0x(kind, result, scale):
    """An :class:`Elpd` from ArviZ 0.x's ``ELPDData`` of ``kind`` ("loo" or "waic")."""
    return Elpd(
        kind,
        float(result[f"elpd_{kind}"]),
        float(result["se"]),
        float(result[f"p_{kind}"]),
        np.asarray(result[f"{kind}_i"]).reshape(-1),
        bool(result["warning"]),
        scale,
        result,
    )


def waic_numpy(log_lik, *, scale="log"):
    """WAIC computed as ArviZ 0.x computes it.

    With ``S`` draws ``ℓ_si`` of observation ``i``'s log-likelihood, the pointwise log
    predictive density is ``lppd_i = log(mean_s exp ℓ_si)`` and its penalty the variance
    (``ddof=0``) over draws ``v_i``; ``elpd_waic = Σ (lppd_i - v_i)``, ``p_waic = Σ v_i`` and
    the standard error ``sqrt(n var(lppd_i - v_i))``. Each value is then multiplied by the
    scale's factor (1, -1 or -2; the standard error by its absolute value). Warns, as ArviZ
    does, when some ``v_i`` exceeds 0.4.

    Parameters
    ----------
    log_lik : ndarray of shape (n_chains, n_draws, n_observations)
        Log-likelihood of each observation under each draw.
    scale : {"log", "negative_log", "deviance"}, default="log"
        Scale of the result.

    Returns
    -------
    elpd : Elpd
        The estimate, ``source`` None.
    """
    from scipy.special import logsumexp

    log_lik = np.asarray(log_lik, dtype=np.float64)
    draws = log_lik.reshape(-1, log_lik.shape[-1])
    lppd_i = logsumexp(draws, axis=0) - np.log(draws.shape[0])
    variance = draws.var(axis=0)
    warning = bool(np.any(variance > WAIC_VARIANCE_LIMIT))
    if warning:
        warnings.warn(
            "For one or more samples the posterior variance of the log predictive densities "
            f"exceeds {WAIC_VARIANCE_LIMIT}. This could be indication of WAIC starting to fail. "
            "See http://arxiv.org/abs/1507.04544 for details",
            UserWarning,
            stacklevel=2,
        )
    factor = SCALE_FACTOR[scale]
    waic_i = factor * (lppd_i - variance)
    se = float(np.sqrt(waic_i.size * np.var(waic_i)))
    return Elpd("waic", float(waic_i.sum()), se, float(variance.sum()), waic_i, warning, scale)


def compare(arviz, elpds, *, ic, scale="log"):
    """Rank models by their elpd: ``arviz.compare`` under 0.x, :func:`comparison_table` else.

    Parameters
    ----------
    arviz : module
        The imported ``arviz`` package.
    elpds : dict of str to Elpd
        Each model's estimate, all of kind ``ic`` on ``scale``.
    ic : {"loo", "waic"}
        The estimator.
    scale : {"log", "negative_log", "deviance"}, default="log"
        Scale of the estimates.

    Returns
    -------
    table : pandas.DataFrame
        As :func:`comparison_table` describes it.
    """
    if generation(arviz) == 0 and all(elpd.source is not None for elpd in elpds.values()):
        with warnings.catch_warnings():
            # ArviZ's own use of a pandas option deprecated in pandas 3 (sort_values(inplace=True)).
            warnings.filterwarnings("ignore", message="The inplace keyword", module="arviz")
            return arviz.compare({name: elpd.source for name, elpd in elpds.items()}, ic=ic, scale=scale)
    return comparison_table(elpds, ic=ic, scale=scale)


def comparison_table(elpds, *, ic, scale="log"):
    """The model comparison table of ArviZ 0.x ``compare`` (stacking weights), from elpds.

    Models are sorted best first (highest elpd on the log scale, lowest on the other two).
    ``elpd_diff`` is each model's pointwise difference to the best, summed and signed so
    that it is at least 0; ``dse`` is ``sqrt(n var)`` of that pointwise difference. The
    stacking weights maximise ``Σ_i log Σ_m w_m exp(lpd_mi)`` over the simplex, ``lpd_mi``
    the pointwise log-scale elpd, solved by SLSQP from equal weights as ArviZ 0.x does.

    Parameters
    ----------
    elpds : dict of str to Elpd
        Each model's estimate, all of kind ``ic`` on ``scale`` and of the same observations.
    ic : {"loo", "waic"}
        The estimator; names the columns ``elpd_{ic}`` and ``p_{ic}``.
    scale : {"log", "negative_log", "deviance"}, default="log"
        Scale of the estimates.

    Returns
    -------
    table : pandas.DataFrame
        Indexed by model name, columns ``rank`` (0 for the best), ``elpd_{ic}``, ``p_{ic}``,
        ``elpd_diff``, ``weight``, ``se``, ``dse``, ``warning`` and ``scale``.

    Raises
    ------
    ValueError
        If the models have different numbers of observations.
    """
    import pandas as pd

    factor = SCALE_FACTOR[scale]
    names = sorted(elpds, key=lambda name: elpds[name].elpd, reverse=factor > 0)
    sizes = {elpds[name].elpd_i.size for name in names}
    if len(sizes) != 1:
        raise ValueError("The number of observations should be the same across all models")
    pointwise = np.column_stack([elpds[name].elpd_i for name in names])
    weights = stacking_weights(pointwise / factor)
    best = pointwise[:, 0]
    rows = []
    for rank, name in enumerate(names):
        elpd = elpds[name]
        diff = (pointwise[:, rank] - best) * np.sign(-factor)
        rows.append(
            {
                "rank": rank,
                f"elpd_{ic}": elpd.elpd,
                f"p_{ic}": elpd.p,
                "elpd_diff": float(diff.sum()),
                "weight": float(weights[rank]),
                "se": elpd.se,
                "dse": float(np.sqrt(diff.size * np.var(diff))),
                "warning": bool(elpd.warning),
                "scale": scale,
            }
        )
    columns = [column.format(ic=ic) for column in COMPARE_COLUMNS]
    return pd.DataFrame(rows, index=names, columns=columns)


def stacking_weights(log_density):
    """Stacking weights of models from their pointwise log predictive densities.

    Parameters
    ----------
    log_density : ndarray of shape (n_observations, n_models)
        Pointwise log-scale elpd of each model.

    Returns
    -------
    weights : ndarray of shape (n_models,)
        Non-negative, summing to one, maximising ``Σ_i log Σ_m w_m exp(log_density[i, m])``.
    """
    from scipy.optimize import Bounds, LinearConstraint, minimize

    log_density = np.asarray(log_density, dtype=np.float64)
    # Each row's maximum only adds a constant to the objective: subtracting it keeps exp finite.
    density = np.exp(log_density - log_density.max(axis=1, keepdims=True))
    models = density.shape[1]

    def score(weights):
        return -np.sum(np.log(density @ weights))

    def gradient(weights):
        return -np.sum(density / (density @ weights)[:, None], axis=0)

    result = minimize(
        score,
        np.full(models, 1.0 / models),
        jac=gradient,
        bounds=Bounds(np.zeros(models), np.ones(models)),
        constraints=LinearConstraint(np.ones(models), 1.0, 1.0),
    )
    return result.x
