"""Running the app: :func:`serve` starts uvicorn with one or several worker processes.

With one worker the app is built here and handed to uvicorn. With several, uvicorn starts
each worker from an import string, so the settings travel to them as JSON in the
``TALLYROOM_WEB_SETTINGS`` environment variable and :func:`app_from_environment` builds the
app in each worker. The store is migrated once, here, before any worker starts. Several
workers want PostgreSQL: SQLite serialises writers, which is correct but slower.
"""

from __future__ import annotations

import logging
import os

from fastapi import FastAPI

from tallyroom.errors import ConfigError
from tallyroom.services.key_files import MissingKey, missing_keys
from tallyroom.store.engine import open_store
from tallyroom.web.settings import WebSettings

__all__ = ["ENV_SETTINGS", "app_from_environment", "check_keys", "serve"]

log = logging.getLogger("tallyroom.web")

ENV_SETTINGS = "TALLYROOM_WEB_SETTINGS"


def app_from_environment() -> FastAPI:
    """The app for a uvicorn worker, from :data:`ENV_SETTINGS` (set by :func:`serve`)."""
    from tallyroom.web.app import create_app

    text = os.environ.get(ENV_SETTINGS)
    if not text:
        raise ConfigError("the web settings are missing from the environment", field=ENV_SETTINGS)
    return create_app(WebSettings.from_json(text), upgrade=False)


def check_keys(settings: WebSettings) -> list[MissingKey]:
    """The elections that need their credential key now and cannot find it, each logged as
    an error naming the election and the path expected (the server still starts: other
    elections may be running, and the officer can put the key back without a restart)."""
    store = open_store(settings.database, upgrade=True)
    try:
        found = missing_keys(store, settings.keys, settings.credential_key_files)
    finally:
        store.close()
    for missing in found:
        log.error("%s", missing.render())
    return found


def serve(
    settings: WebSettings, host: str = "127.0.0.1", port: int = 8000, workers: int = 1
) -> None:
    """Serve the app on ``host:port`` until interrupted."""
    import uvicorn

    from tallyroom.web.app import create_app

    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    check_keys(settings)
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, proxy_headers=False)
        return
    open_store(settings.database, upgrade=True).close()
    os.environ[ENV_SETTINGS] = settings.to_json()
    uvicorn.run(
        "tallyroom.web.server:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,  # the app believes only its trusted_proxies (see create_app)
    )
