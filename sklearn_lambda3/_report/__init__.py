"""The command line's main job: read a table of series, analyse it, write a report.

- ``_table.py``: the series of a CSV file (checks, missing cells, time labels);
- ``_pipeline.py``: :func:`analyze`, the stages in order, from a table to the written files;
- ``_stages.py``: the analysis stages that are more than one call of the analysis layer;
- ``_summaries.py``: the numbers of each section as JSON-ready values (``summary.json``);
- ``_render.py``: ``report.md`` and ``report.html`` from the summary alone;
- ``_figures.py``: the PNG figures, drawn with :mod:`sklearn_lambda3.plot`;
- ``_settings.py``: the report's windows, counts and sampler settings.
"""

from ._pipeline import analyze
from ._settings import MAX_PAIRS, N_REGIMES
from ._table import FILL_METHODS, InputError, SeriesTable, read_series_csv

__all__ = [
    "FILL_METHODS",
    "MAX_PAIRS",
    "N_REGIMES",
    "InputError",
    "SeriesTable",
    "analyze",
    "read_series_csv",
]
