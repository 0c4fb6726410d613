"""Item 3: the production profile works with real servers, not only in settings: a Celery worker
consuming from a Redis broker, S3 storage on moto's server, and SMTP delivery."""

import mailbox
import os
import subprocess
import sys
import time

import boto3
import pytest

from tests.integration.conftest import ROOT, manage

pytestmark = pytest.mark.integration


def test_s3_storage_from_the_environment(tmp_path, s3_endpoint):
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    s3.create_bucket(Bucket="ebhxh-test")
    env = {
        "DATA_DIR": str(tmp_path),
        "S3_BUCKET": "ebhxh-test",
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_ACCESS_KEY_ID": "test",
        "S3_SECRET_ACCESS_KEY": "test",
    }
    code = (
        "from django.core.files.base import ContentFile; from django.core.files.storage import default_storage as s;"
        "print(s.save('probe/hồ-sơ.xml', ContentFile('<Hoso>Bảo hiểm</Hoso>'.encode())))"
    )
    name = manage("shell", "--no-imports", "-c", code, env=env).stdout.strip()
    body = s3.get_object(Bucket="ebhxh-test", Key=name)["Body"].read().decode()
    assert body == "<Hoso>Bảo hiểm</Hoso>"
    assert not list((tmp_path / "media").glob("**/*"))  # nothing went to the local disk


def test_smtp_delivery_from_the_environment(tmp_path, smtp_server):
    port, maildir = smtp_server
    env = {"DATA_DIR": str(tmp_path), "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port)}
    manage("sendtestemail", "donvi@example.vn", env=env)
    messages = list(mailbox.Maildir(str(maildir), create=False))
    assert len(messages) == 1
    assert messages[0]["To"] == "donvi@example.vn"
    assert messages[0]["From"] == "ebhxh <no-reply@ebhxh.local>"
    assert not (tmp_path / "outbox").exists()


def test_a_celery_worker_runs_tasks_from_the_redis_broker(tmp_path, redis_url):
    env = {
        "DATA_DIR": str(tmp_path),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_BROKER_URL": redis_url,
    }
    manage("migrate", "-v", "0", env=env)
    worker_env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    worker_env.update(env)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "ebhxh",
            "worker",
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=worker_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Enqueued from another process through the broker, executed by the worker.
        manage(
            "shell",
            "--no-imports",
            "-c",
            "from ebhxh.audit.tasks import verify_chain; verify_chain.delay()",
            env=env,
        )
        count = "from ebhxh.audit.models import AuditEvent; print(AuditEvent.objects.filter(tag='audit:verify').count())"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if manage("shell", "--no-imports", "-c", count, env=env).stdout.strip() == "1":
                break
            time.sleep(0.5)
        else:
            pytest.fail("the worker did not run the task")
    finally:
        worker.terminate()
        worker.wait(timeout=20)
