"""Concurrent writers and readers on one registry: none waits forever, none fails, none is lost."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from scalelaw.service.registry import Registry

from support import ROOT

ARTIFACT = (ROOT / "tests" / "legacy_artifacts" / "fit.json").read_text(encoding="utf-8")
THREADS, EACH = 8, 25


def test_eight_writers_with_their_own_registry_lose_nothing(registry_url):
    Registry(registry_url).close()  # created and migrated before the writers start
    start = threading.Barrier(THREADS + 1)
    stop = threading.Event()

    def write(k: int) -> list[str]:
        with Registry(registry_url) as reg:
            start.wait(timeout=30)
            ids = []
            for i in range(EACH):
                job = reg.add_job(server=f"w{k}", request={"i": i})
                reg.start_job(job.id)
                ids.append(reg.add_fit(family="core", kind="fit", schema="scalelaw.core.fit/1", name=f"w{k}",
                                       tags=[f"t{i % 3}"], data_sha256="0" * 64, artifact=ARTIFACT,
                                       job_id=job.id).id)
            return ids

    def read(reg: Registry) -> int:
        start.wait(timeout=30)
        seen = 0
        while not stop.is_set():
            page, total = reg.list_fits(limit=5)
            assert total >= len(page) and all(reg.fit_exists(r.id) for r in page)
            seen = max(seen, total)
        return seen

    with Registry(registry_url) as reader, ThreadPoolExecutor(THREADS + 1) as pool:
        seen = pool.submit(read, reader)
        writers = [pool.submit(write, k) for k in range(THREADS)]
        ids = [i for w in writers for i in w.result(timeout=120)]
        stop.set()
        assert 0 < seen.result(timeout=30) <= THREADS * EACH
        assert len(set(ids)) == THREADS * EACH
        assert reader.list_fits(limit=0)[1] == THREADS * EACH
        assert reader.list_fits(tag="t0")[1] == THREADS * 9
        assert {reader.list_fits(name=f"w{k}")[1] for k in range(THREADS)} == {EACH}
        assert reader.interrupt_jobs("w0") == 0
        assert reader.integrity_check() == "ok"


def test_one_registry_shared_by_threads(registry_url):
    with Registry(registry_url) as reg, ThreadPoolExecutor(THREADS) as pool:
        jobs = [reg.add_job(server="s", request={"i": i}) for i in range(40)]
        started = list(pool.map(lambda j: reg.start_job(j.id), jobs + jobs))
        assert sum(started) == 40  # each job starts exactly once
        failed = list(pool.map(lambda j: reg.fail_job(j.id, "timeout"), jobs[::2]))
        made = list(pool.map(lambda j: reg.add_fit(family="core", kind="fit", schema="s", name="n", tags=(),
                                                   data_sha256="0" * 64, artifact=ARTIFACT, job_id=j.id).id,
                             jobs[1::2]))
        assert all(failed) and len(made) == 20
        assert sorted(reg.get_job(j.id).status for j in jobs) == ["done"] * 20 + ["failed"] * 20
        assert reg.list_fits()[1] == 20


WRITER = """
import pathlib, sys
from scalelaw.service.registry import Registry
reg = Registry(sys.argv[1])
artifact = pathlib.Path(sys.argv[2]).read_text(encoding="utf-8")
while True:
    row = reg.add_fit(family="core", kind="fit", schema="scalelaw.core.fit/1", name="k", tags=["a", "b"],
                      data_sha256="0" * 64, artifact=artifact)
    print(row.id, flush=True)
"""


def test_a_writer_killed_mid_stream_leaves_every_committed_fit_and_nothing_torn(registry_url):
    import hashlib
    import signal
    import subprocess
    import sys

    Registry(registry_url).close()
    path = ROOT / "tests" / "legacy_artifacts" / "fit.json"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, registry_url, str(path)], stdout=subprocess.PIPE,
                            text=True)
    try:
        committed = [proc.stdout.readline().strip() for _ in range(30)]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
    with Registry(registry_url) as reg:
        assert reg.integrity_check() == "ok"
        rows, total = reg.list_fits(limit=1000)
        assert set(committed) <= {r.id for r in rows} and total == len(rows) >= 30
        assert reg.list_fits(tag="b")[1] == total  # a fit is stored with its tags or not at all
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert {reg.get_fit(r.id).artifact_sha256 for r in rows} == {digest}
        assert {hashlib.sha256(reg.get_fit(r.id).artifact.encode()).hexdigest() for r in rows} == {digest}
