"""Security basics: response headers and CSRF tokens for every form.

* Headers: a strict Content-Security-Policy (scripts and styles from this site only; plotly
  sets inline styles on the SVG it draws, hence ``style-src 'unsafe-inline'``), no framing,
  no MIME sniffing, no referrer, and ``Cache-Control: no-store`` on every page that is not
  a static asset (a booth page holds a credential).
* CSRF: each session holds a random token; every form carries it in ``csrf_token`` and every
  cookie-authenticated API call in the ``X-CSRF-Token`` header. The session cookie is
  ``SameSite=Lax`` as a second line.

Attempt limits are :mod:`tallyroom.web.attempts`' (budgets kept in the store, shared by every
worker).
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tallyroom.errors import CsrfRejected, TooManyAttempts

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "CsrfRejected",
    "SecurityHeaders",
    "TooManyAttempts",
    "check_csrf",
    "csrf_token",
]

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_SESSION_KEY = "csrf"

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


HSTS = "max-age=31536000; includeSubDomains"

_Raw = list[tuple[bytes, bytes]]


def _raw(headers: dict[str, str]) -> _Raw:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


class SecurityHeaders:
    """Adds :data:`HEADERS` to every response, and ``no-store`` to all but static files.

    A plain ASGI middleware: it adds the (pre-encoded) headers a response does not already
    set as the response starts, with no request or response object built and no task per
    request (Starlette's ``BaseHTTPMiddleware`` costs tens of microseconds a request).
    """

    def __init__(self, app: ASGIApp, *, https_only: bool) -> None:
        self.app = app
        common = dict(HEADERS)
        if https_only:
            common["Strict-Transport-Security"] = HSTS
        self.https_only = https_only
        self._static = _raw(common)
        self._pages = _raw({**common, "Cache-Control": "no-store"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self._static if scope["path"].startswith("/static/") else self._pages

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: _Raw = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in extra if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get(_SESSION_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[_SESSION_KEY] = token
    return token


def check_csrf(request: Request, given: str | None) -> None:
    """:class:`CsrfRejected` unless ``given`` is this session's token."""
    expected = request.session.get(_SESSION_KEY)
    if not isinstance(expected, str) or not given or not hmac.compare_digest(expected, given):
        raise CsrfRejected(
            "this form has expired or did not come from this site; go back, reload it and "
            "try again (cookies must be enabled)"
        )
