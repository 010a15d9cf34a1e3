"""A throwaway PostgreSQL server for the tests: initdb in a temporary folder, loopback only.

``start()`` returns a running :class:`Server` or raises :class:`Unavailable` with the reason (no
PostgreSQL installed, running as root without a ``postgres`` user, the server did not start).
``SCALELAW_TEST_POSTGRES_URL`` names an existing server instead (its role needs CREATEDB).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_S = 30
DATABASE = "scalelaw_test"


class Unavailable(RuntimeError):
    """PostgreSQL cannot be started here; the message says why."""


def bindir() -> Path | None:
    """The folder of initdb and pg_ctl: PATH first, then the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl", path=str(Path(found).resolve().parent)):
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3])
                        if Path(p).parts[-3].isdigit() else 0)
    return Path(candidates[-1]).parent if candidates else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str  # postgresql+psycopg://postgres@127.0.0.1:PORT/scalelaw_test
    folder: Path | None  # None for an external server
    _prefix: tuple[str, ...] = ()
    _bin: Path | None = None

    def stop(self) -> None:
        """pg_ctl -m fast stop, then remove the folder."""
        if self.folder is None:
            return
        try:
            subprocess.run([*self._prefix, str(self._bin / "pg_ctl"), "-D", str(self.folder / "data"),
                            "-m", "fast", "-w", "-t", str(START_TIMEOUT_S), "stop"],
                           capture_output=True, timeout=START_TIMEOUT_S + 5, check=False)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def create_database(self, name: str) -> str:
        """A new empty database on this server; its URL."""
        import psycopg
        from sqlalchemy.engine import make_url

        base = make_url(self.url)
        conninfo = dict(host=base.host, port=base.port, user=base.username, dbname=base.database,
                        password=base.password, connect_timeout=10, autocommit=True)
        with psycopg.connect(**{k: v for k, v in conninfo.items() if v is not None}) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return base.set(database=name).render_as_string(hide_password=False)


def _user_prefix() -> tuple[str, ...]:
    """How to run initdb/pg_ctl: as ourselves, or (as root, which initdb refuses) as postgres."""
    if os.geteuid() != 0:
        return ()
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise Unavailable("running as root and there is no 'postgres' user to run initdb as") from None
    runuser = shutil.which("runuser")
    if runuser:
        return (runuser, "-u", "postgres", "--")
    raise Unavailable("running as root and runuser is not installed to run initdb as 'postgres'")


def start() -> Server:
    """Start a PostgreSQL server on a free loopback port with database scalelaw_test (trust auth)."""
    external = os.environ.get("SCALELAW_TEST_POSTGRES_URL")
    if external:
        return Server(url=external, folder=None)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise Unavailable("psycopg is not installed (pip install -e '.[dev]')") from None
    bin_ = bindir()
    if bin_ is None:
        raise Unavailable("PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql/*/bin); "
                          ".ci/run installs Debian's postgresql")
    prefix = _user_prefix()
    folder = Path(tempfile.mkdtemp(prefix="scalelaw-pg-"))
    folder.chmod(0o700)
    if prefix:
        entry = pwd.getpwnam("postgres")
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    data, log = folder / "data", folder / "server.log"
    server = Server(url="", folder=folder, _prefix=prefix, _bin=bin_)

    def run(*args: str) -> None:
        try:
            done = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=START_TIMEOUT_S + 5)
        except subprocess.TimeoutExpired:
            raise Unavailable(f"{Path(args[0]).name} did not finish within {START_TIMEOUT_S + 5} s") from None
        if done.returncode != 0:
            tail = (log.read_text(errors="replace") if log.exists() else "") or done.stderr or done.stdout
            lines = [line for line in tail.splitlines() if line.strip()]
            raise Unavailable(f"{Path(args[0]).name} failed: {lines[-1] if lines else done.returncode}")

    try:
        run(str(bin_ / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
            "--locale=C", "--no-sync")
        port = free_port()
        options = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        run(str(bin_ / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
            "-w", "-t", str(START_TIMEOUT_S), "start")
        server.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        server.url = server.create_database(DATABASE)
    except BaseException:
        server.stop()
        raise
    return server
