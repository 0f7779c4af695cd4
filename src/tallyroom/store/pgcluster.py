"""A throwaway PostgreSQL cluster, for tests and benchmarks: initdb, start, use, stop, remove.

    with ThrowawayCluster() as cluster:
        url = cluster.create_database("t1")      # postgresql+psycopg://... on a unix socket

The cluster lives in a fresh temporary folder and listens only on a unix socket in that
folder (no TCP), on a port number picked free, so it can clash with nothing. When run as root
(PostgreSQL refuses to run as root) the server runs as the ``postgres`` user via ``runuser``,
and the folder is handed to that user.

The server binaries are looked for on ``PATH`` and then in ``/usr/lib/postgresql/*/bin``
(Debian's layout, newest version first); when there are none :class:`PostgresMissing` says
so and what to install, since a test that needs PostgreSQL must fail, not skip.

:meth:`ThrowawayCluster.start_standby` makes a hot-standby replica of a running cluster
(``pg_basebackup -R``) in a folder and on a port of its own, for tests of replicas.

``durable=False`` (the default, for tests) turns off fsync and friends; benchmarks of
durable commits pass ``durable=True`` to keep PostgreSQL's defaults.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

import sqlalchemy as sa

from tallyroom.errors import PostgresMissing, TallyroomError

__all__ = ["PostgresMissing", "ThrowawayCluster", "find_postgres_bin"]

_SERVER_USER = "postgres"
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}\Z")


def _version_key(path: Path) -> tuple[int, ...]:
    digits = re.findall(r"\d+", path.parent.name)
    return tuple(int(d) for d in digits)


def find_postgres_bin() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl``, or :class:`PostgresMissing`."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    candidates = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").is_file()),
        key=_version_key,
        reverse=True,
    )
    if candidates:
        return candidates[0]
    raise PostgresMissing(
        "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in "
        "/usr/lib/postgresql/*/bin: install Debian's 'postgresql' package "
        "(bash run.sh test does so when run as root)"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ThrowawayCluster:
    """A PostgreSQL cluster in a temporary folder, removed by :meth:`stop`."""

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable
        self.bin = find_postgres_bin()
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="tallyroom-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as_root = os.geteuid() == 0
        self._running = False

    # -- process control --------------------------------------------------------------------

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._as_root:
            command = ["runuser", "-u", _SERVER_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise TallyroomError(
                f"{' '.join(command)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}{log}"
            )

    def _hand_over(self) -> None:
        if self._as_root:
            try:
                user = pwd.getpwnam(_SERVER_USER)
            except KeyError as exc:
                raise PostgresMissing(
                    f"running as root needs the '{_SERVER_USER}' user to run the server"
                ) from exc
            os.chown(self.root, user.pw_uid, user.pw_gid)

    def start(self) -> ThrowawayCluster:
        self._hand_over()
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip
        self._start_server()
        return self

    def _start_server(self, *extra: str) -> None:
        options = [
            "-k", str(self.root), "-p", str(self.port), "-c", "listen_addresses=",
            "-c", "max_connections=100", *extra,
        ]  # fmt: skip
        if not self.durable:
            options += ["-c", "fsync=off", "-c", "synchronous_commit=off"]
            options += ["-c", "full_page_writes=off"]
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w",
                  "-o", " ".join(options), "start")  # fmt: skip
        self._running = True

    def start_standby(self) -> ThrowawayCluster:
        """A hot-standby replica of this running cluster, in a folder and on a port of its
        own: ``pg_basebackup -R`` (a copy of the data folder plus the settings that make it
        follow this cluster's WAL stream), started with ``hot_standby=on`` so it answers
        reads. It refuses every write, as a production replica does; :meth:`stop` it like
        any cluster."""
        if not self._running:
            raise TallyroomError("start the primary before its standby")
        standby = ThrowawayCluster(durable=self.durable)
        try:
            standby._hand_over()
            standby._run(
                "pg_basebackup", "-D", str(standby.data), "-R", "-X", "stream", "--no-sync",
                "-h", str(self.root), "-p", str(self.port), "-U", "postgres",
            )  # fmt: skip
            standby._start_server("-c", "hot_standby=on")
        except BaseException:
            standby.stop()
            raise
        return standby

    def stop(self) -> None:
        """Stop the server (fast, no checkpoint) and remove its folder."""
        try:
            if self._running:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
                self._running = False
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ThrowawayCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- databases --------------------------------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL for ``database`` over the cluster's unix socket."""
        return f"postgresql+psycopg://postgres@/{database}?host={self.root}&port={self.port}"

    def _admin(self, sql: str) -> None:
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(sql)
        finally:
            engine.dispose()

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create database ``name`` (optionally copied from ``template``); return its URL."""
        for value in (name, template):
            if value is not None and not _NAME.match(value):
                raise ValueError(f"not a plain database name ({value!r})")
        copy = f" TEMPLATE {template} STRATEGY FILE_COPY" if template else ""
        self._admin(f"CREATE DATABASE {name}{copy}")
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing whatever connections are still open to it."""
        if not _NAME.match(name):
            raise ValueError(f"not a plain database name ({name!r})")
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
