"""Load benchmark of ``scalelaw serve`` on loopback: predictions, fit submissions and the server's memory.

A real ``scalelaw serve`` subprocess on a free 127.0.0.1 port, with a fresh SQLite registry, stores the
fit of the shipped Chinchilla points (Hoffmann's starts, the 5 largest runs held out); then

1. ``--clients`` concurrent clients (one httpx.AsyncClient and connection each; at most ``--clients``
   requests in flight) send ``--requests`` POST /v1/fits/{id}/predict requests, each at another
   (params, tokens) point, in ``--rounds`` rounds (``--shared-pool``: one AsyncClient for all, whose pool
   costs the clients about twice the CPU per request):
   throughput, p50 / p99 latency and errors of the median round.  The plain approach, measured in the
   same run, is one ``scalelaw predict FIT.json --json`` process per prediction (``--cli-calls`` of them,
   the median per call); in-process ``FitResult.predict`` and ``scalelaw.answers.answer`` (what the
   endpoint computes) are the floor.  The served answers are checked equal to the in-process ones.
2. ``--fits`` fit submissions at once (the same file, the default starts), polled until every job is
   done or failed: all must finish and all must be stored (the registry's count).
3. The server's memory: VmHWM (peak RSS) of the server process, the largest of its fit processes, and
   the largest sum of RSS over the server and all its children, sampled every 50 ms.

Client and server share the machine.  Everything is bounded by ``--deadline`` seconds: past it the
benchmark stops, kills the server and exits 3.

    .venv/bin/python benchmarks/bench_service.py [--requests 2000] [--clients 32] [--fits 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CHINCHILLA = ROOT / "data" / "loss" / "epoch_chinchilla_svg_extracted.csv"
SCALELAW = str(Path(sys.executable).with_name("scalelaw"))
GOAL_RPS, GOAL_P99_MS = 500.0, 100.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def points(count: int) -> list[dict]:
    """``count`` distinct (params, tokens) points from 10M to 1T parameters, 20 tokens per parameter x 0.5..4."""
    rng = np.random.default_rng(0)
    params = 10 ** rng.uniform(7, 12, count)
    tokens = params * 20 * 2 ** rng.uniform(-1, 2, count)
    return [{"params": float(n), "tokens": float(d)} for n, d in zip(params, tokens, strict=True)]


# --- memory of the server's process tree ------------------------------------------------------------
def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB (empty when it is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return {line.split(":")[0]: int(line.split()[1]) for line in text.splitlines()
            if line.startswith(("VmRSS:", "VmHWM:"))}


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


class MemorySampler(threading.Thread):
    """Samples the RSS of the server and its children until stopped; peaks in KiB."""

    def __init__(self, pid: int, every_s: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.every_s = pid, every_s
        self.server_hwm = self.child_hwm = self.tree_peak = 0
        self.children_seen: set[int] = set()
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            total = 0
            for pid in _tree(self.pid):
                status = _status(pid)
                total += status.get("VmRSS", 0)
                if pid == self.pid:
                    self.server_hwm = max(self.server_hwm, status.get("VmHWM", 0))
                else:
                    self.children_seen.add(pid)
                    self.child_hwm = max(self.child_hwm, status.get("VmHWM", 0))
            self.tree_peak = max(self.tree_peak, total)
            self._halt.wait(self.every_s)

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(5)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of one process so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the server -----------------------------------------------------------------------------------
class Server:
    def __init__(self, folder: Path, extra: list[str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(folder / "serve.log", "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [SCALELAW, "serve", "--port", str(self.port), "--db", f"sqlite:///{folder}/registry.db",
             "--work-dir", str(folder / "work"), *extra],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.process.poll() is not None:
                raise SystemExit(f"scalelaw serve exited with {self.process.returncode}: "
                                 + Path(self.log.name).read_text()[-2000:])
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return time.monotonic() - start
            except httpx.HTTPError:
                time.sleep(0.1)
        raise SystemExit(f"scalelaw serve did not answer within {timeout:g} s")

    def stop(self) -> None:
        """SIGTERM to the server's whole session (fit processes too), SIGKILL if it lingers."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.log.close()


# --- 1. predictions -------------------------------------------------------------------------------
async def predict_round(url: str, fit_id: str, bodies: list[dict], clients: int, shared: bool = False) -> dict:
    """Every body POSTed once by ``clients`` concurrent clients, each an httpx.AsyncClient with its own
    connection taking the next body when its answer is in (``shared``: one AsyncClient and its pool of
    ``clients`` connections, behind a semaphore of ``clients``): wall time, latencies (s), errors.  The
    clients are made and connected (one request each) before the clock starts."""
    todo = list(reversed(bodies))
    latencies: list[float] = []
    errors: list[str] = []

    async def post(http: httpx.AsyncClient, body: dict, timed: bool = True) -> None:
        start = time.perf_counter()
        try:
            response = await http.post(f"/v1/fits/{fit_id}/predict", json=body)
            if response.status_code != 200:
                errors.append(f"{response.status_code}: {response.text[:200]}")
        except httpx.HTTPError as err:
            errors.append(f"{type(err).__name__}: {err}")
        if timed:
            latencies.append(time.perf_counter() - start)

    async def client(http: httpx.AsyncClient) -> None:
        while todo:
            await post(http, todo.pop())

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    pool = [httpx.AsyncClient(base_url=url, timeout=30, limits=limits) for _ in range(1 if shared else clients)]
    try:
        await asyncio.gather(*(post(pool[i % len(pool)], bodies[0], timed=False) for i in range(clients)))
        gate = asyncio.Semaphore(clients)

        async def one(body: dict) -> None:
            async with gate:
                await post(pool[0], body)

        start = time.perf_counter()
        if shared:
            await asyncio.gather(*(one(b) for b in bodies))
        else:
            await asyncio.gather(*(client(http) for http in pool))
        wall = time.perf_counter() - start
    finally:
        await asyncio.gather(*(http.aclose() for http in pool))
    return {"wall": wall, "latencies": np.array(latencies), "errors": errors}


async def raw_round(url: str, fit_id: str, bodies: list[dict], clients: int) -> dict:
    """The same requests from ``clients`` keep-alive connections written as plain HTTP/1.1 on asyncio
    streams: a lean load generator (as wrk or hey are), so that the figures are the server's rather
    than the Python client's.  Each answer's status is checked and its body read whole."""
    host, port = url.removeprefix("http://").split(":")
    todo = list(reversed(bodies))
    latencies: list[float] = []
    errors: list[str] = []

    def request(body: dict) -> bytes:
        data = json.dumps(body).encode()
        return (f"POST /v1/fits/{fit_id}/predict HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\n\r\n").encode() + data

    async def exchange(reader, writer, body: dict) -> None:
        writer.write(request(body))
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(
            b"content-length:"))
        answer = await reader.readexactly(length)
        if not head.startswith(b"HTTP/1.1 200"):
            errors.append(head.split(b"\r\n")[0].decode() + " " + answer[:200].decode(errors="replace"))

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            await exchange(reader, writer, bodies[0])  # connected before the clock starts
            await ready.wait()
            while todo:
                body = todo.pop()
                start = time.perf_counter()
                await exchange(reader, writer, body)
                latencies.append(time.perf_counter() - start)
        finally:
            writer.close()

    ready = asyncio.Event()
    tasks = [asyncio.create_task(client()) for _ in range(clients)]
    await asyncio.sleep(0.5)
    start = time.perf_counter()
    ready.set()
    await asyncio.gather(*tasks)
    return {"wall": time.perf_counter() - start, "latencies": np.array(latencies), "errors": errors}


def measure(round_of, server_pid: int, rounds: int, deadline: float) -> tuple:
    """``rounds`` runs of the coroutine ``round_of()`` (before ``deadline``, a ``time.monotonic`` value), each
    with the server's and this process's CPU time: the median round, its requests/s, p50 and p99 (ms), the
    errors of all rounds and how many rounds ran."""
    done = []
    for _ in range(rounds):
        if time.monotonic() > deadline:
            break
        server_cpu, client_cpu = cpu_seconds(server_pid), time.process_time()
        done.append(asyncio.run(round_of()))
        done[-1]["server_cpu"] = cpu_seconds(server_pid) - server_cpu
        done[-1]["client_cpu"] = time.process_time() - client_cpu
    done.sort(key=lambda r: r["wall"])
    median = done[len(done) // 2]
    p50, p99 = (float(np.percentile(median["latencies"], q)) * 1e3 for q in (50, 99))
    return median, len(median["latencies"]) / median["wall"], p50, p99, sum(len(r["errors"]) for r in done), len(done)


def cli_per_call(path: Path, bodies: list[dict]) -> float:
    """Median wall time (s) of one ``scalelaw predict --json`` process per prediction."""
    times = []
    for body in bodies:
        start = time.perf_counter()
        done = subprocess.run([SCALELAW, "predict", str(path), "--params", repr(body["params"]), "--tokens",
                               repr(body["tokens"]), "--json"], capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"scalelaw predict: exit {done.returncode}\n{done.stderr}")
    return statistics.median(times)


def in_process_per_call(function, bodies: list[dict], repeats: int = 5) -> float:
    """Median over ``repeats`` of the mean time (s) per call of ``function(body)`` over the bodies."""
    means = []
    for _ in range(repeats):
        start = time.perf_counter()
        for body in bodies:
            function(body)
        means.append((time.perf_counter() - start) / len(bodies))
    return statistics.median(means)


# --- 2. fit submissions ---------------------------------------------------------------------------
async def submit_fits(url: str, count: int, deadline: float) -> dict:
    """``count`` fit jobs sent at once, then polled until each is done or failed (or the deadline)."""
    content = CHINCHILLA.read_bytes()
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        async def submit(index: int) -> str:
            response = await http.post("/v1/fits", data={"family": "loss", "name": f"bench-{index}"},
                                       files={"file": (CHINCHILLA.name, content)})
            if response.status_code != 202:
                raise SystemExit(f"submission {index}: {response.status_code} {response.text[:300]}")
            return response.json()["id"]

        start = time.perf_counter()
        ids = await asyncio.gather(*(submit(i) for i in range(count)))
        submitted = time.perf_counter() - start
        status: dict[str, dict] = {}
        while len(status) < count and time.monotonic() < deadline:
            for job_id in ids:
                if job_id not in status:
                    job = (await http.get(f"/v1/jobs/{job_id}")).json()
                    if job["status"] in ("done", "failed"):
                        status[job_id] = job
            await asyncio.sleep(0.2)
        done = time.perf_counter() - start
        stored = (await http.get("/v1/fits", params={"artifact": "false", "limit": 1})).json()["total"]
    failed = [j["error"] for j in status.values() if j["status"] == "failed"]
    return {"submitted": submitted, "done": done, "finished": len(status), "failed": failed, "stored": stored}


# --- the run --------------------------------------------------------------------------------------
def watchdog(server: Server, seconds: float) -> None:
    """Past the deadline (and a grace of 30 s): kill the server and leave, whatever is running."""
    def fire() -> None:
        print(f"deadline of {seconds:g} s passed: stopping", file=sys.stderr, flush=True)
        server.stop()
        os._exit(3)

    timer = threading.Timer(seconds + 30, fire)
    timer.daemon = True
    timer.start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="predict requests per round")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients")
    parser.add_argument("--shared-pool", action="store_true",
                        help="one httpx.AsyncClient (a pool of --clients connections) for all clients")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of predict requests (median round)")
    parser.add_argument("--cli-calls", type=int, default=20, help="scalelaw predict processes (median)")
    parser.add_argument("--fits", type=int, default=50, help="concurrent fit submissions")
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds for everything")
    parser.add_argument("--serve-option", action="append", default=[], metavar="OPTION",
                        help="extra option for scalelaw serve (repeat), e.g. --serve-option=--workers=2")
    args = parser.parse_args()
    deadline = time.monotonic() + args.deadline

    from scalelaw import answers, load

    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        folder = Path(tmp)
        server = Server(folder, args.serve_option)
        watchdog(server, args.deadline)
        memory = MemorySampler(server.process.pid)
        try:
            ready = server.wait_ready(min(60.0, args.deadline))
            memory.start()
            with CHINCHILLA.open("rb") as handle:
                answer = httpx.post(server.url + "/v1/fits", params={"wait": "true"}, timeout=120,
                                    data={"family": "loss", "starts": "hoffmann", "exclude_highest": "5"},
                                    files={"file": (CHINCHILLA.name, handle)})
            if answer.status_code != 201:
                raise SystemExit(f"the Chinchilla fit was not stored: {answer.status_code} {answer.text[:300]}")
            stored = answer.json()
            artifact = folder / "fit.json"
            artifact.write_text(json.dumps(stored["artifact"]))
            fit = load(artifact)
            print(f"scalelaw serve ready in {ready:.2f} s; fit {stored['id']} stored "
                  f"(E = {fit.params['E']:.4g})", flush=True)

            # 1. predictions
            bodies = points(args.requests)
            check = httpx.post(f"{server.url}/v1/fits/{stored['id']}/predict", json=bodies[0]).json()
            expected = answers.answer("predict", fit, **bodies[0])
            if check["prediction"] != expected["prediction"] or check["warnings"] != expected["warnings"]:
                raise SystemExit(f"the served prediction differs from the in-process one:\n{check}\n{expected}")
            asyncio.run(predict_round(server.url, stored["id"], bodies[:200], args.clients))  # warm-up
            median, rps, p50, p99, errors, count = measure(
                lambda: predict_round(server.url, stored["id"], bodies, args.clients, args.shared_pool),
                server.process.pid, args.rounds, deadline)
            raw, raw_rps, raw_p50, raw_p99, raw_errors, raw_count = measure(
                lambda: raw_round(server.url, stored["id"], bodies, args.clients),
                server.process.pid, args.rounds, deadline)
            errors, rounds = errors + raw_errors, count + raw_count
            cli = cli_per_call(artifact, bodies[:args.cli_calls])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the extrapolation warnings of points beyond the fitted runs
                direct = in_process_per_call(lambda b: fit.predict(b), bodies[:200])
            payload = in_process_per_call(lambda b: answers.answer("predict", fit, **b), bodies[:200])
            how = "sharing one httpx pool" if args.shared_pool else "one httpx.AsyncClient each"
            print(f"\n1. {args.requests} predict requests from {args.clients} concurrent clients ({how}), median of "
                  f"{count} rounds", flush=True)
            print(f"  throughput   : {rps:8.0f} requests/s   (goal >= {GOAL_RPS:g}: "
                  f"{'met' if rps >= GOAL_RPS else 'NOT met'})")
            print(f"  latency      : p50 {p50:6.1f} ms, p99 {p99:6.1f} ms   (goal p99 < {GOAL_P99_MS:g} ms: "
                  f"{'met' if p99 < GOAL_P99_MS else 'NOT met'})")
            print(f"  errors       : {errors} of {rounds * args.requests} (both clients)")
            print(f"  CPU/request  : server {median['server_cpu'] / args.requests * 1e3:5.2f} ms, clients "
                  f"{median['client_cpu'] / args.requests * 1e3:5.2f} ms (load average {os.getloadavg()[0]:.1f} "
                  f"on {os.cpu_count()} cores)")
            print(f"  lean client  : {raw_rps:8.0f} requests/s, p50 {raw_p50:6.1f} ms, p99 {raw_p99:6.1f} ms "
                  f"(plain HTTP/1.1 on {args.clients} asyncio connections; goals "
                  f"{'met' if raw_rps >= GOAL_RPS and raw_p99 < GOAL_P99_MS else 'NOT met'}); CPU/request server "
                  f"{raw['server_cpu'] / args.requests * 1e3:5.2f} ms, client "
                  f"{raw['client_cpu'] / args.requests * 1e3:5.2f} ms")
            print(f"  scalelaw predict process per prediction: {cli * 1e3:7.1f} ms -> {1 / cli:6.1f}/s; "
                  f"the service is {rps * cli:6.0f}x faster")
            print(f"  in process, FitResult.predict          : {direct * 1e6:7.1f} us -> {1 / direct:8.0f}/s; "
                  f"{1 / direct / rps:5.1f}x the service")
            print(f"  in process, answers.answer('predict')  : {payload * 1e6:7.1f} us -> {1 / payload:8.0f}/s; "
                  f"{1 / payload / rps:5.1f}x the service", flush=True)

            # 2. fit submissions
            fits = asyncio.run(submit_fits(server.url, args.fits, deadline))
            print(f"\n2. {args.fits} fit submissions at once (default starts)", flush=True)
            print(f"  accepted in  : {fits['submitted']:6.2f} s")
            print(f"  all finished : {fits['done']:6.2f} s   ({fits['finished']} of {args.fits} finished, "
                  f"{len(fits['failed'])} failed, {fits['stored'] - 1} of {args.fits} stored)")
            for line in fits["failed"][:3]:
                print(f"    failed: {line}")

            # 3. memory
            time.sleep(0.2)
            memory.stop()
            server_hwm = _status(server.process.pid).get("VmHWM", memory.server_hwm)
            print("\n3. memory of the server", flush=True)
            print(f"  server process, peak RSS (VmHWM)            : {server_hwm / 1024:7.1f} MiB")
            print(f"  largest fit process, peak RSS               : {memory.child_hwm / 1024:7.1f} MiB "
                  f"({len(memory.children_seen)} child processes seen)")
            print(f"  server and children together, peak RSS sum : {memory.tree_peak / 1024:7.1f} MiB", flush=True)
            ok = errors == 0 and fits["finished"] == args.fits and not fits["failed"] \
                and fits["stored"] == args.fits + 1
        finally:
            server.stop()
            memory.stop()
    if not ok:
        raise SystemExit("FAILED: errors, or fits not finished or not stored")


if __name__ == "__main__":
    main()
