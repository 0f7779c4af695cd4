"""Schema migrations (Alembic), run from Python: no ``alembic.ini`` needed.

    from tallyroom.store.migrations import upgrade
    upgrade(engine)                 # to the latest revision, in one transaction

Revisions live in ``versions/``, one file each, numbered ``NNNN_what.py``; each spells its
tables out in full and never imports :mod:`tallyroom.store.schema` (a revision must keep
meaning what it meant when it was written). :func:`new_revision` autogenerates the next one
from the difference between ``schema.py`` and a database at the current head; review it
by hand before committing. ``docs/architecture-store.md`` gives the whole procedure.

On SQLite, revisions run in batch mode (``render_as_batch``): SQLite cannot alter most of a
table in place, so Alembic copies the table.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

__all__ = ["current_revision", "downgrade", "head_revision", "new_revision", "upgrade"]

HERE = Path(__file__).resolve().parent


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(HERE / "versions"))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database up to ``revision`` in one transaction (all or nothing)."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database down to ``revision`` (``"base"``: drop everything)."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The latest revision shipped with this version of tallyroom."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {HERE / 'versions'}")
    return head


def new_revision(engine: Engine, message: str, revision_id: str) -> None:
    """Write ``versions/<revision_id>_<message>.py``: what ``schema.py`` adds to the head.

    ``engine`` must point at a scratch database already upgraded to the head.
    """
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True, rev_id=revision_id)
