from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _

# Caches that each process keeps for itself: counters in them are not shared by gunicorn workers.
_NOT_SHARED = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


class NotifyConfig(AppConfig):
    name = "ebhxh.notify"
    verbose_name = _("Thông báo")

    def ready(self) -> None:
        checks.register(check_rate_limit_cache, checks.Tags.caches)


def check_rate_limit_cache(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from django.conf import settings

    if not getattr(settings, "RATELIMIT_ENABLE", True):
        return []
    name = getattr(settings, "RATELIMIT_USE_CACHE", "default")
    backend = settings.CACHES.get(name, {}).get("BACKEND", "")
    if backend in _NOT_SHARED:
        return [
            checks.Warning(
                f"the {name!r} cache ({backend}) is not shared between processes, so rate limits "
                "count per worker",
                hint="Use the default database cache or set CACHE_REDIS_URL.",
                id="notify.W001",
            )
        ]
    return []
