"""End to end: a real ``scalelaw serve`` subprocess on loopback, driven by the Python client."""

from __future__ import annotations

import json

import pytest

from scalelaw import load
from scalelaw.client import Client, ServiceError

from service_support import CHINCHILLA, Server
from support import run_cli


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    with Server(f"sqlite:///{folder}/registry.db", "--workers", "2", cwd=folder) as running:
        yield running


def test_the_served_fit_predicts_what_the_cli_predicts_from_its_artifact(server, tmp_path):
    with Client(server.url) as client:
        stored = client.fit(CHINCHILLA, family="loss", starts="hoffmann", exclude_highest=5, name="chinchilla")
        assert stored.family == "loss" and stored.name == "chinchilla"
        path = tmp_path / "served.json"
        path.write_text(json.dumps(client._call("GET", f"/v1/fits/{stored.id}").json()["artifact"]))
        for inputs, flags in (({"params": "70B", "tokens": "1.4T"}, ["--params", "70B", "--tokens", "1.4T"]),
                              ({"params": 7e10, "tokens": "1.4T,2.8T"}, ["--params", "7e10", "--tokens", "1.4T,2.8T"])):
            cli = json.loads(run_cli("predict", str(path), *flags, "--json").stdout)
            assert client.predict(stored.id, **inputs) == cli
        cli_fit = tmp_path / "cli.json"
        run_cli("fit", "loss", str(CHINCHILLA), "--starts", "hoffmann", "--exclude-highest", "5", "--out", str(cli_fit))
        assert stored.result.params == load(cli_fit).params
        assert stored.predict({"params": 7e10, "tokens": 1.4e12}, warn=False) == load(cli_fit).predict(
            {"params": 7e10, "tokens": 1.4e12}, warn=False)
        assert [f.id for f in client.fits(family="loss")] == [stored.id]
        assert client.plot(stored.id).lstrip().startswith(b"<?xml")


def test_client_errors_carry_the_one_line(server):
    with Client(server.url) as client:
        with pytest.raises(ServiceError) as caught:
            client.get("nope")
        assert caught.value.status == 404 and "nope" in str(caught.value)
        with pytest.raises(ServiceError) as caught:
            client.fit(CHINCHILLA, family="loss", law="E + __import__('os').getcwd()")
        assert caught.value.status == 422 and "\n" not in str(caught.value)
