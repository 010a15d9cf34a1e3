"""Faults against real ``scalelaw serve`` processes: a server killed mid-fit, a client gone mid-upload."""

from __future__ import annotations

import hashlib
import socket
import sqlite3
import time
from pathlib import Path

import httpx

from service_support import SLOW, Server, until, upload


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (read from /proc)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.add(pid)
    return out


def stored(db: Path) -> dict:
    """From the SQLite file itself: fit id -> (sha256 of the artifact text, its recorded sha256), and the jobs."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        fits = {i: (hashlib.sha256(a.encode()).hexdigest(), s)
                for i, a, s in conn.execute("SELECT id, artifact, artifact_sha256 FROM fits")}
        jobs = {i: (status, error, fit) for i, status, error, fit in
                conn.execute("SELECT id, status, error, fit_id FROM jobs")}
    return {"fits": fits, "jobs": jobs}


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return "; ".join(row[0] for row in conn.execute("PRAGMA integrity_check"))


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_sigkill_mid_fit_keeps_finished_fits_and_fails_the_interrupted_jobs(tmp_path):
    db, work = tmp_path / "registry.db", tmp_path / "work"
    args = (f"sqlite:///{db}", "--workers", "2", "--name", "faults", "--work-dir", str(work))
    server = Server(*args, cwd=tmp_path)
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            finished = [upload(client, name=f"done{i}") for i in range(2)]
            assert [r.status_code for r in finished] == [201, 201], finished[0].text
            slow = [upload(client, wait=False, name=f"slow{i}", **SLOW) for i in range(3)]
            assert [r.status_code for r in slow] == [202] * 3, slow[0].text
            slow_ids = [r.json()["id"] for r in slow]

            def running():
                states = [client.get(f"/v1/jobs/{i}").json()["status"] for i in slow_ids]
                return states.count("running") == 2 and states

            assert sorted(until(running, 30, "two slow fits running")) == ["queued", "running", "running"]
        before = stored(db)
        children = descendants(server.process.pid)
        assert children, "the fits run in child processes"
        server.kill()
    finally:
        server.stop()
    until(lambda: not alive(children), 15, "the killed server's fit processes stop")

    with Server(*args, cwd=tmp_path) as again, httpx.Client(base_url=again.url, timeout=30) as client:
        health = client.get("/healthz").json()
        assert health["status"] == "ok" and health["interrupted_at_start"] == 3
        for job_id in slow_ids:
            job = client.get(f"/v1/jobs/{job_id}").json()
            assert (job["status"], job["error"], job["fit_id"]) == ("failed", "interrupted by restart", None)
        listed = client.get("/v1/fits", params={"artifact": "false"}).json()
        assert listed["total"] == 2
        assert {f["id"]: f["artifact_sha256"] for f in listed["fits"]} == {
            i: recorded for i, (_, recorded) in before["fits"].items()}
        for fit in finished:
            assert client.get(f"/v1/fits/{fit.json()['id']}").json()["artifact"] == fit.json()["artifact"]
        assert files_under(work) == []
        after = stored(db)
    assert integrity(db) == "ok"
    assert after["fits"] == before["fits"] and len(after["fits"]) == 2
    assert all(actual == recorded for actual, recorded in after["fits"].values())
    failed = {i: row for i, row in after["jobs"].items() if row[0] == "failed"}
    assert set(failed) == set(slow_ids) and all(fit is None for _, _, fit in failed.values())


def _partial_upload(port: int, *, declared: int, body: bytes,
                    kind: str = "multipart/form-data; boundary=b0undary") -> None:
    """Send the head of an upload declaring ``declared`` bytes, then only ``body``, and hang up."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"POST /v1/fits?wait=true HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {kind}\r\n"
                     f"Content-Length: {declared}\r\n\r\n".encode() + body)
        time.sleep(0.3)


def test_a_client_gone_mid_upload_leaves_nothing_behind(tmp_path):
    db, work = tmp_path / "registry.db", tmp_path / "work"
    rows = b"".join(b"%d,%d,%.4f\n" % (10**9 + i, 2 * 10**10 + i, 3.0 - i * 1e-7) for i in range(60_000))
    head = (b'--b0undary\r\nContent-Disposition: form-data; name="family"\r\n\r\nloss\r\n'
            b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="runs.csv"\r\n'
            b"Content-Type: text/csv\r\n\r\nparams,tokens,loss\n")
    with Server(f"sqlite:///{db}", "--workers", "1", "--work-dir", str(work), cwd=tmp_path) as server:
        for body in (head[:30], head, head + rows[:len(rows) // 2], head + rows):
            _partial_upload(server.port, declared=5 * 2**20, body=body)
        _partial_upload(server.port, declared=5 * 2**20, kind="application/json",
                        body=b'{"family": "loss", "rows": [' + b'{"params": 1e9, "tokens": 2e10, "loss": 3.0},' * 9999)
        with httpx.Client(base_url=server.url, timeout=60) as client:
            assert client.get("/healthz").json()["status"] == "ok"
            assert client.get("/v1/fits").json()["total"] == 0
            assert stored(db) == {"fits": {}, "jobs": {}}
            assert files_under(work) == []
            answer = upload(client, name="after")
            assert answer.status_code == 201, answer.text
        assert files_under(work) == []
    log = (tmp_path / f"serve-{server.port}.log").read_text()
    assert "Traceback" not in log, log[-3000:]
    assert [fit for _, _, fit in stored(db)["jobs"].values()] == [answer.json()["id"]]
