"""The FastAPI application: state, tokens, errors and the body limit; the endpoints are in ``routes``."""

from __future__ import annotations

import json
import shutil
from collections import OrderedDict
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from scalelaw._version import __version__
from scalelaw.errors import ScalelawError
from scalelaw.service import auth, uploads
from scalelaw.service.config import ServiceConfig
from scalelaw.service.jobs import JobRunner, QueueFull, error_body


class ApiError(Exception):
    """An answer other than 200 with one line: 401, 403, 404, 413, ..."""

    def __init__(self, status: int, line: str, headers: dict | None = None, **where) -> None:
        super().__init__(line)
        self.status, self.headers, self.where = status, headers, where


class FitCache:
    """Loaded fits by id, the most recently used kept (fits are immutable; a delete drops its entry)."""

    def __init__(self, size: int = 256) -> None:
        self._items: OrderedDict[str, object] = OrderedDict()
        self._size, self._lock = size, Lock()

    def get(self, fit_id: str):
        with self._lock:
            if fit_id in self._items:
                self._items.move_to_end(fit_id)
                return self._items[fit_id]
        return None

    def put(self, fit_id: str, result) -> None:
        with self._lock:
            self._items[fit_id] = result
            self._items.move_to_end(fit_id)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def drop(self, fit_id: str) -> None:
        with self._lock:
            self._items.pop(fit_id, None)


@dataclass
class State:
    """What the endpoints share."""

    config: ServiceConfig
    registry: object
    runner: JobRunner
    tokens: tuple[auth.Token, ...] | None
    work_dir: Path
    interrupted: int
    cache: FitCache = field(default_factory=FitCache)
    plot_lock: Lock = field(default_factory=Lock)

    def who(self, request: Request, scope: str) -> str | None:
        """The name of the caller's token, checked for ``scope`` (None when the service has no tokens)."""
        if self.tokens is None or (scope == "read" and not self.config.private):
            return None
        header = request.headers.get("authorization", "")
        kind, _, secret = header.partition(" ")
        if kind.lower() != "bearer" or not secret.strip():
            raise ApiError(401, "this service needs a token: send the header 'Authorization: Bearer TOKEN'",
                           headers={"WWW-Authenticate": "Bearer"})
        token = auth.find(self.tokens, secret.strip())
        if token is None:
            raise ApiError(401, "the token is not known to this service; ask its operator for one",
                           headers={"WWW-Authenticate": "Bearer"})
        if not token.allows(scope):
            raise ApiError(403, f"the token {token.name!r} may only read; {scope} needs a write token")
        return token.name


class BodyLimit:
    """Refuse a request body over the limit while it streams in (413), not after it was stored."""

    def __init__(self, app, limit_bytes: int) -> None:
        self.app, self.limit = app, limit_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await _send_error(send, 413, str(uploads.TooLarge(self.limit)))
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise uploads.TooLarge(self.limit)
            return message

        try:
            await self.app(scope, limited, send)
        except uploads.TooLarge as err:
            await _send_error(send, 413, str(err))


async def _send_error(send, status: int, line: str) -> None:
    body = json.dumps({"error": line}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def _json(status: int, body: dict, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def create_app(config: ServiceConfig) -> FastAPI:
    """The application for a checked configuration; the registry opens (and migrates) here."""
    from scalelaw.service.executors import executor_for
    from scalelaw.service.registry import Registry
    from scalelaw.service.routes import router
    from scalelaw.service.web import router as web_router

    config = config.check()
    tokens = auth.read_tokens(config.token_file) if config.token_file is not None else None
    executor = executor_for(config.backend, config.scheduler)  # a Dask scheduler must answer before anything
    registry = Registry(config.db)
    interrupted = registry.interrupt_jobs(config.name)
    work_dir = uploads.server_folder(config.work_dir, config.name)
    runner = JobRunner(registry, workers=config.workers, queue_size=config.limits.queue_size,
                       timeout_s=config.limits.job_timeout_s, executor=executor)
    state = State(config, registry, runner, tokens, work_dir, interrupted)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        runner.stop()
        registry.close()
        if config.work_dir is None:
            shutil.rmtree(work_dir, ignore_errors=True)

    app = FastAPI(title="scalelaw", version=__version__, lifespan=lifespan,
                  description="Fit scaling laws to training logs, store the fits, and ask them for predictions, "
                              "compute-optimal allocations, hyperparameters and sample budgets.")
    app.state.scalelaw = state
    app.include_router(router)
    app.include_router(web_router)
    app.add_middleware(BodyLimit, limit_bytes=config.limits.max_upload_bytes)

    @app.exception_handler(ScalelawError)
    async def _user_error(request: Request, err: ScalelawError):
        return _json(422, error_body(err))

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, err: ApiError):
        return _json(err.status, {"error": str(err), **err.where}, err.headers)

    @app.exception_handler(QueueFull)
    async def _queue_full(request: Request, err: QueueFull):
        return _json(503, {"error": f"all {config.limits.queue_size} queue places are taken; retry in a few "
                                    "seconds"}, {"Retry-After": "5"})

    @app.exception_handler(uploads.TooLarge)
    async def _too_large(request: Request, err: uploads.TooLarge):
        return _json(413, {"error": str(err)})

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, err: ClientDisconnect):
        return Response(status_code=400)  # nobody to answer: the client left mid-body, nothing was stored

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError):
        first = err.errors()[0] if err.errors() else {"loc": (), "msg": "invalid request"}
        if first.get("type") == "json_invalid":
            at = first.get("loc", ())[-1]
            why = (first.get("ctx") or {}).get("error", first["msg"])
            return _json(422, {"error": f"the body is not JSON ({why} at character {at}); send an object of "
                                        "inputs, e.g. {\"params\": \"70B\"}"})
        where = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
        name = ".".join(where) or None
        return _json(422, {"error": f"{name}: {first['msg']}" if name else first["msg"], "field": name})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException):
        line = err.detail if isinstance(err.detail, str) else "request refused"
        if err.status_code == 404 and line == "Not Found":
            line = f"no endpoint {request.url.path}; see /docs for the API"
        if err.status_code == 405:
            line = f"{request.method} is not allowed on {request.url.path}; see /docs for the API"
        status = err.status_code
        if status == 400:  # a body the framework could not parse is bad input like any other: 422, one line
            status = 422
            if line == "There was an error parsing the body":
                line = "the body is not JSON text in UTF-8; send an object of inputs, e.g. {\"params\": \"70B\"}"
        return _json(status, {"error": line}, getattr(err, "headers", None))

    return app
