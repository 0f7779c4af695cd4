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

from tallyroom.errors import Forbidden, NotFound, NotSignedIn
from tallyroom.services import users
from tallyroom.services.casting_queue import CastingQueue
from tallyroom.services.users import ConsoleUser
from tallyroom.store.engine import Store
from tallyroom.web.security import AttemptLimiter
from tallyroom.web.settings import WebSettings

__all__ = [
    "Forbidden",
    "MaybeUser",
    "NotSignedIn",
    "Officer",
    "User",
    "Web",
    "WebContext",
    "client_key",
    "context",
    "officer",
    "optional_user",
    "signed_in",
]

SESSION_USER = "user_id"


@dataclass(frozen=True, slots=True)
class WebContext:
    """What every handler may use: settings, the store, templates, the attempt limiters and
    the casting queue (voters casting at once share a durable commit)."""

    settings: WebSettings
    store: Store
    templates: Environment
    credential_attempts: AttemptLimiter
    sign_in_attempts: AttemptLimiter
    casting: CastingQueue


def context(request: Request) -> WebContext:
    web: WebContext = request.app.state.web
    return web


def client_key(request: Request) -> str:
    """Who is trying, for the attempt limits: the client's address."""
    return request.client.host if request.client is not None else "unknown"


Web = Annotated[WebContext, Depends(context)]


def optional_user(request: Request, web: Web) -> ConsoleUser | None:
    user_id = request.session.get(SESSION_USER)
    if not isinstance(user_id, int):
        return None
    try:
        return users.get_user(web.store, user_id)
    except NotFound:
        request.session.pop(SESSION_USER, None)
        return None


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
