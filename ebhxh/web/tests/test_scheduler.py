import pytest
from django.core.management import call_command

from ebhxh.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_run_scheduler_once_runs_every_periodic_task(settings, capsys):
    call_command("run_scheduler", "--once")
    out = capsys.readouterr().out
    for name in settings.CELERY_BEAT_SCHEDULE:
        assert f"{name}: OK" in out
    # The daily chain verification leaves its own audit event.
    assert AuditEvent.objects.filter(tag="audit:verify").exists()
