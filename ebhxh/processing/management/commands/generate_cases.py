"""`ebhxh generate_cases --count N --agencies K [--database-url URL] [--seed S]`: synthetic
dossiers with their cases and a few steps, for the queue and search benchmark
(bench/queue_search.py, docs/benchmarks.md).

The rows are SYNTHETIC and skip the intake entirely: no envelope bytes, no blobs, no receipt, no
signature check, no audit events, no e-mail. Their `blob`/`sha256` name nothing; downloading a
receipt or evidence of one fails. Use it on a scratch database only, never on one with real data.

What it makes: K base agencies (codes 9xxxx under one provincial agency 90000) with five officers
each (desk, the three departments, a supervisor; username `bench.<code>.<role>`), N/50 units
spread over the agencies, and N dossiers received over the last two years: most returned or
closed, a realistic active share at the desk, routed, assigned, with a result or waiting for a
supplement, due dates around today (so some are overdue), procedures 600/601/604/… and the three
departments. Each case has one to four steps. Dossier numbers are NNNNN/YYYY/AAAAA from each
agency's counter (DossierCounter moves past them, so a real intake in the same database goes on).

Speed: rows are written with PostgreSQL COPY (psycopg) in one transaction per table, or
`executemany` on SQLite; about 1,000,000 dossiers a minute or two on a small machine.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections, transaction
from django.utils import timezone

CENTRAL = "99999"  # only when the database has no central agency
PROVINCIAL = "90000"
ROLES = ("desk", "collection", "books_cards", "benefits", "supervisor")
DEPARTMENTS = ("collection", "books_cards", "benefits")
PROCEDURES = (  # code, name, department, share
    ("600", "Đăng ký, điều chỉnh đóng BHXH, BHYT, BHTN", "collection", 55),
    ("601", "Truy đóng BHXH, BHYT, BHTN", "collection", 8),
    ("604", "Đăng ký, điều chỉnh thông tin đơn vị", "collection", 7),
    ("605", "Cấp lại, đổi, điều chỉnh sổ BHXH, thẻ BHYT", "books_cards", 18),
    ("607", "Giải quyết hưởng chế độ ốm đau, thai sản", "benefits", 12),
)
# stage, share (per mille), dossier status
STAGES = (
    ("closed", 850, "returned"),
    ("returned", 35, "returned"),
    ("result", 15, "result_ready"),
    ("assigned", 40, "processing"),
    ("routed", 20, "processing"),
    ("desk", 25, "received"),
    ("supplement", 10, "supplement"),
    ("withdrawn", 5, "withdrawn"),
)
ACTIVE_DAYS = 20  # active cases were received within the last 20 days (some are overdue)
HISTORY_DAYS = 730
BATCH = 10_000

DOSSIER_COLUMNS = (
    "id",
    "tracking_id",
    "status",
    "channel",
    "unit_id",
    "agency_id",
    "sha256",
    "size",
    "blob",
    "submitted_at",
    "procedure_code",
    "procedure_name",
    "period",
    "forms",
    "findings",
    "verification",
    "processed_at",
    "attempts",
    "number",
    "received_at",
    "appointment_date",
    "receipt_blob",
    "receipt_pdf_blob",
)
CASE_COLUMNS = (
    "id",
    "dossier_id",
    "agency_id",
    "unit_id",
    "number",
    "unit_code",
    "unit_tax_code",
    "procedure_code",
    "received_at",
    "stage",
    "department",
    "assigned_to_id",
    "original_due_date",
    "due_date",
    "paused_days",
    "paused_since",
    "result_at",
    "returned_at",
    "closed_at",
    "updated_at",
)
STEP_COLUMNS = (
    "case_id",
    "seq",
    "action",
    "from_stage",
    "stage",
    "department",
    "officer_id",
    "assignee_id",
    "at",
    "note",
)


def _add_days_skipping_weekends(day: dt.date, days: int) -> dt.date:
    while days > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


class Command(BaseCommand):
    help = "Bulk-create synthetic dossiers and cases for the queue/search benchmark (scratch DB)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True, help="number of dossiers")
        parser.add_argument("--agencies", type=int, default=20, help="base agencies (K)")
        parser.add_argument(
            "--database-url",
            default="",
            help="write to this (migrated) database instead of the configured one",
        )
        parser.add_argument("--seed", type=int, default=7, help="random seed")

    def handle(self, *args: Any, **options: Any) -> None:
        count, agencies = options["count"], options["agencies"]
        if count < 1 or not 1 <= agencies <= 9000:
            raise CommandError("--count must be positive and --agencies 1..9000")
        alias = "default"
        if options["database_url"]:
            import dj_database_url

            alias = "generate_cases"
            conf = dj_database_url.parse(options["database_url"])
            connections.settings[alias] = connections.configure_settings({alias: conf})[alias]
        rng = random.Random(options["seed"])  # noqa: S311 - synthetic, reproducible
        started = time.perf_counter()
        with transaction.atomic(using=alias):
            made = Generator(alias, rng, timezone.now()).run(count, agencies)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"generated {made['dossiers']:,} dossiers, {made['cases']:,} cases, "
            f"{made['steps']:,} steps, {made['units']:,} units, {agencies} agencies "
            f"in {elapsed:.1f} s ({made['dossiers'] / elapsed:,.0f} dossiers/s)"
        )


class Generator:
    def __init__(self, alias: str, rng: random.Random, now: dt.datetime) -> None:
        self.alias = alias
        self.rng = rng
        self.now = now
        self.today = timezone.localdate(now)
        self.connection = connections[alias]

    # --- reference rows (ORM: few) -----------------------------------------------------------

    def _agencies(self, k: int) -> list[Any]:
        from ebhxh.catalog.models import Agency

        db = self.alias
        central = Agency.objects.using(db).filter(level=Agency.Level.CENTRAL).first()
        if central is None:
            central = Agency.objects.using(db).create(
                code=CENTRAL, name="Bảo hiểm xã hội Việt Nam", level=Agency.Level.CENTRAL
            )
        province, _ = Agency.objects.using(db).get_or_create(
            code=PROVINCIAL,
            defaults={
                "name": "Bảo hiểm xã hội tỉnh Thử nghiệm",
                "level": Agency.Level.PROVINCIAL,
                "parent": central,
            },
        )
        out = []
        for n in range(1, k + 1):
            agency, _ = Agency.objects.using(db).get_or_create(
                code=f"9{n:04d}",
                defaults={
                    "name": f"Bảo hiểm xã hội cơ sở Thử nghiệm {n}",
                    "level": Agency.Level.BASE,
                    "parent": province,
                    "phone": "1900 9068",
                },
            )
            out.append(agency)
        return out

    def _officers(self, agencies: Sequence[Any]) -> dict[tuple[int, str], int]:
        from ebhxh.accounts.models import User, UserRole

        db = self.alias
        out: dict[tuple[int, str], int] = {}
        for agency in agencies:
            for role in ROLES:
                user, created = User.objects.using(db).get_or_create(
                    username=f"bench.{agency.code}.{role}",
                    defaults={"kind": User.Kind.AGENCY, "agency": agency, "is_active": True},
                )
                if created:
                    user.set_unusable_password()
                    user.save(using=db)
                    UserRole.objects.using(db).create(user=user, role=role)
                out[(agency.pk, role)] = user.pk
        return out

    def _units(self, agencies: Sequence[Any], n: int) -> list[tuple[int, int, str, str]]:
        from ebhxh.units.models import Unit

        db = self.alias
        start = Unit.objects.using(db).count()
        rows = []
        for i in range(start, start + n):
            agency = agencies[i % len(agencies)]
            rows.append(
                Unit(
                    code=f"B{chr(65 + i // 100_000 % 26)}{i % 100_000:05d}",
                    tax_code=f"9{i:09d}",
                    name=f"Công ty TNHH Thử nghiệm {i}",
                    unit_type=Unit.UnitType.PRIVATE_ENTERPRISE,
                    registered_address="Số 1, phường Thử nghiệm",
                    managing_agency=agency,
                    wage_region=1 + i % 4,
                    contact_email=f"donvi{i}@example.invalid",
                    etx_status=Unit.EtxStatus.ACTIVE,
                )
            )
        Unit.objects.using(db).bulk_create(rows, batch_size=BATCH)
        made = Unit.objects.using(db).filter(tax_code__in=[u.tax_code for u in rows])
        return [
            (u.pk, u.managing_agency_id, u.code or "", u.tax_code)
            for u in made.only("pk", "managing_agency_id", "code", "tax_code")
        ]

    # --- bulk rows ---------------------------------------------------------------------------

    def _next_id(self, table: str) -> int:
        with self.connection.cursor() as cur:
            cur.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608 - constant
            return int(cur.fetchone()[0])

    def _write(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """COPY on PostgreSQL (psycopg 3), executemany in batches elsewhere."""
        written = 0
        with self.connection.cursor() as cur:
            if self.connection.vendor == "postgresql":
                raw = cur.cursor  # the psycopg cursor under Django's wrapper
                sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
                with raw.copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)
                        written += 1
                return written
            marks = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
            batch: list[Sequence[Any]] = []
            for row in rows:
                batch.append(row)
                if len(batch) == BATCH:
                    cur.executemany(sql, batch)
                    written += len(batch)
                    batch = []
            if batch:
                cur.executemany(sql, batch)
                written += len(batch)
        return written

    def _sync_sequence(self, table: str) -> None:
        if self.connection.vendor != "postgresql":
            return
        with self.connection.cursor() as cur:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )

    def run(self, count: int, k: int) -> dict[str, int]:
        from ebhxh.dossiers.models import DossierCounter

        agencies = self._agencies(k)
        officers = self._officers(agencies)
        units = self._units(agencies, max(k, count // 50))
        codes = {a.pk: a.code for a in agencies}
        counters: dict[tuple[int, int], int] = {
            (c.agency_id, c.year): c.last
            for c in DossierCounter.objects.using(self.alias).filter(agency__in=agencies)
        }
        plan = self._plan(count, units, codes, counters)
        first_dossier = self._next_id("dossiers_dossier")
        first_case = self._next_id("processing_case")
        pg = self.connection.vendor == "postgresql"

        def js(value: Any) -> str:
            return json.dumps(value)

        def dossiers() -> Iterator[tuple[Any, ...]]:
            for n, p in enumerate(plan):
                yield (
                    first_dossier + n,
                    uuid.UUID(int=self.rng.getrandbits(128), version=4) if pg else uuid.uuid4().hex,
                    p["status"],
                    "api" if n % 3 else "web",
                    p["unit"][0],
                    p["unit"][1],
                    f"{first_dossier + n:064x}",
                    20_000 + n % 5000,
                    "synthetic",
                    p["received"],
                    p["procedure"][0],
                    p["procedure"][1],
                    f"{p['received'].month:02d}/{p['received'].year}",
                    js([]),
                    js([]),
                    js({}),
                    p["received"],
                    1,
                    p["number"],
                    p["received"],
                    p["appointment"],
                    "",
                    "",
                )

        def cases() -> Iterator[tuple[Any, ...]]:
            for n, p in enumerate(plan):
                if p["stage"] is None:
                    continue
                yield (
                    first_case + n,
                    first_dossier + n,
                    p["unit"][1],
                    p["unit"][0],
                    p["number"],
                    p["unit"][2],
                    p["unit"][3],
                    p["procedure"][0],
                    p["received"],
                    p["stage"],
                    p["department"],
                    officers[(p["unit"][1], p["department"])] if p["stage"] == "assigned" else None,
                    p["appointment"],
                    p["due"],
                    p["paused_days"],
                    p["paused_since"],
                    p["result_at"],
                    p["returned_at"],
                    p["closed_at"],
                    p["updated"],
                )

        def steps() -> Iterator[tuple[Any, ...]]:
            for n, p in enumerate(plan):
                case_id = first_case + n
                at = p["received"]
                desk = officers[(p["unit"][1], "desk")]
                yield (case_id, 1, "receive", "", "desk", "", None, None, at, p["number"])
                if p["stage"] in ("desk", "withdrawn", "supplement"):
                    continue
                at += dt.timedelta(hours=2)
                yield (case_id, 2, "accept", "desk", "routed", p["department"], desk, None, at, "")
                if p["stage"] == "routed":
                    continue
                dept = officers[(p["unit"][1], p["department"])]
                at += dt.timedelta(hours=3)
                yield (
                    case_id,
                    3,
                    "assign",
                    "routed",
                    "assigned",
                    p["department"],
                    dept,
                    dept,
                    at,
                    "",
                )
                if p["stage"] == "assigned":
                    continue
                yield (
                    case_id,
                    4,
                    "complete",
                    "assigned",
                    "result",
                    p["department"],
                    dept,
                    None,
                    p["result_at"],
                    "",
                )

        made = {"units": len(units)}
        made["dossiers"] = self._write("dossiers_dossier", DOSSIER_COLUMNS, dossiers())
        made["cases"] = self._write("processing_case", CASE_COLUMNS, cases())
        made["steps"] = self._write("processing_step", STEP_COLUMNS, steps())
        for table in ("dossiers_dossier", "processing_case", "processing_step"):
            self._sync_sequence(table)
        for (agency_id, year), last in counters.items():
            DossierCounter.objects.using(self.alias).update_or_create(
                agency_id=agency_id, year=year, defaults={"last": last}
            )
        return made

    def _plan(
        self,
        count: int,
        units: Sequence[tuple[int, int, str, str]],
        codes: dict[int, str],
        counters: dict[tuple[int, int], int],
    ) -> list[dict[str, Any]]:
        """Each dossier's values, oldest first (so numbers increase with time per agency)."""
        rng = self.rng
        stages = [s for s, share, _ in STAGES for _i in range(share)]
        status_of = {s: status for s, _share, status in STAGES}
        procedures = [p for p in PROCEDURES for _i in range(p[3])]
        out: list[dict[str, Any]] = []
        for _n in range(count):
            stage = rng.choice(stages)
            active = stage not in ("closed", "returned", "withdrawn")
            back = rng.uniform(0, ACTIVE_DAYS if active else HISTORY_DAYS)
            received = self.now - dt.timedelta(days=back, seconds=rng.randrange(3600))
            out.append({"stage": stage, "received": received})
        out.sort(key=lambda p: p["received"])
        for p in out:
            unit = rng.choice(units)
            procedure = rng.choice(procedures)
            received = p["received"]
            local = timezone.localtime(received)
            key = (unit[1], local.year)
            counters[key] = counters.get(key, 0) + 1
            if counters[key] > 99_999:
                raise CommandError("more than 99,999 dossiers for one agency in a year")
            appointment = _add_days_skipping_weekends(local.date(), 5)
            stage = p["stage"]
            paused = stage == "supplement"
            department = "" if stage in ("desk", "supplement", "withdrawn") else procedure[2]
            if (
                stage in ("routed", "assigned", "result", "returned", "closed")
                and rng.random() < 0.1
            ):
                department = rng.choice(DEPARTMENTS)  # forwarded, or routed by the desk's choice
            result_at = None
            if stage in ("result", "returned", "closed"):
                result_at = received + dt.timedelta(days=rng.uniform(0.5, 6))
            returned_at = (
                result_at + dt.timedelta(hours=rng.uniform(1, 30))
                if stage in ("returned", "closed") and result_at
                else None
            )
            closed_at = (
                returned_at + dt.timedelta(days=1)
                if stage == "closed" and returned_at
                else (received + dt.timedelta(hours=1) if stage == "withdrawn" else None)
            )
            p.update(
                unit=unit,
                procedure=procedure,
                number=f"{counters[key]:05d}/{local.year}/{codes[unit[1]]}",
                appointment=appointment,
                due=appointment,
                paused_days=0,
                paused_since=received + dt.timedelta(hours=4) if paused else None,
                department=department,
                result_at=result_at,
                returned_at=returned_at,
                closed_at=closed_at,
                updated=closed_at or returned_at or result_at or received,
                status=status_of[stage],
            )
        return out
