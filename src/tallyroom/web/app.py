"""The app factory: :func:`create_app` builds the FastAPI app from :class:`WebSettings`.

It opens the store (migrating it unless told not to; read-only, unmigrated and guarded
with ``settings.read_only``: :mod:`tallyroom.web.read_only`), sets up Jinja2 (autoescaping every
template, so a candidate called ``<script>`` is shown as text), the signed session cookie,
the security headers, the static files (plotly's own bundled ``plotly.min.js`` is served
from the installed package: nothing comes from another site), and one error handler for the
whole error tree: pages get an error page, ``/api`` gets ``{"error", "message"}``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tallyroom import __version__
from tallyroom.errors import (
    AlreadyCast,
    CredentialKeyMismatch,
    CredentialRejected,
    ElectionKeyMissing,
    Forbidden,
    InputError,
    KeyMissing,
    LifecycleError,
    NotFound,
    NotSignedIn,
    SignInRefused,
    TallyroomError,
)
from tallyroom.services.casting_queue import CastingQueue
from tallyroom.store.engine import is_read_only_refusal, is_unavailable
from tallyroom.web import (
    api,
    board_pages,
    booth,
    console,
    console_ceremony,
    console_delivery,
    console_setup,
    console_tally,
    i18n,
    public,
    read_only,
    register_mapping,
    rule_pages,
)
from tallyroom.web.attempts import AttemptGates
from tallyroom.web.fast_cast import FastCast
from tallyroom.web.guards import WebContext
from tallyroom.web.pages import environment, render
from tallyroom.web.poll_cache import PollCache
from tallyroom.web.schedule import ScheduleThread
from tallyroom.web.security import CsrfRejected, SecurityHeaders, TooManyAttempts
from tallyroom.web.settings import WebSettings

__all__ = ["create_app", "status_of"]

HERE = Path(__file__).parent
log = logging.getLogger("tallyroom.web")

# Most specific first: the first match decides the status.
_STATUS: tuple[tuple[type[TallyroomError], int], ...] = (
    (NotSignedIn, 401),
    (SignInRefused, 401),
    (Forbidden, 403),
    (CsrfRejected, 403),
    (KeyMissing, 503),
    (ElectionKeyMissing, 503),
    (CredentialRejected, 403),
    (CredentialKeyMismatch, 409),
    (NotFound, 404),
    (AlreadyCast, 409),
    (LifecycleError, 409),
    (TooManyAttempts, 429),
    (InputError, 422),
)


def status_of(exc: TallyroomError) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 400


async def _error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TallyroomError)
    status = status_of(exc)
    headers = {}
    if isinstance(exc, TooManyAttempts):
        headers["Retry-After"] = str(exc.retry_after)
    if request.url.path.startswith("/api/"):
        body = {"error": type(exc).__name__, "message": str(exc)}
        return JSONResponse(body, status_code=status, headers=headers)
    if isinstance(exc, NotSignedIn):
        return RedirectResponse(f"/console/sign-in?next={request.url.path}", status_code=303)
    response = render(request, "error.html", status_code=status, message=str(exc), status=status)
    response.headers.update(headers)
    return response


async def _unexpected(request: Request, exc: Exception) -> Response:
    """Anything else: the documented JSON error (503 when the database is not answering or
    refuses a write as read-only, 500 otherwise), never a traceback or a value to the
    client; the log names the error's type and the path only (SQL parameters are hidden by
    the engine, so no ballot, credential or register value reaches a log)."""
    settings: WebSettings = request.app.state.web.settings
    if is_read_only_refusal(exc):
        # a write path the read-only guard let through, or a primary that became a replica
        log.error("read-only database refused a write on %s %s", request.method, request.url.path)
        if settings.read_only:
            return read_only.refused(request, settings)
        status, name = 503, read_only.READ_ONLY_ERROR
        message = "the database is read-only just now; nothing was changed: try again later"
        headers = {"Retry-After": "30"}
    elif is_unavailable(exc):
        status, name = 503, "DatabaseUnavailable"
        message = "the database is not answering; nothing was changed: try again in a minute"
        headers = {"Retry-After": "30"}
    else:
        status, name = 500, "ServerError"
        message = "something went wrong on the server; it has been logged"
        headers = {}
    log.error("%s on %s %s", type(exc).__name__, request.method, request.url.path)
    if request.url.path.startswith("/api/"):
        body = {"error": name, "message": message}
        return JSONResponse(body, status_code=status, headers=headers)
    response = render(request, "error.html", status_code=status, message=message, status=status)
    response.headers.update(headers)
    return response


def create_app(settings: WebSettings, *, upgrade: bool = True) -> FastAPI:
    """The web app on ``settings.database`` (migrated to the latest schema if ``upgrade``;
    with ``settings.read_only``, never migrated and refused below the head)."""
    store = read_only.open_served_store(settings, upgrade=upgrade)
    casting = CastingQueue(store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        schedule = None
        background = settings.schedule_interval > 0 or settings.board_every > 0
        if background and not settings.read_only:
            schedule = ScheduleThread(store, settings.schedule_interval, settings.board_every)
            schedule.start()
        yield
        if schedule is not None:
            schedule.stop()
        casting.close()
        store.close()

    app = FastAPI(
        lifespan=lifespan,
        title="tallyroom",
        version=__version__,
        description="Membership ballots: the booth, the officers' console and the results. "
        "Every page works without JavaScript; every action is also in this JSON API.",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.web = WebContext(
        settings=settings,
        store=store,
        templates=environment(),
        attempts=AttemptGates(store, settings),
        casting=casting,
        polls=PollCache(store),
    )
    # innermost first: the cast's fast path inside the headers and the session
    app.add_middleware(FastCast, web=lambda: app.state.web, error=_error)
    if settings.read_only:  # before the cast's fast path, and before any route
        app.add_middleware(read_only.ReadOnlyGuard, settings=settings)
    app.add_middleware(SecurityHeaders, https_only=settings.https_only)
    app.add_middleware(i18n.LanguageMiddleware)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret,
        session_cookie="tallyroom_session",
        max_age=settings.session_max_age,
        same_site="lax",
        https_only=settings.https_only,
    )
    if settings.trusted_proxies:
        # Outermost, so that every other layer sees the client the proxy reports.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    app.add_exception_handler(TallyroomError, _error)
    app.add_exception_handler(Exception, _unexpected)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/static-vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        import plotly

        bundled = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        return FileResponse(
            bundled,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    # The API first: a request is matched against the routes in order, and the booth's
    # cast (POST /api/elections/{slug}/cast) is the busiest; no API path overlaps a page's.
    app.include_router(board_pages.api_router)
    for module in (
        api,
        public,
        board_pages,
        booth,
        console,
        console_setup,
        register_mapping,
        console_delivery,
        console_ceremony,
        console_tally,
        i18n,
        rule_pages,
    ):
        app.include_router(module.router)

    return app
