"""What a seat constraint did to each candidate, from a constrained count's record: one short
note per candidate, in candidate order (empty when no constraint touched them). It is the
per-candidate cell of ``results.csv`` (``constraint``) and of each candidate in
``results.json`` (``constraint``).

* the block vote (``count/rules/constrained_block.py``): ``passed over in round 1`` for a
  candidate whom the votes would have elected and a constraint did not (its
  ``options["passed_over"]``), ``elected by a constraint in round 1`` for a winner who polled
  fewer votes than someone passed over;
* STV and IRV under Hill's method (``count/rules/constrained_stv.py``): ``doomed, excluded
  in round N`` for a candidate the constraints doomed (``options["doomed"]``, excluded in the
  round that excludes them), ``guarded from exclusion in rounds ...`` for one a minimum kept in the
  count (``options["guarded"]``).
"""

from __future__ import annotations

from collections.abc import Iterable

from tallyroom.count.record import Count

__all__ = ["constraint_notes"]


def _names(value: object) -> tuple[str, ...]:
    if isinstance(value, (tuple, list)):
        return tuple(str(v) for v in value)
    return ()


def _rounds(numbers: Iterable[int]) -> str:
    listed = sorted(set(numbers))
    word = "round" if len(listed) == 1 else "rounds"
    return f"{word} {', '.join(str(n) for n in listed)}"


def constraint_notes(count: Count) -> tuple[str, ...]:
    """One note per candidate of ``count`` (see the module docstring)."""
    notes: dict[str, list[str]] = {name: [] for name in count.candidates}
    passed = _names(count.options.get("passed_over"))
    if passed:
        tally = count.rounds[0].tally_map if count.rounds else {}
        lowest_passed = min(tally.get(n, 0) for n in passed)
        for name in passed:
            notes[name].append("passed over in round 1")
        for name in count.winners:
            if tally.get(name, 0) < lowest_passed:
                notes[name].append("elected by a constraint in round 1")
    doomed = set(_names(count.options.get("doomed")))
    for rnd in count.rounds:
        for name in rnd.eliminated:
            if name in doomed:
                notes[name].append(f"doomed, excluded in round {rnd.number}")
    guarded: dict[str, list[int]] = {}
    raw = count.options.get("guarded")
    for entry in raw if isinstance(raw, (tuple, list)) else ():
        number, who = entry
        for name in who:
            guarded.setdefault(str(name), []).append(int(number))
    for name, numbers in guarded.items():
        if name in notes:
            notes[name].append(f"guarded from exclusion in {_rounds(numbers)}")
    return tuple("; ".join(notes[name]) for name in count.candidates)
