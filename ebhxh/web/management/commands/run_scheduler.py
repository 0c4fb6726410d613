from __future__ import annotations

import logging
import signal
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from ebhxh.celery import app

logger = logging.getLogger("ebhxh.scheduler")


class Command(BaseCommand):
    help = (
        "Chạy các tác vụ định kỳ (CELERY_BEAT_SCHEDULE) trong tiến trình, cho chế độ nhúng. "
        "Run the periodic tasks of CELERY_BEAT_SCHEDULE in-process, for the embedded mode; "
        "production runs `celery -A ebhxh beat` with a broker instead."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="run every task once and exit")

    def handle(self, *args: Any, once: bool = False, **options: Any) -> None:
        app.loader.import_default_modules()  # registers the tasks of every app, as a worker does
        beat: dict[str, dict[str, Any]] = settings.CELERY_BEAT_SCHEDULE
        schedule = {name: float(entry["schedule"]) for name, entry in beat.items()}
        tasks = {name: str(entry["task"]) for name, entry in beat.items()}
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        due = dict.fromkeys(schedule, time.monotonic())
        while not stopping:
            now = time.monotonic()
            for name, when in due.items():
                if when <= now:
                    self._run(name, tasks[name])
                    due[name] = now + schedule[name]
            if once:
                return
            time.sleep(min(1.0, max(0.0, min(due.values()) - time.monotonic())))

    def _run(self, name: str, task_name: str) -> None:
        result = app.tasks[task_name].apply()
        state = "OK" if result.successful() else f"FAILED: {result.result!r}"
        logger.info("periodic task %s (%s): %s", name, task_name, state)
        self.stdout.write(f"{name}: {state}")
