"""The offline validator (issue 4, item 6): one file in, a ValidationReport out.

Pure Python (no Django, no database). Detects what the bytes are: a D02-TS workbook (.xlsx, the
portal's template with the TK1-TS columns and the household sheet, read by ``excel.read_workbook``;
rule findings on it carry the sheet cell as well as the row and field) is decoded and rule-checked,
the D02-TS and each TK1-TS; a dossier envelope (``<Hoso>``, BHXHDienTu.xml) is decoded and each
embedded form XML is decoded, validated against its XSD and checked by the rules, then the dossier
rules run (required forms, periods, late reports needing a D01-TS); a single form XML is decoded,
schema-checked and rule-checked on its own. A large form's XSD check runs in a second thread while
it is decoded and rule-checked (lxml releases the GIL while validating).
Never raises on bad input: a file that cannot be read gives a report with its coded finding.

    from ebhxh.declarations.validator import validate_path
    report = validate_path("D02-TS.xml")
    report.ok, report.counts, report.as_dict()
"""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ebhxh.declarations import rules
from ebhxh.declarations.codes import finding
from ebhxh.declarations.envelope import FORM as ENVELOPE_FORM
from ebhxh.declarations.envelope import ROOT as ENVELOPE_ROOT
from ebhxh.declarations.envelope import decode_envelope
from ebhxh.declarations.findings import DeclarationError, Finding, Location
from ebhxh.declarations.forms import FORMS, Month
from ebhxh.declarations.xmlcodec import MAX_BYTES, decode_tree, parse_xml, validate_schema
from ebhxh.lib import identifiers

_ZIP_MAGIC: Final = b"PK\x03\x04"
# From this size a single form's XSD check runs in a second thread (below it, a thread costs
# more than it saves).
PARALLEL_SCHEMA_BYTES: Final = 1_000_000


def _sort_key(f: Finding) -> tuple[Any, ...]:
    loc = f.location
    return (
        loc.form or "",
        loc.row if loc.row is not None else -1,
        loc.field or "",
        loc.xpath or "",
        f.code,
    )


@dataclass(frozen=True)
class ValidationReport:
    """What the validator found in one file. `ok` when there is no error (warnings allowed)."""

    findings: tuple[Finding, ...]
    forms: tuple[str, ...] = ()
    rows_checked: int = 0
    period: str | None = None
    filename: str | None = None
    ruleset: str | None = None
    procedure: str | None = None

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")

    @property
    def ok(self) -> bool:
        return self.errors == 0

    @property
    def counts(self) -> dict[str, Any]:
        return {
            "errors": self.errors,
            "warnings": self.warnings,
            "by_code": dict(sorted(Counter(f.code for f in self.findings).items())),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "ok": self.ok,
            "period": self.period,
            "procedure": self.procedure,
            "ruleset": self.ruleset,
            "forms": list(self.forms),
            "rows_checked": self.rows_checked,
            "counts": self.counts,
            "findings": [f.as_dict() for f in self.findings],
        }


@dataclass
class _Run:
    filename: str | None
    findings: list[Finding] = field(default_factory=list)
    forms: list[str] = field(default_factory=list)
    rows: int = 0
    period: Month | None = None
    ruleset: str | None = None
    procedure: str | None = None

    def report(self) -> ValidationReport:
        return ValidationReport(
            findings=tuple(sorted(self.findings, key=_sort_key)),
            forms=tuple(self.forms),
            rows_checked=self.rows,
            period=str(self.period) if self.period else None,
            filename=self.filename,
            ruleset=self.ruleset,
            procedure=self.procedure,
        )


def _parse_period(text: str | None, run: _Run) -> Month | None:
    if not text:
        return None
    try:
        return Month.parse(text.strip())
    except ValueError:
        run.findings.append(finding("DECL-MONTH", "(--period)", "(--period)", field="period"))
        return None


def validate_bytes(
    data: bytes,
    *,
    filename: str | None = None,
    period: str | None = None,
    region: int | None = None,
    max_bytes: int = MAX_BYTES,
    schema: bool = True,
) -> ValidationReport:
    """Validate a form XML or a BHXHDienTu.xml envelope.

    `period` (MM/YYYY) overrides the document's declaration period; `region` (1–4) is the unit's
    minimum-wage region for rows without MaVungLtt. Never raises on bad input.
    """
    run = _Run(filename)
    given = _parse_period(period, run)
    try:
        _validate(bytes(data), run, given, region, max_bytes, schema, filename)
    except DeclarationError as exc:
        run.findings.append(exc.finding)
    return run.report()


def validate_path(
    path: str | Path,
    *,
    period: str | None = None,
    region: int | None = None,
    max_bytes: int = MAX_BYTES,
    schema: bool = True,
) -> ValidationReport:
    """`validate_bytes` of a file; an unreadable or oversized file is a finding, not an exception."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DeclarationError(
                finding(
                    "DECL-TOO-LARGE",
                    f"({size} byte, tối đa {max_bytes}).",
                    f"({size} bytes, at most {max_bytes}).",
                )
            )
        data = path.read_bytes()
    except DeclarationError as exc:
        return ValidationReport(findings=(exc.finding,), filename=path.name)
    except OSError as exc:
        bad = finding("DECL-EMPTY", None, f"({exc.strerror or 'cannot read the file'})")
        return ValidationReport(findings=(bad,), filename=path.name)
    return validate_bytes(
        data, filename=path.name, period=period, region=region, max_bytes=max_bytes, schema=schema
    )


def _validate(
    data: bytes,
    run: _Run,
    given: Month | None,
    region: int | None,
    max_bytes: int,
    schema: bool,
    filename: str | None,
) -> None:
    if data.startswith(_ZIP_MAGIC) or (filename or "").lower().endswith((".xlsx", ".xls")):
        _validate_workbook(data, run, given, region, max_bytes)
        return
    root = parse_xml(data, max_bytes=max_bytes)
    tag = root.tag.rsplit("}", 1)[-1] if isinstance(root.tag, str) else ""
    if tag == ENVELOPE_ROOT:
        _validate_envelope(data, root, run, given, region, max_bytes, schema)
        return
    if schema and len(data) >= PARALLEL_SCHEMA_BYTES and root.tag in FORMS:
        # libxml2 checks the XSD without holding the GIL, so on a large file the check runs in
        # a second thread while this one decodes the same tree and applies the rules (0.6 s ->
        # 0.45 s for 10,000 rows on two cores; docs/benchmarks.md). Both only read the tree:
        # the decoder creates lxml proxies (which sets a pointer libxml2's validator never
        # reads) and the validator writes only to its own context (attribute defaults off).
        structure = _schema_pool().submit(validate_schema, root, root.tag)
        try:
            _validate_form(root, run, given, region)
        finally:
            found = structure.result()
        run.findings.extend(found)
        return
    _validate_form(root, run, given, region, schema=schema)


_POOL: list[ThreadPoolExecutor] = []


def _schema_pool() -> ThreadPoolExecutor:
    """Long-lived threads for XSD checks (compiled schemas are cached per thread)."""
    if not _POOL:
        _POOL.append(
            ThreadPoolExecutor(
                max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="ebhxh-xsd"
            )
        )
    return _POOL[0]


# A forked child (gunicorn, Celery prefork) must not inherit the parent's pool: its thread is gone.
os.register_at_fork(after_in_child=_POOL.clear)


def _validate_form(
    root: Any, run: _Run, given: Month | None, region: int | None, *, schema: bool = False
) -> None:
    form, form_findings = decode_tree(root)
    run.findings.extend(form_findings)
    if schema:
        run.findings.extend(validate_schema(root, form.code))
    run.period = given or getattr(form.header, "period", None)
    run.forms.append(form.code)
    run.rows += len(form.rows)
    ctx = rules.Context(period=run.period, region=region)
    _check(form, ctx, run)


def _validate_workbook(
    data: bytes, run: _Run, given: Month | None, region: int | None, max_bytes: int
) -> None:
    """A D02-TS workbook (the portal's Excel template), through ebhxh.declarations.excel: the
    D02-TS and the TK1-TS its rows carry (new participants, identity corrections)."""
    try:
        from ebhxh.declarations.excel import read_workbook
    except ImportError:  # openpyxl not installed
        run.findings.append(rules.rule_finding("RULE-FILE-TYPE", "(Excel)", "(Excel)"))
        return
    workbook = read_workbook(data, max_bytes=max_bytes)
    run.findings.extend(workbook.findings)
    run.period = given or workbook.d02.header.period
    ctx = rules.Context(period=run.period, region=region)
    first_rule = len(run.findings)
    for form in workbook.forms:
        run.forms.append(form.code)
        run.rows += len(form.rows)
        _check(form, ctx, run)
    # Rule findings name the form row; on a workbook the user needs the cell. A TK1-TS finding
    # that repeats a D02-TS one (same identity cells, same header) is dropped.
    run.findings[first_rule:] = workbook.locate(run.findings[first_rule:])


def _check(form: Any, ctx: rules.Context, run: _Run) -> None:
    ruleset, found = rules.ruleset_for(ctx.period)
    run.ruleset = ruleset.version
    run.findings.extend(
        Finding(f.code, f.severity, f.message_vi, f.message_en, Location(form=form.code))
        for f in found
    )
    if ctx.period is None and form.rows:
        run.findings.append(rules.rule_finding("RULE-PERIOD-UNKNOWN", form=form.code))
    run.findings.extend(ruleset.check_form(form, ctx))


def _validate_envelope(
    data: bytes,
    root: Any,
    run: _Run,
    given: Month | None,
    region: int | None,
    max_bytes: int,
    schema: bool,
) -> None:
    envelope, found = decode_envelope(data, max_bytes=max_bytes)
    run.findings.extend(found)
    if schema:
        run.findings.extend(validate_schema(root, ENVELOPE_FORM))
    run.forms.append(ENVELOPE_FORM)
    run.period = given or envelope.period
    run.procedure = envelope.procedure_code
    unit = envelope.unit
    for attr, check, element in (
        ("code", identifiers.check_unit_code, "MaSoBHXH"),
        ("tax_code", identifiers.check_tax_code, "MaSoThue"),
    ):
        value = getattr(unit, attr)
        if value:
            where = Location(
                form=ENVELOPE_FORM,
                field=f"unit.{attr}",
                xpath=f"/Hoso/NoiDung/ThongTinDonVi/{element}",
            )
            run.findings.extend(
                Finding(f.code, f.severity, f.message_vi, f.message_en, where)
                for f in check(value).findings
            )

    codes = [f.form_code for f in envelope.files if f.form_code]
    ctx = rules.Context(period=run.period, region=region, dossier_forms=frozenset(codes))
    decoded: list[tuple[str, Any]] = []
    for file in envelope.files:
        code = file.form_code
        if file.content is None or code is None or code not in FORMS:
            continue  # broken base64 is already a finding; attachments (CT-DK) are not read
        if (file.file_type or ".xml").lower() != ".xml":
            continue
        try:
            form_root = parse_xml(file.content, max_bytes=max_bytes, form=code)
            form, form_findings = decode_tree(form_root, expect=code)
        except DeclarationError as exc:
            run.findings.append(exc.finding)
            continue
        run.findings.extend(form_findings)
        if schema:
            run.findings.extend(validate_schema(form_root, code))
        run.forms.append(code)
        run.rows += len(form.rows)
        decoded.append((code, form))
        _check(form, ctx, run)
    run.findings.extend(
        rules.check_dossier(
            procedure_code=envelope.procedure_code,
            form_codes=codes,
            forms=decoded,
            period=envelope.period,
            unit_code=unit.code,
            ctx=ctx,
        )
    )
