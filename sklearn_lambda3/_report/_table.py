"""Reading a table of series from a CSV file, for the command line: checks, missing cells, time labels."""

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MIN_ROWS = 20
FILL_METHODS = ("ffill", "interpolate", "drop")
# Cells read as missing (case-insensitive), besides empty ones.
MISSING_TOKENS = frozenset({"nan", "na", "n/a", "null", "none", "-"})


class InputError(ValueError):
    """A problem with the user's file or arguments, reported in one line."""


@dataclass
class SeriesTable:
    """The series of a CSV file.

    Attributes
    ----------
    names : list of str
        The series' column names, in file order (the time column left out).
    values : ndarray of shape (n_rows, n_series)
        float64, finite: missing cells filled (or their rows dropped) by the chosen method.
    times : list of str or None
        The time column's cells of the rows kept, or ``None`` without a time column.
    time_column : str or None
        The time column's name.
    filled : dict of str to int
        Missing cells per series that were filled (``ffill``, ``interpolate``).
    dropped_rows : int
        Rows left out because of a missing cell (``drop``).
    """

    names: list
    values: np.ndarray
    times: list | None
    time_column: str | None
    filled: dict
    dropped_rows: int = 0

    @classmethod
    def from_values(cls, names, values):
        """A table of series held in memory: no time column, no missing cell.

        Parameters
        ----------
        names : sequence of str
            The series' names.
        values : array-like of shape (n_rows, n_series)
            The series in columns, rows in time order.

        Returns
        -------
        table : SeriesTable
        """
        return cls(list(names), np.asarray(values, dtype=np.float64), None, None, {})

    def time_of(self, row):
        """The time label of a row (a string), or the row number when there is no time column."""
        return str(row) if self.times is None else self.times[row]


def read_series_csv(path, *, time_column=None, fill=None):
    """Read a CSV of series (a header row, one column per series, rows in time order).

    The time column is ``time_column``, or else the first column when its first cell is not
    a number. A missing cell (empty, or ``NaN``, ``NA``, ``null``…) is an error unless
    ``fill`` says what to do with it:

    - ``"ffill"``: the last value seen above it in its column (a column's leading missing
      cells take its first value);
    - ``"interpolate"``: linear in the row number between the values around it (the ends
      take the nearest value);
    - ``"drop"``: the rows with a missing cell are left out.

    Raises :class:`InputError` naming the problem (empty file, missing column, non-numeric
    or missing cell with its line and column, too few rows, a column without any value).

    Returns
    -------
    table : SeriesTable
    """
    if fill is not None and fill not in FILL_METHODS:
        raise InputError(f"--fill must be one of {', '.join(FILL_METHODS)}; got {fill!r}")
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    except UnicodeDecodeError as error:
        raise InputError(f"{path} is not a UTF-8 text file ({error.reason})") from error
    except csv.Error as error:
        raise InputError(f"{path} is not a readable CSV file: {error}") from error
    if not rows:
        raise InputError(f"{path} is empty: expected a header row and one column per series")
    header = [name.strip() for name in rows[0]]
    body = rows[1:]
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise InputError(f"{path}, line {number}: {len(row)} cells but the header has {len(header)}")
    if len(set(header)) != len(header):
        repeated = sorted({name for name in header if header.count(name) > 1})
        raise InputError(f"{path}: the header names {', '.join(map(repr, repeated))} more than once")
    if time_column is not None and time_column not in header:
        raise InputError(
            f"--time-column {time_column!r} is not a column of {path} (columns: {', '.join(header)})"
        )
    if time_column is None and body and not is_number(body[0][0]) and not _is_missing(body[0][0]):
        time_column = header[0]
    names = [name for name in header if name != time_column]
    if not names:
        raise InputError(f"{path} has no series column besides the time column {time_column!r}")
    if len(body) < MIN_ROWS:
        raise InputError(f"{path} has {len(body)} data rows; the analysis needs at least {MIN_ROWS}")
    values = np.empty((len(body), len(names)))
    for j, name in enumerate(names):
        column = header.index(name)
        for i, row in enumerate(body):
            cell = row[column].strip()
            if _is_missing(cell):
                if fill is None:
                    raise InputError(
                        f"{path}, line {i + 2}, column {name!r}: missing cell; pass "
                        f"--fill {'|'.join(FILL_METHODS)} or fill it first"
                    )
                values[i, j] = np.nan
            elif not is_number(cell) or not math.isfinite(float(cell)):
                raise InputError(f"{path}, line {i + 2}, column {name!r}: {cell!r} is not a finite number")
            else:
                values[i, j] = float(cell)
    times = None if time_column is None else [row[header.index(time_column)].strip() for row in body]
    missing = np.isnan(values)
    for j, name in enumerate(names):
        if missing[:, j].all():
            raise InputError(f"{path}, column {name!r}: every cell is missing")
    filled = {name: 0 for name in names}
    dropped = 0
    if fill == "drop":
        keep = ~missing.any(axis=1)
        dropped = int((~keep).sum())
        values = values[keep]
        times = None if times is None else [label for label, kept in zip(times, keep, strict=True) if kept]
        if len(values) < MIN_ROWS:
            raise InputError(
                f"{path}: {len(values)} rows without a missing cell are left; the analysis needs at "
                f"least {MIN_ROWS} (use --fill ffill or interpolate)"
            )
    elif fill is not None:
        for j, name in enumerate(names):
            filled[name] = int(missing[:, j].sum())
            if filled[name]:
                values[:, j] = _filled(values[:, j], missing[:, j], fill)
    return SeriesTable(names, values, times, time_column, filled, dropped)


def _filled(column, missing, method):
    rows = np.arange(len(column))
    seen = rows[~missing]
    if method == "interpolate":
        return np.interp(rows, seen, column[~missing])
    # ffill: the index of the last observed row at or before each row (the first one before it).
    last = np.maximum.accumulate(np.where(missing, -1, rows))
    return column[np.where(last < 0, seen[0], last)]


def _is_missing(cell):
    return not cell or cell.lower() in MISSING_TOKENS


def is_number(cell):
    """Whether a CSV cell reads as a number (a time column of numbers is row labels, not dates)."""
    try:
        float(cell)
    except ValueError:
        return False
    return True
