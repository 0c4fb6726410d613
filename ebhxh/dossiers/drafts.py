"""Drafts of the web channel (issue 6 item 1; docs/intake-web.md): a unit member composes a D02-TS
online or attaches forms, sees the findings next to the rows, hands the draft over for signature;
a signer signs each form XML (``<FORM>/Cky``) and then the envelope (``Hoso/CKy_Dvi``) through
the local signing agent, one document per agent call, and the signed envelope goes to
``services.submit`` like any other. A procedure that does not require a signature may instead be
confirmed with a one-time code e-mailed to the unit's registered address.

Maker-checker, enforced here and not only by the pages:

* prepare (create, edit rows, attach files, hand over): PREPARER, SIGNER or UNIT_ADMIN;
* sign in the portal: SIGNER only (the person holding the unit's token);
* submit without the portal's signing (a file signed elsewhere, an e-mail code) and withdraw:
  SIGNER or UNIT_ADMIN.

Rows are stored as text by ``D02Row`` field name ("07/2026", "17/05/1990", "6500000"), so a row
read from a workbook or an XML form keeps every column even if the web form edits only some.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree

from ebhxh.accounts.models import Role, User
from ebhxh.audit.services import record_event
from ebhxh.catalog.models import ChangeType, Procedure
from ebhxh.declarations import xmlcodec
from ebhxh.declarations.envelope import EnvelopeUnit, build_envelope
from ebhxh.declarations.findings import DeclarationError, Finding
from ebhxh.declarations.forms import D02TS, FORMS, D02Header, D02Row, Month, PartialDate
from ebhxh.dossiers import blobs, services
from ebhxh.dossiers.models import Channel, Dossier, Draft, DraftStatus
from ebhxh.units.models import Employment, Participant, Unit

PREPARE_ROLES = (Role.PREPARER, Role.SIGNER, Role.UNIT_ADMIN)
SIGN_ROLES = (Role.SIGNER,)
SUBMIT_ROLES = (Role.SIGNER, Role.UNIT_ADMIN)

D02 = "D02-TS"
D02_FILE = "D02-TS-595.xml"
ENVELOPE_ID = "BHXHDienTu"
CODE_PURPOSE = "dossier_submission"
# Codes the unsigned preview always has; the signature comes at the end.
_UNSIGNED_CODES = frozenset({"DOS-UNSIGNED", "SIG-MISSING"})


class DraftError(Exception):
    """A refused draft operation: a stable code with its Vietnamese and English message."""

    def __init__(self, code: str, detail: str = "") -> None:
        vi, en = error_codes()[code]
        super().__init__(f"{code}: {en}")
        self.code = code
        self.message_vi = f"{vi} {detail}".strip()
        self.message_en = f"{en} {detail}".strip()


def error_codes() -> dict[str, tuple[str, str]]:
    return {
        "DRAFT-ROLE": (
            _("Tài khoản của bạn không có quyền thực hiện thao tác này."),
            "Your account is not allowed to do this.",
        ),
        "DRAFT-STATE": (
            _("Hồ sơ nháp không ở trạng thái cho phép thao tác này."),
            "The draft is not in a state that allows this.",
        ),
        "DRAFT-PERIOD": (
            _("Kỳ kê khai phải có dạng MM/YYYY."),
            "The declaration period must be MM/YYYY.",
        ),
        "DRAFT-PROCEDURE": (
            _("Mã thủ tục không có trong danh mục hoặc chưa có hiệu lực."),
            "The procedure is not in the catalogue or not in force.",
        ),
        "DRAFT-EMPTY": (
            _("Hồ sơ chưa có dòng kê khai hay tệp tờ khai nào."),
            "The draft has neither rows nor form files.",
        ),
        "DRAFT-ERRORS": (
            _("Hồ sơ còn lỗi; hãy sửa các lỗi được đánh dấu trước khi trình ký hoặc ký."),
            "The draft still has errors; correct them before handing over or signing.",
        ),
        "DRAFT-ROW": (_("Không có dòng này."), "No such row."),
        "DRAFT-VALUE": (
            _("Giá trị không đúng định dạng."),
            "The value does not have the expected format.",
        ),
        "DRAFT-FILE-TYPE": (
            _("Tệp XML không phải tờ khai đọc được (D02-TS, TK1-TS, D01-TS…)."),
            "The XML file is not a readable form (D02-TS, TK1-TS, D01-TS…).",
        ),
        "DRAFT-CERT-INVALID": (
            _("Không đọc được chứng thư số."),
            "The certificate cannot be read.",
        ),
        "DRAFT-CERT-NOT-REGISTERED": (
            _("Chứng thư số này chưa được đăng ký cho đơn vị hoặc đã ngừng sử dụng."),
            "This certificate is not registered to the unit, or no longer in use.",
        ),
        "DRAFT-SIGNATURE": (_("Chữ ký số không hợp lệ."), "The signature is not valid."),
        "DRAFT-CERT-MISMATCH": (
            _("Tài liệu được ký bằng chứng thư số khác chứng thư đã chọn."),
            "The document was signed with another certificate than the one chosen.",
        ),
        "DRAFT-CONTENT-MISMATCH": (
            _("Nội dung đã ký khác nội dung hồ sơ đã chuẩn bị."),
            "What was signed differs from the prepared dossier.",
        ),
        "DRAFT-SIGNATURE-REQUIRED": (
            _("Thủ tục này bắt buộc chữ ký số."),
            "This procedure requires a digital signature.",
        ),
        "DRAFT-CODE-INVALID": (
            _("Mã xác nhận không đúng hoặc đã hết hạn."),
            "The confirmation code is wrong or has expired.",
        ),
    }


# --- who may do what ----------------------------------------------------------------------------


def may(user: Any, unit: Unit, roles: Sequence[str]) -> bool:
    return (
        isinstance(user, User)
        and user.is_active
        and user.kind == User.Kind.UNIT
        and user.unit_id == unit.pk
        and user.has_role(*roles)
    )


def _require(user: Any, unit: Unit, roles: Sequence[str]) -> None:
    if not may(user, unit, roles):
        raise DraftError("DRAFT-ROLE")


# --- rows as text -------------------------------------------------------------------------------


def _field_types() -> dict[str, Any]:
    """D02Row field name -> its value type (the non-None member of `X | None`)."""
    out: dict[str, Any] = {}
    for name, hint in typing.get_type_hints(D02Row).items():
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        out[name] = args[0] if args else hint
    return out


ROW_TYPES: dict[str, Any] = _field_types()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.date):
        return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"
    return str(value)


def row_text(row: D02Row) -> dict[str, str]:
    """A D02Row as text by field name (None and blank fields left out; no STT)."""
    out = {}
    for f in dataclasses.fields(D02Row):
        value = getattr(row, f.name)
        if value is None or f.name == "stt" or value == "":
            continue
        out[f.name] = _text(value)
    return out


def parse_number(text: str) -> Decimal:
    """A number as units type it: "6.500.000", "6500000", "2,34" or "2.34"."""
    from ebhxh.declarations.excel import parse_number_text

    return parse_number_text(text)


def parse_value(name: str, text: str) -> Any:
    """The typed value of one row field from its text; ValueError when it cannot be read."""
    kind = ROW_TYPES[name]
    text = text.strip()
    if kind is str:
        return text
    if kind is int:
        return int(text)
    if kind is bool:
        if text not in ("0", "1"):
            raise ValueError("expected 0 or 1")
        return text == "1"
    if kind is Decimal:
        try:
            return parse_number(text)
        except (InvalidOperation, ArithmeticError) as exc:
            raise ValueError("not a number") from exc
    if kind is Month:
        return Month.parse(text)
    if kind is PartialDate:
        return PartialDate.parse(text)
    if kind is dt.date:
        return dt.datetime.strptime(text, "%d/%m/%Y").date()  # noqa: DTZ007  a calendar date
    raise ValueError(f"no text form for {name}")


def _finding(code: str, **where: Any) -> dict[str, Any]:
    vi, en = error_codes()[code]
    location = {"form": None, "row": None, "field": None, "xpath": None, "sheet": None}
    location.update(where)
    return {
        "code": code,
        "severity": "error",
        "message_vi": vi,
        "message_en": en,
        "location": location,
    }


def build_rows(draft: Draft) -> tuple[list[D02Row], list[dict[str, Any]]]:
    """The draft's rows as D02Row (STT renumbered), and a finding for each unreadable value."""
    rows, problems = [], []
    for number, values in enumerate(draft.rows, 1):
        kwargs: dict[str, Any] = {"stt": number}
        for name, text in values.items():
            if name not in ROW_TYPES or name == "stt" or text in ("", None):
                continue
            try:
                kwargs[name] = parse_value(name, str(text))
            except ValueError:
                problems.append(_finding("DRAFT-VALUE", form=D02, row=number, field=name))
        rows.append(D02Row(**kwargs))
    return rows, problems


# --- change types (PA) ------------------------------------------------------------------------


def change_types(on: dt.date | None = None) -> list[tuple[str, str, str]]:
    """The PA list of procedure 600 (API 082) as (code, name, direction), from the catalogue, or
    from its data file while the catalogue is not loaded."""
    on = on or timezone.localdate()
    rows = list(
        ChangeType.objects.in_force(on)
        .filter(list_code="600")
        .order_by("code")
        .values_list("code", "name", "direction")
    )
    if rows:
        return rows
    import json

    path = Path(__file__).resolve().parents[1] / "catalog" / "data" / "change_types.json"
    items = json.loads(path.read_text(encoding="utf-8"))["items"]
    return sorted(
        (i["code"], i["name"], i.get("direction", "")) for i in items if i["list"] == "600"
    )


def _kind_of(pa: str) -> str | None:
    direction = {code: d for code, _name, d in change_types()}.get(pa)
    return {"increase": "1", "decrease": "2"}.get(direction or "")


# --- the forms and the envelope -----------------------------------------------------------------


def period_of(draft: Draft) -> Month | None:
    try:
        return Month.parse(draft.period)
    except ValueError:
        return None


def procedure_of(draft: Draft) -> Procedure | None:
    return (
        Procedure.objects.in_force(timezone.localdate()).filter(code=draft.procedure_code).first()
    )


def d02_form(
    draft: Draft, *, representative: str = ""
) -> tuple[D02TS | None, list[dict[str, Any]]]:
    rows, problems = build_rows(draft)
    if not rows:
        return None, problems
    unit = draft.unit
    header = D02Header(
        unit_name=unit.name,
        unit_code=unit.code,
        tax_code=unit.tax_code,
        address=unit.registered_address or None,
        phone=unit.contact_phone or None,
        email=unit.contact_email or None,
        agency_code=unit.managing_agency.code,
        procedure_code=draft.procedure_code,
        period=period_of(draft),
        date=timezone.localdate(),
        preparer=(draft.created_by.full_name or draft.created_by.username)[:100],
        representative=representative or unit.head_name or None,
    )
    return D02TS(header, rows), problems


def unsigned_forms(
    draft: Draft, *, representative: str = ""
) -> tuple[list[tuple[str, str, bytes]], list[dict[str, Any]]]:
    """The form XMLs to sign, as (form code, file name, bytes): the composed D02-TS, then each
    attached form; and the findings of values that could not be read."""
    form, problems = d02_form(draft, representative=representative)
    files = []
    if form is not None:
        try:
            files.append((D02, D02_FILE, xmlcodec.encode(form)))
        except DeclarationError as exc:
            problems.append(exc.finding.as_dict())
    for item in draft.attachments:
        if item["kind"] == "form":
            files.append((item["form_code"], item["name"], blobs.get(item["blob"])))
    return files, problems


def _other_files(draft: Draft) -> list[tuple[str, str, bytes]]:
    return [
        ("CT-DK", item["name"], blobs.get(item["blob"]))
        for item in draft.attachments
        if item["kind"] == "file"
    ]


def envelope_of(
    draft: Draft, forms: list[tuple[str, str, bytes]], *, signer_name: str = ""
) -> bytes:
    unit = draft.unit
    procedure = procedure_of(draft)
    return build_envelope(
        EnvelopeUnit(
            name=unit.name,
            code=unit.code,
            tax_code=unit.tax_code,
            signer=signer_name or unit.head_name or None,
            phone=unit.contact_phone or None,
            agency_code=unit.managing_agency.code,
        ),
        draft.procedure_code,
        period_of(draft),
        forms + _other_files(draft),
        procedure_name=procedure.name if procedure else None,
        date=timezone.localdate(),
    )


def check(draft: Draft) -> list[dict[str, Any]]:
    """Every intake check of the draft as it stands, but the signature (it comes last): the same
    `services.check` a submission goes through, on the unsigned envelope."""
    forms, problems = unsigned_forms(draft)
    if not forms and not _other_files(draft):
        return [*problems, _finding("DRAFT-EMPTY")]
    try:
        data = envelope_of(draft, forms)
    except DeclarationError as exc:
        return [*problems, exc.finding.as_dict()]
    checked = services.check(data, unit=draft.unit, signature_required=False)
    return problems + [f for f in checked.findings if f["code"] not in _UNSIGNED_CODES]


def errors_in(findings: Iterable[dict[str, Any]]) -> int:
    return sum(1 for f in findings if f.get("severity") == "error")


# --- create, edit -------------------------------------------------------------------------------


def _locked(draft: Draft, *statuses: str) -> Draft:
    locked = (
        Draft.objects.select_for_update().select_related("unit__managing_agency").get(pk=draft.pk)
    )
    if statuses and locked.status not in statuses:
        raise DraftError("DRAFT-STATE")
    return locked


def _refresh(draft: Draft) -> None:
    draft.findings = check(draft)


def create(unit: Unit, *, user: User, procedure_code: str, period: str) -> Draft:
    """A new draft of `unit` for a procedure and a declaration period (MM/YYYY)."""
    _require(user, unit, PREPARE_ROLES)
    try:
        Month.parse(period.strip())
    except ValueError:
        raise DraftError("DRAFT-PERIOD") from None
    if not Procedure.objects.in_force(timezone.localdate()).filter(code=procedure_code).exists():
        raise DraftError("DRAFT-PROCEDURE")
    with transaction.atomic():
        draft = Draft.objects.create(
            unit=unit, procedure_code=procedure_code, period=period.strip(), created_by=user
        )
        record_event(
            "draft:create",
            actor=user,
            subject=draft,
            data={"procedure": procedure_code, "period": draft.period},
        )
    return draft


def _edit(draft: Draft, user: User, tag: str, change: Any, data: dict[str, Any]) -> Draft:
    _require(user, draft.unit, PREPARE_ROLES)
    with transaction.atomic():
        locked = _locked(draft, DraftStatus.EDITING)
        change(locked)
        _refresh(locked)
        locked.save()
        record_event(
            tag,
            actor=user,
            subject=locked,
            data={**data, "rows": len(locked.rows), "errors": errors_in(locked.findings)},
        )
    return locked


def _clean(values: dict[str, Any]) -> dict[str, str]:
    return {
        k: str(v)
        for k, v in values.items()
        if k in ROW_TYPES and k != "stt" and v not in ("", None)
    }


def add_row(draft: Draft, values: dict[str, Any], *, user: User) -> Draft:
    """Append one row (text by D02Row field name)."""
    return _edit(draft, user, "draft:row:add", lambda d: d.rows.append(_clean(values)), {})


def update_row(
    draft: Draft, index: int, values: dict[str, Any], *, user: User, fields: Iterable[str] = ()
) -> Draft:
    """Replace the given `fields` of row `index` (0-based) by `values`; other fields are kept."""

    def change(d: Draft) -> None:
        if not 0 <= index < len(d.rows):
            raise DraftError("DRAFT-ROW")
        row = {k: v for k, v in d.rows[index].items() if k not in set(fields)}
        row.update(_clean(values))
        d.rows[index] = row

    return _edit(draft, user, "draft:row:update", change, {"row": index + 1})


def delete_row(draft: Draft, index: int, *, user: User) -> Draft:
    def change(d: Draft) -> None:
        if not 0 <= index < len(d.rows):
            raise DraftError("DRAFT-ROW")
        del d.rows[index]

    return _edit(draft, user, "draft:row:delete", change, {"row": index + 1})


def registry_row(employment: Employment, pa: str, period: str) -> dict[str, str]:
    """A D02-TS row prefilled from the unit's registry (participant and employment)."""
    person = employment.participant
    birth = person.birth_date
    kind = person.birth_date_kind
    born = (
        PartialDate(birth.year, birth.month, birth.day)
        if kind == Participant.BirthDateKind.FULL
        else PartialDate(birth.year, birth.month)
        if kind == Participant.BirthDateKind.MONTH_YEAR
        else PartialDate(birth.year)
    )
    salary = (
        str(employment.salary_amount)
        if employment.salary_amount is not None
        else str(employment.salary_coefficient)
    )
    row: dict[str, Any] = {
        "pa": pa,
        "kind": _kind_of(pa),
        "full_name": person.full_name,
        "bhxh_code": person.bhxh_code,
        "birth_date": str(born),
        "gender": "1" if person.gender == Participant.Gender.MALE else "0",
        "personal_id": person.personal_id,
        "position": employment.position,
        "workplace": employment.department,
        "salary": salary,
        "allowance_position": employment.position_allowance or None,
        "allowance_seniority_excess": employment.seniority_over_frame_pct or None,
        "allowance_seniority_profession": employment.seniority_job_pct or None,
        "allowance_salary": employment.salary_allowance or None,
        "allowance_other": employment.additional_allowance or None,
        "from_month": period,
        "has_book": "1" if person.bhxh_code else "0",
        "note": employment.contract_number,
    }
    start, end = _text(employment.contract_start), employment.contract_end
    if employment.contract_type == Employment.ContractType.INDEFINITE:
        row["contract_indefinite_from"] = start
    elif employment.contract_type == Employment.ContractType.FIXED_TERM:
        row["contract_fixed_from"] = start
        row["contract_fixed_to"] = _text(end) if end else None
    else:
        row["contract_other_from"] = start
        row["contract_other_to"] = _text(end) if end else None
    region = employment.unit.wage_region
    row["wage_region"] = f"{region:02d}"
    return _clean({k: (_text(v) if isinstance(v, Decimal) else v) for k, v in row.items()})


def add_from_registry(draft: Draft, employment_ids: Iterable[int], pa: str, *, user: User) -> Draft:
    """Append a row for each chosen employment of the unit's registry, prefilled."""
    ids = [int(i) for i in employment_ids]
    employments = list(
        Employment.objects.filter(unit=draft.unit, pk__in=ids)
        .select_related("participant", "unit")
        .order_by("participant__full_name")
    )
    if len(employments) != len(set(ids)):
        raise DraftError("DRAFT-ROW")
    rows = [registry_row(e, pa, draft.period) for e in employments]
    return _edit(
        draft, user, "draft:row:registry", lambda d: d.rows.extend(rows), {"added": len(rows)}
    )


# --- attachments ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attached:
    """What attaching one file did: the stored record (None when nothing was kept) and the
    findings of reading it, with form, row, field and, for a workbook, sheet and cell."""

    record: dict[str, Any] | None
    findings: list[dict[str, Any]]
    rows_added: int = 0


def _as_dicts(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    return [f.as_dict() for f in findings]


def _without_signature(data: bytes) -> bytes:
    """The form with its <Cky> emptied: a signature made elsewhere would not cover what the
    portal signs (the form is signed again with the envelope)."""
    from ebhxh.signatures import xmldsig

    root = xmldsig.parse_secure(data)
    slot = root.find("Cky")
    if slot is None or (len(slot) == 0 and not (slot.text or "").strip()):
        return data
    for child in list(slot):
        slot.remove(child)
    slot.text = None
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out


def _record(
    kind: str, name: str, data: bytes, findings: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    blob, sha = blobs.put("drafts", data, Path(name).suffix.lower()[:8])
    return {
        "kind": kind,
        "name": name[:200],
        "blob": blob,
        "sha256": sha,
        "size": len(data),
        "findings": findings,
        "at": timezone.now().isoformat(),
        **extra,
    }


def _file_findings(draft: Draft, name: str, data: bytes) -> list[dict[str, Any]]:
    """The rules package's findings on a form file as uploaded (a workbook's with their cell)."""
    from ebhxh.declarations.validator import validate_bytes

    report = validate_bytes(
        data,
        filename=name,
        period=draft.period,
        region=draft.unit.wage_region,
        max_bytes=settings.DOSSIER_FILE_MAX_BYTES,
    )
    return _as_dicts(report.findings)


def attach(draft: Draft, name: str, data: bytes, *, user: User) -> Attached:
    """Attach one file: a D02-TS workbook (its rows join the table; its TK1-TS becomes a form),
    a form XML from other software (a D02-TS's rows join the table; another form is kept to be
    signed with the dossier), or another document (CT-DK, checked by content)."""
    _require(user, draft.unit, PREPARE_ROLES)
    if draft.status != DraftStatus.EDITING:
        raise DraftError("DRAFT-STATE")
    name = Path(name or "tep").name
    suffix = Path(name).suffix.lower()
    limit = settings.DOSSIER_FILE_MAX_BYTES
    rows: list[dict[str, str]] = []
    if suffix == ".xlsx":
        from ebhxh.declarations.excel import read_workbook

        try:
            book = read_workbook(data, max_bytes=limit)
        except DeclarationError as exc:
            return Attached(None, [exc.finding.as_dict()])
        found = _file_findings(draft, name, data)
        rows = [row_text(r) for r in book.d02.rows]
        record = _record("import", name, data, found, form_code=D02, rows=len(rows))
        extra = []
        if book.tk1 is not None and book.tk1.rows:
            tk1 = xmlcodec.encode(book.tk1)
            extra.append(_record("form", "TK1-TS-595.xml", tk1, [], form_code="TK1-TS"))
    elif suffix == ".xml":
        try:
            form, decoded = xmlcodec.decode(data, max_bytes=limit)
        except DeclarationError as exc:
            return Attached(None, [exc.finding.as_dict(), _finding("DRAFT-FILE-TYPE")])
        found = _file_findings(draft, name, data)
        extra = []
        if form.code == D02:
            rows = [row_text(typing.cast(D02Row, r)) for r in form.rows]
            record = _record("import", name, data, found, form_code=D02, rows=len(rows))
        else:
            clean = _without_signature(data)
            record = _record(
                "form", f"{form.code}-595.xml", clean, found, form_code=form.code, source=name
            )
    else:
        from ebhxh.dossiers.content import check_attachment

        problems = check_attachment(name, suffix or None, data, max_bytes=limit)
        found = [
            {
                "code": p.code,
                "severity": "error",
                "message_vi": p.message_vi,
                "message_en": p.message_en,
                "location": {
                    "form": "CT-DK",
                    "row": None,
                    "field": None,
                    "xpath": None,
                    "sheet": None,
                },
            }
            for p in problems
        ]
        if found:
            return Attached(None, found)
        record = _record("file", name, data, [], form_code="CT-DK")
        extra = []

    def change(d: Draft) -> None:
        d.rows.extend(rows)
        d.attachments.extend([record, *extra])

    _edit(draft, user, "draft:attach", change, {"file": record["name"], "sha256": record["sha256"]})
    return Attached(record, record["findings"], rows_added=len(rows))


def remove_attachment(draft: Draft, index: int, *, user: User) -> Draft:
    def change(d: Draft) -> None:
        if not 0 <= index < len(d.attachments):
            raise DraftError("DRAFT-ROW")
        del d.attachments[index]

    return _edit(draft, user, "draft:detach", change, {"index": index})


# --- hand over, take back, delete ----------------------------------------------------------------


def mark_ready(draft: Draft, *, user: User) -> Draft:
    """The preparer hands the draft over for signature; refused while it has errors."""
    _require(user, draft.unit, PREPARE_ROLES)
    with transaction.atomic():
        locked = _locked(draft, DraftStatus.EDITING)
        _refresh(locked)
        if errors_in(locked.findings):
            locked.save(update_fields=["findings", "updated_at"])
            raise DraftError("DRAFT-ERRORS")
        locked.status = DraftStatus.AWAITING_SIGNATURE
        locked.ready_by = user
        locked.ready_at = timezone.now()
        locked.save()
        record_event("draft:ready", actor=user, subject=locked, data={"rows": len(locked.rows)})
    return locked


def reopen(draft: Draft, *, user: User, reason: str = "") -> Draft:
    """Back to editing: the preparer takes it back, or the signer returns it (xCare's "từ chối
    ký"); any signing in progress is dropped."""
    _require(user, draft.unit, PREPARE_ROLES)
    with transaction.atomic():
        locked = _locked(draft, DraftStatus.AWAITING_SIGNATURE)
        locked.status = DraftStatus.EDITING
        locked.signing = {}
        locked.envelope_blob = ""
        locked.save()
        record_event("draft:reopen", actor=user, subject=locked, data={"reason": reason[:500]})
    return locked


def delete(draft: Draft, *, user: User) -> None:
    _require(user, draft.unit, PREPARE_ROLES)
    with transaction.atomic():
        locked = _locked(draft, DraftStatus.EDITING, DraftStatus.AWAITING_SIGNATURE)
        record_event(
            "draft:delete",
            actor=user,
            subject=locked,
            data={"procedure": locked.procedure_code, "period": locked.period},
        )
        locked.delete()


# --- signing through the agent --------------------------------------------------------------------


@dataclass(frozen=True)
class SignStep:
    """One document for the signing agent: its id in the draft, the bytes, the container."""

    id: str
    document: bytes
    container: str
    reference: str


def _reference(draft: Draft, what: str) -> str:
    return f"{draft.unit.code or draft.unit.tax_code} · {draft.procedure_code} · {draft.period} · {what}"


def _step(draft: Draft) -> SignStep | None:
    """The next document to sign: the first unsigned form, else the envelope if not signed."""
    for doc in draft.signing.get("documents", []):
        if not doc["signed"]:
            return SignStep(
                doc["id"],
                blobs.get(doc["unsigned"]),
                doc["container"],
                _reference(draft, doc["name"]),
            )
    if draft.envelope_blob:
        return SignStep(
            ENVELOPE_ID,
            blobs.get(draft.envelope_blob),
            services.ENVELOPE_SIGNATURE,
            _reference(draft, "BHXHDienTu.xml"),
        )
    return None


def _signer_name(user: User) -> str:
    return (user.full_name or user.username)[:100]


def begin_signing(draft: Draft, certificate_der: bytes, *, user: User) -> SignStep:
    """The signer chose a certificate on the token: check it is the unit's, freeze the forms to
    sign and return the first one."""
    from ebhxh.signatures.models import RegisteredCertificate
    from ebhxh.signatures.validation import fingerprint, load_certificate

    _require(user, draft.unit, SIGN_ROLES)
    try:
        cert = load_certificate(certificate_der)
    except Exception as exc:  # noqa: BLE001 - any unreadable certificate is the same refusal
        raise DraftError("DRAFT-CERT-INVALID") from exc
    print_ = fingerprint(cert)
    with transaction.atomic():
        locked = _locked(draft, DraftStatus.AWAITING_SIGNATURE)
        if not RegisteredCertificate.objects.filter(
            unit=locked.unit, fingerprint=print_, status=RegisteredCertificate.Status.ACTIVE
        ).exists():
            raise DraftError("DRAFT-CERT-NOT-REGISTERED")
        _refresh(locked)
        if errors_in(locked.findings):
            locked.save(update_fields=["findings", "updated_at"])
            raise DraftError("DRAFT-ERRORS")
        forms, _problems = unsigned_forms(locked, representative=_signer_name(user))
        documents: list[dict[str, str]] = []
        for code, name, data in forms:
            blob, _sha = blobs.put("drafts", data, ".xml")
            container = FORMS[code].container if code in FORMS else f"{code}/Cky"
            documents.append(
                {
                    "id": f"{len(documents) + 1}-{code}",
                    "form": code,
                    "name": name,
                    "container": container,
                    "unsigned": blob,
                    "signed": "",
                }
            )
        locked.signing = {
            "certificate": print_,
            "signer": user.pk,
            "started_at": timezone.now().isoformat(),
            "documents": documents,
        }
        locked.envelope_blob = ""
        if not documents:  # attachments only: nothing but the envelope to sign
            locked.envelope_blob, _sha = blobs.put(
                "drafts", envelope_of(locked, [], signer_name=_signer_name(user)), ".xml"
            )
        locked.save()
        record_event(
            "draft:sign:start",
            actor=user,
            subject=locked,
            data={"certificate": print_, "documents": [d["name"] for d in documents]},
        )
        step = _step(locked)
    assert step is not None
    return step


def _verify(draft: Draft, data: bytes, container: str) -> Any:
    from ebhxh.signatures.services import verify_document
    from ebhxh.signatures.validation import fingerprint

    report, verified = verify_document(data, container=container, unit=draft.unit)
    if verified is None:
        raise DraftError(
            "DRAFT-SIGNATURE",
            f"{report.message_vi if _vi() else report.message_en} ({report.code})",
        )
    if fingerprint(verified.certificate) != draft.signing.get("certificate"):
        raise DraftError("DRAFT-CERT-MISMATCH")
    return verified


def _vi() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "vi").startswith("vi")


def _canonical(node: Any) -> bytes:
    if node is None:
        return b""
    out: bytes = etree.tostring(node, method="c14n", exclusive=False, with_comments=False)
    return out


def accept_signed(draft: Draft, document_id: str, data: bytes, *, user: User) -> SignStep | Dossier:
    """A document signed by the agent: a valid signature by the chosen certificate over exactly
    the document prepared. Returns the next document to sign, or, once the envelope is signed,
    the submitted Dossier (`services.submit`, channel web)."""
    _require(user, draft.unit, SIGN_ROLES)
    if draft.signing.get("signer") != user.pk:
        raise DraftError("DRAFT-STATE")
    if document_id == ENVELOPE_ID:
        return _submit_signed_envelope(draft, data, user=user)
    with transaction.atomic():
        locked = _locked(draft, DraftStatus.AWAITING_SIGNATURE)
        doc = next((d for d in locked.signing.get("documents", []) if d["id"] == document_id), None)
        if doc is None or doc["signed"]:
            raise DraftError("DRAFT-STATE")
        verified = _verify(locked, data, doc["container"])
        prepared, _found = xmlcodec.decode(blobs.get(doc["unsigned"]), expect=doc["form"])
        try:
            signed_form, _found = xmlcodec.decode_tree(verified.root, expect=doc["form"])
        except DeclarationError:
            raise DraftError("DRAFT-CONTENT-MISMATCH") from None
        if signed_form != prepared:
            raise DraftError("DRAFT-CONTENT-MISMATCH")
        doc["signed"], _sha = blobs.put("drafts", data, ".xml")
        if all(d["signed"] for d in locked.signing["documents"]):
            forms = [
                (d["form"], d["name"], blobs.get(d["signed"])) for d in locked.signing["documents"]
            ]
            envelope = envelope_of(locked, forms, signer_name=_signer_name(user))
            locked.envelope_blob, _sha = blobs.put("drafts", envelope, ".xml")
        locked.save()
        record_event(
            "draft:sign:form",
            actor=user,
            subject=locked,
            data={"document": doc["name"], "sha256": _sha},
        )
        step = _step(locked)
    assert step is not None
    return step


def _submit_signed_envelope(draft: Draft, data: bytes, *, user: User) -> Dossier:
    with transaction.atomic():
        locked = _locked(draft, DraftStatus.AWAITING_SIGNATURE)
        if not locked.envelope_blob or any(
            not d["signed"] for d in locked.signing.get("documents", [])
        ):
            raise DraftError("DRAFT-STATE")
        verified = _verify(locked, data, services.ENVELOPE_SIGNATURE)
        prepared = etree.fromstring(
            blobs.get(locked.envelope_blob),
            etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False),
        )
        if _canonical(verified.root.find("NoiDung")) != _canonical(prepared.find("NoiDung")):
            raise DraftError("DRAFT-CONTENT-MISMATCH")
        return _submit(locked, data, user=user, code_confirmed=False)


def _submit(locked: Draft, data: bytes, *, user: User, code_confirmed: bool) -> Dossier:
    """Inside the caller's transaction (the draft row locked): the dossier and the draft's link
    commit together, and processing is queued after that COMMIT."""
    ack = services.submit(
        data, unit=locked.unit, channel=Channel.WEB, user=user, code_confirmed=code_confirmed
    )
    locked.status = DraftStatus.SUBMITTED
    locked.dossier = ack.dossier
    locked.save()
    record_event(
        "draft:submit",
        actor=user,
        subject=locked,
        data={
            "tracking_id": str(ack.dossier.tracking_id),
            "sha256": hashlib.sha256(data).hexdigest(),
            "code_confirmed": code_confirmed,
        },
    )
    return ack.dossier


# --- without a signature: a one-time e-mail code ---------------------------------------------------


def may_use_code(draft: Draft) -> bool:
    """A procedure the catalogue allows without a digital signature."""
    procedure = procedure_of(draft)
    return procedure is not None and not procedure.signature_required


def code_address(draft: Draft) -> str:
    return draft.unit.contact_email


def send_code(draft: Draft, *, user: User) -> None:
    """E-mail a one-time code to the unit's registered address to confirm an unsigned submission."""
    from ebhxh.notify.codes import issue_code

    _require(user, draft.unit, SUBMIT_ROLES)
    if draft.status != DraftStatus.AWAITING_SIGNATURE:
        raise DraftError("DRAFT-STATE")
    if not may_use_code(draft):
        raise DraftError("DRAFT-SIGNATURE-REQUIRED")
    issue_code(code_address(draft), CODE_PURPOSE, subject_ref=f"draft:{draft.pk}")
    with transaction.atomic():
        record_event("draft:code_sent", actor=user, subject=draft, data={})


def submit_with_code(draft: Draft, code: str, *, user: User) -> Dossier:
    """Submit the draft unsigned, confirmed by the code e-mailed to the unit. The code is checked
    before the transaction, so a wrong attempt stays counted whatever happens next."""
    from ebhxh.notify.codes import check_code

    _require(user, draft.unit, SUBMIT_ROLES)
    if draft.status != DraftStatus.AWAITING_SIGNATURE:
        raise DraftError("DRAFT-STATE")
    if not may_use_code(draft):
        raise DraftError("DRAFT-SIGNATURE-REQUIRED")
    if not check_code(
        code_address(draft), CODE_PURPOSE, code.strip(), subject_ref=f"draft:{draft.pk}"
    ):
        with transaction.atomic():
            record_event("draft:code_refused", actor=user, subject=draft, data={})
        raise DraftError("DRAFT-CODE-INVALID")
    with transaction.atomic():
        locked = _locked(draft, DraftStatus.AWAITING_SIGNATURE)
        _refresh(locked)
        if errors_in(locked.findings):
            raise DraftError("DRAFT-ERRORS")
        forms, _problems = unsigned_forms(locked, representative=_signer_name(user))
        data = envelope_of(locked, forms, signer_name=_signer_name(user))
        return _submit(locked, data, user=user, code_confirmed=True)
