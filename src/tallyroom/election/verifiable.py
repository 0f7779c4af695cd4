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
* the election is not weighted (``[weights]``) and no contest is counted by unit
  (``[contests.units]``): a ballot's weight or unit would have to travel beside its
  ciphertext through the shuffle, which the mix net does not do yet; nor is any contest an
  electoral college (``[contests.college]``), which the record's verifier does not recount
  yet; those elections take the sealed path.
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
    @property
    def college(self) -> object | None: ...


class _HasUnits(Protocol):
    @property
    def units(self) -> object | None: ...


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
    verifiable: Verifiable | None, weighted: bool, contests: Sequence[_Countable]
) -> list[tuple[str, str, object]]:
    """What the verifiable path cannot take in this election (see the module doc), as
    (key, problem, value); nothing for a sealed-path election."""
    if verifiable is None:
        return []
    out: list[tuple[str, str, object]] = []
    if weighted:
        out.append(
            (
                "verifiable",
                "a weighted election ([weights]) takes the sealed path for now: remove"
                " [verifiable] or [weights]",
                True,
            )
        )
    for k, c in enumerate(contests):
        if c.college is not None:
            out.append(
                (
                    f"contests[{k}].college",
                    "an electoral college takes the sealed path for now (the election"
                    " record's verifier does not recount colleges yet): remove [verifiable]"
                    " or [contests.college]",
                    c.name,
                )
            )
        if c.motion is not None and c.motion.units is not None:
            out.append(
                (
                    f"contests[{k}].units",
                    "a contest counted by unit takes the sealed path for now: remove"
                    " [verifiable] or [contests.units]",
                    c.name,
                )
            )
    return out
