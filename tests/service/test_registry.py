"""The registry on SQLite and PostgreSQL: fits round-trip, listings, deletion, jobs, integrity."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import numpy as np
import pytest

import scalelaw
from scalelaw.errors import InputError
from scalelaw.service.registry import INTERRUPTED, Registry, StaleJob

from support import ROOT

LEGACY = ROOT / "tests" / "legacy_artifacts"
ZEROS = "0" * 64


@pytest.fixture
def registry(registry_url):
    with Registry(registry_url) as reg:
        yield reg


def store(reg, text, *, name="fit", tags=(), family=None, **kw):
    payload = json.loads(text)
    family = family or payload["schema"].split(".")[1]
    return reg.add_fit(family=family, kind=payload["kind"], schema=payload["schema"], name=name, tags=tags,
                       data_sha256=payload.get("data", {}).get("sha256", ZEROS), artifact=text, **kw)


def test_a_stored_fit_comes_back_byte_for_byte_and_predicts_as_the_file(registry):
    expected = json.loads((LEGACY / "expected.json").read_text())["fit"]
    text = scalelaw.load(LEGACY / "fit.json").to_json()
    row = store(registry, text, name="chinchilla", tags=["paper", "loss"], created_by="alice")
    back = registry.get_fit(row.id)
    assert back == row and back.artifact == text
    assert back.artifact_sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert (back.family, back.kind, back.schema) == ("core", "fit", "scalelaw.core.fit/1")
    assert back.tags == ("paper", "loss") and back.created_by == "alice" and len(back.id) == 16
    assert datetime.fromisoformat(back.created).tzinfo == UTC
    fit = scalelaw.load(back.artifact)
    value, lower, upper = fit.predict_interval({"params": [expected["params"]], "tokens": [expected["tokens"]]},
                                              warn=False)
    np.testing.assert_array_equal([value[0], lower[0], upper[0]], expected["loss"])
    as_dict = back.to_dict()
    assert json.loads(json.dumps(as_dict))["artifact"] == json.loads(text) and as_dict["tags"] == ["paper", "loss"]
    assert registry.fit_exists(row.id) and not registry.fit_exists("0123456789abcdef")
    assert registry.get_fit("0123456789abcdef") is None


@pytest.mark.parametrize("name", ["hparams", "sampling", "datastore"])
def test_any_family_artifact_is_stored_as_is(registry, name):
    path = LEGACY / f"{name}.json"
    row = store(registry, path.read_text(encoding="utf-8"))
    back = registry.get_fit(row.id)
    assert back.artifact_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert scalelaw.load(back.artifact).to_json() == scalelaw.load(path).to_json()


def test_listing_filters_exactly_and_pages_newest_first(registry):
    text = (LEGACY / "fit.json").read_text()
    spec = [("loss", "a", ["x"]), ("loss", "b", ["xy"]), ("sampling", "a", ["x", "y"]), ("loss", "a", []),
            ("hyperparams", "c", ["y"]), ("loss", "b", ["x"]), ("sampling", "c", ["yx"])]
    rows = [store(registry, text, family=f, name=n, tags=t) for f, n, t in spec]
    newest = [r.id for r in reversed(rows)]

    listed, total = registry.list_fits()
    assert total == 7 and [r.id for r in listed] == newest
    assert all(r.artifact is None and "artifact" not in r.to_dict() for r in listed)
    assert listed[0].tags == ("yx",) and listed[-1].artifact_sha256 == rows[0].artifact_sha256

    pages = [registry.list_fits(limit=3, offset=k) for k in (0, 3, 6, 9)]
    assert [len(p) for p, _ in pages] == [3, 3, 1, 0] and {t for _, t in pages} == {7}
    assert [r.id for p, _ in pages for r in p] == newest

    def ids(**kw):
        found, total = registry.list_fits(**kw)
        assert total == len(found)
        return {r.id for r in found}

    by = {i: r.id for i, r in enumerate(rows)}
    assert ids(tag="x") == {by[0], by[2], by[5]}  # not "xy" nor "yx"
    assert ids(tag="y") == {by[2], by[4]}
    assert ids(tag="nothing") == set()
    assert ids(family="loss") == {by[0], by[1], by[3], by[5]}
    assert ids(name="a") == {by[0], by[2], by[3]}
    assert ids(family="loss", name="b", tag="x") == {by[5]}
    assert ids(tag="%") == set() and ids(name="_") == set()
    page, total = registry.list_fits(family="loss", limit=2, offset=1)
    assert total == 4 and [r.id for r in page] == [by[3], by[1]]
    for bad in ({"limit": -1}, {"offset": -3}, {"limit": 2.5}):
        with pytest.raises(InputError, match="give a whole number"):
            registry.list_fits(**bad)


def test_delete_removes_the_fit_and_its_tags_only(registry):
    text = (LEGACY / "fit.json").read_text()
    keep, gone = store(registry, text, tags=["t"]), store(registry, text, tags=["t"])
    assert registry.delete_fit(gone.id) is True
    assert registry.delete_fit(gone.id) is False
    assert registry.get_fit(gone.id) is None and not registry.fit_exists(gone.id)
    assert registry.get_fit(keep.id) == keep
    listed, total = registry.list_fits(tag="t")
    assert total == 1 and [r.id for r in listed] == [keep.id]


def test_job_lifecycle_queued_running_done(registry):
    request = {"family": "loss", "law": "chinchilla", "options": {"starts": "hoffmann", "bootstrap": 0},
               "filename": "runs.csv"}
    job = registry.add_job(server="box-1", request=request, created_by="bob")
    assert (job.status, job.fit_id, job.error, job.started, job.finished) == ("queued", None, None, None, None)
    assert registry.get_job(job.id) == job and registry.get_job(job.id).request == request
    assert registry.start_job(job.id) is True and registry.start_job(job.id) is False
    running = registry.get_job(job.id)
    assert running.status == "running" and running.started >= running.created
    fit = store(registry, (LEGACY / "fit.json").read_text(), job_id=job.id)
    done = registry.get_job(job.id)
    assert (done.status, done.fit_id, done.error) == ("done", fit.id, None) and done.finished == fit.created
    assert registry.fail_job(job.id, "late") is False and registry.get_job(job.id).status == "done"
    assert done.to_dict() == {**done.to_dict(), "id": job.id, "status": "done", "request": request}
    assert registry.get_job("0123456789abcdef") is None
    registry.delete_fit(fit.id)
    assert registry.get_job(job.id).status == "done" and registry.get_job(job.id).fit_id is None


def test_a_failed_job_has_no_fit_row(registry):
    job = registry.add_job(server="box-1", request={"family": "loss"})
    registry.start_job(job.id)
    assert registry.fail_job(job.id, "data.csv, row 3, column 'loss': not a number") is True
    failed = registry.get_job(job.id)
    assert failed.status == "failed" and failed.error.startswith("data.csv, row 3") and failed.fit_id is None
    with pytest.raises(StaleJob, match=job.id):
        store(registry, (LEGACY / "fit.json").read_text(), job_id=job.id)
    with pytest.raises(StaleJob):
        store(registry, (LEGACY / "fit.json").read_text(), job_id="0123456789abcdef")
    assert registry.list_fits() == ([], 0)
    assert registry.get_job(job.id) == failed


def test_interrupt_jobs_fails_only_this_servers_unfinished_jobs(registry):
    mine = [registry.add_job(server="a", request={"n": i}) for i in range(3)]
    other = registry.add_job(server="b", request={})
    registry.start_job(mine[0].id)
    registry.start_job(other.id)
    store(registry, (LEGACY / "fit.json").read_text(), job_id=mine[2].id)
    assert registry.interrupt_jobs("a") == 2
    assert [registry.get_job(j.id).status for j in mine] == ["failed", "failed", "done"]
    assert {registry.get_job(j.id).error for j in mine[:2]} == {INTERRUPTED}
    assert all(registry.get_job(j.id).finished for j in mine)
    assert registry.get_job(other.id).status == "running"
    assert registry.interrupt_jobs("a") == 0 and registry.start_job(mine[1].id) is False
    assert registry.list_fits()[1] == 1


def test_integrity_check_and_version(registry):
    store(registry, (LEGACY / "fit.json").read_text())
    assert registry.integrity_check() == "ok" and registry.version() == 2
    assert registry.dialect in {"sqlite", "postgresql"} and registry.url.startswith(registry.dialect)


@pytest.mark.parametrize("url, words", [
    ("not a url", "not a database URL"),
    ("mysql://u@localhost/x", "unknown database 'mysql'"),
    ("sqlite://", "in-memory"),
    ("sqlite:///{tmp}/no/such/folder/r.db", "cannot open the database"),
    ("postgresql+psycopg://postgres@127.0.0.1:{port}/x", "cannot open the database"),
    ("postgresql+asyncpg://postgres@127.0.0.1/x", "not supported"),
])
def test_a_bad_database_is_one_line_naming_db_and_what_to_do(tmp_path, url, words):
    from postgres_server import free_port

    url = url.format(tmp=tmp_path, port=free_port())
    with pytest.raises(InputError) as err:
        Registry(url)
    message = str(err.value)
    assert message.startswith("db=") and words in message and "\n" not in message
    assert "give" in message or "check" in message


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "r.db"
    path.write_text("name,loss\n" * 500)
    with pytest.raises(InputError, match="file is not a database"):
        Registry(f"sqlite:///{path}")
    assert path.read_text() == "name,loss\n" * 500


def test_the_password_of_a_url_is_not_shown(tmp_path):
    from postgres_server import free_port

    with pytest.raises(InputError) as err:
        Registry(f"postgresql+psycopg://u:hunter2@127.0.0.1:{free_port()}/x")
    assert "hunter2" not in str(err.value) and "***" in str(err.value)
