"""Running the app: :func:`serve` starts uvicorn with one or several worker processes.

With one worker the app is built here and served by uvicorn in this process. With several,
this process supervises ``workers`` child processes, each of which builds the app from the
settings (handed over as JSON) and serves it on **its own** listening socket bound to the
same address with ``SO_REUSEPORT``: the kernel then spreads new connections evenly over the
workers (by a hash of each connection's addresses). uvicorn's own ``--workers`` shares one
socket between its children, and whichever child happens to be awake takes the next
connection: measured, 110/105/41/0 keep-alive connections over four workers, one of them
idle. The store is migrated once, here, before any worker starts (a read-only server's is
checked instead: :mod:`tallyroom.web.read_only`). A worker that dies is
started again; SIGINT or SIGTERM stops them all (each finishes its requests in flight).

uvicorn runs with its fast parts when they are installed (``httptools``, ``uvloop``, both
dependencies of tallyroom). The access log is off unless asked for (``access_log``): one
line per request costs a few percent of a worker's CPU, and a booth's log would otherwise
hold the address of every voter's cast.

Several workers want PostgreSQL, or SQLite where one machine suffices: SQLite serialises
writers (tallyroom queues them fairly: :mod:`tallyroom.store.writer_lock`).
"""

from __future__ import annotations

import ipaddress
import logging
import multiprocessing
import os
import signal
import socket
import time
from types import FrameType

from fastapi import FastAPI

from tallyroom.errors import ConfigError
from tallyroom.services.key_files import MissingKey, missing_keys
from tallyroom.web.read_only import open_served_store
from tallyroom.web.settings import WebSettings

__all__ = ["ENV_SETTINGS", "app_from_environment", "check_keys", "serve"]

log = logging.getLogger("tallyroom.web")

ENV_SETTINGS = "TALLYROOM_WEB_SETTINGS"
# A worker that dies sooner than this after its start is not restarted: the whole server
# stops (a port in use, a database that refuses: restarting would only repeat it).
_EARLY_DEATH_SECONDS = 10.0
_BACKLOG = 2048


def app_from_environment() -> FastAPI:
    """The app for a uvicorn worker, from :data:`ENV_SETTINGS` (for running tallyroom under
    another process manager: ``uvicorn --factory tallyroom.web.server:app_from_environment``)."""
    from tallyroom.web.app import create_app

    text = os.environ.get(ENV_SETTINGS)
    if not text:
        raise ConfigError("the web settings are missing from the environment", field=ENV_SETTINGS)
    return create_app(WebSettings.from_json(text), upgrade=False)


def check_keys(settings: WebSettings) -> list[MissingKey]:
    """The elections that need their credential key now and cannot find it, each logged as
    an error naming the election and the path expected (the server still starts: other
    elections may be running, and the officer can put the key back without a restart)."""
    store = open_served_store(settings, upgrade=True)
    try:
        found = missing_keys(store, settings.keys, settings.credential_key_files)
    finally:
        store.close()
    for missing in found:
        log.error("%s", missing.render())
    return found


def _listening_socket(host: str, port: int) -> socket.socket:
    """A socket on ``host:port`` that other workers bind too (``SO_REUSEPORT``)."""
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:  # a name: what it resolves to first
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}", field="port") from exc
    sock.listen(_BACKLOG)
    return sock


def _worker(settings_json: str, host: str, port: int, access_log: bool) -> None:
    """One worker process: its own socket, the app, uvicorn until SIGTERM or SIGINT."""
    import uvicorn

    from tallyroom.web.app import create_app

    sock = _listening_socket(host, port)
    app = create_app(WebSettings.from_json(settings_json), upgrade=False)
    config = uvicorn.Config(
        app, host=host, port=port, proxy_headers=False, access_log=access_log
    )  # proxy_headers: the app believes only its trusted_proxies (see create_app)
    uvicorn.Server(config).run(sockets=[sock])


def serve(
    settings: WebSettings,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    *,
    access_log: bool = False,
) -> None:
    """Serve the app on ``host:port`` until interrupted."""
    import uvicorn

    from tallyroom.web.app import create_app

    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not settings.read_only:  # a read-only server casts nothing: it needs no key
        check_keys(settings)
    if workers == 1:
        uvicorn.run(
            create_app(settings), host=host, port=port, proxy_headers=False, access_log=access_log
        )
        return
    open_served_store(settings, upgrade=True).close()
    _listening_socket(host, port).close()  # the address is usable: say so now, not per worker
    _supervise(settings.to_json(), host, port, workers, access_log)


def _supervise(settings_json: str, host: str, port: int, workers: int, access_log: bool) -> None:
    spawn = multiprocessing.get_context("spawn")
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    running: list[tuple[multiprocessing.process.BaseProcess, float]] = []

    def start() -> tuple[multiprocessing.process.BaseProcess, float]:
        process = spawn.Process(
            target=_worker, args=(settings_json, host, port, access_log), name="tallyroom-web"
        )
        process.start()
        return process, time.monotonic()

    try:
        running = [start() for _ in range(workers)]
        while not stopping:
            time.sleep(0.2)
            for k, (process, started) in enumerate(running):
                if process.is_alive() or stopping:
                    continue
                if time.monotonic() - started < _EARLY_DEATH_SECONDS:
                    raise ConfigError(
                        f"a web worker stopped at its start (exit code {process.exitcode})",
                        field="workers",
                    )
                running[k] = start()
    finally:
        for process, _ in running:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)  # uvicorn: finish what is in flight
        for process, _ in running:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
        for s, handler in previous.items():
            signal.signal(s, handler)
