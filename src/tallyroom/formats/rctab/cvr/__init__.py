"""Readers of every cast-vote-record format RCTab reads, producing :class:`CastVoteRecords`.

=================  =====================================================  ==================
provider           container                                              module
=================  =====================================================  ==================
``ess``            ES&S ``.xlsx`` workbook, one row per ballot            :mod:`.ess`
``cdf``            NIST SP 1500-103 CDF, JSON or XML (incl. Unisyn)       :mod:`.cdf`
``dominion``       folder of Dominion manifests + ``CvrExport*.json``     :mod:`.dominion`
``clearBallot``    Clear Ballot CSV, one column per choice and rank       :mod:`.clear_ballot`
``hart``           folder of Hart per-sheet ``.xml`` files                :mod:`.hart`
``genericCsv``     CSV, one column per candidate holding the rank         :mod:`.generic_csv`
=================  =====================================================  ==================

Each provider module exposes one :class:`~.provider.CvrProvider` (read the records of a source,
read the candidates it names), listed once in :mod:`.registry`; :mod:`.contest` reads a contest's
sources through it and :mod:`.candidates` derives a candidate list from it.
Every reader maps what the file says at a rank through :class:`TokenResolver` (names, aliases,
overvote / skipped-rank / write-in labels, overvote delimiter) and refuses bad input with a
:class:`~tallyroom.errors.BallotFileError` naming the file, line or record, field and value.
"""

from tallyroom.formats.rctab.cvr.candidates import candidate_table, declared_candidates, rank_limit
from tallyroom.formats.rctab.cvr.contest import read_contest, read_source
from tallyroom.formats.rctab.cvr.tokens import OvervoteSets, TokenError, TokenResolver

__all__ = [
    "OvervoteSets",
    "TokenError",
    "TokenResolver",
    "candidate_table",
    "declared_candidates",
    "rank_limit",
    "read_contest",
    "read_source",
]
