"""An open verifiable election for the web tests, prepared through the services as
``test_app.prepare`` does, its key made by the trustees' ceremony and key drill through the
ceremony service (demo/trustees.py: three trustees, threshold two, secrets kept in memory)."""

from __future__ import annotations

import csv
from pathlib import Path

from conftest import DEFINITION, PASSPHRASE, REGISTER
from tallyroom.demo.trustees import DemoTrustees, run_ceremony
from tallyroom.services import elections, nominations, register
from tallyroom.services.credentials import issue_credentials
from tallyroom.services.polling import open_voting
from tallyroom.store import ElectionState, Store
from tallyroom.store import elections as stored_elections
from tallyroom.web.settings import WebSettings

SLUG = "riverside-verifiable"
VERIFIABLE = DEFINITION + '\n[verifiable]\ntrustees = ["Ann", "Ben", "Cleo"]\nthreshold = 2\n'


def prepare_verifiable(
    store: Store, settings: WebSettings, tmp_path: Path, *, with_key: bool = True
) -> list[str]:
    """An open verifiable election (its key stored unless ``with_key`` is false); the
    credentials as exported."""
    return _prepare(store, settings, tmp_path, with_key=with_key, trustees=None)[0]


def prepare_with_trustees(
    store: Store, settings: WebSettings, tmp_path: Path
) -> tuple[list[str], DemoTrustees]:
    """:func:`prepare_verifiable`, the trustees' secret files kept in ``tmp_path/trustees``
    (sealed under the conftest's passphrase) for the tally."""
    credentials, trustees = _prepare(
        store, settings, tmp_path, with_key=True, trustees=tmp_path / "trustees"
    )
    assert trustees is not None
    return credentials, trustees


def _prepare(
    store: Store, settings: WebSettings, tmp_path: Path, *, with_key: bool, trustees: Path | None
) -> tuple[list[str], DemoTrustees | None]:
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
    held: DemoTrustees | None = None
    if with_key:
        # the trustees' ceremony and key drill through the ceremony service (in memory)
        held = run_ceremony(store, SLUG, trustees, passphrase=PASSPHRASE, actor="ro")
        open_voting(store, SLUG, actor="ro")
    else:
        # the service does not open a verifiable poll without its key and drill: a writer
        # with database access does, and casting must still refuse (never seal)
        with store.begin() as conn:
            stored_elections.advance(conn, record.id, ElectionState.OPEN, actor="db writer")
    with export.open(encoding="utf-8") as f:
        credentials = [row[2] for row in list(csv.reader(f))[1:]]
    return credentials, held if trustees is not None else None
