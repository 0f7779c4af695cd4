"""Casting through services.voting on SQLite and PostgreSQL: one transaction, receipts after
commit, every refusal leaving nothing behind. Setup uses the store directly."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import pytest

from tallyroom.crypto.credential_key import CredentialKey
from tallyroom.crypto.credentials import new_credential, normalise_credential
from tallyroom.crypto.sealing import ElectionKeys
from tallyroom.errors import InputError
from tallyroom.services.polling import close_voting
from tallyroom.services.voting import cast_ballot, import_postal_batch
from tallyroom.store import (
    AlreadyCast,
    CredentialRejected,
    ElectionState,
    LifecycleError,
    Store,
    ballots,
    credentials,
    elections,
    register,
)
from tallyroom.store.register import RegisterEntry

DEFINITION = """\
[election]
name = "Party elections 2026"
organisation = "Test Party"
timezone = "Europe/London"

[timetable]
nominations_open = 2026-01-01T00:00:00+00:00
nominations_close = 2026-01-10T00:00:00+00:00
ballot_open = 2026-01-11T00:00:00+00:00
ballot_close = 2026-01-20T00:00:00+00:00

[[sections]]
name = "members"
label = "Members"
min_published_size = 2

[[sections]]
name = "affiliated"
label = "Affiliated supporters"
min_published_size = 10

[[contests]]
name = "leader"
title = "Leader"
rule = "irv"
seats = 1
sections = ["members", "affiliated"]

[[contests.candidates]]
name = "Ann"

[[contests.candidates]]
name = "Bob"

[[contests.candidates]]
name = "Cat"

[contests.previous]
name = "Leader 2022"
[contests.previous.shares]
"Ann" = "40.0%"
"Dan" = "60.0%"

[[contests]]
name = "nec"
title = "Executive"
rule = "block"
seats = 2
sections = ["members"]

[[contests.candidates]]
name = "Eve"

[[contests.candidates]]
name = "Fay"

[[contests.candidates]]
name = "Gus"

[eligibility]
statuses = ["active"]
precedence = ["members", "affiliated"]

[eligibility.sections.members]
joined_on_or_before = 2026-01-01

[eligibility.sections.affiliated]
joined_on_or_before = 2026-01-01
"""

PASSPHRASE = "correct horse battery staple"
_slugs = itertools.count(1)


@dataclass(frozen=True)
class Poll:
    """An open election: its id, keys, and each voter's credential by person id."""

    store: Store
    id: int
    key: CredentialKey
    key_file: Path
    credential: dict[str, str]
    credential_id: dict[str, int]
    slug: str


@pytest.fixture(scope="module")
def election_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[ElectionKeys, Path]:
    return save_keys(tmp_path_factory.mktemp("keys"))


def save_keys(directory: Path) -> tuple[ElectionKeys, Path]:
    """A fresh election key pair, the private key saved under :data:`PASSPHRASE`."""
    keys = ElectionKeys.generate()
    path = directory / "election.key"
    keys.save_private(path, PASSPHRASE)
    return keys, path


def open_poll(
    store: Store, keys: ElectionKeys, key_file: Path, members: int = 4, affiliated: int = 2
) -> Poll:
    """Create the election with the store API, register voters, issue credentials, open."""
    key = CredentialKey.generate()
    people = [(f"M{i}", "members") for i in range(members)]
    people += [(f"A{i}", "affiliated") for i in range(affiliated)]
    with store.begin() as conn:
        election = elections.create_election(conn, f"party-{next(_slugs)}", DEFINITION, actor="ro")
        register.import_entries(
            conn,
            election.id,
            (RegisterEntry(p, s, {}, True) for p, s in people),
            actor="ro",
        )
        for state in (
            ElectionState.REGISTER_FROZEN,
            ElectionState.NOMINATIONS_CLOSED,
        ):
            elections.advance(conn, election.id, state, actor="ro")
        elections.set_ballot_public_key(conn, election.id, keys.public, actor="ro")
        by_id = {e.id: e.person_id for e in register.iter_entries(conn, election.id)}
        secret = {person: new_credential() for person, _ in people}
        credentials.issue_many(
            conn,
            election.id,
            key,
            ((i, normalise_credential(secret[p])) for i, p in by_id.items()),
            actor="ro",
        )
        ids = {
            p: credentials.authenticate(conn, election.id, key, normalise_credential(s)).id
            for p, s in secret.items()
        }
        elections.advance(conn, election.id, ElectionState.CREDENTIALS_ISSUED, actor="ro")
        elections.advance(conn, election.id, ElectionState.OPEN, actor="ro")
    return Poll(store, election.id, key, key_file, secret, ids, election.slug)


@pytest.fixture
def poll(store: Store, election_keys: tuple[ElectionKeys, Path]) -> Poll:
    return open_poll(store, *election_keys)


def _casts(poll: Poll) -> list[tuple[str, int, int]]:
    with poll.store.read() as conn:
        return [(t.contest, t.casts, t.ballots) for t in ballots.totals(conn, poll.id)]


def test_a_ranked_and_a_block_ballot_cast_together_with_receipts(poll: Poll) -> None:
    receipts = cast_ballot(
        poll.store,
        poll.id,
        poll.credential["M0"].lower(),  # typed loosely: normalised before the lookup
        {"leader": ["Bob", "Ann"], "nec": ["Eve", "Gus"]},
        credential_key=poll.key,
    )
    assert [r.contest for r in receipts] == ["leader", "nec"]
    with poll.store.read() as conn:
        assert [ballots.find_receipt(conn, poll.id, r.digest) for r in receipts] == [
            "leader",
            "nec",
        ]
    assert _casts(poll) == [("leader", 1, 1), ("nec", 1, 1)]


def test_a_second_cast_is_refused_and_stores_nothing(poll: Poll) -> None:
    cast_ballot(
        poll.store, poll.id, poll.credential["M1"], {"leader": ["Ann"]}, credential_key=poll.key
    )
    with pytest.raises(AlreadyCast):
        cast_ballot(
            poll.store,
            poll.id,
            poll.credential["M1"],
            {"nec": ["Fay"], "leader": ["Bob"]},
            credential_key=poll.key,
        )
    # the nec ballot of the refused cast was rolled back with it
    assert _casts(poll) == [("leader", 1, 1)]


@pytest.mark.parametrize(
    ("choices", "field", "value"),
    [
        ({"leader": ["Ann", "Ann"]}, "choices[leader][1]", "Ann"),
        ({"leader": ["Zed"]}, "choices[leader][0]", "Zed"),
        ({"leader": []}, "choices[leader]", []),
        ({"nec": ["Eve", "Fay", "Gus"]}, "choices[nec]", ["Eve", "Fay", "Gus"]),
        ({"mayor": ["Ann"]}, "choices", "mayor"),
        ({"leader": ["Ann"], "nec": ["Eve", "Eve"]}, "choices[nec][1]", "Eve"),
    ],
)
def test_an_invalid_ballot_names_contest_field_and_value_and_stores_nothing(
    poll: Poll, choices: dict[str, list[str]], field: str, value: object
) -> None:
    with pytest.raises(InputError) as caught:
        cast_ballot(poll.store, poll.id, poll.credential["M2"], choices, credential_key=poll.key)
    assert (caught.value.field, caught.value.value) == (field, value)
    assert _casts(poll) == []


def test_a_revoked_credential_is_refused(poll: Poll) -> None:
    with poll.store.begin() as conn:
        credentials.revoke(conn, poll.id, poll.credential_id["M3"], actor="ro", reason="lost")
    with pytest.raises(CredentialRejected):
        cast_ballot(
            poll.store, poll.id, poll.credential["M3"], {"leader": ["Ann"]}, credential_key=poll.key
        )
    assert _casts(poll) == []


def test_casting_after_the_close_is_refused(poll: Poll) -> None:
    close_voting(poll.store, poll.slug, actor="ro")
    with pytest.raises(LifecycleError):
        cast_ballot(
            poll.store, poll.id, poll.credential["M0"], {"leader": ["Ann"]}, credential_key=poll.key
        )
    with pytest.raises(LifecycleError):  # final: it cannot be closed (or reopened) again
        close_voting(poll.store, poll.slug, actor="ro")


def test_a_postal_batch_casts_counts_spoilt_papers_and_refuses_online_voters(
    poll: Poll, tmp_path: Path
) -> None:
    cast_ballot(
        poll.store, poll.id, poll.credential["M0"], {"leader": ["Ann"]}, credential_key=poll.key
    )
    c = poll.credential
    csv_path = tmp_path / "batch.csv"
    csv_path.write_text(
        "credential,leader,nec\n"
        f"{c['M1']},Bob>Ann,Eve>Fay\n"  # cast in both
        f"{c['M2']},,Gus\n"  # leader blank, nec cast
        "not-a-credential,Ann,Eve\n"  # unreadable: spoilt in both
        f"{c['M3']},Ann>Ann,\n"  # leader invalid marks, nec blank: cast as spoilt ballots
        f"{c['M0']},Cat,Eve\n",  # voted online for leader: refused whole
        encoding="utf-8",
    )
    result = import_postal_batch(
        poll.store, poll.id, csv_path, label="batch 1", credential_key=poll.key, actor="ro"
    )
    assert (result.papers, result.cast) == (5, 3)
    assert result.spoilt == {
        "leader": {"blank": 1, "invalid_marks": 1, "unreadable_credential": 1},
        "nec": {"blank": 1, "unreadable_credential": 1},
    }
    assert result.refused == {"already_cast": 1}
    # M2's blank and M3's spoilt papers used their votes: sealed spoilt ballots in the box
    assert _casts(poll) == [("leader", 4, 4), ("nec", 3, 3)]
    with pytest.raises(AlreadyCast):
        cast_ballot(poll.store, poll.id, c["M3"], {"leader": ["Ann"]}, credential_key=poll.key)
