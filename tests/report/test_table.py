"""Reading a table of series from CSV: the time column, missing cells and their fill, bad files."""

import numpy as np
import pandas as pd
import pytest

from sklearn_lambda3._report import InputError, read_series_csv


def write_csv(path, header, rows):
    path.write_text("\n".join([",".join(header)] + [",".join(map(str, row)) for row in rows]) + "\n")
    return path


def test_reads_series_and_detects_the_time_column(tmp_path):
    rows = [[f"2025-01-01 {h:02d}:00", h * 0.5, 10 - h] for h in range(24)]
    table = read_series_csv(write_csv(tmp_path / "a.csv", ["date", "x", "y"], rows))
    assert table.names == ["x", "y"] and table.values.shape == (24, 2)
    assert table.time_column == "date" and table.times[0] == "2025-01-01 00:00"
    assert table.time_of(3) == "2025-01-01 03:00"
    np.testing.assert_array_equal(table.values[:, 1], 10 - np.arange(24))
    numeric = write_csv(tmp_path / "b.csv", ["t", "x"], [[h, h * 0.5] for h in range(24)])
    untimed = read_series_csv(numeric)
    assert untimed.names == ["t", "x"] and untimed.times is None  # a numeric first column is a series...
    assert untimed.time_of(3) == "3"
    timed = read_series_csv(numeric, time_column="t")  # ...unless named as the time
    assert timed.names == ["x"] and timed.times[:2] == ["0", "1"]


def frame_with_gaps(seed=0, n=60):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x": rng.normal(size=n).cumsum(), "y": rng.normal(size=n).cumsum()})
    frame.loc[[0, 1, 10, 11, 12, 40], "x"] = np.nan  # leading gap, inner run, single cell
    frame.loc[[25, n - 1], "y"] = np.nan  # inner cell, trailing cell
    frame.insert(0, "time", [f"t{i}" for i in range(n)])
    return frame


@pytest.mark.parametrize("token", ["", "NaN", "nan", "NA", "null"])
def test_fill_matches_pandas(tmp_path, token):
    frame = frame_with_gaps()
    path = tmp_path / "gaps.csv"
    frame.to_csv(path, index=False, na_rep=token)
    numeric = frame[["x", "y"]]
    ffill = read_series_csv(path, fill="ffill")
    np.testing.assert_allclose(ffill.values, numeric.ffill().bfill().to_numpy())
    interpolated = read_series_csv(path, fill="interpolate")
    expected = numeric.interpolate(method="linear", limit_direction="both").to_numpy()
    np.testing.assert_allclose(interpolated.values, expected)
    assert ffill.filled == interpolated.filled == {"x": 6, "y": 2}
    dropped = read_series_csv(path, fill="drop")
    keep = numeric.notna().all(axis=1).to_numpy()
    np.testing.assert_allclose(dropped.values, numeric.dropna().to_numpy())
    assert dropped.times == frame["time"][keep].tolist() and dropped.dropped_rows == 8
    assert dropped.filled == {"x": 0, "y": 0}


def test_a_missing_cell_without_fill_names_the_option(tmp_path):
    path = tmp_path / "gaps.csv"
    frame_with_gaps().to_csv(path, index=False)
    with pytest.raises(
        InputError, match=r"line 2, column 'x': missing cell; pass --fill ffill\|interpolate\|drop"
    ):
        read_series_csv(path)


@pytest.mark.parametrize(
    ("header", "rows", "kwargs", "match"),
    [
        (None, None, {}, "empty"),
        (["x", "y"], [[1, 2]] * 5, {}, "at least 20"),
        (["x", "y"], [[1, 2]] * 24 + [[1, "abc"]], {}, r"line 26, column 'y': 'abc' is not a finite number"),
        (["x", "y"], [[1, 2]] * 24 + [[1, ""]], {}, "missing cell"),
        (["x", "y"], [[1, 2]] * 24 + [[1, "inf"]], {"fill": "ffill"}, "not a finite number"),
        (["x", "y"], [[1, 2]] * 24 + [[1]], {}, "1 cells but the header has 2"),
        (["x", "y"], [[1, 2]] * 24, {"time_column": "date"}, "--time-column 'date' is not a column"),
        (["x", "x"], [[1, 2]] * 24, {}, "'x' more than once"),
        (["x", "y"], [[1, ""]] * 24, {"fill": "ffill"}, "column 'y': every cell is missing"),
        (["x", "y"], [[1, 2]] * 5 + [[1, ""]] * 19, {"fill": "drop"}, "5 rows without a missing cell"),
        (["x", "y"], [[1, 2]] * 24, {"fill": "mean"}, "--fill must be one of ffill, interpolate, drop"),
    ],
)
def test_bad_files_raise_input_errors(tmp_path, header, rows, kwargs, match):
    path = tmp_path / "bad.csv"
    if header is None:
        path.write_text("")
    else:
        write_csv(path, header, rows)
    with pytest.raises(InputError, match=match):
        read_series_csv(path, **kwargs)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_series_csv(tmp_path / "nope.csv")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 50)
    with pytest.raises(InputError, match="not a UTF-8 text file"):
        read_series_csv(binary)
