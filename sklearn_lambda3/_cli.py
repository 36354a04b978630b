"""The ``sklearn-lambda3`` command line (also ``python -m sklearn_lambda3``)."""

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

from ._changepoints import detect_change_points
from ._datasets import demo_series, make_jump_series
from ._features import Lambda3Features
from ._report import FILL_METHODS, MAX_PAIRS, N_REGIMES, InputError, SeriesTable, analyze, read_series_csv
from ._version import __version__


def _demo(args):
    X, jumps = make_jump_series(
        args.n_samples, n_jumps=args.n_jumps, return_jumps=True, random_state=args.seed
    )
    features = Lambda3Features(delta_percentile=args.delta_percentile).fit_transform(X)
    pos, neg, rho, local = features.T
    true_up = np.flatnonzero(jumps[0] > 0)
    true_down = np.flatnonzero(jumps[0] < 0)
    found_up = np.flatnonzero(pos)
    found_down = np.flatnonzero(neg)
    print(f"Generated series: {args.n_samples} steps, {args.n_jumps} level jumps (seed {args.seed}).")
    print(f"True upward jumps at:      {true_up.tolist()}")
    print(f"Detected ΔΛC⁺ (up) at:     {found_up.tolist()}")
    print(f"True downward jumps at:    {true_down.tolist()}")
    print(f"Detected ΔΛC⁻ (down) at:   {found_down.tolist()}")
    truth = np.flatnonzero(jumps[0])
    hits = np.intersect1d(truth, np.union1d(found_up, found_down))
    print(f"Recall of true jumps: {len(hits)}/{len(truth)}; local jumps flagged: {int(local.sum())}")
    print(
        f"Tension ρT: mean {rho.mean():.3f}, median {np.median(rho):.3f}, "
        f"max {rho.max():.3f} at step {int(rho.argmax())}"
    )
    if args.out is not None:
        table = SeriesTable.from_values(*demo_series(args.seed))
        summary = analyze(table, target="target", out_dir=args.out, progress=not args.quiet)
        _print_outcome(summary, args.out)
    return 0


def _read(args):
    return read_series_csv(args.file, time_column=args.time_column, fill=args.fill)


def _analyze(args):
    table = _read(args)
    summary = analyze(
        table,
        target=args.target,
        out_dir=args.out,
        progress=not args.quiet,
        random_state=args.seed,
        max_pairs=args.max_pairs,
        pairs=args.pairs,
        lag=args.lag,
        regimes=args.regimes,
        n_regimes=args.n_regimes,
    )
    _print_outcome(summary, args.out)
    return 0


def _features(args):
    table = _read(args)
    transformer = Lambda3Features(window=args.window, delta_percentile=args.delta_percentile)
    features = transformer.fit_transform(table.values)
    names = transformer.get_feature_names_out(table.names).tolist()
    header = ([table.time_column] if table.time_column else []) + names
    rows = (
        ([table.times[i]] if table.times is not None else []) + [_number(v) for v in row]
        for i, row in enumerate(features)
    )
    _write_csv(args.out, header, rows)
    if args.out != "-":
        print(f"Features of {len(table.names)} series x {len(features)} steps: {args.out}")
    return 0


def _changepoints(args):
    table = _read(args)
    header = ["series", "row"] + (["time"] if table.times is not None else []) + ["mean_before", "mean_after"]
    rows = []
    for j, name in enumerate(table.names):
        column = table.values[:, j]
        points = detect_change_points(column).tolist()
        edges = [0, *points, len(column)]
        for k, point in enumerate(points):
            before = column[edges[k] : point].mean()
            after = column[point : edges[k + 2]].mean()
            time = [table.times[point]] if table.times is not None else []
            rows.append([name, point, *time, _number(before), _number(after)])
    _write_csv(args.out, header, rows)
    if args.out != "-":
        print(f"{len(rows)} change point(s) in {len(table.names)} series: {args.out}")
    return 0


def _number(value):
    return f"{value:.10g}"


def _write_csv(out, header, rows):
    if out == "-":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return
    out = Path(out)
    if out.parent != Path(""):
        out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _pairs(text):
    pairs = []
    for item in text.split(","):
        source, sep, target = item.strip().partition(":")
        if not sep or not source.strip() or not target.strip():
            message = f"expected SOURCE:TARGET pairs separated by commas; got {item!r}"
            raise argparse.ArgumentTypeError(message)
        pairs.append((source.strip(), target.strip()))
    return pairs


def _lag(text):
    return text if text == "auto" else _count(text, "'auto' or an integer >= 0")


def _count(text, expected="an integer >= 0"):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}")
    return value


def _print_outcome(summary, out):
    print(f"Analysed {len(summary['series'])} series x {summary['n_steps']} steps in {summary['seconds']} s.")
    if "regression" in summary:
        reg = summary["regression"]
        state = "converged" if reg["converged"] else "NOT converged"
        credible = sum(driver["credible"] for driver in reg["drivers"])
        print(f"Regression of {summary['target']}: {credible} credible driver(s), sampling {state}.")
        periods = reg.get("seasonal_periods", [])
        found = ", ".join(str(period) for period in periods) if periods else "none"
        print(f"Season of {summary['target']} (seasonality='auto'): period {found}.")
    out = Path(out)
    print(f"Report: {out / 'report.md'}, summary: {out / 'summary.json'}, figures: {len(summary['figures'])}")


def _add_input_arguments(command):
    command.add_argument("file", help="CSV with a header row, one column per series, rows in time order")
    command.add_argument(
        "--time-column", default=None, help="the time column (default: the first column if not numeric)"
    )
    command.add_argument(
        "--fill",
        choices=FILL_METHODS,
        default=None,
        help="what to do with missing cells: carry the last value forward, interpolate linearly, or "
        "drop their rows (default: a missing cell is an error)",
    )


def build_parser():
    parser = argparse.ArgumentParser(
        prog="sklearn-lambda3", description="Lambda³ structural analysis of time series."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="detect the jumps of a generated series with known jumps")
    demo.add_argument("--n-samples", type=int, default=1000)
    demo.add_argument("--n-jumps", type=int, default=10)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--delta-percentile", type=float, default=99.0)
    demo.add_argument(
        "--out", default=None, help="also analyse a generated 5-series data set and write the report here"
    )
    demo.add_argument("--quiet", action="store_true", help="no progress messages")
    demo.set_defaults(handler=_demo)

    analyze_cmd = commands.add_parser(
        "analyze",
        help="analyse the series of a CSV file: jumps, change points, sync, causality, interactions, "
        "regimes, regression",
    )
    _add_input_arguments(analyze_cmd)
    analyze_cmd.add_argument("--target", default=None, help="a column to explain with the other series")
    analyze_cmd.add_argument(
        "--out", default="lambda3-report", help="output folder (default: lambda3-report)"
    )
    analyze_cmd.add_argument(
        "--max-pairs",
        type=_count,
        default=MAX_PAIRS,
        help=f"ordered pairs given the Bayesian interaction analysis, strongest sync first "
        f"(default: {MAX_PAIRS}; 0 skips it)",
    )
    analyze_cmd.add_argument(
        "--pairs",
        type=_pairs,
        default=None,
        metavar="SOURCE:TARGET,...",
        help="the ordered pairs to analyse instead, e.g. a:b,b:a",
    )
    analyze_cmd.add_argument(
        "--lag",
        type=_lag,
        default=0,
        help="lag of the source in the interaction models: an integer (default 0, the same step), or "
        "'auto' for each linked pair's sync lag",
    )
    analyze_cmd.add_argument(
        "--regimes",
        choices=("hmm", "kmeans"),
        default="hmm",
        help="persistent regimes of a hidden Markov model (default) or the method's K-means clusters",
    )
    analyze_cmd.add_argument(
        "--n-regimes", type=int, default=N_REGIMES, help="number of regimes (default: 3)"
    )
    analyze_cmd.add_argument("--seed", type=int, default=0, help="seed of the samplers and clustering")
    analyze_cmd.add_argument("--quiet", action="store_true", help="no progress messages")
    analyze_cmd.set_defaults(handler=_analyze)

    features_cmd = commands.add_parser("features", help="write the Lambda³ features of each series as a CSV")
    _add_input_arguments(features_cmd)
    features_cmd.add_argument("--out", default="-", help="output CSV (default: standard output)")
    features_cmd.add_argument("--window", type=int, default=10, help="rolling window of ρT and local jumps")
    features_cmd.add_argument(
        "--delta-percentile", type=float, default=97.0, help="percentile of |Δx| above which a step is a jump"
    )
    features_cmd.set_defaults(handler=_features)

    change_cmd = commands.add_parser(
        "changepoints", help="write the level change points of each series as a CSV"
    )
    _add_input_arguments(change_cmd)
    change_cmd.add_argument("--out", default="-", help="output CSV (default: standard output)")
    change_cmd.set_defaults(handler=_changepoints)
    return parser


def main(argv=None):
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (InputError, ValueError, TypeError, OSError) as error:
        message = " ".join(str(error).split())  # one line
        print(f"sklearn-lambda3: error: {message}", file=sys.stderr)
        return 2
