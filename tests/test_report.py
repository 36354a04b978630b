"""The main job end to end: CSV reading, the analysis and its report, on data with known truth."""

import json

import numpy as np
import pytest

from sklearn_lambda3._cli import demo_series
from sklearn_lambda3._report import InputError, analyze, read_series_csv, render_report


def write_csv(path, header, rows):
    path.write_text("\n".join([",".join(header)] + [",".join(map(str, row)) for row in rows]) + "\n")
    return path


def test_reads_series_and_detects_the_time_column(tmp_path):
    rows = [[f"2025-01-01 {h:02d}:00", h * 0.5, 10 - h] for h in range(24)]
    names, values, times = read_series_csv(write_csv(tmp_path / "a.csv", ["date", "x", "y"], rows))
    assert names == ["x", "y"] and values.shape == (24, 2) and times[0] == "2025-01-01 00:00"
    np.testing.assert_array_equal(values[:, 1], 10 - np.arange(24))
    numeric = write_csv(tmp_path / "b.csv", ["t", "x"], [[h, h * 0.5] for h in range(24)])
    assert read_series_csv(numeric)[0] == ["t", "x"]  # a numeric first column is a series...
    names, _, times = read_series_csv(numeric, time_column="t")  # ...unless named as the time
    assert names == ["x"] and times[:2] == ["0", "1"]


@pytest.mark.parametrize(
    ("header", "rows", "kwargs", "match"),
    [
        (None, None, {}, "empty"),
        (["x", "y"], [[1, 2]] * 5, {}, "at least 20"),
        (["x", "y"], [[1, 2]] * 24 + [[1, "abc"]], {}, r"line 26, column 'y': 'abc' is not a finite number"),
        (["x", "y"], [[1, 2]] * 24 + [[1, ""]], {}, "empty cell"),
        (["x", "y"], [[1, 2]] * 24 + [[1, "inf"]], {}, "not a finite number"),
        (["x", "y"], [[1, 2]] * 24 + [[1]], {}, "1 cells but the header has 2"),
        (["x", "y"], [[1, 2]] * 24, {"time_column": "date"}, "--time-column 'date' is not a column"),
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


def test_missing_file_and_unknown_target(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_series_csv(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="--target 'z' is not a series column"):
        analyze(["x", "y"], np.zeros((30, 2)), target="z", progress=False)


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    names, values = demo_series(0)
    return analyze(names, values, target="target", out_dir=out, progress=False), out, values


def test_demo_analysis_finds_the_known_drivers(demo_report):
    summary, out, values = demo_report
    reg = summary["regression"]
    assert reg["converged"]
    credible = {driver["feature"] for driver in reg["drivers"] if driver["credible"]}
    # The target spikes by +3 / -3 where s0 jumps up / down (demo_series).
    assert {"s0__delta_LambdaC_pos", "s0__delta_LambdaC_neg"} <= credible
    by_name = {driver["feature"]: driver for driver in reg["drivers"]}
    assert by_name["s0__delta_LambdaC_pos"]["low"] > 0 > by_name["s0__delta_LambdaC_neg"]["high"]
    # Half of s1's level shifts are the target's.
    found = reg["change_points"]
    assert all(min(abs(c - f) for f in found) <= 3 for c in summary["series"]["s1"]["change_points"])


def test_report_files_are_written_and_agree(demo_report):
    summary, out, values = demo_report
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk["regression"]["drivers"][0] == summary["regression"]["drivers"][0]
    report = (out / "report.md").read_text()
    for heading in ("## Jumps, tension and change points", "## Which series jump together",
                    "## Which series drives which", "## Regimes of target", "## What drives target"):
        assert heading in report
    assert report == render_report(on_disk)
    for name in summary["figures"]:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({name})" in report


def test_sync_pairs_count_coinciding_jumps():
    rng = np.random.default_rng(0)
    a = rng.standard_normal(400).cumsum() * 0.1
    shocks = np.zeros(400)
    shocks[rng.choice(np.arange(20, 380), 12, replace=False)] = 8.0
    x = a + shocks.cumsum()
    y = 0.5 * rng.standard_normal(400).cumsum() * 0.1 + np.roll(shocks, 2).cumsum()  # y jumps 2 steps later
    summary = analyze(["x", "y"], np.column_stack([x, y]), progress=False)
    top = summary["sync_pairs"][0]
    assert (top["source"], top["target"], top["lag"]) == ("x", "y", 2)
    assert top["share"] >= 0.9
