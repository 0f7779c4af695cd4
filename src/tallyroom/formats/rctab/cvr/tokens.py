"""Turning what a CVR says at one rank into a code, the same way for every vendor format.

A *token* is one selection as the file spells it: a candidate name, an alias (vendor code), or
one of the source's labels. :meth:`TokenResolver.token` maps it, in RCTab's order of checks:

1. ``skippedRankLabel`` (older ``undervoteLabel``) -> :data:`SKIP` (nothing ranked here);
2. ``overvoteLabel`` -> :data:`OVERVOTE` (an overvote whose candidates are not known);
3. ``undeclaredWriteInLabel`` -> the "Undeclared Write-ins" code;
4. a declared name or alias (or the literal "Undeclared Write-ins" when the contest has it)
   -> that candidate;
5. anything else is refused: RCTab stops on unrecognised candidates, and so do we.

A *cell* (ES&S, one spreadsheet cell per rank) may be blank -- :data:`SKIP`, or the write-in
code with ``treatBlankAsUndeclaredWriteIn`` -- and may hold several candidates split by
``overvoteDelimiter``; then no part may be blank or the skipped-rank label (RCTab refuses the
file).

Several selections at one rank (a delimited cell; CDF, Dominion, Hart, Clear Ballot and generic
CSV marks that share a rank) make an *overvote set*, stored once per distinct set in
:class:`OvervoteSets`. RCTab keeps the selections of a rank in a list, not a set, and calls the
rank an overvote whenever that list has more than one entry -- even when it names the same
candidate twice ("A|A"). The set therefore keeps duplicates (``(3, 3)``), so a counter can
apply RCTab's rules exactly: it is an overvote, and with ``exhaustIfMultipleContinuing`` a
continuing candidate listed twice counts as two continuing candidates. An overvote label mixed
with other selections at one rank makes RCTab abort the count ("Found multiple candidates when
explicit overvote label was provided"); here the file is refused when it is read.
"""

from __future__ import annotations

from collections.abc import Sequence

from tallyroom.count.ballots import OVERVOTE, SKIP, CandidateTable, overvote_set_code
from tallyroom.formats.rctab.config import UNDECLARED_WRITE_IN, CandidateConfig, CvrSource

__all__ = ["OvervoteSets", "TokenError", "TokenResolver", "java_trim"]


class TokenError(Exception):
    """A token that cannot be read; the reader adds the file, line and field."""

    def __init__(self, problem: str, value: object) -> None:
        super().__init__(problem)
        self.problem = problem
        self.value = value


class OvervoteSets:
    """Distinct overvote sets of one source, each a sorted tuple of candidate codes."""

    def __init__(self) -> None:
        self._index: dict[tuple[int, ...], int] = {}
        self.sets: list[tuple[int, ...]] = []

    def code(self, members: Sequence[int]) -> int:
        key = tuple(sorted(members))
        k = self._index.get(key)
        if k is None:
            k = self._index[key] = len(self.sets)
            self.sets.append(key)
        return overvote_set_code(k)


class TokenResolver:
    """Maps one source's tokens and cells to codes of ``table`` (see the module docstring).

    ``declared``: the contest's declared candidates (config order, or derived from the sources),
    whose aliases name the candidates of ``table`` with the same name.
    """

    def __init__(
        self, table: CandidateTable, declared: Sequence[CandidateConfig], source: CvrSource
    ) -> None:
        self.table = table
        self.source = source
        self.sets = OvervoteSets()
        self._names: dict[str, int] = {name: code for code, name in enumerate(table.names)}
        for cand in declared:
            if cand.name in self._names:
                code = self._names[cand.name]
                for alias in cand.aliases:
                    self._names.setdefault(alias, code)
        uwi = table.undeclared_write_in
        if uwi is not None:
            self._names[UNDECLARED_WRITE_IN] = uwi
        self._skipped = source.skipped_rank_label
        self._overvote = source.overvote_label
        self._uwi_label = source.undeclared_write_in_label
        self._delimiter = source.overvote_delimiter
        self._blank_is_write_in = source.treat_blank_as_undeclared_write_in

    @property
    def blank(self) -> int:
        """The code of a blank cell: SKIP, or the write-in with treatBlankAsUndeclaredWriteIn."""
        return self.write_in() if self._blank_is_write_in else SKIP

    def write_in(self) -> int:
        """The write-in code; refused when the contest has no write-in pseudo-candidate."""
        uwi = self.table.undeclared_write_in
        if uwi is None:
            raise TokenError(
                "an undeclared write-in, but no source sets undeclaredWriteInLabel",
                UNDECLARED_WRITE_IN,
            )
        return uwi

    def token(self, text: str) -> int:
        """One selection (already trimmed) -> a candidate code, SKIP, OVERVOTE or write-in."""
        if self._skipped and text == self._skipped:
            return SKIP
        if self._overvote and text == self._overvote:
            return OVERVOTE
        if self._uwi_label and text == self._uwi_label:
            return self.write_in()
        code = self._names.get(text)
        if code is None:
            raise TokenError("not a declared candidate, alias or label", text)
        return code

    def cell(self, text: str | None) -> int:
        """One ES&S-style cell: blank, one token, or tokens split by ``overvoteDelimiter``."""
        if text is None:
            return self.blank
        text = java_trim(text)
        if not text:
            return self.blank
        if self._delimiter and self._delimiter in text:
            parts = [java_trim(p) for p in text.split(self._delimiter)]
            if len(parts) > 1:
                for p in parts:
                    if not p or (self._skipped and p == self._skipped):
                        raise TokenError(
                            "a cell split by the overvote delimiter has a blank or "
                            "skipped-rank part",
                            text,
                        )
                return self.selections([self.token(p) for p in parts], text)
        return self.token(text)

    def selections(self, codes: Sequence[int], shown: object = None) -> int:
        """Everything marked at one rank -> one code (an overvote set when more than one)."""
        marked = [c for c in codes if c != SKIP]
        if not marked:
            return SKIP
        if len(marked) == 1:
            return marked[0]
        if OVERVOTE in marked:
            raise TokenError(
                "the overvote label appears together with other selections at one rank",
                shown if shown is not None else marked,
            )
        return self.sets.code(marked)


def java_trim(text: str) -> str:
    """``String.trim()``: drop leading and trailing characters up to U+0020."""
    start, end = 0, len(text)
    while start < end and text[start] <= " ":
        start += 1
    while end > start and text[end - 1] <= " ":
        end -= 1
    return text[start:end]
