"""The election service: create an election from its definition, and say where it stands.

:func:`create_election` reads and checks the definition file, stores its text, and generates
the election's sealing key pair in one transaction. The public key goes into the store
(ballots are sealed to it); the private key is written, encrypted under a passphrase, to a
file the returning officer keeps and brings to the count. The private key never enters the
database: whoever can read the database must not be able to open the ballots.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Connection

from tallyroom.crypto.sealing import ElectionKeys
from tallyroom.election import ElectionDefinition, load_definition, parse_definition
from tallyroom.election.definition import Timetable
from tallyroom.election.slug import check_slug
from tallyroom.errors import InputError, LifecycleError
from tallyroom.store import (
    ElectionState,
    NotFound,
    Store,
    audit,
    elections,
    nominations,
    register,
)
from tallyroom.store.elections import ElectionRecord

__all__ = [
    "DeletedElection",
    "ElectionStatus",
    "ElectionSummary",
    "ballot_definition",
    "create_election",
    "definition_of",
    "delete_election",
    "election_status",
    "election_summaries",
    "get_election",
    "list_elections",
]

log = logging.getLogger("tallyroom.elections")


@dataclass(frozen=True, slots=True)
class ElectionStatus:
    """Where an election stands: its state and the size of its register."""

    slug: str
    name: str
    state: ElectionState
    definition_sha256: str
    has_ballot_key: bool
    verifiable: bool
    has_election_key: bool
    entries: int
    eligible: int
    undecided: int

    def render(self) -> str:
        lines = [
            f"election        {self.slug} ({self.name})",
            f"state           {self.state.words}",
            f"definition      sha256 {self.definition_sha256}",
            f"ballots         {self._ballots()}",
            f"register        {self.entries:,} entries",
            f"eligible        {self.eligible:,}",
            f"undecided       {self.undecided:,}",
        ]
        return "\n".join(lines) + "\n"

    def _ballots(self) -> str:
        if self.verifiable:
            key = "set" if self.has_election_key else "not set (the key ceremony)"
            return f"verifiable: election key {key}"
        return f"sealed: sealing key {'set' if self.has_ballot_key else 'not set'}"


def _create_private_file(path: Path) -> None:
    """Create ``path`` empty, readable by its owner only; refuse to overwrite a key."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(
            "the private key file already exists (not overwritten)", path=str(path)
        ) from None
    except OSError as exc:
        raise InputError(
            f"cannot create the private key file: {exc.strerror}", path=str(path)
        ) from None
    os.close(fd)


def create_election(
    store: Store,
    definition_path: str | Path,
    *,
    actor: str,
    private_key_path: str | Path | None = None,
    passphrase: str | None = None,
    slug: str | None = None,
) -> ElectionRecord:
    """Create a draft election from the definition at ``definition_path``.

    ``slug`` defaults to the definition file's name without its extension.

    An election on the sealed path (no ``[verifiable]`` table) needs a sealing key: its private
    half is written to ``private_key_path`` (created with mode 0600, never overwritten),
    encrypted under ``passphrase``; if the transaction fails, the file is removed again. An
    election on the verifiable path needs none (its ballots are encrypted under the key its
    trustees make, docs/trustees.md): a key is made only if both are given, so that the draft
    may still be switched to the sealed path.
    """
    path = Path(definition_path)
    definition = load_definition(path)  # checks everything, reports every problem at once
    text = path.read_text(encoding="utf-8")
    name = check_slug(slug or path.stem)
    sealed = definition.verifiable is None
    if sealed or passphrase or private_key_path is not None:
        if not passphrase:
            raise InputError(
                "the sealing key needs a passphrase (an election without [verifiable] takes "
                "the sealed path)",
                field="passphrase",
                value="",
            )
        if private_key_path is None:
            raise InputError(
                "the sealing key needs a file to be written to (an election without "
                "[verifiable] takes the sealed path)",
                field="private_key",
            )
    keys = ElectionKeys.generate() if passphrase else None
    key_path = Path(private_key_path) if private_key_path is not None else None
    if keys is not None and key_path is not None:
        _create_private_file(key_path)
    try:
        if keys is not None and key_path is not None:
            keys.save_private(key_path, passphrase or "")
        with store.begin() as conn:
            if elections.find_election(conn, name) is not None:
                raise InputError("an election with this slug exists", field="slug", value=name)
            record = elections.create_election(
                conn, name, text, actor=actor, reason=f"definition {path.name}"
            )
            if keys is not None:
                record = elections.set_ballot_public_key(
                    conn, record.id, keys.public, actor=actor, reason="generated at creation"
                )
    except BaseException:
        if keys is not None and key_path is not None:
            key_path.unlink(missing_ok=True)
        raise
    return record


def get_election(store: Store, slug: str) -> ElectionRecord:
    """The election called ``slug``, or :class:`NotFound`."""
    with store.read() as conn:
        record = elections.find_election(conn, slug)
    if record is None:
        raise NotFound("no such election", election=slug, field="slug", value=slug)
    return record


def list_elections(store: Store) -> list[ElectionRecord]:
    """Every election, by slug."""
    with store.read() as conn:
        return elections.list_elections(conn)


@dataclass(frozen=True, slots=True)
class ElectionSummary:
    """One line of ``tallyroom election list``: the slug, the title, the state, the dates."""

    slug: str
    name: str
    state: ElectionState
    timetable: Timetable

    def render(self) -> str:
        t = self.timetable
        return (
            f"{self.slug}\t{self.state.words}\tnominations {t.nominations_open:%Y-%m-%d %H:%M}"
            f" to {t.nominations_close:%Y-%m-%d %H:%M}\tballot {t.ballot_open:%Y-%m-%d %H:%M}"
            f" to {t.ballot_close:%Y-%m-%d %H:%M}\t{self.name}"
        )


def election_summaries(store: Store) -> list[ElectionSummary]:
    """Every election, by slug, with its state and timetable."""
    out = []
    for record in list_elections(store):
        definition = definition_of(record)
        out.append(
            ElectionSummary(record.slug, definition.name, record.state, definition.timetable)
        )
    return out


def definition_of(record: ElectionRecord) -> ElectionDefinition:
    """The stored definition, read again (it was checked when it was stored)."""
    return parse_definition(record.definition, path=Path(f"{record.slug}.toml"))


def ballot_definition(conn: Connection, record: ElectionRecord) -> ElectionDefinition:
    """The definition as voted on: each contest with the candidates its ballot paper carries.

    Once nominations have closed, a contest's candidates are those the close fixed (in ballot
    order); before that, or for an election whose ballots were never fixed, the declared ones.
    """
    definition = definition_of(record)
    fixed = nominations.ballot_candidates(conn, record.id)
    if not fixed:
        return definition
    contests = []
    for contest in definition.contests:
        names = fixed.get(contest.name)
        if names is None:
            contests.append(contest)
            continue
        by_name = {c.name: c for c in contest.candidates}
        contests.append(dataclasses.replace(contest, candidates=tuple(by_name[n] for n in names)))
    return dataclasses.replace(definition, contests=tuple(contests))


def election_status(store: Store, slug: str) -> ElectionStatus:
    with store.read() as conn:
        record = elections.find_election(conn, slug)
        if record is None:
            raise NotFound("no such election", election=slug, field="slug", value=slug)
        entries = register.count_entries(conn, record.id)
        eligible = register.count_entries(conn, record.id, eligible=True)
        undecided = register.count_entries(conn, record.id, eligible=None)
    return ElectionStatus(
        slug=record.slug,
        name=definition_of(record).name,
        state=record.state,
        definition_sha256=record.definition_sha256,
        has_ballot_key=record.ballot_public_key is not None,
        verifiable=definition_of(record).verifiable is not None,
        has_election_key=record.election_key is not None,
        entries=entries,
        eligible=eligible,
        undecided=undecided,
    )


@dataclass(frozen=True, slots=True)
class DeletedElection:
    """What :func:`delete_election` removed: enough to say so in the operator's log."""

    slug: str
    name: str
    entries: int
    audit_events: int
    audit_head: str

    def render(self) -> str:
        return (
            f"deleted draft election {self.slug} ({self.name}): {self.entries:,} register "
            f"entries and its audit log of {self.audit_events} events (head {self.audit_head})"
        )


def delete_election(store: Store, slug: str, *, actor: str) -> DeletedElection:
    """Delete a draft election with everything stored for it (refused once the register is
    frozen: :class:`LifecycleError` naming the state). Its own audit log goes with it, so
    the deletion is logged on the ``tallyroom.elections`` logger (slug, name, actor, the
    log's last sequence and hash) and returned for the caller to show. The sealing key file
    is the officer's and is left where it is."""
    with store.begin() as conn:
        record = elections.find_election(conn, slug)
        if record is None:
            raise NotFound("no such election", election=slug, field="slug", value=slug)
        entries = register.count_entries(conn, record.id)
        head = audit.head(conn, record.id)
        try:
            elections.delete_draft(conn, record.id)
        except LifecycleError as exc:
            raise LifecycleError(exc.problem, election=slug) from None
    done = DeletedElection(
        slug=slug,
        name=definition_of(record).name,
        entries=entries,
        audit_events=head.sequence,
        audit_head=f"{head.sequence}:{head.hash.hex()}",
    )
    log.warning("%s, by %s", done.render(), actor)
    return done
