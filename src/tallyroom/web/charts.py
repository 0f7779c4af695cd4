"""Charts of a declared count, as plotly figures: each round's tallies, and the transfers.

Both are built from the RCTab-format report published with each contest (``report`` in the
declaration document): ``results[r].tally`` is round r's votes per candidate and
``results[r].tallyResults`` says who was elected or eliminated after it and where their
votes went. The figures are JSON for plotly.js, which the results page loads from this site;
the same figures are in the page's tables, so nothing depends on the charts.

* :func:`rounds_figure`: a horizontal bar per candidate, one group of bars per round;
* :func:`transfers_figure`: a Sankey diagram, one column of nodes per round, each link
  either the votes a candidate keeps into the next round or votes transferred (to another
  candidate, or to "exhausted").

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
from typing import Any

__all__ = ["as_text", "rounds_figure", "transfers_figure"]

EXHAUSTED = "exhausted"
# Colours with at least 4.5:1 contrast against white, for the bars and links.
PALETTE = ("#1f4e99", "#a3340b", "#19713a", "#6b2f8f", "#8a5a00", "#0f6b73", "#9c1f5b", "#4a4a4a")
FONT = {"family": "system-ui, sans-serif", "size": 14, "color": "#1a1a1a"}


def as_text(name: str) -> str:
    """``name`` for a plotly label: shown as typed, never read as a tag or an entity."""
    return name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _votes(text: object) -> float:
    return float(str(text))


def _rounds(report: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    results: list[Mapping[str, Any]] = list(report.get("results", []))
    return results


def rounds_figure(report: Mapping[str, Any], candidates: Sequence[str]) -> dict[str, Any]:
    """Each round's tally: for each round a bar trace over the candidates still counted."""
    import plotly.graph_objects as go

    figure = go.Figure()
    for k, rnd in enumerate(_rounds(report)):
        tally = rnd.get("tally", {})
        names = [c for c in candidates if c in tally]
        figure.add_trace(
            go.Bar(
                name=f"Round {rnd['round']}",
                y=[as_text(c) for c in names],
                x=[_votes(tally[c]) for c in names],
                orientation="h",
                marker={"color": PALETTE[k % len(PALETTE)]},
                hovertemplate="%{y}: %{x:,} votes<extra>Round " + str(rnd["round"]) + "</extra>",
            )
        )
    figure.update_layout(
        barmode="group",
        font=FONT,
        height=max(260, 70 * len(candidates) * max(1, len(_rounds(report))) // 2 + 120),
        margin={"l": 10, "r": 10, "t": 10, "b": 40},
        xaxis={"title": {"text": "votes"}, "tickformat": ","},
        yaxis={"autorange": "reversed", "automargin": True},
        legend={"orientation": "h", "y": -0.2},
        paper_bgcolor="#ffffff",
        plot_bgcolor="#ffffff",
    )
    doc: dict[str, Any] = json.loads(figure.to_json())
    return doc


def transfers_figure(report: Mapping[str, Any], candidates: Sequence[str]) -> dict[str, Any]:
    """The flow of votes between rounds as a Sankey diagram (nodes: round x candidate)."""
    import plotly.graph_objects as go

    rounds = _rounds(report)
    labels: list[str] = []
    colours: list[str] = []
    index: dict[tuple[int, str], int] = {}
    order = {c: k for k, c in enumerate(candidates)}

    def node(r: int, name: str) -> int:
        key = (r, name)
        if key not in index:
            index[key] = len(labels)
            shown = as_text(name) if name != EXHAUSTED else "exhausted"
            labels.append(f"{shown} (round {r})")
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
                sources.append(node(r, who))
                targets.append(node(r_next, str(target)))
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
    figure = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={"label": labels, "color": colours, "pad": 14, "thickness": 16},
            link={"source": sources, "target": targets, "value": values, "color": link_colours},
            valueformat=",.0f",
        )
    )
    figure.update_layout(
        font=FONT,
        height=max(300, 60 * len(candidates) + 120),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        paper_bgcolor="#ffffff",
    )
    doc: dict[str, Any] = json.loads(figure.to_json())
    return doc
