"""Charts of a declared count, as plotly figures: each candidate's first and last tally, and
the transfers.

Both are built from the RCTab-format report published with each contest (``report`` in the
declaration document): ``results[r].tally`` is round r's votes per candidate and
``results[r].tallyResults`` says who was elected or eliminated after it and where their
votes went. The figures are JSON for plotly.js, which the results page loads from this site;
the same figures are in the page's tables, so nothing depends on the charts.

* :func:`rounds_figure`: a pair of horizontal bars per candidate, their first-round votes and
  their votes in the last round they were counted in (every round is in the table beside it);
* :func:`transfers_figure`: a Sankey diagram, one column of nodes per round, each link
  either the votes a candidate keeps into the next round or votes transferred (to another
  candidate, or to "exhausted").

Readable at any size: the height grows with the candidates, never with candidates x rounds
(8 candidates: under 600 px each). In the Sankey only the first and the last columns carry
labels (a name per node; the columns between are named by the round numbers above them and
by each node's hover text), the gap between nodes (``pad``) is taller than a label, so no two
labels can meet; the figure's ``meta.min_width`` is the width below which the columns would
crowd each other's labels, and ``charts.js`` lets the chart scroll sideways rather than
squeeze it. The browser test measures the labels (``getBoundingClientRect``) from 2 to 30
candidates.

Names are text, never markup: plotly.js renders a subset of HTML in labels and hover text
(``<a href>``, ``<b>``, ``<br>``...), so a candidate called ``<a href="...">Vote</a>`` would
become a link in the chart. Every name is written with ``&``, ``<`` and ``>`` as the
entities plotly decodes back to those characters (:func:`as_text`), so it shows exactly as
typed.

Vote figures are read from the report's decimal strings into floats here, for drawing only:
no count arithmetic happens in this module.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["ChartText", "as_text", "rounds_figure", "transfers_figure"]

EXHAUSTED = "exhausted"
RESIDUAL = "residual surplus"
# Colours with at least 4.5:1 contrast against white, for the bars and links.
PALETTE = ("#1f4e99", "#a3340b", "#19713a", "#6b2f8f", "#8a5a00", "#0f6b73", "#9c1f5b", "#4a4a4a")
FONT = {"family": "system-ui, sans-serif", "size": 14, "color": "#1a1a1a"}
LABEL_FONT = 13
NODE_PAD = 24  # px between nodes in a column: taller than a label line (13 px text: ~17 px)
COLUMN = 64  # px per round at least, so that the round numbers above never meet
CHAR = 7  # px per character of a label, generously, for the width the labels need


@dataclass(frozen=True, slots=True)
class ChartText:
    """The words a chart shows, in the page's language (``{n}`` is a round number)."""

    round: str = "Round {n}"
    votes: str = "votes"
    first_round: str = "First round"
    last_round: str = "Last round counted"
    exhausted: str = "exhausted"
    kept: str = "kept"
    votes_format: str = ",.0f"


def as_text(name: str) -> str:
    """``name`` for a plotly label: shown as typed, never read as a tag or an entity."""
    return name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _votes(text: object) -> float:
    return float(str(text))


def _rounds(report: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    results: list[Mapping[str, Any]] = list(report.get("results", []))
    return results


def _doc(figure: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(figure.to_json())
    return doc


def rounds_figure(
    report: Mapping[str, Any], candidates: Sequence[str], text: ChartText = ChartText()
) -> dict[str, Any]:
    """Each candidate's first-round votes and their votes in the last round they were in."""
    import plotly.graph_objects as go

    rounds = _rounds(report)
    names = [c for c in candidates if rounds and c in rounds[0].get("tally", {})]
    first = [_votes(rounds[0]["tally"][c]) for c in names] if rounds else []
    last: list[float] = []
    last_round: list[int] = []
    for c in names:
        seen = [r for r in rounds if c in r.get("tally", {})]
        last.append(_votes(seen[-1]["tally"][c]))
        last_round.append(int(seen[-1]["round"]))
    shown = [as_text(c) for c in names]
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            name=text.first_round,
            y=shown,
            x=first,
            orientation="h",
            marker={"color": PALETTE[0]},
            hovertemplate="%{y}: %{x:,}<extra>" + as_text(text.first_round) + "</extra>",
        )
    )
    if len(rounds) > 1:
        figure.add_trace(
            go.Bar(
                name=text.last_round,
                y=shown,
                x=last,
                customdata=[text.round.format(n=n) for n in last_round],
                orientation="h",
                marker={"color": PALETTE[1]},
                hovertemplate="%{y}: %{x:,}<extra>%{customdata}</extra>",
            )
        )
    bars = 2 if len(rounds) > 1 else 1
    figure.update_layout(
        barmode="group",
        font=FONT,
        height=max(200, len(names) * (14 * bars + 12) + 120),
        margin={"l": 10, "r": 10, "t": 10, "b": 40},
        xaxis={"title": {"text": text.votes}, "tickformat": ","},
        yaxis={"autorange": "reversed", "automargin": True},
        legend={"orientation": "h", "y": -0.15, "yanchor": "top"},
        paper_bgcolor="#ffffff",
        plot_bgcolor="#ffffff",
    )
    return _doc(figure)


def transfers_figure(
    report: Mapping[str, Any], candidates: Sequence[str], text: ChartText = ChartText()
) -> dict[str, Any]:
    """The flow of votes between rounds as a Sankey diagram (nodes: round x candidate)."""
    import plotly.graph_objects as go

    rounds = _rounds(report)
    numbers = [int(r["round"]) for r in rounds]
    first, final = (numbers[0], numbers[-1]) if numbers else (0, 0)
    labels: list[str] = []
    hovers: list[str] = []
    colours: list[str] = []
    index: dict[tuple[int, str], int] = {}
    order = {c: k for k, c in enumerate(candidates)}

    def node(r: int, name: str) -> int:
        key = (r, name)
        if key not in index:
            index[key] = len(labels)
            shown = as_text(name) if name != EXHAUSTED else as_text(text.exhausted)
            # names only in the first and the last column: the columns between would crowd
            labels.append(shown if r in (first, final) else "")
            hovers.append(f"{shown} ({as_text(text.round.format(n=r))})")
            colours.append(PALETTE[order.get(name, len(PALETTE) - 1) % len(PALETTE)])
        return index[key]

    sources: list[int] = []
    targets: list[int] = []
    values: list[float] = []
    link_colours: list[str] = []
    for now, after in itertools.pairwise(rounds):
        r, r_next = int(now["round"]), int(after["round"])
        moved: dict[str, float] = {}
        for result in now.get("tallyResults", []):
            who = str(result.get("eliminated") or result.get("elected") or "")
            for target, amount in result.get("transfers", {}).items():
                value = _votes(amount)
                if value <= 0:
                    continue
                moved[who] = moved.get(who, 0.0) + value
                # a residual surplus (lost to rounding) is drawn with the exhausted votes
                to = EXHAUSTED if target == RESIDUAL else str(target)
                sources.append(node(r, who))
                targets.append(node(r_next, to))
                values.append(value)
                link_colours.append("rgba(120,120,120,0.45)")
        for name, amount in now.get("tally", {}).items():
            if name in after.get("tally", {}):
                kept = _votes(amount) - moved.get(name, 0.0)
                if kept > 0:
                    sources.append(node(r, name))
                    targets.append(node(r_next, name))
                    values.append(kept)
                    link_colours.append("rgba(31,78,153,0.25)")
    rows = len(candidates) + 1  # a node per candidate and one for the exhausted votes
    longest = max((len(n) for n in candidates), default=8)
    columns = max(1, len(rounds))
    width = 2 * (longest * CHAR + 24) + columns * COLUMN
    figure = go.Figure(
        go.Sankey(
            arrangement="freeform",
            node={
                "label": labels,
                "customdata": hovers,
                "hovertemplate": "%{customdata}: %{value:" + text.votes_format + "}<extra></extra>",
                "color": colours,
                "pad": NODE_PAD,
                "thickness": 14,
                "align": "left",
            },
            link={"source": sources, "target": targets, "value": values, "color": link_colours},
            valueformat=text.votes_format,
            textfont={"size": LABEL_FONT},
        )
    )
    # the round numbers above the columns (a Sankey's columns are evenly spaced)
    for k, n in enumerate(numbers):
        figure.add_annotation(
            x=k / (columns - 1) if columns > 1 else 0.5,
            y=1.0,
            xref="paper",
            yref="paper",
            yanchor="bottom",
            text=str(n),
            showarrow=False,
            font={"size": 12, "color": "#4a4a4a"},
        )
    figure.update_layout(
        font=FONT,
        height=rows * NODE_PAD + 160 + 4 * len(candidates),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        paper_bgcolor="#ffffff",
        meta={"min_width": width},
    )
    return _doc(figure)
