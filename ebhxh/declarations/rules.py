"""Business validation rules of declarations, versioned by contribution period (issue 4, item 4).

Pure Python (no Django, no database): the catalogue files (`ebhxh/catalog/data/*.json`) and the
parameter table (`parameters.default_parameters()`) are read directly, so the server, the offline
validator and payroll software run the same rules.

A :class:`RuleSet` is selected by the declaration period (:func:`ruleset_for`). Each rule is a small
function that appends :class:`~ebhxh.declarations.findings.Finding` objects with a stable code
(``RULE-…``, listed in :data:`RULE_CODES`; identifier checks keep the ``ID-…`` codes of
``ebhxh.lib.identifiers``), a severity, a Vietnamese and English message and a Location (form, row,
field, XPath). Rules run in one pass over the rows; floors and caps are resolved once per
(month, region) and cached in the :class:`Context`.

Readings of the forms this module relies on (vss-domain.md §3.5, §6.2):

* PA direction (increase / decrease / adjust) is the catalogue's ``direction`` [I].
* An increase needs ``TuThang`` (col. 25, when the unit starts paying); a decrease needs ``DenThang``
  (col. 26, "thời điểm đơn vị kết thúc đóng") [I].
* Late report: the start month of an increase, or the end month of a decrease (``DenThang``, else
  ``TuThang``), earlier than the declaration period. The dossier then needs a D01-TS (error in an
  envelope without one; a warning for a lone form, whose dossier is unknown) and a late decrease
  causes BHYT retro-collection (warning).
* Floor and cap apply to increase and adjust rows whose column 12 is an amount (not a coefficient):
  salary + col. 16 + col. 17 against the parameters of the row's ``TuThang`` (else the period) and
  region (``MaVungLtt``, else the unit's region, else region IV: the lowest floor, so an unknown
  region never gives a false error). Below the floor is an ERROR; above 20 × the reference salary
  is a WARNING (contributions are capped; the salary itself may be higher).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Final

from ebhxh.declarations.findings import Finding, Location, Severity
from ebhxh.declarations.forms import FORMS, Month, UnitHeader, salary_basis
from ebhxh.declarations.parameters import (
    ParameterError,
    ParameterTable,
    PeriodParameters,
    default_parameters,
)
from ebhxh.lib import identifiers

DATA_DIR: Final = Path(__file__).resolve().parent.parent / "catalog" / "data"

# --- codes -----------------------------------------------------------------------------------

RULE_CODES: Final[dict[str, tuple[Severity, str, str]]] = {
    "RULE-PA-UNKNOWN": (
        "error",
        "Mã phương án (PA) không có trong danh mục của tờ khai.",
        "The change type (PA) is not in the form's catalogue.",
    ),
    "RULE-KIND-PA": (
        "warning",
        "Loại (tăng/giảm) không khớp với phương án.",
        "The kind (increase/decrease) does not match the change type (PA).",
    ),
    "RULE-FROM-MONTH": (
        "error",
        "Phương án tăng phải có thời điểm bắt đầu đóng (Từ tháng).",
        "An increase needs the month contributions start (TuThang).",
    ),
    "RULE-TO-MONTH": (
        "error",
        "Phương án giảm phải có thời điểm kết thúc đóng (Đến tháng).",
        "A decrease needs the month contributions end (DenThang).",
    ),
    "RULE-MONTH-ORDER": (
        "error",
        "Đến tháng phải không sớm hơn Từ tháng.",
        "DenThang must not be earlier than TuThang.",
    ),
    "RULE-DATE-ORDER": (
        "error",
        "Ngày kết thúc sớm hơn ngày bắt đầu.",
        "The end date is earlier than the start date.",
    ),
    "RULE-CONTRACT-INDEFINITE": (
        "error",
        "HĐLĐ không xác định thời hạn không có ngày kết thúc và không kê khai cùng loại hợp đồng khác.",
        "An indefinite-term contract has no end date and is not declared together with another contract type.",
    ),
    "RULE-ALLOWANCE-COEFFICIENT": (
        "error",
        "Phụ cấp chức vụ, thâm niên vượt khung, thâm niên nghề (cột 13–15) chỉ kê khai khi tiền lương là hệ số.",
        "Allowances in columns 13–15 apply only when column 12 is a pay-scale coefficient.",
    ),
    "RULE-SALARY-FLOOR": (
        "error",
        "Tiền lương đóng thấp hơn mức lương tối thiểu vùng của kỳ.",
        "The contribution salary is below the regional minimum wage of the period.",
    ),
    "RULE-SALARY-CAP": (
        "warning",
        "Tiền lương vượt mức trần đóng BHXH, BHYT (20 lần mức tham chiếu); số tiền đóng được tính theo mức trần.",
        "The salary is above the BHXH/BHYT cap (20 × the reference salary); contributions are computed on the cap.",
    ),
    "RULE-PARAMETERS": (
        "warning",
        "Không có tham số (lương tối thiểu, mức tham chiếu) cho kỳ này; bỏ qua kiểm tra mức sàn và mức trần.",
        "No parameters (minimum wage, reference salary) for this period; floor and cap were not checked.",
    ),
    "RULE-LATE-D01": (
        "error",
        "Kê khai chậm (tháng sớm hơn kỳ kê khai) phải có Bảng kê D01-TS trong hồ sơ.",
        "A late report (month earlier than the declaration period) needs a D01-TS in the dossier.",
    ),
    "RULE-LATE-D01-ATTACH": (
        "warning",
        "Kê khai chậm (tháng sớm hơn kỳ kê khai): hồ sơ nộp phải kèm Bảng kê D01-TS.",
        "Late report (month earlier than the declaration period): the dossier must include a D01-TS.",
    ),
    "RULE-LATE-BHYT": (
        "warning",
        "Báo giảm chậm: cơ quan BHXH sẽ truy thu BHYT các tháng báo chậm.",
        "Late decrease: health insurance (BHYT) for the late months will be collected retroactively.",
    ),
    "RULE-DUPLICATE": (
        "error",
        "Người lao động xuất hiện nhiều lần trong tờ khai với cùng phương án.",
        "The same person appears more than once in the form with the same change type.",
    ),
    "RULE-DUPLICATE-DOSSIER": (
        "warning",
        "Người tham gia xuất hiện trong nhiều danh sách của cùng hồ sơ (bắt buộc, chỉ BHYT, tự nguyện).",
        "The same person appears in more than one participant list of the dossier.",
    ),
    "RULE-FORM-REQUIRED": (
        "error",
        "Hồ sơ thiếu tờ khai bắt buộc của thủ tục.",
        "The dossier lacks a form the procedure requires.",
    ),
    "RULE-FORM-UNEXPECTED": (
        "warning",
        "Tờ khai không thuộc danh sách tờ khai của thủ tục.",
        "The form is not one of the procedure's forms.",
    ),
    "RULE-PROCEDURE-UNKNOWN": (
        "warning",
        "Mã thủ tục không có trong danh mục; không kiểm tra được thành phần hồ sơ.",
        "Unknown procedure code; the dossier's forms were not checked.",
    ),
    "RULE-PERIOD-MISMATCH": (
        "error",
        "Kỳ kê khai của tờ khai khác kỳ kê khai của hồ sơ.",
        "The form's declaration period differs from the dossier's.",
    ),
    "RULE-UNIT-MISMATCH": (
        "error",
        "Mã đơn vị của tờ khai khác mã đơn vị của hồ sơ.",
        "The form's unit code differs from the dossier's.",
    ),
    "RULE-NO-RULESET": (
        "warning",
        "Kỳ kê khai trước thời điểm áp dụng của bộ quy tắc; dùng bộ quy tắc sớm nhất.",
        "The period is before the first rule set; the earliest rule set was used.",
    ),
    "RULE-FILE-TYPE": (
        "error",
        "Loại tệp chưa được hỗ trợ (cần XML tờ khai, hồ sơ BHXHDienTu.xml hoặc Excel D02-TS có openpyxl).",
        "Unsupported file type (form XML, a BHXHDienTu.xml envelope, or a D02-TS workbook with openpyxl).",
    ),
    "RULE-PERIOD-UNKNOWN": (
        "warning",
        "Không xác định được kỳ kê khai; bỏ qua các kiểm tra theo kỳ.",
        "The declaration period is unknown; period rules were not checked.",
    ),
}


def rule_finding(
    code: str, detail_vi: str | None = None, detail_en: str | None = None, **where: Any
) -> Finding:
    """The Finding of rule `code` at `where` (Location fields)."""
    severity, vi, en = RULE_CODES[code]
    if detail_vi:
        vi = f"{vi} {detail_vi}"
    if detail_en:
        en = f"{en} {detail_en}"
    return Finding(code, severity, vi, en, Location(**where))


# --- catalogues (read directly: offline, no database) -----------------------------------------

PA_LIST_OF_FORM: Final = {"D02-TS": "600", "D05-TS": "voluntary"}
# Catalogue form names → ebhxh form codes (the catalogue says D02-LT, the portal D02-TS).
_FORM_ALIASES: Final = {"D02-LT": "D02-TS"}
ATTACHMENT: Final = "CT-DK"


@lru_cache(maxsize=1)
def change_types() -> dict[str, dict[str, str]]:
    """PA list name → {code: direction} (change_types.json)."""
    data = json.loads((DATA_DIR / "change_types.json").read_text(encoding="utf-8"))
    lists: dict[str, dict[str, str]] = {}
    for item in data["items"]:
        lists.setdefault(item["list"], {})[item["code"]] = item.get("direction") or "adjust"
    return lists


@dataclass(frozen=True)
class ProcedureForms:
    code: str
    required: tuple[str, ...]
    optional: tuple[str, ...]


@lru_cache(maxsize=1)
def procedures() -> dict[str, ProcedureForms]:
    """Procedure code → its required and optional forms (procedures.json)."""
    data = json.loads((DATA_DIR / "procedures.json").read_text(encoding="utf-8"))
    result: dict[str, ProcedureForms] = {}
    for item in data["items"]:
        forms = [
            (_FORM_ALIASES.get(f["form"], f["form"]), bool(f["required"])) for f in item["forms"]
        ]
        result[item["code"]] = ProcedureForms(
            item["code"],
            tuple(f for f, req in forms if req),
            tuple(f for f, req in forms if not req),
        )
    return result


# --- context ---------------------------------------------------------------------------------

_NO_PARAMETERS: Final = object()


@dataclass
class Context:
    """What rules need beyond the row: the period, the dossier and cached parameters.

    `dossier_forms` is None for a lone form (its dossier is unknown), else the form codes of the
    envelope. `region` is the unit's minimum-wage region (1–4) when known.
    """

    period: Month | None
    region: int | None = None
    dossier_forms: frozenset[str] | None = None
    parameters: ParameterTable = field(default_factory=default_parameters)
    _cache: dict[tuple[Month, int], Any] = field(default_factory=dict, repr=False)
    reported: set[tuple[Month, int]] = field(default_factory=set, repr=False)
    # per-form state of the duplicate rule: (form, key kind, key, pa) -> first row
    seen: dict[tuple[str, str, str, str], int] = field(default_factory=dict, repr=False)
    # persons per participant list, for the dossier-level duplicate rule
    persons: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)
    # identifiers.check_personal_id findings by the first 6 digits of a 12-digit ID
    pid_cache: dict[str, tuple[Any, ...]] = field(default_factory=dict, repr=False)
    # the PA direction of the row being checked (set by RuleSet.check_form, one look-up per row)
    direction: str | None = None

    def period_parameters(self, month: Month, region: int) -> PeriodParameters | None:
        key = (month, region)
        value = self._cache.get(key)
        if value is None:
            try:
                value = self.parameters.for_period(month.first_day(), region)
            except ParameterError:
                value = _NO_PARAMETERS
            self._cache[key] = value
        return value if isinstance(value, PeriodParameters) else None


RowRule = Callable[[Any, int, "_FormInfo", Context, list[Finding]], None]
HeaderRule = Callable[[Any, "_FormInfo", Context, list[Finding]], None]


@dataclass(frozen=True)
class _FormInfo:
    code: str
    row_xpath: str  # /D02-TS/DanhSach/NguoiLaoDong
    header_xpath: str
    xml: dict[str, str]  # row attribute -> element
    header_xml: dict[str, str]

    def at(self, n: int, attr: str) -> dict[str, Any]:
        return {
            "form": self.code,
            "row": n,
            "field": attr,
            "xpath": f"{self.row_xpath}[{n}]/{self.xml.get(attr, attr)}",
        }

    def at_header(self, attr: str) -> dict[str, Any]:
        return {
            "form": self.code,
            "field": f"header.{attr}",
            "xpath": f"{self.header_xpath}/{self.header_xml.get(attr, attr)}",
        }


@cache
def _form_info(code: str) -> _FormInfo:
    spec = FORMS[code]
    row_xml = (
        {f.name: f.metadata.get("xml", f.name) for f in dataclasses.fields(spec.row_class)}
        if spec.row_class
        else {}
    )
    header_xml = {
        f.name: f.metadata.get("xml", f.name) for f in dataclasses.fields(spec.header_class)
    }
    return _FormInfo(
        code,
        f"/{code}/{spec.list_element}/{spec.row_element}",
        f"/{code}/{spec.header_element}",
        row_xml,
        header_xml,
    )


# --- identifier rules ------------------------------------------------------------------------


def _id_findings(
    result: identifiers.CheckResult, where: dict[str, Any], out: list[Finding]
) -> None:
    for f in result.findings:
        out.append(Finding(f.code, f.severity, f.message_vi, f.message_en, Location(**where)))


def header_identifiers(header: Any, info: _FormInfo, ctx: Context, out: list[Finding]) -> None:
    """Unit code and tax code of the header (ID-UNIT-*, ID-TAX-*)."""
    unit_code = getattr(header, "unit_code", None)
    if unit_code:
        _id_findings(identifiers.check_unit_code(unit_code), info.at_header("unit_code"), out)
    tax_code = getattr(header, "tax_code", None)
    if tax_code:
        _id_findings(identifiers.check_tax_code(tax_code), info.at_header("tax_code"), out)


def row_identifiers(row: Any, n: int, info: _FormInfo, ctx: Context, out: list[Finding]) -> None:
    """Mã số BHXH (ID-BHXH-FORMAT) and personal ID (ID-PID-*, structure checks are warnings).
    A personal ID with letters is a passport number and is not checked."""
    bhxh = getattr(row, "bhxh_code", None)
    if bhxh and _TEN_DIGITS.fullmatch(bhxh) is None:
        _id_findings(identifiers.check_bhxh_code(bhxh), info.at(n, "bhxh_code"), out)
    pid = getattr(row, "personal_id", None)
    if not pid:
        return
    if _TWELVE_DIGITS.fullmatch(pid):
        # The outcome depends only on the first 6 digits (province, century/gender, year).
        found = ctx.pid_cache.get(pid[:6])
        if found is None:
            found = ctx.pid_cache[pid[:6]] = identifiers.check_personal_id(pid).findings
    elif any(c.isalpha() for c in pid):
        return
    else:
        found = identifiers.check_personal_id(pid).findings
    if found:
        for f in found:
            where = Location(**info.at(n, "personal_id"))
            out.append(Finding(f.code, f.severity, f.message_vi, f.message_en, where))


_TEN_DIGITS: Final = re.compile(r"[0-9]{10}")
_TWELVE_DIGITS: Final = re.compile(r"[0-9]{12}")


# --- code lists and cross-field rules ---------------------------------------------------------


def row_direction(row: Any, form_code: str) -> str | None:
    """ "increase", "decrease" or "adjust" for the row's PA; None when unknown."""
    pa_list = PA_LIST_OF_FORM.get(form_code)
    pa = getattr(row, "pa", None)
    if pa_list is None or pa is None:
        return None
    return change_types().get(pa_list, {}).get(pa.strip())


def pa_in_catalogue(row: Any, n: int, info: _FormInfo, ctx: Context, out: list[Finding]) -> None:
    """The PA is in the form's list ("600" for D02-TS, "voluntary" for D05-TS)."""
    pa_list = PA_LIST_OF_FORM.get(info.code)
    pa = getattr(row, "pa", None)
    if pa_list is None or pa is None:
        return
    if ctx.direction is None:  # every catalogue code has a direction
        out.append(
            rule_finding(
                "RULE-PA-UNKNOWN", f"(danh mục {pa_list})", f"(list {pa_list})", **info.at(n, "pa")
            )
        )


def kind_matches_pa(row: Any, n: int, info: _FormInfo, ctx: Context, out: list[Finding]) -> None:
    """D02-TS `Loai` 1 (increase) / 2 (decrease) agrees with the PA's direction."""
    kind = getattr(row, "kind", None)
    if kind is None:
        return
    direction = ctx.direction
    if (direction == "increase" and kind != "1") or (direction == "decrease" and kind != "2"):
        out.append(rule_finding("RULE-KIND-PA", **info.at(n, "kind")))


def months_present(row: Any, n: int, info: _FormInfo, ctx: Context, out: list[Finding]) -> None:
    """An increase needs TuThang, a decrease DenThang; DenThang ≥ TuThang."""
    direction = ctx.direction
    from_month = getattr(row, "from_month", None)
    to_month = getattr(row, "to_month", None)
    if direction == "increase" and from_month is None:
        out.append(rule_finding("RULE-FROM-MONTH", **info.at(n, "from_month")))
    if direction == "decrease" and to_month is None:
        out.append(rule_finding("RULE-TO-MONTH", **info.at(n, "to_month")))
    if from_month is not None and to_month is not None and to_month < from_month:
        out.append(rule_finding("RULE-MONTH-ORDER", **info.at(n, "to_month")))


_DATE_PAIRS: Final = (
    ("manager_from", "manager_to"),
    ("senior_specialist_from", "senior_specialist_to"),
    ("mid_specialist_from", "mid_specialist_to"),
    ("other_position_from", "other_position_to"),
    ("hazardous_from", "hazardous_to"),
    ("contract_fixed_from", "contract_fixed_to"),
    ("contract_other_from", "contract_other_to"),
)


def dates_ordered(row: Any, n: int, info: _FormInfo, ctx: Context, out: list[Finding]) -> None:
    """Every from/to date pair of D02-TS (positions, hazardous work, contracts) is ordered."""
    for start_attr, end_attr in _DATE_PAIRS:
        start = getattr(row, start_attr)
        end = getattr(row, end_attr)
        if start is not None and end is not None and end < start:
            out.append(rule_finding("RULE-DATE-ORDER", **info.at(n, end_attr)))


def indefinite_contract(
    row: Any, n: int, info: _FormInfo, ctx: Context, out: list[Finding]
) -> None:
    """An indefinite-term contract (col. 20) comes without a fixed-term or other contract
    (cols. 21–24), so it never carries an end date."""
    if row.contract_indefinite_from is None:
        return
    for attr in (
        "contract_fixed_from",
        "contract_fixed_to",
        "contract_other_from",
        "contract_other_to",
    ):
        if getattr(row, attr) is not None:
            out.append(rule_finding("RULE-CONTRACT-INDEFINITE", **info.at(n, attr)))
            return


_COEFFICIENT_ONLY: Final = (
    "allowance_position",
    "allowance_seniority_excess",
    "allowance_seniority_profession",
)


def allowances_need_coefficient(
    row: Any, n: int, info: _FormInfo, ctx: Context, out: list[Finding]
) -> None:
    """Columns 13–15 only with a coefficient in column 12 (forms.salary_basis)."""
    salary = row.salary
    if salary is None or salary_basis(salary) == "coefficient":
        return
    for attr in _COEFFICIENT_ONLY:
        value = getattr(row, attr)
        if value is not None and value != 0:
            out.append(rule_finding("RULE-ALLOWANCE-COEFFICIENT", **info.at(n, attr)))


# --- period rules ----------------------------------------------------------------------------

_LOWEST_FLOOR_REGION: Final = 4


def salary_floor_and_cap(
    row: Any, n: int, info: _FormInfo, ctx: Context, out: list[Finding]
) -> None:
    """Salary + col. 16 + col. 17 ≥ the regional minimum wage (error) and ≤ 20 × the reference
    salary (warning), for increase and adjust rows with an amount in column 12."""
    salary = row.salary
    if salary is None or salary_basis(salary) == "coefficient":
        return
    if ctx.direction not in ("increase", "adjust"):
        return
    month = row.from_month or ctx.period
    if month is None:
        return
    region = _region(row.wage_region) or ctx.region or _LOWEST_FLOOR_REGION
    params = ctx.period_parameters(month, region)
    where = info.at(n, "salary")
    if params is None:
        key = (month, region)
        if key not in ctx.reported:
            ctx.reported.add(key)
            out.append(
                rule_finding("RULE-PARAMETERS", f"(tháng {month})", f"(month {month})", **where)
            )
        return
    total = salary + (row.allowance_salary or 0) + (row.allowance_other or 0)
    if total < params.floor:
        out.append(
            rule_finding(
                "RULE-SALARY-FLOOR",
                f"(tối thiểu {params.floor:,} đồng, vùng {params.region}, tháng {month})",
                f"(minimum {params.floor:,} VND, region {params.region}, month {month})",
                **where,
            )
        )
    elif total > params.cap_bhxh_bhyt:
        out.append(
            rule_finding(
                "RULE-SALARY-CAP",
                f"(trần {params.cap_bhxh_bhyt:,} đồng, tháng {month})",
                f"(cap {params.cap_bhxh_bhyt:,} VND, month {month})",
                **where,
            )
        )


def _region(code: str | None) -> int | None:
    if code is None:
        return None
    try:
        number = int(code)
    except ValueError:
        return None
    return number if 1 <= number <= 4 else None


def late_report(row: Any, n: int, info: _FormInfo, ctx: Context, out: list[Finding]) -> None:
    """An increase starting, or a decrease ending, before the declaration period is late: the
    dossier needs a D01-TS, and a late decrease causes BHYT retro-collection."""
    if ctx.period is None:
        return
    direction = ctx.direction
    if direction == "increase":
        attr = "from_month"
        month = row.from_month
    elif direction == "decrease":
        attr = "to_month" if row.to_month is not None else "from_month"
        month = getattr(row, attr)
    else:
        return
    if month is None or month >= ctx.period:
        return
    where = info.at(n, attr)
    if ctx.dossier_forms is None:
        out.append(rule_finding("RULE-LATE-D01-ATTACH", **where))
    elif "D01-TS" not in ctx.dossier_forms:
        out.append(rule_finding("RULE-LATE-D01", **where))
    if direction == "decrease":
        out.append(rule_finding("RULE-LATE-BHYT", **where))


def duplicates(row: Any, n: int, info: _FormInfo, ctx: Context, out: list[Finding]) -> None:
    """The same mã số BHXH or personal ID twice in one form with the same PA (error); the
    persons are also remembered for the dossier-level check."""
    pa = (getattr(row, "pa", None) or "").strip()
    persons = ctx.persons.setdefault(info.code, {})
    for attr in ("bhxh_code", "personal_id"):
        value = getattr(row, attr, None)
        if not value:
            continue
        value = value.strip()
        key = (info.code, attr, value, pa)
        first = ctx.seen.get(key)
        if first is None:
            ctx.seen[key] = n
        else:
            out.append(
                rule_finding(
                    "RULE-DUPLICATE",
                    f"(trùng dòng {first})",
                    f"(same as row {first})",
                    **info.at(n, attr),
                )
            )
        persons.setdefault(f"{attr}:{value}", n)


# --- header, form and dossier rules -----------------------------------------------------------


def check_dossier(
    *,
    procedure_code: str | None,
    form_codes: Iterable[str],
    forms: Iterable[tuple[str, Any]],
    period: Month | None,
    unit_code: str | None,
    ctx: Context,
) -> list[Finding]:
    """Envelope-level rules: the procedure's required forms are present, forms are the
    procedure's, each form's period and unit agree with the envelope's, and nobody is in two
    participant lists (D02-TS, D03-TS, D05-TS) of one dossier."""
    out: list[Finding] = []
    present = set(form_codes)
    where = {"form": "BHXHDienTu", "xpath": "/Hoso/NoiDung/ThongTinHoSo/MaThuTuc"}
    proc = procedures().get(procedure_code or "")
    if proc is None:
        out.append(rule_finding("RULE-PROCEDURE-UNKNOWN", field="procedure_code", **where))
    else:
        for required in proc.required:
            if required not in present:
                out.append(
                    rule_finding(
                        "RULE-FORM-REQUIRED",
                        f"(thủ tục {proc.code}: {required})",
                        f"(procedure {proc.code}: {required})",
                        field="files",
                        form="BHXHDienTu",
                        xpath="/Hoso/NoiDung/ThongTinHoSo/ToKhais",
                    )
                )
        allowed = set(proc.required) | set(proc.optional) | {ATTACHMENT}
        for code in sorted(present - allowed):
            out.append(
                rule_finding(
                    "RULE-FORM-UNEXPECTED",
                    f"(thủ tục {proc.code}: {code})",
                    f"(procedure {proc.code}: {code})",
                    form=code,
                )
            )
    for code, form in forms:
        header = form.header
        info = _form_info(code)
        form_period = getattr(header, "period", None)
        if period is not None and form_period is not None and form_period != period:
            out.append(rule_finding("RULE-PERIOD-MISMATCH", **info.at_header("period")))
        form_unit = getattr(header, "unit_code", None)
        if unit_code and form_unit and form_unit.strip().upper() != unit_code.strip().upper():
            out.append(rule_finding("RULE-UNIT-MISMATCH", **info.at_header("unit_code")))
    lists = [c for c in ("D02-TS", "D03-TS", "D05-TS") if c in ctx.persons]
    for i, first in enumerate(lists):
        for second in lists[i + 1 :]:
            other = ctx.persons[first]
            for person, row in ctx.persons[second].items():
                if person in other:
                    attr = person.split(":", 1)[0]
                    out.append(
                        rule_finding(
                            "RULE-DUPLICATE-DOSSIER",
                            f"({first} dòng {other[person]})",
                            f"({first} row {other[person]})",
                            **_form_info(second).at(row, attr),
                        )
                    )
    return out


# --- rule sets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleSet:
    """The rules in force for declaration periods from `effective_from` (inclusive) to
    `effective_to` (inclusive, None = open)."""

    version: str
    effective_from: Month
    effective_to: Month | None
    header_rules: dict[str, tuple[HeaderRule, ...]]
    row_rules: dict[str, tuple[RowRule, ...]]

    def applies_to(self, period: Month) -> bool:
        return self.effective_from <= period and (
            self.effective_to is None or period <= self.effective_to
        )

    def check_form(self, form: Any, ctx: Context) -> list[Finding]:
        """Header and row rules of one decoded form, in one pass over the rows."""
        code = form.code
        out: list[Finding] = []
        info = _form_info(code)
        for header_rule in self.header_rules.get(code, ()):
            header_rule(form.header, info, ctx, out)
        rules = self.row_rules.get(code, ())
        if rules:
            pa_map = change_types().get(PA_LIST_OF_FORM.get(code, ""), {})
            for n, row in enumerate(form.rows, 1):
                pa = getattr(row, "pa", None)
                ctx.direction = pa_map.get(pa.strip()) if pa else None
                for rule in rules:
                    rule(row, n, info, ctx, out)
        return out


_PERSON_ROW_RULES: Final = (row_identifiers, duplicates)
_UNIT_HEADER: Final = tuple(c for c, s in FORMS.items() if issubclass(s.header_class, UnitHeader))

RULESET_2024_07: Final = RuleSet(
    version="2024.07",
    effective_from=Month(2024, 7),
    effective_to=None,
    header_rules={code: (header_identifiers,) for code in (*_UNIT_HEADER, "TK1-TS", "TK3-TS")},
    row_rules={
        "D02-TS": (
            row_identifiers,
            pa_in_catalogue,
            kind_matches_pa,
            months_present,
            dates_ordered,
            indefinite_contract,
            allowances_need_coefficient,
            salary_floor_and_cap,
            late_report,
            duplicates,
        ),
        "D03-TS": _PERSON_ROW_RULES,
        "D05-TS": (row_identifiers, pa_in_catalogue, duplicates),
        "TK1-TS": (row_identifiers,),
    },
)

RULESETS: Final[tuple[RuleSet, ...]] = (RULESET_2024_07,)


def ruleset_for(period: Month | None) -> tuple[RuleSet, list[Finding]]:
    """The rule set in force for `period` (the latest one when None), with a warning when the
    period precedes every rule set (the earliest is then used)."""
    if period is None:
        return RULESETS[-1], []
    for ruleset in reversed(RULESETS):
        if ruleset.applies_to(period):
            return ruleset, []
    earliest = min(RULESETS, key=lambda r: r.effective_from)
    if period < earliest.effective_from:
        return earliest, [rule_finding("RULE-NO-RULESET", f"({period})", f"({period})")]
    return RULESETS[-1], []


def check_form(form: Any, ctx: Context) -> list[Finding]:
    """Run the rule set of `ctx.period` on one decoded form."""
    ruleset, findings = ruleset_for(ctx.period)
    return findings + ruleset.check_form(form, ctx)
