"""Convergence diagnostics in NumPy: split R-hat, bulk and tail ESS, MCSE and E-BFMI.

R-hat and the effective sample sizes follow Vehtari et al. (2021), as ArviZ's ``rhat``,
``ess(method="bulk" | "tail" | "mean")`` and ``mcse(method="mean")`` do; E-BFMI is
Betancourt's (2016) energy diagnostic as Stan reports it.
"""

import numpy as np
from scipy.special import ndtri
from scipy.stats import rankdata


def _split_chains(draws):
    """(chains, n) -> (2 * chains, n // 2): the first and second half of every chain."""
    half = draws.shape[1] // 2
    return np.concatenate([draws[:, :half], draws[:, draws.shape[1] - half :]], axis=0)


def _z_scale(draws):
    ranks = rankdata(draws, method="average").reshape(draws.shape)
    return ndtri((ranks - 0.375) / (draws.size + 0.25))


def _rhat(chains):
    n = chains.shape[1]
    within = chains.var(axis=1, ddof=1).mean()
    between = n * chains.mean(axis=1).var(ddof=1)
    if within <= 0:
        return 1.0 if between <= 0 else np.inf
    return float(np.sqrt(((n - 1) / n * within + between / n) / within))


def split_rhat(draws):
    """Rank-normalised split R-hat of one scalar's draws, shaped (chains, draws)."""
    draws = np.asarray(draws, dtype=np.float64)
    if draws.shape[1] < 4 or np.ptp(draws) == 0:
        return float("nan") if draws.shape[1] < 4 else 1.0
    split = _split_chains(draws)
    bulk = _rhat(_z_scale(split))
    folded = _rhat(_z_scale(np.abs(split - np.median(split))))
    return max(bulk, folded)


def _split_ess(draws, transform):
    """ESS of ``transform`` of the split chains; NaN under 4 draws a chain, all draws if constant."""
    draws = np.asarray(draws, dtype=np.float64)
    if draws.shape[1] < 4:
        return float("nan")
    if np.ptp(draws) == 0:
        return float(draws.size)
    return _ess(transform(_split_chains(draws)))


def ess_bulk(draws):
    """Bulk effective sample size of one scalar's draws, shaped (chains, draws)."""
    return _split_ess(draws, _z_scale)


def ess_tail(draws, prob=0.05):
    """Tail effective sample size of one scalar's draws, shaped (chains, draws).

    The smaller of the ESS of the indicators ``draws <= q`` for the ``prob`` and ``1 - prob``
    quantiles ``q`` of all draws, over split chains (Vehtari et al. 2021, section 4.3). An
    indicator is unchanged by the rank normalisation, so none is applied.
    """
    draws = np.asarray(draws, dtype=np.float64)
    if draws.shape[1] < 4:
        return float("nan")
    if np.ptp(draws) == 0:
        return float(draws.size)
    values = []
    for quantile in np.quantile(draws, sorted((prob, 1.0 - prob))):
        indicator = (draws <= quantile).astype(np.float64)
        values.append(float(draws.size) if np.ptp(indicator) == 0 else _ess(_split_chains(indicator)))
    return min(values)


def ess_mean(draws):
    """Effective sample size of the mean of one scalar's draws (split chains, raw values)."""
    return _split_ess(draws, lambda split: split)


def mcse_mean(draws):
    """Monte Carlo standard error of the posterior mean: ``sd / sqrt(ESS_mean)``.

    ``sd`` is the standard deviation of all draws (``ddof=1``), as in ArviZ's
    ``mcse(method="mean")``; 0 for constant draws.
    """
    draws = np.asarray(draws, dtype=np.float64)
    if draws.shape[1] < 4:
        return float("nan")
    if np.ptp(draws) == 0:
        return 0.0
    return float(np.std(draws, ddof=1) / np.sqrt(ess_mean(draws)))


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
    """Stan's multi-chain effective sample size with Geyer's initial monotone sequence."""
    m, n = chains.shape
    if np.ptp(chains) < np.finfo(np.float64).resolution:
        return float(m * n)
    centred = chains - chains.mean(axis=1, keepdims=True)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(centred, n=size, axis=1)
    acov = np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=1)[:, :n] / n
    chain_var = acov[:, 0] * n / (n - 1)
    within = chain_var.mean()
    var_plus = within * (n - 1) / n
    if m > 1:
        var_plus += chains.mean(axis=1).var(ddof=1)
    rho = 1.0 - (within - acov.mean(axis=0)) / var_plus
    rho[0] = 1.0
    # Geyer: sum pairs rho[2t] + rho[2t+1] while positive, forcing them monotone; the even term
    # of the first non-positive pair still counts once when it is positive. As Stan and ArviZ
    # do, only the pairs t with 2t < n - 2 are formed; when all are positive the last one
    # counts by its even term alone.
    last = max((n - 3) // 2, 0)
    pairs = rho[: 2 * (last + 1)].reshape(-1, 2).sum(axis=1)
    non_positive = np.flatnonzero(pairs[1:] <= 0) + 1
    if non_positive.size:
        stop = non_positive[0]
        extra = max(rho[2 * stop], 0.0)
    else:
        stop, extra = last, rho[2 * last]
    tau = -1.0 + 2.0 * np.minimum.accumulate(pairs[:stop]).sum() + extra
    tau = max(tau, 1.0 / np.log10(m * n))
    return float(m * n / tau)
