"""Model comparison by PSIS-LOO or WAIC, and posterior predictive checks (spec §3)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from . import _arviz

STATISTICS = {
    "mean": np.nanmean,
    "std": np.nanstd,
    "min": np.nanmin,
    "max": np.nanmax,
    "median": np.nanmedian,
}

_SCALES = ("log", "negative_log", "deviance")


def compare(models, X, y, *, ic="loo", scale="log"):
    """Rank fitted models by their expected log predictive density (PSIS-LOO or WAIC).

    Each model's pointwise log-likelihood of ``(X, y)`` under its posterior draws is
    passed to ArviZ and the models are ranked as :func:`arviz.compare` of ArviZ 0.x ranks
    them (stacking weights). Needs the ``[arviz]`` extra; works with ArviZ 0.x and 1.x and
    returns the same table with both. ArviZ 1.x has no WAIC and no ``scale`` in its
    ``loo`` and ``compare``: there WAIC is computed here from the pointwise log-likelihood
    exactly as ArviZ 0.x computes it, LOO by ArviZ on the log scale and converted to
    ``scale``, and the table built here as ArviZ 0.x builds it.

    For PSIS-LOO the relative efficiency ``r_eff`` of the draws (which sets how hard the
    importance ratios are smoothed) is the mean, over observations, of the effective
    sample size of each observation's likelihood ``exp(log_lik)`` divided by the number
    of draws, as the R package ``loo`` computes it (ArviZ would take it from the
    posterior group, which is not needed here).

    Parameters
    ----------
    models : dict of str to estimator, or list of estimators
        Fitted models exposing ``pointwise_log_likelihood(X, y)`` (for example
        :class:`Lambda3BayesRegressor`), which must leave the NaN entries of ``y`` out. A list
        or tuple is named ``model0``, ``model1``, ….
    X : array-like of shape (n_samples, n_features), or dict of str to array-like
        Regressors; a dict gives each model (same keys as ``models``) its own regressors,
        so that models using different columns can be compared on the same ``y``.
    y : array-like of shape (n_samples,) or (n_samples, n_series)
        Target shared by all models. NaN marks an entry that is not observed (a step of
        :class:`Lambda3DynamicRegressor`, an entry of a series of
        :class:`Lambda3HierarchicalRegressor`): the models' log-likelihoods, and so the
        criterion, then cover the observed entries only, the same for every model.
    ic : {"loo", "waic"}, default="loo"
        PSIS-LOO cross-validation or the widely applicable information criterion.
    scale : {"log", "negative_log", "deviance"}, default="log"
        Scale of the reported criterion; on the log scale higher is better, on the other
        two lower is better.

    Returns
    -------
    comparison : pandas.DataFrame
        One row per model, best first, as :func:`arviz.compare` of ArviZ 0.x returns it: ``rank``,
        ``elpd_loo`` or ``elpd_waic``, ``p_loo`` or ``p_waic`` (effective number of
        parameters), ``elpd_diff`` (to the best model), ``weight`` (stacking), ``se``,
        ``dse`` (standard error of the difference), ``warning`` (True when the estimate may
        be unreliable: Pareto k too high, or WAIC's variance check) and ``scale``.

    Raises
    ------
    ImportError
        If ArviZ is not installed.
    ValueError
        For an unknown ``ic`` or ``scale``, no models, an unfitted model
        (:class:`~sklearn.exceptions.NotFittedError`), a model fitted on a different number
        of features than ``X`` has, ``X`` and ``y`` of different lengths, ``y`` without
        observed entries, or a model whose pointwise log-likelihood does not have one value
        per observed entry of ``y``.

    See Also
    --------
    posterior_predictive_check : Bayesian p-values of summary statistics.
    arviz.compare : The comparison this function calls (ArviZ 0.x) or reproduces (1.x).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lambda3 import Lambda3BayesRegressor, compare
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(150, 2))
    >>> y = 1.0 + 2.0 * X[:, 0] + 1.5 * X[:, 1] + rng.normal(size=150)
    >>> quiet = dict(progress_bar=False)
    >>> both = Lambda3BayesRegressor(**quiet, random_state=0).fit(X, y)
    >>> first = Lambda3BayesRegressor(**quiet, random_state=0).fit(X[:, :1], y)
    >>> table = compare({"both": both, "first": first}, {"both": X, "first": X[:, :1]}, y)
    >>> list(table.index)
    ['both', 'first']
    >>> bool(table.loc["first", "elpd_diff"] > 4 * table.loc["first", "dse"])
    True
    """
    if ic not in ("loo", "waic"):
        raise ValueError(f"ic must be 'loo' or 'waic'; got {ic!r}.")
    if scale not in _SCALES:
        raise ValueError(f"scale must be one of {_SCALES}; got {scale!r}.")
    models = _named_models(models)
    if isinstance(X, Mapping):
        if set(X) != set(models):
            raise ValueError(
                f"X as a dict must have the models' names as keys: {sorted(models)}; got {sorted(X)}."
            )
        X_of = dict(X)
    else:
        X_of = dict.fromkeys(models, X)
    y = _as_target(y)
    n_observed = int(np.sum(~np.isnan(y)))
    for name, model in models.items():
        _check_model(model, name, "pointwise_log_likelihood")
        _check_rows(model, name, X_of[name], y)

    arviz = _arviz.import_arviz("compare")
    elpd = {}
    for name, model in models.items():
        log_lik = np.asarray(model.pointwise_log_likelihood(X_of[name], y), dtype=np.float64)
        if log_lik.ndim != 3 or log_lik.shape[2] != n_observed:
            raise ValueError(
                f"model {name!r}: pointwise_log_likelihood must return an array of shape "
                f"(num_chains, n_draws_per_chain, {n_observed}), one value per observed (non-NaN) "
                f"entry of y, so that every model covers the same observations; got {log_lik.shape}."
            )
        if not np.all(np.isfinite(log_lik)):
            raise ValueError(f"model {name!r}: the pointwise log-likelihood has non-finite values.")
        if ic == "loo":
            reff = _relative_efficiency(arviz, log_lik)
            elpd[name] = _arviz.loo(arviz, log_lik, reff=reff, scale=scale)
        else:
            elpd[name] = _arviz.waic(arviz, log_lik, scale=scale)
    return _arviz.compare(arviz, elpd, ic=ic, scale=scale)


def _relative_efficiency(arviz, log_lik):
    """Mean over observations of ESS(exp(log_lik)) / number of draws; 1 for a single chain."""
    chains, draws, _ = log_lik.shape
    if chains == 1:
        return 1.0
    # ESS does not change when each observation's likelihood is rescaled, so subtract its
    # maximum first: exp() then neither overflows nor underflows to all zeros.
    likelihood = np.exp(log_lik - log_lik.max(axis=(0, 1), keepdims=True))
    values = _arviz.ess_mean(arviz, likelihood).reshape(-1)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 1.0
    return float(np.clip(values.mean() / (chains * draws), 1e-3, None))


@dataclass(frozen=True, eq=False)
class PredictiveCheck:
    """Result of :func:`posterior_predictive_check`.

    For 1-D ``y`` every value below is a float (observed, p-value) or an array of shape
    ``(n_samples,)`` (replicated); for 2-D ``y`` there is one value per series: arrays of
    shape ``(n_series,)`` and ``(n_series, n_samples)``.

    Attributes
    ----------
    statistics : tuple of str
        Names of the statistics, in order.
    observed : dict of str to float or ndarray
        Statistic of the observed target.
    replicated : dict of str to ndarray
        Statistic of each replicated target (last axis: the replicates).
    p_value : dict of str to float or ndarray
        Bayesian p-value ``P(T(y_rep) > T(y)) + P(T(y_rep) = T(y)) / 2``.
    """

    statistics: tuple
    observed: dict = field(repr=False)
    replicated: dict = field(repr=False)
    p_value: dict = field(repr=False)

    def replicated_summary(self, statistic, interval=0.9):
        """Mean, standard deviation and central interval of a replicated statistic.

        Parameters
        ----------
        statistic : str
            One of :attr:`statistics`.
        interval : float, default=0.9
            Probability mass of the central interval.

        Returns
        -------
        summary : dict
            ``mean``, ``std``, ``lower`` and ``upper`` (floats, or arrays per series).
        """
        values = self.replicated[statistic]
        tail = (1 - interval) / 2
        lower, upper = np.quantile(values, [tail, 1 - tail], axis=-1)
        return {"mean": values.mean(axis=-1), "std": values.std(axis=-1), "lower": lower, "upper": upper}

    def to_frame(self):
        """The check as a pandas DataFrame, one row per statistic (and series).

        Returns
        -------
        frame : pandas.DataFrame
            Columns ``statistic``, ``series`` (2-D targets only), ``observed``,
            ``replicated_mean``, ``replicated_std``, ``replicated_5%``,
            ``replicated_95%`` and ``p_value``.
        """
        import pandas as pd

        return pd.DataFrame(self._rows())

    def _rows(self):
        rows = []
        for name in self.statistics:
            summary = self.replicated_summary(name)
            observed = np.atleast_1d(self.observed[name])
            multi = np.ndim(self.observed[name]) > 0
            for series in range(observed.size):
                row = {"statistic": name}
                if multi:
                    row["series"] = series
                row["observed"] = float(observed[series])
                for key, label in (("mean", "mean"), ("std", "std"), ("lower", "5%"), ("upper", "95%")):
                    row[f"replicated_{label}"] = float(np.atleast_1d(summary[key])[series])
                row["p_value"] = float(np.atleast_1d(self.p_value[name])[series])
                rows.append(row)
        return rows

    def __repr__(self):
        rows = self._rows()
        if not rows:
            return "PredictiveCheck()"
        header = list(rows[0])
        cells = [header] + [
            [f"{value:.4g}" if isinstance(value, float) else str(value) for value in row.values()]
            for row in rows
        ]
        widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
        lines = ["  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)) for line in cells]
        n = self.replicated[self.statistics[0]].shape[-1]
        return f"PredictiveCheck ({n} replicates)\n" + "\n".join(lines)


def posterior_predictive_check(
    model,
    X,
    y,
    *,
    n_samples=1000,
    statistics=("mean", "std", "min", "max", "median"),
    random_state=None,
):
    """Compare summary statistics of ``y`` with their posterior predictive distribution.

    ``n_samples`` replicated targets are drawn with ``model.sample_y(X, n_samples,
    random_state)``; each statistic ``T`` is computed on the observed ``y`` and on every
    replicate, and the Bayesian p-value is ``P(T(y_rep) > T(y)) + P(T(y_rep) = T(y)) / 2``
    (the mid-p value, so that ties count half). Values near 0 or 1 mean the model rarely
    reproduces that feature of the data: a p-value near 0 for ``max``, say, says the
    observed maximum is larger than nearly all replicated maxima (tails too light).

    NaN in ``y`` marks an entry that is not observed; the statistics cover the observed
    entries only, and the replicated values of the entries that are NaN in ``y`` are left out
    too, so that ``T(y)`` and ``T(y_rep)`` cover the same entries. For 1-D ``y`` (one series,
    for example :class:`Lambda3DynamicRegressor` with steps not observed) the rows that are
    NaN are dropped before the statistics are computed. For 2-D ``y`` (several series, as the
    hierarchical model's ``sample_y`` returns ``(n_rows, n_series, n_samples)``) the
    statistics are computed per series (column), the missing entries set to NaN in the
    replicates.

    Parameters
    ----------
    model : estimator
        Fitted model exposing ``sample_y(X, n_samples, random_state)`` (for example
        :class:`Lambda3BayesRegressor`).
    X : array-like of shape (n_samples_X, n_features)
        Regressors.
    y : array-like of shape (n_samples_X,) or (n_samples_X, n_series)
        Observed target; NaN marks an entry that is not observed.
    n_samples : int, default=1000
        Number of replicated targets.
    statistics : sequence of str or callable, default=("mean", "std", "min", "max", "median")
        Statistics to check. Strings name NaN-aware reductions over the rows (``std`` has
        ``ddof=0``); a callable ``f(values, axis=0)`` is named by its ``__name__`` and must
        reduce along ``axis`` (and ignore NaN, if a 2-D ``y`` has missing entries).
    random_state : int, RandomState instance or None, default=None
        Seed of the replicated draws, passed to ``model.sample_y``.

    Returns
    -------
    check : PredictiveCheck
        Observed statistics, their replicated distributions and the p-values; its repr is a
        table, ``check.to_frame()`` a pandas DataFrame.

    Raises
    ------
    ValueError
        For an unfitted model (:class:`~sklearn.exceptions.NotFittedError`), a model fitted
        on a different number of features than ``X`` has, ``X`` and ``y`` of different
        lengths, ``y`` without observed entries, a bad ``n_samples`` or an unknown statistic.

    See Also
    --------
    compare : Rank models by PSIS-LOO or WAIC.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_lambda3 import Lambda3BayesRegressor, posterior_predictive_check
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(150, 1))
    >>> y = 2.0 * X[:, 0] + rng.lognormal(sigma=1.0, size=150)  # skewed noise
    >>> reg = Lambda3BayesRegressor(progress_bar=False, random_state=0).fit(X, y)
    >>> check = posterior_predictive_check(reg, X, y, n_samples=500, random_state=0)
    >>> check.statistics
    ('mean', 'std', 'min', 'max', 'median')
    >>> bool(0.05 < check.p_value["mean"] < 0.95)
    True
    >>> bool(check.p_value["max"] < 0.01)  # Normal noise cannot make the long right tail
    True
    """
    if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}.")
    functions = _statistic_functions(statistics)
    _check_model(model, "model", "sample_y")
    y = _as_target(y)
    _check_rows(model, "model", X, y)

    replicated = np.asarray(model.sample_y(X, n_samples, random_state=random_state), dtype=np.float64)
    expected = y.shape + (n_samples,)
    if replicated.shape != expected:
        raise ValueError(f"model.sample_y returned shape {replicated.shape}; expected {expected}.")
    missing = np.isnan(y)
    if missing.any() and y.ndim == 1:
        y, replicated = y[~missing], replicated[~missing]
    elif missing.any():
        replicated = np.where(missing[..., None], np.nan, replicated)

    observed, draws, p_value = {}, {}, {}
    for name, function in functions.items():
        t_obs = np.asarray(function(y, axis=0), dtype=np.float64)
        # Rows are axis 0; the result has the replicates last: (n_samples,) or (n_series, n_samples).
        t_rep = np.asarray(function(replicated, axis=0), dtype=np.float64)
        above = np.mean(t_rep > t_obs[..., None], axis=-1)
        tied = np.mean(t_rep == t_obs[..., None], axis=-1)
        p = np.where(np.isnan(t_obs), np.nan, above + 0.5 * tied)
        observed[name] = float(t_obs) if t_obs.ndim == 0 else t_obs
        draws[name] = t_rep
        p_value[name] = float(p) if p.ndim == 0 else p
    return PredictiveCheck(tuple(functions), observed, draws, p_value)


def _statistic_functions(statistics):
    if isinstance(statistics, str) or callable(statistics):
        statistics = (statistics,)
    functions = {}
    for statistic in statistics:
        if callable(statistic):
            functions[getattr(statistic, "__name__", repr(statistic))] = statistic
        elif statistic in STATISTICS:
            functions[statistic] = STATISTICS[statistic]
        else:
            raise ValueError(
                f"unknown statistic {statistic!r}; use one of {sorted(STATISTICS)} "
                "or a callable f(values, axis)."
            )
    if not functions:
        raise ValueError("statistics must name at least one statistic.")
    return functions


def _named_models(models):
    if isinstance(models, Mapping):
        named = {str(name): model for name, model in models.items()}
    elif isinstance(models, list | tuple):
        named = {f"model{i}": model for i, model in enumerate(models)}
    else:
        raise TypeError(
            f"models must be a dict of name to fitted model, or a list; got {type(models).__name__}."
        )
    if not named:
        raise ValueError("models is empty: compare needs at least one fitted model.")
    return named


def _check_model(model, name, method):
    if not callable(getattr(model, method, None)):
        raise TypeError(f"{name} ({type(model).__name__}) has no method {method}.")
    if isinstance(model, BaseEstimator):
        check_is_fitted(model)
    elif not hasattr(model, "n_features_in_"):
        raise ValueError(f"{name} ({type(model).__name__}) has no n_features_in_: is it fitted?")


def _as_target(y):
    y = np.asarray(y, dtype=np.float64)
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be 1-D or 2-D (n_samples, n_series); got shape {y.shape}.")
    if np.any(np.isinf(y)):
        raise ValueError("y has infinite values.")
    if not np.any(~np.isnan(y)):
        raise ValueError("y has no observed entries.")
    return y


def _check_rows(model, name, X, y):
    shape = np.shape(X)
    if len(shape) != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {shape}.")
    if shape[0] != y.shape[0]:
        raise ValueError(f"X has {shape[0]} rows but y has {y.shape[0]}.")
    if shape[1] != model.n_features_in_:
        raise ValueError(f"{name} was fitted on {model.n_features_in_} features but X has {shape[1]}.")
