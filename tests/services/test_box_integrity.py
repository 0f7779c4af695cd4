"""The ballot box and the election record against a database writer who holds no key.

Each attack is what someone who can write to the database, but holds neither the election's
private key nor its credential key, can do with raw SQL on the store's tables (on SQLite and
on PostgreSQL): delete, insert, replace, duplicate or retag ballots, edit or delete casts, set
the state back, edit the definition, flip an eligibility, edit the published documents. Each
is detected by ``verify_record`` (the failed check named) and the count refuses to run.

Then ballots that casting could never have produced, sealed to the real public key and put in
the box through the store (so the box itself is consistent): the count re-checks every opened
ballot and stops, naming the check. And a kill -9 in the middle of casting from several
processes: every acknowledged receipt is in the box, and the box verifies.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from test_voting import PASSPHRASE, Poll, open_poll, save_keys

from tallyroom.audit.record import RecordCheck
from tallyroom.crypto.credentials import normalise_credential
from tallyroom.crypto.sealing import ElectionKeys, seal_ballot
from tallyroom.errors import CountError
from tallyroom.services import audit_log, declaring
from tallyroom.services.counting import count_election, declare
from tallyroom.services.polling import close_voting
from tallyroom.services.voting import cast_ballot
from tallyroom.store import ElectionState, LifecycleError, Store, audit, ballots, elections
from tallyroom.store.ballots import CastItem
from tallyroom.store.schema import (
    ballot_casts,
    declaration_files,
    declarations,
    register_entries,
)
from tallyroom.store.schema import ballots as ballots_table
from tallyroom.store.schema import elections as elections_table

VOTES = {
    "M0": {"leader": ["Ann", "Bob"], "nec": ["Eve", "Fay"]},
    "M1": {"leader": ["Bob"], "nec": ["Eve"]},
    "M2": {"leader": ["Ann"], "nec": ["Fay", "Gus"]},
    "M3": {"leader": ["Cat", "Bob"]},
    "A0": {"leader": ["Bob", "Ann"]},
    "A1": {"leader": ["Bob", "Cat"]},
}


@pytest.fixture(scope="module")
def election_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[ElectionKeys, Path]:
    return save_keys(tmp_path_factory.mktemp("keys"))


def _voted(store: Store, keys: tuple[ElectionKeys, Path]) -> Poll:
    poll = open_poll(store, *keys, members=8, affiliated=2)
    for person, choices in VOTES.items():
        cast_ballot(store, poll.id, poll.credential[person], choices, credential_key=poll.key)
    return poll


@pytest.fixture
def closed(store: Store, election_keys: tuple[ElectionKeys, Path]) -> Poll:
    poll = _voted(store, election_keys)
    close_voting(store, poll.slug, actor="ro")
    return poll


def _failed(poll: Poll) -> set[str]:
    result = audit_log.verify_record(poll.store, poll.slug)
    return {c.value for c in result.failed_checks}


def _refused(poll: Poll, check: str) -> None:
    with poll.store.read() as conn:
        before = list(audit.events(conn, poll.id))
    with pytest.raises(CountError, match=check) as caught:
        count_election(poll.store, poll.id, poll.key_file, PASSPHRASE)
    assert "\n" not in str(caught.value)
    with poll.store.read() as conn:
        assert list(audit.events(conn, poll.id)) == before  # nothing counted, nothing logged


def _one_ballot(
    conn: Connection, poll: Poll, contest: str = "leader"
) -> sa.Row[tuple[object, ...]]:
    return conn.execute(
        sa.select(ballots_table)
        .where(ballots_table.c.election_id == poll.id)
        .where(ballots_table.c.contest == contest)
        .order_by(ballots_table.c.receipt)
        .limit(1)
    ).one()


def _public_key(conn: Connection, poll: Poll) -> bytes:
    key = conn.execute(
        sa.select(elections_table.c.ballot_public_key).where(elections_table.c.id == poll.id)
    ).scalar_one()
    return bytes(key)


def _plaintext(contest: str, ranking: list[int], length: int = 64) -> bytes:
    text = json.dumps({"contest": contest, "ranking": ranking, "v": 1}, separators=(",", ":"))
    return text.encode().ljust(length)


def delete_a_ballot(conn: Connection, poll: Poll) -> None:
    row = _one_ballot(conn, poll)
    conn.execute(ballots_table.delete().where(ballots_table.c.id == row.id))


def insert_50_ballots(conn: Connection, poll: Poll) -> None:
    """Fifty well-formed ballots for Cat, sealed to the public key stored in ``elections``."""
    public = _public_key(conn, poll)
    rows = []
    for _ in range(50):
        sealed = seal_ballot(public, _plaintext("leader", [2]))
        rows.append(
            {
                "id": secrets.token_bytes(16),
                "election_id": poll.id,
                "contest": "leader",
                "sealed": sealed,
                "receipt": hashlib.sha256(sealed).digest(),
                "section": "members",
            }
        )
    conn.execute(ballots_table.insert(), rows)


def replace_a_ballot(conn: Connection, poll: Poll) -> None:
    row = _one_ballot(conn, poll)
    sealed = seal_ballot(_public_key(conn, poll), _plaintext("leader", [2]))
    conn.execute(
        ballots_table.update()
        .where(ballots_table.c.id == row.id)
        .values(sealed=sealed, receipt=hashlib.sha256(sealed).digest())
    )


def replace_sealed_keep_receipt(conn: Connection, poll: Poll) -> None:
    row = _one_ballot(conn, poll)
    sealed = seal_ballot(_public_key(conn, poll), _plaintext("leader", [2]))
    conn.execute(ballots_table.update().where(ballots_table.c.id == row.id).values(sealed=sealed))


def duplicate_a_ballot(conn: Connection, poll: Poll) -> None:
    """The same sealed bytes again (the receipt is unique, so it gets another one)."""
    row = _one_ballot(conn, poll)
    conn.execute(
        ballots_table.insert().values(
            id=secrets.token_bytes(16),
            election_id=poll.id,
            contest=row.contest,
            sealed=row.sealed,
            receipt=hashlib.sha256(b"another" + bytes(row.sealed)).digest(),
            section=row.section,
        )
    )


def retag_a_section(conn: Connection, poll: Poll) -> None:
    row = _one_ballot(conn, poll)
    other = "affiliated" if row.section == "members" else "members"
    conn.execute(ballots_table.update().where(ballots_table.c.id == row.id).values(section=other))


def move_a_ballot_to_another_contest(conn: Connection, poll: Poll) -> None:
    row = _one_ballot(conn, poll, "nec")
    conn.execute(
        ballots_table.update().where(ballots_table.c.id == row.id).values(contest="leader")
    )


def _m3_cast(poll: Poll) -> sa.ColumnElement[bool]:
    return sa.and_(
        ballot_casts.c.credential_id == poll.credential_id["M3"],
        ballot_casts.c.contest == "leader",
    )


def edit_a_cast(conn: Connection, poll: Poll) -> None:
    """M3 voted only for leader: the cast is moved to nec."""
    conn.execute(ballot_casts.update().where(_m3_cast(poll)).values(contest="nec"))


def delete_a_cast(conn: Connection, poll: Poll) -> None:
    conn.execute(ballot_casts.delete().where(_m3_cast(poll)))


def insert_a_cast(conn: Connection, poll: Poll) -> None:
    """M7 never voted: a cast row claims they did (a turnout figure inflated)."""
    entry = conn.execute(
        sa.select(register_entries.c.id)
        .where(register_entries.c.election_id == poll.id)
        .where(register_entries.c.person_id == "M7")
    ).scalar_one()
    conn.execute(
        ballot_casts.insert().values(
            credential_id=poll.credential_id["M7"],
            entry_id=entry,
            contest="leader",
            channel="online",
        )
    )


def set_the_state_back_to_open(conn: Connection, poll: Poll) -> None:
    conn.execute(
        elections_table.update().where(elections_table.c.id == poll.id).values(state="open")
    )


def edit_the_definition(conn: Connection, poll: Poll) -> None:
    """The text changed, and its digest column recomputed to match."""
    text = conn.execute(
        sa.select(elections_table.c.definition).where(elections_table.c.id == poll.id)
    ).scalar_one()
    text = text.replace("min_published_size = 10", "min_published_size = 1")
    conn.execute(
        elections_table.update()
        .where(elections_table.c.id == poll.id)
        .values(definition=text, definition_sha256=hashlib.sha256(text.encode()).hexdigest())
    )


def flip_an_eligibility(conn: Connection, poll: Poll) -> None:
    conn.execute(
        register_entries.update()
        .where(register_entries.c.election_id == poll.id)
        .where(register_entries.c.person_id == "M7")
        .values(eligible=False)
    )


ATTACKS: dict[str, tuple[Callable[[Connection, Poll], None], set[str]]] = {
    "delete a ballot": (delete_a_ballot, {"box-ballots", "reconcile", "box-close"}),
    "insert 50 ballots": (insert_50_ballots, {"box-ballots", "reconcile", "box-close"}),
    "replace a ballot": (replace_a_ballot, {"box-ballots", "box-close"}),
    "replace the sealed bytes only": (replace_sealed_keep_receipt, {"receipt"}),
    "duplicate a ballot": (
        duplicate_a_ballot,
        {"receipt", "box-ballots", "reconcile", "box-close"},
    ),
    "retag a section": (retag_a_section, {"box-ballots", "reconcile", "box-close"}),
    "move a ballot": (
        move_a_ballot_to_another_contest,
        {"box-ballots", "reconcile", "box-close"},
    ),
    "edit a cast": (edit_a_cast, {"box-casts", "reconcile", "box-close"}),
    "delete a cast": (delete_a_cast, {"box-casts", "reconcile", "box-close"}),
    "insert a cast": (insert_a_cast, {"box-casts", "reconcile", "box-close"}),
    "set the state back to open": (set_the_state_back_to_open, {"state"}),
    "edit the definition": (edit_the_definition, {"definition"}),
    "flip an eligibility": (flip_an_eligibility, {"eligibility"}),
}


def test_an_untouched_election_verifies_at_every_step(
    store: Store, election_keys: tuple[ElectionKeys, Path]
) -> None:
    poll = _voted(store, election_keys)
    assert _failed(poll) == set()
    close_voting(store, poll.slug, actor="ro")
    result = audit_log.verify_record(store, poll.slug)
    assert result.ok, result.summary()
    assert RecordCheck.BOX_CLOSE in result.checked
    assert RecordCheck.ELIGIBILITY in result.checked
    with store.read() as conn:
        close = [e.event for e in audit.events(conn, poll.id)][-1]
    data = json.loads(close.payload)
    assert data["box"]["ballots"] == data["box"]["casts"] == 9
    assert data["counts"]["leader"] == {
        "affiliated": {"ballots": 2, "casts": 2, "receipts": 2},
        "members": {"ballots": 4, "casts": 4, "receipts": 4},
    }
    with pytest.raises(TypeError):
        bool(result)


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_a_database_writer_is_detected_and_the_count_refuses(closed: Poll, attack: str) -> None:
    tamper, expected = ATTACKS[attack]
    with closed.store.begin() as conn:
        tamper(conn, closed)
    failed = _failed(closed)
    assert failed == expected, audit_log.verify_record(closed.store, closed.slug).summary()
    _refused(closed, sorted(expected)[0])


def test_a_writer_who_reopens_the_poll_and_casts_is_detected(closed: Poll) -> None:
    """Set back to open, the store accepts a cast again; the box kept while casting follows
    it, but the box recorded at the close does not."""
    with closed.store.begin() as conn:
        set_the_state_back_to_open(conn, closed)
    cast_ballot(
        closed.store,
        closed.id,
        closed.credential["M7"],
        {"leader": ["Cat"]},
        credential_key=closed.key,
    )
    assert _failed(closed) == {"state", "box-close"}


def test_a_box_kept_in_step_by_the_writer_still_fails_the_close(closed: Poll) -> None:
    """The writer deletes a ballot *and* its cast and recomputes the kept digest: the box is
    consistent with itself, but not with what the close recorded in the log."""
    with closed.store.begin() as conn:
        row = _one_ballot(conn, closed)
        conn.execute(ballots_table.delete().where(ballots_table.c.id == row.id))
        cast = conn.execute(
            sa.select(ballot_casts.c.credential_id)
            .where(ballot_casts.c.contest == "leader")
            .where(ballot_casts.c.credential_id.in_(list(closed.credential_id.values())))
            .join(register_entries, register_entries.c.id == ballot_casts.c.entry_id)
            .where(register_entries.c.section == row.section)
            .limit(1)
        ).scalar_one()
        conn.execute(
            ballot_casts.delete()
            .where(ballot_casts.c.credential_id == cast)
            .where(ballot_casts.c.contest == "leader")
        )
        rows, _counts, _bad = ballots.box_rows(conn, closed.id)
        from tallyroom.audit import box
        from tallyroom.store.schema import ballot_box

        conn.execute(
            ballot_box.update()
            .where(ballot_box.c.election_id == closed.id)
            .values(
                ballots_digest=box.to_bytes(box.EMPTY),
                casts_digest=box.to_bytes(box.EMPTY),
                ballot_count=0,
                cast_count=0,
            )
        )
        conn.execute(
            ballot_box.update()
            .where(ballot_box.c.election_id == closed.id)
            .where(ballot_box.c.shard == 0)
            .values(
                ballots_digest=box.to_bytes(rows.ballots),
                casts_digest=box.to_bytes(rows.casts),
                ballot_count=rows.ballot_count,
                cast_count=rows.cast_count,
            )
        )
    assert _failed(closed) == {"box-close"}
    _refused(closed, "box-close")


@pytest.mark.parametrize(
    ("contest", "plaintext", "check"),
    [
        ("nec", _plaintext("nec", [0, 0, 0, 0, 0, 0], 80), "duplicate-mark"),
        ("nec", _plaintext("nec", [0, 1, 2], 80), "too-many-marks"),
        ("leader", _plaintext("leader", [7], 80), "code-range"),
        ("nec", _plaintext("leader", [0], 80), "contest"),
        ("leader", _plaintext("leader", [], 80), "empty"),
        ("leader", b"not json at all".ljust(80), "decode"),
    ],
)
def test_a_forged_ballot_in_a_consistent_box_stops_the_count(
    store: Store,
    election_keys: tuple[ElectionKeys, Path],
    contest: str,
    plaintext: bytes,
    check: str,
) -> None:
    """Cast through the store itself (past the service's rule check), so the box, the casts
    and the close all agree: only opening the ballot shows it is not one casting makes."""
    poll = _voted(store, election_keys)
    sealed = seal_ballot(election_keys[0].public, plaintext)
    with store.begin() as conn:
        (outcome,) = ballots.cast_many(
            conn,
            poll.id,
            [
                CastItem(
                    poll.key.digest(normalise_credential(poll.credential["M5"])), {contest: sealed}
                )
            ],
        )
    assert isinstance(outcome, list)
    close_voting(store, poll.slug, actor="ro")
    assert _failed(poll) == set()
    with pytest.raises(CountError, match=f"'{check}' check") as caught:
        count_election(store, poll.id, poll.key_file, PASSPHRASE)
    assert "\n" not in str(caught.value)
    with store.read() as conn:
        assert elections.get_election(conn, poll.id).state is ElectionState.CLOSED


def test_published_documents_are_hashed_into_the_log_and_an_edit_is_detected(
    closed: Poll,
) -> None:
    store = closed.store
    decl = count_election(store, closed.id, closed.key_file, PASSPHRASE)
    declare(store, closed.id, decl, actor="ro")
    assert _failed(closed) == set()
    with store.read() as conn:
        event = [e.event for e in audit.events(conn, closed.id)][-1]
    logged = json.loads(event.payload)
    # what the results page shows is what the log holds, and sha256sum of a download agrees
    page = declaring.published_declaration(store, closed.slug)
    assert page is not None and page["sha256"] == logged["document_sha256"]
    listed = declaring.declaration_files(store, closed.slug)
    assert {name: digest for name, _m, _s, digest in listed} == logged["files"]
    for name, _media, _size, digest in listed:
        content = declaring.declaration_file(store, closed.slug, name).content
        assert hashlib.sha256(content).hexdigest() == digest
    cvr = next(name for name, *_ in listed if name.endswith("-cvr.blt"))
    forged = b"3 1\n1 2 0\n0\n"

    with store.begin() as conn:
        conn.execute(
            declaration_files.update()
            .where(declaration_files.c.election_id == closed.id)
            .where(declaration_files.c.name == cvr)
            .values(content=forged, sha256=hashlib.sha256(forged).hexdigest())
        )
    assert _failed(closed) == {"download"}
    served = declaring.declaration_file(store, closed.slug, cvr).content
    shown = dict((n, d) for n, _m, _s, d in declaring.declaration_files(store, closed.slug))
    assert hashlib.sha256(served).hexdigest() != shown[cvr]  # the page still shows the log's
    _refused(closed, "download")

    with store.begin() as conn:
        doc = conn.execute(
            sa.select(declarations.c.document).where(declarations.c.election_id == closed.id)
        ).scalar_one()
        edited = doc.replace('"Bob"', '"Cat"', 1)
        conn.execute(
            declarations.update()
            .where(declarations.c.election_id == closed.id)
            .values(document=edited, sha256=hashlib.sha256(edited.encode()).hexdigest())
        )
    assert _failed(closed) == {"document", "download"}
    page = declaring.published_declaration(store, closed.slug)
    assert page is not None and page["sha256"] == logged["document_sha256"]


def test_the_count_refuses_a_box_that_does_not_verify_even_when_counted_before(
    closed: Poll,
) -> None:
    count_election(closed.store, closed.id, closed.key_file, PASSPHRASE)
    with closed.store.begin() as conn:
        delete_a_ballot(conn, closed)
    _refused(closed, "box-ballots")


_WORKER = textwrap.dedent(
    """
    import sys, threading
    from tallyroom.services.casting_queue import CastingQueue
    from tallyroom.services.voting import CastRequest
    from tallyroom.store import open_store
    from tallyroom.store.credentials import CredentialKey
    from tallyroom.errors import TallyroomError

    url, election_id, key_hex = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    credentials = sys.argv[4:]
    key = CredentialKey(bytes.fromhex(key_hex))
    store = open_store(url)
    queue = CastingQueue(store, max_batch=8)
    lock = threading.Lock()

    def run(mine):
        for credential in mine:
            try:
                receipts = queue.cast(
                    election_id, CastRequest(credential, {"leader": ["Ann", "Cat"]}),
                    credential_key=key,
                )
            except TallyroomError as exc:
                continue
            with lock:
                print(receipts[0].digest.hex(), flush=True)

    threads = [threading.Thread(target=run, args=(credentials[k::4],)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.close()
    print("done", flush=True)
    """
)


def test_kill_9_while_casting_from_several_processes_loses_no_acknowledged_ballot(
    store: Store, tmp_path: Path
) -> None:
    keys, key_file = save_keys(tmp_path)
    poll = open_poll(store, keys, key_file, members=240, affiliated=0)
    url = store.engine.url.render_as_string(hide_password=False)
    people = sorted(poll.credential)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WORKER,
                url,
                str(poll.id),
                poll.key.secret.hex(),
                *[poll.credential[p] for p in people[k::3]],
            ],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for k in range(3)
    ]
    acknowledged: set[str] = set()
    victim = workers[0]
    assert victim.stdout is not None
    for _ in range(5):  # let it acknowledge a few, then kill it mid-load
        acknowledged.add(victim.stdout.readline().strip())
    os.kill(victim.pid, signal.SIGKILL)
    acknowledged |= {line.strip() for line in victim.stdout if len(line.strip()) == 64}
    victim.wait()
    assert victim.returncode == -signal.SIGKILL
    for worker in workers[1:]:
        out, _ = worker.communicate(timeout=300)
        lines = out.split()
        assert lines[-1] == "done"
        acknowledged |= {line for line in lines if len(line) == 64}
    acknowledged.discard("")
    with store.read() as conn:
        in_box = {receipt.hex() for _c, receipt in ballots.list_receipts(conn, poll.id)}
    assert acknowledged <= in_box
    assert len(in_box) < 240  # the killed worker did not finish its share
    assert _failed(poll) == set()
    close_voting(store, poll.slug, actor="ro")
    assert _failed(poll) == set()
    decl = count_election(store, poll.id, poll.key_file, PASSPHRASE)
    assert decl.contest("leader").valid == len(in_box)


def test_counting_an_open_poll_is_a_lifecycle_error(
    store: Store, election_keys: tuple[ElectionKeys, Path]
) -> None:
    poll = _voted(store, election_keys)
    with pytest.raises(LifecycleError):
        count_election(store, poll.id, poll.key_file, PASSPHRASE)
