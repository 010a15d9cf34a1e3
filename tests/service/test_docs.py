"""docs/service.md is true: every curl example runs against the service and answers as documented, every
documented path is in /openapi.json, every ``scalelaw serve`` option is documented, and the Python client
example runs."""

from __future__ import annotations

import json
import re
import shlex
import time
from pathlib import Path

import pytest
from hparams_sweeps import sweep_frame, write

from scalelaw.client import Client

from support import ROOT, run_cli

DOC = ROOT / "docs" / "service.md"
ORIGIN = "http://127.0.0.1:8000"
ASSIGNED = re.compile(r"^(?P<var>[A-Z_]+)=\$\((?P<curl>curl .*) \| jq -r \.id\)$")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)


def curl_lines() -> list[tuple[str | None, str, int | None]]:
    """(variable assigned or None, the curl command, the status it answers or None for 2xx), in order."""
    found = []
    for block in blocks("bash"):
        for line in block.splitlines():
            line = line.strip()
            status = None
            if match := re.search(r"\s+#\s*(\d{3})$", line):
                status, line = int(match.group(1)), line[:match.start()]
            if match := ASSIGNED.match(line):
                found.append((match.group("var"), match.group("curl"), status))
            elif line.startswith("curl "):
                found.append((None, line, status))
    return found


def parse(command: str, names: dict[str, str], files: dict[str, Path]) -> dict:
    """A curl command as method, path, query, headers, JSON body, form fields and files."""
    for name, value in names.items():
        command = command.replace(f"${name}", value)
    words = shlex.split(command)[1:]
    request = {"method": None, "headers": {}, "data": {}, "files": {}, "json": None, "url": None}
    index = 0
    while index < len(words):
        word = words[index]
        if word in ("-X", "-H", "-F", "-d", "-o"):
            value = words[index + 1]
            index += 2
            if word == "-X":
                request["method"] = value
            elif word == "-H":
                key, _, text = value.partition(":")
                request["headers"][key.strip()] = text.strip()
            elif word == "-F":
                key, _, text = value.partition("=")
                if text.startswith("@"):
                    path = files.get(text[1:], ROOT / text[1:])
                    request["files"][key] = (path.name, path.read_bytes())
                else:
                    request["data"][key] = text
            elif word == "-d":
                request["json"] = json.loads(value)
            continue
        assert word.startswith(ORIGIN), f"unexpected curl word {word!r} in: {command}"
        request["url"] = word[len(ORIGIN):]
        index += 1
    request["method"] = request["method"] or ("POST" if request["files"] or request["json"] is not None else "GET")
    return request


@pytest.fixture
def names(api, tmp_path) -> dict[str, str]:
    """Ids for the placeholders the examples use that they do not assign themselves."""
    content = (ROOT / "data" / "loss" / "epoch_chinchilla_svg_extracted.csv").read_bytes()
    response = api.post("/v1/fits", params={"wait": "true"}, data={"family": "loss"},
                        files={"file": ("old.csv", content)})
    assert response.status_code == 201, response.text
    return {"OLD_FIT": response.json()["id"], "TOKEN": "sl_unused"}


def test_every_curl_example_answers_as_documented(api, names, tmp_path):
    files = {"sweep.csv": Path(write(tmp_path / "sweep.csv", sweep_frame()))}
    examples = curl_lines()
    assert len(examples) >= 25
    run = 0
    for variable, command, status in examples:
        request = parse(command, names, files)
        unresolved = re.findall(r"\$[A-Z_]+", request["url"])
        assert not unresolved, f"{command}: {unresolved} not set by an earlier example"
        response = api.request(request["method"], request["url"], headers=request["headers"],
                               data=request["data"] or None, files=request["files"] or None,
                               json=request["json"])
        if status is None:
            assert 200 <= response.status_code < 300, f"{command}\n-> {response.status_code} {response.text[:500]}"
        else:
            assert response.status_code == status, f"{command}\n-> {response.status_code} {response.text[:500]}"
            assert set(response.json()) >= {"error"} and "\n" not in response.json()["error"]
        if variable is not None:
            names[variable] = response.json()["id"]
            if variable == "JOB":  # the next example asks for the job: let it finish first
                for _ in range(600):
                    if api.get(f"/v1/jobs/{names['JOB']}").json()["status"] in ("done", "failed"):
                        break
                    time.sleep(0.1)
        run += 1
    assert run == len(examples)
    assert api.get(f"/v1/fits/{names['OLD_FIT']}").status_code == 404  # the documented delete happened


def test_every_documented_path_is_in_the_api(api):
    paths = api.get("/openapi.json").json()["paths"]
    templates = [re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(p)) + "$") for p in paths]
    for _, command, _ in curl_lines():
        path = shlex.split(command.replace("$", ""))[-1][len(ORIGIN):].split("?")[0]
        assert any(t.match(path) for t in templates), f"{path} is not an endpoint of /openapi.json"
    documented = set(re.findall(r"(?:GET|POST|DELETE) (/[\w/{}.]+)", DOC.read_text()))
    assert documented and all(any(t.match(re.sub(r"\{\w+\}", "x", p)) for t in templates) for p in documented)


def test_every_serve_option_is_documented_and_every_documented_one_exists():
    help_text = run_cli("serve", "--help").stdout
    options = set(re.findall(r"--[a-z][a-z-]+", help_text)) - {"--help"}
    text = DOC.read_text()
    tables = set(re.findall(r"^\| `(--[a-z-]+)`", text, flags=re.M))
    assert options == tables, f"options of scalelaw serve not in the tables: {options - tables}; " \
                              f"documented but not options: {tables - options}"
    mentioned = {o for block in blocks("bash") for line in block.splitlines() if line.startswith("scalelaw serve")
                 for o in re.findall(r"--[a-z][a-z-]+", line)}
    assert mentioned <= options, mentioned - options
    token_help = run_cli("token", "--help").stdout
    assert {"--scope", "--token-file"} <= set(re.findall(r"--[a-z][a-z-]+", token_help))


def test_the_python_client_example_runs(api, monkeypatch):
    (code,) = blocks("python")

    def client(url: str, token: str | None = None) -> Client:
        made = Client(url, token=token)
        made._http.close()
        made._http = api  # the TestClient is an httpx.Client on the application
        return made

    monkeypatch.chdir(ROOT)
    namespace = {"Client": client}
    exec(compile(code.replace("from scalelaw.client import Client\n", ""), str(DOC), "exec"), namespace)  # noqa: S102
    assert namespace["svg"].lstrip().startswith(b"<?xml") and namespace["fit"].name == "chinchilla"
