"""The console's tally page on SQLite and PostgreSQL: a verifiable election shuffled by two
mixers and decrypted by two of three trustees through zips downloaded from and uploaded to
the console, counted and declared there, equal to the tally service's own count; a forged
stage, a folder of another election, a zip with hostile names, an oversized upload and a
declaration without the confirmation are refused with nothing stored; a scrutineer reads
the page but cannot act; a sealed election's page says it has no tally."""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from test_app import SLUG as SEALED
from test_app import prepare, sign_in
from verifiable_web import SLUG, prepare_with_trustees

from tallyroom.crypto.tally_encoding import stage_bytes, stage_from_bytes
from tallyroom.demo.trustees import DemoTrustees
from tallyroom.services import polling, tally, tally_files
from tallyroom.services.elections import get_election
from tallyroom.store import ElectionState, Store
from tallyroom.store.schema import tally_parts
from tallyroom.verify.checks import verify_record
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings

CHOICES = [
    {"chair": ["Cat Cole", "Ann Ashe"], "treasurer": ["Eve Elm"]},
    {"chair": ["Ann Ashe"], "treasurer": ["Eve Elm"]},
    {"chair": ["Cat Cole"]},
]


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def _parts(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(tally_parts)).scalar_one())


def _zip(folder: Path, names: dict[str, str] | None = None) -> bytes:
    """``folder`` zipped as a desktop would (in a folder of its name); ``names`` renames."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for path in sorted(folder.iterdir()):
            z.write(path, (names or {}).get(path.name, f"{folder.name}/{path.name}"))
    return buffer.getvalue()


def _unzip(data: bytes, folder: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        z.extractall(folder)
    (inner,) = list(folder.iterdir())
    return inner


@pytest.fixture
def closed(
    store: Store, web_settings: WebSettings, tmp_path: Path, officer: str
) -> tuple[TestClient, DemoTrustees]:
    credentials, trustees = prepare_with_trustees(store, web_settings, tmp_path)
    client = TestClient(create_app(web_settings))
    for secret, choices in zip(credentials, CHOICES, strict=False):
        cast = client.post(
            f"/api/elections/{SLUG}/cast", json={"credential": secret, "choices": choices}
        )
        assert cast.status_code == 200, cast.text
    polling.close_voting(store, SLUG, actor="ro")
    sign_in(client)
    return client, trustees


def _add(client: TestClient, files: list[tuple[str, bytes]]) -> str:
    token = _token(client.get(f"/console/e/{SLUG}/tally").text)
    res = client.post(
        f"/console/e/{SLUG}/tally/add",
        data={"csrf_token": token},
        files=[("files", (name, body, "application/octet-stream")) for name, body in files],
    )
    assert res.status_code == 200, res.text[:500]
    return res.text


def test_the_tally_runs_from_the_console_and_equals_the_service(
    closed: tuple[TestClient, DemoTrustees], store: Store, web_settings: WebSettings, tmp_path: Path
) -> None:
    client, trustees = closed
    page = client.get(f"/console/e/{SLUG}/tally").text
    assert "Mixer 1 of 3" in page and 'id="tally-groups"' in page
    for position in (1, 2, 3):  # every trustee mixes (the definition names no mixers)
        got = client.get(f"/console/e/{SLUG}/tally/inputs.zip")
        assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
        inputs = _unzip(got.content, tmp_path / f"in-{position}")
        out = tmp_path / f"mix-{position}"
        tally_files.mix_inputs(inputs, position, out, workers=1)
        text = _add(client, [(f"mix-{position}.zip", _zip(out))])
        assert f"Mixer {position}&#39;s mix" in text or f"Mixer {position}'s mix" in text
    page = client.get(f"/console/e/{SLUG}/tally").text
    assert "Decryption: 2 more trustee(s) needed" in page
    inputs = _unzip(client.get(f"/console/e/{SLUG}/tally/inputs.zip").content, tmp_path / "dec")
    for trustee in (1, 3):
        out = tmp_path / f"decryption-{trustee}"
        tally_files.decrypt_inputs(
            inputs, trustees.files[trustee], trustees.passphrase, out, workers=1
        )
        if trustee == 1:  # as a zip
            _add(client, [("dec.zip", _zip(out))])
        else:  # as the folder's loose files
            _add(client, [(p.name, p.read_bytes()) for p in sorted(out.iterdir())])
    page = client.get(f"/console/e/{SLUG}/tally").text
    assert "count, then declare" in page
    expected = {
        c.contest: {r.name: r.votes for r in c.candidates}
        for c in tally.count_tally(store, SLUG, actor="ro", workers=1).contests
    }
    token = _token(page)
    counted = client.post(
        f"/console/e/{SLUG}/tally/count", data={"csrf_token": token, "declare": "no"}
    )
    assert "Counted (not declared)" in counted.text and "Cat Cole 2" in counted.text
    refused = client.post(
        f"/console/e/{SLUG}/tally/count", data={"csrf_token": token, "declare": "yes"}
    )
    assert "Nothing was declared" in refused.text
    assert get_election(store, SLUG).state is not ElectionState.DECLARED
    declared = client.post(
        f"/console/e/{SLUG}/tally/count",
        data={"csrf_token": token, "declare": "yes", "confirm": "yes"},
    )
    assert declared.status_code == 200 and declared.url.path == f"/e/{SLUG}/results"
    assert get_election(store, SLUG).state is ElectionState.DECLARED
    chair = expected["chair"]
    assert chair["Cat Cole"] == 2 and chair["Ann Ashe"] == 1

    # the record: not yet published (404), then published in the background and linked
    public = TestClient(client.app)
    assert public.get(f"/e/{SLUG}/record.tar").status_code == 404
    token = _token(client.get(f"/console/e/{SLUG}/tally").text)
    client.post(f"/console/e/{SLUG}/tally/publish", data={"csrf_token": token})
    first = _published(client)
    tar = public.get(f"/e/{SLUG}/record.tar")
    assert tar.status_code == 200 and hashlib.sha256(tar.content).hexdigest() == first
    assert first in public.get(f"/e/{SLUG}/results").text
    with tarfile.open(fileobj=io.BytesIO(tar.content)) as archive:
        if hasattr(tarfile, "data_filter"):  # Python 3.11.4 on
            archive.extractall(tmp_path / "downloaded", filter="data")
        else:
            archive.extractall(tmp_path / "downloaded")
    report = verify_record(tmp_path / "downloaded" / "record", workers=1)
    assert report.ok, report
    # published again: the same bytes (nothing in the tar depends on when it was packed)
    record_json = web_settings.data_dir / "records" / f"{SLUG}-record.json"
    record_json.unlink()
    client.post(f"/console/e/{SLUG}/tally/publish", data={"csrf_token": token})
    assert _published(client) == first


def _published(client: TestClient) -> str:
    """Wait for the publication job; the tar's SHA-256 the tally page shows."""
    for _ in range(600):
        page = client.get(f"/console/e/{SLUG}/tally").text
        found = re.search(
            r'id="record-published">Published:.*?<code class="wrap">(\w+)</code>', page, re.S
        )
        if found:
            return found.group(1)
        time.sleep(0.1)
    raise AssertionError("the record was not published within a minute")


def test_a_forged_stage_or_another_elections_folder_stores_nothing(
    closed: tuple[TestClient, DemoTrustees], store: Store, tmp_path: Path
) -> None:
    client, _ = closed
    inputs = _unzip(client.get(f"/console/e/{SLUG}/tally/inputs.zip").content, tmp_path / "in")
    out = tmp_path / "mix-1"
    tally_files.mix_inputs(inputs, 1, out, workers=1)
    # rows swapped after the proof, the manifest's digest made to match
    import json

    manifest = json.loads((out / tally_files.PARTS).read_text())
    entry = manifest["groups"][0]
    stage = stage_from_bytes((out / entry["file"]).read_bytes())
    swapped = (stage.outputs[1], stage.outputs[0], *stage.outputs[2:])
    forged = stage_bytes(type(stage)(stage.position, swapped, stage.proof))
    (out / entry["file"]).write_bytes(forged)
    entry["sha256"] = hashlib.sha256(forged).hexdigest()
    (out / tally_files.PARTS).write_text(json.dumps(manifest))
    assert "Nothing stored" in _add(client, [("mix.zip", _zip(out))])
    manifest["election"] = "another-election"
    (out / tally_files.PARTS).write_text(json.dumps(manifest))
    assert "Nothing stored" in _add(client, [("mix.zip", _zip(out))])
    assert _parts(store) == 0


def test_hostile_uploads_are_refused_and_write_nothing_outside(
    closed: tuple[TestClient, DemoTrustees],
    store: Store,
    web_settings: WebSettings,
    tmp_path: Path,
) -> None:
    client, _ = closed
    inputs = _unzip(client.get(f"/console/e/{SLUG}/tally/inputs.zip").content, tmp_path / "in")
    out = tmp_path / "mix-1"
    tally_files.mix_inputs(inputs, 1, out, workers=1)
    # names climbing out of the folder are reduced to their last part: nothing lands
    # outside, and the folder is still read (and checked) as the mixer's
    escape = {p.name: f"../../../{p.name}" for p in out.iterdir()}
    text = _add(client, [("evil.zip", _zip(out, escape))])
    assert "Mixer 1" in text
    assert not list(web_settings.data_dir.parent.glob("tally-parts.json"))
    honest = _parts(store)  # the stage of each group
    assert honest > 0
    # a name twice, a broken zip, a zip far larger unpacked than the limit: refused
    twice = _zip(out, {p.name: "same.rows" for p in out.iterdir()})
    assert "Nothing stored" in _add(client, [("twice.zip", twice)])
    assert "not a readable zip" in _add(client, [("broken.zip", b"PK\x03\x04" + b"\x00" * 64)])
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.rows", b"\x00" * (web_settings.upload_limit + 1))
    assert "too large" in _add(client, [("bomb.zip", bomb.getvalue())])
    assert _parts(store) == honest
    # the temporary folders are gone
    assert not list((web_settings.data_dir / "uploads").glob("tally-*"))


def test_a_scrutineer_reads_the_tally_but_cannot_act(
    closed: tuple[TestClient, DemoTrustees], store: Store, web_settings: WebSettings
) -> None:
    reader = TestClient(create_app(web_settings))
    sign_in(reader, "scrutineer")
    page = reader.get(f"/console/e/{SLUG}/tally").text
    assert 'id="tally-groups"' in page and "tally/add" not in page
    assert reader.get(f"/console/e/{SLUG}/tally/inputs.zip").status_code == 200
    token = _token(page)
    res = reader.post(
        f"/console/e/{SLUG}/tally/count",
        data={"csrf_token": token, "declare": "yes", "confirm": "yes"},
    )
    assert res.status_code == 403
    assert get_election(store, SLUG).state is ElectionState.CLOSED


def test_a_sealed_election_has_no_tally_and_keeps_its_count_form(
    store: Store, web_settings: WebSettings, tmp_path: Path, officer: str
) -> None:
    prepare(store, web_settings, tmp_path)
    polling.close_voting(store, SEALED, actor="ro")
    client = TestClient(create_app(web_settings))
    sign_in(client)
    page = client.get(f"/console/e/{SEALED}/tally").text
    assert "takes the sealed path" in page and "tally/add" not in page
    page = client.get(f"/console/e/{SEALED}").text
    assert f"/console/e/{SEALED}/tally" not in page and "count-passphrase" in page
