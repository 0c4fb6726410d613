"""Synthetic dossiers for tests, the demo and the benchmarks (no real personal data).

`d02_form(rows, ...)` is a D02-TS that passes the rules for period 07/2026 in region I;
`signed_envelope(signer, ...)` wraps it (and optional attachments) in a BHXHDienTu.xml with each
form and the envelope signed the way unit software signs them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal

from ebhxh.declarations.envelope import EnvelopeUnit, Ivan, build_envelope
from ebhxh.declarations.forms import D02TS, TK1TS, D02Header, D02Row, Month, PartialDate
from ebhxh.declarations.xmlcodec import encode
from ebhxh.signatures import xmldsig
from ebhxh.signatures.signers import Signer

PERIOD = Month(2026, 7)


def d02_form(
    rows: int,
    *,
    unit_name: str = "Công ty TNHH Dệt may Sao Mai",
    unit_code: str = "DM0001A",
    tax_code: str = "0310000017",
    period: Month = PERIOD,
    first: int = 1,
) -> D02TS:
    header = D02Header(
        unit_name=unit_name,
        unit_code=unit_code,
        tax_code=tax_code,
        period=period,
        date=dt.date(period.year, period.month, 5),
    )
    body = [
        D02Row(
            stt=n,
            pa="TM",
            kind="1",
            full_name=f"Nguyễn Văn Số {i}",
            bhxh_code=f"79{i:08d}",
            birth_date=PartialDate(1990, 1 + i % 12, 1 + i % 28),
            gender=str(i % 2),
            personal_id=f"0790{90 + i % 10}{i:06d}",
            position="Công nhân may",
            workplace="Phân xưởng 1",
            salary=Decimal(6_000_000 + (i % 50) * 100_000),
            allowance_salary=Decimal(500_000),
            contract_fixed_from=dt.date(period.year, period.month, 1),
            contract_fixed_to=dt.date(period.year + 1, period.month, 1) - dt.timedelta(days=1),
            from_month=period,
            contribution_rate=Decimal("32"),
            wage_region="01",
            has_book=False,
            note="Tuyển mới",
        )
        for n, i in enumerate(range(first, first + rows), 1)
    ]
    return D02TS(header, body)


def signed_envelope(
    signer: Signer | None,
    *,
    rows: int = 10,
    unit_name: str = "Công ty TNHH Dệt may Sao Mai",
    unit_code: str = "DM0001A",
    tax_code: str = "0310000017",
    agency_code: str = "07906",
    procedure: str = "600",
    period: Month = PERIOD,
    first: int = 1,
    attachments: Sequence[tuple[str, bytes]] = (),
    signing_time: dt.datetime | None = None,
    change: Callable[[D02TS], D02TS] | None = None,
    ivan: Ivan | None = None,
) -> bytes:
    """A BHXHDienTu.xml with a D02-TS of `rows` rows (and attachments as (file name, bytes)),
    each XML form and the envelope signed by `signer`; unsigned when `signer` is None. `change`
    edits the form before it is encoded (to make a faulty dossier)."""
    d02 = d02_form(
        rows,
        unit_name=unit_name,
        unit_code=unit_code,
        tax_code=tax_code,
        period=period,
        first=first,
    )
    form = encode(change(d02) if change else d02)
    if signer is not None:
        form = xmldsig.sign(form, signer, signing_time=signing_time)
    files = [("D02-TS", "D02-TS-595.xml", form)]
    files += [("CT-DK", name, content) for name, content in attachments]
    envelope = build_envelope(
        EnvelopeUnit(
            name=unit_name,
            code=unit_code,
            tax_code=tax_code,
            signer="Bùi Văn Giám Đốc",
            phone="0281234567",
            agency_code=agency_code,
        ),
        procedure,
        period,
        files,
        date=dt.date(period.year, period.month, 5),
        ivan=ivan,
    )
    if signer is None:
        return envelope
    return xmldsig.sign(envelope, signer, signing_time=signing_time)


def signed_forms_envelope(
    signer: Signer | None,
    forms: Sequence[D02TS | TK1TS],
    *,
    unit_name: str = "Công ty TNHH Dệt may Sao Mai",
    unit_code: str = "DM0001A",
    tax_code: str = "0310000017",
    agency_code: str = "07906",
    procedure: str = "600",
    period: Month = PERIOD,
) -> bytes:
    """A BHXHDienTu.xml carrying the given forms (e.g. a D02-TS and a TK1-TS), each form and the
    envelope signed by `signer`; unsigned when `signer` is None."""
    files = []
    for form in forms:
        content = encode(form)
        if signer is not None:
            content = xmldsig.sign(content, signer)
        files.append((form.code, f"{form.code}-595.xml", content))
    envelope = build_envelope(
        EnvelopeUnit(
            name=unit_name,
            code=unit_code,
            tax_code=tax_code,
            signer="Bùi Văn Giám Đốc",
            phone="0281234567",
            agency_code=agency_code,
        ),
        procedure,
        period,
        files,
        date=dt.date(period.year, period.month, 5),
    )
    if signer is None:
        return envelope
    return xmldsig.sign(envelope, signer)
