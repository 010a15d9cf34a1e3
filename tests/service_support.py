"""Helpers of the service tests."""

from __future__ import annotations

from pathlib import Path

from support import DATA

CHINCHILLA = DATA / "loss" / "epoch_chinchilla_svg_extracted.csv"


def upload(client, path: Path = CHINCHILLA, *, wait: bool = True, content: bytes | None = None,
           filename: str | None = None, headers: dict | None = None, **fields):
    """POST /v1/fits with a file (or ``content`` under ``filename``) and fields."""
    data = {"family": "loss", **{k: str(v) for k, v in fields.items()}}
    body = content if content is not None else path.read_bytes()
    return client.post("/v1/fits", params={"wait": str(wait).lower()}, data=data, headers=headers or {},
                       files={"file": (filename or path.name, body)})


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A real ``scalelaw serve`` subprocess on a free loopback port; stopped (or killed) by the test."""

    def __init__(self, db: str, *args: str, port: int | None = None, cwd: Path | None = None) -> None:
        import subprocess
        import sys

        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        scalelaw = Path(sys.executable).with_name("scalelaw")
        self.log = open(Path(cwd or ".") / f"serve-{self.port}.log", "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen([str(scalelaw), "serve", "--port", str(self.port), "--db", db, *args],
                                        cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_ready()

    def wait_ready(self, timeout: float = 60.0) -> None:
        import time

        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"scalelaw serve exited with {self.process.returncode}: "
                                   + Path(self.log.name).read_text()[-2000:])
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"scalelaw serve did not answer within {timeout:g} s")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        self.process.kill()
        self.process.wait(10)
        self.log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except Exception:
                self.process.kill()
                self.process.wait(10)
        self.log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


SLOW = {"starts": "hoffmann", "bootstrap": 10000}
"""Fit options that keep a worker busy for several seconds."""


def until(check, timeout: float, what: str):
    """Poll ``check`` every 0.1 s until it returns something true; fail naming ``what`` after ``timeout`` s."""
    import time

    import pytest

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    pytest.fail(f"{what} within {timeout:g} s")
