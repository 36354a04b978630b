"""The main job end to end: CSV reading, the analysis and its report, on data with known truth."""

import json

import numpy as np
import pytest

from sklearn_lambda3 import Lambda3Features
from sklearn_lambda3._datasets import demo_series
from sklearn_lambda3._report import InputError, SeriesTable, analyze
from sklearn_lambda3._report._render import render_report


def test_unknown_target():
    with pytest.raises(InputError, match="--target 'z' is not a series column"):
        analyze(SeriesTable.from_values(["x", "y"], np.zeros((30, 2))), target="z", progress=False)


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    names, values = demo_series(0)
    table = SeriesTable.from_values(names, values)
    return analyze(table, target="target", out_dir=out, progress=False), out, values


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


def test_demo_analyses_every_pair_by_default(demo_report):
    inter = demo_report[0]["interactions"]
    assert inter["pairs_fitted"] == inter["pairs_possible"] == 20  # 5 series, fewer than max_pairs
    assert len(inter["pairs"]) == 20 and inter["lag"] == 0


def one_way_drive(seed=0, n=2000):
    """a's upward jumps shift b by 1.5 at the same step; c is independent of both."""
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 0.3, n) + 4.0 * (rng.random(n) < 0.01)
    jumps_a = Lambda3Features().fit_transform(a[:, None])[:, 0]
    b = rng.normal(0, 1.0, n) + 1.5 * jumps_a
    c = rng.normal(0, 0.5, n) + 3.0 * (rng.random(n) < 0.01)
    return ["a", "b", "c"], np.column_stack([a, b, c])


def test_interactions_report_the_known_drive_in_words(tmp_path):
    names, values = one_way_drive()
    summary = analyze(SeriesTable.from_values(names, values), out_dir=tmp_path, progress=False)
    inter = summary["interactions"]
    assert inter["pairs_fitted"] == 6 and inter["converged"] == 6
    credible = {(e["source"], e["target"], e["kind"]) for e in inter["credible_effects"]}
    assert ("a", "b", "jump_pos") in credible
    # Ranked first, by the size of its effect against the width of its interval (at 90 % some of
    # the 16 null effects exclude zero by chance).
    drive = inter["credible_effects"][0]
    assert (drive["source"], drive["target"], drive["kind"]) == ("a", "b", "jump_pos")
    assert 0 < drive["low"] < drive["mean"] < drive["high"]
    sentence = (
        f"An upward jump (ΔΛC⁺) of **a** raises **b** by {drive['mean']:.3g} "
        f"(90% interval {drive['low']:.3g} to {drive['high']:.3g}), at the same step."
    )
    assert sentence in (tmp_path / "report.md").read_text()


def test_report_files_are_written_and_agree(demo_report):
    summary, out, values = demo_report
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk["regression"]["drivers"][0] == summary["regression"]["drivers"][0]
    report = (out / "report.md").read_text()
    for heading in (
        "## Jumps, tension and change points",
        "## Which series jump together",
        "## Which series drives which",
        "## Regimes of target",
        "## What drives target",
    ):
        assert heading in report
    assert report == render_report(on_disk)
    for name in summary["figures"]:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert report.count(f"]({name})") == 1


def test_sync_pairs_count_coinciding_jumps():
    rng = np.random.default_rng(0)
    a = rng.standard_normal(400).cumsum() * 0.1
    shocks = np.zeros(400)
    shocks[rng.choice(np.arange(20, 380), 12, replace=False)] = 8.0
    x = a + shocks.cumsum()
    y = 0.5 * rng.standard_normal(400).cumsum() * 0.1 + np.roll(shocks, 2).cumsum()  # y jumps 2 steps later
    summary = analyze(SeriesTable.from_values(["x", "y"], np.column_stack([x, y])), progress=False)
    top = summary["sync_pairs"][0]
    assert (top["source"], top["target"], top["lag"]) == ("x", "y", 2)
    assert top["share"] >= 0.9


def shared_shock_series(seed=0, n=400):
    """x and y jump at the same steps, w two steps after x; z jumps on its own."""
    rng = np.random.default_rng(seed)
    steps = np.zeros((n, 2))
    at = rng.choice(np.arange(20, n - 20), 12, replace=False)
    own = rng.choice(np.arange(20, n - 20), 12, replace=False)
    steps[at, 0] = 8.0
    steps[own, 1] = 8.0
    noise = 0.05 * rng.standard_normal((n, 4)).cumsum(axis=0)
    x = steps[:, 0].cumsum()
    w = np.roll(steps[:, 0], 2).cumsum()
    z = steps[:, 1].cumsum()
    return ["x", "y", "z", "w"], np.column_stack([x, x, z, w]) + noise


def test_sync_structure_finds_the_cluster_and_its_hub():
    names, values = shared_shock_series()
    structure = analyze(SeriesTable.from_values(names, values), max_pairs=0, progress=False)["sync_structure"]
    assert structure["clusters"] == [["x", "y", "w"]]
    assert {hub["series"] for hub in structure["hubs"]} == {"x", "y", "w"}  # each linked to the other two
    assert all(
        sorted(hub["partners"]) == sorted({"x", "y", "w"} - {hub["series"]}) for hub in structure["hubs"]
    )
    strongest = structure["strongest_pair"]
    assert {strongest["source"], strongest["target"]} <= {"x", "y", "w"} and strongest["share"] > 0.9


def test_chosen_pairs_and_auto_lag():
    table = SeriesTable.from_values(*shared_shock_series(n=300))
    summary = analyze(table, pairs=[("x", "w"), ("z", "x")], lag="auto", progress=False)
    inter = summary["interactions"]
    assert [(p["source"], p["target"]) for p in inter["pairs"]] == [("x", "w"), ("z", "x")]
    lags = {(p["source"], p["target"]): p["lag"] for p in inter["pairs"]}
    # w jumps 2 steps after x (linked: its sync lag); z is not linked to x (the same step).
    assert lags == {("x", "w"): 2, ("z", "x"): 0}
    fixed = analyze(table, pairs=[("x", "w")], lag=1, max_pairs=0, progress=False)
    assert fixed["interactions"]["pairs"][0]["lag"] == 1
    with pytest.raises(InputError, match="--pairs names 'v'"):
        analyze(table, pairs=[("x", "v")], progress=False)
    with pytest.raises(InputError, match="with itself"):
        analyze(table, pairs=[("x", "x")], progress=False)


def test_change_points_and_regimes_are_reported_with_the_time_labels(tmp_path):
    rng = np.random.default_rng(0)
    level = np.r_[np.zeros(100), np.full(100, 5.0)] + 0.3 * rng.standard_normal(200)
    times = [f"2025-01-{1 + i // 24:02d} {i % 24:02d}:00" for i in range(200)]
    table = SeriesTable(["a", "b"], np.column_stack([level, rng.standard_normal(200)]), times, "when", {})
    summary = analyze(table, max_pairs=0, out_dir=tmp_path, progress=False)
    info = summary["series"]["a"]
    assert info["change_points"] == [100] and info["change_point_times"] == [times[100]]
    assert summary["time_range"] == [times[0], times[-1]]
    for run in summary["regimes"]["longest_run"].values():
        assert run["start_time"] == times[run["start"]] and run["end_time"] == times[run["end"]]
    report = (tmp_path / "report.md").read_text()
    assert times[100] in report and "time column **when**" in report


def test_analyze_takes_a_series_table():
    with pytest.raises(TypeError, match="table must be a SeriesTable"):
        analyze(np.zeros((30, 2)), progress=False)
    table = SeriesTable.from_values(("x", "y"), [[0, 1]] * 30)
    assert table.names == ["x", "y"] and table.values.dtype == np.float64 and table.values.shape == (30, 2)
    assert table.times is None and table.time_column is None and table.time_of(3) == "3"
