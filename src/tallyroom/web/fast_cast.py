"""The JSON cast's fast path: ``POST /api/elections/{slug}/cast`` without FastAPI's layers.

The cast is the one request a busy poll sends thousands of times a second. Served by
FastAPI, two thirds of a worker's CPU per cast went to the framework around it (matching the
route against every route of the app, the exception and exit-stack layers, dependency
solving, validating and serialising the answer again). :class:`FastCast` sits inside the
session and security-header middleware (so the cookie and the headers are exactly as for
any other request) and serves that one route itself, with the same model
(:class:`~tallyroom.web.api.CastIn`), the same cast (:func:`~tallyroom.web.api.cast_voter`),
the same errors (the app's own handler for the error tree, so status, body and
``Retry-After`` are the API's) and the same answer (a JSON list of receipts).

Anything else goes on to FastAPI untouched, and so does a cast whose body is not a valid
:class:`CastIn` (with its body replayed), so that malformed requests get FastAPI's own 422
answer; the route stays in the OpenAPI document. An unexpected error propagates to the
app's handler of last resort, as it would from the route.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tallyroom.errors import TallyroomError
from tallyroom.web.api import CastIn, cast_voter
from tallyroom.web.guards import WebContext

__all__ = ["FastCast"]

_CAST = re.compile(r"/api/elections/([^/]+)/cast")
ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return bool(value.split(b";")[0].strip().lower() == b"application/json")
    return False


async def _body(receive: Receive) -> tuple[bytes, bool]:
    """The request's whole body; and whether the client went away first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), True
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


class FastCast:
    """Serves the JSON cast route (see the module docstring); everything else passes on."""

    def __init__(self, app: ASGIApp, *, web: Callable[[], WebContext], error: ErrorHandler):
        self.app = app
        self._web = web
        self._error = error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = None
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            found = _CAST.fullmatch(scope["path"])
        if found is None or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        body, gone = await _body(receive)
        try:
            cast = CastIn.model_validate_json(body)
        except ValidationError:
            gone = True  # FastAPI answers a malformed body in its own words
        if gone:
            await self.app(scope, _replay(body, receive), send)
            return
        request = Request(scope, _replay(body, receive))
        try:
            receipts = await cast_voter(self._web(), found.group(1), cast, request)
        except TallyroomError as exc:
            response = await self._error(request, exc)
        else:
            response = JSONResponse([{"contest": r.contest, "code": r.code} for r in receipts])
        await response(scope, receive, send)
