"""Benchmark: dossier intake through the HTTP API on PostgreSQL, with gunicorn, a real Celery worker
and broker, and the load generator in a process of its own (issue 6 item 9).

    .venv/bin/python bench/intake.py
    BENCH_RATE=150 BENCH_SECONDS=30 BENCH_WEB_WORKERS=2 BENCH_CELERY_CONCURRENCY=2 .venv/bin/python bench/intake.py

Part 1, sustained intake: small signed dossiers (a 10-row D02-TS, form and envelope signed) are made
and signed before the timed run (signing is the client's cost). The load generator POSTs them at a
fixed rate (open loop: latency counts from the moment a request was due, so a slow server cannot
hide behind a slow client) for BENCH_SECONDS; then the run waits until every acknowledged dossier
is RECEIVED. Accepted throughput = accepted dossiers / (last acceptance - first POST).
Targets: >= 150 accepted/s, p99 acknowledgement <= 300 ms, no errors.
Floors, same run: GET /api/v1/me (the same authentication, no work) at full speed on the same
gunicorn; the intake checks alone (`services.check`) and checks + sealed receipt
(`services.test_submission`) per dossier in one process.
CPU: seconds of CPU per accepted dossier of gunicorn, the Celery worker, PostgreSQL, Redis and the
load generator, from /proc (the machine has 2 cores: 150 dossiers/s leaves 13 ms of CPU for all).

Part 2, one 10,000-row dossier: a fresh solo worker (warmed with one small dossier), time from the
POST to RECEIVED, and its peak memory (VmHWM). Targets: <= 2 s, <= 400 MiB.

It creates a scratch PostgreSQL database (`ebhxh_bench_intake_<random>`, dropped at the end) from
BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test) and uses the machine's Redis
(BENCH_BROKER_URL, default redis://127.0.0.1:6379/11, flushed first). BENCH_PROFILE=1 runs the
worker as one solo process under cProfile and prints where its time goes.
"""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/11")
RATE = float(os.environ.get("BENCH_RATE", "150"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "30"))
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "2"))
WEB_THREADS = int(os.environ.get("BENCH_WEB_THREADS", "1"))
CONCURRENCY = int(os.environ.get("BENCH_CELERY_CONCURRENCY", "2"))
MAX_IN_FLIGHT = int(os.environ.get("BENCH_MAX_IN_FLIGHT", "64"))
PROFILE = os.environ.get("BENCH_PROFILE") == "1"
WARMUP = 40


# --- the load generator (its own process: `bench/intake.py --load <config.json>`) -------------


async def _http(port: int, request: bytes) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionError("no answer")
        await reader.read()  # Connection: close — the server closes after the body
        return int(status_line.split()[1])
    finally:
        writer.close()


def _request(method: str, token: str, body: bytes = b"", path: str = "/api/v1/dossiers") -> bytes:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Connection: close\r\nContent-Type: application/xml\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _open_loop(cfg: dict[str, Any], bodies: list[bytes]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    port, token, rate = cfg["port"], cfg["token"], cfg["rate"]
    in_flight = asyncio.Semaphore(cfg["max_in_flight"])
    results: list[tuple[float, float, int | str]] = []
    start = loop.time() + 0.1
    wall_start = time.time() + 0.1

    async def one(i: int, body: bytes) -> None:
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
        async with in_flight:
            try:
                status: int | str = await _http(port, _request("POST", token, body))
            except Exception as exc:
                status = type(exc).__name__
        results.append((due - start, loop.time() - due, status))

    await asyncio.gather(*(one(i, b) for i, b in enumerate(bodies)))
    return {"wall_start": wall_start, "results": results}


async def _closed_loop(cfg: dict[str, Any]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    request = _request("GET", cfg["token"], path="/api/v1/me")
    latencies: list[float] = []
    errors = 0
    end = loop.time() + cfg["seconds"]

    async def client() -> None:
        nonlocal errors
        while loop.time() < end:
            t0 = loop.time()
            try:
                ok = await _http(cfg["port"], request) == 200
            except Exception:
                ok = False
            errors += not ok
            latencies.append(loop.time() - t0)

    t0 = loop.time()
    await asyncio.gather(*(client() for _ in range(cfg["clients"])))
    return {
        "count": len(latencies),
        "seconds": loop.time() - t0,
        "latencies": latencies,
        "errors": errors,
    }


def load_main(config_path: str) -> None:
    cfg = json.loads(Path(config_path).read_text())
    if cfg["mode"] == "open":
        bodies = pickle.loads(Path(cfg["bodies"]).read_bytes())[: cfg["count"]]  # noqa: S301
        out = asyncio.run(_open_loop(cfg, bodies))
    else:
        out = asyncio.run(_closed_loop(cfg))
    usage = os.times()
    out["cpu"] = usage.user + usage.system
    Path(cfg["out"]).write_text(json.dumps(out))


def run_load(work: Path, **cfg: Any) -> dict[str, Any]:
    path = work / f"load-{cfg['mode']}.json"
    cfg["out"] = str(work / f"result-{cfg['mode']}.json")
    path.write_text(json.dumps(cfg))
    subprocess.run([sys.executable, __file__, "--load", str(path)], check=True)
    return json.loads(Path(cfg["out"]).read_text())


# --- measuring -------------------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def cpu_by_component(web_pgrp: int, worker_pgrp: int) -> dict[str, float]:
    """CPU seconds used so far by the processes of each component (from /proc/<pid>/stat)."""
    out = {"gunicorn": 0.0, "celery": 0.0, "postgres": 0.0, "redis": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        pgrp, cpu = int(fields[2]), (int(fields[11]) + int(fields[12])) / TICK
        if pgrp == web_pgrp:
            out["gunicorn"] += cpu
        elif pgrp == worker_pgrp:
            out["celery"] += cpu
        elif comm == "postgres":
            out["postgres"] += cpu
        elif comm.startswith("redis-server") and b":6379" in cmdline:
            out["redis"] += cpu
    return out


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICK, sum(values) / TICK


def vm(pid: int, field: str) -> int:
    """A /proc/<pid>/status value in KiB (VmHWM: peak resident memory)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def counts(stack: Any) -> tuple[int, int]:
    ((received, submitted),) = stack.query(
        "SELECT count(*) FILTER (WHERE status = 'received'), "
        "count(*) FILTER (WHERE status = 'submitted') FROM dossiers_dossier"
    )
    return received, submitted


def wait_received(stack: Any, total: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while True:
        received, submitted = counts(stack)
        if received >= total and not submitted:
            return time.time()
        if not submitted:
            raise RuntimeError(f"{received} of {total} received, the others rejected")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{received} of {total} received, {submitted} still submitted")
        time.sleep(0.05)


FLOOR_SNIPPET = """
import pickle, statistics, time
from ebhxh.dossiers import services
from ebhxh.dossiers.models import Channel
from ebhxh.units.models import Unit
unit = Unit.objects.get(code="DM0001A")
bodies = pickle.loads(open({path!r}, "rb").read())[:{n}]
def timed(fn):
    for b in bodies[:10]:
        fn(b)
    out = []
    for b in bodies:
        t0 = time.perf_counter(); fn(b); out.append(time.perf_counter() - t0)
    return statistics.median(out) * 1000
check = timed(lambda b: services.check(b, unit=unit))
full = timed(lambda b: services.test_submission(b, unit=unit, channel=Channel.API))
print(f"{{check:.3f}} {{full:.3f}}")
"""


# --- the run ------------------------------------------------------------------------------------


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="ebhxh-bench-intake-"))
    os.environ.pop("DATABASE_URL", None)  # this process only makes dossiers; it uses no database
    os.environ["DATA_DIR"] = str(work / "client")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ebhxh.settings")
    import django

    django.setup()
    import redis

    from ebhxh.dossiers.testing import signed_envelope
    from ebhxh.signatures.signers import KeySigner
    from ebhxh.signatures.testing.pki import TestPKI
    from tests.integration.intake_stack import UNIT, IntakeStack

    redis.Redis.from_url(BROKER).flushdb()
    pki = TestPKI(name="ebhxh Bench")
    cert = pki.issue(UNIT["name"], tax_code=UNIT["tax_code"])
    signer = KeySigner(cert.key, cert.certificate, list(cert.chain))  # type: ignore[arg-type]
    common = {
        "unit_name": UNIT["name"],
        "unit_code": UNIT["code"],
        "tax_code": UNIT["tax_code"],
        "agency_code": UNIT["agency"],
    }
    count = int(RATE * SECONDS)
    t0 = time.perf_counter()
    bodies = [
        signed_envelope(signer, rows=10, first=1 + 20 * i, **common) for i in range(count + WARMUP)
    ]
    big = signed_envelope(signer, rows=10_000, first=200_000, **common)
    print(
        f"made and signed {len(bodies)} dossiers of 10 rows ({len(bodies[0]):,} bytes) and one "
        f"of 10,000 rows ({len(big):,} bytes) in {time.perf_counter() - t0:.1f} s (client side)"
    )
    (work / "bodies.pkl").write_bytes(pickle.dumps(bodies[WARMUP:]))
    (work / "warm.pkl").write_bytes(pickle.dumps(bodies[:WARMUP]))

    stack = IntakeStack(work / "stack", BROKER, PG, db_prefix="ebhxh_bench_intake")
    try:
        stack.prepare(pki, cert.cert_pem, sample=bodies[0])
        floor_check, floor_full = (
            float(v)
            for v in stack.manage(
                "shell",
                "--no-imports",
                "-c",
                FLOOR_SNIPPET.format(path=str(work / "warm.pkl"), n=WARMUP),
            ).split()
        )
        # test_submission kept nothing; the warm-up dossiers are submitted for real below.
        worker_args: dict[str, Any] = {"pool": "prefork", "concurrency": CONCURRENCY}
        if PROFILE:
            worker_args = {"pool": "solo", "concurrency": 1}
        worker = stack.start_worker(**worker_args, wait=False) if not PROFILE else None
        if PROFILE:
            worker = _profiled_worker(stack, work)
        web = stack.start_web(workers=WEB_WORKERS, threads=WEB_THREADS)
        stack.ready(worker)

        floor = run_load(
            work, mode="closed", port=stack.port, token=stack.token, clients=8, seconds=5
        )
        for body in bodies[:WARMUP]:
            assert stack.submit(body)[0] == 202
        wait_received(stack, WARMUP, 120)

        cpu0, machine0 = cpu_by_component(web.pid, worker.pid), machine_cpu()
        load_avg = os.getloadavg()
        run = run_load(
            work,
            mode="open",
            port=stack.port,
            token=stack.token,
            rate=RATE,
            count=count,
            bodies=str(work / "bodies.pkl"),
            max_in_flight=MAX_IN_FLIGHT,
        )
        last_post = time.time()
        done = wait_received(stack, WARMUP + count, 600)
        cpu1, machine1 = cpu_by_component(web.pid, worker.pid), machine_cpu()
        sql = "SELECT extract(epoch FROM max(processed_at)) FROM dossiers_dossier WHERE id > %d"
        ((last_acc,),) = stack.query(sql % WARMUP)
        results = run["results"]
        latencies = [r[1] * 1000 for r in results]
        errors = [r for r in results if r[2] != 202]
        accepted = counts(stack)[0] - WARMUP
        span = float(last_acc) - run["wall_start"]
        cpu = {k: cpu1[k] - cpu0[k] for k in cpu0} | {"load generator": run["cpu"]}
        busy = (machine1[0] - machine0[0]) / (machine1[1] - machine0[1])

        if PROFILE:
            stack.stop(worker)
            _print_profile(work)
            return

        # --- part 2: one 10,000-row dossier on a fresh solo worker
        stack.stop(worker)
        solo = stack.start_worker(pool="solo", name="big")
        assert stack.submit(signed_envelope(signer, rows=10, first=500_000, **common))[0] == 202
        wait_received(stack, WARMUP + count + 1, 60)
        hwm_before = vm(solo.pid, "VmHWM")
        t_post = time.time()
        status, ack = stack.submit(big, timeout=120)
        t_ack = time.time()
        assert status == 202, ack
        t_done = wait_received(stack, WARMUP + count + 2, 120)
        hwm_after = vm(solo.pid, "VmHWM")
        web_hwm = max(
            vm(int(p.name), "VmHWM")
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and _pgrp(p) == web.pid
        )
        sql = "SELECT extract(epoch FROM processed_at - submitted_at) FROM dossiers_dossier "
        ((in_worker,),) = stack.query(sql + "ORDER BY id DESC LIMIT 1")
    finally:
        stack.close()

    floor_rate = floor["count"] / floor["seconds"]
    print()
    print(f"load average before the run: {load_avg[0]:.2f} {load_avg[1]:.2f} {load_avg[2]:.2f}")
    print(
        f"setup: gunicorn {WEB_WORKERS} worker(s) x {WEB_THREADS} thread(s), Celery prefork "
        f"x {CONCURRENCY}, broker {BROKER}, PostgreSQL; offered {RATE:g}/s for {SECONDS:g} s"
    )
    print()
    print("| Measure | Value | Target |")
    print("|---|---:|---|")
    print(
        f"| floor: GET /api/v1/me, 8 clients | {floor_rate:,.0f}/s, p50 "
        f"{statistics.median(floor['latencies']) * 1000:.1f} ms, errors {floor['errors']} | |"
    )
    print(
        f"| floor: `services.check()` one dossier, one process | {floor_check:.2f} ms ({1000 / floor_check:,.0f}/s) | |"
    )
    print(
        f"| floor: check + sealed receipt (`test_submission`) | {floor_full:.2f} ms "
        f"({1000 / floor_full:,.0f}/s) | |"
    )
    print(
        f"| dossiers POSTed / errors | {len(results):,} / {len(errors)} | 0 errors: {_met(not errors)} |"
    )
    print(
        f"| acknowledgement p50 / p95 / p99 / max | {pct(latencies, 0.5):.0f} / {pct(latencies, 0.95):.0f} / "
        f"{pct(latencies, 0.99):.0f} / {max(latencies):.0f} ms | p99 <= 300 ms: {_met(pct(latencies, 0.99) <= 300)} |"
    )
    print(
        f"| accepted / (last acceptance - first POST) | {accepted:,} / {span:.1f} s = "
        f"**{accepted / span:.1f}/s** | >= 150/s: {_met(accepted / span >= 150)} |"
    )
    print(f"| drain after the last POST | {done - last_post:.1f} s | |")
    print(f"| machine busy during the run (both cores) | {busy * 100:.0f} % | |")
    per = ", ".join(f"{k} {v / max(accepted, 1) * 1000:.1f}" for k, v in cpu.items())
    print(
        f"| CPU ms per accepted dossier | {per} (total {sum(cpu.values()) / max(accepted, 1) * 1000:.1f}) | |"
    )
    print(
        f"| 10,000 rows ({len(big) / 2**20:.1f} MiB): POST -> RECEIVED | **{t_done - t_post:.2f} s** (ack "
        f"{t_ack - t_post:.2f} s; in the worker {float(in_worker):.2f} s) | <= 2 s: {_met(t_done - t_post <= 2)} |"
    )
    print(
        f"| 10,000 rows: worker peak memory (VmHWM) | **{hwm_after / 1024:.0f} MiB** ({hwm_before / 1024:.0f} "
        f"MiB before) | <= 400 MiB: {_met(hwm_after / 1024 <= 400)} |"
    )
    print(f"| 10,000 rows: gunicorn worker peak memory | {web_hwm / 1024:.0f} MiB | |")


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _pgrp(proc: Path) -> int:
    try:
        stat = (proc / "stat").read_text()
    except OSError:
        return -1
    return int(stat[stat.rindex(")") + 2 :].split()[2])


def _profiled_worker(stack: Any, work: Path) -> Any:
    args = [
        sys.executable, "-m", "cProfile", "-o", str(work / "worker.prof"),
        "-m", "celery", "-A", "ebhxh", "worker", "--pool", "solo",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info",
    ]  # fmt: skip
    proc = stack._spawn("worker-profiled", args, None)
    proc.kind = "worker"
    return proc


def _print_profile(work: Path) -> None:
    import pstats

    for _ in range(50):
        if (work / "worker.prof").exists():
            break
        time.sleep(0.2)
    stats = pstats.Stats(str(work / "worker.prof"))
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--load":
        load_main(sys.argv[2])
    else:
        main()
