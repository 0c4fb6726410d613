"""Accounts of the legacy TS24 (iBHXH) system, as imported for re-registration (issue 5 item 5).

The full migration of the old system's data (dossiers, files, proof of completeness) is issue 8;
this table is the part re-registration needs: which units held a TS24 account, so that their
01/ĐK-GĐ re-registration links to it and the agency sees who has not re-registered yet.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class LegacyAccount(models.Model):
    username = models.CharField(_("tài khoản TS24"), max_length=100, unique=True)
    unit_code = models.CharField(_("mã đơn vị"), max_length=7, blank=True, db_index=True)
    tax_code = models.CharField(_("mã số thuế"), max_length=14, db_index=True)
    unit_name = models.CharField(_("tên đơn vị"), max_length=300)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("điện thoại"), max_length=30, blank=True)
    agency_code = models.CharField(_("mã cơ quan BHXH"), max_length=5, blank=True)
    certificate_serial = models.CharField(_("số hiệu chứng thư số"), max_length=64, blank=True)
    registered_on = models.DateField(_("ngày đăng ký trên TS24"), null=True, blank=True)
    imported_at = models.DateTimeField(_("nhập lúc"), auto_now_add=True)

    class Meta:
        verbose_name = _("tài khoản TS24")
        verbose_name_plural = _("tài khoản TS24")
        ordering = ["unit_code", "tax_code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(tax_code=""), name="legacy_account_tax_code_present"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.username} – {self.unit_name}"
