"""Alembic's environment: run by :mod:`tallyroom.store.migrations`, which passes a connection.

Online only, on the connection (and so inside the transaction) the caller opened.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from tallyroom.store.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError(
        "tallyroom migrations run through tallyroom.store.migrations.upgrade(engine),"
        " which supplies the connection"
    )
_run(_connection)
