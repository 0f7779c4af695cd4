"""Setting up a draft election piece by piece: the console's forms, through the one reader.

A form-built election is a definition document (:mod:`tallyroom.election.toml_text`) like any
uploaded file: each change is written as TOML text and read by the same reader
(:func:`~tallyroom.election.reader.definition_problems`), whose problems come back one by one
(key path, problem, value) for the form to show beside its field. Nothing is stored unless
the whole definition is sound; a draft's definition is replaced in one transaction with a
``definition`` audit event (the store refuses once the register is frozen).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Connection

from tallyroom.election import parse_definition
from tallyroom.election.definition import Problem
from tallyroom.election.reader import definition_problems
from tallyroom.election.slug import check_slug
from tallyroom.election.toml_text import Document, read_document, write_document
from tallyroom.errors import InputError
from tallyroom.services.elections import create_election, get_election
from tallyroom.store import Store, ceremony, elections
from tallyroom.store.elections import ElectionRecord

__all__ = ["SetupRefused", "change_draft", "check_document", "create_draft", "draft_document"]


@dataclass(frozen=True, slots=True)
class SetupRefused:
    """Why a set-up step stored nothing: every problem, each with its key path."""

    problems: tuple[Problem, ...]


def check_document(doc: Document, slug: str = "election") -> tuple[str, list[Problem]]:
    """``doc`` as TOML text and every problem the reader finds in it."""
    text = write_document(doc)
    return text, definition_problems(text, path=Path(f"{slug}.toml"))


def draft_document(store: Store, slug: str) -> Document:
    """The stored definition of ``slug`` as a document to change."""
    return read_document(get_election(store, slug).definition)


def create_draft(
    store: Store,
    doc: Document,
    *,
    slug: str,
    actor: str,
    private_key_path: Path,
    passphrase: str,
    work_dir: Path,
) -> ElectionRecord | SetupRefused:
    """Create a draft election from ``doc``, as from a file; the problems, nothing stored,
    when the slug, the passphrase or the definition is wrong. An election on the sealed path
    (no ``[verifiable]``) gets its sealing key, and so needs ``passphrase``; one on the
    verifiable path gets one only if a passphrase is given (so that the draft may still be
    switched to the sealed path)."""
    problems: list[Problem] = []
    try:
        slug = check_slug(slug)
    except InputError as exc:
        problems.append(Problem("slug", exc.problem, slug[:80]))
    if not passphrase and "verifiable" not in doc:
        problems.append(
            Problem("passphrase", "the sealing key needs a passphrase (the sealed path)")
        )
    text, found = check_document(doc, slug if not problems else "election")
    problems += found
    if problems:
        return SetupRefused(tuple(problems))
    work_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work_dir) as folder:
        path = Path(folder) / f"{slug}.toml"
        path.write_text(text, encoding="utf-8")
        try:
            return create_election(
                store,
                path,
                actor=actor,
                private_key_path=private_key_path if passphrase else None,
                passphrase=passphrase or None,
                slug=slug,
            )
        except InputError as exc:  # the slug taken, the key file there already
            return SetupRefused((Problem(exc.field or "slug", exc.problem, exc.value),))


def change_draft(
    store: Store,
    slug: str,
    change: Callable[[Document], None],
    *,
    actor: str,
    reason: str,
) -> ElectionRecord | SetupRefused:
    """Apply ``change`` to the draft's document and store the result if the reader finds it
    sound (refused by the store once the register is frozen: edits are for drafts only)."""
    record = get_election(store, slug)
    doc = read_document(record.definition)
    change(doc)
    text, problems = check_document(doc, slug)
    if problems:
        return SetupRefused(tuple(problems))
    with store.begin() as conn:
        refused = _keyless_sealed(record, text) or _ceremony_kept(conn, record, text)
        if refused is not None:
            return refused
        return elections.replace_definition(conn, record.id, text, actor=actor, reason=reason)


def _keyless_sealed(record: ElectionRecord, text: str) -> SetupRefused | None:
    """Refused if ``text`` puts on the sealed path a draft made without a sealing key."""
    if record.ballot_public_key is not None:
        return None
    if parse_definition(text, path=Path(f"{record.slug}.toml")).verifiable is not None:
        return None
    problem = (
        "this draft has no sealing key (it was made for the verifiable path), so it cannot"
        " take the sealed path: keep [verifiable], or make a new draft on the sealed path"
    )
    return SetupRefused((Problem("verifiable", problem, None),))


def _ceremony_kept(conn: Connection, record: ElectionRecord, text: str) -> SetupRefused | None:
    """Refused once the trustees' key ceremony has begun, if ``text`` changes ``[verifiable]``
    (every stored message is bound to the trustees' numbers and the threshold)."""
    if not ceremony.messages(conn, record.id):
        return None
    path = Path(f"{record.slug}.toml")
    if (
        parse_definition(text, path=path).verifiable
        == parse_definition(record.definition, path=path).verifiable
    ):
        return None
    problem = (
        "the trustees' key ceremony has begun: its trustees and threshold cannot change"
        " (their messages are bound to them)"
    )
    return SetupRefused((Problem("verifiable", problem, None),))


def replace_draft_text(
    store: Store, slug: str, text: str, *, actor: str, reason: str
) -> ElectionRecord | SetupRefused:
    """Replace the draft's definition with an uploaded file's ``text`` (checked first)."""
    problems = definition_problems(text, path=Path(f"{slug}.toml"))
    if problems:
        return SetupRefused(tuple(problems))
    record = get_election(store, slug)
    with store.begin() as conn:
        refused = _keyless_sealed(record, text) or _ceremony_kept(conn, record, text)
        if refused is not None:
            return refused
        return elections.replace_definition(conn, record.id, text, actor=actor, reason=reason)
