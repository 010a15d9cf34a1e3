"""Fixtures of the service tests: an application on a fresh registry, through FastAPI's TestClient."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest


@pytest.fixture
def make_api(tmp_path: Path):
    """``make_api(**config)``: a TestClient on a new app (SQLite registry in tmp_path); closed at the end."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient

    from scalelaw.service import Limits, ServiceConfig, create_app

    clients = []

    def make(*, limits: dict | None = None, db: str | None = None, **config):
        app = create_app(ServiceConfig(db=db or f"sqlite:///{tmp_path}/registry.db", work_dir=tmp_path / "work",
                                       limits=Limits(**(limits or {})), **config))
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def api(make_api):
    return make_api()
