import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sklearn_lambda3 import Lambda3Features
from sklearn_lambda3._cli import main
from sklearn_lambda3.analysis import detect_change_points


def test_demo_reports_true_and_detected_jumps(capsys):
    assert main(["demo", "--n-samples", "800", "--n-jumps", "6", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    recall = re.search(r"Recall of true jumps: (\d+)/(\d+)", out)
    assert recall and recall.group(2) == "6" and int(recall.group(1)) >= 5
    assert "Tension ρT" in out


def test_bad_arguments_give_one_line_error(capsys):
    assert main(["demo", "--n-samples", "30", "--n-jumps", "20"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sklearn-lambda3: error:") and "Traceback" not in err


def test_module_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_lambda3", "demo", "--n-samples", "300"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Detected ΔΛC⁺" in result.stdout


def test_analyze_writes_report_and_exits_zero(tmp_path, capsys):
    from sklearn_lambda3._datasets import demo_series

    names, values = demo_series(1)
    csv = tmp_path / "series.csv"
    lines = ["time," + ",".join(names)] + [f"{t}," + ",".join(map(str, row)) for t, row in enumerate(values)]
    csv.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    # Two interaction pairs are enough here: the analysis itself is tested in report/test_pipeline.py.
    command = ["analyze", str(csv), "--time-column", "time", "--out", str(out), "--quiet", "--max-pairs", "2"]
    assert main(command) == 0
    assert (out / "report.md").exists() and (out / "summary.json").exists()
    assert "Report:" in capsys.readouterr().out


def test_analyze_bad_files_give_one_line_errors(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    short = tmp_path / "short.csv"
    short.write_text("a,b\n1,2\n3,4\n")
    text = tmp_path / "text.csv"
    text.write_text("a,b\n" + "1,2\n" * 25 + "1,two\n")
    good = tmp_path / "good.csv"
    good.write_text("a,b\n" + "".join(f"{i},{i % 7}\n" for i in range(30)))
    cases = [
        [str(empty)],
        [str(short)],
        [str(text)],
        [str(tmp_path / "missing.csv")],
        [str(good), "--target", "c"],
    ]
    for args in cases:
        assert main(["analyze", *args, "--out", str(tmp_path / "o"), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("sklearn-lambda3: error:") and err.count("\n") == 1 and "Traceback" not in err


def test_version(capsys):
    from sklearn_lambda3 import __version__

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"sklearn-lambda3 {__version__}"


def write_timed_csv(path, names, values, missing=()):
    lines = ["time," + ",".join(names)]
    for t, row in enumerate(values):
        cells = ["" if (t, j) in missing else repr(float(v)) for j, v in enumerate(row)]
        lines.append(f"2025-01-01T{t:04d}," + ",".join(cells))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_features_subcommand_writes_the_transformer_output(tmp_path, capsys):
    rng = np.random.default_rng(0)
    values = rng.standard_normal((80, 2)).cumsum(axis=0)
    csv_path = write_timed_csv(tmp_path / "in.csv", ["a", "b"], values)
    out = tmp_path / "sub" / "features.csv"
    assert main(["features", str(csv_path), "--out", str(out), "--window", "5"]) == 0
    written = pd.read_csv(out)
    transformer = Lambda3Features(window=5).fit(values)
    expected = transformer.transform(values)
    assert written.columns.tolist() == ["time", *transformer.get_feature_names_out(["a", "b"])]
    assert written["time"].iloc[3] == "2025-01-01T0003"
    np.testing.assert_allclose(written.iloc[:, 1:].to_numpy(), expected, rtol=1e-9)
    assert "features.csv" in capsys.readouterr().out
    assert main(["features", str(csv_path)]) == 0  # standard output by default
    assert capsys.readouterr().out.splitlines()[0].startswith("time,a__delta_LambdaC_pos")


def test_changepoints_subcommand_lists_each_series_change_points(tmp_path):
    rng = np.random.default_rng(1)
    a = np.r_[np.zeros(60), np.full(60, 4.0)] + 0.3 * rng.standard_normal(120)
    b = 0.3 * rng.standard_normal(120)
    csv_path = write_timed_csv(tmp_path / "in.csv", ["a", "b"], np.column_stack([a, b]))
    out = tmp_path / "changepoints.csv"
    assert main(["changepoints", str(csv_path), "--out", str(out)]) == 0
    written = pd.read_csv(out)
    assert written.columns.tolist() == ["series", "row", "time", "mean_before", "mean_after"]
    expected = detect_change_points(a).tolist()
    assert expected == [60]
    assert written["series"].tolist() == ["a"] * len(expected) + ["b"] * len(detect_change_points(b))
    first = written.iloc[0]
    assert first["row"] == 60 and first["time"] == "2025-01-01T0060"
    assert first["mean_before"] == pytest.approx(a[:60].mean()) and first["mean_after"] == pytest.approx(
        a[60:].mean()
    )


def test_analyze_fills_missing_cells_seeds_and_writes_html(tmp_path, capsys):
    rng = np.random.default_rng(2)
    values = rng.standard_normal((60, 3)).cumsum(axis=0)
    csv_path = write_timed_csv(tmp_path / "gaps.csv", ["a", "b", "c"], values, missing={(5, 0), (30, 2)})
    args = ["analyze", str(csv_path), "--quiet", "--max-pairs", "2", "--seed", "3"]
    assert main([*args, "--out", str(tmp_path / "o")]) == 2
    assert "--fill" in capsys.readouterr().err
    for run in ("r1", "r2"):
        assert main([*args, "--fill", "interpolate", "--out", str(tmp_path / run)]) == 0
    first, second = (json.loads((tmp_path / run / "summary.json").read_text()) for run in ("r1", "r2"))
    assert first["missing"]["filled"] == {"a": 1, "c": 1} and first["seed"] == 3
    assert first["interactions"]["pairs_fitted"] == 2
    first.pop("seconds"), second.pop("seconds")
    assert first == second  # the same seed, the same numbers
    page = (tmp_path / "r1" / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "Missing cells filled: a 1, c 1." in page
    assert "http://" not in page and "https://" not in page  # nothing fetched from the network
    for name in first["figures"]:
        assert f'alt="{name[:-4]}" src="data:image/png;base64,' in page


def test_bad_pairs_lags_and_counts_are_refused(tmp_path, capsys):
    csv_path = write_timed_csv(tmp_path / "in.csv", ["a", "b"], np.random.default_rng(0).normal(size=(40, 2)))
    command = ["analyze", str(csv_path), "--quiet", "--out", str(tmp_path / "o")]
    for bad in (["--pairs", "a-b"], ["--max-pairs", "-1"], ["--lag", "soon"], ["--fill", "mean"]):
        with pytest.raises(SystemExit) as exit_info:  # argparse's usage error
            main([*command, *bad])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert f"argument {bad[0]}" in err and "Traceback" not in err
    assert main([*command, "--pairs", "a:z"]) == 2
    err = capsys.readouterr().err
    assert err == "sklearn-lambda3: error: --pairs names 'z', which is not a series column (columns: a, b)\n"
