"""The election in small, on SQLite and PostgreSQL: cast, close, count, declare, export."""

from __future__ import annotations

import io
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from test_voting import PASSPHRASE, Poll, open_poll, save_keys

from tallyroom.audit.events import Action
from tallyroom.crypto.sealing import ElectionKeys
from tallyroom.errors import InputError
from tallyroom.formats.blt import parse_blt
from tallyroom.report.declaration import (
    declaration_csv,
    declaration_json,
    percent,
    write_cvrs_blt,
)
from tallyroom.services.counting import count_election, declare
from tallyroom.services.polling import close_voting
from tallyroom.services.voting import cast_ballot, import_postal_batch
from tallyroom.store import ElectionState, LifecycleError, Store, audit, elections

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


@pytest.fixture
def voted(store: Store, election_keys: tuple[ElectionKeys, Path], tmp_path: Path) -> Poll:
    """8 members and 2 affiliated supporters; 6 vote online; by post, one paper is unreadable
    and M4 spoils the leader ballot (two first preferences) and leaves the NEC blank."""
    poll = open_poll(store, *election_keys, members=8, affiliated=2)
    for person, choices in VOTES.items():
        cast_ballot(store, poll.id, poll.credential[person], choices, credential_key=poll.key)
    postal = tmp_path / "postal.csv"
    postal.write_text(
        f"credential,leader,nec\nsmudged,Ann,Eve\n{poll.credential['M4']},Ann>Ann,\n",
        encoding="utf-8",
    )
    import_postal_batch(store, poll.id, postal, label="b1", credential_key=poll.key, actor="ro")
    return poll


def test_percentages_round_half_up_once() -> None:
    assert percent(1, 16) == Decimal("6.3")  # 6.25: half up, not to even
    assert percent(1, 6) == Decimal("16.7")
    assert percent(0, 0) == Decimal("0.0")
    assert percent(506_438 + 1_042, 654_006) == Decimal("77.6")  # Labour 2016


def test_the_count_and_declaration_are_exact(voted: Poll) -> None:
    store, election_id = voted.store, voted.id
    with pytest.raises(LifecycleError):  # not before the close
        count_election(store, election_id, voted.key_file, PASSPHRASE)
    close_voting(store, voted.slug, actor="ro")
    decl = count_election(store, election_id, voted.key_file, PASSPHRASE)

    leader = decl.contest("leader")
    assert [(c.name, c.votes, c.percent) for c in leader.candidates] == [
        ("Ann", 2, Decimal("33.3")),
        ("Bob", 3, Decimal("50.0")),
        ("Cat", 1, Decimal("16.7")),
    ]
    assert leader.winners == ("Bob",)
    assert len(leader.count.rounds) == 2  # Cat excluded, her ballot goes to Bob
    assert (leader.electorate, leader.valid, leader.spoilt, leader.ballots_returned) == (
        10,
        6,
        2,
        8,
    )
    assert leader.turnout_percent == Decimal("80.0")
    members, affiliated = leader.sections
    # 2 ballots is below the affiliated section's minimum of 10: nothing published for it;
    # and members go too, since the contest less the members would be the affiliated vote
    assert (affiliated.published, affiliated.ballots, affiliated.candidates) == (False, None, ())
    assert (members.published, members.ballots, members.candidates) == (False, None, ())
    assert leader.previous_name == "Leader 2022"
    assert [(p.name, p.percent, p.previous_percent, p.change) for p in leader.previous] == [
        ("Ann", Decimal("33.3"), Decimal("40.0"), Decimal("-6.7")),
        ("Bob", Decimal("50.0"), None, None),
        ("Cat", Decimal("16.7"), None, None),
        ("Dan", None, Decimal("60.0"), None),
    ]
    cast = Counter(tuple("ABC".index(n[0]) for n in v["leader"]) for v in VOTES.values())
    assert Counter(leader.cvrs) == cast

    nec = decl.contest("nec")
    assert [(c.name, c.votes, c.percent) for c in nec.candidates] == [
        ("Eve", 2, Decimal("40.0")),
        ("Fay", 2, Decimal("40.0")),
        ("Gus", 1, Decimal("20.0")),
    ]
    assert set(nec.winners) == {"Eve", "Fay"}
    assert (nec.electorate, nec.valid, nec.spoilt, nec.turnout_percent) == (
        8,
        3,
        2,
        Decimal("62.5"),
    )

    # a recount gives the same figures; declaring records it
    again = count_election(store, election_id, voted.key_file, PASSPHRASE)
    assert declaration_json(again) == declaration_json(decl)
    declare(store, election_id, decl, actor="ro")
    with store.read() as conn:
        assert elections.get_election(conn, election_id).state is ElectionState.DECLARED
        actions = [e.event.action for e in audit.events(conn, election_id)]
        assert actions[-2:] == [Action.COUNT, Action.DECLARATION]
        assert audit.verify(conn, election_id).ok
    with pytest.raises(LifecycleError):
        declare(store, election_id, decl, actor="ro")


def test_exports(voted: Poll) -> None:
    close_voting(voted.store, voted.slug, actor="ro")
    decl = count_election(voted.store, voted.id, voted.key_file, PASSPHRASE)
    doc = declaration_json(decl)
    json.dumps(doc)  # plain JSON, no Decimal
    leader = doc["contests"][0]
    for key in (
        "electorate",
        "ballots_returned",
        "valid",
        "spoilt",
        "turnout_percent",
        "candidates",
        "sections",
    ):
        assert key in leader
    assert leader["candidates"][1] == {"name": "Bob", "votes": 3, "percent": "50.0"}
    assert leader["sections"][0]["name"] == "members"
    assert leader["turnout_percent"] == "80.0"

    rows = declaration_csv(decl).splitlines()
    assert rows[0] == (
        "contest,section,candidate,votes,percent,weight,weight_percent,groups,constraint"
    )
    assert "leader,,Bob,3,50.0,,,," in rows  # unweighted, no groups, no constraint
    assert not any(r.startswith(("leader,affiliated,", "leader,members,")) for r in rows)

    out = io.StringIO()
    write_cvrs_blt(out, decl.contest("leader"))
    back = parse_blt(out.getvalue().encode("utf-8"))
    assert (back.seats, back.candidates.names, back.title) == (1, ("Ann", "Bob", "Cat"), "Leader")
    assert back.ballots.total == 6


def test_the_wrong_passphrase_is_refused(voted: Poll) -> None:
    close_voting(voted.store, voted.slug, actor="ro")
    with pytest.raises(InputError, match="passphrase"):
        count_election(voted.store, voted.id, voted.key_file, "wrong")
    with voted.store.read() as conn:
        assert elections.get_election(conn, voted.id).state is ElectionState.CLOSED
