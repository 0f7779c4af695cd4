"""An open verifiable election for the web tests, prepared through the services as
``test_app.prepare`` does, its key made in-process by the trustees' ceremony (crypto/dkg.py:
three trustees, threshold two) and stored with ``store.elections.set_election_key``."""

from __future__ import annotations

import csv
from pathlib import Path

from conftest import DEFINITION, PASSPHRASE, REGISTER
from tallyroom.crypto import dkg
from tallyroom.crypto.ceremony_messages import ElectionKey
from tallyroom.services import elections, nominations, register
from tallyroom.services.credentials import issue_credentials
from tallyroom.services.polling import open_voting
from tallyroom.store import Store
from tallyroom.store import elections as stored_elections
from tallyroom.web.settings import WebSettings

SLUG = "riverside-verifiable"
VERIFIABLE = DEFINITION + '\n[verifiable]\ntrustees = ["Ann", "Ben", "Cleo"]\nthreshold = 2\n'


def election_key(election: str) -> ElectionKey:
    """The trustees' ceremony run in memory: three trustees, any two can decrypt."""
    plan = dkg.Ceremony(election, trustees=3, threshold=2)
    step1 = [dkg.make_communication_key(plan, i) for i in (1, 2, 3)]
    dealt = [dkg.deal(plan, own, [k for _, k in step1]) for own, _ in step1]
    return dkg.election_key(plan, [c for _, c, _ in dealt])


def prepare_verifiable(
    store: Store, settings: WebSettings, tmp_path: Path, *, with_key: bool = True
) -> list[str]:
    """An open verifiable election (its key stored unless ``with_key`` is false); the
    credentials as exported."""
    definition = tmp_path / "verifiable.toml"
    definition.write_text(VERIFIABLE, encoding="utf-8")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    record = elections.create_election(
        store,
        definition,
        actor="ro",
        private_key_path=settings.private_key_file(SLUG),
        passphrase=PASSPHRASE,
        slug=SLUG,
    )
    members = tmp_path / "register.csv"
    members.write_text(REGISTER, encoding="utf-8")
    register.import_register(store, SLUG, members, actor="ro")
    register.freeze_register(store, SLUG, actor="ro")
    nominations.close_nominations(store, SLUG, actor="ro")
    export = settings.data_dir / f"{SLUG}-credentials.csv"
    issue_credentials(
        store, SLUG, key_path=settings.credential_key_file(SLUG), export_path=export, actor="ro"
    )
    if with_key:
        key = election_key(SLUG)
        with store.begin() as conn:
            stored_elections.set_election_key(
                conn, record.id, key.to_json(), public_key=bytes(key.public_key), actor="ro"
            )
    open_voting(store, SLUG, actor="ro")
    with export.open(encoding="utf-8") as f:
        return [row[2] for row in list(csv.reader(f))[1:]]
