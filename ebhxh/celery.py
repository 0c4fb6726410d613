"""The Celery application. Embedded mode runs tasks eagerly in-process."""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery
from celery.signals import task_failure

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ebhxh.settings")

app = Celery("ebhxh")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger("ebhxh.tasks")


@task_failure.connect
def _record_task_failure(
    sender: Any = None, task_id: str | None = None, exception: BaseException | None = None, **_: Any
) -> None:
    # In eager mode nothing else notices a final failure (stack-notes §6.5): log it loudly.
    name = getattr(sender, "name", sender)
    logger.error("task %s [%s] failed: %r", name, task_id, exception)
