"""Market regimes: clusters of the per-step jump and tension features (method §2)."""

from dataclasses import dataclass
from numbers import Integral

import numpy as np
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

from ._columns import STRUCTURAL_SUFFIXES
from ._validation import reject_sparse_and_complex

_N_INIT = 10


@dataclass
class RegimeResult:
    """What :func:`detect_regimes` finds; per-regime arrays are indexed by the regime label.

    Attributes
    ----------
    labels : ndarray of shape (n_steps,), dtype int64
        Regime of each step, ``0 … n_regimes - 1``, numbered by increasing mean tension.
    frequency : ndarray of shape (n_regimes,)
        Fraction of the steps in each regime.
    mean_tension : ndarray of shape (n_regimes,)
        Mean ρT of each regime.
    pos_jump_rate : ndarray of shape (n_regimes,)
        Fraction of the regime's steps with a ΔΛC⁺ jump.
    neg_jump_rate : ndarray of shape (n_regimes,)
        Fraction of the regime's steps with a ΔΛC⁻ jump.
    mean_level : ndarray of shape (n_regimes,) or None
        Mean of the series over the regime's steps, when ``level`` was given.
    durations : list of ndarray of int64
        For each regime, the lengths of its runs of consecutive steps, in time order.
    transition_matrix : ndarray of shape (n_regimes, n_regimes)
        ``[i, j]``: fraction of the steps in regime ``i`` (all but the last step) followed by a
        step in regime ``j``. Rows sum to 1; a regime never followed by another step (only
        at the last step, or empty) has a row with 1 on the diagonal.
    """

    labels: np.ndarray
    frequency: np.ndarray
    mean_tension: np.ndarray
    pos_jump_rate: np.ndarray
    neg_jump_rate: np.ndarray
    mean_level: np.ndarray | None
    durations: list
    transition_matrix: np.ndarray


def _select_columns(features):
    """The (ΔΛC⁺, ΔΛC⁻, ρT) columns as a float array of shape (n_steps, 3)."""
    columns = getattr(features, "columns", None)
    if columns is not None and hasattr(features, "to_numpy"):
        names = [str(c) for c in columns]
        picked = []
        for suffix in STRUCTURAL_SUFFIXES:
            hits = [k for k, name in enumerate(names) if name == suffix or name.endswith("__" + suffix)]
            if len(hits) > 1:
                raise ValueError(
                    f"features has several columns named like {suffix!r} ({len(hits)}); "
                    "pass the features of one series."
                )
            picked.append(hits[0] if hits else None)
        values = features.to_numpy()
        if all(k is not None for k in picked):
            values = values[:, picked]
    else:
        values = features
    reject_sparse_and_complex(values, "features")
    try:
        values = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"features must be a 2-D array-like of real numbers: {exc}") from exc
    if values.ndim != 2 or values.shape[1] not in (3, 4):
        raise ValueError(
            "features must be 2-D with the columns (ΔΛC⁺, ΔΛC⁻, ρT), or the 4 columns of "
            f"Lambda3Features for one series; got an array of shape {values.shape}."
        )
    if not np.all(np.isfinite(values)):
        raise ValueError("features contains NaN or infinite values.")
    values = values[:, :3]
    if not np.all((values[:, :2] == 0) | (values[:, :2] == 1)):
        raise ValueError("the jump columns ΔΛC⁺ and ΔΛC⁻ (the first two) must be binary (0/1).")
    return values


def _runs(labels):
    """Start labels and lengths of the runs of equal consecutive labels."""
    edges = np.flatnonzero(np.diff(labels)) + 1
    starts = np.r_[0, edges]
    lengths = np.diff(np.r_[starts, labels.shape[0]])
    return labels[starts], lengths


def detect_regimes(features, n_regimes=3, random_state=None, level=None):
    """Regimes of a series: k-means clusters of its standardised per-step features.

    Each step is described by its jump events and tension (ΔΛC⁺, ΔΛC⁻, ρT); the three
    columns are standardised (zero mean, unit variance; a constant column stays 0) and
    clustered by :class:`sklearn.cluster.KMeans` (method §2). The regimes are then numbered
    by increasing mean tension (ties by jump rate), so ``0`` is the calmest.

    Parameters
    ----------
    features : array-like or pandas DataFrame of shape (n_steps, 3) or (n_steps, 4)
        The columns ΔΛC⁺, ΔΛC⁻, ρT of one series, rows in time order; or the output of
        :class:`~sklearn_lambda3.Lambda3Features` for one series (4 columns, the fourth,
        ``local_jump``, is ignored). A DataFrame's columns are picked by name when they
        end in ``delta_LambdaC_pos``, ``delta_LambdaC_neg`` and ``rho_T``.
    n_regimes : int, default=3
        Number of regimes ``k``, ``1 <= k <= n_steps``.
    random_state : int, RandomState instance or None, default=None
        Seeds the k-means initialisation (``n_init=10`` restarts).
    level : array-like of shape (n_steps,), optional
        The series itself, for the mean level of each regime.

    Returns
    -------
    result : RegimeResult
        ``labels``, per-regime ``frequency``, ``mean_tension``, ``pos_jump_rate``,
        ``neg_jump_rate``, ``mean_level``, the run ``durations`` and the row-stochastic
        ``transition_matrix``. Statistics of a regime that k-means left empty are NaN
        (frequency 0).

    Raises
    ------
    TypeError
        If the inputs are not numeric or ``n_regimes`` is not an integer.
    ValueError
        If ``features`` does not have 3 or 4 columns, has non-finite values or non-binary
        jump columns, ``n_regimes`` is outside ``1 … n_steps``, or ``level`` has the wrong
        length or non-finite values.

    Notes
    -----
    After standardisation a jump step lies several standard deviations away from the rest
    on its jump axis (jumps are rare: 3 % of the steps at the default 97th percentile), so
    k-means tends to give the ΔΛC⁺ steps and the ΔΛC⁻ steps regimes of their own before it
    splits calm from volatile stretches. With two kinds of stretch, ``n_regimes=4``
    typically gives calm, volatile, positive-jump and negative-jump regimes, as in the
    example below; features without jumps (e.g. ``delta_percentile=100``) give tension
    regimes only.

    Examples
    --------
    A calm stretch, a volatile one and a calm one again:

    >>> import numpy as np
    >>> from sklearn_lambda3 import Lambda3Features
    >>> from sklearn_lambda3.analysis import detect_regimes
    >>> rng = np.random.default_rng(0)
    >>> x = np.r_[rng.normal(0, 0.1, 300), rng.normal(0, 2.0, 100), rng.normal(0, 0.1, 300)]
    >>> features = Lambda3Features().fit_transform(x[:, None])
    >>> result = detect_regimes(features, n_regimes=4, random_state=0, level=x)
    >>> result.mean_tension.round(2)
    array([0.1 , 1.66, 1.92, 1.95])
    >>> result.pos_jump_rate, result.neg_jump_rate
    (array([0., 0., 0., 1.]), array([0., 0., 1., 0.]))
    >>> result.durations[0]
    array([303, 293])
    >>> result.transition_matrix.sum(axis=1)
    array([1., 1., 1., 1.])
    """
    values = _select_columns(features)
    n = values.shape[0]
    if isinstance(n_regimes, bool) or not isinstance(n_regimes, Integral):
        raise TypeError(f"n_regimes must be an integer; got {type(n_regimes).__name__}.")
    if not 1 <= n_regimes <= n:
        raise ValueError(f"n_regimes must be between 1 and the number of steps ({n}); got {n_regimes}.")
    n_regimes = int(n_regimes)
    if level is not None:
        reject_sparse_and_complex(level, "level")
        try:
            level = np.asarray(level, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"level must be a 1-D array-like of real numbers: {exc}") from exc
        if level.ndim == 2 and level.shape[1] == 1:
            level = level[:, 0]
        if level.shape != (n,):
            raise ValueError(f"level must have shape ({n},) like the features; got {level.shape}.")
        if not np.all(np.isfinite(level)):
            raise ValueError("level contains NaN or infinite values.")
    scaled = StandardScaler().fit_transform(values)
    kmeans = KMeans(n_clusters=n_regimes, n_init=_N_INIT, random_state=check_random_state(random_state))
    raw = kmeans.fit_predict(scaled)

    def per_regime(column, labels):
        total = np.bincount(labels, weights=column, minlength=n_regimes)
        count = np.bincount(labels, minlength=n_regimes)
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / count

    # Number the regimes by increasing mean tension, then jump rate (empty clusters last).
    tension = per_regime(values[:, 2], raw)
    jumps = per_regime(values[:, 0] + values[:, 1], raw)
    order = np.lexsort((jumps, tension))
    rank = np.empty(n_regimes, dtype=np.int64)
    rank[order] = np.arange(n_regimes)
    labels = rank[raw]

    counts = np.bincount(labels, minlength=n_regimes)
    starts, lengths = _runs(labels)
    transitions = np.zeros((n_regimes, n_regimes))
    np.add.at(transitions, (labels[:-1], labels[1:]), 1.0)
    outgoing = transitions.sum(axis=1)
    stay = outgoing == 0
    transitions[stay, stay] = 1.0
    transitions /= np.where(stay, 1.0, outgoing)[:, None]
    return RegimeResult(
        labels=labels,
        frequency=counts / n,
        mean_tension=per_regime(values[:, 2], labels),
        pos_jump_rate=per_regime(values[:, 0], labels),
        neg_jump_rate=per_regime(values[:, 1], labels),
        mean_level=None if level is None else per_regime(level, labels),
        durations=[lengths[starts == r] for r in range(n_regimes)],
        transition_matrix=transitions,
    )
