"""The dynamic model's Kalman layer: the filters that integrate the level, the change-point steps
and the coefficients out of its likelihood.

- ``_host.py``: on the host, in NumPy and Numba: the (τ, σ) posterior's mode and curvature
  (the sampler's coordinates), the evidence shrinkage, and the exact draws given each
  posterior draw. ``KALMAN_INPUTS`` names the series' arrays every filter takes.
- ``_kernels.py``: the Numba kernels (the filter, its likelihood and gradient, the draws).
- ``_bridge.py``: the Numba kernel as an XLA FFI custom call of the compiled sampler.
- ``_jax.py``: the same likelihood written in JAX, inside the program.
- ``_filters.py``: the one interface the model uses, ``FILTERS[name]`` (``"numba"``, ``"jax"``),
  and ``choose_filter``.
"""

from ._filters import FILTERS, JaxFilter, NumbaFilter, choose_filter
from ._host import (
    KALMAN_INPUTS,
    conditional_posterior,
    dynamic_evidence_shrinkage,
    dynamic_reference,
    laplace_log_evidence,
)

__all__ = [
    "FILTERS",
    "KALMAN_INPUTS",
    "JaxFilter",
    "NumbaFilter",
    "choose_filter",
    "conditional_posterior",
    "dynamic_evidence_shrinkage",
    "dynamic_reference",
    "laplace_log_evidence",
]
