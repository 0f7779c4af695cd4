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
from collections.abc import Awaitable, Callable

from fastapi import Request
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import Response

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


class SecurityHeaders(BaseHTTPMiddleware):
    """Adds :data:`HEADERS` to every response, and ``no-store`` to all but static files."""

    def __init__(self, app: object, *, https_only: bool) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.https_only = https_only

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if self.https_only:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


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
