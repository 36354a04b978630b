"""Structural terms of the dynamic model: seasons as Fourier terms and a drift of the level.

Both are columns of the Kalman filter's design whose coefficients the filter integrates out,
as it does the regressors' (spec §3, structural components): a season of period ``p`` with
``H`` harmonics is ``Σ_h γ_h cos(2π h t / p) + γ'_h sin(2π h t / p)`` and a drift ``μ`` of the
random-walk level is the term ``μ t``. ``t`` is the time step of the model's time contract, so
the same columns continue every component into a forecast.
"""

import math
from numbers import Integral, Real

import numpy as np

# Harmonics of a period given without them: a smooth profile, as Prophet's weekly and daily
# seasons and statsmodels' examples use, or every harmonic of a short period.
DEFAULT_HARMONICS = 3


def default_harmonics(period):
    """``min(3, ⌊p / 2⌋)`` harmonics for a period ``p``."""
    return max(1, min(DEFAULT_HARMONICS, int(period // 2)))


def _check_period(period):
    if isinstance(period, bool) or not isinstance(period, Real) or not math.isfinite(period) or period < 2:
        raise ValueError(f"seasonality periods must be numbers of at least 2 time steps; got {period!r}.")
    return int(period) if float(period).is_integer() else float(period)


def check_seasonality(seasonality):
    """The ``seasonality`` parameter as a tuple of ``(period, harmonics)``, or ``"auto"``.

    Accepts None (no season), a period, a list of periods, a dict ``{period: harmonics}`` or
    ``"auto"``; raises a ValueError or TypeError naming the problem otherwise.
    """
    if seasonality is None:
        return ()
    if isinstance(seasonality, str):
        if seasonality == "auto":
            return "auto"
        raise ValueError(
            f"seasonality must be None, 'auto', a period, a list of periods or a dict; got {seasonality!r}."
        )
    if isinstance(seasonality, dict):
        pairs = []
        for period, harmonics in seasonality.items():
            period = _check_period(period)
            if isinstance(harmonics, bool) or not isinstance(harmonics, Integral) or harmonics < 1:
                raise ValueError(
                    f"seasonality={{{period}: {harmonics!r}}}: harmonics must be a positive integer."
                )
            if harmonics > period / 2:
                raise ValueError(
                    f"seasonality={{{period}: {harmonics}}}: a period of {period} steps has at most "
                    f"{int(period // 2)} harmonics (frequencies up to half a cycle per step)."
                )
            pairs.append((period, int(harmonics)))
    else:
        periods = np.atleast_1d(np.asarray(seasonality, dtype=object))
        if periods.ndim != 1 or periods.size == 0:
            raise ValueError(
                f"seasonality must be a period or a non-empty list of periods; got {seasonality!r}."
            )
        pairs = [(p, default_harmonics(p)) for p in (_check_period(p) for p in periods)]
    periods = [p for p, _ in pairs]
    if len(set(periods)) != len(periods):
        raise ValueError(f"seasonality lists a period twice: {periods}.")
    return tuple(sorted(pairs))


def find_seasonality(y):
    """``((p, default_harmonics(p)),)`` for the period ``p`` that the change-point detector's season
    finder sees in ``y`` (NaN steps linearly interpolated), or ``()`` if it sees none."""
    from .._changepoints import _seasonal_period

    y = np.asarray(y, dtype=np.float64)
    observed = ~np.isnan(y)
    if not observed.all():
        steps = np.arange(len(y))
        y = np.interp(steps, steps[observed], y[observed])
    period = _seasonal_period(y)
    return ((period, default_harmonics(period)),) if period else ()


def seasonal_labels(seasons):
    """Names of the Fourier columns, e.g. ``season24_cos1``, ``season24_sin1``, …"""
    labels = []
    for period, harmonics in seasons:
        for h in range(1, harmonics + 1):
            labels.append(f"season{period}_cos{h}")
            if 2 * h != period:  # sin(π t) is 0 at every step
                labels.append(f"season{period}_sin{h}")
    return labels


def seasonal_columns(steps, seasons):
    """Fourier columns of ``seasons`` at the time ``steps``, (n_steps, n_columns), in the order
    of :func:`seasonal_labels`. The phase is taken modulo the period first, so a step far from
    the training rows keeps its precision."""
    steps = np.asarray(steps, dtype=np.int64)
    columns = []
    for period, harmonics in seasons:
        if isinstance(period, int):
            phase = 2.0 * math.pi * (steps % period) / period
        else:
            phase = 2.0 * math.pi * np.mod(steps.astype(np.float64), period) / period
        for h in range(1, harmonics + 1):
            columns.append(np.cos(h * phase))
            if 2 * h != period:
                columns.append(np.sin(h * phase))
    if not columns:
        return np.zeros((steps.shape[0], 0))
    return np.column_stack(columns)
