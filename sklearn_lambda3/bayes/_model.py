"""The protocol every Bayesian model of the package follows, and its default host hooks.

A model is a small frozen dataclass (hashable: it is the static argument of the compiled
runners in :mod:`~sklearn_lambda3.bayes._inference`, so equal models share one compiled
program). It says:

- ``float64``: whether its program runs in float64 (scoped to the fit, never global);
- ``independent_chains``: whether NUTS runs each chain as its own program (in threads) rather
  than all chains vectorised in lockstep (see :func:`~sklearn_lambda3.bayes._inference._independent_chains`);
- ``reported_sites``: the sites whose draws the runner returns (the sampled coordinates that only
  reparameterise them are not returned);
- :meth:`program`: its NumPyro program on standardised data;
- :meth:`latent_shapes`: the unconstrained shapes of the sites NUTS samples;
- :meth:`initial_values`: where SVI's guide starts;
- :meth:`dense_mass`: whether NUTS adapts a dense mass matrix;
- :meth:`prepare` / :meth:`complete` / :meth:`release`: what happens on the host before the
  program runs (turning NumPy data into the program's inputs), after it (draws made exactly on
  the host from each posterior draw) and in any case at the end.

The estimator of the same module validates and standardises the data, builds the model's data
dict, and turns the completed draws into fitted attributes and predictive moments.
"""

from typing import Protocol


class BayesModel(Protocol):
    """What the inference runner needs of a model (see the module docstring)."""

    float64: bool
    independent_chains: bool
    reported_sites: tuple

    def program(self, data): ...

    def latent_shapes(self, data): ...

    def initial_values(self, data): ...

    def dense_mass(self, dimension): ...

    def prepare(self, data): ...

    def complete(self, draws, data, state, seed): ...

    def release(self, state): ...


class HostFreeModel:
    """Default hooks of a model whose program takes the data as they are and needs no host work."""

    float64 = False
    independent_chains = False

    def dense_mass(self, dimension):
        return False

    def prepare(self, data):
        return data, None

    def complete(self, draws, data, state, seed):
        return draws

    def release(self, state):
        pass
