"""An upload with by= stores one fit per group, as the command line's fit loss --by writes it."""

from __future__ import annotations

import json

from scalelaw import load

from service_support import upload
from support import DATA, run_cli

PORIAN = DATA / "loss" / "porian_isoflop_points.csv"


def test_a_by_upload_stores_a_group_fit_that_answers_per_group(api, tmp_path):
    answer = upload(api, PORIAN, by="dataset", name="per-dataset")
    assert answer.status_code == 201, answer.text
    stored = answer.json()
    group = load(json.dumps(stored["artifact"]))
    assert group.kind == "groups" and list(group) == ["rw", "owt2"]
    out = tmp_path / "cli.json"
    run_cli("fit", "loss", str(PORIAN), "--by", "dataset", "--out", str(out))
    assert {k: dict(group[k].params) for k in group} == {k: dict(v.params) for k, v in load(out).items()}
    got = api.post(f"/v1/fits/{stored['id']}/optimal", json={"flops": 1e20, "group": "owt2"})
    assert got.status_code == 200, got.text
    assert got.json() == json.loads(run_cli("optimal", str(out), "--flops", "1e20", "--group", "owt2",
                                            "--json").stdout)
