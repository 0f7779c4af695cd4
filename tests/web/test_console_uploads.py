"""An uploaded file is named as the user uploaded it in every error, never by the private
temporary file the console saved it to (whose path says where the server keeps its files)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from test_app import SLUG, prepare, sign_in

from tallyroom.store import Store
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings


def test_a_wrong_passphrase_names_the_uploaded_key_not_a_temporary_file(
    store: Store, web_settings: WebSettings, officer: str, tmp_path: Path
) -> None:
    prepare(store, web_settings, tmp_path)
    client = TestClient(create_app(web_settings))
    token = sign_in(client)
    assert client.post(f"/api/elections/{SLUG}/close", headers={"X-CSRF-Token": token}).is_success
    key = web_settings.private_key_file(SLUG).read_bytes()
    done = client.post(
        f"/console/e/{SLUG}/count",
        data={"passphrase": "not the passphrase", "csrf_token": token},
        files={"key_file": ("officer.key", key, "application/json")},
    )
    assert done.status_code == 200, done.text  # redirected back to the console
    assert "the uploaded file officer.key: wrong passphrase for the election key" in done.text
    assert str(web_settings.data_dir) not in done.text and "tmp" not in done.text
