"""The noise of the Bayesian models: its sites, its floor and the method's tension formula."""

from .._columns import TENSION_ENDING

# Smallest noise scale in standard deviations of y: keeps the posterior proper when the
# target is (nearly) constant.
NOISE_FLOOR = 1e-6

# Sites of each noise model, in units of the standardised target.
NOISE_SITES = {"constant": ("sigma",), "tension": ("sigma_base", "sigma_scale")}


def tension_noise(sigma_base, sigma_scale, tension):
    """The method's tension-dependent noise sd ``σ_t = σ_base + σ_scale · τ_t`` (NumPy or JAX).

    ``τ_t`` is the ρT regressor divided by its training mean, so ``σ_scale`` is the extra noise
    at the typical tension.
    """
    return sigma_base + sigma_scale * tension


def tension_noise_variance(sigma_base, sigma_scale, tension):
    """Posterior mean of ``σ_t²`` over draws of ``(σ_base, σ_scale)``, for every ``τ_t``."""
    return (
        (sigma_base**2).mean()
        + 2 * (sigma_base * sigma_scale).mean() * tension
        + (sigma_scale**2).mean() * tension**2
    )


def tension_column(names, tension_feature):
    """Index of the regressor that drives ``noise="tension"``, or a ValueError saying what to pass."""
    names = [] if names is None else [str(name) for name in names]
    if tension_feature is not None:
        if tension_feature not in names:
            raise ValueError(
                f"tension_feature={tension_feature!r} is not a column of X; "
                f"columns: {names or 'none named (pass a pandas DataFrame)'}."
            )
        return names.index(tension_feature)
    for i, name in enumerate(names):
        if name.endswith(TENSION_ENDING):
            return i
    raise ValueError(
        "noise='tension' needs a tension regressor: a column named '*__rho_T' (use a "
        "DataFrame or set_output(transform='pandas')) or tension_feature=<column name>."
    )
