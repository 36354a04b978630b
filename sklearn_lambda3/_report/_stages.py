"""The report's analysis stages that are more than one call of the analysis layer.

The regimes with the EM's convergence warning silenced, the pairs chosen for the interaction
analysis and their fits, one per lag, merged into one result; the dynamic model of the target.
Convergence is reported in the summary, so these fits' ConvergenceWarnings are silenced.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._columns import FEATURE_SUFFIXES
from .._regimes import detect_regimes
from .._sync import SYNC_SHARE_THRESHOLD
from .._time_index import even_spacing, index_labels
from ._settings import INTERACTION_COVERAGE, INTERACTION_SETTINGS
from ._table import InputError, is_number


def find_regimes(features, values, focus, method, n_regimes, random_state):
    """The regimes of series ``focus`` (:func:`~sklearn_lambda3.analysis.detect_regimes`)."""
    if method not in ("hmm", "kmeans"):
        raise InputError(f"--regimes must be hmm or kmeans; got {method!r}")
    n = values.shape[0]
    if not 1 <= n_regimes <= n:
        raise InputError(f"--n-regimes must be between 1 and the number of rows ({n}); got {n_regimes}")
    with warnings.catch_warnings():
        # An EM that stopped at max_iter is still a usable segmentation; the summary says so.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return detect_regimes(
            features[:, 4 * focus : 4 * focus + 4],
            n_regimes,
            random_state,
            values[:, focus],
            method=method,
        )


def strongest_pairs(rates, max_pairs):
    """The ``max_pairs`` ordered pairs (positions) of the highest sync rates."""
    p = rates.shape[0]
    ordered = sorted(
        ((a, b) for a in range(p) for b in range(p) if a != b), key=lambda pair: (-rates[pair], pair)
    )
    return ordered[:max_pairs]


def fit_interactions(table, chosen, lags, shares, lag, random_state):
    """The interaction effects of the chosen pairs, one fit per lag, merged into one result.

    Returns the result and each pair's lag in steps, by its (source, target) positions.
    """
    import pandas as pd

    from .._interactions import interaction_effects
    from ..bayes import Lambda3BayesRegressor

    names, values = table.names, table.values
    index = [(names.index(a), names.index(b)) if isinstance(a, str) else (a, b) for a, b in chosen]
    n = values.shape[0]
    if lag == "auto":
        # A pair's sync lag, when its jumps are linked and the target's follow; else the same step.
        pair_lags = {
            pair: max(int(lags[pair]), 0) if shares[pair] >= SYNC_SHARE_THRESHOLD else 0 for pair in index
        }
    else:
        pair_lags = dict.fromkeys(index, int(lag))
    pair_lags = {pair: min(k, n - 3) for pair, k in pair_lags.items()}
    frame = pd.DataFrame(values, columns=names)
    merged = None
    for k in sorted(set(pair_lags.values())):
        group = [pair for pair in index if pair_lags[pair] == k]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            result = interaction_effects(
                frame,
                lag=k,
                pairs=group,
                coverage=INTERACTION_COVERAGE,
                regressor=Lambda3BayesRegressor(**INTERACTION_SETTINGS),
                random_state=random_state,
            )
        merged = result if merged is None else merged.merge(result)
    return merged, pair_lags


def calendar_index(table):
    """The table's time labels as a pandas ``DatetimeIndex`` when they are evenly spaced dates or
    times, else None (no time column, numbers, gaps, unparsable cells).

    On the target's design it gives the dynamic model a calendar: ``seasonality="auto"`` then
    takes a period within 10 % of a day or a week of rows to be it (24 for hourly rows, where two
    days alone cannot tell 24 from 23).
    """
    import pandas as pd

    if table.times is None or all(is_number(label) for label in table.times):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas' note that it guessed the format
        parsed = pd.to_datetime(pd.Index(table.times), errors="coerce")
    if parsed.isna().any():
        return None
    kind, labels = index_labels(parsed)
    return parsed if kind == "datetime" and even_spacing(labels) is not None else None


def fit_target(table, features, focus, progress, random_state):
    """The dynamic Lambda³ regressor of series ``focus`` on the varying features of the others.

    Returns the fitted regressor, its design (a DataFrame when pandas is installed) and the
    names of its columns.
    """
    from ..bayes import Lambda3DynamicRegressor

    names, values = table.names, table.values
    columns, driver_names = [], []
    for j, name in enumerate(names):
        if j == focus:
            continue
        for k, suffix in enumerate(FEATURE_SUFFIXES):
            column = features[:, 4 * j + k]
            if np.ptp(column) > 0:  # a feature that never varies explains nothing
                columns.append(column)
                driver_names.append(f"{name}__{suffix}")
    if not columns:
        raise InputError("the other series have no varying features to explain the target with")
    X = np.column_stack(columns)
    try:  # named columns give each feature its kind's prior scale, and names in the figures
        import pandas as pd

        X = pd.DataFrame(X, columns=driver_names, index=calendar_index(table))
    except ImportError:
        pass
    regressor = Lambda3DynamicRegressor(
        seasonality="auto",
        change_points="auto",
        num_warmup=1000,
        num_samples=1000,
        num_chains=2,
        random_state=random_state,
        progress_bar="auto" if progress else False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        regressor.fit(X, values[:, focus])
    return regressor, X, driver_names
