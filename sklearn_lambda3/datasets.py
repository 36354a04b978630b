"""Data set generators: series with known jumps for demos, tests and benchmarks."""

from ._datasets import make_jump_series

__all__ = ["make_jump_series"]
