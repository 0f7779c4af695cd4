"""The stored audit chain: appended in the caller's transaction, verified from the database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from conftest import MakeElection
from tallyroom.audit import Action, Check
from tallyroom.store import ElectionState, LifecycleError, Store, StoreError, audit, elections
from tallyroom.store.schema import audit_events


def test_an_event_rolls_back_with_its_transaction(
    store: Store, make_election: MakeElection
) -> None:
    election = make_election(voters=0, state=ElectionState.DRAFT)
    with pytest.raises(RuntimeError), store.begin() as conn:
        audit.append(conn, election.id, Action.NOMINATIONS, actor="ro", payload={"n": 1})
        raise RuntimeError("the change this event records failed")
    with store.read() as conn:
        assert [e.event.action for e in audit.events(conn, election.id)] == [Action.DEFINITION]
        assert audit.head(conn, election.id).sequence == 1


def test_the_lifecycle_is_recorded_step_by_step(store: Store, make_election: MakeElection) -> None:
    election = make_election(voters=2, state=ElectionState.DECLARED)
    with store.read() as conn:
        actions = [e.event.action for e in audit.events(conn, election.id)]
        result = audit.verify(conn, election.id)
    assert actions == [
        Action.DEFINITION,
        Action.REGISTER_IMPORT,
        Action.REGISTER_FREEZE,
        Action.NOMINATIONS,
        Action.CREDENTIALS_ISSUE,
        Action.CREDENTIALS_ISSUE,
        Action.POLL_OPEN,
        Action.POLL_CLOSE,
        Action.COUNT,
        Action.DECLARATION,
    ]
    assert result.ok, result.summary()
    assert result.checked == len(actions)


def test_a_step_cannot_be_skipped_or_repeated(store: Store, make_election: MakeElection) -> None:
    election = make_election(voters=1, state=ElectionState.CREDENTIALS_ISSUED)
    with pytest.raises(LifecycleError, match="credentials issued"), store.begin() as conn:
        elections.advance(conn, election.id, ElectionState.CLOSED, actor="ro")
    with store.begin() as conn:
        elections.advance(conn, election.id, ElectionState.OPEN, actor="ro")
    with pytest.raises(LifecycleError), store.begin() as conn:
        elections.advance(conn, election.id, ElectionState.OPEN, actor="ro")


def test_two_officers_closing_at_once_close_once(store: Store, make_election: MakeElection) -> None:
    election = make_election(voters=1, state=ElectionState.OPEN)

    def close(_: int) -> str:
        try:
            with store.begin() as conn:
                elections.advance(conn, election.id, ElectionState.CLOSED, actor="ro")
        except LifecycleError:
            return "refused"
        return "closed"

    with ThreadPoolExecutor(4) as pool:
        assert sorted(pool.map(close, range(4))) == ["closed"] + ["refused"] * 3
    with store.read() as conn:
        assert audit.verify(conn, election.id).ok


def test_concurrent_appends_never_fork_the_chain(store: Store, make_election: MakeElection) -> None:
    election = make_election(voters=0, state=ElectionState.DRAFT)

    def note(n: int) -> int:
        with store.begin() as conn:
            event = audit.append(conn, election.id, Action.NOMINATIONS, actor=f"officer {n}")
        return event.event.sequence

    with ThreadPoolExecutor(4) as pool:
        sequences = sorted(pool.map(note, range(24)))
    assert sequences == list(range(2, 26))
    with store.read() as conn:
        assert audit.verify(conn, election.id).ok


@pytest.mark.parametrize("column", ["actor", "reason", "payload", "recorded_at", "action"])
def test_a_row_edited_in_the_database_is_named(
    store: Store, make_election: MakeElection, column: str
) -> None:
    election = make_election(voters=2, state=ElectionState.OPEN)
    forged = {
        "actor": "someone else",
        "reason": "nothing to see",
        "payload": '{"entries":1}',
        "recorded_at": "2016-01-01T00:00:00.000000Z",
        "action": "declaration",
    }[column]
    with store.begin() as conn:
        conn.execute(
            audit_events.update()
            .where(audit_events.c.election_id == election.id)
            .where(audit_events.c.sequence == 2)
            .values(**{column: forged})
        )
    with store.read() as conn:
        result = audit.verify(conn, election.id)
    assert not result.ok
    assert result.failed_positions == (1,)
    assert result.first_failure is not None and result.first_failure.sequence == 2


def test_unreadable_rows_and_cut_logs_are_reported(
    store: Store, make_election: MakeElection
) -> None:
    election = make_election(voters=2, state=ElectionState.OPEN)
    with store.read() as conn:
        published = audit.head(conn, election.id)
    with store.begin() as conn:
        conn.execute(
            audit_events.update()
            .where(audit_events.c.sequence == 3)
            .where(audit_events.c.election_id == election.id)
            .values(action="no such action")
        )
        conn.execute(
            audit_events.delete()
            .where(audit_events.c.election_id == election.id)
            .where(audit_events.c.sequence == published.sequence)
        )
    with store.read() as conn:
        result = audit.verify(conn, election.id, published_head=published)
        with pytest.raises(StoreError, match="cannot be read"):
            list(audit.events(conn, election.id))
    checks = [(f.position, f.check) for f in result.failures]
    assert checks[0] == (2, Check.READABLE)
    assert (None, Check.HEAD) in checks
    assert "published head" in result.summary()


def test_a_rewritten_log_is_caught_by_a_published_head(
    store: Store, make_election: MakeElection
) -> None:
    election = make_election(voters=1, state=ElectionState.OPEN)
    with store.read() as conn:
        published = audit.head(conn, election.id)
        assert audit.verify(conn, election.id, published_head=published).ok
    with store.begin() as conn:
        audit.append(conn, election.id, Action.POSTAL_BATCH, actor="ro")
    with store.read() as conn:  # the log grew since: the published head is still in it
        assert audit.verify(conn, election.id, published_head=published).ok
    with store.begin() as conn:  # rewrite event 2 and recompute every later hash
        params = {"e": election.id}
        conn.execute(
            sa.text("DELETE FROM audit_events WHERE election_id = :e AND sequence >= 2"), params
        )
        first_hash = "SELECT hash FROM audit_events WHERE election_id = :e AND sequence = 1"
        conn.execute(
            sa.text(
                f"UPDATE audit_heads SET sequence = 1, hash = ({first_hash}) WHERE election_id = :e"
            ),
            params,
        )
        for _ in range(published.sequence):
            audit.append(conn, election.id, Action.NOMINATIONS, actor="forger")
    with store.read() as conn:
        assert audit.verify(conn, election.id).ok  # consistent in itself...
        result = audit.verify(conn, election.id, published_head=published)
    assert [f.check for f in result.failures] == [Check.HEAD]  # ...but not what was published
