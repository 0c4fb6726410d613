from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LegacyConfig(AppConfig):
    name = "ebhxh.legacy"
    verbose_name = _("Dữ liệu hệ thống cũ (TS24)")
