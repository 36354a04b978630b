"""The report in words, from the summary alone: ``report.md`` and a self-contained ``report.html``.

Both are rendered from one list of blocks (headings, paragraphs, lists, tables, figures), so
they hold the same sections. Text may mark **bold** spans; everything else is plain.
"""

import base64
import html
import re
from pathlib import Path

from .._interaction_kinds import JUMP_KINDS, KIND_WORDS, TENSION_KIND
from ._settings import TOP_N

FIGURE_CAPTIONS = {
    "series.png": "The series with their jumps (ΔΛC⁺ ▲, ΔΛC⁻ ▼) and tension ρT.",
    "change_points.png": "Level change points of each series and the mean of each segment.",
    "sync_matrix.png": "Sync rate of every ordered pair (the largest over the lags).",
    "sync_network.png": "Sync network: an edge where the sync rate is at least half the largest.",
    "sync_profile.png": "Sync rate against lag for the strongest pair.",
    "dynamic_sync.png": "Sync rate of the strongest pair along time (sliding window).",
    "causality_by_lag.png": "Structural causality against lag for the pairs with the most of it.",
    "interactions.png": "Bayesian interaction effects of the analysed pairs (source row, target column).",
    "regimes.png": "Regimes of the focus series.",
    "fit.png": "The dynamic model's fit of the target, with its 90% interval and change points.",
    "components.png": "The fit's components (level, season, regressors, change points) with 90% intervals.",
    "predictive_check.png": "Posterior predictive check of the target's statistics.",
    "posterior.png": "Posterior distributions of the target model's parameters.",
}


def _fmt(value):
    return f"{value:.3g}"


def _sentence(text):
    return text[:1].upper() + text[1:]


def _when(lag):
    if lag == 0:
        return "at the same step"
    return f"{abs(lag)} step{'s' if abs(lag) != 1 else ''} {'later' if lag > 0 else 'earlier'}"


def _points(points, times, limit=8):
    if not points:
        return "none"
    shown = times if times is not None else [str(p) for p in points]
    return ", ".join(shown[:limit]) + (f" … ({len(points)} in all)" if len(points) > limit else "")


def report_blocks(summary):
    """The report's blocks: ``(kind, ...)`` tuples, kinds h1, h2, p, ul, table and figures."""
    blocks = [("h1", "Lambda³ analysis")]
    series = summary["series"]
    timed = summary.get("time_column") is not None
    span = ""
    if summary.get("time_range"):
        first, last = summary["time_range"]
        span = f" from {first} to {last} (time column **{summary['time_column']}**)"
    blocks.append(
        (
            "p",
            f"{len(series)} series, {summary['n_steps']} time steps{span}; "
            f"analysis took {summary['seconds']} s (seed {summary.get('seed', 0)}).",
        )
    )
    missing = summary.get("missing") or {}
    if missing.get("filled"):
        cells = ", ".join(f"{name} {count}" for name, count in missing["filled"].items())
        blocks.append(("p", f"Missing cells filled: {cells}."))
    if missing.get("dropped_rows"):
        blocks.append(("p", f"Rows with a missing cell left out: {missing['dropped_rows']}."))

    blocks.append(("h2", "Jumps, tension and change points"))
    rows = []
    for name, info in series.items():
        times = info.get("change_point_times") if timed else None
        rows.append(
            [
                name,
                str(info["positive_jumps"]),
                str(info["negative_jumps"]),
                _fmt(info["mean_tension"]),
                _points(info["change_points"], times),
            ]
        )
    where = "times" if timed else "rows"
    header = ["series", "ΔΛC⁺ jumps", "ΔΛC⁻ jumps", "mean tension ρT", f"level change points ({where})"]
    blocks.append(("table", header, rows))
    blocks += _figures(summary, "series.png", "change_points.png")

    blocks.append(("h2", "Which series jump together"))
    if summary["sync_pairs"]:
        blocks.append(
            (
                "ul",
                [
                    f"When **{pair['source']}** jumps, **{pair['target']}** jumps {_when(pair['lag'])}: "
                    f"{pair['share']:.0%} of the rarer series' jumps coincide "
                    f"(sync rate {_fmt(pair['rate'])})."
                    for pair in summary["sync_pairs"]
                ],
            )
        )
    else:
        blocks.append(("ul", ["No two series have jumps that coincide within the lag window."]))
    structure = summary.get("sync_structure")
    if structure is not None:
        items = []
        strongest = structure["strongest_pair"]
        if strongest is not None:
            items.append(
                f"Strongest pair: **{strongest['source']}** → **{strongest['target']}** "
                f"({_when(strongest['lag'])}, sync rate {_fmt(strongest['rate'])}, "
                f"{strongest['share']:.0%} of the rarer series' jumps)."
            )
        share = f"{structure['threshold']:.0%}"
        if structure["clusters"]:
            for cluster in structure["clusters"]:
                members = ", ".join(f"**{name}**" for name in cluster)
                items.append(f"Cluster of series that jump together: {members}.")
        else:
            items.append(f"No cluster: no two series share at least {share} of their jumps.")
        for hub in structure["hubs"]:
            items.append(
                f"Hub: **{hub['series']}**, linked to {len(hub['partners'])} series "
                f"({', '.join(hub['partners'])}) by at least {share} of shared jumps."
            )
        blocks.append(("p", "The sync network's structure:"))
        blocks.append(("ul", items))
    blocks += _figures(summary, "sync_matrix.png", "sync_network.png", "sync_profile.png", "dynamic_sync.png")

    blocks.append(("h2", "Which series drives which (structural causality, lag 1)"))
    if summary["causality_pairs"]:
        blocks.append(
            (
                "ul",
                [
                    f"After an upward jump of **{pair['source']}** ({pair['source_jumps']} of them), "
                    f"**{pair['target']}** falls sharply at the next step "
                    f"with probability {pair['probability']:.0%}."
                    for pair in summary["causality_pairs"]
                ],
            )
        )
    else:
        blocks.append(
            ("ul", ["No upward jump is followed by a downward jump of another series at the next step."])
        )
    blocks += _figures(summary, "causality_by_lag.png")

    if "interactions" in summary:
        blocks += _interaction_blocks(summary["interactions"])
        blocks += _figures(summary, "interactions.png")

    blocks += _regime_blocks(summary["regimes"])
    blocks += _figures(summary, "regimes.png")

    if "regression" in summary:
        blocks += _regression_blocks(summary)
        blocks += _figures(summary, "fit.png", "components.png", "predictive_check.png", "posterior.png")

    if summary.get("figures") == []:
        blocks.append(("p", 'Figures need matplotlib: `pip install "sklearn-lambda3[plot]"`.'))
    return blocks


def _figures(summary, *names):
    """A figures block of those of ``names`` that were drawn (none: no block)."""
    drawn = [name for name in names if name in (summary.get("figures") or [])]
    return [("figures", drawn)] if drawn else []


def _interaction_blocks(inter):
    blocks = [("h2", "Bayesian interaction effects between series")]
    if inter["lag"] == "auto":
        lag = "each linked pair at its sync lag, the others at the same step"
    else:
        lag = f"the source {_when(inter['lag']).replace('later', 'earlier')}"
    blocks.append(
        (
            "p",
            f"Each target is regressed on its own jumps and tension and on the source's "
            f"({inter['pairs_fitted']} of {inter['pairs_possible']} ordered pairs, strongest sync first, "
            f"{lag}; {inter['converged']} converged). An effect is credible when its "
            f"{inter['coverage']:.0%} interval excludes zero.",
        )
    )
    effects = inter["credible_effects"]
    if not effects:
        blocks.append(("ul", ["No source has a credible effect on its target in the analysed pairs."]))
    for title, kinds in (("Jumps", JUMP_KINDS), ("Tension", (TENSION_KIND,))):
        chosen = [e for e in effects if e["kind"] in kinds]
        if not effects:
            break
        if not chosen:
            blocks.append(("p", f"**{title}:** no credible effect."))
            continue
        items = []
        for e in chosen[:TOP_N]:
            verb = "raises" if e["mean"] > 0 else "lowers"
            items.append(
                f"{_sentence(KIND_WORDS[e['kind']])} **{e['source']}** {verb} **{e['target']}** "
                f"by {_fmt(abs(e['mean']))} ({inter['coverage']:.0%} interval {_fmt(e['low'])} to "
                f"{_fmt(e['high'])}), {_when(e['lag'])}."
            )
        if len(chosen) > TOP_N:
            items.append(f"… {len(chosen) - TOP_N} more in summary.json.")
        blocks.append(("p", f"**{title}** ({len(chosen)} credible effect{'s' if len(chosen) != 1 else ''}):"))
        blocks.append(("ul", items))
    unconverged = [p for p in inter["pairs"] if not p["converged"]]
    if unconverged:
        names = ", ".join(f"{p['source']} → {p['target']}" for p in unconverged[:TOP_N])
        more = f" and {len(unconverged) - TOP_N} more" if len(unconverged) > TOP_N else ""
        blocks.append(("p", f"Not converged, left out above: {names}{more}."))
    return blocks


def _regime_blocks(regimes):
    method = regimes.get("method")
    title = f"Regimes of {regimes['series']}"
    if method == "hmm":
        title += " (hidden Markov model)"
    elif method == "kmeans":
        title += " (K-means clusters)"
    blocks = [("h2", title)]
    expected = regimes.get("expected_duration")
    header = ["regime", "share of steps", "mean tension", "mean level", "mean run (steps)"]
    if expected is not None:
        header.append("expected run (model)")
    header.append("longest run")
    rows = []
    for k, share in enumerate(regimes["frequency"]):
        run = (regimes.get("longest_run") or {}).get(str(k))
        row = [
            str(k),
            f"{share:.0%}",
            _fmt(regimes["mean_tension"][k]),
            _fmt(regimes["mean_level"][k]),
            f"{regimes['mean_duration'][k]:.1f}",
        ]
        if expected is not None:
            row.append("never leaves" if expected[k] is None else f"{expected[k]:.1f}")
        row.append("" if run is None else f"{run['steps']} steps, {run['start_time']} to {run['end_time']}")
        rows.append(row)
    blocks.append(("table", header, rows))
    matrix = regimes.get("fitted_transition_matrix") or regimes["transition_matrix"]
    source = "fitted by the model" if regimes.get("fitted_transition_matrix") else "observed"
    blocks.append(
        (
            "p",
            f"Regimes are numbered by increasing mean tension: 0 is the calmest. "
            f"Probability of the next step's regime ({source}):",
        )
    )
    blocks.append(
        (
            "table",
            ["now → next", *(str(k) for k in range(len(matrix)))],
            [[str(i), *(f"{value:.2f}" for value in row)] for i, row in enumerate(matrix)],
        )
    )
    return blocks


def _regression_blocks(summary):
    reg = summary["regression"]
    target = summary["target"]
    blocks = [("h2", f"What drives {target}")]
    points = reg["change_points"]
    times = reg.get("change_point_times")
    where = "" if not points else f" ({_points(points, times if summary.get('time_column') else None)})"
    periods = reg.get("seasonal_periods", [])
    season = (
        f"a season of period {', '.join(_fmt(p) for p in periods)} steps found in the target"
        if periods
        else "no season (none found in the target)"
    )
    blocks.append(
        (
            "p",
            f"Dynamic Lambda³ model (a level that drifts as a random walk and steps at "
            f"{len(points)} change point(s){where}, {season}, plus the features of the other series). "
            f"The level moves by about {_fmt(reg['level_step_sd'])} per step; the noise sd is "
            f"{_fmt(reg['noise_sd'])}.",
        )
    )
    credible = [d for d in reg["drivers"] if d["credible"]]
    if credible:
        items = [
            f"**{d['feature']}** {'raises' if d['coef'] > 0 else 'lowers'} {target} "
            f"by {_fmt(abs(d['coef']))} "
            f"(90% interval {_fmt(d['low'])} to {_fmt(d['high'])})."
            for d in credible[:TOP_N]
        ]
    else:
        items = ["No feature of the other series has a 90% interval that excludes zero."]
    blocks.append(("ul", items))
    verdict = "converged" if reg["converged"] else "did NOT converge: read the numbers with care"
    blocks.append(
        (
            "p",
            f"Sampling {verdict} (max R-hat {reg['r_hat_max']:.4f}, min bulk ESS {reg['ess_bulk_min']:.0f}, "
            f"{reg['num_divergences']} divergences).",
        )
    )
    return blocks


def render_report(summary):
    """``report.md``: the findings in plain words."""
    lines = []
    for block in report_blocks(summary):
        kind = block[0]
        if kind == "h1":
            lines += [f"# {block[1]}", ""]
        elif kind == "h2":
            lines += [f"## {block[1]}", ""]
        elif kind == "p":
            lines += [block[1], ""]
        elif kind == "ul":
            lines += [f"- {item}" for item in block[1]] + [""]
        elif kind == "table":
            header, rows = block[1], block[2]
            lines.append("| " + " | ".join(header) + " |")
            lines.append("|" + "---|" * len(header))
            lines += ["| " + " | ".join(row) + " |" for row in rows]
            lines.append("")
        elif kind == "figures":
            for name in block[1]:
                lines += [f"![{name[:-4]}]({name})", "", FIGURE_CAPTIONS.get(name, ""), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`(.+?)`")

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
       margin: 0; background: #f6f8fa; line-height: 1.5; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 1.9em; border-bottom: 2px solid #d0d7de; padding-bottom: 6px; }
h2 { font-size: 1.35em; margin-top: 1.8em; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
table { border-collapse: collapse; margin: 12px 0; font-size: 0.92em; }
th, td { border: 1px solid #d0d7de; padding: 5px 10px; text-align: left; vertical-align: top; }
th { background: #f0f3f6; }
tr:nth-child(even) td { background: #fafbfc; }
td:nth-child(n+2) { font-variant-numeric: tabular-nums; }
li { margin: 3px 0; }
code { background: #f0f3f6; padding: 1px 4px; border-radius: 4px; }
figure { margin: 18px 0 28px; }
figure img { max-width: 100%; height: auto; border: 1px solid #e5e7eb; }
figcaption { color: #57606a; font-size: 0.9em; margin-top: 4px; }
nav { font-size: 0.9em; margin-bottom: 8px; }
nav a { margin-right: 12px; color: #0969da; text-decoration: none; }
"""


def _inline(text):
    escaped = html.escape(text, quote=False)
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    return _CODE.sub(r"<code>\1</code>", escaped)


def _anchor(title):
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def render_html(summary, figure_dir):
    """``report.html``: the report's sections in one file, its figures embedded as PNG data."""
    blocks = report_blocks(summary)
    figure_dir = Path(figure_dir)
    title = "Lambda³ analysis"
    body = []
    contents = [block[1] for block in blocks if block[0] == "h2"]
    for block in blocks:
        kind = block[0]
        if kind == "h1":
            body.append(f"<h1>{_inline(block[1])}</h1>")
            links = "".join(f'<a href="#{_anchor(t)}">{html.escape(t)}</a>' for t in contents)
            body.append(f"<nav>{links}</nav>")
        elif kind == "h2":
            body.append(f'<h2 id="{_anchor(block[1])}">{_inline(block[1])}</h2>')
        elif kind == "p":
            body.append(f"<p>{_inline(block[1])}</p>")
        elif kind == "ul":
            body.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in block[1]) + "</ul>")
        elif kind == "table":
            header, rows = block[1], block[2]
            head = "".join(f"<th>{_inline(cell)}</th>" for cell in header)
            cells = "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in rows)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>")
        elif kind == "figures":
            for name in block[1]:
                data = base64.b64encode((figure_dir / name).read_bytes()).decode("ascii")
                caption = html.escape(FIGURE_CAPTIONS.get(name, name))
                body.append(
                    f'<figure><img alt="{html.escape(name[:-4])}" src="data:image/png;base64,{data}">'
                    f"<figcaption>{caption}</figcaption></figure>"
                )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )
