"""Demo data of the registration flow: TS24 accounts (one re-registered, three not yet), a
re-registration already approved with its sealed notice, and two registrations waiting at the
one-stop desk of the first base agency (motcua.demo), one first-time and one TS24 unit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from ebhxh.accounts.models import Role, User
from ebhxh.catalog.models import Agency
from ebhxh.legacy.models import LegacyAccount
from ebhxh.registrations import services
from ebhxh.registrations.models import Registration
from ebhxh.units.models import Unit

# username, unit code, tax-code prefix (9 digits), name
LEGACY = [
    ("ts24_saomai", "DM0001A", None, "Công ty TNHH Dệt may Sao Mai"),
    ("ts24_hoalong", "HL0100A", "032100001", "Công ty TNHH Thương mại Hoà Long"),
    ("ts24_phuongnam", "PN0200A", "032200001", "Công ty Cổ phần In Phương Nam"),
    ("ts24_bachdang", "BD0300A", "032300001", "Công ty TNHH Cơ khí Bạch Đằng"),
]


def _declaration(agency: Agency, **values: Any) -> dict[str, Any]:
    base = {
        "unit_code": "",
        "unit_type": "private_enterprise",
        "registered_address": "45 Đường Demo, Phường Bến Thành, Thành phố Hồ Chí Minh",
        "contact_address": "",
        "head_name": "Nguyễn Văn Thủ Trưởng",
        "contact_person": "Trần Thị Liên Hệ",
        "phone": "028 3911 2233",
        "contact_phone": "0903 456 789",
        "managing_agency": agency,
        "wage_region": 1,
        "procedures": ["600", "604"],
        "delivery": "electronic",
        "uses_signature": False,
    }
    base.update(values)
    return base


def _submitted(reg: Registration) -> Registration:
    """Demo shortcut for the e-mailed code step (a real unit types the code it received)."""
    Registration.objects.filter(pk=reg.pk).update(
        status=Registration.Status.SUBMITTED,
        submitted_at=timezone.now() - dt.timedelta(hours=2),
        email_verified_at=timezone.now() - dt.timedelta(hours=2),
    )
    reg.refresh_from_db()
    return reg


def seed_registrations(tax_code: Any, desk: Agency) -> dict[str, int]:
    """`tax_code(prefix)` makes a valid tax code; `desk` is the agency of motcua.demo."""
    created: dict[str, int] = {}
    saomai = Unit.objects.get(code="DM0001A")
    for username, code, prefix, name in LEGACY:
        if LegacyAccount.objects.filter(username=username).exists():
            continue
        LegacyAccount.objects.create(
            username=username,
            unit_code=code,
            tax_code=saomai.tax_code if code == "DM0001A" else tax_code(prefix),
            unit_name=name,
            email=f"{username}@ts24.demo.ebhxh.vn",
            phone="028 3800 0000",
            agency_code=desk.code,
            registered_on=dt.date(2015, 9, 1),
        )
        created["legacy_accounts"] = created.get("legacy_accounts", 0) + 1

    officer = User.objects.filter(agency=desk, roles__role=Role.DESK).first()
    if officer is not None and not Registration.objects.filter(unit=saomai).exists():
        # Sao Mai held a TS24 account: it re-registers (CV 614) before it transacts here.
        Unit.objects.filter(pk=saomai.pk).update(etx_status=Unit.EtxStatus.PENDING)
        reg = services.start(
            data=_declaration(
                saomai.managing_agency,
                unit_name=saomai.name,
                tax_code=saomai.tax_code,
                unit_code="DM0001A",
                unit_type=saomai.unit_type,
                registered_address=saomai.registered_address,
                head_name=saomai.head_name,
                phone=saomai.contact_phone,
                wage_region=saomai.wage_region,
                email=saomai.contact_email,
            )
        )
        services.approve(_submitted(reg), officer)
        created["registrations"] = created.get("registrations", 0) + 1

    pending = [
        (
            "Công ty TNHH Khởi Nghiệp Xanh",
            tax_code("032400001"),
            "",
            "khoinghiep@xanh.demo.ebhxh.vn",
        ),
        ("Công ty TNHH Thương mại Hoà Long", None, "HL0100A", "ketoan@hoalong.demo.ebhxh.vn"),
    ]
    for name, tax, code, email in pending:
        if tax is None:
            tax = LegacyAccount.objects.get(unit_code=code).tax_code
        if Registration.objects.filter(tax_code=tax).exists():
            continue
        attachment = None if code else ("giay-chung-nhan-dkdn.pdf", _demo_pdf(name))
        reg = services.start(
            data=_declaration(desk, unit_name=name, tax_code=tax, unit_code=code, email=email),
            attachment=attachment,
        )
        _submitted(reg)
        created["registrations"] = created.get("registrations", 0) + 1
    return created


def _demo_pdf(name: str) -> bytes:
    from ebhxh.notices.pdf import render_pdf

    return render_pdf("registrations/demo_business_certificate.html", {"name": name})
