"""The HTTP API through TestClient: fits in, fits out, answers, errors, limits and tokens."""

from __future__ import annotations

import json

import pytest

from scalelaw import load

from service_support import CHINCHILLA, upload
from support import assert_user_error, run_cli

BAD_CSV = b"params,tokens,loss\n1e9,2e10,3.1\n2e9,abc,2.9\n4e9,8e10,2.7\n"


@pytest.fixture(scope="module")
def cli_fit(tmp_path_factory):
    """The CLI's fit of the shipped Chinchilla points with Hoffmann's starts, and its artifact path."""
    out = tmp_path_factory.mktemp("cli") / "fit.json"
    run_cli("fit", "loss", str(CHINCHILLA), "--starts", "hoffmann", "--exclude-highest", "5", "--out", str(out))
    return load(out), out


def test_health_and_laws(api):
    health = api.get("/healthz").json()
    assert health["status"] == "ok" and health["database"] == "sqlite" and health["schema_version"] >= 2
    laws = api.get("/v1/laws").json()["laws"]
    assert laws == json.loads(run_cli("laws", "--json").stdout)["laws"]


def test_upload_fits_what_the_cli_fits_and_predicts_what_it_predicts(api, cli_fit, tmp_path):
    fit, path = cli_fit
    answer = upload(api, starts="hoffmann", exclude_highest=5, tags="paper,chinchilla", name="chinchilla")
    assert answer.status_code == 201, answer.text
    stored = answer.json()
    assert stored["family"] == "loss" and stored["schema"] == "scalelaw.core.fit/1"
    assert stored["tags"] == ["paper", "chinchilla"]
    served = load(json.dumps(stored["artifact"]))
    assert served.params == fit.params  # bit for bit: the same command ran
    got = api.post(f"/v1/fits/{stored['id']}/predict", json={"params": "70B", "tokens": "1.4T"}).json()
    cli = json.loads(run_cli("predict", str(path), "--params", "70B", "--tokens", "1.4T", "--json").stdout)
    assert got == cli
    assert set(got) >= {"prediction", "lower", "upper", "warnings"}
    optimal = api.post(f"/v1/fits/{stored['id']}/optimal", json={"flops": 5.76e23}).json()
    assert optimal == json.loads(run_cli("optimal", str(path), "--flops", "5.76e23", "--json").stdout)
    assert api.get(f"/v1/fits/{stored['id']}").json()["artifact"] == stored["artifact"]
    svg = api.get(f"/v1/fits/{stored['id']}/plot.svg")
    assert svg.headers["content-type"] == "image/svg+xml" and svg.content.lstrip().startswith(b"<?xml")


def test_listing_filters_and_pages(api):
    for index, tag in enumerate(("a", "b", "a")):
        upload(api, tags=tag, name=f"run{index}")
    listed = api.get("/v1/fits", params={"tag": "a", "artifact": "false"}).json()
    assert listed["total"] == 2 and [f["name"] for f in listed["fits"]] == ["run2", "run0"]
    page = api.get("/v1/fits", params={"limit": 2}).json()
    assert page["total"] == 3 and len(page["fits"]) == 2 and page["next_offset"] == 2
    assert all("artifact" in f for f in page["fits"])
    assert api.get("/v1/fits", params={"family": "sampling"}).json()["total"] == 0


def test_delete_drops_the_fit_and_its_cached_answers(api):
    fit_id = upload(api).json()["id"]
    assert api.post(f"/v1/fits/{fit_id}/predict", json={"params": 1e9, "tokens": 2e10}).status_code == 200
    assert api.delete(f"/v1/fits/{fit_id}").json() == {"id": fit_id, "deleted": True}
    for response in (api.get(f"/v1/fits/{fit_id}"), api.delete(f"/v1/fits/{fit_id}"),
                     api.post(f"/v1/fits/{fit_id}/predict", json={"params": 1e9, "tokens": 2e10})):
        assert response.status_code == 404 and fit_id in response.json()["error"]


def test_a_bad_cell_names_row_and_column_and_stores_nothing(api):
    answer = upload(api, content=BAD_CSV, filename="runs.csv")
    assert answer.status_code == 422
    body = answer.json()
    assert body["file"] == "runs.csv" and body["row"] == 2 and body["column"] == "tokens"
    assert body["error"].startswith("runs.csv, row 2") and "\n" not in body["error"]
    assert body["job"]["status"] == "failed" and body["job"]["fit_id"] is None
    assert api.get(f"/v1/jobs/{body['job']['id']}").json()["error"] == body["error"]
    assert api.get("/v1/fits").json()["total"] == 0


def test_a_job_answers_202_and_ends_done(api):
    job = upload(api, wait=False).json()
    assert job["status"] in ("queued", "running", "done")
    import time

    deadline = time.monotonic() + 60
    while (state := api.get(f"/v1/jobs/{job['id']}").json())["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert state["status"] == "done" and api.get(f"/v1/fits/{state['fit_id']}").status_code == 200


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"family": "nope"}, "family", "unknown family"),
    ({"law": "E + A/N**alpha + __import__('os')"}, None, "not allowed"),
    ({"bootstrap": "lots"}, "bootstrap", "valid integer"),
    ({"bootstrap": "20000"}, "bootstrap", "limit of 10000"),
    ({"out": "/etc/passwd"}, "out", "leave this field out"),
    ({"frobnicate": "1"}, "frobnicate", "not an option"),
    ({"command": "isoflop", "budget_column": "x", "where": "a=1", "seed": "x"}, "seed", "valid integer"),
])
def test_bad_fields_are_one_line_422(api, fields, field, words):
    answer = upload(api, **fields)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert words in body["error"] and "\n" not in body["error"]
    if field is not None:
        assert body["field"] == field
    assert api.get("/v1/fits").json()["total"] == 0


def test_json_rows_fit_like_a_file(api):
    header = CHINCHILLA.read_text().splitlines()[0].split(",")
    rows = [dict(zip(header, line.split(","), strict=True)) for line in CHINCHILLA.read_text().splitlines()[1:]]
    answer = api.post("/v1/fits", params={"wait": "true"}, json={"family": "loss", "rows": rows, "name": "rows"})
    assert answer.status_code == 201, answer.text
    by_file = upload(api).json()
    assert load(json.dumps(answer.json()["artifact"])).params == load(json.dumps(by_file["artifact"])).params


def test_limits(make_api):
    api = make_api(limits={"max_upload_mb": 0.001, "max_rows": 10, "max_expression_chars": 40})
    assert upload(api).status_code == 413
    small = b"params,tokens,loss\n" + b"1e9,2e10,3\n" * 11
    assert "11 rows" in upload(api, content=small, filename="s.csv").json()["error"]
    long_law = upload(api, content=small[:60], filename="s.csv", law="E + A/N**alpha + B/D**beta + 0*N*D*N*D*N*D*N")
    assert long_law.json()["field"] == "law", long_law.json()
    assert api.get("/v1/fits").json()["total"] == 0


def test_a_fit_over_the_time_limit_is_stopped_and_failed(make_api):
    api = make_api(limits={"job_timeout_s": 0.3})
    body = upload(api, starts="hoffmann", bootstrap=2000).json()
    assert "job time limit of 0.3 s" in body["error"]
    assert api.get("/v1/fits").json()["total"] == 0


def test_a_full_queue_answers_503_with_retry_after(make_api):
    api = make_api(workers=1, limits={"queue_size": 1})
    answers = [upload(api, wait=False, starts="hoffmann", bootstrap=200) for _ in range(4)]
    refused = [a for a in answers if a.status_code == 503]
    assert refused and all(a.headers["retry-after"] == "5" and "queue" in a.json()["error"] for a in refused)
    assert all(a.status_code == 202 for a in answers if a not in refused)


def test_wrong_verb_for_the_fit(api):
    fit_id = upload(api).json()["id"]
    answer = api.post(f"/v1/fits/{fit_id}/recommend", json={"params": "7B", "tokens": "1.4T"})
    assert answer.status_code == 422 and "\n" not in answer.json()["error"]
    unknown = api.post(f"/v1/fits/{fit_id}/predict", json={"params": "7B", "tokens": "1.4T", "colour": "red"})
    assert unknown.status_code == 422 and "colour" in unknown.json()["error"]
    bad_unit = api.post(f"/v1/fits/{fit_id}/predict", json={"params": "7X", "tokens": "1.4T"})
    assert bad_unit.status_code == 422 and "7X" in bad_unit.json()["error"]


def test_stateless_answers_equal_the_cli(api):
    got = api.post("/v1/hparams/recommend", json={"params": "7B", "tokens": "1.4T"}).json()
    cli = json.loads(run_cli("hparams", "recommend", "--params", "7B", "--tokens", "1.4T", "--json").stdout)
    assert got == cli
    assert f"{got['lr']:.3g}" == "0.000917" and round(got["batch_size"] / 1e6, 1) == 5.0


def test_tokens_guard_writes_and_optionally_reads(make_api, tmp_path):
    from scalelaw.service import auth

    write_secret, write = auth.new_token("alice", "write")
    read_secret, read = auth.new_token("ci", "read")
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("".join(f"{t.name} {t.scope} {t.sha256}\n" for t in (write, read)))
    assert write_secret not in tokens.read_text()
    api = make_api(token_file=tokens)
    assert upload(api).status_code == 401
    assert upload(api, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert upload(api, headers={"Authorization": f"Bearer {read_secret}"}).status_code == 403
    made = upload(api, headers={"Authorization": f"Bearer {write_secret}"})
    assert made.status_code == 201 and made.json()["created_by"] == "alice"
    assert api.get("/v1/fits").status_code == 200  # reads are open unless --private
    private = make_api(token_file=tokens, private=True, db=f"sqlite:///{tmp_path}/private.db")
    assert private.get("/v1/fits").status_code == 401
    assert private.get("/v1/fits", headers={"Authorization": f"Bearer {read_secret}"}).status_code == 200
    assert private.delete("/v1/fits/x", headers={"Authorization": f"Bearer {read_secret}"}).status_code == 403


def test_other_addresses_need_a_token_file():
    assert_user_error(run_cli("serve", "--host", "0.0.0.0", "--port", "1"), "--host 0.0.0.0", "--token-file")
