"""
Change points
=============

:func:`~sklearn_lambda3.analysis.detect_change_points` segments a series into stretches of constant
(or drifting) level by an exact penalised search, robust to autocorrelated noise, seasons and isolated
spikes.
"""

import numpy as np

from sklearn_lambda3.analysis import detect_change_points
from sklearn_lambda3.plot import plot_change_points

rng = np.random.default_rng(1)
x = np.concatenate([np.zeros(120), np.full(80, 3.0), np.full(100, 1.0)]) + rng.normal(size=300)
x[50] += 8.0  # a single spike: not a change of level

change_points = detect_change_points(x)
print("change points:", change_points)

# %%
# Each segment's mean as a step line:
plot_change_points(x, change_points)
