"""The verifiable path in an election definition: ``[verifiable]``.

An election whose definition has a ``[verifiable]`` table casts verifiable ballots (issue 15):
each contest's ballot is encrypted under a key no single person holds, published on the
ballot board with its proof, shuffled by mixing trustees with proofs after the close and
decrypted by a threshold of trustees with proofs; anyone can check the record
(docs/verifiable.md, docs/election-record.md). Without the table the election takes the
sealed path (ballots sealed to the returning officer's key, docs/threat-model.md).

::

    [verifiable]
    trustees = ["Ann Hale (Corbyn campaign)", "Ben Ode (Smith campaign)", "Cleo Marr (scrutineer)"]
    threshold = 2                        # any 2 of the 3 can decrypt; 1 alone learns nothing
    mixers = ["Ann Hale (Corbyn campaign)", "Cleo Marr (scrutineer)"]   # default: every trustee

Trustees are numbered from 1 in the order listed (the key ceremony's indices,
crypto/ceremony_messages.py). Checked when the definition is read:

* at least two trustees, at most 1,000, names distinct and not empty;
* ``1 <= threshold <= trustees``;
* ``mixers``: trustees named in ``trustees``, distinct, at least
  :data:`~tallyroom.crypto.mixnet.MIN_MIXERS` (2: a voter's privacy then holds if any one of
  them keeps its permutation secret) — the constant is repeated here as
  :data:`MIN_MIXERS` because the election layer sits below the crypto layer;
* a contest counted by unit (``[contests.units]``) decides each unit by a motion rule that
  needs no unit's electorate: no ``quorum`` and no share of the electorate (``threshold``
  of the electorate, ``electorate_support``). The election record does not hold the register,
  so its verifier could not recount a unit's decision that depends on how many electors the
  unit has; such a contest takes the sealed path.

Weighted elections (``[weights]``), contests counted by unit and electoral colleges
(``[contests.college]``) take the verifiable path: the tally cuts the board into groups by
contest, section, weight and unit (all public on the board beside each ciphertext), mixes
each group on its own, so every decrypted ballot keeps its group's section, weight and unit,
and counts them as the sealed path counts its ballots (services/tally.py); the record's
verifier recounts them the same way (verify/recount.py). A group is as small as the number
of ballots with its key: a unit, a section or a weight held by few voters publishes those
few ballots in the record (docs/threat-model.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from tallyroom.errors import ConfigError

__all__ = [
    "MAX_TRUSTEES",
    "MIN_MIXERS",
    "Verifiable",
    "trustee_problems",
    "verifiable_problems",
]

#: A key ceremony has at most this many trustees (crypto/ceremony_messages.py).
MAX_TRUSTEES = 1000
#: A board passes through at least this many mixers (crypto/mixnet.py MIN_MIXERS).
MIN_MIXERS = 2


class _Countable(Protocol):
    """What the check reads of a contest (a :class:`~.definition.Contest`)."""

    @property
    def name(self) -> str: ...
    @property
    def motion(self) -> _HasUnits | None: ...


class _HasUnits(Protocol):
    @property
    def units(self) -> object | None: ...
    @property
    def rule(self) -> _MotionRule: ...


class _MotionRule(Protocol):
    @property
    def needs_electorate(self) -> bool: ...
    @property
    def quorum(self) -> object | None: ...


@dataclass(frozen=True, slots=True)
class Verifiable:
    """The election's ``[verifiable]``: its trustees, their threshold and the mixers."""

    trustees: tuple[str, ...]
    threshold: int
    mixers: tuple[str, ...] = ()  # empty: every trustee mixes

    def __post_init__(self) -> None:
        problems = trustee_problems(self.trustees, self.threshold, self.mixers)
        if problems:
            key, problem, value = problems[0]
            raise ConfigError(problem, field=f"verifiable.{key}", value=value)

    @property
    def mixing(self) -> tuple[str, ...]:
        """The mixers in order (every trustee when ``mixers`` is not given)."""
        return self.mixers or self.trustees

    def trustee_index(self, name: str) -> int:
        """Trustee ``name``'s number in the ceremony (from 1)."""
        try:
            return self.trustees.index(name) + 1
        except ValueError:
            raise ConfigError("no such trustee", field="trustee", value=name) from None

    def mixer_indices(self) -> tuple[int, ...]:
        """The mixers' trustee numbers, in mixing order."""
        return tuple(self.trustee_index(m) for m in self.mixing)


def trustee_problems(
    trustees: Sequence[str], threshold: int, mixers: Sequence[str]
) -> list[tuple[str, str, object]]:
    """Every problem of the trustees, the threshold and the mixers (empty ``mixers``: every
    trustee), as (key within ``[verifiable]``, problem, value)."""
    out: list[tuple[str, str, object]] = []
    names = list(trustees)
    if not 2 <= len(names) <= MAX_TRUSTEES:
        out.append(("trustees", f"2 to {MAX_TRUSTEES} trustees are needed", len(names)))
    blank = [n for n in names if not n.strip()]
    if blank:
        out.append(("trustees", "a trustee's name must not be empty", blank))
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        out.append(("trustees", "named more than once", twice))
    if not 1 <= threshold <= max(len(names), 1):
        out.append(
            (
                "threshold",
                f"must be 1 to the number of trustees ({len(names)})",
                threshold,
            )
        )
    given = bool(mixers)
    mixers = list(mixers or trustees)
    strangers = [m for m in mixers if m not in names]
    if strangers:
        out.append(("mixers", "not among the trustees", strangers))
    if len(set(mixers)) != len(mixers):
        out.append(("mixers", "a trustee mixes once", mixers))
    if len(set(mixers)) < MIN_MIXERS and (given or len(names) >= MIN_MIXERS):
        out.append(("mixers", f"at least {MIN_MIXERS} mixers are needed", len(set(mixers))))
    return out


def verifiable_problems(
    verifiable: Verifiable | None, contests: Sequence[_Countable]
) -> list[tuple[str, str, object]]:
    """What the verifiable path cannot take in this election (see the module doc), as
    (key, problem, value); nothing for a sealed-path election."""
    if verifiable is None:
        return []
    out: list[tuple[str, str, object]] = []
    for k, c in enumerate(contests):
        motion = c.motion
        if motion is None or motion.units is None:
            continue
        if motion.rule.needs_electorate or motion.rule.quorum is not None:
            out.append(
                (
                    f"contests[{k}].units",
                    "a contest counted by unit whose motion rule needs each unit's electorate"
                    " (a quorum, or a share of the electorate) takes the sealed path: the"
                    " election record does not hold the register, so its verifier could not"
                    " recount a unit's decision; remove [verifiable], or the quorum and"
                    " electorate share",
                    c.name,
                )
            )
    return out
