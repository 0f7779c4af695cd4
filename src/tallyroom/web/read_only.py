"""A read-only server for a replica of the database (``serve --read-only``): the public pages.

A PostgreSQL streaming replica (a hot standby) refuses every write, so a server on one can
carry the reads: the elections, an election's page, the receipts and their look-up, the
board, the results, and the JSON API's ``GET``\\ s. With ``WebSettings.read_only`` the app
is the same app, with three differences:

* the store is opened read-only and is **not migrated**; instead :func:`open_served_store`
  checks that its schema is at this code's migration head and refuses to start, in one
  line, when it is not (a replica that has not yet replayed a migration, or a tallyroom
  older or newer than the primary's);
* nothing runs in the background (the timetable's schedule, the boards' extension): those
  write, and the primary's server does them;
* :class:`ReadOnlyGuard` answers every request that could write before it reaches a
  handler: any method but ``GET`` and ``HEAD`` gets a 503 saying that this server only
  serves the public pages and where to vote (``primary_url``, when set); a ``GET`` of the
  booth (``/e/SLUG/vote``) or the console (``/console...``), which lead to writes (a
  credential's attempt budget, a sign-in's session), is sent to the same path on
  ``primary_url`` (307), or gets that 503 when there is none.

A write path the guard does not know of still writes nothing: the store's connections are
read-only (:mod:`tallyroom.store.engine`), and the app answers such a refusal with the
same 503 (:func:`refusal`).

Without ``read_only``, :func:`open_served_store` refuses a hot standby, saying to serve it
with ``--read-only`` (its migration would otherwise be a traceback, and its casts 500s).
"""

from __future__ import annotations

import re

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from starlette.types import ASGIApp, Receive, Scope, Send

from tallyroom.errors import ConfigError
from tallyroom.store.engine import Store, open_store
from tallyroom.web.settings import WebSettings

__all__ = ["READ_ONLY_ERROR", "ReadOnlyGuard", "open_served_store", "refusal", "refused"]

READ_ONLY_ERROR = "ReadOnlyServer"
_READS = frozenset({"GET", "HEAD"})
# Pages whose next step writes: the booth (its credential form takes an attempt budget and
# casts) and the console (a sign-in writes a session; every action writes).
_ELSEWHERE = re.compile(r"/console(/.*)?|/e/[^/]+/vote(/.*)?")


def _shown(settings: WebSettings) -> str:
    try:
        return make_url(settings.database).render_as_string(hide_password=True)
    except ArgumentError:  # not a URL (a plain SQLite path): nothing to hide
        return settings.database


def open_served_store(settings: WebSettings, *, upgrade: bool) -> Store:
    """The store a server runs on: read-only and at the code's schema (``read_only``), else
    writable, not a hot standby, and migrated to head if ``upgrade``."""
    if settings.read_only:
        store = open_store(settings.database, read_only=True)
        try:
            at, head = store.schema_revisions()
            if at != head:
                raise ConfigError(
                    f"the database's schema is at revision {at or '(none)'} and this tallyroom "
                    f"needs {head}; a read-only server does not migrate: migrate the primary "
                    "(any tallyroom command there does), wait for the replica to replay it, "
                    "or run the tallyroom that matches the primary",
                    field="database",
                    value=_shown(settings),
                )
        except BaseException:
            store.close()
            raise
        return store
    store = open_store(settings.database)
    try:
        if store.is_standby():
            raise ConfigError(
                "this database is a read-only replica (a PostgreSQL hot standby): serve it "
                "with 'tallyroom serve --read-only', or give --db the primary's address",
                field="database",
                value=_shown(settings),
            )
        if upgrade:
            store.upgrade()
    except BaseException:
        store.close()
        raise
    return store


def refusal(settings: WebSettings) -> str:
    """What a read-only server says to a request that would write."""
    where = (
        f"vote and sign in at {settings.primary_url}"
        if settings.primary_url
        else "vote and sign in at the election's main address"
    )
    return (
        "this server only serves the public pages (results, receipts, the board) from a "
        f"read-only copy of the database; nothing was changed: {where}"
    )


def refused(request: Request, settings: WebSettings) -> Response:
    """The 503 for a write: JSON under ``/api/``, else the error page."""
    from tallyroom.web.pages import render

    message = refusal(settings)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": READ_ONLY_ERROR, "message": message}, status_code=503)
    return render(request, "error.html", status_code=503, message=message, status=503)


class ReadOnlyGuard:
    """Lets reads of the public pages through; refuses or redirects the rest (see above)."""

    def __init__(self, app: ASGIApp, *, settings: WebSettings) -> None:
        self.app = app
        self._settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        reading = scope["method"] in _READS
        elsewhere = _ELSEWHERE.fullmatch(scope["path"]) is not None
        if reading and not elsewhere:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        response: Response
        if reading and self._settings.primary_url:
            target = self._settings.primary_url.rstrip("/") + scope["path"]
            if scope.get("query_string"):
                target += "?" + scope["query_string"].decode("latin-1")
            response = RedirectResponse(target, status_code=307)
        else:
            response = refused(request, self._settings)
        await response(scope, receive, send)
