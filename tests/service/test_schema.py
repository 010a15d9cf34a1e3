"""Property tests of the API from its own ``/openapi.json`` (schemathesis), against a real ``scalelaw serve``:
whatever the generated request, valid or not, no server error and every answer as the schema declares it."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from scalelaw.service.routes import router

from service_support import CHINCHILLA, Server, until, upload

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
OPERATIONS = sorted((method, route.path) for route in router.routes for method in route.methods)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A server with one stored fit and its id; fits asked for here fail or finish within seconds."""
    folder = tmp_path_factory.mktemp("schema")
    with Server(f"sqlite:///{folder}/registry.db", "--workers", "1", "--request-timeout-s", "5",
                "--job-timeout-s", "20", "--max-bootstrap", "50", "--work-dir", str(folder / "work"),
                cwd=folder) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        job = upload(client, name="chinchilla", wait=False).json()  # a loaded machine may pass the 5 s
        state = until(lambda: (s := client.get(f"/v1/jobs/{job['id']}").json())["status"] in ("done", "failed")
                      and s, 120, "the fit of the shipped Chinchilla points finishes")
        assert state["status"] == "done", state
        yield server, state["fit_id"]


@pytest.fixture(scope="module")
def api_schema(served):
    return schemathesis.openapi.from_url(served[0].url + "/openapi.json")


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_endpoint_answers_as_declared(api_schema, served, method, path):
    operation = api_schema[path][method]
    strategies = [operation.as_strategy(mode) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
    if "{fit_id}" in path and method != "DELETE":  # the stored fit too, so the answers are reached, not only 404
        strategies.append(operation.as_strategy(path_parameters={"fit_id": served[1]}))

    @given(case=st.one_of(strategies))
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    def check(case):
        case.call_and_validate(checks=CHECKS)

    check()


@pytest.mark.parametrize("body", [b"\xff\xfez:", b"\xe2\x80z", b'{"params": 7e10,'])
def test_a_body_that_is_not_json_is_bad_input_in_one_line(served, body):
    answer = httpx.post(served[0].url + "/v1/sampling/passk", content=body,
                        headers={"content-type": "application/json"}, timeout=10)
    assert answer.status_code == 422
    line = answer.json()["error"]
    assert line.startswith("the body is not JSON") and "\n" not in line, line


def test_real_fits_answer_as_declared(api_schema):
    """A few uploads that do fit (the endpoint above mostly sees requests refused before a fit starts)."""
    operation = api_schema["/v1/fits"]["POST"]
    body = {"file": CHINCHILLA.read_bytes(), "family": "loss"}

    @given(case=operation.as_strategy(body=body, media_type="multipart/form-data"))
    @settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    def check(case):
        response = case.call_and_validate(checks=CHECKS)
        assert response.status_code in (201, 202), response.text

    check()
