"""The endpoints of API v1: fits in (jobs), fits out (the registry), and the answers a fit gives."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from scalelaw._version import __version__
from scalelaw.errors import InputError
from scalelaw.service import models, uploads
from scalelaw.service.app import ApiError, State
from scalelaw.service.jobs import FitSpec

router = APIRouter()
ERRORS = {code: {"model": models.ErrorBody} for code in (401, 403, 404, 413, 422)}
ANSWER = {200: {"content": {"application/json": {"schema": {"type": "object"}}}}, **ERRORS}
ON_LOOP = ("predict", "optimal")
NOT_OPTIONS = ("family", "command", "name", "tags", "rows", "filename")
UPLOAD_SCHEMA = {
    "requestBody": {"required": True, "content": {
        "multipart/form-data": {"schema": {
            "type": "object", "required": ["file", "family"], "additionalProperties": True,
            "properties": {
                "file": {"type": "string", "format": "binary", "description": "The log: CSV, TSV, JSONL, parquet."},
                "family": {"type": "string", "description": "loss, hparams, sampling, datastore, downstream, "
                                                            "transport."},
                "command": {"type": "string", "description": "The family's fit command (default its first)."},
                "law": {"type": "string"}, "name": {"type": "string"},
                "tags": {"type": "string", "description": "Comma-separated."},
            }}},
        "application/json": {"schema": {
            "type": "object", "required": ["family", "rows"], "additionalProperties": True,
            "properties": {"family": {"type": "string"}, "rows": {"type": "array", "items": {"type": "object"}},
                           "law": {"type": "string"}, "name": {"type": "string"},
                           "tags": {"type": "array", "items": {"type": "string"}}}}}}}}


def state_of(request: Request) -> State:
    return request.app.state.scalelaw


def reading(request: Request) -> State:
    """The service's state, once the caller may read."""
    state = state_of(request)
    state.who(request, "read")
    return state


def job_json(job) -> dict:
    return {"id": job.id, "status": job.status, "fit_id": job.fit_id, "error": job.error,
            "created": job.created, "started": job.started, "finished": job.finished}


SERVER_DECIDES = ("backend", "scheduler")
"""Fit options a request may not give: they would make the server connect where the client says."""


def fit_json(row, *, artifact: bool = True) -> dict:
    out = {"id": row.id, "family": row.family, "kind": row.kind, "schema": row.schema, "name": row.name,
           "tags": list(row.tags), "created": row.created, "data_sha256": row.data_sha256,
           "artifact_sha256": row.artifact_sha256, "created_by": row.created_by}
    if artifact and row.artifact is not None:
        out["artifact"] = json.loads(row.artifact)
    return out


def not_found(kind: str, item_id: str) -> ApiError:
    return ApiError(404, f"no {kind} with id {item_id!r}; list them with GET /v1/{kind}s")


@router.get("/healthz", response_model=models.Health, responses={503: {"model": models.ErrorBody}}, tags=["service"])
def health(request: Request):
    """Whether the service and its database answer (one cheap query; the registry's ``integrity_check``
    reads the whole database and is for operators, not for every probe)."""
    state = state_of(request)
    try:
        schema_version = state.registry.version()
    except Exception as err:  # the database went away: say so, as a load balancer expects
        raise ApiError(503, f"the registry does not answer: {str(err).splitlines()[0][:200]}") from None
    return {"status": "ok", "version": __version__,
            "database": state.registry.dialect, "schema_version": schema_version,
            "workers": state.config.workers, "backend": state.runner.executor.name,
            "jobs_waiting": state.runner.waiting,
            "interrupted_at_start": state.interrupted}


@router.get("/v1/laws", response_model=models.Laws, tags=["laws"])
def laws(request: Request):
    """The catalogue of laws: name, formula, inputs, parameters (as the laws command prints them)."""
    from scalelaw.laws import describe

    reading(request)
    return {"laws": describe()}


async def _fields(request: Request, limits) -> tuple[dict, dict, str]:
    """The request's fields, its uploads (field -> UploadFile or rows) and the default fit name."""
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/json"):
        try:
            body = json.loads(await request.body())
        except (ValueError, RecursionError):
            raise InputError("the body is not JSON; send an object with family, rows and options") from None
        if not isinstance(body, dict):
            raise InputError("the body must be a JSON object with family, rows and options")
        if uploads.json_depth(body, limits.max_nesting) > limits.max_nesting:
            raise InputError(f"the body nests deeper than the limit of {limits.max_nesting}")
        rows = body.pop("rows", None)
        if rows is None:
            raise InputError("rows: give the runs as a list of objects, or upload a file", field="rows")
        return body, {"file": rows}, str(body.get("filename") or "rows")
    if not kind.startswith("multipart/form-data"):
        raise InputError("send the log as multipart/form-data (field 'file') or JSON rows (application/json)")
    form = await request.form(max_files=8, max_fields=200)
    fields: dict[str, Any] = {}
    files: dict[str, Any] = {}
    for key, value in form.multi_items():
        if hasattr(value, "filename") and hasattr(value, "read"):
            files[key] = value
        else:
            fields.setdefault(key, []).append(value)
    fields = {k: v[0] if len(v) == 1 else v for k, v in fields.items()}
    if "file" not in files:
        raise InputError("file: upload the log as a multipart part named 'file'", field="file")
    return fields, files, Path(uploads.safe_name(files["file"].filename)).stem


def _save_all(files: dict, folder: Path, limit_bytes: int) -> tuple[dict[str, Path], str]:
    """Every upload saved in the job folder; the SHA-256 of the main file."""
    paths, main = {}, ""
    for key, upload in files.items():
        if isinstance(upload, list):
            path, digest = uploads.save_rows(upload, folder)
        else:
            name = uploads.safe_name(upload.filename, f"{key}.csv")
            path, digest = uploads.save(upload.file, folder, name, limit_bytes=limit_bytes)
        paths[key] = path
        main = digest if key == "file" else main
    return paths, main


@router.post("/v1/fits", status_code=202, tags=["fits"], openapi_extra=UPLOAD_SCHEMA,
             responses={201: {"model": models.Fit, "description": "wait=true: the stored fit"},
                        202: {"model": models.Job, "description": "the job"},
                        503: {"model": models.ErrorBody, "description": "the queue is full"}, **ERRORS})
async def submit_fit(request: Request, wait: bool = Query(False, description="Answer with the fit if it "
                                                                              "finishes within the time limit.")):
    """Fit a law to an uploaded log (multipart: ``file`` plus the CLI's options as fields) or to JSON rows."""
    from scalelaw.cli import invoke

    state = state_of(request)
    who = state.who(request, "write")
    fields, files, default_name = await _fields(request, state.config.limits)
    family = fields.pop("family", None)
    if not isinstance(family, str) or not family:
        raise InputError(f"family: give one of {', '.join(invoke.FIT_COMMANDS)}", field="family")
    command = fields.pop("command", None)
    name = str(fields.pop("name", "") or default_name)[:200]
    tags = fields.pop("tags", ())
    tags = [t.strip() for t in (tags.split(",") if isinstance(tags, str) else tags) if str(t).strip()]
    fields.pop("filename", None)
    for key in fields:
        if str(key).replace("-", "_") in SERVER_DECIDES:
            raise InputError(f"{key}: where fits run is the server's choice, not the request's; leave this "
                             "field out", field=key)
    invocation = invoke.prepare(family, command, fields, tuple(files))
    folder = uploads.job_folder(state.work_dir)
    try:
        paths, sha = await run_in_threadpool(_save_all, files, folder, state.config.limits.max_upload_bytes)
        await run_in_threadpool(uploads.check_limits, fields, paths, state.config.limits)
        spec = FitSpec(invocation, folder, tuple(paths.items()), name, tuple(tags), sha, who)
        request_json = {"family": family, "command": invocation.command, "options": fields, "name": name,
                        "tags": tags, "files": {k: p.name for k, p in paths.items()}}
        job = await run_in_threadpool(state.registry.add_job, server=state.config.name, request=request_json,
                                      created_by=who)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    try:
        state.runner.submit(job.id, spec, awaited=wait)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        await run_in_threadpool(state.registry.fail_job, job.id, "refused: the job queue was full")
        raise
    if not wait:
        return JSONResponse(job_json(job), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})
    outcome = await _wait(state, job.id, state.config.limits.request_timeout_s)
    job = await run_in_threadpool(state.registry.get_job, job.id)
    if outcome is None:
        return JSONResponse(job_json(job), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})
    if outcome.error is not None:
        return JSONResponse({**outcome.error, "job": job_json(job)}, status_code=422)
    row = await run_in_threadpool(state.registry.get_fit, outcome.fit_id)
    return JSONResponse(fit_json(row), status_code=201, headers={"Location": f"/v1/fits/{row.id}"})


async def _wait(state: State, job_id: str, timeout: float):
    """The job's outcome if it ends within ``timeout`` seconds, polled without holding a thread."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while (outcome := state.runner.wait(job_id, 0)) is None and loop.time() < deadline:
            await asyncio.sleep(0.05)
        return outcome
    finally:
        state.runner.forget(job_id)


@router.get("/v1/jobs/{job_id}", response_model=models.Job, responses=ERRORS, tags=["fits"])
def get_job(request: Request, job_id: str):
    """A fit job's state: queued, running, done (with ``fit_id``) or failed (with ``error``)."""
    state = reading(request)
    job = state.registry.get_job(job_id)
    if job is None:
        raise not_found("job", job_id)
    return job_json(job)


@router.get("/v1/fits", response_model=models.FitList, responses=ERRORS, tags=["fits"])
def list_fits(request: Request, family: str | None = None, name: str | None = None, tag: str | None = None,
              limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=10**9),
              artifact: bool = Query(True, description="Include each fit's artifact.")):
    """The team's fits, newest first, filtered by family, name or tag; ``limit`` and ``offset`` page."""
    state = reading(request)
    rows, total = state.registry.list_fits(family=family, name=name, tag=tag, limit=limit, offset=offset)
    if artifact:
        rows = [state.registry.get_fit(r.id) or r for r in rows]
    return {"fits": [fit_json(r, artifact=artifact) for r in rows], "total": total, "limit": limit,
            "offset": offset, "next_offset": offset + limit if offset + limit < total else None}


@router.get("/v1/fits/{fit_id}", response_model=models.Fit, responses=ERRORS, tags=["fits"])
def get_fit(request: Request, fit_id: str):
    """One stored fit with its artifact."""
    state = reading(request)
    row = state.registry.get_fit(fit_id)
    if row is None:
        raise not_found("fit", fit_id)
    return fit_json(row)


@router.delete("/v1/fits/{fit_id}", response_model=models.Deleted, responses=ERRORS, tags=["fits"])
def delete_fit(request: Request, fit_id: str):
    """Remove a stored fit."""
    state = state_of(request)
    state.who(request, "write")
    if not state.registry.delete_fit(fit_id):
        raise not_found("fit", fit_id)
    state.cache.drop(fit_id)
    return {"id": fit_id, "deleted": True}


async def loaded(state: State, fit_id: str):
    """The stored fit as its result object, from the cache while the registry still has it (a fit deleted
    through another server behind the same database stops answering at once).  On SQLite the check is a
    read of a local file, quicker than a hop to a worker thread, so it runs on the event loop."""
    from scalelaw import protocol

    cached = state.cache.get(fit_id)
    if cached is not None:
        if state.registry.dialect == "sqlite":
            stored = state.registry.fit_exists(fit_id)
        else:
            stored = await run_in_threadpool(state.registry.fit_exists, fit_id)
        if stored:
            return cached
    row = await run_in_threadpool(state.registry.get_fit, fit_id)
    if row is None:
        state.cache.drop(fit_id)
        raise not_found("fit", fit_id)
    result = await run_in_threadpool(protocol.load, row.artifact)
    state.cache.put(fit_id, result)
    return result


@router.get("/v1/fits/{fit_id}/plot.svg", responses={200: {"content": {"image/svg+xml": {}}}, **ERRORS},
            response_class=Response, tags=["fits"])
async def plot_fit(request: Request, fit_id: str):
    """The fit's figure, as SVG."""
    state = reading(request)
    result = await loaded(state, fit_id)
    return Response(await run_in_threadpool(_svg, state, result), media_type="image/svg+xml")


def _svg(state: State, result) -> bytes:
    from scalelaw.plots.common import figure_bytes

    with state.plot_lock:
        return figure_bytes(result.plot(), "plot.svg")


class AnswerResponse(JSONResponse):
    """An answer (plain JSON already, non-finite numbers as ``{"$float": "nan"}``) on one line, sent as is,
    without a second pass through a response model."""

    def render(self, content) -> bytes:
        return json.dumps(content, allow_nan=False, separators=(",", ":")).encode()


async def _answer(request: Request, verb: str, fit_id: str, body: dict) -> AnswerResponse:
    """``verb`` asked of the stored fit.  The quick answers (predict, optimal) of a cached fit are computed
    on the event loop (well under a millisecond, less than a hop to a worker thread costs), the others in
    the thread pool."""
    from scalelaw import answers

    state = reading(request)
    _check_body(state, body)
    result = await loaded(state, fit_id)
    if verb in ON_LOOP:
        return AnswerResponse(answers.answer(verb, result, **body))
    return AnswerResponse(await run_in_threadpool(answers.answer, verb, result, **body))


def _check_body(state: State, body) -> None:
    if not isinstance(body, dict):
        raise InputError("the body must be a JSON object of inputs, e.g. {\"params\": \"70B\"}")
    limit = state.config.limits.max_nesting
    if uploads.json_depth(body, limit) > limit:
        raise InputError(f"the body nests deeper than the limit of {limit}")


Inputs = Body(default_factory=dict, examples=[{"params": "70B", "tokens": "1.4T"}])


QUESTIONS = {
    "predict": "The law's prediction at the inputs, with its interval and warnings (as the predict command "
               "prints it).",
    "optimal": "The compute-optimal allocation for ``flops`` (as the optimal command prints it).",
    "plan": "Samples per problem for a ``target`` coverage, with cost (as the sampling plan command prints it).",
    "recommend": "Learning rate and batch size from a fitted hyperparameter law (as the hparams recommend "
                 "command prints it).",
}


def _question(verb: str):
    async def endpoint(request: Request, fit_id: str, body: dict[str, Any] = Inputs):
        return await _answer(request, verb, fit_id, body)

    endpoint.__name__ = endpoint.__qualname__ = verb
    return endpoint


for _verb, _doc in QUESTIONS.items():
    router.add_api_route(f"/v1/fits/{{fit_id}}/{_verb}", _question(_verb), methods=["POST"], description=_doc,
                         responses=ANSWER, response_class=AnswerResponse, tags=["answers"])


def _stateless(request: Request, body, function) -> AnswerResponse:
    state = reading(request)
    _check_body(state, body)
    return AnswerResponse(function(**body))


@router.post("/v1/hparams/recommend", responses=ANSWER, response_class=AnswerResponse, tags=["answers"])
def recommend_published(request: Request, body: dict[str, Any] = Inputs):
    """Learning rate and batch size from a published law (``law``: steplaw, deepseek, ...)."""
    from scalelaw import answers

    return _stateless(request, body, answers.recommend_published)


@router.post("/v1/sampling/passk", responses=ANSWER, response_class=AnswerResponse, tags=["answers"])
def passk(request: Request, body: dict[str, Any] = Inputs):
    """Unbiased pass@k from per-problem counts (as the sampling passk command prints it)."""
    from scalelaw import answers

    return _stateless(request, body, answers.passk)
