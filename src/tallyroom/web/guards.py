"""Guards, as FastAPI dependencies: the app's context, the signed-in user and their role.

A handler states what it needs in its signature (``user: Officer``, an ``Annotated`` dependency)
and the guard runs before it: an anonymous visitor is sent to sign in (pages) or told 401
(API); a scrutineer or observer asking to change something is told 403. Only the returning
officer acts; the other roles read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from jinja2 import Environment

from tallyroom.errors import Forbidden, NotSignedIn
from tallyroom.services import users
from tallyroom.services.casting_queue import CastingQueue
from tallyroom.services.users import ConsoleUser
from tallyroom.store.engine import Store
from tallyroom.web.attempts import AttemptGates
from tallyroom.web.poll_cache import PollCache
from tallyroom.web.settings import WebSettings

__all__ = [
    "SESSION_TOKEN",
    "Forbidden",
    "MaybeUser",
    "NotSignedIn",
    "Officer",
    "User",
    "Web",
    "WebContext",
    "context",
    "officer",
    "optional_user",
    "sign_out_session",
    "signed_in",
]

SESSION_TOKEN = "session"


@dataclass(frozen=True, slots=True)
class WebContext:
    """What every handler may use: settings, the store, templates, the attempt gates, the
    casting queue (voters casting at once share a durable commit) and the elections' ids and
    credential keys held for it."""

    settings: WebSettings
    store: Store
    templates: Environment
    attempts: AttemptGates
    casting: CastingQueue
    polls: PollCache


async def context(request: Request) -> WebContext:
    # async: FastAPI runs it on the event loop instead of handing it to a thread
    web: WebContext = request.app.state.web
    return web


Web = Annotated[WebContext, Depends(context)]


def optional_user(request: Request, web: Web) -> ConsoleUser | None:
    token = request.session.get(SESSION_TOKEN)
    if not isinstance(token, str):
        return None
    user = users.session_user(web.store, token)
    if user is None:  # signed out elsewhere, expired, password changed or user removed
        request.session.pop(SESSION_TOKEN, None)
    return user


MaybeUser = Annotated[ConsoleUser | None, Depends(optional_user)]


def signed_in(user: MaybeUser) -> ConsoleUser:
    if user is None:
        raise NotSignedIn("sign in to use the console")
    return user


User = Annotated[ConsoleUser, Depends(signed_in)]


def officer(user: User) -> ConsoleUser:
    if not user.may_act:
        raise Forbidden(
            f"only the returning officer may do this (you are signed in as "
            f"{user.role.value.replace('_', ' ')})"
        )
    return user


Officer = Annotated[ConsoleUser, Depends(officer)]


def sign_out_session(request: Request, web: WebContext) -> None:
    """End the signed-in session on the server and forget the cookie's contents."""
    token = request.session.get(SESSION_TOKEN)
    if isinstance(token, str):
        users.end_session(web.store, token)
    request.session.clear()
