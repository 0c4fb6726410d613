"""A large single form has its XSD checked in a second thread on the same tree: the report must be
exactly the report of the one-thread path, for valid and invalid files, also under concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from ebhxh.declarations import validator
from ebhxh.declarations.forms import D02TS
from ebhxh.declarations.tests.test_rules import header, row
from ebhxh.declarations.validator import ValidationReport, validate_bytes
from ebhxh.declarations.xmlcodec import encode


def _big_d02(rows: int = 1500) -> bytes:
    body = tuple(
        row(stt=i, full_name=f"Nguyễn Văn {i}", salary=Decimal(6_000_000 + i))
        for i in range(1, rows + 1)
    )
    return encode(D02TS(header(), body))


def _broken(data: bytes) -> bytes:
    # Decoder findings (DECL-NUMBER), schema findings (DECL-SCHEMA) and rule findings, spread out.
    data = data.replace(b"<TienLuong>6000007</TienLuong>", b"<TienLuong>6,000,007</TienLuong>", 1)
    data = data.replace(b"<HoTen>Nguy\xe1\xbb\x85n V\xc4\x83n 900</HoTen>", b"<HoTen></HoTen>", 1)
    return data.replace(b"<TienLuong>6001400</TienLuong>", b"<TienLuong>12</TienLuong>", 1)


def _serial(data: bytes, monkeypatch: pytest.MonkeyPatch) -> ValidationReport:
    with monkeypatch.context() as m:
        m.setattr(validator, "PARALLEL_SCHEMA_BYTES", len(data) + 1)
        return validate_bytes(data)


@pytest.mark.parametrize("broken", [False, True], ids=["valid", "invalid"])
def test_parallel_schema_check_gives_the_serial_report(
    broken: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _big_d02()
    if broken:
        data = _broken(data)
    monkeypatch.setattr(validator, "PARALLEL_SCHEMA_BYTES", 1000)
    assert len(data) > validator.PARALLEL_SCHEMA_BYTES
    parallel = validate_bytes(data)
    serial = _serial(data, monkeypatch)
    assert parallel == serial
    assert parallel.rows_checked == 1500
    if broken:
        assert {"DECL-NUMBER", "DECL-SCHEMA", "DECL-MISSING"} <= {f.code for f in parallel.findings}
        assert not parallel.ok
    else:
        assert parallel.ok, parallel.counts


def test_many_parallel_validations_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _broken(_big_d02(600))
    expected = _serial(data, monkeypatch)
    monkeypatch.setattr(validator, "PARALLEL_SCHEMA_BYTES", 1000)
    with ThreadPoolExecutor(max_workers=4) as pool:
        reports = list(pool.map(lambda _: validate_bytes(data), range(16)))
    assert all(report == expected for report in reports)
