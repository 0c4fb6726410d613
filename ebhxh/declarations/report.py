"""Readable reports of a ValidationReport: plain text and a self-contained HTML page.

Findings are grouped by form, then by row (the form's header and file-level findings first),
each with its Vietnamese message, then the English one. Messages never carry the offending value
(declarations hold personal data), so the reports can be shared with a help desk.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape
from itertools import groupby

from ebhxh.declarations.findings import Finding
from ebhxh.declarations.validator import ValidationReport

_SEVERITY = {"error": ("LỖI", "ERROR"), "warning": ("CẢNH BÁO", "WARNING")}


def _groups(
    report: ValidationReport,
) -> Iterator[tuple[str, list[tuple[int | None, list[Finding]]]]]:
    """(form, [(row, findings)]) in report order (findings are sorted by location)."""
    for form, in_form in groupby(report.findings, key=lambda f: f.location.form or ""):
        rows = [(row, list(items)) for row, items in groupby(in_form, key=lambda f: f.location.row)]
        yield form, rows


def _where(f: Finding) -> str:
    loc = f.location
    parts = [
        loc.field,
        f"{loc.sheet}!{loc.cell}" if loc.sheet and loc.cell else loc.sheet,
        loc.xpath,
    ]
    return " · ".join(p for p in parts if p)


def _summary_lines(report: ValidationReport) -> list[str]:
    verdict = "HỢP LỆ / VALID" if report.ok else "KHÔNG HỢP LỆ / INVALID"
    return [
        f"Tệp / File: {report.filename or '-'}",
        f"Kết quả / Result: {verdict}",
        f"Lỗi / Errors: {report.errors} · Cảnh báo / Warnings: {report.warnings}",
        f"Tờ khai / Forms: {', '.join(report.forms) or '-'} · "
        f"Số dòng / Rows checked: {report.rows_checked}",
        f"Kỳ kê khai / Period: {report.period or '-'} · "
        f"Thủ tục / Procedure: {report.procedure or '-'} · "
        f"Bộ quy tắc / Rule set: {report.ruleset or '-'}",
    ]


def render_text(report: ValidationReport) -> str:
    """A plain-text report (UTF-8), Vietnamese then English for each finding."""
    lines = _summary_lines(report)
    for form, rows in _groups(report):
        lines.append("")
        lines.append(f"== {form or 'Tệp / File'} ==")
        for row, findings in rows:
            lines.append(
                f"  -- dòng / row {row} --" if row is not None else "  -- chung / general --"
            )
            for f in findings:
                vi, en = _SEVERITY[f.severity]
                where = _where(f)
                lines.append(f"  [{vi}/{en}] {f.code}" + (f" ({where})" if where else ""))
                lines.append(f"      vi: {f.message_vi}")
                lines.append(f"      en: {f.message_en}")
    return "\n".join(lines) + "\n"


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem;color:#1d1d1f}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:1.6rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#f4f4f6}.error{color:#a40000;font-weight:600}.warning{color:#8a5a00;font-weight:600}
.ok{color:#176317}.bad{color:#a40000}.en{color:#555}code{font-size:.85rem}
"""


def render_html(report: ValidationReport) -> str:
    """A self-contained HTML page (inline CSS, no scripts, no external assets), lang="vi";
    every value is escaped."""
    e = escape
    verdict = (
        '<p class="ok">Hợp lệ / Valid</p>'
        if report.ok
        else '<p class="bad">Không hợp lệ / Invalid</p>'
    )
    out = [
        "<!DOCTYPE html>",
        '<html lang="vi">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Kết quả kiểm tra tờ khai / Validation report — {e(report.filename or '')}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<h1>Kết quả kiểm tra tờ khai / Declaration validation report</h1>",
        verdict,
        "<table>",
        f"<tr><th>Tệp / File</th><td>{e(report.filename or '-')}</td></tr>",
        f"<tr><th>Lỗi / Errors</th><td>{report.errors}</td></tr>",
        f"<tr><th>Cảnh báo / Warnings</th><td>{report.warnings}</td></tr>",
        f"<tr><th>Tờ khai / Forms</th><td>{e(', '.join(report.forms) or '-')}</td></tr>",
        f"<tr><th>Số dòng / Rows checked</th><td>{report.rows_checked}</td></tr>",
        f"<tr><th>Kỳ kê khai / Period</th><td>{e(report.period or '-')}</td></tr>",
        f"<tr><th>Thủ tục / Procedure</th><td>{e(report.procedure or '-')}</td></tr>",
        f"<tr><th>Bộ quy tắc / Rule set</th><td>{e(report.ruleset or '-')}</td></tr>",
        "</table>",
    ]
    for form, rows in _groups(report):
        out.append(f"<h2>{e(form or 'Tệp / File')}</h2>")
        out.append(
            "<table><tr><th>Dòng / Row</th><th>Mức / Severity</th><th>Mã / Code</th>"
            "<th>Vị trí / Location</th><th>Nội dung / Message</th></tr>"
        )
        for row, findings in rows:
            for f in findings:
                vi, en = _SEVERITY[f.severity]
                out.append(
                    "<tr>"
                    f"<td>{'' if row is None else row}</td>"
                    f'<td class="{e(f.severity)}">{e(vi)} / {e(en)}</td>'
                    f"<td><code>{e(f.code)}</code></td>"
                    f"<td><code>{e(_where(f))}</code></td>"
                    f'<td><div lang="vi">{e(f.message_vi)}</div>'
                    f'<div class="en" lang="en">{e(f.message_en)}</div></td>'
                    "</tr>"
                )
        out.append("</table>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)
