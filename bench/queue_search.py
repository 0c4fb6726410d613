"""Benchmark: the agencies' queues and search over 1,000,000 dossiers on PostgreSQL (issue 7 item
10: p95 <= 100 ms), against the floor of a primary-key lookup measured in the same run.

    .venv/bin/python bench/queue_search.py
    BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres BENCH_CASES=1000000 \
        BENCH_AGENCIES=20 BENCH_N=200 .venv/bin/python bench/queue_search.py

It creates a scratch database `ebhxh_bench_<pid>`, migrates it, fills it with
`ebhxh generate_cases` (synthetic rows, no intake; timed), runs VACUUM ANALYZE, then times each
query BENCH_N times after a warm-up: at the service level (`processing.services.queue`,
`near_due`, `search`, evaluating the first page of 50 rows) and through HTTP (the officers' pages
with Django's test client, which includes the template and the near-due/overdue counters). It
prints p50/p95/p99 in ms and the EXPLAIN (ANALYZE, BUFFERS) of the slowest service query, and
drops the database at the end. PostgreSQL only (SQLite is not the production database).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
CASES = int(os.environ.get("BENCH_CASES", "1000000"))
AGENCIES = int(os.environ.get("BENCH_AGENCIES", "20"))
N = int(os.environ.get("BENCH_N", "200"))
WARMUP = 10
TARGET_MS = 100.0
PAGE = 50
PLAIN_STATIC = "django.contrib.staticfiles.storage.StaticFilesStorage"


def _admin_url() -> str:
    return PG.rsplit("/", 1)[0] + "/postgres"


def _create_db() -> str:
    import psycopg

    name = f"ebhxh_bench_{os.getpid()}"
    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return name


def _drop_db(name: str) -> None:
    import psycopg

    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000

    return {"p50": pct(50), "p95": pct(95), "p99": pct(99), "mean": statistics.mean(ordered) * 1000}


def _timed(fn: Callable[[int], Any], n: int) -> list[float]:
    for i in range(WARMUP):
        fn(i)
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:  # noqa: PLR0915 - a linear script
    name = _create_db()
    os.environ["DATABASE_URL"] = PG.rsplit("/", 1)[0] + "/" + name
    os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="ebhxh-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ebhxh.settings")
    try:
        _run(name)
    finally:
        from django.db import connections

        connections.close_all()
        _drop_db(name)
        print(f"dropped database {name}")


def _run(name: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host, in-memory e-mail
    from django.conf import settings
    from django.test import override_settings

    # no collectstatic in a scratch run: plain static storage instead of the manifest
    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": PLAIN_STATIC}}
    override_settings(STORAGES=storages).enable()
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"database {name}: migrated in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    call_command("generate_cases", count=CASES, agencies=AGENCIES)
    generated = time.perf_counter() - t0
    print(f"generate_cases --count {CASES} --agencies {AGENCIES}: {generated:.1f} s")
    t0 = time.perf_counter()
    raw = connection.cursor().connection  # psycopg connection
    autocommit = raw.autocommit
    raw.autocommit = True
    raw.execute("VACUUM ANALYZE")
    raw.autocommit = autocommit
    print(f"VACUUM ANALYZE: {time.perf_counter() - t0:.1f} s")
    with connection.cursor() as cur:
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        print(f"database size: {cur.fetchone()[0]}")

    from django.test import Client
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from ebhxh.accounts.models import User
    from ebhxh.catalog.models import Agency
    from ebhxh.processing import services
    from ebhxh.processing.models import Case, Stage

    agency = Agency.objects.get(code="90001")
    desk = User.objects.get(username="bench.90001.desk")
    thu = User.objects.get(username="bench.90001.collection")
    mine = Case.objects.filter(agency=agency)
    sample = list(mine.order_by("?").values_list("number", "unit_code", "unit_tax_code")[:500])
    ids = list(Case.objects.order_by("?").values_list("pk", flat=True)[:500])
    counts = {
        "agency_cases": mine.count(),
        "agency_active": mine.filter(stage__in=sorted(services.workflow.ACTIVE)).count(),
    }
    print(f"agency 90001: {counts['agency_cases']:,} cases, {counts['agency_active']:,} active")

    def pick(i: int, field: int) -> str:
        return sample[i % len(sample)][field]

    def floor(i: int) -> None:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT id, number, stage FROM processing_case WHERE id = %s", [ids[i % 500]]
            )
            cur.fetchall()

    now = timezone.now()
    service_queries: dict[str, Callable[[int], Any]] = {
        "desk queue (desk + result)": lambda i: services.queue(
            desk, status=[Stage.DESK, Stage.RESULT], now=now
        ),
        "department queue, procedure 600, overdue": lambda i: services.queue(
            thu, department="collection", procedure="600", overdue=True, now=now
        ),
        "department queue (routed + assigned)": lambda i: services.queue(
            thu, department="collection", status=[Stage.ROUTED, Stage.ASSIGNED], now=now
        ),
        "near-due list": lambda i: services.near_due(agency, now=now),
        "search: dossier number": lambda i: services.search(desk, pick(i, 0)),
        "search: number prefix NNNNN/YYYY": lambda i: services.search(
            desk, pick(i, 0).rsplit("/", 1)[0]
        ),
        "search: unit code (the unit's mã số BHXH)": lambda i: services.search(desk, pick(i, 1)),
        "search: tax code": lambda i: services.search(desk, pick(i, 2)),
        "search: no match": lambda i: services.search(desk, f"ZZ{i:05d}"),
    }
    results: list[tuple[str, str, dict[str, float]]] = []
    results.append(("floor", "SELECT … WHERE id = %s", _ms(_timed(floor, N))))
    slowest: tuple[float, str] = (0.0, "")
    for label, make in service_queries.items():
        stats = _ms(_timed(lambda i, make=make: list(make(i)[:PAGE]), N))
        results.append(("service", label, stats))
        slowest = max(slowest, (stats["p95"], label))

    # HTTP: the officers' pages (template, counters and all), logged in with the second factor
    def client_for(user: User) -> Client:
        client = Client()
        client.force_login(user)
        device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    desk_client, thu_client = client_for(desk), client_for(thu)
    pages: dict[str, tuple[Client, Callable[[int], str]]] = {
        "GET desk queue page": (desk_client, lambda i: "/co-quan/ho-so/?tab=tiep-nhan"),
        "GET department queue, procedure 600, overdue": (
            thu_client,
            lambda i: "/co-quan/ho-so/?tab=collection&procedure=600&overdue=1",
        ),
        "GET near-due page": (desk_client, lambda i: "/co-quan/ho-so/sap-den-han/"),
        "GET search by dossier number": (desk_client, lambda i: f"/co-quan/ho-so/?q={pick(i, 0)}"),
        "GET search by unit code": (desk_client, lambda i: f"/co-quan/ho-so/?q={pick(i, 1)}"),
        "GET search by tax code": (desk_client, lambda i: f"/co-quan/ho-so/?q={pick(i, 2)}"),
    }
    for label, (client, url) in pages.items():

        def get(i: int, client: Client = client, url: Callable[[int], str] = url) -> None:
            response = client.get(url(i))
            assert response.status_code == 200, (response.status_code, url(i))

        results.append(("http", label, _ms(_timed(get, N))))

    print()
    print(f"{'level':8} {'query':48} {'p50':>8} {'p95':>8} {'p99':>8}  target p95 <= 100 ms")
    for level, label, s in results:
        verdict = "" if level == "floor" else ("met" if s["p95"] <= TARGET_MS else "NOT MET")
        print(f"{level:8} {label:48} {s['p50']:8.2f} {s['p95']:8.2f} {s['p99']:8.2f}  {verdict}")
    label = slowest[1]
    print(f"\nEXPLAIN (ANALYZE, BUFFERS) of the slowest service query: {label}")
    print(service_queries[label](0)[:PAGE].explain(analyze=True, buffers=True))
    for other in ("search: tax code", "department queue, procedure 600, overdue"):
        if other != label:
            print(f"\nEXPLAIN (ANALYZE, BUFFERS): {other}")
            print(service_queries[other](0)[:PAGE].explain(analyze=True, buffers=True))
    with open("/proc/loadavg") as f:
        print(f"\nload average at the end: {f.read().strip()}")


if __name__ == "__main__":
    main()
