"""The registry: stored fits and fit jobs in SQLite or PostgreSQL (SQLAlchemy Core).

SQLite is the embedded default: WAL mode (readers never wait for the writer), a busy timeout so
writers queue instead of failing, foreign keys on, and ``synchronous=FULL``: every commit is on disk
before it returns, so a fit whose id a client was given survives a power cut, not only a killed
server (NORMAL keeps it only across the latter); a commit is one per fit or job change, so the
fsync is cheap next to the fit.  Write transactions begin IMMEDIATE, which takes the write lock up
front: two writers never deadlock upgrading a read lock.  PostgreSQL serves several servers
behind one database.

Every write is one transaction; a fit made by a job is stored and its job marked done in the same
one, so a failed job never leaves a fit behind.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from sqlalchemy import create_engine, delete, event, exists, func, insert, select, update
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from scalelaw.errors import InputError
from scalelaw.service.migrations import SCHEMA_VERSION, fit_tags, fits, jobs, migrations_table, now, upgrade

JOB_STATES = ("queued", "running", "done", "failed")
INTERRUPTED = "interrupted by restart"
BUSY_TIMEOUT_S = 30.0
_URL_FORMS = "db=sqlite:///PATH or db=postgresql+psycopg://USER@HOST:PORT/DATABASE"


@dataclass(frozen=True)
class FitRow:
    """One stored fit; ``artifact`` is the artifact's JSON text (None in listings)."""

    id: str
    family: str
    kind: str
    schema: str
    name: str
    tags: tuple[str, ...]
    created: str  # ISO 8601, UTC
    data_sha256: str
    artifact_sha256: str
    created_by: str | None
    artifact: str | None

    def to_dict(self) -> dict:
        """JSON-ready: tags a list, the artifact parsed (non-finite numbers stay ``{"$float": ...}``)."""
        out = asdict(self)
        out["tags"] = list(self.tags)
        if self.artifact is None:
            del out["artifact"]
        else:
            out["artifact"] = json.loads(self.artifact)
        return out


@dataclass(frozen=True)
class JobRow:
    """One fit job: queued -> running -> done (``fit_id`` set) or failed (``error`` set)."""

    id: str
    status: str
    error: str | None
    fit_id: str | None
    server: str
    created_by: str | None
    request: dict
    created: str
    started: str | None
    finished: str | None

    def to_dict(self) -> dict:
        return asdict(self)


class StaleJob(LookupError):
    """A job is unknown or already finished, so its fit was not stored."""


_LIST_COLUMNS = [c for c in fits.c if c.name != "artifact"]


def _fit(row, *, artifact: bool) -> FitRow:
    m = row._mapping
    return FitRow(id=m["id"], family=m["family"], kind=m["kind"], schema=m["schema"], name=m["name"],
                  tags=tuple(json.loads(m["tags"])), created=m["created"], data_sha256=m["data_sha256"],
                  artifact_sha256=m["artifact_sha256"], created_by=m["created_by"],
                  artifact=m["artifact"] if artifact else None)


def _job(row) -> JobRow:
    m = dict(row._mapping)
    m["request"] = json.loads(m["request"])
    return JobRow(**m)


def _shown(url: URL | str) -> str:
    return url.render_as_string(hide_password=True) if isinstance(url, URL) else str(url)


def _first_line(err: BaseException) -> str:
    inner = getattr(err, "orig", None) or err
    lines = [line.strip() for line in str(inner).splitlines() if line.strip()]
    return lines[0] if lines else type(inner).__name__


def _set_wal(cursor) -> None:
    """``PRAGMA journal_mode = WAL``, retried while another process holds the lock: switching a new file to
    WAL takes an exclusive lock and SQLite answers "database is locked" at once, without its busy timeout."""
    import sqlite3

    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _sqlite_engine(url: URL) -> Engine:
    if url.drivername not in ("sqlite", "sqlite+pysqlite"):
        raise InputError(f"db={_shown(url)}: driver {url.drivername!r} is not supported; give db=sqlite:///PATH")
    if url.database in (None, "", ":memory:") or url.query.get("mode") == "memory":
        raise InputError(f"db={_shown(url)}: an in-memory database keeps nothing across restarts and is "
                         "not shared between connections; give db=sqlite:///PATH (a file)")
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        _set_wal(cursor)
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

    return engine


def _postgres_engine(url: URL) -> Engine:
    if url.drivername not in ("postgresql", "postgresql+psycopg", "postgresql+psycopg2"):
        raise InputError(f"db={_shown(url)}: driver {url.drivername!r} is not supported; give "
                         "db=postgresql+psycopg://USER@HOST:PORT/DATABASE")
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=8,
                         connect_args={"connect_timeout": 10})


def open_engine(url: str) -> tuple[Engine, str]:
    """An engine for ``url`` and its dialect ("sqlite" or "postgresql").

    A bad URL raises InputError naming ``db=`` (the CLI spells it as its option)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as err:
        raise InputError(f"db={url!r}: not a database URL ({_first_line(err)}); give {_URL_FORMS}") from err
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite":
            return _sqlite_engine(parsed), "sqlite"
        if backend == "postgresql":
            return _postgres_engine(parsed), "postgresql"
    except (NoSuchModuleError, ImportError) as err:
        raise InputError(f"db={_shown(parsed)}: the database driver is not installed ({_first_line(err)}); "
                         "pip install 'scalelaw[postgres]' for postgresql+psycopg") from err
    raise InputError(f"db={_shown(parsed)}: unknown database {backend!r}; give {_URL_FORMS}")


class Registry:
    """Stored fits and jobs in the database at ``url``, migrated to SCHEMA_VERSION on open.

    Thread-safe: one Registry may serve every thread of a server (a pool of connections)."""

    def __init__(self, url: str = "sqlite:///scalelaw-registry.db"):
        self.url = url
        self._engine, self.dialect = open_engine(url)
        self._shown = _shown(self._engine.url)
        try:
            with self._write() as conn:
                found, _ = upgrade(conn)
                if found > SCHEMA_VERSION:
                    raise InputError(f"db={self._shown}: written by a newer scalelaw (registry schema {found}; this "
                                     f"one reads up to {SCHEMA_VERSION}); upgrade scalelaw or give another "
                                     "database URL as db=")
        except DBAPIError as err:
            self._engine.dispose()
            hint = ("check that its folder exists and is writable and that the file is a scalelaw registry"
                    if self.dialect == "sqlite" else "check that the server is running and reachable")
            raise InputError(f"db={self._shown}: cannot open the database ({_first_line(err)}); "
                             f"{hint}, or give another database URL as db=") from err
        except BaseException:
            self._engine.dispose()
            raise

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Registry({self._shown!r})"

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            conn.execution_options(write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self, *, snapshot: bool = False) -> Iterator[Connection]:
        """A connection for reads; ``snapshot``: its statements see one state of the database (SQLite
        gives that to every transaction; PostgreSQL's default, READ COMMITTED, not)."""
        with self._engine.connect() as conn:
            if snapshot and self.dialect == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            yield conn

    def version(self) -> int:
        """The schema version of the database (SCHEMA_VERSION once opened)."""
        with self._read() as conn:
            return conn.execute(select(func.max(migrations_table.c.version))).scalar_one()

    # --- fits ------------------------------------------------------------------------------------
    def add_fit(self, *, family: str, kind: str, schema: str, name: str, tags: Sequence[str] = (),
                data_sha256: str, artifact: str, created_by: str | None = None,
                job_id: str | None = None) -> FitRow:
        """Store a fit (the artifact's JSON text) and return its row, with the artifact.

        With ``job_id`` the job becomes done with this fit in the same transaction; a job that is
        unknown or no longer queued or running raises :class:`StaleJob` and nothing is stored."""
        if isinstance(tags, str):
            raise TypeError("tags is a sequence of strings, not one string")
        tags = tuple(dict.fromkeys(str(t) for t in tags))
        row = FitRow(id=secrets.token_hex(8), family=family, kind=kind, schema=schema, name=name, tags=tags,
                     created=now(), data_sha256=data_sha256,
                     artifact_sha256=hashlib.sha256(artifact.encode("utf-8")).hexdigest(),
                     created_by=created_by, artifact=artifact)
        values = asdict(row)
        values["tags"] = json.dumps(list(tags))
        with self._write() as conn:
            conn.execute(insert(fits).values(values))
            if tags:
                conn.execute(insert(fit_tags), [{"fit_id": row.id, "tag": t} for t in tags])
            if job_id is not None:
                done = conn.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.status.in_(("queued", "running")))
                                    .values(status="done", fit_id=row.id, finished=row.created, error=None))
                if done.rowcount != 1:
                    raise StaleJob(f"job {job_id} is unknown or already finished; its fit was not stored")
        return row

    def get_fit(self, fit_id: str) -> FitRow | None:
        """The fit with its artifact, or None."""
        with self._read() as conn:
            row = conn.execute(select(fits).where(fits.c.id == fit_id)).first()
        return None if row is None else _fit(row, artifact=True)

    def fit_exists(self, fit_id: str) -> bool:
        with self._read() as conn:
            return conn.execute(select(fits.c.id).where(fits.c.id == fit_id)).first() is not None

    def list_fits(self, *, family: str | None = None, name: str | None = None, tag: str | None = None,
                  limit: int = 50, offset: int = 0) -> tuple[list[FitRow], int]:
        """A page of fits, newest first, without artifacts, and how many match in all.

        ``family``, ``name`` and ``tag`` match exactly; ``limit`` >= 0 rows from ``offset`` >= 0."""
        for label, value in (("limit", limit), ("offset", offset)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InputError(f"{label}={value!r}: give a whole number >= 0")
        where = []
        if family is not None:
            where.append(fits.c.family == family)
        if name is not None:
            where.append(fits.c.name == name)
        if tag is not None:
            where.append(exists().where(fit_tags.c.fit_id == fits.c.id, fit_tags.c.tag == tag))
        page = (select(*_LIST_COLUMNS).where(*where)
                .order_by(fits.c.created.desc(), fits.c.id.desc()).limit(limit).offset(offset))
        with self._read(snapshot=True) as conn:
            total = conn.execute(select(func.count()).select_from(fits).where(*where)).scalar_one()
            rows = conn.execute(page).all()
        return [_fit(r, artifact=False) for r in rows], total

    def delete_fit(self, fit_id: str) -> bool:
        """Delete a fit (its tags with it; jobs that made it keep their row, fit_id None)."""
        with self._write() as conn:
            return conn.execute(delete(fits).where(fits.c.id == fit_id)).rowcount == 1

    # --- jobs ------------------------------------------------------------------------------------
    def add_job(self, *, server: str, request: dict, created_by: str | None = None) -> JobRow:
        """A new queued job of ``server`` (the server's name, for interrupt_jobs)."""
        row = JobRow(id=secrets.token_hex(8), status="queued", error=None, fit_id=None, server=server,
                     created_by=created_by, request=dict(request), created=now(), started=None, finished=None)
        values = asdict(row)
        values["request"] = json.dumps(row.request)
        with self._write() as conn:
            conn.execute(insert(jobs).values(values))
        return row

    def start_job(self, job_id: str) -> bool:
        """queued -> running; False when the job is unknown or not queued (e.g. interrupted)."""
        with self._write() as conn:
            return conn.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.status == "queued")
                                .values(status="running", started=now())).rowcount == 1

    def fail_job(self, job_id: str, error: str) -> bool:
        """queued or running -> failed with ``error``; False when the job is unknown or finished."""
        with self._write() as conn:
            return conn.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.status.in_(("queued", "running")))
                                .values(status="failed", error=error, finished=now())).rowcount == 1

    def get_job(self, job_id: str) -> JobRow | None:
        with self._read() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
        return None if row is None else _job(row)

    def interrupt_jobs(self, server: str) -> int:
        """Mark ``server``'s queued and running jobs failed ("interrupted by restart"); how many."""
        with self._write() as conn:
            return conn.execute(update(jobs).where(jobs.c.server == server,
                                                   jobs.c.status.in_(("queued", "running")))
                                .values(status="failed", error=INTERRUPTED, finished=now())).rowcount

    def integrity_check(self) -> str:
        """SQLite: the result of PRAGMA integrity_check ("ok"); PostgreSQL: "ok" once a query answers."""
        with self._read() as conn:
            if self.dialect == "sqlite":
                return "; ".join(r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").all())
            conn.exec_driver_sql("SELECT 1").scalar_one()
            return "ok"
