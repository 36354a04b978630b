"""Convergence diagnostics in NumPy: split R-hat, bulk and tail ESS, MCSE and E-BFMI.

R-hat and the effective sample sizes follow Vehtari et al. (2021), as ArviZ's ``rhat``,
``ess(method="bulk" | "tail" | "mean")`` and ``mcse(method="mean")`` do; E-BFMI is
Betancourt's (2016) energy diagnostic as Stan reports it.

Each takes one scalar's draws shaped (chains, draws) and returns a float, or the draws of
many parameters shaped (chains, draws, parameters) and returns one value per parameter,
computed for all of them at once (in blocks of :data:`_BLOCK` parameters, which bound the
memory of the FFTs): a fit of thousands of parameters is not a Python loop over them.
"""

import numpy as np
from scipy.special import ndtri
from scipy.stats import rankdata

# Parameters whose diagnostics are computed together (see the module docstring).
_BLOCK = 256


def _split_chains(draws):
    """(chains, n, ...) -> (2 * chains, n // 2, ...): the first and second half of every chain."""
    half = draws.shape[1] // 2
    return np.concatenate([draws[:, :half], draws[:, draws.shape[1] - half :]], axis=0)


def _per_parameter(diagnostic):
    """``diagnostic`` of (chains, draws, parameters) -> (parameters,) for (chains, draws) -> float too.

    Runs it on blocks of :data:`_BLOCK` parameters.
    """

    def wrapper(draws, *args, **kwargs):
        draws = np.asarray(draws, dtype=np.float64)
        scalar = draws.ndim == 2
        batch = draws[:, :, None] if scalar else draws
        values = np.empty(batch.shape[2])
        for start in range(0, batch.shape[2], _BLOCK):
            values[start : start + _BLOCK] = diagnostic(batch[:, :, start : start + _BLOCK], *args, **kwargs)
        return float(values[0]) if scalar else values

    wrapper.__name__ = diagnostic.__name__
    wrapper.__doc__ = diagnostic.__doc__
    return wrapper


def _varying(draws):
    """Which parameters' draws are not all equal."""
    return np.ptp(draws, axis=(0, 1)) != 0


def _average_ranks(values):
    """Ranks (1-based, ties given their average rank) of each column of ``values``, as
    ``rankdata(values, method="average", axis=0)``, in a few sorts and scans of the whole
    block (each column contiguous) rather than one call per column."""
    if np.isnan(values).any():
        return rankdata(values, method="average", axis=0)
    rows = np.ascontiguousarray(values.T)
    count, size = rows.shape
    order = np.argsort(rows, axis=1)
    ordered = np.take_along_axis(rows, order, axis=1)
    ties = ordered[:, 1:] == ordered[:, :-1]
    position = np.broadcast_to(np.arange(size, dtype=np.float64), rows.shape)
    if ties.any():
        # A run of equal values from ``first`` to ``last`` (0-based) shares (first + last) / 2.
        starts = np.ones(rows.shape, dtype=bool)
        starts[:, 1:] = ~ties
        ends = np.ones(rows.shape, dtype=bool)
        ends[:, :-1] = ~ties
        first = np.maximum.accumulate(np.where(starts, position, 0.0), axis=1)
        last = np.minimum.accumulate(np.where(ends, position, size - 1.0)[:, ::-1], axis=1)[:, ::-1]
        position = 0.5 * (first + last)
    ranks = np.empty(rows.shape)
    np.put_along_axis(ranks, order, position + 1.0, axis=1)
    return ranks.T


def _z_scale(draws):
    """Rank-normalised draws, each parameter over all its chains."""
    chains, n, count = draws.shape
    ranks = _average_ranks(draws.reshape(chains * n, count)).reshape(draws.shape)
    return ndtri((ranks - 0.375) / (draws[:, :, 0].size + 0.25))


def _rhat(chains):
    n = chains.shape[1]
    within = chains.var(axis=1, ddof=1).mean(axis=0)
    between = n * chains.mean(axis=1).var(axis=0, ddof=1)
    positive = within > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.sqrt(((n - 1) / n * within + between / n) / np.where(positive, within, 1.0))
    return np.where(positive, value, np.where(between <= 0, 1.0, np.inf))


@_per_parameter
def split_rhat(draws):
    """Rank-normalised split R-hat of a scalar's draws, shaped (chains, draws) (or per parameter)."""
    values = np.ones(draws.shape[2])
    if draws.shape[1] < 4:
        return np.full(draws.shape[2], np.nan)
    varying = _varying(draws)
    if varying.any():
        split = _split_chains(draws[:, :, varying])
        bulk = _rhat(_z_scale(split))
        folded = _rhat(_z_scale(np.abs(split - np.median(split, axis=(0, 1)))))
        values[varying] = np.maximum(bulk, folded)
    return values


def _split_ess(draws, transform):
    """ESS of ``transform`` of the split chains; NaN under 4 draws a chain, all draws if constant."""
    if draws.shape[1] < 4:
        return np.full(draws.shape[2], np.nan)
    values = np.full(draws.shape[2], float(draws[:, :, 0].size))
    varying = _varying(draws)
    if varying.any():
        values[varying] = _ess(transform(_split_chains(draws[:, :, varying])))
    return values


@_per_parameter
def ess_bulk(draws):
    """Bulk effective sample size of a scalar's draws, shaped (chains, draws) (or per parameter)."""
    return _split_ess(draws, _z_scale)


@_per_parameter
def ess_tail(draws, prob=0.05):
    """Tail effective sample size of a scalar's draws, shaped (chains, draws) (or per parameter).

    The smaller of the ESS of the indicators ``draws <= q`` for the ``prob`` and ``1 - prob``
    quantiles ``q`` of all draws, over split chains (Vehtari et al. 2021, section 4.3). An
    indicator is unchanged by the rank normalisation, so none is applied.
    """
    if draws.shape[1] < 4:
        return np.full(draws.shape[2], np.nan)
    size = float(draws[:, :, 0].size)
    values = np.full(draws.shape[2], size)
    varying = _varying(draws)
    if not varying.any():
        return values
    chosen = draws[:, :, varying]
    quantiles = np.quantile(chosen.reshape(-1, chosen.shape[2]), sorted((prob, 1.0 - prob)), axis=0)
    tails = []
    for quantile in quantiles:
        indicator = (chosen <= quantile).astype(np.float64)
        tail = np.full(chosen.shape[2], size)
        moving = _varying(indicator)
        if moving.any():
            tail[moving] = _ess(_split_chains(indicator[:, :, moving]))
        tails.append(tail)
    values[varying] = np.minimum(*tails)
    return values


@_per_parameter
def ess_mean(draws):
    """Effective sample size of the mean of a scalar's draws (split chains, raw values)."""
    return _split_ess(draws, lambda split: split)


@_per_parameter
def mcse_mean(draws):
    """Monte Carlo standard error of the posterior mean: ``sd / sqrt(ESS_mean)``.

    ``sd`` is the standard deviation of all draws (``ddof=1``), as in ArviZ's
    ``mcse(method="mean")``; 0 for constant draws.
    """
    if draws.shape[1] < 4:
        return np.full(draws.shape[2], np.nan)
    values = np.zeros(draws.shape[2])
    varying = _varying(draws)
    if varying.any():
        chosen = draws[:, :, varying]
        sd = chosen.reshape(-1, chosen.shape[2]).std(axis=0, ddof=1)
        values[varying] = sd / np.sqrt(_split_ess(chosen, lambda split: split))
    return values


def e_bfmi(energy):
    """Energy Bayesian fraction of missing information of each chain.

    ``E-BFMI = Σ_t (E_t - E_{t-1})² / Σ_t (E_t - Ē)²`` over one chain's Hamiltonian energy
    ``E`` (Stan's definition, and ArviZ's ``bfmi`` in 0.x and 1.x).
    Values below 0.3 mean the momentum resampling explores the energy distribution poorly.

    Parameters
    ----------
    energy : array-like of shape (n_chains, n_draws)
        Energy of each draw.

    Returns
    -------
    e_bfmi : ndarray of shape (n_chains,)
        NaN for a chain of fewer than two draws or of constant energy.
    """
    energy = np.atleast_2d(np.asarray(energy, dtype=np.float64))
    numerator = np.sum(np.diff(energy, axis=1) ** 2, axis=1)
    denominator = np.sum((energy - energy.mean(axis=1, keepdims=True)) ** 2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), np.nan)


def tree_depth(num_steps):
    """NUTS tree depth from the number of leapfrog steps, as ``arviz.from_numpyro`` computes it."""
    return np.log2(np.maximum(np.asarray(num_steps), 1)).astype(int) + 1


def _ess(chains):
    """Stan's multi-chain effective sample size with Geyer's initial monotone sequence, per
    parameter of (chains, n, parameters)."""
    m, n, count = chains.shape
    values = np.full(count, float(m * n))
    active = np.ptp(chains, axis=(0, 1)) >= np.finfo(np.float64).resolution
    if not active.any():
        return values
    chains = chains[:, :, active]
    columns = np.arange(chains.shape[2])
    centred = chains - chains.mean(axis=1, keepdims=True)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(centred, n=size, axis=1)
    acov = np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=1)[:, :n] / n
    chain_var = acov[:, 0] * n / (n - 1)
    within = chain_var.mean(axis=0)
    var_plus = within * (n - 1) / n
    if m > 1:
        var_plus = var_plus + chains.mean(axis=1).var(axis=0, ddof=1)
    rho = 1.0 - (within - acov.mean(axis=0)) / var_plus
    rho[0] = 1.0
    # Geyer: sum pairs rho[2t] + rho[2t+1] while positive, forcing them monotone; the even term
    # of the first non-positive pair still counts once when it is positive. As Stan and ArviZ
    # do, only the pairs t with 2t < n - 2 are formed; when all are positive the last one
    # counts by its even term alone.
    last = max((n - 3) // 2, 0)
    pairs = rho[: 2 * (last + 1)].reshape(last + 1, 2, -1).sum(axis=1)
    non_positive = pairs[1:] <= 0
    found = non_positive.any(axis=0)
    first = np.argmax(non_positive, axis=0) + 1 if last > 0 else np.zeros(pairs.shape[1], dtype=int)
    stop = np.where(found, first, last)
    extra = np.where(found, np.maximum(rho[2 * stop, columns], 0.0), rho[2 * last])
    monotone = np.minimum.accumulate(pairs, axis=0)
    before_stop = np.arange(last + 1)[:, None] < stop
    tau = -1.0 + 2.0 * np.where(before_stop, monotone, 0.0).sum(axis=0) + extra
    tau = np.maximum(tau, 1.0 / np.log10(m * n))
    values[active] = m * n / tau
    return values
