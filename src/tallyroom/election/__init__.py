"""An election before the count: its definition, who may vote, and who is on the ballot.

Pure logic: no database, no web, no clock (every date and time is passed in).

* :mod:`~tallyroom.election.definition`: the election definition read from TOML
  (:func:`load_definition`) into frozen, validated records;
* :mod:`~tallyroom.election.eligibility`: the register checked against the rules
  (:func:`assess_eligibility`), each exclusion with its reason, and a summary by section;
* :mod:`~tallyroom.election.nominations`: nominations, thresholds, withdrawals, and the ballot
  fixed when they close.

Imports point one way: ``definition -> eligibility | nominations -> count``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from tallyroom.election.definition import (
    BallotRequirement,
    Candidate,
    College,
    Contest,
    ElectionDefinition,
    GroupConstraint,
    PreviousContest,
    Problem,
    Section,
    Timetable,
    Turnout,
    TurnoutBasis,
)
from tallyroom.election.eligibility import (
    Cutoff,
    Eligibility,
    EligibilityRules,
    EligibilitySummary,
    Exclusion,
    ExclusionReason,
    PersonId,
    RegisterEntry,
    SectionRule,
    SectionSummary,
    Window,
    assess_eligibility,
)
from tallyroom.election.nominations import (
    AbsoluteThreshold,
    Ballot,
    CandidateStanding,
    Nomination,
    NominationBook,
    NominationProblem,
    NominationRule,
    NominatorId,
    RejectedNomination,
    Rounding,
    ShareThreshold,
    Standing,
    Withdrawal,
    close_nominations,
    nominate,
    open_nominations,
    standings,
    withdraw,
)
from tallyroom.election.reader import load_definition, parse_definition, read_exclusion_list

__all__ = [
    "AbsoluteThreshold",
    "Ballot",
    "BallotRequirement",
    "Candidate",
    "CandidateStanding",
    "College",
    "Contest",
    "Cutoff",
    "ElectionDefinition",
    "Eligibility",
    "EligibilityRules",
    "EligibilitySummary",
    "Exclusion",
    "ExclusionReason",
    "GroupConstraint",
    "Nomination",
    "NominationBook",
    "NominationProblem",
    "NominationRule",
    "NominatorId",
    "PersonId",
    "PreviousContest",
    "Problem",
    "RegisterEntry",
    "RejectedNomination",
    "Rounding",
    "Section",
    "SectionRule",
    "SectionSummary",
    "ShareThreshold",
    "Standing",
    "Timetable",
    "Turnout",
    "TurnoutBasis",
    "Window",
    "Withdrawal",
    "assess_eligibility",
    "close_nominations",
    "load_definition",
    "load_example",
    "nominate",
    "open_nominations",
    "parse_definition",
    "read_exclusion_list",
    "standings",
    "withdraw",
]


def load_example(name: str = "labour-2016") -> ElectionDefinition:
    """A definition bundled with tallyroom: ``tallyroom/examples/<name>.toml``."""
    resource = files("tallyroom").joinpath("examples", f"{name}.toml")
    return parse_definition(resource.read_text(encoding="utf-8"), path=Path(str(resource)))
