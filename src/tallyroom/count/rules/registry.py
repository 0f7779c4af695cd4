"""Every counting rule by name, with every fact the rest of tallyroom needs about it.

One table (:data:`RULES`) says, for each rule: what its ballot is (:class:`BallotKind`: one
mark, several unordered marks, or a ranking), whether it fills several seats, whether it can
count under seat constraints and ballot rules, and its entry point. Every entry point has the
one signature :data:`RuleEntry` (ballots, candidates, :class:`RuleParams`) and lives in its
rule's module; it is imported when the rule is first used, so that choosing one rule does not
load every other. The election definition, casting, the booth, the count and ``tallyroom
count`` all read this table; nothing else names a rule's kind.
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.record import Count
from tallyroom.count.rules.params import Arithmetic, DefeatBatch, QuotaRule, RuleParams
from tallyroom.count.weighting import WeightSupport
from tallyroom.errors import ConfigError

__all__ = [
    "RULES",
    "Arithmetic",
    "BallotKind",
    "DefeatBatch",
    "QuotaRule",
    "Rule",
    "RuleEntry",
    "RuleParams",
    "WeightSupport",
    "get_rule",
]

RuleEntry = Callable[[BallotStore, CandidateTable, RuleParams], Count]


class BallotKind(enum.Enum):
    """What a voter marks on a rule's ballot paper."""

    SINGLE = "single"  # one candidate
    MULTI = "multi"  # up to one candidate per seat, unordered (block vote)
    RANKED = "ranked"  # candidates in order of preference
    CHOICE = "choice"  # one answer to a motion's question (yes/no, for/against/abstain)

    def mark_limit(self, seats: int, candidates: int) -> int:
        """How many candidates one ballot may mark."""
        if self in (BallotKind.SINGLE, BallotKind.CHOICE):
            return 1
        if self is BallotKind.MULTI:
            return seats
        return candidates

    @property
    def ordered(self) -> bool:
        """Whether the order of the marks is a preference order."""
        return self is BallotKind.RANKED


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule and its facts. ``entry`` is ``"module:function"``, a :data:`RuleEntry`.

    ``constrainable`` rules count under seat constraints and ballot rules
    (``docs/rules/constraints.md``); :meth:`count` refuses them for any other rule. ``decimals``
    rules take their decimal places from :class:`RuleParams` (the others fix their own, and
    refuse one given). ``quotas``,
    ``arithmetics`` and ``batches`` are the choices of :class:`RuleParams`' ``quota``,
    ``arithmetic`` and ``defeat_batch`` the rule takes (empty: it takes none; the first is
    its default); :meth:`count` refuses any other, naming the rule and the option.
    ``weights`` says whether the rule counts decimal weights exactly
    (:mod:`tallyroom.count.weighting`) or whole-number weights only.
    """

    name: str
    summary: str
    ballot: BallotKind
    multi_seat: bool
    constrainable: bool
    entry: str
    decimals: bool = False
    quotas: tuple[QuotaRule, ...] = ()
    arithmetics: tuple[Arithmetic, ...] = ()
    batches: tuple[DefeatBatch, ...] = ()
    max_marks: int | None = None  # a paper with fewer places than candidates (two: SV)
    # weighted votes: decimal weights (counted on scaled ballots) or whole ones only
    weights: WeightSupport = WeightSupport.WHOLE

    def mark_limit(self, seats: int, candidates: int) -> int:
        """How many candidates one ballot of this rule may mark."""
        limit = self.ballot.mark_limit(seats, candidates)
        return limit if self.max_marks is None else min(limit, self.max_marks)

    def run(self) -> RuleEntry:
        """The entry point, imported on first use."""
        return _load(self.entry)

    def count(self, store: BallotStore, candidates: CandidateTable, params: RuleParams) -> Count:
        if params.constrained and not self.constrainable:
            able = ", ".join(r.name for r in RULES.values() if r.constrainable)
            raise ConfigError(
                f"rule {self.name!r} cannot apply seat constraints or ballot rules; "
                f"rules that can: {able}",
                field="constraint",
                value=self.name,
            )
        self.check(params)
        return self.run()(store, candidates, params)

    def check(self, params: RuleParams) -> None:
        """Refuse an option this rule does not take, naming the rule, the option and what it
        takes."""
        if params.decimal_places is not None and not self.decimals:
            raise ConfigError(
                f"rule {self.name!r} fixes its own decimal places; it takes no --decimals",
                field="decimals",
                value=params.decimal_places,
            )
        chosen: tuple[tuple[str, enum.Enum | None, tuple[enum.Enum, ...]], ...] = (
            ("quota", params.quota, self.quotas),
            ("arithmetic", params.arithmetic, self.arithmetics),
            ("defeat_batch", params.defeat_batch, self.batches),
        )
        for option, value, offered in chosen:
            if value is None or value in offered:
                continue
            takes = (
                "it takes " + ", ".join(v.value for v in offered)
                if offered
                else "it takes no such option"
            )
            raise ConfigError(
                f"rule {self.name!r} cannot take {option} {value.value!r}; {takes}",
                field=option,
                value=value.value,
            )


@cache
def _load(entry: str) -> RuleEntry:
    module, _, name = entry.partition(":")
    function: RuleEntry = getattr(importlib.import_module(module), name)
    return function


_RULES = "tallyroom.count.rules."

RULES: dict[str, Rule] = {
    r.name: r
    for r in (
        Rule(
            "irv",
            "instant-runoff voting, one seat (RCTab singleWinnerMajority)",
            BallotKind.RANKED,
            multi_seat=False,
            constrainable=True,
            entry=_RULES + "rctab_rules:irv_rule",
            decimals=True,
            weights=WeightSupport.DECIMAL,
        ),
        Rule(
            "stv",
            "single transferable vote, Droop quota, fractional surplus (RCTab)",
            BallotKind.RANKED,
            multi_seat=True,
            constrainable=True,
            entry=_RULES + "rctab_rules:stv_rule",
            decimals=True,
            weights=WeightSupport.DECIMAL,
        ),
        Rule(
            "plurality",
            "first past the post; the most first preferences win",
            BallotKind.SINGLE,
            multi_seat=True,
            constrainable=False,
            entry=_RULES + "plurality:plurality_rule",
            weights=WeightSupport.DECIMAL,
        ),
        Rule(
            "block",
            "block vote: up to N marks, the N most-marked win",
            BallotKind.MULTI,
            multi_seat=True,
            constrainable=True,
            entry=_RULES + "constrained_block:block_rule",
            weights=WeightSupport.DECIMAL,
        ),
        Rule(
            "scottish-stv",
            "Scottish local government STV (SSI 2007/42 Sch. 1)",
            BallotKind.RANKED,
            multi_seat=True,
            constrainable=False,
            entry=_RULES + "scottish_stv:scottish_stv_rule",
        ),
        Rule(
            "wigm",
            "weighted inclusive Gregory STV at --decimals places",
            BallotKind.RANKED,
            multi_seat=True,
            constrainable=False,
            entry=_RULES + "wigm:wigm_rule",
            decimals=True,
            quotas=(QuotaRule.DROOP, QuotaRule.DROOP_FRACTIONAL, QuotaRule.HARE),
            arithmetics=(Arithmetic.FIXED, Arithmetic.GUARDED, Arithmetic.RATIONAL),
            batches=(DefeatBatch.NONE, DefeatBatch.SAFE),
        ),
        Rule(
            "wigm-prf",
            "the PR Foundation's reference WIGM rule (4 places, quota V/(S+1) + 0.0001)",
            BallotKind.RANKED,
            multi_seat=True,
            constrainable=False,
            entry=_RULES + "wigm_prf:wigm_prf_rule",
            batches=(DefeatBatch.NONE, DefeatBatch.SAFE),
        ),
        Rule(
            "minneapolis",
            "Minneapolis multiple-seat STV (Code of Ordinances ch. 167): batch elimination",
            BallotKind.RANKED,
            multi_seat=True,
            constrainable=False,
            entry=_RULES + "minneapolis:minneapolis_rule",
        ),
        Rule(
            "cfer",
            "CfER choice voting (Californians for Electoral Reform model statute s.10059)",
            BallotKind.RANKED,
            multi_seat=True,
            constrainable=False,
            entry=_RULES + "cfer:cfer_rule",
            quotas=(QuotaRule.DROOP_FRACTIONAL, QuotaRule.DROOP),
            batches=(DefeatBatch.NONE, DefeatBatch.SAFE),
        ),
        Rule(
            "qpq",
            "Quota Preferential by Quotient (Woodall 2003)",
            BallotKind.RANKED,
            multi_seat=True,
            constrainable=False,
            entry=_RULES + "qpq:qpq_rule",
        ),
        Rule(
            "ers97",
            "Electoral Reform Society 1997 model STV rules",
            BallotKind.RANKED,
            multi_seat=True,
            constrainable=False,
            entry=_RULES + "ers97:ers97_rule",
        ),
        Rule(
            "meek",
            "Meek STV (NZ Sch. 1A / Hill, Wichmann & Woodall 1987), 9 places",
            BallotKind.RANKED,
            multi_seat=True,
            constrainable=False,
            entry=_RULES + "meek:meek_rule",
            arithmetics=(Arithmetic.FIXED, Arithmetic.GUARDED, Arithmetic.RATIONAL),
            batches=(DefeatBatch.NONE, DefeatBatch.SAFE),
        ),
        Rule(
            "meek-prf",
            "the PR Foundation's reference Meek rule (9 places, omega 10^-6)",
            BallotKind.RANKED,
            multi_seat=True,
            constrainable=False,
            entry=_RULES + "meek_prf:meek_prf_rule",
        ),
        Rule(
            "warren",
            "Warren STV: Meek's iteration, each ballot paying the same keep value",
            BallotKind.RANKED,
            multi_seat=True,
            constrainable=False,
            entry=_RULES + "warren:warren_rule",
            arithmetics=(Arithmetic.FIXED, Arithmetic.GUARDED, Arithmetic.RATIONAL),
            batches=(DefeatBatch.NONE, DefeatBatch.SAFE),
        ),
        Rule(
            "wright",
            "Wright STV: restart the count after each exclusion",
            BallotKind.RANKED,
            multi_seat=True,
            constrainable=False,
            entry=_RULES + "wright:wright_rule",
        ),
        Rule(
            "irish-dail",
            "Irish Dáil STV (Electoral Act 1992 Part XIX): whole papers, drawn by lot",
            BallotKind.RANKED,
            multi_seat=True,
            constrainable=False,
            entry=_RULES + "irish_dail:irish_dail_rule",
        ),
        Rule(
            "supplementary-vote",
            "supplementary vote (GLA Act 1999 Sch. 2): two preferences, top two",
            BallotKind.RANKED,
            multi_seat=False,
            constrainable=False,
            entry=_RULES + "supplementary_vote:supplementary_vote_rule",
            max_marks=2,
        ),
        Rule(
            "motion",
            "a motion: yes/no or for/against/abstain, carried by a declared threshold",
            BallotKind.CHOICE,
            multi_seat=False,
            constrainable=False,
            entry=_RULES + "motion:motion_rule",
        ),
    )
}


def get_rule(name: str) -> Rule:
    try:
        return RULES[name]
    except KeyError:
        known = ", ".join(sorted(RULES))
        raise ConfigError(f"unknown rule; known rules: {known}", field="rule", value=name) from None
