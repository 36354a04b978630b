"""The two filters the dynamic model's program can integrate the level with, behind one interface.

Each filter object tells the runners how the program is compiled (``float64``,
``independent_chains``), hands the series to the program before a run (``prepare``), computes
the collapsed log-likelihood inside the NumPyro program (``log_likelihood``) and lets go of
the series after it (``release``). :data:`FILTERS` holds one of each by name, the name the
estimator's ``kalman`` takes; :func:`choose_filter` resolves ``kalman="auto"``.

JAX is imported only by the methods, so importing this module stays light.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class NumbaFilter:
    """The Numba kernel on the host CPU, called from the program as an XLA FFI custom call.

    The program does not depend on the series (it passes a token, the address of the host
    arrays, see :mod:`sklearn_lambda3.bayes._kalman._bridge`), so any length reuses it.
    """

    #: The program stays float32: the kernel computes in float64 whatever it is handed.
    float64 = False
    #: The kernel's cost grows with the chains handed to it: chains vectorised in lockstep
    #: would hand it every chain at every leapfrog step of the longest tree.
    independent_chains = True
    #: The FFI target is registered for the CPU only.
    cpu_only = True

    def prepare(self, inputs):
        """Keep the series (the tuple of ``KALMAN_INPUTS``) on the host: ``({"token": address}, token)``."""
        from ._bridge import register

        token, address = register(inputs)
        return {"token": address}, token

    def log_likelihood(self, params, data):
        """The collapsed log-likelihood at ``params = (τ, σ_base, σ_scale)``, in the program."""
        from ._bridge import kalman_log_likelihood

        return kalman_log_likelihood(params, data["token"])

    def release(self, token):
        """Forget the series of ``token`` (None: nothing was kept)."""
        if token is None:
            return
        from ._bridge import release

        release(token)


@dataclass(frozen=True)
class JaxFilter:
    """The filter written in JAX, inside the program, parallel in time, on any device.

    The series is padded to :func:`~sklearn_lambda3.bayes._kalman._jax.bucket_length`, so
    lengths in one bucket share a program (see :mod:`sklearn_lambda3.bayes._kalman._jax`).
    """

    #: The filter's sums of logarithms and its square-root factor need float64 (scoped to the fit).
    float64 = True
    independent_chains = False
    cpu_only = False

    def prepare(self, inputs):
        """The padded series as program data: ``(filter_data(...), None)``."""
        from ._jax import bucket_length, filter_data

        return filter_data(inputs, bucket_length(len(inputs[0]))), None

    def log_likelihood(self, params, data):
        """The collapsed log-likelihood at ``params = (τ, σ_base, σ_scale)``, in the program."""
        from ._jax import FILTER_DATA, log_likelihood

        return log_likelihood(params, {name: data[name] for name in FILTER_DATA})

    def release(self, token):
        """Nothing to release: the series lives in the program's data."""


FILTERS = {"numba": NumbaFilter(), "jax": JaxFilter()}


def choose_filter(setting, platform):
    """The name in :data:`FILTERS` of the filter the sampler runs.

    ``setting`` is the estimator's ``kalman``; ``"auto"`` takes the JAX filter on an
    accelerator (``platform`` is not ``"cpu"``: the Numba kernel runs on the CPU only, and
    reaching it from a device would stall the device at every step) and the Numba kernel on a
    CPU, where it is the faster at every length, per evaluation and per fit
    (``benchmarks/bench_dynamic.py --only filters``).
    """
    if setting != "auto":
        return setting
    return "numba" if platform == "cpu" else "jax"
