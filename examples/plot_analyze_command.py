"""
The analysis command on a CSV file
==================================

``sklearn-lambda3 analyze`` reads a CSV file (one column per series, rows in time order) and writes a
report: jumps, synchronisation, causality, regimes, change points, and with ``--target`` the dynamic
regression of one series on the others' features. ``python -m sklearn_lambda3`` is the same command.
"""

import json
import pathlib
import subprocess
import sys
import tempfile

import matplotlib.pyplot as plt
import pandas as pd

from sklearn_lambda3.datasets import make_jump_series

folder = pathlib.Path(tempfile.mkdtemp())
series = make_jump_series(300, n_series=3, n_jumps=4, random_state=0)
frame = pd.DataFrame(series, columns=["pressure", "flow", "temperature"])
frame["temperature"] += 0.8 * frame["pressure"]
frame.to_csv(folder / "plant.csv", index=False)

command = [
    sys.executable,
    "-m",
    "sklearn_lambda3",
    "analyze",
    str(folder / "plant.csv"),
    "--target",
    "temperature",
    "--max-pairs",
    "0",
    "--quiet",
    "--out",
    str(folder / "report"),
]
subprocess.run(command, check=True)
print("\n".join(sorted(path.name for path in (folder / "report").iterdir())))

# %%
# ``summary.json`` holds every number, ``report.md`` and ``report.html`` say it in words, e.g. the
# first section:
summary = json.loads((folder / "report" / "summary.json").read_text())
print(sorted(summary))
report = (folder / "report" / "report.md").read_text()
print(report[: report.index("![")])

# %%
# One of its figures, ``fit.png``: the target's predictive mean and interval under the dynamic model:
fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
ax.imshow(plt.imread(folder / "report" / "fit.png"))
ax.set_axis_off()
