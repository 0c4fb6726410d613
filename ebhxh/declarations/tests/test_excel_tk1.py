"""The TK1-TS columns of the D02 template and the household sheet "PL TV HGĐ" (excel.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from ebhxh.declarations import excel
from ebhxh.declarations.codes import CODES, finding
from ebhxh.declarations.excel import (
    HOUSEHOLD_SHEET,
    TK1_COLUMNS,
    read_d02_workbook,
    read_workbook,
    write_d02_workbook,
)
from ebhxh.declarations.findings import DeclarationError
from ebhxh.declarations.forms import (
    D02TS,
    TK1TS,
    D02Header,
    D02Row,
    HouseholdAppendix,
    HouseholdMember,
    Month,
    PartialDate,
    TK1Adjustment,
    TK1Header,
    TK1Row,
)
from ebhxh.declarations.tests.xlsx_parts import replace_in_part, to_shared_strings
from ebhxh.declarations.validator import validate_bytes
from ebhxh.declarations.xmlcodec import decode

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"
D02, _ = decode((EXAMPLES / "D02-TS.xml").read_bytes())
TK1, _ = decode((EXAMPLES / "TK1-TS.xml").read_bytes())
assert isinstance(D02, D02TS) and isinstance(TK1, TK1TS)
# D02 rows 2 and 3 (sheet rows 6 and 7) carry a TK1-TS: Bùi Quốc Việt's identity correction
# ([14]) and Nguyễn Ngọc Ánh's first registration with two household members (PL TV HGĐ 6, 7).
VIET, ANH = 6, 7


def letter(path: str) -> str:
    return get_column_letter(excel._TK1_COLUMN_OF[path])


def by_stt(form: TK1TS) -> list[TK1Row]:
    return sorted(form.rows, key=lambda r: r.stt or 0)


def edit(data: bytes, cells: dict[str, Any], sheet: str = "DuLieu") -> bytes:
    wb = load_workbook(io.BytesIO(data))
    ws = wb[sheet]
    for ref, value in cells.items():
        ws[ref] = value
        if isinstance(value, str) and not value.startswith("="):
            ws[ref].data_type = "s"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def workbook() -> bytes:
    return write_d02_workbook(D02, TK1)


# --- layout and round trip ------------------------------------------------------------------


def test_round_trip(workbook: bytes) -> None:
    result = read_workbook(workbook)
    assert result.findings == []
    assert result.d02 == D02
    assert result.tk1 is not None
    assert result.tk1.header == TK1.header
    assert by_stt(result.tk1) == list(TK1.rows)
    assert result.forms == (result.d02, result.tk1)
    assert result.sheet_rows == (5, 6, 7)
    assert result.tk1_sheet_rows == (VIET, ANH)
    assert result.member_rows == ((), (6, 7))
    assert read_d02_workbook(workbook) == (D02, [])


def test_layout(workbook: bytes) -> None:
    wb = load_workbook(io.BytesIO(workbook))
    ws = wb["DuLieu"]
    assert (ws["BA3"].value, ws["BA4"].value) == ("Xuất TK1-TS", "TK1.XuatTk1")
    assert ws["BA5"].value is None and ws[f"BA{ANH}"].value == "1-Có"
    assert ws[f"{letter('nationality')}3"].value == "Quốc tịch"
    assert ws[f"{letter('household.head_name')}{ANH}"].value == "NGUYỄN VĂN CHỦ HỘ"
    assert ws[f"B{ANH}"].value == "Nguyễn Ngọc Ánh"  # the identity is written once, on D02
    assert len(TK1_COLUMNS) == len({path for path, _ in TK1_COLUMNS})
    household = wb[HOUSEHOLD_SHEET]
    assert household["A3"].value == "STT người tham gia (trang DuLieu)"
    assert household["D4"].value == "LoaiNgaySinh" and household["F4"].value == "GioiTinh"
    assert [c.value for c in household[6]][:6] == [
        3,
        "NGUYỄN VĂN CHỦ HỘ",
        None,
        "0-Ngày tháng năm",
        dt.datetime(1975, 9, 2),
        "1-Nam",
    ]
    assert household["D7"].value == "2-Năm" and household["F7"].value == "2-Nữ"  # 1/2 coding
    assert wb.sheetnames == ["DuLieu", HOUSEHOLD_SHEET, "DanhMuc"]


def test_template_has_the_tk1_columns_and_the_household_sheet() -> None:
    wb = load_workbook(io.BytesIO(excel.d02_template()))
    assert wb["DuLieu"].max_column == len(excel.COLUMNS) + len(TK1_COLUMNS)
    household = wb[HOUSEHOLD_SHEET]
    assert household.max_row == 5  # headings only
    lists = {str(dv.sqref).split(":")[0] for dv in household.data_validations.dataValidation}
    assert lists == {"D6", "F6"}
    ws = wb["DuLieu"]
    flags = {str(dv.sqref).split(":")[0] for dv in ws.data_validations.dataValidation}
    assert {"BA5", f"{letter('child_under_six')}5", f"{letter('adjustment.gender')}5"} <= flags


def test_shared_strings_read_the_same(workbook: bytes) -> None:
    """Excel saves text in a shared-string table; openpyxl writes inline strings."""
    assert read_workbook(to_shared_strings(workbook)) == read_workbook(workbook)


_CODE = st.from_regex(r"[0-9]{2}", fullmatch=True)
_NAME = st.text(alphabet="ABCDĐEGHIKLMNOPQRSTUVXYÀẢÃÁẠ ", min_size=1, max_size=20).filter(
    lambda s: s.strip() == s and s
)
_PARTIAL = st.one_of(
    st.builds(PartialDate, st.integers(1900, 2026)),
    st.builds(PartialDate, st.integers(1900, 2026), st.integers(1, 12)),
    st.dates(dt.date(1900, 3, 1), dt.date(2026, 12, 31)).map(PartialDate.of),
)
_MEMBER = st.builds(
    HouseholdMember,
    stt=st.integers(1, 20) | st.none(),
    full_name=_NAME,
    birth_date=_PARTIAL | st.none(),
    gender=st.sampled_from(["0", "1"]) | st.none(),
    relationship=_CODE | st.none(),
    birth_province=_CODE | st.none(),
    personal_id=st.from_regex(r"[0-9]{12}", fullmatch=True) | st.none(),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            _NAME,
            _PARTIAL,
            st.booleans(),  # has a TK1-TS
            st.builds(
                TK1Row,
                stt=st.integers(1, 99) | st.none(),
                nationality=st.sampled_from(["VN", "US"]) | st.none(),
                ethnicity=_CODE | st.none(),
                phone=st.from_regex(r"0[0-9]{9}", fullmatch=True) | st.none(),
                birth_province=_CODE | st.none(),
                child_under_six=st.booleans() | st.none(),
                contribution_amount=st.decimals(0, 10**7, places=0) | st.none(),
                household=st.builds(
                    HouseholdAppendix,
                    household_code=st.from_regex(r"[0-9]{10}", fullmatch=True) | st.none(),
                    head_name=_NAME | st.none(),
                    members=st.lists(_MEMBER, max_size=3).map(tuple),
                ).filter(lambda h: h.household_code or h.head_name or h.members)  # else nothing
                | st.none(),
                adjustment=st.builds(TK1Adjustment, birth_date=_PARTIAL, gender=st.just("1"))
                | st.none(),
            ),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_round_trip_property(people: list[tuple[str, PartialDate, bool, TK1Row]]) -> None:
    rows, declared = [], []
    for i, (name, birth, has_tk1, tk1) in enumerate(people, start=1):
        pid = f"0790{i:08d}"
        rows.append(
            D02Row(
                stt=i,
                pa="TM",
                full_name=name,
                birth_date=birth,
                personal_id=pid,
                position="Công nhân",
                salary=Decimal(5_000_000),
                from_month=Month(2026, 7),
            )
        )
        if has_tk1:
            identity = {"full_name": name.upper(), "birth_date": birth, "personal_id": pid}
            declared.append(dataclasses.replace(tk1, **identity))
    header = D02Header(unit_name="Đơn vị", unit_code="DM0001A", period=Month(2026, 7))
    form = D02TS(header, rows)
    tk1_form = TK1TS(
        TK1Header(unit_name="Đơn vị", unit_code="DM0001A", period=Month(2026, 7)), declared
    )
    result = read_workbook(write_d02_workbook(form, tk1_form if declared else None))
    assert result.findings == []
    assert result.d02 == form
    assert (result.tk1 or TK1TS(tk1_form.header)) == (
        tk1_form if declared else TK1TS(tk1_form.header)
    )


# --- findings -------------------------------------------------------------------------------


def test_findings_point_at_the_cells(workbook: bytes) -> None:
    data = edit(
        workbook,
        {
            f"{letter('child_under_six')}{ANH}": "có lẽ",
            f"{letter('adjustment.birth_date')}{VIET}": "31/02/1971",
            f"{letter('household.household_code')}{ANH}": "=1+1",
        },
    )
    data = edit(data, {"F7": "0", "E6": "xx/1975"}, sheet=HOUSEHOLD_SHEET)
    result = read_workbook(data)
    got = {
        (
            f.code,
            f.location.sheet,
            f.location.cell,
            f.location.row,
            f.location.field,
            f.location.xpath,
        )
        for f in result.findings
    }
    assert got == {
        (
            "DECL-CODE",
            "DuLieu",
            f"{letter('child_under_six')}{ANH}",
            2,
            "child_under_six",
            "/TK1-TS/DanhSach/NguoiThamGia[2]/TreEmDuoi6Tuoi",
        ),
        (
            "DECL-DATE",
            "DuLieu",
            f"{letter('adjustment.birth_date')}{VIET}",
            1,
            "adjustment.birth_date",
            "/TK1-TS/DanhSach/NguoiThamGia[1]/DieuChinh/NgaySinh",
        ),
        (
            "DECL-XLSX-FORMULA",
            "DuLieu",
            f"{letter('household.household_code')}{ANH}",
            2,
            "household.household_code",
            "/TK1-TS/DanhSach/NguoiThamGia[2]/PhuLucHoGiaDinh/MaHoGiaDinh",
        ),
        (
            "DECL-CODE",
            HOUSEHOLD_SHEET,
            "F7",
            2,
            "household.members[2].gender",
            "/TK1-TS/DanhSach/NguoiThamGia[2]/PhuLucHoGiaDinh/ThanhVien[2]/GioiTinh",
        ),
        (
            "DECL-DATE",
            HOUSEHOLD_SHEET,
            "E6",
            2,
            "household.members[1].birth_date",
            "/TK1-TS/DanhSach/NguoiThamGia[2]/PhuLucHoGiaDinh/ThanhVien[1]/NgaySinh",
        ),
    }
    assert all(f.location.form == "TK1-TS" for f in result.findings)
    assert result.d02 == D02  # the D02-TS is untouched
    (anh,) = [r for r in result.tk1.rows if r.stt == 1]
    assert anh.child_under_six is None and anh.household.household_code is None
    assert anh.household.members[1].gender is None


def test_household_members_are_linked_by_stt(workbook: bytes) -> None:
    data = edit(
        workbook,
        {"A8": 99, "B8": "Không có ai", "A9": None, "B9": "Không gắn", "B10": None, "C10": "  "},
        sheet=HOUSEHOLD_SHEET,
    )
    result = read_workbook(data)
    assert [(f.code, f.location.sheet, f.location.cell) for f in result.findings] == [
        ("DECL-XLSX-LINK", HOUSEHOLD_SHEET, "A8"),
        ("DECL-XLSX-LINK", HOUSEHOLD_SHEET, "A9"),
    ]
    assert result.tk1 is not None and by_stt(result.tk1) == list(TK1.rows)
    # two participants with the same STT: their members cannot be told apart
    _, findings = read_d02_workbook(edit(workbook, {"A6": 3}))
    assert [(f.code, f.location.cell) for f in findings] == [
        ("DECL-XLSX-LINK", "A6"),
        ("DECL-XLSX-LINK", "A7"),
    ]


def test_a_member_needs_a_name(workbook: bytes) -> None:
    result = read_workbook(edit(workbook, {"B6": None}, sheet=HOUSEHOLD_SHEET))
    assert [
        (f.code, f.location.sheet, f.location.cell, f.location.field) for f in result.findings
    ] == [("DECL-MISSING", HOUSEHOLD_SHEET, "B6", "household.members[1].full_name")]


def test_members_alone_make_a_tk1(workbook: bytes) -> None:
    """A participant with household members but no TK1 column filled still gets a TK1-TS."""
    data = edit(workbook, {"A8": 1, "B8": "LÊ VĂN TÍ", "F8": "Nam"}, sheet=HOUSEHOLD_SHEET)
    result = read_workbook(data)
    assert result.findings == [] and result.tk1 is not None
    first = result.tk1.rows[0]
    assert (first.full_name, first.personal_id) == ("LÊ THU HƯƠNG", "079181000001")
    assert first.household == HouseholdAppendix(
        members=(HouseholdMember(full_name="LÊ VĂN TÍ", gender="1"),)
    )
    assert result.tk1_sheet_rows == (5, VIET, ANH) and result.member_rows == ((8,), (), (6, 7))


def test_the_tk1_flag(workbook: bytes) -> None:
    data = edit(workbook, {f"BA{ANH}": "0-Không", "BA5": "1-Có", f"BA{VIET}": "có thể"})
    result = read_workbook(data)
    assert [(f.code, f.severity, f.location.cell) for f in result.findings] == [
        ("DECL-CODE", "error", f"BA{VIET}"),
        ("DECL-UNKNOWN", "warning", f"BA{ANH}"),
    ]
    assert result.tk1 is not None
    only_identity, viet = result.tk1.rows
    assert only_identity == TK1Row(
        full_name="LÊ THU HƯƠNG",
        gender="0",
        birth_date=PartialDate(1981, 2, 28),
        personal_id="079181000001",
        bhxh_code="7900000001",
    )
    assert viet.stt == 2  # a bad flag is reported and the row's data is still read
    assert result.tk1_sheet_rows == (5, VIET)


def test_codes_typed_as_numbers_and_with_labels(workbook: bytes) -> None:
    data = edit(
        workbook,
        {
            f"{letter('birth_province')}{ANH}": 79,
            f"{letter('ethnicity')}{ANH}": "01-Kinh",
            f"{letter('hospital_code')}{ANH}": "79001-Bệnh viện thử nghiệm",
            f"{letter('address_commune')}{ANH}": 1234,
        },
    )
    data = edit(data, {"M6": 0, "I6": 79075000099}, sheet=HOUSEHOLD_SHEET)
    result = read_workbook(data)
    assert result.findings == []
    (anh,) = [r for r in result.tk1.rows if r.stt == 1]
    assert (anh.birth_province, anh.ethnicity, anh.hospital_code) == ("79", "01", "79001")
    assert anh.address_commune == "01234"
    head = anh.household.members[0]
    assert (head.relationship, head.personal_id) == ("00", "079075000099")


def test_excel_error_values_are_findings(workbook: bytes) -> None:
    changed = replace_in_part(
        workbook,
        "xl/worksheets/sheet1.xml",
        (
            rb'<c r="BB7"[^>]*>.*?</c>',
            rb'<c r="BB7" t="e"><f>VLOOKUP(A1,B:B,2,0)</f><v>#N/A</v></c>',
        ),
    )
    result = read_workbook(changed)
    assert [(f.code, f.location.cell, f.location.field) for f in result.findings] == [
        ("DECL-XLSX-ERROR", "BB7", "nationality")
    ]
    assert "#N/A" in result.findings[0].message_en


# --- writing what cannot be placed ------------------------------------------------------------


@pytest.mark.parametrize(
    ("tk1_rows", "field"),
    [
        (
            [
                TK1Row(
                    full_name="NGƯỜI KHÁC", birth_date=PartialDate(1990), personal_id="079090000009"
                )
            ],
            None,
        ),
        ([dataclasses.replace(TK1.rows[1], birth_date=PartialDate(1971, 4, 14))], "birth_date"),
        ([dataclasses.replace(TK1.rows[1], full_name="BÙI VĂN VIỆT")], "full_name"),
        ([TK1.rows[1], TK1.rows[1]], None),
    ],
    ids=["unknown", "other-birth-date", "other-name", "twice"],
)
def test_a_tk1_row_must_match_one_d02_row(tk1_rows: list[TK1Row], field: str | None) -> None:
    with pytest.raises(DeclarationError) as exc:
        write_d02_workbook(D02, TK1TS(TK1.header, tk1_rows))
    where = exc.value.finding.location
    assert (exc.value.finding.code, where.form, where.field) == ("DECL-XLSX-LINK", "TK1-TS", field)


def test_members_need_a_unique_stt() -> None:
    rows = [dataclasses.replace(r, stt=None) for r in D02.rows]
    with pytest.raises(DeclarationError) as exc:
        write_d02_workbook(dataclasses.replace(D02, rows=rows), TK1)
    assert (exc.value.finding.code, exc.value.finding.location.row) == ("DECL-XLSX-LINK", 3)
    without_members = TK1TS(TK1.header, [TK1.rows[1]])
    data = write_d02_workbook(dataclasses.replace(D02, rows=rows), without_members)
    assert read_workbook(data).tk1 == without_members


def test_new_codes_are_known() -> None:
    assert {"DECL-XLSX-ERROR", "DECL-XLSX-LINK"} <= set(CODES)


# --- the validator ----------------------------------------------------------------------------


def test_the_validator_checks_both_forms(workbook: bytes) -> None:
    report = validate_bytes(workbook, filename="D02-TS.xlsx")
    assert report.ok, report.findings
    assert report.forms == ("D02-TS", "TK1-TS")
    assert report.rows_checked == 5
    data = edit(workbook, {f"{letter('child_under_six')}{ANH}": "có lẽ", f"I{ANH}": "079303"})
    found = [
        (f.code, f.location.form, f.location.sheet, f.location.cell)
        for f in validate_bytes(data, filename="D02-TS.xlsx").findings
    ]
    # the reader's TK1-TS finding, and the short CCCD once (on D02-TS), not again for TK1-TS
    assert ("DECL-CODE", "TK1-TS", "DuLieu", f"{letter('child_under_six')}{ANH}") in found
    pid = [f for f in found if f[0].startswith("ID-PID")]
    assert pid and all(f[1:] == ("D02-TS", "DuLieu", f"I{ANH}") for f in pid)


def test_locate_sends_tk1_findings_to_their_cells(workbook: bytes) -> None:
    result = read_workbook(workbook)
    findings = [
        finding("DECL-CODE", form="TK1-TS", row=2, field="nationality"),
        finding("DECL-CODE", form="TK1-TS", row=2, field="household.members[2].gender"),
        finding("DECL-CODE", form="TK1-TS", row=1, field="adjustment.birth_date"),
        finding("DECL-MISSING", form="TK1-TS", row=1, field=None),
        finding("DECL-DATE", form="D02-TS", row=3, field="birth_date"),
        finding("DECL-DATE", form="TK1-TS", row=2, field="birth_date"),  # same cell as above
        finding("DECL-CODE", form="D02-TS", field="header.unit_code"),
        finding("DECL-CODE", form="TK1-TS", field="header.unit_code"),  # same header field
    ]
    placed = [(f.location.form, f.location.sheet, f.location.cell) for f in result.locate(findings)]
    assert placed == [
        ("TK1-TS", "DuLieu", f"{letter('nationality')}{ANH}"),
        ("TK1-TS", HOUSEHOLD_SHEET, "F7"),
        ("TK1-TS", "DuLieu", f"{letter('adjustment.birth_date')}{VIET}"),
        ("TK1-TS", "DuLieu", f"A{VIET}"),
        ("D02-TS", "DuLieu", f"G{ANH}"),
        ("D02-TS", None, None),
    ]
