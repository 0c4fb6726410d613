"""The offline validator, its reports and the `validate` command."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from ebhxh.declarations.envelope import EnvelopeUnit, build_envelope
from ebhxh.declarations.forms import D02TS, Month
from ebhxh.declarations.management.commands.validate import Command
from ebhxh.declarations.report import render_html, render_text
from ebhxh.declarations.tests.test_rules import JUL, JUN, header, row
from ebhxh.declarations.validator import ValidationReport, validate_bytes, validate_path
from ebhxh.declarations.xmlcodec import encode

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"
UNIT = EnvelopeUnit(name="Công ty TNHH Dệt may Sao Mai", code="DM0001A", tax_code="0310000017")


def d02(*rows: Any, period: Month = JUL) -> bytes:
    return encode(D02TS(header(period=period), rows or (row(),)))


def codes(report: ValidationReport) -> list[str]:
    return [f.code for f in report.findings]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.xml")), ids=lambda p: p.name)
def test_committed_examples_pass(path: Path) -> None:
    report = validate_path(path)
    assert report.ok, [(f.code, f.location) for f in report.findings]
    assert report.findings == ()
    assert report.filename == path.name


def test_excel_example_passes() -> None:
    report = validate_path(EXAMPLES / "D02-TS.xlsx")
    assert report.ok, [(f.code, f.location) for f in report.findings]
    assert report.forms == ("D02-TS", "TK1-TS") and report.rows_checked >= 1


def test_excel_rules_run_with_cells() -> None:
    from ebhxh.declarations.excel import write_d02_workbook

    data = write_d02_workbook(
        D02TS(header(period=JUN), [row(salary=Decimal(5_000_000), from_month=JUN)])
    )
    report = validate_bytes(data, filename="d02.xlsx")
    assert codes(report) == ["RULE-SALARY-FLOOR"]


def test_envelope_example() -> None:
    report = validate_path(EXAMPLES / "BHXHDienTu.xml")
    assert report.forms == ("BHXHDienTu", "D02-TS", "TK1-TS")
    assert report.rows_checked == 5
    assert (report.period, report.procedure, report.ruleset) == ("07/2026", "600", "2024.07")
    json.dumps(report.as_dict())  # serialisable


def test_single_form_report() -> None:
    report = validate_bytes(d02(row(), row(stt=2, bhxh_code="7912345678")))
    assert report.ok and report.forms == ("D02-TS",) and report.rows_checked == 2
    assert report.period == "07/2026"
    assert report.as_dict()["counts"] == {"errors": 0, "warnings": 0, "by_code": {}}


def test_envelope_missing_a_required_form() -> None:
    data = build_envelope(UNIT, "601", JUL, [("D02-TS", "D02-TS-595.xml", d02())])
    report = validate_bytes(data)
    assert not report.ok
    assert codes(report) == ["RULE-FORM-REQUIRED"]
    assert report.findings[0].location.form == "BHXHDienTu"


def test_late_report_without_d01_in_the_envelope() -> None:
    late = d02(row(from_month=JUN))
    report = validate_bytes(build_envelope(UNIT, "600", JUL, [("D02-TS", "D02-TS.xml", late)]))
    assert codes(report) == ["RULE-LATE-D01"]
    assert report.findings[0].location.row == 1 and not report.ok

    d01 = (EXAMPLES / "D01-TS.xml").read_bytes()
    files = [("D02-TS", "D02-TS.xml", late), ("D01-TS", "D01-TS.xml", d01)]
    report = validate_bytes(build_envelope(UNIT, "600", JUL, files))
    assert report.ok, codes(report)


def test_late_decrease_in_a_lone_form() -> None:
    report = validate_bytes(d02(row(pa="GH", kind="2", from_month=JUN, to_month=JUN)))
    assert codes(report) == ["RULE-LATE-BHYT", "RULE-LATE-D01-ATTACH"]
    assert report.ok  # both warnings: the dossier is unknown


def test_below_floor_june_2026_region_i() -> None:
    data = d02(row(salary=Decimal(5_000_000), from_month=JUN), period=JUN)
    report = validate_bytes(data)
    assert not report.ok and codes(report) == ["RULE-SALARY-FLOOR"]
    loc = report.findings[0].location
    assert loc.xpath == "/D02-TS/DanhSach/NguoiLaoDong[1]/TienLuong"


def test_above_cap_is_a_warning() -> None:
    report = validate_bytes(d02(row(salary=Decimal(80_000_000))))
    assert report.ok and codes(report) == ["RULE-SALARY-CAP"] and report.warnings == 1


def test_duplicates() -> None:
    report = validate_bytes(
        d02(row(personal_id="079190012345"), row(stt=2, personal_id="079190012345"))
    )
    assert codes(report) == ["RULE-DUPLICATE"] and report.findings[0].location.row == 2


def test_period_override() -> None:
    data = d02(row(from_month=JUL))
    assert codes(validate_bytes(data, period="08/2026")) == ["RULE-LATE-D01-ATTACH"]
    assert "DECL-MONTH" in codes(validate_bytes(data, period="13/2026"))


def test_decoder_and_schema_findings_are_included() -> None:
    data = d02().replace(b"<TienLuong>10000000</TienLuong>", b"<TienLuong>10,000,000</TienLuong>")
    report = validate_bytes(data)
    assert {"DECL-NUMBER", "DECL-SCHEMA"} <= set(codes(report))
    assert not report.ok


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"<D02-TS><ThongTinDonVi>", "DECL-XML-MALFORMED"),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><D02-TS/>', "DECL-XML-DOCTYPE"),
        (b"", "DECL-EMPTY"),
        (b"  \n", "DECL-EMPTY"),
        (b"<Other/>", "DECL-ROOT"),
        ("<D02-TS>é</D02-TS>".encode("latin-1"), "DECL-ENCODING"),
        (b"PK\x03\x04rest", "DECL-XLSX-NOT-WORKBOOK"),
    ],
)
def test_broken_input_gives_a_coded_finding(data: bytes, code: str) -> None:
    report = validate_bytes(data)
    assert codes(report) == [code] and not report.ok


def test_oversized_input() -> None:
    assert codes(validate_bytes(d02(), max_bytes=100)) == ["DECL-TOO-LARGE"]


def test_oversized_and_unreadable_paths(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    big.write_bytes(d02())
    assert codes(validate_path(big, max_bytes=100)) == ["DECL-TOO-LARGE"]
    assert not validate_path(tmp_path / "missing.xml").ok


def test_broken_embedded_file() -> None:
    data = build_envelope(UNIT, "600", JUL, [("D02-TS", "D02-TS.xml", b"<D02-TS>")])
    report = validate_bytes(data)
    assert "DECL-XML-MALFORMED" in codes(report) and not report.ok


# --- reports ---------------------------------------------------------------------------------

NASTY = "<script>alert(1)</script>"


def test_text_report_is_grouped_and_bilingual() -> None:
    report = validate_bytes(d02(row(pa="XX"), row(stt=2, bhxh_code="1")), filename="d02.xml")
    text = render_text(report)
    assert "== D02-TS ==" in text and "dòng / row 1" in text and "dòng / row 2" in text
    assert text.index("vi: Mã phương án") < text.index("en: The change type")
    assert "KHÔNG HỢP LỆ / INVALID" in text


def test_html_report_is_self_contained_and_escaped() -> None:
    data = d02(row(full_name=NASTY, pa="XX"))
    html = render_html(validate_bytes(data, filename=f"{NASTY}.xml"))
    assert '<html lang="vi">' in html
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "http://" not in html and "https://" not in html and "src=" not in html
    assert "RULE-PA-UNKNOWN" in html


# --- the command -----------------------------------------------------------------------------


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command(Command(), *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_command_on_a_valid_example() -> None:
    status, out = run(str(EXAMPLES / "D02-TS.xml"))
    assert status == 0 and "HỢP LỆ / VALID" in out


def test_command_exit_code_1_on_errors_with_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<D02-TS>")
    status, out = run(str(bad), "--json")
    assert status == 1
    assert json.loads(out)["findings"][0]["code"] == "DECL-XML-MALFORMED"


def test_command_writes_html(tmp_path: Path) -> None:
    source = tmp_path / "<script>.xml"
    source.write_bytes(d02(row(salary=Decimal(1_000_000))))
    target = tmp_path / "report.html"
    status, _ = run(str(source), "--period", "07/2026", "--html", str(target))
    html = target.read_text(encoding="utf-8")
    assert status == 1 and "RULE-SALARY-FLOOR" in html and "<script" not in html


def test_command_help_is_bilingual() -> None:
    assert "Kiểm tra tệp tờ khai" in Command.help and "Validate a declaration file" in Command.help


def test_rule_findings_on_a_workbook_point_at_the_cell():
    import dataclasses
    from pathlib import Path

    from ebhxh.declarations import excel
    from ebhxh.declarations.validator import validate_bytes
    from ebhxh.declarations.xmlcodec import decode

    examples = Path(__file__).resolve().parents[3] / "docs" / "examples"
    form, _ = decode((examples / "D02-TS.xml").read_bytes())
    rows = list(form.rows)
    rows[1] = dataclasses.replace(rows[1], pa="ZZ", bhxh_code="12")
    workbook = excel.write_d02_workbook(dataclasses.replace(form, rows=tuple(rows)))
    found = {f.code: f.location for f in validate_bytes(workbook, filename="D02-TS.xlsx").findings}
    # The second data row is sheet row 6; column C is Mã số BHXH, column E the Phương án.
    assert (found["ID-BHXH-FORMAT"].sheet, found["ID-BHXH-FORMAT"].cell) == ("DuLieu", "C6")
    assert (found["RULE-PA-UNKNOWN"].sheet, found["RULE-PA-UNKNOWN"].cell) == ("DuLieu", "E6")
    assert found["RULE-PA-UNKNOWN"].row == 2
