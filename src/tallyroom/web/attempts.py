"""The web's attempt limits: who is trying (address, browser, account) and the bounded sign-in.

Keys. A client is known by its address as the server sees it: the TCP peer, or the address a
*configured* reverse proxy reports in ``X-Forwarded-For`` (uvicorn believes that header only
from the addresses in the ``trusted_proxies`` setting, none by default, so a guessing client
cannot pick a new address per request by sending a header). IPv6 addresses count by their
/64 network, the block one subscriber is given. A browser is known by a random id kept in
its signed session cookie. An account by its username, case-folded.

Budgets (settings, per window of ``attempt_window`` seconds; each failure counts in every
budget its request names, each success is given back):

* booth credentials: ``credential_attempts`` per browser and
  ``credential_attempts_per_address`` per address. A voter who mistypes locks only their
  own browser; a crowd behind one address (a conference hall, a workplace) shares the
  larger address budget; a script that drops its cookie meets the address budget at once.
* console sign-in: ``sign_in_attempts`` per account from one address,
  ``sign_in_attempts_per_address`` per address and ``sign_in_attempts_per_account`` per
  account from anywhere, so spraying one password over many names, or one name from many
  addresses, are both bounded, and a colleague's typos at the next desk lock nobody out.

Argon2 work is bounded: each worker verifies at most ``sign_in_concurrency`` passwords at a
time (each takes 64 MiB and most of a core); a sign-in that cannot start within
``sign_in_wait`` seconds gets 429 with ``Retry-After``, without holding a request thread
while it waits. A sign-in flood therefore cannot exhaust memory or starve the booth.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from tallyroom.errors import SignInRefused, TooManyAttempts
from tallyroom.services import users
from tallyroom.services.attempts import (
    Budget,
    Claim,
    attempt_succeeded,
    begin_attempt,
    counts_as_failure,
)
from tallyroom.services.users import ConsoleUser
from tallyroom.store.engine import Store
from tallyroom.web.settings import WebSettings

__all__ = ["AttemptGates", "browser_id", "client_address"]

_BROWSER = "browser"
_ACCOUNT_KEY_MAX = 64


def client_address(request: Request) -> str:
    """The client's address for the limits: the peer (or a trusted proxy's report), /64 for
    IPv6."""
    return _address_key(request.client.host if request.client is not None else "unknown")


@functools.lru_cache(maxsize=4096)
def _address_key(host: str) -> str:
    """The budgets' key for a peer address (parsing an address per request was a tenth of a
    worker's time on the cast path; a busy booth sees the same few addresses again and
    again)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def browser_id(request: Request) -> str:
    """This browser's id from its session cookie, made on its first request (a client that
    drops its cookies gets a new one each time, and meets its address's budget instead)."""
    return _browser(request)[0]


def _browser(request: Request) -> tuple[str, bool]:
    """The browser's id, and whether it was made just now (no attempt counted against it)."""
    known = request.session.get(_BROWSER)
    if isinstance(known, str):
        return known, False
    made = secrets.token_urlsafe(16)
    request.session[_BROWSER] = made
    return made, True


class AttemptGates:
    """The budgets of one app, and the pool that bounds password hashing in this worker."""

    def __init__(self, store: Store, settings: WebSettings) -> None:
        window = settings.attempt_window
        self.store = store
        self.credential_browser = Budget(
            "credential-browser",
            settings.credential_attempts,
            window,
            "too many wrong credentials from this device",
        )
        self.credential_address = Budget(
            "credential-address",
            settings.credential_attempts_per_address,
            window,
            "too many wrong credentials from your network",
        )
        self.sign_in_here = Budget(
            "sign-in-account-address",
            settings.sign_in_attempts,
            window,
            "too many failed sign-ins for this user from your network",
        )
        self.sign_in_address = Budget(
            "sign-in-address",
            settings.sign_in_attempts_per_address,
            window,
            "too many failed sign-ins from your network",
        )
        self.sign_in_account = Budget(
            "sign-in-account",
            settings.sign_in_attempts_per_account,
            window,
            "too many failed sign-ins for this user",
        )
        self.hashing = asyncio.Semaphore(settings.sign_in_concurrency)
        self.wait = settings.sign_in_wait

    def credential_claims(self, request: Request) -> list[Claim]:
        """The budgets a credential check from this request counts against (the casting
        queue takes them for a whole batch at once: the JSON cast's path)."""
        browser, fresh = _browser(request)
        return [
            Claim(self.credential_address, client_address(request)),
            Claim(self.credential_browser, browser, fresh=fresh),
        ]

    @contextmanager
    def credential(self, request: Request) -> Iterator[None]:
        """Guard a credential check: a wrong, revoked or malformed credential counts; any
        other refusal (an invalid ballot, a closed poll) gives the place back."""
        attempt = begin_attempt(self.store, self.credential_claims(request))
        try:
            yield
        except BaseException as exc:
            if not counts_as_failure(exc):  # e.g. a mistake on the ballot: not a guess
                attempt_succeeded(self.store, attempt)
            raise
        attempt_succeeded(self.store, attempt)

    async def sign_in(self, request: Request, username: str, password: str) -> ConsoleUser:
        """The user these are the name and password of; a failure counts in three budgets."""
        address = client_address(request)
        account = username.strip().casefold()[:_ACCOUNT_KEY_MAX]
        claims = [
            Claim(self.sign_in_address, address),
            Claim(self.sign_in_account, account),
            Claim(self.sign_in_here, f"{account} {address}"),
        ]
        attempt = await run_in_threadpool(begin_attempt, self.store, claims)
        try:
            try:
                await asyncio.wait_for(self.hashing.acquire(), self.wait)
            except TimeoutError:
                raise TooManyAttempts(
                    "the server is busy checking other sign-ins", self.wait
                ) from None
            try:
                user = await run_in_threadpool(users.authenticate, self.store, username, password)
            finally:
                self.hashing.release()
        except SignInRefused:
            raise
        except BaseException:
            await run_in_threadpool(attempt_succeeded, self.store, attempt)
            raise
        await run_in_threadpool(attempt_succeeded, self.store, attempt)
        return user
