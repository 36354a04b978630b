"""Convergence diagnostics in NumPy: rank-normalised split R-hat and bulk ESS.

These follow Vehtari et al. (2021), as ArviZ's ``rhat`` and ``ess(method="bulk")`` do.
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


def ess_bulk(draws):
    """Bulk effective sample size of one scalar's draws, shaped (chains, draws)."""
    draws = np.asarray(draws, dtype=np.float64)
    if draws.shape[1] < 4:
        return float("nan")
    if np.ptp(draws) == 0:
        return float(draws.size)
    return _ess(_z_scale(_split_chains(draws)))


def _ess(chains):
    """Stan's multi-chain effective sample size with Geyer's initial monotone sequence."""
    m, n = chains.shape
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
    # Sum pairs rho[2t] + rho[2t+1] while positive, forcing them monotone; the even term of
    # the first non-positive pair still counts once when it is positive (as Stan and ArviZ do).
    pairs = rho[: 2 * (n // 2)].reshape(-1, 2).sum(axis=1)
    non_positive = np.flatnonzero(pairs <= 0)
    stop = non_positive[0] if non_positive.size else len(pairs)
    tau = -1.0 + 2.0 * np.minimum.accumulate(pairs[:stop]).sum()
    if stop < len(pairs) and rho[2 * stop] > 0:
        tau += rho[2 * stop]
    tau = max(tau, 1.0 / np.log10(m * n))
    return float(m * n / tau)
