"""Benchmarks on real and null series; one table per section.

Run: ``python benchmarks/bench_real.py [--data-dir DIR] [--only SECTION ...]`` (default data dir
``../shared/data`` relative to the repository root). Sections (``SECTIONS``; add new ones there):

- ``tcpd``: F1 on the univariate series of the Turing Change Point Dataset (van den Burg & Williams,
  2020), scored as the TCPD evaluation does: margin 5, precision against the union of the
  annotators, recall averaged over them, and index 0 added to both the predictions and every
  annotator's set (so a series where nobody marked a change and nothing is predicted scores 1, and a
  prediction of nothing never scores 0). The two missing values (``uk_coal_employ``) are filled by
  linear interpolation, which keeps the indices aligned with the annotations. Predictions outside
  ``[1, n - 2]`` are dropped, as TCPD's ``clean_cps`` does.
- ``null``: how often a pure-noise series of 500 steps gets at least one change point.
- ``seasonal``: fold forecasts of the Tokyo temperature with a daily season, ours against
  statsmodels' structural models and the last value (``_real_seasonal.py``).

Rows compared: ``detect_change_points`` with its defaults; the same with the behaviour before the
noise work (``noise="white", outliers="keep", season=None``); ruptures ``Pelt(model="l2", min_size=2,
jump=1)`` with the penalty a user would write, ``2 σ̂² log n``, σ̂ the MAD of the first
differences divided by 0.6745 √2; and the no-change baseline.
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from sklearn_lambda3.analysis import detect_change_points

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _real_dynamic import dynamic_cross_validation, dynamic_forecast_table  # noqa: E402
from _real_linear import tokyo_linear_table  # noqa: E402
from _real_seasonal import seasonal_forecast_table  # noqa: E402
from bench_dynamic import default_convergence  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
MARGIN = 5


def ours(x):
    return list(detect_change_points(x))


def ours_old(x):
    return list(detect_change_points(x, noise="white", outliers="keep", season=None))


def ruptures_pelt(x):
    import ruptures as rpt

    sigma = np.median(np.abs(np.diff(x) - np.median(np.diff(x)))) / 0.6745 / math.sqrt(2.0)
    if not sigma > 0:
        sigma = np.std(np.diff(x)) / math.sqrt(2.0) or 1.0
    pen = 2.0 * sigma**2 * math.log(len(x))
    ends = rpt.Pelt(model="l2", min_size=2, jump=1).fit(np.asarray(x, dtype=float)).predict(pen=pen)
    return [e for e in ends if e < len(x)]


def no_change(x):
    return []


DETECTORS = {
    "lambda3 (defaults)": ours,
    "lambda3 (old: white, keep, no season)": ours_old,
    "ruptures Pelt l2, pen 2σ²log n": ruptures_pelt,
    "no change": no_change,
}


def _true_positives(truth, predicted, margin):
    """Annotated points matched one-to-one to the closest unmatched prediction within the margin."""
    left = set(predicted)
    hits = 0
    for tau in sorted(truth):
        close = sorted((abs(tau - p), p) for p in left if abs(tau - p) <= margin)
        if close:
            left.remove(close[0][1])
            hits += 1
    return hits


def f_measure(annotations, predicted, margin=MARGIN):
    """TCPD's F1: precision against the union of annotators, recall averaged; 0 added everywhere."""
    sets = [set(points) | {0} for points in annotations.values()]
    predicted = set(predicted) | {0}
    union = set().union(*sets)
    precision = _true_positives(union, predicted, margin) / len(predicted)
    recall = float(np.mean([_true_positives(s, predicted, margin) / len(s) for s in sets]))
    return 2 * precision * recall / (precision + recall), precision, recall


def load_tcpd(data_dir):
    """Univariate TCPD series as ``{name: (values, annotations)}``; nulls linearly interpolated."""
    tcpd = Path(data_dir) / "tcpd"
    annotations = json.loads((tcpd / "annotations.json").read_text())
    out = {}
    for name in sorted(annotations):
        path = tcpd / name / f"{name}.json"
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        if data["n_dim"] != 1:
            continue
        raw = np.array([np.nan if v is None else v for v in data["series"][0]["raw"]], dtype=float)
        missing = np.isnan(raw)
        if missing.any():
            idx = np.arange(len(raw))
            raw[missing] = np.interp(idx[missing], idx[~missing], raw[~missing])
        out[name] = (raw, annotations[name])
    return out


def tcpd_table(data_dir=DEFAULT_DATA, detectors=None, per_series=False):
    """Mean F1, precision, recall and change-point count per detector over the univariate series."""
    detectors = DETECTORS if detectors is None else detectors
    series = load_tcpd(data_dir)
    rows = []
    for label, detect in detectors.items():
        scores, counts, detail = [], [], {}
        start = time.perf_counter()
        for name, (x, annotations) in series.items():
            found = [int(c) for c in detect(x) if 1 <= c < len(x) - 1]
            f1, p, r = f_measure(annotations, found)
            scores.append((f1, p, r))
            counts.append(len(found))
            detail[name] = (round(f1, 3), len(found))
        f1, p, r = np.mean(scores, axis=0)
        row = {
            "detector": label,
            "n_series": len(series),
            "f1": round(float(f1), 3),
            "precision": round(float(p), 3),
            "recall": round(float(r), 3),
            "mean_cps": round(float(np.mean(counts)), 1),
            "seconds": round(time.perf_counter() - start, 2),
        }
        if per_series:
            row["per_series"] = detail
        rows.append(row)
    return rows


def null_series(kind, n, seed):
    rng = np.random.default_rng(seed)
    if kind == "white":
        return rng.standard_normal(n)
    if kind == "student-t(3)":
        return rng.standard_t(3, n)
    phi = float(kind.split("=")[1])
    e = rng.standard_normal(n + 200)
    x = np.empty_like(e)
    x[0] = e[0]
    for t in range(1, len(e)):
        x[t] = phi * x[t - 1] + e[t]
    return x[200:]


NULL_KINDS = ["AR(1) φ=0.3", "AR(1) φ=0.5", "AR(1) φ=0.8", "student-t(3)", "white"]


def null_table(n_series=100, n=500, detectors=None):
    """Share of pure-noise series with at least one change point, per noise kind and detector."""
    if detectors is None:
        detectors = {k: DETECTORS[k] for k in ("lambda3 (defaults)", "ruptures Pelt l2, pen 2σ²log n")}
    rows = []
    for kind in NULL_KINDS:
        row = {"noise": kind, "n": n, "n_series": n_series}
        for label, detect in detectors.items():
            name = kind.replace("AR(1) φ", "phi")
            hits = sum(len(detect(null_series(name, n, s))) > 0 for s in range(n_series))
            row[label] = round(hits / n_series, 3)
        rows.append(row)
    return rows


def _cell(value):
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _print_rows(title, rows):
    print(f"\n## {title}")
    keys = [k for k in rows[0] if k != "per_series"]
    widths = {k: max(len(k), *(len(_cell(r[k])) for r in rows)) for k in keys}
    print(" | ".join(k.ljust(widths[k]) for k in keys))
    print("-|-".join("-" * widths[k] for k in keys))
    for r in rows:
        print(" | ".join(_cell(r[k]).ljust(widths[k]) for k in keys))


def _forecast_rows(data_dir):
    """Forecast RMSE and coverage with the test features from the test rows alone (a pipeline)
    and with the training rows as their past; the overall figures, then per fold."""
    rows = []
    for context in (False, True):
        for row in dynamic_forecast_table(Path(data_dir) / "tokyo_weather_days.csv", context=context):
            features = "train rows as past" if context else "test rows alone"
            rows.append({"test features": features, **row})
    return sorted(rows, key=lambda r: (r["fold"] != "all", r["test features"], str(r["fold"])))


# name -> (title, function of the parsed arguments returning a list of rows); add sections here.
SECTIONS = {
    "linear": (
        "Tokyo, next hour's temperature on Lambda3Features of all six columns, TimeSeriesSplit(3)",
        lambda a: tokyo_linear_table(a.data_dir),
    ),
    "dynamic": (
        "Tokyo, temperature forecast from the other five series' features, TimeSeriesSplit(3) test folds",
        lambda a: _forecast_rows(a.data_dir),
    ),
    "seasonal": (
        "Tokyo temperature_2m alone, daily season, TimeSeriesSplit(3) fold forecasts: ours vs statsmodels",
        lambda a: seasonal_forecast_table(Path(a.data_dir) / "tokyo_weather_days.csv"),
    ),
    "crash": (
        "Tokyo, cross_val_score of the dynamic pipeline (used to die inside the Kalman callback)",
        lambda a: dynamic_cross_validation(Path(a.data_dir) / "tokyo_weather_days.csv"),
    ),
    "convergence": (
        "Dynamic model defaults on the method's scenario (1000 steps), 2 chains x 500 draws",
        lambda a: default_convergence(),
    ),
    "tcpd": ("TCPD univariate series: mean F1 (margin 5, TCPD scoring)", lambda a: tcpd_table(a.data_dir)),
    "null": ("Pure noise, 500 steps: share of 100 series with a change point", lambda a: null_table()),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA))
    parser.add_argument("--only", nargs="+", choices=sorted(SECTIONS), help="sections to run")
    args = parser.parse_args(argv)
    for name in args.only or SECTIONS:
        title, run = SECTIONS[name]
        _print_rows(title, run(args))


if __name__ == "__main__":
    main()
