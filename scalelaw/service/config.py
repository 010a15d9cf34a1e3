"""What a running service is told: where its registry is, who may use it, and how much one request may ask."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from pathlib import Path

from scalelaw.errors import InputError


@dataclass(frozen=True)
class Limits:
    """Caps that keep one request from taking the box down; each is a ``scalelaw serve`` option."""

    max_upload_mb: float = 50.0
    """Largest upload or JSON body, in MiB (answered 413)."""
    max_rows: int = 1_000_000
    """Most table rows in one fit request."""
    max_expression_chars: int = 2_000
    """Longest formula law, in characters."""
    max_nesting: int = 32
    """Deepest nesting of brackets in a formula or of a JSON body."""
    max_bootstrap: int = 10_000
    """Most bootstrap replicates one fit may ask for."""
    queue_size: int = 64
    """Fit jobs waiting for a worker before submissions are answered 503."""
    job_timeout_s: float = 600.0
    """Wall time one fit may take, in seconds, before it is stopped and marked failed."""
    request_timeout_s: float = 60.0
    """How long ``POST /v1/fits?wait=true`` waits for the fit before answering with the job, in seconds."""

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 2**20)


@dataclass(frozen=True)
class ServiceConfig:
    """Everything ``scalelaw serve`` needs; :meth:`check` refuses an unsafe or impossible one."""

    host: str = "127.0.0.1"
    port: int = 8000
    db: str = "sqlite:///scalelaw-registry.db"
    token_file: Path | None = None
    private: bool = False
    """Reads need a token too (writes always do, when a token file is given)."""
    workers: int = 2
    limits: Limits = field(default_factory=Limits)
    work_dir: Path | None = None
    """Where uploads wait for their job, in a subfolder per server name emptied at start (default: a fresh
    temporary folder)."""
    server_name: str | None = None
    """This server's name in the jobs table; a restart marks its unfinished jobs failed."""
    backend: str = "local"
    """Where fit jobs run: ``local`` (child processes of this server) or ``dask`` (tasks on a cluster)."""
    scheduler: str | None = None
    """With ``backend="dask"``: the scheduler's address (default: the environment variable
    ``SCALELAW_DASK_SCHEDULER``)."""

    @property
    def name(self) -> str:
        return self.server_name or f"{socket.gethostname()}:{self.port}"

    def check(self) -> ServiceConfig:
        if not is_loopback(self.host) and self.token_file is None:
            raise InputError(f"host={self.host}: binding an address other than loopback needs token_file=FILE "
                             "(the 'scalelaw token' command creates one)")
        if self.private and self.token_file is None:
            raise InputError("private=True needs token_file=FILE: reads are allowed only with a token")
        if self.token_file is not None and not Path(self.token_file).is_file():
            raise InputError(f"token_file={self.token_file}: no such file; the 'scalelaw token' command "
                             "creates one")
        if self.backend not in ("local", "dask"):
            raise InputError(f"backend={self.backend!r}: choose local or dask", field="backend")
        if self.workers < 1:
            raise InputError(f"workers={self.workers}: give at least 1")
        if not 0 < self.port < 65536:
            raise InputError(f"port={self.port}: give a port between 1 and 65535")
        for name in ("max_upload_mb", "max_rows", "max_expression_chars", "max_nesting", "queue_size",
                     "job_timeout_s", "request_timeout_s"):
            if not getattr(self.limits, name) > 0:
                raise InputError(f"{name}={getattr(self.limits, name)}: give a positive value")
        return self


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (127.0.0.0/8, ::1 or localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
