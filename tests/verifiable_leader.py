"""A small election for the verifiable path's tests: one section, one IRV contest of two
candidates; ``LEADER_VERIFIABLE`` adds three trustees with a threshold of two."""

from __future__ import annotations

LEADER = """\
[election]
name = "Leader"

[timetable]
nominations_open = 2026-09-01T09:00:00+01:00
nominations_close = 2026-09-10T17:00:00+01:00
ballot_open = 2026-09-20T09:00:00+01:00
ballot_close = 2026-10-07T17:00:00+01:00

[[sections]]
name = "members"

[[contests]]
name = "leader"
rule = "irv"
seats = 1
candidates = [{ name = "Ann" }, { name = "Bo" }]
"""

TRUSTEES = 'trustees = ["Ann Hale", "Ben Ode", "Cleo Marr"]\n'

LEADER_VERIFIABLE = LEADER + "\n[verifiable]\n" + TRUSTEES + "threshold = 2\n"
