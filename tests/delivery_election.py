"""An election ready for delivery: a register with contacts, credentials issued (round 1)."""

from __future__ import annotations

from pathlib import Path

from tallyroom.services import elections, nominations
from tallyroom.services import register as register_service
from tallyroom.services.credentials import issue_credentials
from tallyroom.services.delivery import MailSettings
from tallyroom.services.smtp import SmtpServer, StartTls
from tallyroom.store import Store

SLUG = "coop"
PASSPHRASE = "correct horse battery"
DEFINITION = """\
[election]
name = "Riverside Co-operative elections 2026"
organisation = "Riverside Co-operative"
timezone = "Europe/London"

[timetable]
nominations_open = 2026-01-01T00:00:00+00:00
nominations_close = 2026-01-10T00:00:00+00:00
ballot_open = 2026-01-11T00:00:00+00:00
ballot_close = 2099-01-20T00:00:00+00:00

[[sections]]
name = "members"
label = "Members"
min_published_size = 1

[[sections]]
name = "staff"
label = "Staff members"
min_published_size = 1

[[contests]]
name = "chair"
title = "Chair"
rule = "irv"
seats = 1
sections = ["members", "staff"]

[[contests.candidates]]
name = "Ann Ashe"

[[contests.candidates]]
name = "Bob Birch"
"""
# a second contest for the members only: staff vote in one contest, members in two
TWO_CONTESTS = (
    DEFINITION
    + """
[[contests]]
name = "treasurer"
title = "Treasurer"
rule = "plurality"
seats = 1
sections = ["members"]

[[contests.candidates]]
name = "Cy Cole"

[[contests.candidates]]
name = "Di Dale"
"""
)
MAPPING = register_service.ColumnMapping.parse(
    ["name=name", "email=email", "address=address", "channel=channel"]
)


def email_of(i: int) -> str:
    return f"voter{i}@example.org"


def register_text(emails: int, letters: int = 0) -> str:
    """``emails`` voters reached by email (members M1...), ``letters`` by post (staff T1...),
    one lapsed member (not eligible)."""
    head = (
        "person_id,section,membership_number,status,joined,registered,name,email,address,channel\n"
    )
    lines = [
        f"P{i},members,M{i},active,2015-03-01,,Voter {i},{email_of(i)},,\n"
        for i in range(1, emails + 1)
    ]
    lines += [
        f'S{i},staff,T{i},active,2015-03-01,,Staff {i},,"{i} Mill Lane|Riverside|RV{i} 1AA",post\n'
        for i in range(1, letters + 1)
    ]
    lines.append("X1,members,M0,lapsed,2015-03-01,,Lapsed,lapsed@example.org,,\n")
    return head + "".join(lines)


def issued(
    store: Store,
    folder: Path,
    emails: int,
    letters: int = 0,
    *,
    definition_text: str = DEFINITION,
    register_csv: str | None = None,
) -> Path:
    """The election created, its register imported and frozen, nominations closed and
    credentials issued; the credential key file's path."""
    definition = folder / "coop.toml"
    definition.write_text(definition_text, encoding="utf-8")
    elections.create_election(
        store,
        definition,
        actor="ro",
        private_key_path=folder / "coop.private-key",
        passphrase=PASSPHRASE,
        slug=SLUG,
    )
    members = folder / "register.csv"
    members.write_text(register_csv or register_text(emails, letters), encoding="utf-8")
    register_service.import_register(store, SLUG, members, actor="ro", mapping=MAPPING)
    register_service.freeze_register(store, SLUG, actor="ro")
    nominations.close_nominations(store, SLUG, actor="ro")
    key = folder / "coop.credential-key"
    issue_credentials(store, SLUG, key_path=key, actor="ro")
    return key


def mail_settings(port: int, **changes: object) -> MailSettings:
    server = SmtpServer("127.0.0.1", port, False, StartTls.AUTO, None)
    settings = MailSettings(
        server=server,
        sender="Returning Officer <ro@riverside.example>",
        booth_url="https://vote.riverside.example",
        rate=0.0,
        connections=3,
        batch=7,
    )
    return MailSettings(**{**{f: getattr(settings, f) for f in settings.__slots__}, **changes})  # type: ignore[arg-type]
