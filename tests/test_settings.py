"""Item 3: one environment-driven settings module, every variable documented, deploy check clean."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
ENV_READ = re.compile(r"""env_(?:str|bool|int|list|secret)\(\s*["']([A-Z0-9_]+)["']""")


def _settings_variables() -> set[str]:
    names = set()
    for path in (ROOT / "ebhxh").rglob("*.py"):
        names.update(ENV_READ.findall(path.read_text(encoding="utf-8")))
    return names


def _documented_variables() -> set[str]:
    return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", DOC, flags=re.MULTILINE))


def test_every_variable_read_is_documented():
    missing = _settings_variables() - _documented_variables()
    assert not missing, f"not in docs/configuration.md: {sorted(missing)}"


def test_every_documented_settings_variable_exists():
    # Run-script variables (HOST, PORT, PYTHON, PYTEST_WORKERS) are documented in their own table.
    script_vars = set(re.findall(r"^\| `([A-Z0-9_]+)` \| script", DOC, flags=re.MULTILINE))
    stale = _documented_variables() - _settings_variables() - script_vars
    assert not stale, f"documented but never read: {sorted(stale)}"


def _run(args, env_extra, tmp_path):
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update({"DATA_DIR": str(tmp_path), **env_extra})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-key-0123456789",
    "DATABASE_URL": "postgres://ebhxh@db.internal:5432/ebhxh",
    "CELERY_TASK_ALWAYS_EAGER": "false",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "S3_BUCKET": "ebhxh-dossiers",
    "EMAIL_HOST": "smtp.internal",
    "ALLOWED_HOSTS": "ebhxh.example.gov.vn",
    "SITE_URL": "https://ebhxh.example.gov.vn",
    "SECURE_HTTPS": "true",
}


def test_check_deploy_is_clean_in_the_production_profile(tmp_path):
    result = _run(["check", "--deploy", "--fail-level", "WARNING"], PRODUCTION, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_embedded_default_is_sqlite_wal_local_files_eager_tasks_and_an_outbox(tmp_path):
    code = (
        "from django.conf import settings as s; from django.db import connection as c;"
        "c.ensure_connection(); cur = c.cursor(); cur.execute('PRAGMA journal_mode'); "
        "print(s.DATABASES['default']['ENGINE'], cur.fetchone()[0], s.STORAGES['default']['BACKEND'],"
        " s.CELERY_TASK_ALWAYS_EAGER, s.EMAIL_BACKEND, s.EMAIL_FILE_PATH)"
    )
    result = _run(["shell", "--no-imports", "-c", code], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    engine, journal, storage, eager, email, outbox = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert journal == "wal"
    assert storage == "django.core.files.storage.FileSystemStorage"
    assert eager == "True"
    assert email.endswith("filebased.EmailBackend")
    assert outbox == str(tmp_path / "outbox")
    assert (tmp_path / "secret_key").exists()


def test_the_production_profile_selects_postgresql_broker_s3_and_smtp(tmp_path):
    code = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.STORAGES['default']['BACKEND'],"
        " s.EMAIL_BACKEND, s.SESSION_COOKIE_SECURE)"
    )
    result = _run(["shell", "--no-imports", "-c", code], PRODUCTION, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "redis://redis.internal:6379/0",
        "storages.backends.s3.S3Storage",
        "django.core.mail.backends.smtp.EmailBackend",
        "True",
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CELERY_TASK_ALWAYS_EAGER": "false"}, "CELERY_BROKER_URL is required"),
        ({"DEBUG": "maybe"}, "DEBUG='maybe'"),
        ({"EMAIL_HOST": "smtp", "EMAIL_PORT": "twenty-five"}, "EMAIL_PORT='twenty-five'"),
    ],
)
def test_malformed_configuration_fails_loudly(tmp_path, env, message):
    result = _run(["check"], env, tmp_path)
    assert result.returncode != 0
    assert message in result.stderr


def test_secrets_can_come_from_files(tmp_path):
    secret = tmp_path / "key"
    secret.write_text("from-a-file-" + "k" * 40)
    result = _run(
        [
            "shell",
            "--no-imports",
            "-c",
            "from django.conf import settings; print(settings.SECRET_KEY)",
        ],
        {"SECRET_KEY_FILE": str(secret)},
        tmp_path,
    )
    assert result.stdout.strip() == "from-a-file-" + "k" * 40
