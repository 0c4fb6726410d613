"""Intake tasks: thin, taking ids. `process_dossier` retries with backoff when something outside
the dossier fails (storage, database, the seal's HSM); `resume` queues dossiers whose task was
lost (run every minute by beat, or `ebhxh resume_intake`)."""

from __future__ import annotations

from celery import shared_task

from ebhxh.dossiers import services


@shared_task(
    name="ebhxh.dossiers.tasks.process_dossier",
    autoretry_for=(Exception,),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
    acks_late=True,
)
def process_dossier(dossier_id: int) -> str:
    return services.process(dossier_id)


@shared_task(name="ebhxh.dossiers.tasks.resume")
def resume() -> int:
    return services.resume()
