"""Two ``scalelaw serve`` processes behind one PostgreSQL database: one registry, each its own jobs."""

from __future__ import annotations

import secrets

import httpx
import pytest

from service_support import SLOW, Server, until, upload


@pytest.fixture(scope="module")
def shared(postgres_server, tmp_path_factory):
    """Servers "a" and "b" (one worker each) on a new database of the session's PostgreSQL server."""
    url = postgres_server.create_database(f"t_{secrets.token_hex(6)}")
    folder = tmp_path_factory.mktemp("shared")

    def start(name: str) -> Server:
        return Server(url, "--name", name, "--workers", "1", "--work-dir", str(folder / "work"), cwd=folder)

    servers = {"a": start("a"), "b": start("b")}
    try:
        yield servers, start
    finally:
        for server in servers.values():
            server.stop()


def client(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=60)


def test_a_fit_stored_by_one_server_is_listed_fetched_and_asked_on_the_other(shared):
    servers, _ = shared
    with client(servers["a"]) as a, client(servers["b"]) as b:
        assert b.get("/healthz").json()["database"] == "postgresql"
        made = upload(a, name="shared", tags="pg")
        assert made.status_code == 201, made.text
        fit = made.json()
        listed = b.get("/v1/fits", params={"tag": "pg", "artifact": "false"}).json()
        assert [f["id"] for f in listed["fits"]] == [fit["id"]] and listed["total"] == 1
        assert b.get(f"/v1/fits/{fit['id']}").json()["artifact"] == fit["artifact"]
        inputs = {"params": "70B", "tokens": "1.4T"}
        there = b.post(f"/v1/fits/{fit['id']}/predict", json=inputs)
        assert there.status_code == 200, there.text
        assert there.json() == a.post(f"/v1/fits/{fit['id']}/predict", json=inputs).json()


def test_a_fit_deleted_on_one_server_is_gone_on_the_other_cache_and_all(shared):
    servers, _ = shared
    with client(servers["a"]) as a, client(servers["b"]) as b:
        fit_id = upload(a, name="doomed").json()["id"]
        assert b.post(f"/v1/fits/{fit_id}/predict", json={"params": "7B", "tokens": "140B"}).status_code == 200
        assert a.delete(f"/v1/fits/{fit_id}").json() == {"id": fit_id, "deleted": True}
        for answer in (b.get(f"/v1/fits/{fit_id}"), b.post(f"/v1/fits/{fit_id}/predict", json={"params": "7B"}),
                       b.delete(f"/v1/fits/{fit_id}")):
            assert answer.status_code == 404 and fit_id in answer.json()["error"]
        assert fit_id not in {f["id"] for f in b.get("/v1/fits", params={"artifact": "false"}).json()["fits"]}


def test_a_restart_of_one_server_interrupts_its_own_jobs_only(shared):
    servers, start = shared
    with client(servers["a"]) as a, client(servers["b"]) as b:
        ours = [upload(a, wait=False, name=f"a{i}", **SLOW).json()["id"] for i in range(2)]  # running, queued
        theirs = upload(b, wait=False, name="b0", **SLOW).json()["id"]
        until(lambda: a.get(f"/v1/jobs/{ours[0]}").json()["status"] == "running", 30, "a's fit running")
        until(lambda: b.get(f"/v1/jobs/{theirs}").json()["status"] == "running", 30, "b's fit running")
    servers["b"].kill()
    servers["b"] = start("b")
    with client(servers["a"]) as a, client(servers["b"]) as b:
        assert b.get("/healthz").json()["interrupted_at_start"] == 1
        job = a.get(f"/v1/jobs/{theirs}").json()
        assert (job["status"], job["error"], job["fit_id"]) == ("failed", "interrupted by restart", None)
        states = [b.get(f"/v1/jobs/{i}").json() for i in ours]
        assert [s["status"] for s in states] == ["running", "queued"], states
        assert a.get("/healthz").json()["interrupted_at_start"] == 0
