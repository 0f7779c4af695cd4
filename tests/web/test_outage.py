"""PostgreSQL goes down under the app: every request gets the documented JSON error (503
``DatabaseUnavailable``), pages a readable page, and the log holds no ballot or credential."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from test_app import SLUG, prepare

from tallyroom.errors import PostgresMissing
from tallyroom.store import open_store
from tallyroom.store.pgcluster import ThrowawayCluster
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings


def test_a_database_outage_is_a_clean_503(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    try:
        cluster = ThrowawayCluster().start()
    except PostgresMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        url = cluster.create_database("outage")
        store = open_store(url, upgrade=True)
        settings = WebSettings(
            database=url, data_dir=tmp_path / "data", session_secret="test secret long enough"
        )
        credentials = prepare(store, settings, tmp_path)
        client = TestClient(create_app(settings), raise_server_exceptions=False)
        assert client.get(f"/api/elections/{SLUG}").status_code == 200
        cluster.stop()
        caplog.set_level(logging.DEBUG)
        choices = {"chair": ["Cat Cole", "Ann Ashe"]}
        cast = client.post(
            f"/api/elections/{SLUG}/cast",
            json={"credential": credentials[0], "choices": choices},
        )
        assert cast.status_code == 503, cast.text
        assert cast.json()["error"] == "DatabaseUnavailable"
        assert cast.headers["retry-after"] == "30"
        listed = client.get("/api/elections")
        assert listed.status_code == 503 and listed.json()["error"] == "DatabaseUnavailable"
        page = client.get(f"/e/{SLUG}")
        assert page.status_code == 503 and "database is not answering" in page.text
        assert "Traceback" not in page.text and "SQL" not in page.text
        logged = caplog.text  # the handler's line: the error's type and the path, no values
        assert "OperationalError on POST /api/elections/" in logged
        assert credentials[0] not in logged and "Cat Cole" not in logged
        store.close()
    finally:
        cluster.stop()


def test_sql_parameters_never_reach_an_error_or_a_log(tmp_path: Path) -> None:
    """A failing statement's message (what a traceback or a log line would carry) names the
    SQL but never the values bound to it: the engine hides them."""
    store = open_store(tmp_path / "t.db", upgrade=True)
    secret = "sealed-ballot-bytes-and-a-credential-hash"
    with pytest.raises(Exception) as failed, store.begin() as conn:
        conn.execute(text("INSERT INTO no_such_table VALUES (:v)"), {"v": secret})
    assert "no_such_table" in str(failed.value)
    assert secret not in str(failed.value) and "hidden" in str(failed.value)
    store.close()
