"""Findings: what a check found, where, with a stable code and a Vietnamese and English message.

Every reader, rule and calculator in this package reports problems as Findings (never tracebacks):
the server shows them next to the rows, the offline validator prints them, the API returns them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Location:
    """Where a finding is: the form, the row (1-based, as users count), the field, and the XPath
    in the XML or the sheet and cell in the workbook. Any part may be unknown."""

    form: str | None = None
    row: int | None = None
    field: str | None = None
    xpath: str | None = None
    sheet: str | None = None
    cell: str | None = None

    def describe(self) -> str:
        parts = [
            self.form,
            f"dòng/row {self.row}" if self.row is not None else None,
            self.field,
            f"{self.sheet}!{self.cell}" if self.sheet and self.cell else self.sheet,
            self.xpath,
        ]
        return " · ".join(p for p in parts if p)


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message_vi: str
    message_en: str
    location: Location = field(default_factory=Location)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class DeclarationError(Exception):
    """A file that cannot be read at all (malformed XML, not a workbook, too large…), as a Finding."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(f"{finding.code}: {finding.message_en}")
        self.finding = finding


def error(code: str, vi: str, en: str, **where: Any) -> Finding:
    return Finding(code, "error", vi, en, Location(**where))


def warning(code: str, vi: str, en: str, **where: Any) -> Finding:
    return Finding(code, "warning", vi, en, Location(**where))
