"""The booth's and the public pages' languages: gettext catalogues, and the voter's choice.

The catalogues are Babel's (``web/locale/<lang>/LC_MESSAGES/messages.po``, compiled to
``.mo`` beside them; ``babel.cfg`` says what ``pybabel extract`` reads: the templates and
this package's Python). English is the source language and needs no catalogue.

A request's language (:func:`choose`): the ``tallyroom_lang`` cookie the language link sets,
else the best of ``Accept-Language``, else English. :class:`LanguageMiddleware` holds it in a
context variable for the whole request (handlers run in worker threads with a copy of the
context), so that templates (the Jinja2 i18n extension, through :func:`install`), the booth's
messages and the number and date filters all speak it. The console stays English: its
templates render in ``en`` whatever the cookie says (:func:`rendering`).

``GET /language?to=cy&next=/e/slug`` (:data:`router`) sets the cookie and goes back to the
page (only a path on this site: never an open redirect).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.support import Translations
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from jinja2 import Environment
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "COOKIE",
    "LANGUAGES",
    "LOCALE_DIR",
    "N_",
    "LanguageMiddleware",
    "choose",
    "current",
    "gettext",
    "install",
    "language_href",
    "ngettext",
    "rendering",
    "router",
]

LOCALE_DIR = Path(__file__).parent / "locale"
COOKIE = "tallyroom_lang"
# each language with its name in itself, as the link to it reads
LANGUAGES = {"en": "English", "cy": "Cymraeg"}
DEFAULT = "en"
YEAR = 365 * 24 * 3600

_current: contextvars.ContextVar[str] = contextvars.ContextVar("tallyroom_lang", default=DEFAULT)

router = APIRouter(include_in_schema=False)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue; it is translated where it is shown."""
    return message


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of ``language`` (English: the messages as written)."""
    if language == DEFAULT:
        return NullTranslations()
    found = Translations.load(str(LOCALE_DIR), [language], domain="messages")
    return found


def current() -> str:
    """The language of the request being served."""
    return _current.get()


def gettext(message: str) -> str:
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current()).ngettext(singular, plural, n)


def _accepted(header: str) -> list[tuple[float, str]]:
    out = []
    for k, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        # a stable order: by quality, then as the browser listed them
        out.append((quality - k * 1e-6, tag.strip().lower()))
    return sorted(out, reverse=True)


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's language if it is one of :data:`LANGUAGES`, else the best one the browser
    accepts (``cy-GB`` counts as ``cy``), else English."""
    if cookie in LANGUAGES:
        return cookie
    for quality, tag in _accepted(accept_language or ""):
        primary = tag.split("-")[0]
        if quality > 0 and primary in LANGUAGES:
            return primary
    return DEFAULT


def _cookie(headers: list[tuple[bytes, bytes]]) -> tuple[str | None, str | None]:
    cookie: str | None = None
    accept: str | None = None
    for name, value in headers:
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, val = part.strip().partition("=")
                if key == COOKIE:
                    cookie = val.strip()
        elif name == b"accept-language":
            accept = value.decode("latin-1")
    return cookie, accept


class LanguageMiddleware:
    """Sets the request's language (:func:`choose`) for everything that serves it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _current.set(choose(*_cookie(list(scope.get("headers", [])))))
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)


@contextmanager
def rendering(template: str) -> Iterator[str]:
    """The language ``template`` renders in (the console's pages: English); yields it."""
    language = DEFAULT if template.startswith("console_") else current()
    token = _current.set(language)
    try:
        yield language
    finally:
        _current.reset(token)


def install(env: Environment) -> None:
    """The Jinja2 i18n extension, translating into the language being rendered."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True
    )
    env.globals["languages"] = LANGUAGES
    env.globals["language_href"] = language_href
    # a message chosen in Python (N_) translated where it is shown; no %-formatting, so a
    # message holding "%" (an error's text) is shown as it is
    env.filters["translated"] = lambda text: gettext(str(text))


def language_href(request: Request, language: str) -> str:
    """The link that switches to ``language`` and comes back to this page: the same address
    for a page one can go back to (GET); the booth's start for a step reached by a form (a
    ballot is never put in an address)."""
    path = request.url.path
    if request.method == "GET":
        back = path + (f"?{request.url.query}" if request.url.query else "")
    elif "/vote" in path:
        back = path[: path.index("/vote") + len("/vote")]
    else:
        back = "/"
    return f"/language?{urlencode({'to': language, 'next': back})}"


def _local(path: str) -> str:
    """``path`` if it is a path on this site, else the home page (no open redirect)."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


@router.get("/language")
def set_language(request: Request, to: str, next: str = "/") -> Any:
    """Remember the voter's language in a cookie, and go back to the page."""
    response = RedirectResponse(_local(next), status_code=303)
    if to in LANGUAGES:
        secure = bool(request.app.state.web.settings.https_only)
        response.set_cookie(COOKIE, to, max_age=YEAR, samesite="lax", httponly=True, secure=secure)
    return response
