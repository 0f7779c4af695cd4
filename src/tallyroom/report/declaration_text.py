"""A declaration as text, the way a returning officer reads it out: per contest the
candidates' votes and shares (in a weighted contest their votes and their weight, each with
its share), the headline figures, the section table, the comparison with the
previous contest, the constraints and the rounds they acted in, then the round-by-round
table (and an electoral college's sections, each round by round with its shares)."""

from __future__ import annotations

from decimal import Decimal

from tallyroom.report.declaration import ContestDeclaration, Declaration
from tallyroom.report.motion_declaration import motion_text
from tallyroom.report.text import count_to_text

__all__ = ["contest_text", "declaration_text"]


def _signed(change: Decimal) -> str:
    return f"+{change}" if change > 0 else str(change)


def contest_text(c: ContestDeclaration) -> str:
    seats = f"{c.seats} seat" + ("s" if c.seats != 1 else "")
    title = f"{c.title} ({c.rule}, {seats})" if c.motion is None else f"{c.title} (motion)"
    lines = [title, "-" * len(title)]
    if c.motion is not None:
        lines += [*motion_text(c.motion), ""]
    width = max(len(r.name) for r in c.candidates) if c.candidates else 10
    if c.weighted:
        lines += _weighted_lines(c, width)
    else:
        by_votes = sorted(c.candidates, key=lambda r: (-r.votes, r.name))
        for r in by_votes if c.motion is None else c.candidates:  # a motion's answers in order
            mark = "  elected" if r.name in c.winners and c.motion is None else ""
            lines.append(f"  {r.name:<{width}}  {r.votes:>11,}  {r.percent:>5}%{mark}")
    lines.append(
        f"  electorate {c.electorate:,}; ballots returned {c.ballots_returned:,}; "
        f"valid {c.valid:,}; spoilt {c.spoilt:,}; turnout {c.turnout_percent}%"
    )
    if c.weighted:
        lines.append(f"  total weight of the valid ballots {c.total_weight}")
    published = [s for s in c.sections if s.published]
    if published:
        names = [r.name for r in c.candidates]
        label_width = max(len(s.label) for s in c.sections)
        cells = [f"{n:>20}" for n in names]
        lines += ["", f"  {'Section':<{label_width}}  {'ballots':>9}" + "".join(cells)]
        for s in c.sections:
            if not s.published:
                lines.append(f"  {s.label:<{label_width}}  (fewer ballots than the minimum)")
                continue
            votes = {r.name: r for r in s.candidates}
            row = "".join(
                f"{f'{votes[n].votes:,} ({votes[n].percent}%)':>20}" for n in names if n in votes
            )
            lines.append(f"  {s.label:<{label_width}}  {s.ballots or 0:>9,}{row}")
    if c.previous_name is not None:
        lines += ["", f"  Compared with {c.previous_name}:"]
        for p in c.previous:
            before = "-" if p.previous_percent is None else f"{p.previous_percent}%"
            now = "-" if p.percent is None else f"{p.percent}%"
            change = "" if p.change is None else f" ({_signed(p.change)})"
            lines.append(f"  {p.name:<{width}}  {before:>6} -> {now:>6}{change}")
    if c.constraints:
        lines += ["", "  Constraints: " + "; ".join(c.constraints)]
        lines += [f"  Round {n}: {note}" for n, note in c.constraint_rounds]
        if not c.constraint_rounds:
            lines.append("  (no constraint changed who was elected)")
    if c.motion is None:  # a motion's one round is its answers' votes, above
        lines += ["", count_to_text(c.count, title="Round by round")]
    for part in c.college:
        head = f"Section {part.label} (weight {part.weight})"
        if part.count is None:
            lines += ["", head, "  (fewer ballots than the minimum: withheld)"]
            continue
        lines += ["", count_to_text(part.count, title=head).rstrip("\n")]
        for by_round in part.shares():
            shares = ", ".join(f"{n} {p}%" for n, p in by_round["percent"].items())
            lines.append(f"  shares in round {by_round['round']}: {shares}")
    return "\n".join(lines).rstrip("\n") + "\n"


def _weighted_lines(c: ContestDeclaration, width: int) -> list[str]:
    """A weighted contest's candidates: votes (ballots) and weight, each with its share,
    heaviest first."""
    shown = [format(r.weight, "f") if r.weight is not None else "" for r in c.candidates]
    wide = max([len("weight"), *(len(w) for w in shown)])
    out = [f"  {'':<{width}}  {'votes':>11}  {'':>6}  {'weight':>{wide}}"]
    order = sorted(
        zip(c.candidates, shown, strict=True), key=lambda p: (-(p[0].weight or 0), p[0].name)
    )
    for r, w in order:
        mark = "  elected" if r.name in c.winners else ""
        out.append(
            f"  {r.name:<{width}}  {r.votes:>11,}  {r.percent:>5}%  {w:>{wide}}"
            f"  {r.weight_percent:>5}%{mark}"
        )
    return out


def declaration_text(decl: Declaration) -> str:
    head = f"Declaration: {decl.name}"
    parts = [head, "=" * len(head), ""]
    parts += [contest_text(c) for c in decl.contests]
    return "\n".join(parts)
