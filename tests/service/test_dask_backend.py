"""scalelaw serve --backend dask: fit jobs as tasks on a Dask cluster, stored as the local pool stores them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from service_support import SLOW, Server, free_port, until, upload

FIT = {"starts": "hoffmann", "exclude_highest": 5, "seed": 3, "bootstrap": 50}


def _without_wall_time(text: str) -> str:
    """The artifact with its one measured field (the fit's wall time, which no two runs share) blanked."""
    return re.sub(r'"wall_time": [0-9.e+-]+', '"wall_time": 0', text)


def _stored(server: Server, fields: dict) -> tuple[dict, str]:
    """Fit through the server: the finished job and the stored artifact, as the registry serves it."""
    with httpx.Client(base_url=server.url, timeout=120) as client:
        submitted = upload(client, wait=False, **fields)
        assert submitted.status_code == 202, submitted.text
        job_id = submitted.json()["id"]
        job = until(lambda: (j := client.get(f"/v1/jobs/{job_id}").json())["status"] in ("done", "failed") and j,
                    90, "the job ends")
        assert job["status"] == "done", job
        fit = client.get(f"/v1/fits/{job['fit_id']}").json()
        return job, json.dumps(fit["artifact"], indent=1)


def test_a_fit_on_the_cluster_stores_the_artifact_of_the_local_pool(cluster, tmp_path):
    with Server(f"sqlite:///{tmp_path}/local.db", cwd=tmp_path) as local:
        local_job, local_artifact = _stored(local, FIT)
    with Server(f"sqlite:///{tmp_path}/dask.db", "--backend", "dask", "--scheduler", cluster, cwd=tmp_path) as dask:
        health = httpx.get(dask.url + "/healthz").json()
        assert health["backend"] == "dask" and health["status"] == "ok"
        dask_job, dask_artifact = _stored(dask, FIT)
        assert set(dask_job) == set(local_job) and dask_job["error"] is None
        assert _without_wall_time(dask_artifact) == _without_wall_time(local_artifact)
        assert json.loads(dask_artifact)["settings"]["bootstrap"] == 50
        with httpx.Client(base_url=dask.url, timeout=60) as client:  # a user mistake: the same line as locally
            bad = upload(client, content=b"params,tokens\n1,2\n", filename="runs.csv")
            assert bad.status_code == 422 and "runs.csv" in bad.json()["error"]
            assert "/tmp" not in bad.json()["error"]


def test_a_task_past_the_time_limit_is_cancelled_and_its_job_failed(cluster, tmp_path):
    with Server(f"sqlite:///{tmp_path}/dask.db", "--backend", "dask", "--scheduler", cluster,
                "--job-timeout-s", "1", cwd=tmp_path) as dask, httpx.Client(base_url=dask.url, timeout=60) as client:
        job_id = upload(client, wait=False, **SLOW).json()["id"]
        job = until(lambda: (j := client.get(f"/v1/jobs/{job_id}").json())["status"] == "failed" and j, 30,
                    "the job fails at its time limit")
        assert job["error"].startswith("the fit took longer than the job time limit of 1 s")
        assert job["fit_id"] is None and client.get("/v1/fits").json()["total"] == 0


def test_the_queue_bound_holds_on_the_cluster(cluster, tmp_path):
    with Server(f"sqlite:///{tmp_path}/dask.db", "--backend", "dask", "--scheduler", cluster, "--workers", "1",
                "--queue-size", "1", "--job-timeout-s", "3", cwd=tmp_path) as dask, \
            httpx.Client(base_url=dask.url, timeout=60) as client:
        answers = [upload(client, wait=False, **SLOW) for _ in range(4)]
        codes = [a.status_code for a in answers]
        assert 503 in codes and codes[0] == 202, codes
        assert next(a for a in answers if a.status_code == 503).headers["retry-after"] == "5"


def test_an_unreachable_scheduler_stops_serve_at_once_with_one_line(tmp_path):
    pytest.importorskip("distributed")
    dead = f"tcp://127.0.0.1:{free_port()}"
    scalelaw = Path(sys.executable).with_name("scalelaw")
    from scalelaw.errors import InputError
    from scalelaw.service.executors import executor_for

    started = time.monotonic()
    with pytest.raises(InputError, match="no Dask scheduler answers there within 3 s"):
        executor_for("dask", dead)
    assert time.monotonic() - started < 10  # the connection's 3 s, and the time to give up
    done = subprocess.run([str(scalelaw), "serve", "--port", str(free_port()), "--db", f"sqlite:///{tmp_path}/r.db",
                           "--backend", "dask", "--scheduler", dead], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and dead in lines[0] and "--scheduler" in lines[0] and "Traceback" not in done.stderr
    assert not (tmp_path / "r.db").exists()


def test_requests_cannot_choose_where_fits_run(api):
    for field, value in (("backend", "dask"), ("scheduler", "tcp://203.0.113.9:8786"), ("backend", "local")):
        answer = upload(api, by="dataset", **{field: value})
        assert answer.status_code == 422, answer.text
        assert answer.json()["field"] == field and answer.json()["error"].startswith(f"{field}: ")
    assert api.get("/v1/fits").json()["total"] == 0
