"""Shared set-up of the test session.

- Makes this folder's helper modules importable: ``--import-mode=importlib`` (pyproject.toml)
  leaves ``sys.path`` alone, so a plain ``from _bayes_helpers import ...`` needs the folder
  added here, once, before the tests load.
- Drops JAX's compiled programs after each test module. A session compiles a few thousand
  programs (every check of every estimator configuration, at the shapes of its data), and
  XLA keeps their machine code for the life of the process; no test relies on a program
  compiled in another module.
- Shares compiled programs on disk for the session: JAX's persistent compilation cache, in a
  temporary folder that the session's first process makes (before JAX is imported), that the
  pytest-xdist workers inherit through the environment and that the same process removes at
  the end. A program that another worker or an earlier module compiled is then loaded, not
  compiled again. This is the test session's setting, not the package's: the package never
  changes JAX's configuration. A ``JAX_COMPILATION_CACHE_DIR`` already set is left alone.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.append(_TESTS)

_SESSION_CACHE = None
if "JAX_COMPILATION_CACHE_DIR" not in os.environ and "jax" not in sys.modules:
    _SESSION_CACHE = tempfile.mkdtemp(prefix="sklearn-lambda3-tests-jax-")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _SESSION_CACHE
    # Every program, however quick to compile: the checks' small programs are most of them.
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"


def pytest_unconfigure(config):
    if _SESSION_CACHE is not None:
        shutil.rmtree(_SESSION_CACHE, ignore_errors=True)


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    yield
    jax = sys.modules.get("jax")
    if jax is not None:
        jax.clear_caches()
