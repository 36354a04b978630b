"""Market regimes of the per-step jump and tension features (method §2): k-means clusters, or
the states of a hidden Markov model, whose regimes last."""

import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

from . import _hmm
from ._columns import STRUCTURAL_SUFFIXES
from ._validation import check_int, reject_sparse_and_complex

_N_INIT = 10
# EM runs of the hidden Markov model: one from the k-means clusters, the others from random means.
_HMM_N_INIT = 5
METHODS = ("kmeans", "hmm")


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
    method : {"kmeans", "hmm"}
        The method that found the regimes.
    fitted_transition_matrix : ndarray of shape (n_regimes, n_regimes) or None
        ``method="hmm"``: the model's transition probabilities ``P(z_{t+1} = j | z_t = i)``
        (rows sum to 1). None for k-means.
    expected_durations : ndarray of shape (n_regimes,) or None
        ``method="hmm"``: the mean run length the model implies for each regime,
        ``1 / (1 - P(z_{t+1} = i | z_t = i))`` steps (``inf`` for a regime it never leaves).
        None for k-means.
    state_probabilities : ndarray of shape (n_steps, n_regimes) or None
        ``method="hmm"``: the probability of each regime at each step given the whole series
        (forward–backward posteriors; rows sum to 1). None for k-means.
    log_likelihood : float or None
        ``method="hmm"``: the log-likelihood of the fitted model. None for k-means.
    """

    labels: np.ndarray
    frequency: np.ndarray
    mean_tension: np.ndarray
    pos_jump_rate: np.ndarray
    neg_jump_rate: np.ndarray
    mean_level: np.ndarray | None
    durations: list
    transition_matrix: np.ndarray
    method: str = "kmeans"
    fitted_transition_matrix: np.ndarray | None = None
    expected_durations: np.ndarray | None = None
    state_probabilities: np.ndarray | None = None
    log_likelihood: float | None = None


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


def _check_level(level, n):
    if level is None:
        return None
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
    return level


def _kmeans_states(values, n_regimes, rng):
    scaled = StandardScaler().fit_transform(values)
    return KMeans(n_clusters=n_regimes, n_init=_N_INIT, random_state=rng).fit_predict(scaled)


def _hmm_states(values, n_regimes, rng, max_iter, tol):
    """Viterbi states and the fit of the HMM on ρT (Gaussian) and the two jump columns (Bernoulli)."""
    n = values.shape[0]
    continuous = values[:, 2:3].copy()
    if n > 1:
        continuous[0] = np.nan  # ρT[0] is 0 by definition: a window of one point says nothing
    binary = values[:, :2]
    floors = _hmm.variance_floors(continuous)
    # K-means on ρT alone, so that the first fit starts from tension regimes, not jump steps.
    observed = np.arange(1, n) if n > n_regimes else np.arange(n)
    scaler = StandardScaler().fit(values[observed, 2:3])
    kmeans = KMeans(n_clusters=n_regimes, n_init=_N_INIT, random_state=rng)
    with warnings.catch_warnings():
        # Fewer distinct ρT values than regimes: EM starts from equal states, the restarts differ.
        warnings.simplefilter("ignore", ConvergenceWarning)
        kmeans.fit(scaler.transform(values[observed, 2:3]))
    start_labels = kmeans.predict(scaler.transform(values[:, 2:3])).astype(np.int64)
    initials = [_hmm.parameters_from_labels(start_labels, n_regimes, continuous, binary, floors)]
    initials += [
        _hmm.random_parameters(rng, n_regimes, continuous, binary, floors) for _ in range(_HMM_N_INIT - 1)
    ]
    fit = _hmm.fit_hmm(continuous, binary, initials, floors, max_iter, tol)
    return _hmm.decode(fit.parameters, continuous, binary), fit


def detect_regimes(
    features, n_regimes=3, random_state=None, level=None, *, method="kmeans", max_iter=200, tol=1e-6
):
    """Regimes of a series: k-means clusters of its per-step features, or hidden Markov states.

    Each step is described by its jump events and tension (ΔΛC⁺, ΔΛC⁻, ρT) (method §2).

    - ``method="kmeans"`` (the method's clustering): the three columns are standardised (zero
      mean, unit variance; a constant column stays 0) and clustered by
      :class:`sklearn.cluster.KMeans`; each step is judged alone.
    - ``method="hmm"`` (regimes that last): a hidden Markov model whose states emit ρT from a
      Normal distribution (a mean and a variance per state) and each jump column from a
      Bernoulli distribution (a rate per state), fitted by expectation–maximisation
      (Baum–Welch) and decoded by Viterbi, the most probable sequence of states. Since
      leaving a state costs the probability of the transition, a single unusual step does not
      get a regime of its own.

    The regimes are then numbered by increasing mean tension (ties by jump rate), so ``0`` is
    the calmest.

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
        Seeds the k-means initialisation (``n_init=10`` restarts) and, for ``"hmm"``, the
        random starting means of the EM restarts.
    level : array-like of shape (n_steps,), optional
        The series itself, for the mean level of each regime.
    method : {"kmeans", "hmm"}, default="kmeans"
        How the steps are grouped (see above). The default keeps the method's clustering;
        ``"hmm"`` gives regimes that last, with their transition probabilities.
    max_iter : int, default=200
        ``"hmm"`` only: most EM iterations of each of the 5 runs (``>= 1``).
    tol : float, default=1e-6
        ``"hmm"`` only: EM stops when an iteration raises the log-likelihood by less than
        ``tol`` per step (``> 0``).

    Returns
    -------
    result : RegimeResult
        ``labels``, per-regime ``frequency``, ``mean_tension``, ``pos_jump_rate``,
        ``neg_jump_rate``, ``mean_level``, the run ``durations`` and the row-stochastic
        ``transition_matrix`` of the labels; for ``"hmm"`` also the model's
        ``fitted_transition_matrix``, ``expected_durations``, ``state_probabilities`` and
        ``log_likelihood``. Statistics of a regime that no step falls in are NaN
        (frequency 0).

    Raises
    ------
    TypeError
        If the inputs are not numeric, ``n_regimes`` or ``max_iter`` is not an integer,
        ``method`` not a string or ``tol`` not a real number.
    ValueError
        If ``features`` does not have 3 or 4 columns, has non-finite values or non-binary
        jump columns, ``n_regimes`` is outside ``1 … n_steps``, ``level`` has the wrong
        length or non-finite values, ``method`` is unknown, ``max_iter < 1`` or ``tol <= 0``.

    Warns
    -----
    ConvergenceWarning
        ``"hmm"``: EM had not converged after ``max_iter`` iterations in its best run.

    See Also
    --------
    sklearn_lambda3.plot.plot_regimes : The series over bands coloured by regime.

    Notes
    -----
    *k-means.* After standardisation a jump step lies several standard deviations away from
    the rest on its jump axis (jumps are rare: 3 % of the steps at the default 97th
    percentile), so k-means tends to give the ΔΛC⁺ steps and the ΔΛC⁻ steps regimes of their
    own before it splits calm from volatile stretches. With two kinds of stretch,
    ``n_regimes=4`` typically gives calm, volatile, positive-jump and negative-jump regimes,
    as in the first example below; features without jumps (e.g. ``delta_percentile=100``)
    give tension regimes only.

    *Hidden Markov model.* The regime ``z_t`` follows a Markov chain; given ``z_t = j``,
    ``ρT_t ~ Normal(μ_j, σ²_j)``, ``ΔΛC⁺_t ~ Bernoulli(p⁺_j)`` and ``ΔΛC⁻_t ~ Bernoulli(p⁻_j)``,
    independently. The jump columns are binary, so they get Bernoulli, not Gaussian,
    emissions: a regime is then told by its tension, and its jump rates are fitted with it.
    ρT is modelled on its own scale rather than as ``log ρT``: it is exactly 0 on flat
    stretches (no rain, saturated humidity), which a logarithm would need an arbitrary offset
    for and would turn into outliers; the spread of ρT grows with its level (a window
    standard deviation is its regime's scale times a chi variable), which the per-state
    variances take up. ``ρT[0]`` (0 by definition, a window of one point) is left out of the
    likelihood as missing, otherwise a state could be spent on it alone. Variances are kept
    above ``1e-3`` times the variance of ρT and rates in ``[1e-6, 1 - 1e-6]``, so the
    likelihood is bounded.

    EM runs in log space (forward–backward and Viterbi in O(n k²), no underflow), once from
    the k-means clusters of ρT alone and 4 more times from random means; the run of highest
    log-likelihood is kept. Viterbi decoding rather than the per-step most probable state
    (``state_probabilities.argmax(axis=1)``) gives one consistent sequence of regimes, which
    is what the runs and transitions describe. The model takes the steps as independent given
    their regimes, while overlapping ρT windows make neighbours alike; on a series whose
    volatility follows a known two-state chain (see the tests) the fitted transition
    probabilities are still within three standard errors of the true ones, and the regimes
    start a few steps late (ρT looks back ``window`` steps).

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

    The hidden Markov model finds the three stretches in two regimes, the jumps inside the
    volatile one (whose end ρT, a trailing window, sees 10 steps late):

    >>> result = detect_regimes(features, n_regimes=2, random_state=0, method="hmm")
    >>> result.durations
    [array([300, 290]), array([110])]
    >>> result.pos_jump_rate.round(3), result.neg_jump_rate.round(3)
    (array([0. , 0.1]), array([0.   , 0.091]))
    >>> result.fitted_transition_matrix.round(4)
    array([[0.9983, 0.0017],
           [0.0091, 0.9909]])
    >>> result.expected_durations.round(1)
    array([589., 110.])
    """
    values = _select_columns(features)
    n = values.shape[0]
    if isinstance(n_regimes, bool) or not isinstance(n_regimes, Integral):
        raise TypeError(f"n_regimes must be an integer; got {type(n_regimes).__name__}.")
    if not 1 <= n_regimes <= n:
        raise ValueError(f"n_regimes must be between 1 and the number of steps ({n}); got {n_regimes}.")
    n_regimes = int(n_regimes)
    level = _check_level(level, n)
    if not isinstance(method, str):
        raise TypeError(f"method must be a string, one of {METHODS}; got {type(method).__name__}.")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}.")
    max_iter = check_int(max_iter, "max_iter", 1)
    if isinstance(tol, bool) or not isinstance(tol, Real):
        raise TypeError(f"tol must be a real number; got {type(tol).__name__}.")
    if not tol > 0:  # also refuses NaN
        raise ValueError(f"tol must be > 0; got {tol}.")
    rng = check_random_state(random_state)
    if method == "kmeans":
        raw, fit = _kmeans_states(values, n_regimes, rng), None
    else:
        raw, fit = _hmm_states(values, n_regimes, rng, max_iter, float(tol))

    def per_regime(column, labels):
        total = np.bincount(labels, weights=column, minlength=n_regimes)
        count = np.bincount(labels, minlength=n_regimes)
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / count

    # Number the regimes by increasing mean tension, then jump rate (empty ones last, by
    # their model's mean tension for the HMM).
    tension = per_regime(values[:, 2], raw)
    jumps = per_regime(values[:, 0] + values[:, 1], raw)
    keys = (jumps, tension) if fit is None else (fit.parameters.means[:, 0], jumps, tension)
    order = np.lexsort(keys)
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
    model = {}
    if fit is not None:
        fitted = fit.parameters.transition[np.ix_(order, order)]
        with np.errstate(divide="ignore"):
            expected = 1.0 / (1.0 - np.diag(fitted))
        model = {
            "fitted_transition_matrix": fitted,
            "expected_durations": expected,
            "state_probabilities": fit.posterior[:, order],
            "log_likelihood": fit.log_likelihood,
        }
    return RegimeResult(
        labels=labels,
        frequency=counts / n,
        mean_tension=per_regime(values[:, 2], labels),
        pos_jump_rate=per_regime(values[:, 0], labels),
        neg_jump_rate=per_regime(values[:, 1], labels),
        mean_level=None if level is None else per_regime(level, labels),
        durations=[lengths[starts == r] for r in range(n_regimes)],
        transition_matrix=transitions,
        method=method,
        **model,
    )
