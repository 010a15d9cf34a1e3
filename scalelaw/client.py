"""The Python client of ``scalelaw serve``: the API's verbs, returning the library's own result objects.

Examples
--------
>>> from scalelaw.client import Client                       # doctest: +SKIP
>>> team = Client("http://127.0.0.1:8000", token="sl_...")   # doctest: +SKIP
>>> fit = team.fit("runs.csv", family="loss", starts="hoffmann", exclude_highest=5)  # doctest: +SKIP
>>> team.predict(fit.id, params="70B", tokens="1.4T")["prediction"]                 # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from scalelaw.errors import ScalelawError


class ServiceError(ScalelawError):
    """The service refused a request: ``status`` is the HTTP code, ``body`` the error JSON."""

    def __init__(self, status: int, body: dict) -> None:
        super().__init__(f"HTTP {status}: {body.get('error', body)}")
        self.status, self.body = status, body


@dataclass(frozen=True)
class StoredFit:
    """A fit in the registry: its id and listing fields, and the result object (``scalelaw.load``)."""

    id: str
    family: str
    name: str
    tags: tuple[str, ...]
    created: str
    result: object

    def __getattr__(self, name: str):  # the result's own methods: predict, summary, plot, ...
        if name == "result":
            raise AttributeError(name)
        return getattr(self.result, name)


class Client:
    """Talks to one service; every method raises :class:`ServiceError` with the service's one line."""

    def __init__(self, url: str = "http://127.0.0.1:8000", *, token: str | None = None, timeout: float = 120.0):
        import httpx

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs):
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"error": response.text.strip()[:300]}
            raise ServiceError(response.status_code, body if isinstance(body, dict) else {"error": str(body)})
        return response

    def health(self) -> dict:
        return self._call("GET", "/healthz").json()

    def laws(self) -> list[dict]:
        return self._call("GET", "/v1/laws").json()["laws"]

    def submit(self, table, *, family: str, wait: bool = False, name: str | None = None,
               tags: tuple[str, ...] = (), **options) -> dict:
        """Send a fit job: ``table`` is a path, a DataFrame or a list of row dicts; ``options`` are the CLI's
        options by their Python names (``starts="hoffmann"``, ``exclude_highest=5``).  Returns the job, or
        with ``wait`` the fit JSON when it finished in time."""
        fields = {"family": family, **({"name": name} if name else {}), **({"tags": ",".join(tags)} if tags else {})}
        params = {"wait": "true"} if wait else {}
        if isinstance(table, list):
            response = self._call("POST", "/v1/fits", params=params, json={**fields, **options, "rows": table})
            return response.json()
        data = {k: [_text(x) for x in v] if isinstance(v, list | tuple) else _text(v)
                for k, v in {**fields, **options}.items()}
        if hasattr(table, "to_csv"):
            files = {"file": (f"{name or 'table'}.csv", table.to_csv(index=False).encode(), "text/csv")}
            return self._call("POST", "/v1/fits", params=params, data=data, files=files).json()
        path = Path(table)
        with open(path, "rb") as handle:
            return self._call("POST", "/v1/fits", params=params, data=data,
                              files={"file": (path.name, handle)}).json()

    def fit(self, table, *, family: str, timeout: float = 600.0, **options) -> StoredFit:
        """Fit and wait for the stored fit (polling its job past the server's request time limit)."""
        answer = self.submit(table, family=family, wait=True, **options)
        deadline = time.monotonic() + timeout
        while "status" in answer and "artifact" not in answer:
            if answer["status"] == "failed":
                raise ServiceError(422, {"error": answer["error"], "job": answer})
            if answer["status"] == "done":
                return self.get(answer["fit_id"])
            if time.monotonic() > deadline:
                raise ServiceError(504, {"error": f"job {answer['id']} did not finish in {timeout:g} s"})
            time.sleep(0.2)
            answer = self.job(answer["id"])
        return _stored(answer)

    def job(self, job_id: str) -> dict:
        return self._call("GET", f"/v1/jobs/{job_id}").json()

    def get(self, fit_id: str) -> StoredFit:
        return _stored(self._call("GET", f"/v1/fits/{fit_id}").json())

    def fits(self, *, family: str | None = None, name: str | None = None, tag: str | None = None,
             limit: int = 50, offset: int = 0) -> list[StoredFit]:
        query = {k: v for k, v in {"family": family, "name": name, "tag": tag}.items() if v is not None}
        body = self._call("GET", "/v1/fits", params={**query, "limit": limit, "offset": offset}).json()
        return [_stored(item) for item in body["fits"]]

    def delete(self, fit_id: str) -> None:
        self._call("DELETE", f"/v1/fits/{fit_id}")

    def plot(self, fit_id: str) -> bytes:
        """The fit's figure as SVG bytes."""
        return self._call("GET", f"/v1/fits/{fit_id}/plot.svg").content

    def predict(self, fit_id: str, **inputs) -> dict:
        return self._answer(f"/v1/fits/{fit_id}/predict", inputs)

    def optimal(self, fit_id: str, **inputs) -> dict:
        return self._answer(f"/v1/fits/{fit_id}/optimal", inputs)

    def plan(self, fit_id: str, **inputs) -> dict:
        return self._answer(f"/v1/fits/{fit_id}/plan", inputs)

    def recommend(self, fit_id: str | None = None, **inputs) -> dict:
        """From a stored hyperparameter law, or (no ``fit_id``) from a published one (``law="steplaw"``)."""
        path = f"/v1/fits/{fit_id}/recommend" if fit_id else "/v1/hparams/recommend"
        return self._answer(path, inputs)

    def passk(self, **inputs) -> dict:
        return self._answer("/v1/sampling/passk", inputs)

    def _answer(self, path: str, inputs: Mapping) -> dict:
        return self._call("POST", path, json=dict(inputs)).json()


def _text(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _stored(item: dict) -> StoredFit:
    from scalelaw import artifact, protocol

    return StoredFit(item["id"], item["family"], item["name"], tuple(item.get("tags", ())), item["created"],
                     protocol.load(artifact.dumps(item["artifact"])))
