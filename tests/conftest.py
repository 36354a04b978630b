"""Makes this folder's helper modules importable from the test files.

``--import-mode=importlib`` (pyproject.toml) leaves ``sys.path`` alone, so a plain
``from _bayes_helpers import ...`` needs the folder added here, once, before the tests load.
"""

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.append(_TESTS)
