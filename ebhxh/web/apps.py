from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "ebhxh.web"
    verbose_name = _("Giao diện")

    def ready(self) -> None:
        # Every Django process (web, commands, tests) gets the configured Celery app, so
        # @shared_task and .delay() use its broker settings.
        from ebhxh import celery  # noqa: F401
