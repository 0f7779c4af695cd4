"""Secrets in one place: the credential key found through the data folder whatever created
the election (the CLI or the console) and wherever ``--key-file`` put it; a missing key is an
error at ``serve --check``, a red banner on the console and a 503 in the booth, never "the
ballot is closed"; the session secret kept in the data folder."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from test_app import SLUG, sign_in

from conftest import DEFINITION, PASSPHRASE, REGISTER
from tallyroom.cli.main import main
from tallyroom.errors import InputError
from tallyroom.services import elections, nominations, register
from tallyroom.services.key_files import (
    SESSION_SECRET_ENV,
    KeyFolder,
    remember_credential_key,
)
from tallyroom.services.polling import open_voting
from tallyroom.store import Store
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings


def _cli_election(store: Store, url: str, tmp_path: Path, *key_args: str) -> list[str]:
    """An election made and issued by the CLI (the reviewer's path); its credentials."""
    definition = tmp_path / f"{SLUG}.toml"
    definition.write_text(DEFINITION, encoding="utf-8")
    runner = CliRunner()
    db = ["--db", url]
    done = runner.invoke(
        main,
        ["election", "create", str(definition), "--private-key", str(tmp_path / "seal.key"), *db],
        input=f"{PASSPHRASE}\n{PASSPHRASE}\n",
    )
    assert done.exit_code == 0, done.output
    members = tmp_path / "register.csv"
    members.write_text(REGISTER, encoding="utf-8")
    register.import_register(store, SLUG, members, actor="ro")
    register.freeze_register(store, SLUG, actor="ro")
    nominations.close_nominations(store, SLUG, actor="ro")
    export = tmp_path / "out.csv"
    done = runner.invoke(
        main,
        ["credentials", "issue", "--election", SLUG, *key_args, "--export", str(export), *db],
    )
    assert done.exit_code == 0, done.output
    open_voting(store, SLUG, actor="ro")
    with export.open(encoding="utf-8") as f:
        return [row["credential"] for row in csv.DictReader(f)]


def _check(url: str, data: Path) -> tuple[int, str]:
    done = CliRunner().invoke(main, ["serve", "--check", "--db", url, "--data-dir", str(data)])
    return done.exit_code, done.output


def _booth(settings: WebSettings, credential: str) -> tuple[int, str]:
    client = TestClient(create_app(settings))
    page = client.get(f"/e/{SLUG}/vote")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    res = client.post(
        f"/e/{SLUG}/vote", data={"credential": credential, "csrf_token": token.group(1)}
    )
    return res.status_code, res.text


def _url(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def test_a_cli_issued_key_is_found_by_serve_in_the_data_folder(
    store: Store, web_settings: WebSettings, officer: str, tmp_path: Path
) -> None:
    data = web_settings.data_dir
    secrets = _cli_election(store, _url(store), tmp_path, "--data-dir", str(data))
    assert (data / f"{SLUG}.credential-key").is_file()
    assert _check(_url(store), data) == (0, "0 election(s) missing a credential key\n")
    status, text = _booth(web_settings, secrets[0])
    assert status == 200 and "Chair" in text

    # the key moved away: serve names the election and the path, the booth says 503
    moved = tmp_path / "elsewhere.key"
    shutil.move(data / f"{SLUG}.credential-key", moved)
    code, output = _check(_url(store), data)
    assert code == 1
    assert f"election {SLUG} is open but its credential key is missing" in output
    assert str(data / f"{SLUG}.credential-key") in output
    status, text = _booth(web_settings, secrets[0])
    assert status == 503
    assert "cannot take votes now: the returning officer has been told" in text
    assert "closed" not in text.lower()
    client = TestClient(create_app(web_settings))
    sign_in(client)
    page = client.get(f"/console/e/{SLUG}").text
    assert "Voters cannot vote" in page and str(data / f"{SLUG}.credential-key") in page


def test_a_key_file_elsewhere_is_recorded_where_serve_looks(
    store: Store,
    web_settings: WebSettings,
    officer: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reviewer's trap: ``credentials issue --key-file cred26.key`` (no data folder
    given) then ``serve --data-dir data``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TALLYROOM_DATA_DIR", raising=False)
    data = web_settings.data_dir
    secrets = _cli_election(store, _url(store), tmp_path, "--key-file", "cred26.key")
    key = tmp_path / "cred26.key"
    assert key.is_file() and not (data / f"{SLUG}.credential-key").exists()  # never copied
    assert elections.get_election(store, SLUG).credential_key_path == str(key)
    assert _check(_url(store), data)[0] == 0
    status, _ = _booth(web_settings, secrets[0])
    assert status == 200
    # moved away: serve names both places it looked
    key.rename(tmp_path / "moved.key")
    code, output = _check(_url(store), data)
    assert code == 1 and f"(or at {key}, where it was issued)" in output
    (tmp_path / "moved.key").rename(key)
    # a second, different key for the same election is refused, not silently switched
    other = tmp_path / "other.key"
    other.write_text("00" * 32 + "\n")
    with pytest.raises(InputError, match="already has its credential key in"):
        remember_credential_key(store, SLUG, other)


def test_a_console_issued_key_lands_in_the_data_folder(
    store: Store, web_settings: WebSettings, officer: str, tmp_path: Path
) -> None:
    definition = tmp_path / "riverside.toml"
    definition.write_text(DEFINITION, encoding="utf-8")
    web_settings.data_dir.mkdir(parents=True, exist_ok=True)
    elections.create_election(
        store,
        definition,
        actor="ro",
        private_key_path=web_settings.private_key_file(SLUG),
        passphrase=PASSPHRASE,
        slug=SLUG,
    )
    members = tmp_path / "register.csv"
    members.write_text(REGISTER, encoding="utf-8")
    register.import_register(store, SLUG, members, actor="ro")
    register.freeze_register(store, SLUG, actor="ro")
    nominations.close_nominations(store, SLUG, actor="ro")
    client = TestClient(create_app(web_settings))
    sign_in(client)
    page = client.get(f"/console/e/{SLUG}").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    res = client.post(f"/console/e/{SLUG}/credentials/issue", data={"csrf_token": token.group(1)})
    assert "credentials issued" in res.text
    assert (web_settings.data_dir / f"{SLUG}.credential-key").is_file()
    assert _check(_url(store), web_settings.data_dir)[0] == 0
    # the CLI finds the console's key through the same folder: a revoke needs no --key-file
    done = CliRunner().invoke(
        main,
        [
            "credentials",
            "revoke",
            "AAAA-BBBB-CCCC",
            "--election",
            SLUG,
            "--reason",
            "test",
            "--db",
            _url(store),
            "--data-dir",
            str(web_settings.data_dir),
        ],
    )
    assert "no such credential key file" not in done.output


def test_the_session_secret_lives_in_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SESSION_SECRET_ENV, raising=False)
    folder = KeyFolder(tmp_path / "data")
    first = folder.session_secret()
    path = tmp_path / "data" / "session-secret"
    assert path.stat().st_mode & 0o777 == 0o600
    assert folder.session_secret() == first and len(first) >= 32  # a restart keeps sign-ins
    monkeypatch.setenv(SESSION_SECRET_ENV, "from the environment, long enough")
    assert folder.session_secret() == "from the environment, long enough"
    monkeypatch.delenv(SESSION_SECRET_ENV)
    path.chmod(0o644)
    with pytest.raises(InputError, match="readable by others"):
        folder.session_secret()
