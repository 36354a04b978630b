"""The ``sklearn-lambda3`` command line (also ``python -m sklearn_lambda3``)."""

import argparse
import sys
from pathlib import Path

import numpy as np

from ._datasets import make_jump_series
from ._features import Lambda3Features
from ._report import InputError, analyze, read_series_csv

DEMO_NAMES = ["s0", "s1", "s2", "s3"]


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
        names, values = demo_series(args.seed)
        summary = analyze(names, values, target="target", out_dir=args.out, progress=not args.quiet)
        _print_outcome(summary, args.out)
    return 0


def demo_series(seed):
    """Four generated series and a target with known drivers.

    The target follows half of s1's level (drift, season and jumps) and spikes by ±3 at the
    steps where s0 jumps up or down: s0's jump features drive it, with signs + and -.
    """
    X, jumps = make_jump_series(
        600, n_series=len(DEMO_NAMES), n_jumps=8, return_jumps=True, random_state=seed
    )
    rng = np.random.default_rng(seed)
    target = 0.5 * X[:, 1] + 3.0 * np.sign(jumps[0]) + 0.3 * rng.standard_normal(len(X))
    return DEMO_NAMES + ["target"], np.column_stack([X, target])


def _analyze(args):
    names, values, _ = read_series_csv(args.file, time_column=args.time_column)
    summary = analyze(names, values, target=args.target, out_dir=args.out, progress=not args.quiet)
    _print_outcome(summary, args.out)
    return 0


def _print_outcome(summary, out):
    print(f"Analysed {len(summary['series'])} series x {summary['n_steps']} steps in {summary['seconds']} s.")
    if "regression" in summary:
        reg = summary["regression"]
        state = "converged" if reg["converged"] else "NOT converged"
        credible = sum(driver["credible"] for driver in reg["drivers"])
        print(f"Regression of {summary['target']}: {credible} credible driver(s), sampling {state}.")
    out = Path(out)
    print(f"Report: {out / 'report.md'}, summary: {out / 'summary.json'}, figures: {len(summary['figures'])}")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="sklearn-lambda3", description="Lambda³ structural analysis of time series."
    )
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
        "analyze", help="analyse the series of a CSV file: jumps, sync, causality, regimes, regression"
    )
    analyze_cmd.add_argument("file", help="CSV with a header row, one column per series, rows in time order")
    analyze_cmd.add_argument("--target", default=None, help="a column to explain with the other series")
    analyze_cmd.add_argument(
        "--time-column", default=None, help="the time column (default: the first column if not numeric)"
    )
    analyze_cmd.add_argument(
        "--out", default="lambda3-report", help="output folder (default: lambda3-report)"
    )
    analyze_cmd.add_argument("--quiet", action="store_true", help="no progress messages")
    analyze_cmd.set_defaults(handler=_analyze)
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
