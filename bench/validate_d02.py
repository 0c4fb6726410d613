"""Benchmark: the offline validator on a 10,000-row D02-TS XML (decode + XSD + rules), against the
floor measured in the same run (lxml parse of the same bytes). Peak memory of validating the file
is measured in a fresh process (VmHWM from /proc/self/status). Then the same rows as a workbook
in the portal's template, saved with inline strings (openpyxl) and with a shared-string table
(Excel), against the floor of unzipping and parsing the data sheet.

    .venv/bin/python bench/validate_d02.py

Targets (issue 4, item 6): at most 0.5 s and 200 MiB peak RSS for the 10,000-row file; at most
3 s from the workbook.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROWS = 10_000
REPEAT = 5


def _median_s(fn, repeat: int = REPEAT) -> float:
    fn()  # warm-up
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def d02_bytes(rows: int = ROWS) -> bytes:
    from ebhxh.declarations.forms import D02TS, D02Header, D02Row, Month, PartialDate
    from ebhxh.declarations.xmlcodec import encode

    period = Month(2026, 7)
    header = D02Header(
        unit_name="Công ty TNHH Dệt may Sao Mai",
        unit_code="DM0001A",
        tax_code="0310000017",
        period=period,
        date=dt.date(2026, 7, 5),
    )
    body = [
        D02Row(
            stt=i,
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
            contract_fixed_from=dt.date(2026, 7, 1),
            contract_fixed_to=dt.date(2027, 6, 30),
            from_month=period,
            contribution_rate=Decimal("32"),
            wage_region="01",
            has_book=False,
            note="Tuyển mới",
        )
        for i in range(1, rows + 1)
    ]
    return encode(D02TS(header, body))


def _hwm_mib() -> float:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork+exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _peak_rss_child(path: str) -> None:
    from ebhxh.declarations.validator import validate_bytes

    data = Path(path).read_bytes()
    base = _hwm_mib()
    report = validate_bytes(data, filename=Path(path).name)
    assert report.rows_checked == ROWS, report.rows_checked
    print(f"{base:.0f} {_hwm_mib():.0f}")


def _floor(data: bytes) -> None:
    from lxml import etree

    etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--rss":
        _peak_rss_child(sys.argv[2])
        return
    from ebhxh.declarations import rules
    from ebhxh.declarations.validator import validate_bytes
    from ebhxh.declarations.xmlcodec import decode, validate_schema

    data = d02_bytes()
    report = validate_bytes(data)
    assert report.ok, report.counts
    form, _ = decode(data)

    floor = _median_s(lambda: _floor(data))
    steps = [
        ("lxml parse (floor)", floor),
        ("decode", _median_s(lambda: decode(data))),
        ("validate_schema", _median_s(lambda: validate_schema(data, "D02-TS"))),
        (
            "rules only",
            _median_s(lambda: rules.check_form(form, rules.Context(form.header.period))),
        ),
        ("validate_bytes, no XSD", _median_s(lambda: validate_bytes(data, schema=False))),
        ("validate_bytes (all)", _median_s(lambda: validate_bytes(data))),
    ]
    print(f"D02-TS, {ROWS} rows, {len(data) / 1e6:.2f} MB, median of {REPEAT} runs")
    print(f"{'step':<26}{'seconds':>9}{'x floor':>9}")
    for name, seconds in steps:
        print(f"{name:<26}{seconds:9.3f}{seconds / floor:9.1f}")

    base, peak = _peak_rss(data, ".xml")
    total = steps[-1][1]
    print(f"peak RSS validating in a fresh process: {peak} MiB (before: {base} MiB)")
    print(
        f"targets: <= 0.5 s ({'met' if total <= 0.5 else 'NOT met'}), "
        f"<= 200 MiB ({'met' if float(peak) <= 200 else 'NOT met'})"
    )

    # The same rows from the portal's Excel template (issue 4: at most 3 s), as openpyxl saves
    # them (inline strings) and as Excel saves them (a shared-string table), against the floor
    # of unzipping the data sheet and parsing it with lxml.
    from ebhxh.declarations.excel import read_workbook, write_d02_workbook
    from ebhxh.declarations.tests.xlsx_parts import to_shared_strings

    inline = write_d02_workbook(form)
    shared = to_shared_strings(inline)
    for workbook in (inline, shared):
        assert validate_bytes(workbook, filename="D02-TS.xlsx").ok
    with zipfile.ZipFile(io.BytesIO(inline)) as archive:
        sheet_size = archive.getinfo("xl/worksheets/sheet1.xml").file_size
    xlsx_floor = _median_s(lambda: _xlsx_floor(inline))
    xlsx_steps = [
        ("unzip + lxml parse (floor)", xlsx_floor),
        ("read_workbook, inline", _median_s(lambda: read_workbook(inline))),
        (
            "validate_bytes, inline",
            _median_s(lambda: validate_bytes(inline, filename="D02-TS.xlsx")),
        ),
        ("read_workbook, shared", _median_s(lambda: read_workbook(shared))),
        (
            "validate_bytes, shared",
            _median_s(lambda: validate_bytes(shared, filename="D02-TS.xlsx")),
        ),
    ]
    print(
        f"D02-TS xlsx, {ROWS} rows: inline strings {len(inline) / 1e6:.2f} MB, shared strings "
        f"{len(shared) / 1e6:.2f} MB (data sheet {sheet_size / 1e6:.1f} MB unzipped), "
        f"median of {REPEAT} runs"
    )
    print(f"{'step':<26}{'seconds':>9}{'x floor':>9}")
    for name, seconds in xlsx_steps:
        print(f"{name:<26}{seconds:9.3f}{seconds / xlsx_floor:9.1f}")
    slowest = max(xlsx_steps[2][1], xlsx_steps[4][1])
    for name, workbook in (("inline", inline), ("shared", shared)):
        base, peak = _peak_rss(workbook, ".xlsx")
        print(
            f"peak RSS validating the {name} workbook in a fresh process: {peak} MiB (before: {base} MiB)"
        )
    print(f"target from xlsx <= 3 s: {'met' if slowest <= 3 else 'NOT met'} ({slowest:.3f} s)")


def _peak_rss(data: bytes, suffix: str) -> tuple[str, str]:
    """VmHWM before and after validating `data` in a fresh process (MiB)."""
    with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as f:
        f.write(data)
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--rss", f.name], capture_output=True, text=True, check=True
        )
    finally:
        os.unlink(f.name)
    base, peak = out.stdout.split()
    return base, peak


def _xlsx_floor(data: bytes) -> None:
    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    etree.fromstring(sheet, etree.XMLParser(resolve_entities=False, no_network=True))


if __name__ == "__main__":
    main()
