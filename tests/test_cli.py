import re
import subprocess
import sys

from sklearn_lambda3._cli import main


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
    from sklearn_lambda3._cli import demo_series

    names, values = demo_series(1)
    csv = tmp_path / "series.csv"
    lines = ["time," + ",".join(names)] + [f"{t}," + ",".join(map(str, row)) for t, row in enumerate(values)]
    csv.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    assert main(["analyze", str(csv), "--time-column", "time", "--out", str(out), "--quiet"]) == 0
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
