"""A real intake stack in processes of its own, for the crash tests (test_intake_crash.py) and the
intake benchmark (bench/intake.py).

`IntakeStack` owns a DATA_DIR and a database: a SQLite file under DATA_DIR, or a fresh PostgreSQL
database (`ebhxh_crash_<random>`, created and dropped) when given a PostgreSQL URL. `prepare()`
migrates it and loads the catalogues, then, in a Django process of its own (`setup_unit`), creates a
unit of agency 07906 registered for e-transactions whose certificate comes from a test PKI with a
trusted root, and an API token. The agency seal is a PKCS#12 file from the same PKI. Then gunicorn
(`start_web`) and Celery workers (`start_worker`) run with CELERY_TASK_ALWAYS_EAGER=false on the given
broker; the test reads the outcome straight from the database (`query`) and the storage (`media`).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.integration.conftest import ROOT, free_port, wait_for_port

BIN = Path(sys.executable).parent
UNIT = {
    "code": "DM0001A",
    "tax_code": "0310000017",
    "name": "Công ty TNHH Dệt may Sao Mai",
    "agency": "07906",
}


class IntakeStack:
    def __init__(
        self,
        root: Path,
        broker_url: str,
        postgres_url: str | None = None,
        db_prefix: str = "ebhxh_crash",
    ) -> None:
        self.root = root
        self.data_dir = root / "data"
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.fault_dir = root / "faults"
        self.fault_dir.mkdir(exist_ok=True)
        self.broker_url = broker_url
        self.postgres_url = postgres_url
        self.db_prefix = db_prefix
        self.database_url: str | None = None
        self.token = secrets.token_urlsafe(32)
        self.procs: list[subprocess.Popen[bytes]] = []
        self.port = 0
        self._count = 0

    # --- environment, database -------------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
        }
        env.update(
            {
                "DATA_DIR": str(self.data_dir),
                "CELERY_TASK_ALWAYS_EAGER": "false",
                "CELERY_BROKER_URL": self.broker_url,
                "SEAL_PKCS12_FILE": str(self.root / "seal.p12"),
                "SEAL_PKCS12_PASSWORD": "",
                "EBHXH_FAULT_DIR": str(self.fault_dir),
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        env.pop("EBHXH_FAULT", None)
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        return env

    def manage(self, *args: str, timeout: float = 300) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def _admin_url(self) -> str:
        assert self.postgres_url
        return self.postgres_url.rsplit("/", 1)[0] + "/postgres"

    def prepare(self, pki: Any, signer_cert_pem: bytes, sample: bytes | None = None) -> None:
        """Create and migrate the database; the catalogues, the unit, its certificate, the token."""
        if self.postgres_url:
            import psycopg

            name = f"{self.db_prefix}_{secrets.token_hex(4)}"
            with psycopg.connect(self._admin_url(), autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {name}")
            self.database_url = self.postgres_url.rsplit("/", 1)[0] + "/" + name
        (self.root / "root.pem").write_bytes(pki.root.cert_pem)
        (self.root / "unit.pem").write_bytes(signer_cert_pem)
        (self.root / "token").write_text(self.token)
        if sample is not None:
            (self.root / "sample.xml").write_bytes(sample)
        seal = pki.issue("Bảo hiểm xã hội Cơ sở Bình Thạnh")
        (self.root / "seal.p12").write_bytes(seal.pkcs12(None))
        (self.data_dir / "static").mkdir(parents=True, exist_ok=True)  # whitenoise warns otherwise
        self.manage("migrate", "-v", "0")
        self.manage("createcachetable", "-v", "0")
        self.manage("load_catalogues")
        code = (
            f"from tests.integration.intake_stack import setup_unit; setup_unit({str(self.root)!r})"
        )
        self.manage("shell", "--no-imports", "-c", code)

    def drop_database(self) -> None:
        if not (self.postgres_url and self.database_url):
            return
        import psycopg

        name = self.database_url.rsplit("/", 1)[1]
        with psycopg.connect(self._admin_url(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of a query on the stack's database, outside Django (no parameters)."""
        if self.database_url:
            import psycopg

            with psycopg.connect(self.database_url) as conn:
                return list(conn.execute(sql).fetchall())  # type: ignore[arg-type]
        conn = sqlite3.connect(self.data_dir / "ebhxh.sqlite3", timeout=30)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def media(self, name: str) -> Path:
        return self.data_dir / "media" / name

    # --- processes --------------------------------------------------------------------------

    def _spawn(self, label: str, args: list[str], extra_env: dict[str, str] | None) -> Any:
        self._count += 1
        log = open(self.logs / f"{self._count:02d}-{label}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env | (extra_env or {}),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() reaches every child
        )
        log.close()
        proc.log_path = log.name  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    def start_web(
        self,
        *,
        workers: int = 2,
        threads: int = 1,
        extra_env: dict[str, str] | None = None,
        extra_args: tuple[str, ...] = (),
        wait: bool = True,
    ) -> Any:
        """gunicorn on the stack's port (a free one the first time); with `wait`, once it answers."""
        self.port = self.port or free_port()
        args = [
            str(BIN / "gunicorn"),
            "ebhxh.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--timeout",
            "30",
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
            "--preload",  # a killed worker is replaced by a fork, not a new Django start
            *extra_args,
        ]
        proc = self._spawn("web", args, extra_env)
        proc.kind = "web"
        return self.ready(proc) if wait else proc

    def ready(self, proc: Any) -> Any:
        """Wait until a process started with wait=False serves (web) or consumes (worker)."""
        if proc.kind == "worker":
            return self._worker_ready(proc)
        wait_for_port(self.port, proc)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the port listens before the workers have booted
            try:
                if self.request("GET", "/api/v1/me", timeout=5)[0] == 200:
                    return proc
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError("gunicorn did not answer")

    def start_worker(
        self,
        *,
        pool: str = "prefork",
        concurrency: int = 1,
        extra_env: dict[str, str] | None = None,
        name: str = "intake",
        wait: bool = True,
    ) -> Any:
        """A Celery worker consuming the stack's broker; with `wait`, once it says it is ready."""
        args = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "ebhxh",
            "worker",
            "--pool",
            pool,
            "--concurrency",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{name}{self._count}@%h",
            "-l",
            "info",
        ]
        proc = self._spawn("worker", args, extra_env)
        proc.kind = "worker"
        return self.ready(proc) if wait else proc

    def _worker_ready(self, proc: Any) -> Any:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"worker exited: {Path(proc.log_path).read_text()[-3000:]}")
            if b" ready." in Path(proc.log_path).read_bytes():
                return proc
            time.sleep(0.1)
        raise TimeoutError("the worker did not start")

    def kill(self, proc: Any) -> None:
        """SIGKILL the process and every process of its group (gunicorn's or Celery's children)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self, proc: Any) -> None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            self.kill(proc)

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                self.kill(proc)
            else:  # a SIGKILLed leader may leave children in its group
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
        self.drop_database()

    # --- HTTP ---------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> tuple[int, Any]:
        """One request on a new connection; OSError (refused, reset, timeout) when unanswered."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            all_headers = {"Authorization": f"Bearer {self.token}"} | (headers or {})
            if body is not None:
                all_headers["Content-Type"] = "application/xml"
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
        except http.client.HTTPException as exc:  # e.g. RemoteDisconnected is also an OSError
            raise OSError(str(exc)) from exc
        finally:
            conn.close()
        try:
            return response.status, json.loads(data)
        except ValueError:
            return response.status, data

    def submit(self, body: bytes, key: str | None = None, timeout: float = 30) -> tuple[int, Any]:
        return self.request(
            "POST",
            "/api/v1/dossiers",
            body,
            {"Idempotency-Key": key} if key else None,
            timeout=timeout,
        )

    # --- outcome ------------------------------------------------------------------------------

    def dossiers(self) -> list[dict[str, Any]]:
        cols = (
            "id",
            "tracking_id",
            "status",
            "sha256",
            "blob",
            "number",
            "receipt_blob",
            "idempotency_key",
            "attempts",
        )
        rows = self.query(f"SELECT {', '.join(cols)} FROM dossiers_dossier ORDER BY id")  # noqa: S608
        out = [dict(zip(cols, row, strict=True)) for row in rows]
        for d in out:
            d["tracking_id"] = uuid.UUID(str(d["tracking_id"]))
        return out

    def wait_decided(self, count: int, timeout: float = 60) -> list[dict[str, Any]]:
        """Wait until `count` dossiers exist and none is SUBMITTED; the dossiers."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.dossiers()
            pending = [d for d in rows if d["status"] == "submitted"]
            if len(rows) >= count and not pending:
                return rows
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{len(pending)} of {len(rows)} dossiers still submitted after {timeout} s: "
                    + ", ".join(f"{d['id']} ({d['attempts']} attempts)" for d in pending[:10])
                    + "\n"
                    + "\n".join(iter_logs(self))
                )
            time.sleep(0.2)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def iter_logs(stack: IntakeStack) -> Iterator[str]:
    for path in sorted(stack.logs.glob("*.log")):
        yield f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"


def setup_unit(directory: str) -> None:
    """(In a Django process.) The unit of agency 07906, registered for e-transactions with the
    certificate in <directory>/unit.pem, whose root <directory>/root.pem is trusted; an API token
    with the value in <directory>/token."""
    from django.db import transaction

    from ebhxh.accounts.models import Role, User, UserRole
    from ebhxh.accounts.services import create_api_token
    from ebhxh.catalog.models import Agency
    from ebhxh.signatures.trust import add_trusted_root, register_certificate
    from ebhxh.units.models import Unit

    folder = Path(directory)
    with transaction.atomic():
        sysadmin = User.objects.create(
            username="quantri", kind=User.Kind.SYSTEM, is_staff=True, is_superuser=True
        )
        UserRole.objects.create(user=sysadmin, role=Role.SYSADMIN)
        unit = Unit.objects.create(
            code=UNIT["code"],
            tax_code=UNIT["tax_code"],
            name=UNIT["name"],
            unit_type=Unit.UnitType.PRIVATE_ENTERPRISE,
            registered_address="1 Đường Thử Nghiệm, Thành phố Hồ Chí Minh",
            managing_agency=Agency.objects.get(code=UNIT["agency"]),
            wage_region=1,
            contact_email="donvi@example.vn",
            etx_status=Unit.EtxStatus.ACTIVE,
        )
        admin = User.objects.create(
            username="dv-dm0001a", kind=User.Kind.UNIT, unit=unit, is_unit_account=True
        )
        UserRole.objects.create(user=admin, role=Role.UNIT_ADMIN)
        add_trusted_root((folder / "root.pem").read_bytes(), actor=sysadmin)
        register_certificate(unit, (folder / "unit.pem").read_bytes(), actor=sysadmin)
        create_api_token(
            actor=admin,
            unit=unit,
            name="Phần mềm lương",
            value=(folder / "token").read_text(),
            expires_at=None,
        )
    # A sample dossier passes every intake check here, before any server is started.
    sample = folder / "sample.xml"
    if sample.exists():
        from ebhxh.dossiers.services import check

        checked = check(sample.read_bytes(), unit=unit)
        assert checked.ok and checked.procedure is not None, checked.findings
