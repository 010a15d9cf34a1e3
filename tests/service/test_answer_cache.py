"""The answers of a stored fit come from its cached result while the registry has it, and are written
as the command line writes them."""

from __future__ import annotations

import json

from service_support import upload


def test_a_fit_deleted_elsewhere_stops_answering_at_once(api):
    fit_id = upload(api).json()["id"]
    point = {"params": "1B", "tokens": "20B"}
    assert api.post(f"/v1/fits/{fit_id}/predict", json=point).status_code == 200  # now cached
    assert api.app.state.scalelaw.registry.delete_fit(fit_id)  # as another server behind the database would
    gone = api.post(f"/v1/fits/{fit_id}/predict", json=point)
    assert gone.status_code == 404 and fit_id in gone.json()["error"]


def test_an_interval_without_bootstrap_is_an_explicit_nan_as_in_the_cli(api):
    fit_id = upload(api).json()["id"]
    response = api.post(f"/v1/fits/{fit_id}/predict", json={"params": "70B", "tokens": "1.4T",
                                                          "interval": "confidence"})
    assert response.headers["content-type"] == "application/json"
    body = json.loads(response.text)
    assert body["lower"] == body["upper"] == {"$float": "nan"} and body["interval"] == "confidence"
    assert 1.5 < body["prediction"] < 2.5 and body["warnings"]
