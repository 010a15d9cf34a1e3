"""Tokens made with ``scalelaw token`` open a real ``scalelaw serve --token-file`` to writes, by scope."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import httpx

from service_support import Server, upload
from support import assert_user_error, run_cli


def token(name: str, path: Path, *scope: str) -> str:
    """The secret ``scalelaw token`` prints on stdout, as a script reads it."""
    scalelaw = Path(sys.executable).with_name("scalelaw")
    done = subprocess.run([str(scalelaw), "token", name, "--token-file", str(path), *scope], capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout.endswith("\n") and done.stdout.count("\n") == 1, done.stdout
    assert f"added {name!r}" in done.stderr
    return done.stdout.strip()


def test_cli_tokens_open_a_server_to_writes_by_scope(tmp_path):
    path = tmp_path / "tokens.txt"
    writer, reader = token("alice", path), token("ci", path, "--scope", "read")
    assert writer.startswith("sl_") and writer != reader
    lines = path.read_text().splitlines()
    assert [line.split()[:2] for line in lines] == [["alice", "write"], ["ci", "read"]]
    assert writer not in path.read_text() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert_user_error(run_cli("token", "alice", "--token-file", str(path)), "'alice' already has a token")
    assert_user_error(run_cli("token", "bob", "--scope", "admin", "--token-file", str(path)), "read or write")
    with Server(f"sqlite:///{tmp_path}/registry.db", "--token-file", str(path), "--workers", "1",
                cwd=tmp_path) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        assert upload(client).status_code == 401
        assert upload(client, headers={"Authorization": "Bearer sl_not-a-token"}).status_code == 401
        refused = upload(client, headers={"Authorization": f"Bearer {reader}"})
        assert refused.status_code == 403 and "'ci' may only read" in refused.json()["error"]
        made = upload(client, headers={"Authorization": f"Bearer {writer}"}, name="tokened")
        assert made.status_code == 201, made.text
        fit = made.json()
        assert fit["created_by"] == "alice"
        assert client.get(f"/v1/fits/{fit['id']}").status_code == 200  # reads are open unless --private
        assert client.delete(f"/v1/fits/{fit['id']}", headers={"Authorization": f"Bearer {reader}"}).status_code == 403
        assert client.delete(f"/v1/fits/{fit['id']}", headers={"Authorization": f"Bearer {writer}"}).status_code == 200
