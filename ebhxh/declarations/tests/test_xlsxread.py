"""The streaming xlsx reader (xlsxread.py): the values openpyxl reads, in one pass, plus formulas.

The reference is openpyxl's own reading (read-only, ``data_only=True``) of the same bytes: for
workbooks openpyxl writes (inline strings) and for the same workbooks with shared strings, as
Excel saves them. The parts Excel writes that openpyxl does not (cached formula values, error
values, rich text and phonetic runs in the shared strings, 1904 dates, other part names) are
built with zipfile.
"""

from __future__ import annotations

import datetime as dt
import io
import warnings
import zipfile
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from ebhxh.declarations.tests.xlsx_parts import (
    build_xlsx,
    cell,
    shared_strings_xml,
    sheet_xml,
    styles_xml,
    to_shared_strings,
)
from ebhxh.declarations.xlsxread import (
    UNCALCULATED,
    CellError,
    XlsxBook,
    XlsxError,
    column_index,
)


def _openpyxl(data: bytes, sheet: str, max_col: int) -> dict[int, tuple[Any, ...]]:
    """Row number -> values, as openpyxl reads them (rows with no value left out)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        ws = wb[sheet]
        ws.reset_dimensions()
        rows = {
            n: tuple(r)
            for n, r in enumerate(ws.iter_rows(max_col=max_col, values_only=True), start=1)
            if any(v is not None for v in r)
        }
    wb.close()
    return rows


def _ours(data: bytes, sheet: str, max_col: int) -> dict[int, tuple[Any, ...]]:
    """The same from XlsxBook, with what openpyxl cannot tell apart mapped to its values."""

    def plain(value: Any) -> Any:
        if value is UNCALCULATED:
            return None
        return str(value) if isinstance(value, CellError) else value

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a date serial out of range: openpyxl warns, we don't
        book = XlsxBook(data)
    rows = {
        row.number: tuple(plain(v) for v in row.values)
        for row in book.rows(sheet, max_col=max_col)
        if any(plain(v) is not None for v in row.values)
    }
    book.close()
    return rows


def _values(data: bytes, sheet: str = "S", max_col: int = 10) -> list[list[Any]]:
    with XlsxBook(data) as book:
        return [row.values for row in book.rows(sheet, max_col=max_col)]


# --- the same values as openpyxl ----------------------------------------------------------

_TEXT = st.text(
    st.characters(exclude_categories=("Cs", "Co", "Cn"), exclude_characters="\x7f").filter(
        lambda c: c >= " " or c in "\t\n\r"
    ),
    max_size=20,
)
_FORMATS = [
    "General",
    "0.00",
    "#,##0",
    "@",
    "DD/MM/YYYY",
    "yyyy-mm-dd h:mm",
    "[h]:mm:ss",
    "mm/yyyy",
]
_VALUE = st.one_of(
    st.none(),
    _TEXT,
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 12, 31)),
    st.dates(min_value=dt.date(1900, 3, 1)),
    st.sampled_from(["=1+1", '=UPPER("a")', "=A1"]),  # formulas: openpyxl saves no value
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.lists(st.tuples(_VALUE, st.sampled_from(_FORMATS)), min_size=0, max_size=6),
        min_size=1,
        max_size=6,
    ),
    st.booleans(),
    st.booleans(),
)
def test_values_equal_openpyxls(grid: list[list[tuple[Any, str]]], date1904: bool, shared: bool):
    wb = Workbook()
    if date1904:
        wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.title = "S"
    for r, row in enumerate(grid, start=1):
        for c, (value, number_format) in enumerate(row, start=1):
            if value is None:
                continue
            target = ws.cell(row=r, column=c, value=value)
            target.number_format = number_format
    out = io.BytesIO()
    wb.save(out)
    data = to_shared_strings(out.getvalue()) if shared else out.getvalue()
    assert _ours(data, "S", 8) == _openpyxl(data, "S", 8)


def test_rich_text_and_shared_strings_equal_openpyxls():
    wb = Workbook()
    ws = wb.active
    ws.title = "S"
    ws["A1"] = CellRichText("Nguyễn ", TextBlock(InlineFont(b=True), "Văn"), " An")
    ws["B1"] = "  giữ khoảng trắng  "
    ws["C1"] = "dòng 1\ndòng 2"
    ws["D1"] = ""
    out = io.BytesIO()
    wb.save(out)
    for data in (out.getvalue(), to_shared_strings(out.getvalue())):
        assert _ours(data, "S", 4) == _openpyxl(data, "S", 4)
        assert _values(data, max_col=3)[0] == [
            "Nguyễn Văn An",
            "  giữ khoảng trắng  ",
            "dòng 1\ndòng 2",
        ]


# --- what Excel writes ---------------------------------------------------------------------


def test_shared_strings_with_runs_phonetics_and_escapes():
    strings = shared_strings_xml(
        [
            "<t>Lê Thu Hương</t>",
            '<r><rPr><b/></rPr><t xml:space="preserve">Trần </t></r><r><t>Bình</t></r>',
            '<t>東京</t><rPh sb="0" eb="2"><t>トウキョウ</t></rPh><phoneticPr fontId="1"/>',
            "<t>a_x005F_x0041_b</t>",
            "<t/>",
        ]
    )
    rows = "".join(
        f'<row r="1">{"".join(cell(f"{c}1", str(i), t="s") for i, c in enumerate("ABCDE"))}</row>'
    )
    data = build_xlsx({"S": sheet_xml(rows)}, shared_strings=strings)
    assert _values(data, max_col=5) == [["Lê Thu Hương", "Trần Bình", "東京", "a_x0041_b", ""]]
    assert _ours(data, "S", 5) == _openpyxl(data, "S", 5)


def test_formulas_are_flagged_and_never_evaluated():
    rows = (
        '<row r="5">'
        '<c r="A5"><f>1+1</f><v>2</v></c>'  # cached number
        '<c r="B5" t="str"><f>UPPER("a")</f><v>A</v></c>'  # cached text
        '<c r="C5" t="str"><f>IF(1,"","x")</f><v></v></c>'  # cached empty text (Excel)
        '<c r="D5"><f>1+1</f></c>'  # never calculated
        '<c r="E5"><f>1+1</f><v/></c>'  # what openpyxl writes for a formula
        '<c r="F5" t="b"><f>TRUE()</f><v>1</v></c>'
        '<c r="G5" t="e"><f>NA()</f><v>#N/A</v></c>'
        '<c r="H5" t="str"><f t="shared" ref="H5:H6" si="0">A5</f><v>x</v></c>'
        "</row>"
    )
    data = build_xlsx({"S": sheet_xml(rows)})
    with XlsxBook(data) as book:
        (row,) = book.rows("S", max_col=8)
    assert row.number == 5
    assert row.values == [2, "A", "", UNCALCULATED, UNCALCULATED, True, CellError("#N/A"), "x"]
    assert row.formulas == (1, 2, 3, 4, 5, 6, 7, 8)
    assert _ours(data, "S", 8)[5][:2] == _openpyxl(data, "S", 8)[5][:2]


def test_types_dates_and_the_1904_calendar():
    styles = styles_xml([0, 14, "dd/mm/yyyy", "[h]:mm", "0.00"])
    rows = (
        '<row r="1">'
        + cell("A1", "46204")
        + cell("B1", "46204", s=1)
        + cell("C1", "46204.5", s=2)
        + cell("D1", "1.5", s=3)
        + cell("E1", "2.340", s=4)
        + cell("F1", "1", t="b")
        + cell("G1", "#DIV/0!", t="e")
        + cell("H1", "2026-07-01T08:30:00", t="d")
        + cell("I1", "abc", t="str")
        + cell("J1", "99999999", s=1)
        + "</row>"
    )
    data = build_xlsx({"S": sheet_xml(rows)}, styles=styles)
    (values,) = _values(data)
    assert values == [
        46204,
        dt.datetime(2026, 7, 1),
        dt.datetime(2026, 7, 1, 12),
        dt.timedelta(hours=36),
        2.34,
        True,
        CellError("#DIV/0!"),
        dt.datetime(2026, 7, 1, 8, 30),
        "abc",
        CellError("#VALUE!"),  # a date serial out of range, as openpyxl reads it
    ]
    mac = build_xlsx({"S": sheet_xml(rows)}, styles=styles, date1904=True)
    assert _values(mac)[0][1] == dt.datetime(2030, 7, 2)  # 1904 calendar: 1462 days later
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _ours(mac, "S", 10) == _openpyxl(mac, "S", 10)
        assert _ours(data, "S", 10) == _openpyxl(data, "S", 10)


def test_sheets_are_found_by_name_through_the_relationships():
    first = sheet_xml('<row r="1">' + cell("A1", "first", t="str") + "</row>")
    data_sheet = sheet_xml('<row r="7">' + cell("B7", "data", t="str") + "</row>")
    for absolute in (False, True):
        data = build_xlsx(
            {"Khác": first, "DuLieu": data_sheet},
            paths={"DuLieu": "xl/worksheets/dulieu.xml", "Khác": "xl/worksheets/other.xml"},
            absolute_targets=absolute,
        )
        with XlsxBook(data) as book:
            assert book.sheet_names == ["Khác", "DuLieu"]
            (row,) = book.rows("DuLieu", max_col=3)
            assert (row.number, row.values) == (7, [None, "data", None])
            with pytest.raises(KeyError):
                list(book.rows("Missing", max_col=3))


def test_cells_and_rows_without_references_and_the_strict_namespace():
    rows = '<row><c t="str"><v>a</v></c><c/><c t="str"><v>c</v></c></row><row r="4"><c r="B4"><v>1</v></c></row><row><c><v>2</v></c></row>'
    data = build_xlsx({"S": sheet_xml(rows)})
    with XlsxBook(data) as book:
        got = [(r.number, r.values) for r in book.rows("S", max_col=3)]
    assert got == [(1, ["a", None, "c"]), (4, [None, 1, None]), (5, [2, None, None])]
    strict = "http://purl.oclc.org/ooxml/spreadsheetml/main"
    data = build_xlsx({"S": sheet_xml(rows, ns=strict)}, ns=strict)
    assert _values(data, max_col=3)[0] == ["a", None, "c"]


def test_cells_beyond_max_col_are_skipped():
    data = build_xlsx(
        {"S": sheet_xml('<row r="1">' + cell("A1", "1") + cell("XFD1", "2") + "</row>")}
    )
    assert _values(data, max_col=2) == [[1, None]]


@pytest.mark.parametrize(
    "rows",
    [
        '<row r="1"><c r="1A"><v>1</v></c></row>',  # not a cell reference
        '<row r="1"><c r="AAAA1"><v>1</v></c></row>',  # beyond XFD
        '<row r="x"><c r="A1"><v>1</v></c></row>',
        '<row r="1"><c r="A1"><v>abc</v></c></row>',  # not a number
        '<row r="1"><c r="A1" t="s"><v>7</v></c></row>',  # no such shared string
        '<row r="1"><c r="A1" t="b"><v>yes</v></c></row>',
    ],
)
def test_broken_cells_are_errors(rows: str):
    data = build_xlsx({"S": sheet_xml(rows)})
    with pytest.raises((XlsxError, ValueError, IndexError)), XlsxBook(data) as book:
        list(book.rows("S", max_col=5))


def test_doctype_and_entities_are_refused():
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="str"><v>&b;</v></c></row></sheetData></worksheet>'
    )
    with pytest.raises(XlsxError), XlsxBook(build_xlsx({"S": bomb})) as book:
        list(book.rows("S", max_col=1))
    data = build_xlsx({"S": sheet_xml("")})
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        parts = {n: source.read(n) for n in source.namelist()}
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b"?><workbook", b'?><!DOCTYPE workbook SYSTEM "http://example.invalid/x.dtd"><workbook'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name, content in parts.items():
            target.writestr(name, content)
    with pytest.raises(XlsxError):
        XlsxBook(out.getvalue())


def test_not_a_workbook():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("xl/workbook.xml", b"<other/>")
    with pytest.raises(XlsxError):
        XlsxBook(out.getvalue())
    with pytest.raises(zipfile.BadZipFile):
        XlsxBook(b"not a zip")


@pytest.mark.parametrize(
    ("letters", "index"), [("A", 1), ("Z", 26), ("AA", 27), ("AZ", 52), ("XFD", 16384), ("ba", 53)]
)
def test_column_index(letters: str, index: int):
    assert column_index(letters) == index


@pytest.mark.parametrize("letters", ["", "XFE", "AAAA", "A1", "Ä"])
def test_column_index_refuses(letters: str):
    with pytest.raises(ValueError):
        column_index(letters)


def test_a_long_sheet_reads_in_order():
    rows = "".join(f'<row r="{n}">{cell(f"A{n}", str(n))}</row>' for n in range(1, 5001))
    data = build_xlsx({"S": sheet_xml(rows)})
    with XlsxBook(data) as book:
        for row in book.rows("S", max_col=1):
            assert row.values == [row.number]
