"""Analysis of single series: level-shift change points."""

from ._changepoints import detect_change_points

__all__ = ["detect_change_points"]
