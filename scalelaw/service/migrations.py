"""The registry's tables and their numbered upgrade steps.

The table ``schema_migrations`` holds one row per applied step; the database's version is the
highest.  :func:`migrate` runs the missing steps in one transaction that holds the database's
write lock (SQLite ``BEGIN IMMEDIATE``; a PostgreSQL advisory lock), so several processes opening
one database at once apply each step exactly once.  A step, once released, never changes: a new
schema is a new step.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    column,
    func,
    select,
    table,
    text,
    update,
)
from sqlalchemy.engine import Connection

SCHEMA_VERSION = 2
_LOCK_KEY = 0x5CA1E1A3  # pg_advisory_xact_lock key of the migration step

# --- the current schema, as the registry's queries see it (the steps below create it) ------------
metadata = MetaData()

migrations_table = Table(
    "schema_migrations", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied", String(32), nullable=False),
)
fits = Table(
    "fits", metadata,
    Column("id", String(16), primary_key=True),
    Column("family", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("schema", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("tags", Text, nullable=False),  # JSON list, the tags as given; fit_tags serves the filter
    Column("created", String(32), nullable=False),
    Column("data_sha256", String(64), nullable=False),
    Column("artifact", Text, nullable=False),
    Column("created_by", Text),
    Column("artifact_sha256", String(64)),  # step 2; always set by add_fit
)
fit_tags = Table(
    "fit_tags", metadata,
    Column("fit_id", String(16), ForeignKey("fits.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", Text, primary_key=True),
)
jobs = Table(
    "jobs", metadata,
    Column("id", String(16), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("error", Text),
    Column("fit_id", String(16), ForeignKey("fits.id", ondelete="SET NULL")),
    Column("server", Text, nullable=False),
    Column("created_by", Text),
    Column("request", Text, nullable=False),
    Column("created", String(32), nullable=False),
    Column("started", String(32)),
    Column("finished", String(32)),
)


def now() -> str:
    """The current time, ISO 8601 in UTC with microseconds."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


# --- the steps ------------------------------------------------------------------------------------
def _step1(conn: Connection) -> None:
    """fits and jobs."""
    v1 = MetaData()
    Table("fits", v1,
          Column("id", String(16), primary_key=True),
          Column("family", Text, nullable=False),
          Column("kind", Text, nullable=False),
          Column("schema", Text, nullable=False),
          Column("name", Text, nullable=False),
          Column("tags", Text, nullable=False),
          Column("created", String(32), nullable=False),
          Column("data_sha256", String(64), nullable=False),
          Column("artifact", Text, nullable=False),
          Column("created_by", Text))
    Table("jobs", v1,
          Column("id", String(16), primary_key=True),
          Column("status", String(16), nullable=False),
          Column("error", Text),
          Column("fit_id", String(16), ForeignKey("fits.id", ondelete="SET NULL")),
          Column("server", Text, nullable=False),
          Column("created_by", Text),
          Column("request", Text, nullable=False),
          Column("created", String(32), nullable=False),
          Column("started", String(32)),
          Column("finished", String(32)))
    v1.create_all(conn, checkfirst=False)


def _step2(conn: Connection) -> None:
    """artifact_sha256 (backfilled), exact tag filtering (fit_tags, backfilled), listing indexes."""
    v2 = MetaData()
    tags_table = Table("fit_tags", v2,
                       Column("fit_id", String(16), ForeignKey("fits.id", ondelete="CASCADE"), primary_key=True),
                       Column("tag", Text, primary_key=True))
    Table("fits", v2, Column("id", String(16), primary_key=True))  # the target of the foreign key
    old = table("fits", column("id"), column("artifact"), column("tags"), column("artifact_sha256"))
    conn.execute(text("ALTER TABLE fits ADD COLUMN artifact_sha256 VARCHAR(64)"))
    tags_table.create(conn, checkfirst=False)
    while True:
        batch = conn.execute(select(old.c.id, old.c.artifact, old.c.tags)
                             .where(old.c.artifact_sha256.is_(None)).limit(200)).all()
        if not batch:
            break
        for fit_id, artifact, tags in batch:
            digest = hashlib.sha256(artifact.encode("utf-8")).hexdigest()
            conn.execute(update(old).where(old.c.id == fit_id).values(artifact_sha256=digest))
            unique = dict.fromkeys(json.loads(tags))
            if unique:
                conn.execute(tags_table.insert(), [{"fit_id": fit_id, "tag": tag} for tag in unique])
    for ddl in ("CREATE INDEX ix_fits_family_created ON fits (family, created)",
                "CREATE INDEX ix_fits_created ON fits (created)",
                "CREATE INDEX ix_fit_tags_tag ON fit_tags (tag)",
                "CREATE INDEX ix_jobs_server_status ON jobs (server, status)"):
        conn.execute(text(ddl))


STEPS: dict[int, Callable[[Connection], None]] = {1: _step1, 2: _step2}
assert max(STEPS) == SCHEMA_VERSION


# --- applying them ----------------------------------------------------------------------------------
def lock(conn: Connection) -> None:
    """Take the lock that serialises migrations (SQLite: the transaction already holds it)."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_LOCK_KEY)))


def current(conn: Connection) -> int:
    """The database's version: the highest applied step (0 for an empty database)."""
    migrations_table.create(conn, checkfirst=True)
    return conn.execute(select(func.coalesce(func.max(migrations_table.c.version), 0))).scalar_one()


def upgrade(conn: Connection, *, to: int = SCHEMA_VERSION) -> tuple[int, int]:
    """Apply the steps above the database's version up to ``to``, inside the caller's transaction.

    Returns (version found, version now); the found version may be above SCHEMA_VERSION, which
    the caller refuses."""
    lock(conn)
    found = current(conn)
    for version in range(found + 1, to + 1):
        STEPS[version](conn)
        conn.execute(migrations_table.insert().values(version=version, applied=now()))
    return found, max(found, to)
