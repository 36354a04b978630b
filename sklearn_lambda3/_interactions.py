"""Asymmetric interaction effects between series: Bayesian regressions on each other's features (§3)."""

import warnings
from dataclasses import dataclass
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ._features import Lambda3Features
from ._interaction_kinds import KIND_SUFFIXES, KINDS
from ._validation import check_coverage, check_int, reject_sparse_and_complex
from .bayes import Lambda3BayesRegressor, convergence_problems

# Columns of Lambda3Features's four per series that enter the models (local_jump does not).
_PER_SERIES = 4

# Default sampler settings. With 2 chains of 500 draws, split R-hat exceeded 1.01 by its own noise in
# about a fifth of the fits although the bulk ESS was above 1000; 4 chains (vectorised) bring that to
# a few per cent.
DEFAULT_SETTINGS = {"num_warmup": 500, "num_samples": 500, "num_chains": 4}


@dataclass(repr=False)
class InteractionResult:
    """What :func:`interaction_effects` finds; every matrix is indexed ``[source, target]``.

    Entry ``[i, j]`` describes the coefficient of series ``i``'s feature in the model of series
    ``j``; the diagonal (a series on itself) is NaN.

    Attributes
    ----------
    names : list of str
        Names of the series, in input order.
    mean : dict of str to ndarray of shape (n_series, n_series)
        Posterior mean of the source's coefficient, for each kind ``"jump_pos"`` (ΔΛC⁺),
        ``"jump_neg"`` (ΔΛC⁻) and ``"tension"`` (ρT). Units: units of the target per unit
        of the feature (a jump indicator is 0/1, so a jump coefficient is the shift of the
        target at a jump of the source).
    lower, upper : dict of str to ndarray of shape (n_series, n_series)
        Bounds of the central ``coverage`` posterior interval of the same coefficients.
    r_hat_max : ndarray of shape (n_series, n_series)
        Largest split R-hat over all parameters of each pair's model (NaN under SVI).
    ess_bulk_min : ndarray of shape (n_series, n_series)
        Smallest bulk effective sample size over all parameters of each pair's model (NaN
        under SVI).
    num_divergences : ndarray of shape (n_series, n_series)
        Divergent transitions of each pair's sampler (float, NaN on the diagonal; 0 under SVI).
    converged : ndarray of bool of shape (n_series, n_series)
        Whether each pair's fit passes the regressors' convergence rule
        (:func:`~sklearn_lambda3.bayes.convergence_problems`); False on the diagonal and for
        the pairs that were not fitted.
    fitted : ndarray of bool of shape (n_series, n_series)
        Which ordered pairs were fitted (all but the diagonal unless ``pairs`` was given); the
        matrices above are NaN where it is False.
    coverage : float
        Probability mass of the intervals.
    lag : int or None
        Lag of the source's features: the target at ``t`` is explained by the source at ``t - lag``;
        None for a :meth:`merge` of results at different lags.
    """

    names: list
    mean: dict
    lower: dict
    upper: dict
    r_hat_max: np.ndarray
    ess_bulk_min: np.ndarray
    num_divergences: np.ndarray
    coverage: float
    lag: int
    converged: np.ndarray = None
    fitted: np.ndarray = None

    def _fitted_mask(self):
        if self.fitted is None:
            return ~np.eye(len(self.names), dtype=bool)
        return self.fitted

    def _converged_count(self):
        return 0 if self.converged is None else int(self.converged.sum())

    def excludes_zero(self, kind):
        """Boolean matrix ``[source, target]``: whether the interval of ``kind`` excludes 0.

        Parameters
        ----------
        kind : {"jump_pos", "jump_neg", "tension"}
            The kind of the source's feature.

        Returns
        -------
        mask : ndarray of bool, shape (n_series, n_series)
            False on the diagonal.
        """
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}; got {kind!r}.")
        with np.errstate(invalid="ignore"):
            return (self.lower[kind] > 0) | (self.upper[kind] < 0)

    def merge(self, other):
        """This result with the fitted pairs of ``other`` written over it, as a new result.

        Fits of the same series with different settings per pair (e.g. each pair at its
        own lag, one :func:`interaction_effects` call per lag) combine into one result.

        Parameters
        ----------
        other : InteractionResult
            A result on the same series with the same coverage; its fitted pairs (all but
            the diagonal when its ``fitted`` is None) replace this result's.

        Returns
        -------
        merged : InteractionResult
            A new result; neither input is changed. Its ``lag`` is None when the two lags
            differ (each pair then has its own).

        Raises
        ------
        TypeError
            If ``other`` is not an InteractionResult.
        ValueError
            If the two results name different series or have different coverages.
        """
        if not isinstance(other, InteractionResult):
            raise TypeError(f"other must be an InteractionResult; got {type(other).__name__}.")
        if list(other.names) != list(self.names):
            raise ValueError(f"other must be on the same series {self.names}; got {other.names}.")
        if other.coverage != self.coverage:
            raise ValueError(f"other must have the same coverage {self.coverage}; got {other.coverage}.")
        mask = other._fitted_mask()

        def over(mine, theirs):
            merged = np.array(mine, copy=True)
            merged[mask] = theirs[mask]
            return merged

        def converged(result):
            if result.converged is None:
                return np.zeros((len(result.names), len(result.names)), dtype=bool)
            return result.converged

        return InteractionResult(
            names=list(self.names),
            mean={kind: over(self.mean[kind], other.mean[kind]) for kind in KINDS},
            lower={kind: over(self.lower[kind], other.lower[kind]) for kind in KINDS},
            upper={kind: over(self.upper[kind], other.upper[kind]) for kind in KINDS},
            r_hat_max=over(self.r_hat_max, other.r_hat_max),
            ess_bulk_min=over(self.ess_bulk_min, other.ess_bulk_min),
            num_divergences=over(self.num_divergences, other.num_divergences),
            coverage=self.coverage,
            lag=self.lag if self.lag == other.lag else None,
            converged=over(converged(self), converged(other)),
            fitted=self._fitted_mask() | mask,
        )

    def to_frame(self):
        """The effects as a long table, one row per (source, target, kind); needs pandas.

        Returns
        -------
        frame : pandas.DataFrame
            Columns ``source``, ``target``, ``kind``, ``mean``, ``lower``, ``upper``,
            ``r_hat_max``, ``ess_bulk_min`` and ``num_divergences`` (the last three are the
            diagnostics of the pair's model, repeated for its three kinds). Rows run over
            sources, then targets, then kinds; only the fitted pairs have rows.
        """
        import pandas as pd

        fitted = self._fitted_mask()
        rows = []
        for i, source in enumerate(self.names):
            for j, target in enumerate(self.names):
                if not fitted[i, j]:
                    continue
                for kind in KINDS:
                    rows.append(
                        (
                            source,
                            target,
                            kind,
                            self.mean[kind][i, j],
                            self.lower[kind][i, j],
                            self.upper[kind][i, j],
                            self.r_hat_max[i, j],
                            self.ess_bulk_min[i, j],
                            int(self.num_divergences[i, j]),
                        )
                    )
        columns = ["source", "target", "kind", "mean", "lower", "upper"]
        columns += ["r_hat_max", "ess_bulk_min", "num_divergences"]
        return pd.DataFrame(rows, columns=columns)

    def __repr__(self):
        n = len(self.names)
        labels = [_shorten(name) for name in self.names]
        width = max(10, *(len(label) for label in labels))
        off = self._fitted_mask()
        n_fitted = int(off.sum())
        lines = [
            f"InteractionResult({n} series, lag={self.lag}, {self.coverage:.0%} intervals; "
            "rows: source, columns: target; * interval excludes 0"
            + ("" if n_fitted == n * (n - 1) else "; . not fitted")
            + ")"
        ]
        for kind in KINDS:
            lines.append(f"{kind}: posterior mean")
            lines.append(" " * width + "".join(f"{label:>{width + 2}}" for label in labels))
            marked = self.excludes_zero(kind)
            for i, label in enumerate(labels):
                cells = []
                for j in range(n):
                    if i == j:
                        cells.append(f"{'-':>{width + 1}} ")
                    elif not off[i, j]:
                        cells.append(f"{'.':>{width + 1}} ")
                    else:
                        star = "*" if marked[i, j] else " "
                        cells.append(f"{self.mean[kind][i, j]:>{width + 1}.3g}{star}")
                lines.append(f"{label:<{width}}" + "".join(cells))
        if n_fitted == 0:
            lines.append("no pair was fitted")
        elif np.all(np.isnan(self.r_hat_max[off])):  # SVI: no chains to compare
            lines.append(
                f"diagnostics over the {n_fitted} models: SVI, {int(self._converged_count())} converged"
            )
        else:
            lines.append(
                f"diagnostics over the {n_fitted} models: max R-hat {np.nanmax(self.r_hat_max[off]):.3f}, "
                f"min bulk ESS {np.nanmin(self.ess_bulk_min[off]):.0f}, "
                f"divergences {int(np.nansum(self.num_divergences[off]))}"
            )
        return "\n".join(lines)


def _shorten(name, limit=12):
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _check_data(data):
    """``(values, names)``: a finite float array of shape (n_steps, n_series) and unique names."""
    columns = getattr(data, "columns", None)
    if columns is not None and hasattr(data, "to_numpy"):
        names = [str(c) for c in columns]
        values = data.to_numpy()
    else:
        names = None
        values = data
    reject_sparse_and_complex(values, "data")
    array = np.asarray(values)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)
    ):
        raise TypeError(f"data must hold real numbers; got dtype {array.dtype}.")
    array = array.astype(np.float64)
    if array.ndim != 2:
        raise ValueError(
            f"data must be 2-D, one column per series and one row per time step; got shape {array.shape}."
        )
    if array.shape[1] < 2:
        raise ValueError(f"data must hold at least 2 series (columns); got {array.shape[1]}.")
    if not np.all(np.isfinite(array)):
        raise ValueError("data contains NaN or infinite values.")
    if names is None:
        names = [f"x{i}" for i in range(array.shape[1])]
    elif len(set(names)) != len(names):
        raise ValueError(f"data's column names must be unique; got {names}.")
    return array, names


def _check_pairs(pairs, names):
    """The ordered pairs as (source, target) positions, from names or positions."""
    if isinstance(pairs, str) or not hasattr(pairs, "__iter__"):
        raise TypeError(f"pairs must be a sequence of (source, target) pairs or None; got {pairs!r}.")

    def position(series):
        if isinstance(series, str):
            if series not in names:
                raise ValueError(
                    f"pairs names {series!r}, which is not a series (series: {', '.join(names)})."
                )
            return names.index(series)
        if isinstance(series, bool) or not isinstance(series, Integral):
            raise TypeError(f"each series in pairs must be a name or a column position; got {series!r}.")
        if not 0 <= series < len(names):
            raise ValueError(f"pairs holds the column position {series}; data has {len(names)} series.")
        return int(series)

    checked = []
    for pair in pairs:
        if isinstance(pair, str) or not hasattr(pair, "__len__") or len(pair) != 2:
            raise TypeError(f"each element of pairs must be a (source, target) pair; got {pair!r}.")
        source, target = position(pair[0]), position(pair[1])
        if source == target:
            raise ValueError(f"pairs holds {names[source]!r} with itself; a pair needs two series.")
        if (source, target) in checked:
            raise ValueError(f"pairs holds {names[source]!r} -> {names[target]!r} twice.")
        checked.append((source, target))
    if not checked:
        raise ValueError("pairs is empty; pass None to fit every pair.")
    return checked


def _check_regressor(regressor):
    if regressor is None:
        return Lambda3BayesRegressor(**DEFAULT_SETTINGS, progress_bar=False)
    if not isinstance(regressor, Lambda3BayesRegressor):
        raise TypeError(f"regressor must be a Lambda3BayesRegressor or None; got {type(regressor).__name__}.")
    # Progress bars of concurrent fits would overwrite each other.
    return clone(regressor).set_params(progress_bar=False)


def _fit_pair(regressor, X, y, quantiles):
    """Summary of the source's coefficients (the last three columns of X) in one fitted model."""
    reg = regressor.fit(X, y)
    samples = reg.coef_samples_[:, -len(KINDS) :]
    lower, upper = np.quantile(samples, quantiles, axis=0)
    d = reg.diagnostics_
    return (
        samples.mean(axis=0),
        lower,
        upper,
        (d.get("r_hat_max", np.nan), d.get("ess_bulk_min", np.nan), d.get("num_divergences", 0)),
        convergence_problems(d),
    )


def _warn_unconverged(names, pairs, summaries):
    """One ConvergenceWarning listing the pairs whose model fails the regressors' convergence rule."""
    failing = [
        f"{names[i]} -> {names[j]} ({'; '.join(problems)})"
        for (i, j), (*_, problems) in zip(pairs, summaries, strict=True)
        if problems
    ]
    if failing:
        warnings.warn(
            f"the fit did not converge for {len(failing)} of {len(pairs)} pairs: "
            + "; ".join(failing)
            + ". Pass a regressor with more num_warmup/num_samples/num_chains (or svi_steps); the "
            "result holds every pair's diagnostics.",
            ConvergenceWarning,
            stacklevel=3,
        )


def interaction_effects(
    data,
    *,
    lag=0,
    pairs=None,
    coverage=0.9,
    regressor=None,
    feature_params=None,
    n_jobs=None,
    random_state=None,
):
    """Asymmetric interaction effects of every series on every other, by Bayesian regression.

    The method's interaction model (spec §3): for every ordered pair (source, target) of
    distinct series, the target's values ``y[t]`` are regressed with
    :class:`~sklearn_lambda3.Lambda3BayesRegressor` (the linear model) on the target's own
    jump and tension features at ``t`` (ΔΛC⁺, ΔΛC⁻, ρT) and the source's at ``t - lag``.
    The source's three coefficients measure how its jumps and tension move the target,
    beyond what the target's own structure explains. Source → target need not equal
    target → source: ``n_series * (n_series - 1)`` models are fitted.

    The features are those of :class:`~sklearn_lambda3.Lambda3Features`, computed once on
    all series (thresholds per series, from the whole data). The model's columns are named
    ``<series>__delta_LambdaC_pos`` etc., so the regressor's ``jump_prior_scale`` applies to
    both series' jumps and its ``tension_prior_scale`` to both tensions.

    Parameters
    ----------
    data : array-like or pandas DataFrame of shape (n_steps, n_series)
        The series in columns, rows in time order (oldest first); real, finite, at least
        2 series. A DataFrame's column names name the series, otherwise ``x0, x1, …``.
        pandas is needed in any case: the models get named columns.
    lag : int, default=0
        The target at ``t`` is explained by the source's features at ``t - lag``; the first
        ``lag`` steps are dropped from every model. ``0 <= lag < n_steps - 2``.
    pairs : sequence of (source, target) or None, default=None
        The ordered pairs to fit, each a pair of series names (or of column positions), in any
        order and without repeats; ``None`` fits all ``n_series * (n_series - 1)``. The other
        pairs are NaN in the result and False in its ``fitted`` matrix. A pair gets the same
        seed as in the fit of all pairs, so its result does not depend on which other pairs
        are fitted.
    coverage : float, default=0.9
        Probability mass of the central posterior intervals, in (0, 1).
    regressor : Lambda3BayesRegressor or None, default=None
        An unfitted, configured regressor, cloned for every pair; its ``random_state`` is
        replaced by the pair's seed and its progress bar switched off. ``None`` uses
        ``Lambda3BayesRegressor(num_warmup=500, num_samples=500, num_chains=4)``, enough for
        a converged linear model of six regressors.
    feature_params : dict or None, default=None
        Parameters of :class:`~sklearn_lambda3.Lambda3Features` (``window``,
        ``delta_percentile``, …); ``None`` uses its defaults.
    n_jobs : int or None, default=None
        Number of pairs fitted at the same time, by :class:`joblib.Parallel` with
        ``prefer="threads"``: JAX releases the GIL while it samples and all threads share one
        compiled sampler. ``None`` means 1 unless in a :func:`joblib.parallel_backend` context,
        whose backend (e.g. ``"dask"``) then runs the fits; ``-1`` uses all processors.
    random_state : int, RandomState instance or None, default=None
        Draws one seed per pair, in the order of the pairs (source-major), so the result
        does not depend on ``n_jobs`` or the backend.

    Returns
    -------
    result : InteractionResult
        ``mean``, ``lower`` and ``upper`` matrices ``[source, target]`` for each kind
        (``"jump_pos"``, ``"jump_neg"``, ``"tension"``), the per-pair diagnostics
        ``r_hat_max``, ``ess_bulk_min`` and ``num_divergences``, and ``to_frame()``.

    Raises
    ------
    TypeError
        If ``data`` is not numeric, ``lag`` is not an integer, ``coverage`` is not a real
        number, ``regressor`` is not a Lambda3BayesRegressor, ``feature_params`` is not a dict
        or ``pairs`` is not a sequence of pairs.
    ValueError
        If ``data`` is not 2-D, has fewer than 2 series, non-finite values or duplicate
        column names, ``lag`` is negative or at least ``n_steps - 2``, ``coverage`` is
        outside (0, 1), or ``pairs`` names an unknown series, a series with itself, a pair
        twice or no pair at all.

    See Also
    --------
    causality_matrix : Frequency-based structural causality between the jumps of series.
    Lambda3BayesRegressor : The Bayesian regression fitted for every pair.

    Notes
    -----
    The first pair is fitted before the others are dispatched, so that the sampler is
    compiled once (several seconds) and then reused by every thread (a fraction of a second
    per further fit). Under another joblib backend each worker process compiles it once.
    Instead of a ``ConvergenceWarning`` per fit, one ``ConvergenceWarning`` names every pair
    whose sampler fails the regressor's checks (R-hat, bulk ESS, divergences); while the fits
    run, ConvergenceWarnings are ignored process-wide. The diagnostics of every pair are in
    the result.

    Examples
    --------
    Jumps of ``a`` shift ``b`` by 2; ``b`` does not act on ``a``. ``b``'s own jump indicator
    fires at the same steps, so the two share the shift and ``a``'s part is found clearly
    positive, below 2:

    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn_lambda3 import Lambda3Features
    >>> from sklearn_lambda3.analysis import interaction_effects
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(0, 0.3, 1000) + 4.0 * (rng.random(1000) < 0.01)
    >>> jumps_a = Lambda3Features().fit_transform(a[:, None])[:, 0]
    >>> b = rng.normal(0, 0.5, 1000) + 2.0 * jumps_a
    >>> result = interaction_effects(pd.DataFrame({"a": a, "b": b}), random_state=0)
    >>> result.names
    ['a', 'b']
    >>> bool(result.excludes_zero("jump_pos")[0, 1]), bool(1.0 < result.mean["jump_pos"][0, 1] < 2.0)
    (True, True)
    >>> bool(result.excludes_zero("jump_pos")[1, 0])
    False
    >>> result.to_frame().columns[:6].tolist()
    ['source', 'target', 'kind', 'mean', 'lower', 'upper']
    """
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas is installed with the test extra
        raise ImportError(
            "interaction_effects needs pandas: the regressor picks each coefficient's prior by its "
            "column name (pip install pandas)."
        ) from exc
    values, names = _check_data(data)
    n_steps, n_series = values.shape
    lag = check_int(lag, "lag", 0)
    if lag >= n_steps - 2:
        raise ValueError(
            f"lag must be smaller than n_steps - 2 = {n_steps - 2} (each model needs at least 3 steps); "
            f"got {lag}."
        )
    coverage = check_coverage(coverage)
    regressor = _check_regressor(regressor)
    if feature_params is None:
        feature_params = {}
    elif not isinstance(feature_params, dict):
        raise TypeError(f"feature_params must be a dict or None; got {type(feature_params).__name__}.")
    # Seeds first, whatever happens after: the same random_state gives the same seeds.
    rng = check_random_state(random_state)
    all_pairs = [(i, j) for i in range(n_series) for j in range(n_series) if i != j]
    seed_of = dict(zip(all_pairs, rng.randint(np.iinfo(np.int32).max, size=len(all_pairs)), strict=True))
    pairs = all_pairs if pairs is None else _check_pairs(pairs, names)
    seeds = [seed_of[pair] for pair in pairs]

    features = Lambda3Features(**feature_params).fit_transform(values)
    # (n_steps, n_series, 3): ΔΛC⁺, ΔΛC⁻, ρT of each series.
    features = features.reshape(n_steps, n_series, _PER_SERIES)[:, :, : len(KINDS)]
    quantiles = [(1 - coverage) / 2, (1 + coverage) / 2]

    def task(pair, seed):
        source, target = pair
        X = np.concatenate([features[lag:, target], features[: n_steps - lag, source]], axis=1)
        columns = [f"{names[k]}__{KIND_SUFFIXES[kind]}" for k in (target, source) for kind in KINDS]
        X = pd.DataFrame(X, columns=columns)
        reg = clone(regressor).set_params(random_state=int(seed))
        return delayed(_fit_pair)(reg, X, values[lag:, target], quantiles)

    tasks = [task(pair, seed) for pair, seed in zip(pairs, seeds, strict=True)]
    # The per-fit ConvergenceWarnings are replaced by one that names every failing pair. The filter
    # list is global, so it also holds in the threads that fit; it is restored on exit.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with Parallel(n_jobs=n_jobs, prefer="threads") as parallel:
            # The first fit alone: it compiles the sampler that the threads of the others share.
            summaries = parallel(tasks[:1])
            summaries += parallel(tasks[1:])

    def empty():
        return np.full((n_series, n_series), np.nan)

    mean = {kind: empty() for kind in KINDS}
    lower = {kind: empty() for kind in KINDS}
    upper = {kind: empty() for kind in KINDS}
    r_hat, ess, divergences = empty(), empty(), empty()
    converged = np.zeros((n_series, n_series), dtype=bool)
    fitted = np.zeros((n_series, n_series), dtype=bool)
    for (i, j), (m, lo, hi, diagnostics, problems) in zip(pairs, summaries, strict=True):
        fitted[i, j] = True
        for k, kind in enumerate(KINDS):
            mean[kind][i, j], lower[kind][i, j], upper[kind][i, j] = m[k], lo[k], hi[k]
        r_hat[i, j], ess[i, j], divergences[i, j] = diagnostics
        converged[i, j] = not problems
    _warn_unconverged(names, pairs, summaries)
    return InteractionResult(
        names=names,
        mean=mean,
        lower=lower,
        upper=upper,
        r_hat_max=r_hat,
        ess_bulk_min=ess,
        num_divergences=divergences,
        coverage=coverage,
        lag=lag,
        converged=converged,
        fitted=fitted,
    )
