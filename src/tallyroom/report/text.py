"""A :class:`Count` as a plain-text round-by-round table for a terminal or a notice board."""

from __future__ import annotations

from tallyroom.count.record import Count, DecisionKind

__all__ = ["count_to_text"]


def count_to_text(count: Count, *, title: str = "") -> str:
    fmt = count.scale.format_plain
    rounds = count.rounds
    first = rounds[0].tally_map if rounds else {}
    order = sorted(count.candidates, key=lambda c: (-first.get(c, 0), count.candidates.index(c)))
    order = [c for c in order if any(c in r.tally_map for r in rounds)]
    head = ["Candidate"] + [f"Round {r.number}" for r in rounds]
    body: list[list[str]] = []
    for cand in order:
        row = [cand]
        for r in rounds:
            t = r.tally_map
            row.append(fmt(t[cand]) if cand in t else "")
        body.append(row)
    body.append(
        ["Threshold"] + [fmt(r.threshold) if r.threshold is not None else "" for r in rounds]
    )
    body.append(["Inactive"] + [fmt(sum(v for _, v in r.inactive)) for r in rounds])
    body.append(
        ["Decision"]
        + [
            "; ".join(
                ("+" if d.kind is DecisionKind.ELECTED else "-") + d.candidate for d in r.decisions
            )
            for r in rounds
        ]
    )
    widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
    lines = []
    if title:
        lines += [title, "=" * len(title)]
    lines.append(
        "  ".join(h.ljust(widths[0]) if i == 0 else h.rjust(widths[i]) for i, h in enumerate(head))
    )
    lines.append("  ".join("-" * w for w in widths))
    for row in body:
        lines.append(
            "  ".join(
                v.ljust(widths[0]) if i == 0 else v.rjust(widths[i]) for i, v in enumerate(row)
            )
        )
    lines.append("")
    lines.append(f"Ballots: {count.total_ballots}   Seats: {count.seats}   Rule: {count.rule}")
    lines.append("Elected: " + (", ".join(count.winners) if count.winners else "nobody"))
    for tb in count.ties:
        lines.append(
            f"Tie in round {tb.round} ({tb.purpose.value}) between {', '.join(tb.tied)}: "
            f"{tb.chosen} chosen by {tb.method} ({tb.explanation})"
        )
    return "\n".join(lines) + "\n"
