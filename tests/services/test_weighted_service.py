"""Weighted votes through the services on SQLite and PostgreSQL: the register's weights
read exactly (a malformed one refused with its file, line, field and value, nothing
stored), carried by online and postal ballots into the box, counted by weight; and a
database writer who edits a weight (a ballot's, or a register entry's during the poll) is
caught by ``verify_record``, and the count refuses to run."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import pytest
import sqlalchemy as sa

from tallyroom.errors import ConfigError, CountError, InputError
from tallyroom.services import audit_log, declaring, nominations, polling
from tallyroom.services import elections as election_service
from tallyroom.services import register as register_service
from tallyroom.services.credentials import issue_credentials, load_or_create_key
from tallyroom.services.voting import CastRequest, cast_ballots, import_postal_batch
from tallyroom.store import Store, register
from tallyroom.store.schema import ballots, register_entries

PASSPHRASE = "weights passphrase"

DEFINITION = """\
[election]
name = "Card vote"

[timetable]
nominations_open = 2026-09-01T09:00:00+01:00
nominations_close = 2026-09-10T17:00:00+01:00
ballot_open = 2026-09-20T09:00:00+01:00
ballot_close = 2099-10-07T17:00:00+01:00

[weights]
decimal_places = 2

[[sections]]
name = "branches"
min_published_size = 0

[[contests]]
name = "motion"
rule = "plurality"
candidates = [{ name = "For" }, { name = "Against" }]
"""

# Branch delegates' weights (their branches' members in hundreds, to two places).
WEIGHTS = {"B0": "10.25", "B1": "0.5", "B2": "0.75", "B3": "3", "B4": "1.01", "B5": "7"}
# B0, B4 online For; B1, B2, B3 online Against; B5 by post Against.
# For: 10.25 + 1.01 = 11.26 (2 ballots); Against: 0.5 + 0.75 + 3 + 7 = 11.25 (4 ballots).
ONLINE = {"B0": "For", "B1": "Against", "B2": "Against", "B3": "Against", "B4": "For"}


class Poll:
    def __init__(self, store: Store, tmp_path: Path, slug: str) -> None:
        self.store, self.tmp, self.slug = store, tmp_path, slug
        self.key_file = tmp_path / "ballot.key"

    @property
    def id(self) -> int:
        return election_service.get_election(self.store, self.slug).id


def _register(tmp_path: Path, rows: Sequence[str], header: str) -> Path:
    path = tmp_path / "register.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


HEADER = "person_id,section,membership_number,status,weight"


def _create(store: Store, tmp_path: Path, definition: str = DEFINITION) -> Poll:
    poll = Poll(store, tmp_path, "card")
    path = tmp_path / "card.toml"
    path.write_text(definition, encoding="utf-8")
    election_service.create_election(
        store, path, actor="ro", private_key_path=poll.key_file, passphrase=PASSPHRASE,
        slug=poll.slug,
    )  # fmt: skip
    return poll


def _open(store: Store, tmp_path: Path) -> tuple[Poll, dict[str, str]]:
    poll = _create(store, tmp_path)
    rows = [f"{p},branches,{p},active,{w}" for p, w in WEIGHTS.items()]
    register_service.import_register(
        store, poll.slug, _register(tmp_path, rows, HEADER), actor="ro"
    )
    register_service.freeze_register(store, poll.slug, actor="ro")
    nominations.close_nominations(store, poll.slug, actor="ro")
    export = tmp_path / "credentials.csv"
    issue_credentials(
        store, poll.slug, key_path=tmp_path / "cred.key", export_path=export, actor="ro"
    )
    with export.open(encoding="utf-8") as f:
        credential = {r["person_id"]: r["credential"] for r in csv.DictReader(f)}
    polling.open_voting(store, poll.slug, actor="ro")
    return poll, credential


def _vote(poll: Poll, credential: dict[str, str]) -> None:
    key = load_or_create_key(poll.tmp / "cred.key", create=False)
    requests = [CastRequest(credential[p], {"motion": [c]}) for p, c in ONLINE.items()]
    assert all(
        isinstance(o, list) for o in cast_ballots(poll.store, poll.id, requests, credential_key=key)
    )
    papers = poll.tmp / "post.csv"
    papers.write_text(f"credential,motion\n{credential['B5']},Against\n", encoding="utf-8")
    done = import_postal_batch(
        poll.store, poll.id, papers, label="post", credential_key=key, actor="ro"
    )
    assert done.cast == 1


def _declare(poll: Poll) -> declaring.Declaration:
    return declaring.declare(
        poll.store, poll.slug, private_key_file=poll.key_file, passphrase=PASSPHRASE, actor="ro"
    )


def test_online_and_postal_ballots_count_their_weights(store: Store, tmp_path: Path) -> None:
    poll, credential = _open(store, tmp_path)
    _vote(poll, credential)
    with store.read() as conn:
        stored = sorted(str(w) for w in conn.execute(sa.select(ballots.c.weight)).scalars())
    assert stored == sorted(WEIGHTS.values())  # the postal ballot carries B5's 7 too
    polling.close_voting(store, poll.slug, actor="ro")
    (motion,) = _declare(poll).contests
    # For 10.25 + 1.01 = 11.26 beats Against 0.5 + 0.75 + 3 + 7 = 11.25, by 0.01, though
    # Against has four ballots to two
    assert motion.winners == ("For",)
    got = {r.name: (r.votes, str(r.weight), str(r.weight_percent)) for r in motion.candidates}
    # 11.26 / 22.51 = 50.022...%, 11.25 / 22.51 = 49.977...%
    assert got == {"For": (2, "11.26", "50.0"), "Against": (4, "11.25", "50.0")}
    assert str(motion.total_weight) == "22.51" and motion.valid == 6
    section = motion.sections[0]
    assert {r.name: str(r.weight) for r in section.candidates} == {
        "For": "11.26",
        "Against": "11.25",
    }
    assert audit_log.verify_record(store, poll.slug).ok


def _failed(poll: Poll) -> set[str]:
    return {f.check.value for f in audit_log.verify_record(poll.store, poll.slug).failures}


@pytest.mark.parametrize("edited", ["99", "10.26", None])
def test_an_edited_ballot_weight_is_caught(
    store: Store, tmp_path: Path, edited: str | None
) -> None:
    poll, credential = _open(store, tmp_path)
    _vote(poll, credential)
    polling.close_voting(store, poll.slug, actor="ro")
    assert _failed(poll) == set()
    with store.begin() as conn:
        conn.execute(ballots.update().where(ballots.c.weight == "10.25").values(weight=edited))
    assert "box-ballots" in _failed(poll)
    with pytest.raises(CountError, match="box-ballots"):
        _declare(poll)


def test_a_register_weight_edited_during_the_poll_is_caught(store: Store, tmp_path: Path) -> None:
    poll, credential = _open(store, tmp_path)
    with store.begin() as conn:  # B1's weight raised before B1 votes, with no register change
        (entry,) = [e for e in register.iter_entries(conn, poll.id) if e.person_id == "branches/B1"]
        fields = {**entry.fields, "weight": "50"}
        conn.execute(
            register_entries.update()
            .where(register_entries.c.id == entry.id)
            .values(fields=register.encode_fields(fields))
        )
    _vote(poll, credential)
    polling.close_voting(store, poll.slug, actor="ro")
    assert "eligibility" in _failed(poll)


def test_malformed_weights_are_all_reported_and_nothing_is_stored(
    store: Store, tmp_path: Path
) -> None:
    poll = _create(store, tmp_path)
    rows = [
        "B0,branches,B0,active,10.25",
        "B1,branches,B1,active,-2",
        "B2,branches,B2,active,0",
        "B3,branches,B3,active,1.005",
        "B4,branches,B4,active,",
        "B5,branches,B5,active,1e2",
    ]
    path = _register(tmp_path, rows, HEADER)
    with pytest.raises(InputError) as caught:
        register_service.import_register(store, poll.slug, path, actor="ro")
    text = str(caught.value)
    assert "5 problems in the register" in text
    for line, value, why in [
        (3, "-2", "negative"),
        (4, "0", "greater than zero"),
        (5, "1.005", "more than 2 decimal place"),
        (6, "", "not a decimal"),
        (7, "1e2", "not a decimal"),
    ]:
        assert f"{path}:{line}: weight: " in text and why in text and repr(value) in text, text
    with store.read() as conn:
        assert register.count_entries(conn, poll.id) == 0


def test_a_weight_column_needs_weights_declared(store: Store, tmp_path: Path) -> None:
    unweighted = DEFINITION.replace("[weights]\ndecimal_places = 2\n", "")
    poll = _create(store, tmp_path, unweighted)
    path = _register(tmp_path, ["B0,branches,B0,active,2"], HEADER)
    with pytest.raises(InputError, match="declares no \\[weights\\]") as caught:
        register_service.import_register(store, poll.slug, path, actor="ro")
    assert caught.value.line == 1 and caught.value.field == "weight"


def test_a_weighted_election_needs_its_column(store: Store, tmp_path: Path) -> None:
    poll = _create(store, tmp_path, DEFINITION.replace("decimal_places = 2", 'column = "cards"'))
    path = _register(tmp_path, ["B0,branches,B0,active,2"], HEADER)
    with pytest.raises(InputError, match="no such column") as caught:
        register_service.import_register(store, poll.slug, path, actor="ro")
    assert caught.value.value == "cards"


def test_a_rule_that_cannot_take_decimal_weights_is_refused_at_creation(
    store: Store, tmp_path: Path
) -> None:
    meek = DEFINITION.replace('rule = "plurality"', 'rule = "meek"')
    with pytest.raises(ConfigError, match="rule 'meek' counts whole-number weights only"):
        _create(store, tmp_path, meek)
    whole = meek.replace("decimal_places = 2", "decimal_places = 0")
    assert _create(store, tmp_path, whole).id > 0


def test_an_amended_weight_is_checked_and_recorded(store: Store, tmp_path: Path) -> None:
    poll = _create(store, tmp_path)
    rows = [f"{p},branches,{p},active,{w}" for p, w in WEIGHTS.items()]
    register_service.import_register(
        store, poll.slug, _register(tmp_path, rows, HEADER), actor="ro"
    )
    with pytest.raises(InputError, match="more than 2 decimal place") as caught:
        register_service.amend_entry(
            store, poll.slug, "branches/B1", {"weight": "0.505"}, actor="ro", reason="typo"
        )
    assert (caught.value.field, caught.value.value) == ("weight", "0.505")
    entry = register_service.amend_entry(
        store, poll.slug, "branches/B1", {"weight": "0.60"}, actor="ro", reason="recounted"
    )
    assert entry.fields["weight"] == "0.6"
