"""The JSON shapes of the API, as pydantic models: they make ``/openapi.json`` and check the answers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorBody(BaseModel):
    """One line saying what is wrong and what to do, and where: the file, row, column or request field."""

    error: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    field: str | None = None
    job: dict[str, Any] | None = None


class Health(BaseModel):
    status: str
    version: str
    database: str
    schema_version: int
    workers: int
    backend: str = "local"
    jobs_waiting: int
    interrupted_at_start: int


class Job(BaseModel):
    """A fit job: ``status`` is queued, running, done (``fit_id`` set) or failed (``error`` set)."""

    id: str
    status: str
    fit_id: str | None = None
    error: str | None = None
    created: str | None = None
    started: str | None = None
    finished: str | None = None


class Fit(BaseModel):
    """A stored fit; ``artifact`` is the artifact's JSON, readable with ``scalelaw.load``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    id: str
    family: str
    kind: str
    schema_: str | None = Field(default=None, alias="schema")
    name: str
    tags: list[str]
    created: str
    data_sha256: str
    artifact_sha256: str | None = None
    created_by: str | None = None
    artifact: dict[str, Any] | None = None


class FitList(BaseModel):
    fits: list[Fit]
    total: int
    limit: int
    offset: int
    next_offset: int | None = None


class Deleted(BaseModel):
    id: str
    deleted: bool


class Laws(BaseModel):
    laws: list[dict[str, Any]]
