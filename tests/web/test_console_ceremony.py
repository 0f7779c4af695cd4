"""The console's key ceremony page over HTTP (the real app in Starlette's test client, a real
store on SQLite and PostgreSQL): the officer uploads the trustees' files, finishes the
ceremony, runs the drill; the public files download as a zip; a refused upload names the
file as uploaded and stores nothing; a scrutineer reads but cannot act; no CSRF, no action."""

from __future__ import annotations

import io
import re
import zipfile

from fastapi.testclient import TestClient

from conftest import PASSWORD
from tallyroom.crypto import dkg, threshold
from tallyroom.crypto.ceremony_messages import Ceremony, signed
from tallyroom.crypto.drill_messages import DrillShare, challenge_from_json
from tallyroom.services import ceremony as service
from tallyroom.store import Store, elections
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings
from verifiable_leader import LEADER_VERIFIABLE

SLUG = "leader"
DEFINITION = LEADER_VERIFIABLE
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
C = Ceremony(SLUG, 3, 2)


def _signed_in(settings: WebSettings, username: str) -> tuple[TestClient, str]:
    client = TestClient(create_app(settings))
    token = TOKEN.search(client.get("/console/sign-in").text)
    assert token is not None
    res = client.post(
        "/console/sign-in",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert res.status_code == 303, res.text
    fresh = TOKEN.search(client.get("/console").text)
    assert fresh is not None
    return client, fresh.group(1)


def _upload(client: TestClient, token: str, files: list[tuple[str, bytes]]) -> str:
    res = client.post(
        f"/console/e/{SLUG}/ceremony/add",
        data={"csrf_token": token},
        files=[("files", (name, body, "application/json")) for name, body in files],
    )
    assert res.status_code == 200, res.text
    return res.text


def test_the_ceremony_from_the_console(
    store: Store, web_settings: WebSettings, officer: str
) -> None:
    with store.begin() as conn:
        elections.create_election(conn, SLUG, DEFINITION, actor="ro")
    client, token = _signed_in(web_settings, officer)
    assert f'href="/console/e/{SLUG}/ceremony"' in client.get(f"/console/e/{SLUG}").text
    page = client.get(f"/console/e/{SLUG}/ceremony").text
    assert "Ann Hale" in page and "no communication key" in page

    step1 = [dkg.make_communication_key(C, i) for i in (1, 2, 3)]
    keys = [k for _, k in step1]
    page = _upload(client, token, [(f"ck-{k.trustee}.json", k.to_json()) for k in keys])
    assert "Stored 3 file(s)" in page and keys[0].fingerprint() in page

    dealt = [dkg.deal(C, own, keys) for own, _ in step1]
    files = [(f"c-{c.trustee}.json", c.to_json()) for _, c, _ in dealt]
    files += [(f"s-{s.dealer}-{s.recipient}.json", s.to_json()) for *_, ss in dealt for s in ss]
    # one tampered file among them: none stored, the file named as uploaded
    bad = files[0][1].replace(b'"trustee":1', b'"trustee":2')
    page = _upload(client, token, [*files[1:], ("tampered.json", bad)])
    assert "Nothing stored" in page and "tampered.json" in page
    assert service.status(store, SLUG).trustees[1].dealt is False
    page = _upload(client, token, files)
    assert "Stored 9 file(s)" in page

    commitments = [c for _, c, _ in dealt]
    sealed = [s for *_, ss in dealt for s in ss]
    finished = []
    for own, _, _ in dealt:
        good, complaints = dkg.open_shares(C, own, commitments, sealed)
        assert complaints == ()
        finished.append(dkg.finish(C, own, good))

    # every trustee's key confirmation: without trustee 3's the finish is refused, naming it
    confirmations = [
        (f"confirmation-{own.trustee}.json", dkg.confirm_key(C, own, commitments).to_json())
        for own, _, _ in dealt
    ]
    page = _upload(client, token, confirmations[:2])
    assert "Stored 2 file(s)" in page
    page = client.get(f"/console/e/{SLUG}/ceremony").text
    assert "Key confirmed" in page and "key confirmations from trustee(s) 3" in page
    res = client.post(
        f"/console/e/{SLUG}/ceremony/finish", data={"csrf_token": token, "confirm": "yes"}
    )
    assert "key-confirmation" in res.text and service.status(store, SLUG).key_set is False
    # a confirmation signed by another trustee's key: refused naming the file and the check
    forged = signed(dkg.confirm_key(C, dealt[2][0], commitments), dealt[0][0].signing_seed)
    page = _upload(client, token, [("forged.json", forged.to_json())])
    assert "Nothing stored" in page and "forged.json" in page and "signature" in page
    _upload(client, token, confirmations[2:])

    # the finish needs its confirmation
    client.post(f"/console/e/{SLUG}/ceremony/finish", data={"csrf_token": token})
    assert service.status(store, SLUG).key_set is False
    res = client.post(
        f"/console/e/{SLUG}/ceremony/finish", data={"csrf_token": token, "confirm": "yes"}
    )
    assert "Election key stored" in res.text
    res = client.post(f"/console/e/{SLUG}/ceremony/drill-start", data={"csrf_token": token})
    assert "Key drill started" in res.text

    download = client.get(f"/console/e/{SLUG}/ceremony/files.zip")
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    names = {n.split("/")[-1] for n in archive.namelist()}
    assert {"ceremony.json", "election-key.json", "drill-challenge.json"} <= names
    challenge = challenge_from_json(archive.read(f"{SLUG}-ceremony/drill-challenge.json"))
    key = service.published(store, SLUG).election_key
    assert key is not None

    def drill_share(s: dkg.TrusteeSecrets) -> tuple[str, bytes]:
        assert s.share is not None
        share = threshold.partial_decrypt(
            SLUG, s.trustee, s.share, key.verification_key(s.trustee), challenge.ciphertext
        )
        return f"drill-{s.trustee}.json", signed(DrillShare(SLUG, share), s.signing_seed).to_json()

    _upload(client, token, [drill_share(finished[0])])
    res = client.post(f"/console/e/{SLUG}/ceremony/drill-finish", data={"csrf_token": token})
    assert "The drill has not passed" in res.text and "it has 1" in res.text
    _upload(client, token, [drill_share(finished[2])])
    res = client.post(f"/console/e/{SLUG}/ceremony/drill-finish", data={"csrf_token": token})
    assert "Key drill passed: trustees 1, 3" in res.text
    assert 'id="drill-state">passed' in res.text

    # a scrutineer reads the page but has no form, and a post is refused
    watcher, watcher_token = _signed_in(web_settings, "scrutineer")
    page = watcher.get(f"/console/e/{SLUG}/ceremony").text
    assert "Ann Hale" in page and "Check and store" not in page
    res = watcher.post(
        f"/console/e/{SLUG}/ceremony/drill-start",
        data={"csrf_token": watcher_token},
        follow_redirects=False,
    )
    assert res.status_code == 403
    # with a wrong CSRF token nothing is done
    before = len(service.published(store, SLUG).drill_shares)
    res = client.post(
        f"/console/e/{SLUG}/ceremony/add",
        data={"csrf_token": "forged"},
        files=[("files", drill_share(finished[1]))],
        follow_redirects=False,
    )
    assert res.status_code == 403
    assert len(service.published(store, SLUG).drill_shares) == before
