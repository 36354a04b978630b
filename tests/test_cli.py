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
