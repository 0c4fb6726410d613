"""Form models: value types, the salary rule, metadata completeness and the FORMS registry.

Also home of `filled()` / `sample()`, synthetic forms with EVERY field set (no real personal data,
vss-domain.md §0.3), used by the codec tests so that each field is encoded, decoded and
validated against the XSD at least once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from decimal import Decimal
from typing import Any

import pytest

from ebhxh.declarations import forms
from ebhxh.declarations.forms import (
    D02TS,
    FORMS,
    D02Header,
    D02Row,
    Month,
    PartialDate,
    salary_basis,
)
from ebhxh.declarations.xmlcodec import SCHEMA_DIR
from ebhxh.signatures.profile import CONTAINERS

# --- synthetic forms with every field set ---------------------------------------------------

_TEXTS = ["Nguyễn Thị Ánh Tuyết", "Trần Văn Đức", "Phạm Ngọc Hằng", "Đặng Quốc Việt"]


def _value(hint: Any, meta: Any, seed: int) -> Any:
    origin = typing.get_origin(hint)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return tuple(filled(item, seed + i) for i in range(2))
    args = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
    kind = args[0]
    if dataclasses.is_dataclass(kind) and kind not in (Month, PartialDate):
        return filled(typing.cast(type, kind), seed)
    if meta.get("choices"):
        choices = meta["choices"]
        return choices[seed % len(choices)]
    if kind is str:
        text = f"{_TEXTS[seed % len(_TEXTS)]} {seed}"
        return text[: meta.get("max_length", 1000)]
    if kind is bool:
        return seed % 2 == 0
    if kind is int:
        return seed + 1
    if kind is Decimal:
        return Decimal(f"{1000000 + seed * 1000}.5") if seed % 2 else Decimal(5310000 + seed)
    if kind is dt.date:
        return dt.date(2026, 1 + seed % 12, 1 + seed % 28)
    if kind is Month:
        return Month(2026, 1 + seed % 12)
    if kind is PartialDate:
        return [PartialDate(1980 + seed % 20, 2, 28), PartialDate(1990, 7), PartialDate(1975)][
            seed % 3
        ]
    raise AssertionError(f"no sample value for {hint}")


def filled(cls: type, seed: int = 0) -> Any:
    """An instance of the model `cls` with every field set (nested records and lists too)."""
    hints = typing.get_type_hints(cls)
    return cls(
        **{
            f.name: _value(hints[f.name], f.metadata, seed + i)
            for i, f in enumerate(dataclasses.fields(cls))
        }
    )


def sample(code: str, rows: int = 2) -> Any:
    """Form `code` with a filled header and `rows` filled rows."""
    spec = FORMS[code]
    header = filled(spec.header_class)
    if spec.row_class is None:
        return spec.form_class(header)
    return spec.form_class(header, [filled(spec.row_class, n * 7) for n in range(rows)])


def minimal_d02_row(**changes: Any) -> D02Row:
    row = D02Row(
        stt=1,
        pa="TM",
        full_name="Lê Thị Thu",
        birth_date=PartialDate(1990, 5, 15),
        position="Kế toán",
        salary=Decimal("6200000"),
        from_month=Month(2026, 7),
    )
    return dataclasses.replace(row, **changes)


def minimal_d02(rows: int = 1) -> D02TS:
    header = D02Header(
        unit_name="Công ty TNHH Thử Nghiệm", unit_code="TN0001A", period=Month(2026, 7)
    )
    return D02TS(header, [minimal_d02_row(stt=n) for n in range(1, rows + 1)])


# --- value types ----------------------------------------------------------------------------


def test_month_parses_and_prints_mm_yyyy():
    assert Month.parse("07/2026") == Month(2026, 7)
    assert str(Month(2026, 7)) == "07/2026"
    assert Month(2026, 1) < Month(2026, 2) < Month(2027, 1)
    assert Month.of(dt.date(2026, 3, 31)).first_day() == dt.date(2026, 3, 1)
    for bad in ("7/2026", "13/2026", "00/2026", "07-2026", "07/26", " 07/2026"):
        with pytest.raises(ValueError):
            Month.parse(bad)
    with pytest.raises(ValueError):
        Month(2026, 13)


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("28/02/1981", PartialDate(1981, 2, 28), 0),
        ("02/1981", PartialDate(1981, 2), 1),
        ("1981", PartialDate(1981), 2),
    ],
)
def test_partial_date_has_the_three_birth_date_precisions(text, value, kind):
    assert PartialDate.parse(text) == value
    assert str(value) == text
    assert value.kind == kind  # the portal's Ccns
    assert (value.as_date() is not None) == (kind == 0)


@pytest.mark.parametrize("bad", ["29/02/1981", "31/04/2000", "13/1990", "1990/01", "28/2/1981", ""])
def test_partial_date_refuses_impossible_dates(bad):
    with pytest.raises(ValueError):
        PartialDate.parse(bad)


def test_partial_date_needs_a_month_for_a_day():
    with pytest.raises(ValueError):
        PartialDate(1990, None, 3)


@pytest.mark.parametrize(
    ("value", "basis"),
    [
        ("5", "coefficient"),
        ("100", "coefficient"),
        ("1E+1", "coefficient"),
        ("2.34", "amount"),  # the portal's rule as written: a decimal point means an amount
        ("101", "amount"),
        ("5310000", "amount"),
    ],
)
def test_salary_basis_follows_the_portal_rule(value, basis):
    assert salary_basis(Decimal(value)) == basis
    assert minimal_d02_row(salary=Decimal(value)).salary_basis == basis
    assert minimal_d02_row(salary=None).salary_basis is None


# --- the models -----------------------------------------------------------------------------


def _models() -> list[type]:
    return [
        obj
        for obj in vars(forms).values()
        if isinstance(obj, type)
        and dataclasses.is_dataclass(obj)
        and obj.__module__ == forms.__name__
        and obj not in (Month, PartialDate, forms.FormSpec)
        and not obj.__name__.endswith("TS")
    ]


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__name__)
def test_every_model_is_frozen_with_slots_and_documented_fields(model):
    assert "__slots__" in vars(model)
    instance = model()
    first = dataclasses.fields(model)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(instance, first, None)
    elements = [f.metadata["xml"] for f in dataclasses.fields(model)]
    assert len(elements) == len(set(elements)), "element names must be unique in a record"
    for f in dataclasses.fields(model):
        assert f.metadata["label_vi"] and f.metadata["label_en"], f.name
        assert f.name.islower() or "_" in f.name, f.name  # English snake_case attributes


def test_d02_row_has_all_27_columns_and_the_portal_fields():
    columns = {f.metadata.get("col") for f in dataclasses.fields(D02Row)}
    assert set(range(1, 28)) <= columns
    portal = {f.metadata.get("portal") for f in dataclasses.fields(D02Row)}
    assert {
        "pa",
        "loai",
        "Hoten",
        "Masobhxh",
        "Ngaysinh",
        "Gioitinh",
        "Cmnd",
        "chucVu",
        "noiLamViec",
        "Maphongban",
        "tienLuong",
        "phuCapCV",
        "phuCapTNVK",
        "phuCapTNNghe",
        "phuCapLuong",
        "phuCapBoSung",
        "tuThang",
        "denThang",
        "tyLeDong",
        "mucHuong",
        "tinhLai",
        "daCoSo",
        "maVungSS",
        "maVungLTT",
        "soToBiaSoBhxh",
        "soToRoiSoBhxh",
        "soTheBHYT",
        "Cogiamchet",
        "Ngaychet",
        "HdldTungay",
        "HdldXdthTungay",
        "HdldXdthDenngay",
        "HdldKhacTungay",
        "HdldKhacDenngay",
        "NndhTungay",
        "NndhDenngay",
        "ghiChu",
        "stt",
        "Nldid",
        "Refid",
    } <= portal
    salary = next(f for f in dataclasses.fields(D02Row) if f.name == "salary")
    assert salary.metadata["col"] == 12
    assert salary.metadata["label_vi"] == "Tiền lương: hệ số hoặc mức lương"
    assert salary.metadata["portal"] == "tienLuong"


def _indicators(*models: type) -> set[str]:
    return {
        f.metadata["indicator"]
        for model in models
        for f in dataclasses.fields(model)
        if "indicator" in f.metadata
    }


def test_tk1_covers_indicators_01_to_19_with_the_adjustment_block_and_household_appendix():
    found = _indicators(forms.TK1Row, forms.TK1Adjustment)
    expected = {f"{n:02d}" for n in range(1, 20)} | {"09.1", "09.2", "09.3"}
    expected |= {"11.1", "11.2", "11.3", "11.4"} | {f"14.{n}" for n in range(1, 6)}
    assert expected <= found
    appendix = {f.name for f in dataclasses.fields(forms.HouseholdAppendix)}
    assert {"household_code", "head_name", "members"} <= appendix
    member = {f.name for f in dataclasses.fields(forms.HouseholdMember)}
    assert {"full_name", "bhxh_code", "birth_date", "gender", "relationship"} <= member


def test_tk3_covers_indicators_01_to_13():
    expected = {f"{n:02d}" for n in range(1, 14) if n != 10} | {"10.1", "10.2"}
    assert expected <= _indicators(forms.TK3Header)


def test_d01_has_its_10_columns():
    assert {f.metadata.get("col") for f in dataclasses.fields(forms.D01Row)} == set(range(1, 11))


@pytest.mark.parametrize("model", [forms.D03Row, forms.D05Row])
def test_d03_and_d05_rows_are_marked_inferred(model):
    assert all(f.metadata["inferred"] for f in dataclasses.fields(model))


@pytest.mark.parametrize("code", list(FORMS))
def test_registry_entries_are_consistent(code):
    spec = FORMS[code]
    assert spec.code == code == spec.form_class.code
    assert spec.container == f"{code}/Cky" == CONTAINERS[code]
    assert (SCHEMA_DIR / spec.xsd).is_file()
    assert spec.version and spec.legal_basis
    header_type = typing.get_type_hints(spec.form_class)["header"]
    assert header_type is spec.header_class
    assert (spec.row_class is None) == (spec.list_element is None) == (spec.row_element is None)


def test_rows_are_stored_as_a_tuple():
    form = D02TS(D02Header(), [minimal_d02_row()])
    assert isinstance(form.rows, tuple)
    assert form == D02TS(D02Header(), (minimal_d02_row(),))


@pytest.mark.parametrize("code", list(FORMS))
def test_samples_set_every_field(code):
    form = sample(code)
    assert all(getattr(form.header, f.name) is not None for f in dataclasses.fields(form.header))
    for row in form.rows:
        assert all(getattr(row, f.name) not in (None, ()) for f in dataclasses.fields(row))
