"""The demo's synthetic 2016 register and how its voters vote, from the published figures.

Labour published the 2016 result as ballots distributed (654,006), valid votes by section and
candidate, and spoilt ballots (1,042); ``../shared/conformance/official/official_results.json``
holds them (record ``labour-leader-2016``). Labour did not publish the register, nor the
electorate of each section, so the demo makes one up around those figures and says so:

* eligible electorate per section (:data:`ELIGIBLE`): ASSUMED, summing to 654,006; members
  near the c.388,000 reported by HuffPost UK, the rest split between the supporters;
* 5,994 more entries the rules exclude (:data:`EXCLUDED`), one group per rule of the
  definition, so the register holds exactly 660,000 lines;
* valid votes per section and candidate (:data:`VOTES`): as published;
* 1,042 spoilt postal papers (:data:`SPOILT`) from voters who did not vote online: the split
  between a blank paper and invalid marks is ASSUMED.

Everything is drawn from a seeded generator: the same register and the same ballots on every
machine.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "CANDIDATES",
    "ELIGIBLE",
    "EXCLUDED",
    "SEED",
    "SPOILT",
    "VOTES",
    "VoterPlan",
    "plan_votes",
    "write_exclusions",
    "write_register",
]

SEED = 2016
CANDIDATES = ("Jeremy Corbyn", "Owen Smith")

# ASSUMED: the electorate of each section (Labour published only the total).
ELIGIBLE: Mapping[str, int] = {"members": 388_000, "registered": 129_000, "affiliated": 137_006}

# Published valid votes by section (official_results.json, "labour-leader-2016").
VOTES: Mapping[str, Mapping[str, int]] = {
    "members": {"Jeremy Corbyn": 168_216, "Owen Smith": 116_960},
    "registered": {"Jeremy Corbyn": 84_918, "Owen Smith": 36_599},
    "affiliated": {"Jeremy Corbyn": 60_075, "Owen Smith": 39_670},
}

# Published: 1,042 spoilt. ASSUMED: the reasons.
SPOILT: Mapping[str, int] = {"invalid_marks": 731, "blank": 311}

# Entries the definition's rules exclude: (section, what is wrong, how many). 5,994 in all.
EXCLUDED: tuple[tuple[str, str, int], ...] = (
    ("members", "joined_after_freeze", 3_000),
    ("members", "suspended", 500),
    ("registered", "rejected", 1_200),
    ("registered", "outside_window", 300),
    ("affiliated", "also_a_member", 794),
    ("members", "on_exclusion_list", 200),
)

HEADER = "person_id,section,membership_number,status,joined,registered\n"
_PREFIX = {"members": "L", "registered": "S", "affiliated": "A"}


def _line(person: str, section: str, number: str, status: str, joined: str, reg: str) -> str:
    return f"{person},{section},{number},{status},{joined},{reg}\n"


def _eligible_lines(rng: np.random.Generator) -> Iterator[str]:
    joined_days = rng.integers(0, 3_650, size=ELIGIBLE["members"])
    for k, day in enumerate(joined_days.tolist()):
        joined = np.datetime64("2006-01-12") + day  # ten years up to the freeze date
        yield _line(f"P{k:07d}", "members", f"L{k:07d}", "active", str(joined), "")
    base = ELIGIBLE["members"]
    minutes = rng.integers(0, 48 * 60, size=ELIGIBLE["registered"])
    for k, minute in enumerate(minutes.tolist()):
        stamp = np.datetime64("2016-07-18T16:00") + minute  # UTC: 17:00 BST onwards
        yield _line(
            f"P{base + k:07d}", "registered", f"S{k:07d}", "active", "", f"{stamp}:00+00:00"
        )
    base += ELIGIBLE["registered"]
    for k in range(ELIGIBLE["affiliated"]):
        yield _line(
            f"P{base + k:07d}", "affiliated", f"A{k:07d}", "active", "2015-06-01", "2016-08-01"
        )


def _excluded_lines() -> Iterator[str]:
    person = sum(ELIGIBLE.values())
    numbers = dict.fromkeys(_PREFIX, 9_000_000)
    for section, why, n in EXCLUDED:
        for k in range(n):
            numbers[section] += 1
            number = f"{_PREFIX[section]}{numbers[section]}"
            if why == "also_a_member":
                # an eligible member also signed up through a union: one vote, as a member
                yield _line(f"P{k:07d}", section, number, "active", "2015-06-01", "2016-08-01")
                continue
            person += 1
            pid = f"P{person:07d}"
            if why == "joined_after_freeze":
                yield _line(pid, section, number, "active", "2016-03-01", "")
            elif why == "suspended":
                yield _line(pid, section, number, "suspended", "2012-05-01", "")
            elif why == "on_exclusion_list":
                yield _line(pid, section, number, "active", "2012-05-01", "")
            elif why == "rejected":
                yield _line(pid, section, number, "rejected", "", "2016-07-19T10:00:00+01:00")
            else:  # outside the 48-hour window
                yield _line(pid, section, number, "active", "", "2016-07-21T10:00:00+01:00")


def write_register(path: Path) -> int:
    """Write the synthetic register CSV; the number of entries (660,000)."""
    rng = np.random.default_rng(SEED)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        for line in _eligible_lines(rng):
            out.write(line)
            count += 1
        for line in _excluded_lines():
            out.write(line)
            count += 1
    return count


def write_exclusions(path: Path) -> int:
    """Write the exclusion list (one person id a line): the entries marked for it."""
    person = sum(ELIGIBLE.values())
    ids: list[str] = []
    for _section, why, n in EXCLUDED:
        for _ in range(n):
            if why == "also_a_member":
                continue
            person += 1
            if why == "on_exclusion_list":
                ids.append(f"P{person:07d}")
    path.write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
    return len(ids)


@dataclass(frozen=True, slots=True)
class VoterPlan:
    """Who votes how: per voter (by row of the credentials export) a ranking, or a spoilt
    postal paper's reason. Voters not listed do not vote."""

    online: dict[int, tuple[str, ...]]
    spoilt: dict[int, str]


def plan_votes(sections: list[str]) -> VoterPlan:
    """The ballots of the voters whose sections are ``sections`` (the export's rows, in
    order): each section's published votes, then the spoilt papers among those left."""
    rng = np.random.default_rng(SEED + 1)
    rows = np.asarray(sections)
    online: dict[int, tuple[str, ...]] = {}
    abstainers: list[int] = []
    for section, votes in VOTES.items():
        mine = rng.permutation(np.flatnonzero(rows == section))
        start = 0
        for k, (name, n) in enumerate(votes.items()):
            other = CANDIDATES[1 - k]
            # about half of the voters also give a second preference
            second = rng.random(n) < 0.5
            for voter, both in zip(mine[start : start + n].tolist(), second.tolist(), strict=True):
                online[voter] = (name, other) if both else (name,)
            start += n
        abstainers += mine[start:].tolist()
    chosen = rng.choice(np.asarray(abstainers), size=sum(SPOILT.values()), replace=False)
    spoilt: dict[int, str] = {}
    start = 0
    for reason, n in SPOILT.items():
        for voter in sorted(chosen[start : start + n].tolist()):
            spoilt[voter] = reason
        start += n
    return VoterPlan(online, spoilt)
