"""Shared set-up of the test session.

- Makes this folder's helper modules importable: ``--import-mode=importlib`` (pyproject.toml)
  leaves ``sys.path`` alone, so a plain ``from _bayes_helpers import ...`` needs the folder
  added here, once, before the tests load.
- Drops JAX's compiled programs after each test module. A session compiles a few thousand
  programs (every check of every estimator configuration, at the shapes of its data), and
  XLA keeps their machine code for the life of the process; no test relies on a program
  compiled in another module.
"""

import sys
from pathlib import Path

import pytest

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.append(_TESTS)


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    yield
    jax = sys.modules.get("jax")
    if jax is not None:
        jax.clear_caches()
