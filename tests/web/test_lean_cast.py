"""The lean cast path (issue 16) on SQLite and PostgreSQL: the security headers on every
kind of response from the plain ASGI middleware; the JSON cast's attempt budget, now taken
by the casting queue for whole batches; and what the cast path holds in memory (the
election's id, the credential key) giving way to a poll closed elsewhere and a key file
replaced or opened up on disk."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_app import SLUG, prepare

from tallyroom.errors import InputError, LifecycleError
from tallyroom.services.credentials import load_or_create_key
from tallyroom.services.polling import close_voting
from tallyroom.store import Store
from tallyroom.web.app import create_app
from tallyroom.web.poll_cache import KEY_RECHECK_SECONDS, PollCache
from tallyroom.web.security import HEADERS, HSTS
from tallyroom.web.settings import WebSettings

WRONG = "A" * 22
CHOICES = {"chair": ["Ann Ashe"]}


def _has_security_headers(headers: object) -> None:
    for name, value in HEADERS.items():
        assert headers[name] == value, name  # type: ignore[index]


def test_every_kind_of_response_carries_the_security_headers(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    secrets = prepare(store, web_settings, tmp_path)
    client = TestClient(create_app(replace(web_settings, https_only=True)))
    answers = {
        "page": client.get(f"/e/{SLUG}/vote"),
        "api": client.get("/api/elections"),
        "cast": client.post(
            f"/api/elections/{SLUG}/cast", json={"credential": secrets[0], "choices": CHOICES}
        ),
        "api error": client.post(
            f"/api/elections/{SLUG}/cast", json={"credential": WRONG, "choices": CHOICES}
        ),
        "not found page": client.get("/e/no-such-election"),
        "static": client.get("/static/tallyroom.css"),
    }
    assert [a.status_code for a in answers.values()] == [200, 200, 200, 403, 404, 200]
    for kind, answer in answers.items():
        _has_security_headers(answer.headers)
        assert answer.headers["strict-transport-security"] == HSTS, kind
        no_store = answer.headers.get("cache-control") == "no-store"
        assert no_store == (kind != "static"), kind
    # a header the handler set itself is kept, not overwritten
    plotly = client.get("/static-vendor/plotly.min.js")
    assert plotly.headers["cache-control"] == "public, max-age=86400"
    _has_security_headers(plotly.headers)
    plain = TestClient(create_app(web_settings)).get("/api/elections")
    assert "strict-transport-security" not in plain.headers


def test_wrong_credentials_on_the_cast_api_meet_the_budget(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    """One browser (its cookie kept) guessing through the cast: the limit's worth are
    checked (403), then 429; another browser at the same address still casts; a script
    that drops its cookie meets the address's budget."""
    secrets = prepare(store, web_settings, tmp_path)
    tight = replace(web_settings, credential_attempts_per_address=15)
    app = create_app(tight)
    guesser = TestClient(app)
    assert guesser.get(f"/e/{SLUG}/vote").status_code == 200  # its cookie, as a browser
    cast = f"/api/elections/{SLUG}/cast"
    for _ in range(tight.credential_attempts):
        res = guesser.post(cast, json={"credential": WRONG, "choices": CHOICES})
        assert res.status_code == 403, res.text
    res = guesser.post(cast, json={"credential": secrets[0], "choices": CHOICES})
    assert res.status_code == 429 and "this device" in res.json()["message"]
    assert int(res.headers["Retry-After"]) > 0
    neighbour = TestClient(app)
    res = neighbour.post(cast, json={"credential": secrets[1], "choices": CHOICES})
    assert res.status_code == 200, res.text
    statuses = []
    for _ in range(10):  # no cookie kept: a new browser each time, one address
        script = TestClient(app)
        res = script.post(cast, json={"credential": WRONG, "choices": CHOICES})
        statuses.append(res.status_code)
    # 10 wrong from the first browser + 5 now fill the address's 15; the rest are refused
    assert statuses == [403] * 5 + [429] * 5, statuses
    # a voter's own mistakes on the ballot are not guesses
    voter = TestClient(create_app(web_settings))
    for _ in range(3 * web_settings.credential_attempts):
        res = voter.post(cast, json={"credential": secrets[2], "choices": {"chair": ["Nobody"]}})
        assert res.status_code == 422


def test_a_poll_closed_elsewhere_refuses_the_next_cast(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    """The election's id is held in memory; its state is not: a close committed by another
    process refuses the very next cast, and nothing is stored."""
    secrets = prepare(store, web_settings, tmp_path)
    client = TestClient(create_app(web_settings))
    cast = f"/api/elections/{SLUG}/cast"
    assert client.post(cast, json={"credential": secrets[0], "choices": CHOICES}).is_success
    close_voting(store, SLUG, actor="ro")
    res = client.post(cast, json={"credential": secrets[1], "choices": CHOICES})
    assert res.status_code == 409 and res.json()["error"] == "LifecycleError"
    assert client.get(f"/api/elections/{SLUG}/receipts").json()["total"] == 1


def test_the_credential_key_is_read_again_when_its_file_changes(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    prepare(store, web_settings, tmp_path)
    cache = PollCache(store)
    path = web_settings.credential_key_file(SLUG)
    first = cache.credential_key(path, SLUG)
    assert first.secret == load_or_create_key(path, create=False).secret
    replacement = tmp_path / "replacement.key"
    other = load_or_create_key(replacement)  # a new key, written 0600
    os.replace(replacement, path)
    assert cache.credential_key(path, SLUG) is first  # held for up to a second
    time.sleep(KEY_RECHECK_SECONDS + 0.1)
    assert cache.credential_key(path, SLUG).secret == other.secret
    path.chmod(0o644)  # readable by others: refused, as when read from disk each time
    time.sleep(KEY_RECHECK_SECONDS + 0.1)
    with pytest.raises(InputError, match="readable by others"):
        cache.credential_key(path, SLUG)
    path.unlink()
    time.sleep(KEY_RECHECK_SECONDS + 0.1)
    with pytest.raises(LifecycleError, match="voting has not started"):
        cache.credential_key(path, SLUG)


def test_the_fast_cast_answers_as_the_api_does(
    store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    """The cast route served by web/fast_cast.py: receipts and errors in the API's own
    shape; a malformed body, or one that is not JSON, goes to FastAPI and gets its 422."""
    secrets = prepare(store, web_settings, tmp_path)
    client = TestClient(create_app(web_settings))
    cast = f"/api/elections/{SLUG}/cast"
    ok = client.post(
        cast,
        content=f'{{"credential": "{secrets[0]}", "choices": {{"chair": ["Cat Cole"]}}}}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert ok.status_code == 200 and ok.headers["content-type"] == "application/json"
    (receipt,) = ok.json()
    assert receipt["contest"] == "chair" and len(receipt["code"]) > 10
    found = client.get(f"/api/elections/{SLUG}/receipts/{receipt['code']}").json()
    assert found == {"code": receipt["code"], "found": True, "contest": "chair"}
    again = client.post(cast, json={"credential": secrets[0], "choices": CHOICES})
    assert again.status_code == 409 and again.json()["error"] == "AlreadyCast"
    missing = client.post(
        "/api/elections/nowhere/cast", json={"credential": secrets[1], "choices": CHOICES}
    )
    assert missing.status_code == 404 and missing.json()["error"] == "NotFound"
    bad_ballot = client.post(cast, json={"credential": secrets[1], "choices": {"chair": []}})
    assert bad_ballot.status_code == 422 and bad_ballot.json()["error"] == "InputError"
    malformed = client.post(cast, json={"credential": secrets[1]})  # no choices
    assert malformed.status_code == 422 and "detail" in malformed.json()
    not_json = client.post(cast, content=b"credential=x", headers={"Content-Type": "text/plain"})
    assert not_json.status_code == 422 and "detail" in not_json.json()
    broken = client.post(cast, content=b"{", headers={"Content-Type": "application/json"})
    assert broken.status_code == 422 and "detail" in broken.json()
    for answer in (ok, again, missing, bad_ballot, malformed, not_json, broken):
        _has_security_headers(answer.headers)
        assert answer.headers["cache-control"] == "no-store"
