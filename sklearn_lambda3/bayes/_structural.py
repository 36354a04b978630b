"""Structural terms of the dynamic model: seasons as Fourier terms and a drift of the level.

Both are columns of the Kalman filter's design whose coefficients the filter integrates out,
as it does the regressors' (spec §3, structural components): a season of period ``p`` with
``H`` harmonics is ``Σ_h γ_h cos(2π h t / p) + γ'_h sin(2π h t / p)`` and a drift ``μ`` of the
random-walk level is the term ``μ t``. ``t`` is the time step of the model's time contract, so
the same columns continue every component into a forecast.
"""

import math

import numpy as np

from .._validation import default_harmonics


def find_seasonality(y, calendar=()):
    """``((p, default_harmonics(p)),)`` for the period ``p`` that the change-point detector's season
    finder sees in ``y`` (NaN steps linearly interpolated; a period near one of the rows'
    ``calendar`` periods is taken to be it), or ``()`` if it sees none."""
    from .._changepoints import seasonal_period

    y = np.asarray(y, dtype=np.float64)
    observed = ~np.isnan(y)
    if not observed.all():
        steps = np.arange(len(y))
        y = np.interp(steps, steps[observed], y[observed])
    period = seasonal_period(y, calendar)
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


def seasonal_cycle(seasons):
    """Steps after which every season's columns repeat bit for bit: the least common multiple of
    the periods when they are all whole numbers of steps (:func:`seasonal_columns` takes their
    phase from the step modulo the period), or None for a fractional period."""
    cycle = 1
    for period, _ in seasons:
        if float(period) != int(period):
            return None
        cycle = math.lcm(cycle, int(period))
    return cycle


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
