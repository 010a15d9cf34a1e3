"""Registry schema versions: upgrade from version 1, refusal of a newer one, concurrent first opens."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time

import pytest
from sqlalchemy import text

import scalelaw
from scalelaw.errors import InputError
from scalelaw.service import migrations
from scalelaw.service.registry import Registry, open_engine

from support import ROOT

LEGACY = ROOT / "tests" / "legacy_artifacts"


def version_1(url: str) -> None:
    """A registry as version 1 wrote it: step 1 only, with two fits and two jobs."""
    engine, _ = open_engine(url)
    fit_text = (LEGACY / "fit.json").read_text(encoding="utf-8")
    sampling_text = (LEGACY / "sampling.json").read_text(encoding="utf-8")
    insert_fit = text("INSERT INTO fits (id, family, kind, schema, name, tags, created, data_sha256, artifact, "
                      "created_by) VALUES (:id, :family, :kind, :schema, :name, :tags, :created, :sha, :artifact, "
                      ":by)")
    insert_job = text("INSERT INTO jobs (id, status, error, fit_id, server, created_by, request, created, started, "
                      "finished) VALUES (:id, :status, :error, :fit_id, :server, NULL, :request, :created, "
                      ":created, :created)")
    with engine.connect() as conn:
        conn.execution_options(write=True)
        with conn.begin():
            assert migrations.upgrade(conn, to=1) == (0, 1)
            conn.execute(insert_fit, [
                dict(id="00000000000000a1", family="core", kind="fit", schema="scalelaw.core.fit/1", name="chin",
                     tags=json.dumps(["paper", "x"]), created="2026-11-01T10:00:00.000000+00:00", sha="1" * 64,
                     artifact=fit_text, by="alice"),
                dict(id="00000000000000a2", family="sampling", kind="sampling-fit", schema="scalelaw.sampling/1",
                     name="pythia", tags=json.dumps(["xy"]), created="2026-11-02T10:00:00.000000+00:00",
                     sha="2" * 64, artifact=sampling_text, by=None)])
            conn.execute(insert_job, [
                dict(id="00000000000000b1", status="done", error=None, fit_id="00000000000000a1", server="box",
                     request=json.dumps({"family": "loss"}), created="2026-11-01T09:59:00.000000+00:00"),
                dict(id="00000000000000b2", status="failed", error="bad row", fit_id=None, server="box",
                     request=json.dumps({"family": "sampling"}), created="2026-11-01T09:58:00.000000+00:00")])
    engine.dispose()


def test_a_version_1_registry_is_upgraded_with_its_rows_intact(registry_url):
    version_1(registry_url)
    with Registry(registry_url) as reg:
        assert reg.version() == migrations.SCHEMA_VERSION == 2
        chin, pythia = reg.get_fit("00000000000000a1"), reg.get_fit("00000000000000a2")
        assert chin.artifact_sha256 == hashlib.sha256((LEGACY / "fit.json").read_bytes()).hexdigest()
        assert pythia.artifact_sha256 == hashlib.sha256((LEGACY / "sampling.json").read_bytes()).hexdigest()
        assert (chin.name, chin.tags, chin.created_by, chin.data_sha256) == ("chin", ("paper", "x"), "alice", "1" * 64)
        assert scalelaw.load(chin.artifact).to_json() == scalelaw.load(LEGACY / "fit.json").to_json()
        listed, total = reg.list_fits()
        assert total == 2 and [r.id for r in listed] == ["00000000000000a2", "00000000000000a1"]
        assert [r.id for r in reg.list_fits(tag="x")[0]] == ["00000000000000a1"]  # the backfilled tags, exactly
        assert reg.list_fits(tag="xy")[1] == 1 and reg.list_fits(family="sampling")[1] == 1
        done, failed = reg.get_job("00000000000000b1"), reg.get_job("00000000000000b2")
        assert (done.status, done.fit_id, done.request) == ("done", "00000000000000a1", {"family": "loss"})
        assert (failed.status, failed.error) == ("failed", "bad row")
        assert reg.integrity_check() == "ok"
        new = reg.add_fit(family="core", kind="fit", schema="scalelaw.core.fit/1", name="n", tags=["x"],
                          data_sha256="3" * 64, artifact=chin.artifact)
        assert reg.list_fits(tag="x")[1] == 2 and reg.list_fits()[0][0].id == new.id
    with Registry(registry_url) as again:  # opening an up-to-date registry changes nothing
        assert again.version() == 2 and again.list_fits()[1] == 3


def test_a_registry_of_a_newer_scalelaw_is_refused(registry_url):
    with Registry(registry_url) as reg:
        reg.add_job(server="s", request={})
    engine, _ = open_engine(registry_url)
    with engine.begin() as conn:
        conn.execute(migrations.migrations_table.insert().values(version=3, applied=migrations.now()))
    engine.dispose()
    with pytest.raises(InputError) as err:
        Registry(registry_url)
    message = str(err.value)
    assert "newer scalelaw" in message and "schema 3" in message and "up to 2" in message and "\n" not in message
    assert message.startswith("db=")


OPEN = """
import pathlib, sys, time
from scalelaw.service.registry import Registry
url, ready, go = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
ready.touch()
deadline = time.monotonic() + 30
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.001)
reg = Registry(url)
reg.add_job(server=ready.name, request={})
print(reg.version())
reg.close()
"""


def test_processes_opening_a_new_registry_at_once_all_succeed(registry_url, tmp_path):
    n = 4
    go = tmp_path / "go"
    ready = [tmp_path / f"ready{i}" for i in range(n)]
    procs = [subprocess.Popen([sys.executable, "-c", OPEN, registry_url, str(r), str(go)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for r in ready]
    try:
        deadline = time.monotonic() + 60
        while not all(r.exists() for r in ready) and time.monotonic() < deadline:
            time.sleep(0.01)
        go.touch()
        outputs = [p.communicate(timeout=60) for p in procs]
    finally:
        for p in procs:
            p.kill()
    assert [(p.returncode, out.strip()) for p, (out, _) in zip(procs, outputs, strict=True)] == [(0, "2")] * n, \
        [err for _, err in outputs]
    engine, _ = open_engine(registry_url)
    with engine.connect() as conn:
        steps = conn.execute(text("SELECT version FROM schema_migrations ORDER BY version")).scalars().all()
        servers = conn.execute(text("SELECT server FROM jobs")).scalars().all()
    engine.dispose()
    assert steps == [1, 2] and sorted(servers) == sorted(r.name for r in ready)
