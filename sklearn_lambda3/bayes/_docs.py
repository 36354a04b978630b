"""Parameter docs that the Bayesian estimators share, written once, and the decorator that puts
them into the estimators' docstrings.

A docstring holds a placeholder line ``{name}`` (alone on its line, indented as the text should
be); :func:`substitute_docs` replaces it by :data:`SHARED_DOCS`'s ``name`` entry, indented
alike, when the class is defined. The rendered ``__doc__`` is an ordinary numpydoc docstring.
"""

import re

SHARED_DOCS = {
    "noise_prior_scale": """\
noise_prior_scale : float, default=1.0
    Scale of the HalfNormal prior on the noise.""",
    "tension_feature": """\
tension_feature : str or None, default=None
    With ``noise="tension"``, the name of the ρT regressor that drives the noise;
    ``None`` takes the first column named ``*__rho_T``.""",
    "sampler_parameters": """\
num_warmup : int, default=1000
    Warm-up (adaptation) iterations per chain.
num_samples : int, default=1000
    Kept draws per chain.
num_chains : int, default=4
    Number of chains, run vectorised on one device.
target_accept_prob : float, default=0.8
    Target acceptance probability of NUTS's step-size adaptation.
max_tree_depth : int, default=10
    Maximum tree depth of NUTS.
device : {"cpu", "gpu", "auto"}, default="cpu"
    Where sampling runs. ``"auto"`` picks a GPU when JAX sees one, else the CPU.
random_state : int, RandomState instance or None, default=None
    Seeds the sampler; the same seed gives bitwise-identical draws on one machine.
progress_bar : bool or "auto", default="auto"
    Show a progress bar while sampling (NUTS: its description switches from ``warmup`` to
    ``sample``; SVI: the optimisation steps). ``"auto"`` shows it when stderr is a terminal
    or in an IPython/Jupyter kernel, and not in logs or CI.
inference : {"nuts", "svi"}, default="nuts"
    NUTS (exact up to Monte Carlo error) or SVI (a faster approximation).
guide : {"normal", "lowrank"}, default="normal"
    SVI only: the autoguide, mean-field Normal or low-rank multivariate Normal.
svi_steps : int, default=4000
    SVI only: number of optimisation steps.
svi_learning_rate : float, default=0.02
    SVI only: Adam's initial step size (it decays to a tenth over the steps).""",
    "sampler_parameters_as_in_linear": """\
num_warmup, num_samples, num_chains, target_accept_prob, max_tree_depth, device, \
random_state, progress_bar, inference, guide, svi_steps, svi_learning_rate
    The sampler's settings, as in :class:`Lambda3BayesRegressor`.""",
}


def substitute_docs(obj):
    """Class decorator: every placeholder line ``{name}`` of ``obj``'s docstring becomes
    ``SHARED_DOCS[name]``, each of its lines indented as the placeholder was.

    A placeholder naming no entry is an error, so a misspelt one cannot reach the rendered docs.
    """

    def replace(match):
        indent, name = match.group(1), match.group(2)
        if name not in SHARED_DOCS:
            raise KeyError(f"{obj.__qualname__}'s docstring names no shared doc {name!r}.")
        return "\n".join(indent + line if line else line for line in SHARED_DOCS[name].splitlines())

    obj.__doc__ = re.sub(r"^([ \t]*)\{(\w+)\}[ \t]*$", replace, obj.__doc__, flags=re.MULTILINE)
    return obj
