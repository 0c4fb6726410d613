"""Fuzzing the Excel reader: whatever the bytes, only findings or DeclarationError."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ebhxh.declarations.excel import read_d02_workbook, write_d02_workbook
from ebhxh.declarations.findings import DeclarationError
from ebhxh.declarations.forms import D02TS, D02Header, D02Row, Month, PartialDate
from ebhxh.declarations.tests.xlsx_parts import to_shared_strings
from ebhxh.declarations.xmlcodec import decode

VALID = write_d02_workbook(
    D02TS(
        D02Header(unit_name="Đơn vị", unit_code="DM0001A", period=Month(2026, 7)),
        [
            D02Row(
                stt=1,
                pa="TM",
                full_name="Lê Thu Hương",
                birth_date=PartialDate(1981, 2, 28),
                position="Kỹ thuật",
                from_month=Month(2026, 7),
            )
        ],
    )
)
with zipfile.ZipFile(io.BytesIO(VALID)) as _archive:
    MEMBERS = {info.filename: _archive.read(info) for info in _archive.infolist()}
_EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"
_TK1_WORKBOOK = to_shared_strings(
    write_d02_workbook(
        decode((_EXAMPLES / "D02-TS.xml").read_bytes(), expect="D02-TS")[0],  # type: ignore[arg-type]
        decode((_EXAMPLES / "TK1-TS.xml").read_bytes(), expect="TK1-TS")[0],  # type: ignore[arg-type]
    )
)
with zipfile.ZipFile(io.BytesIO(_TK1_WORKBOOK)) as _archive:
    TK1_MEMBERS = {info.filename: _archive.read(info) for info in _archive.infolist()}

FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _read(data: bytes) -> None:
    try:
        form, findings = read_d02_workbook(data)
    except DeclarationError as exc:
        assert exc.finding.code.startswith("DECL-")
    else:
        assert isinstance(form, D02TS) and isinstance(findings, list)


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    _read(data)


@FUZZ
@given(st.integers(min_value=0, max_value=len(VALID)))
def test_truncated(length: int) -> None:
    _read(VALID[:length])


@FUZZ
@given(
    st.sampled_from(sorted(MEMBERS)),
    st.integers(min_value=0, max_value=10_000),
    st.binary(min_size=0, max_size=64),
    st.booleans(),
)
def test_corrupted_member(name: str, position: int, junk: bytes, truncate: bool) -> None:
    content = MEMBERS[name]
    position = min(position, len(content))
    content = content[:position] if truncate else content[:position] + junk + content[position:]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, original in MEMBERS.items():
            archive.writestr(member, content if member == name else original)
    _read(out.getvalue())


@FUZZ
@given(
    st.sampled_from(sorted(TK1_MEMBERS)),
    st.integers(min_value=0, max_value=20_000),
    st.sampled_from(
        [b"<", b"&", b"</c>", b' t="s"', b' t="e"', b' r="ZZZZ1"', b"<f>1</f>", b' s="99"', b"\xff"]
    ),
)
def test_corrupted_tk1_workbook_with_shared_strings(name: str, position: int, junk: bytes) -> None:
    """The workbook with TK1-TS columns and household members, saved with shared strings."""
    content = TK1_MEMBERS[name]
    position = min(position, len(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, original in TK1_MEMBERS.items():
            archive.writestr(
                member,
                content[:position] + junk + content[position:] if member == name else original,
            )
    _read(out.getvalue())


@FUZZ
@given(st.integers(min_value=0, max_value=len(VALID) - 1), st.integers(0, 255))
def test_flipped_byte(position: int, value: int) -> None:
    data = bytearray(VALID)
    data[position] = value
    _read(bytes(data))


_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Co", "Cn")), max_size=30
).filter(lambda s: s.strip() != "" and not s.startswith("~"))
_DECIMAL = st.decimals(
    allow_nan=False, allow_infinity=False, places=3, min_value=-1e9, max_value=1e12
)
_DATE = st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2100, 12, 31))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.builds(
            D02Row,
            stt=st.integers(0, 10**6),
            pa=st.sampled_from(["TM", "GH", "DC", "ZZ"]),
            full_name=_TEXT,
            bhxh_code=st.from_regex(r"[0-9]{10}", fullmatch=True),
            birth_date=st.builds(PartialDate, st.integers(1900, 2026)) | _DATE.map(PartialDate.of),
            gender=st.sampled_from(["0", "1"]),
            position=_TEXT,
            salary=_DECIMAL,
            allowance_salary=_DECIMAL | st.none(),
            note=_TEXT | st.none(),
            contract_fixed_from=_DATE | st.none(),
            from_month=st.builds(Month, st.integers(1990, 2100), st.integers(1, 12)),
            has_book=st.booleans() | st.none(),
            wage_region=st.sampled_from(["01", "02", "03", "04"]) | st.none(),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_round_trip_property(rows: list[D02Row]) -> None:
    form = D02TS(D02Header(unit_name="Đơn vị", unit_code="DM0001A", period=Month(2026, 7)), rows)
    read, findings = read_d02_workbook(write_d02_workbook(form))
    assert findings == []
    assert read == form
    assert [str(r.salary) for r in read.rows] == [str(r.salary) for r in form.rows]
