"""Property tests: the D02-TS round trip over generated rows, and fuzzing of `decode` and
`validate_schema` with random bytes and mutated valid documents (only findings or
DeclarationError may come out, never another exception)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ebhxh.declarations.findings import DeclarationError, Finding
from ebhxh.declarations.forms import D02TS, D02Header, D02Row, Month, PartialDate
from ebhxh.declarations.tests.test_forms import sample
from ebhxh.declarations.xmlcodec import decode, encode, validate_schema

# Text a payroll export may hold: Vietnamese letters with diacritics, any other printable
# Unicode, and odd whitespace (tabs, CR, LF, no-break and ideographic spaces) anywhere.
_VIETNAMESE = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyÀÁẢÃẠẰẮẲẴẶẦẤẨẪẬĐÈÉẺẼẸỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌỒỐỔỖỘỜỚỞỠỢÙÚỦŨỤỪỨỬỮỰỲÝỶỸỴ"
)
_CHARACTERS = st.one_of(
    st.sampled_from(_VIETNAMESE),
    st.sampled_from(" \t\r\n\u00a0\u3000\u200b"),
    # XML 1.0 characters only: no controls, surrogates, private use or unassigned (U+FFFE…).
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Co", "Cn")),
)
_WS = " \t\r\n"
TEXT = st.text(_CHARACTERS, min_size=1, max_size=30).map(
    # Blank text is absent text in the schema: generate None for it so the round trip holds.
    lambda text: text if text.strip(_WS) else None
)


def _strategy(hint: Any, meta: Any) -> st.SearchStrategy[Any]:
    kind = next(a for a in typing.get_args(hint) if a is not type(None))
    if meta.get("choices"):
        return st.sampled_from(meta["choices"])
    if kind is str:
        return TEXT
    if kind is bool:
        return st.booleans()
    if kind is int:
        return st.integers(0, 10**9)
    if kind is Decimal:
        return st.decimals(-(10**12), 10**12, allow_nan=False, allow_infinity=False, places=4)
    if kind is dt.date:
        return st.dates()
    if kind is Month:
        return st.builds(Month, st.integers(1, 9999), st.integers(1, 12))
    if kind is PartialDate:
        return st.one_of(
            st.dates().map(PartialDate.of),
            st.builds(PartialDate, st.integers(1, 9999), st.integers(1, 12)),
            st.builds(PartialDate, st.integers(1, 9999)),
        )
    raise AssertionError(hint)


def _rows(cls: type) -> st.SearchStrategy[Any]:
    hints = typing.get_type_hints(cls)
    return st.builds(
        cls,
        **{
            f.name: st.none() | _strategy(hints[f.name], f.metadata)
            for f in dataclasses.fields(cls)
        },
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=_rows(D02Header), rows=st.lists(_rows(D02Row), max_size=4))
def test_d02_round_trip(header, rows):
    form = D02TS(header, rows)
    data = encode(form)
    decoded, findings = decode(data)
    assert decoded == form
    assert [f for f in findings if f.code != "DECL-MISSING"] == []  # required ones may be None


# --- fuzzing --------------------------------------------------------------------------------


def _only_findings(data: bytes) -> None:
    try:
        _form, findings = decode(data)
    except DeclarationError as exc:
        assert exc.finding.code.startswith("DECL-")
    else:
        assert all(isinstance(f, Finding) and f.code.startswith("DECL-") for f in findings)
    for code in ("D02-TS", "TK1-TS"):
        assert all(f.code.startswith("DECL-") for f in validate_schema(data, code))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_give_only_findings(data):
    _only_findings(data)


@settings(max_examples=150, deadline=None)
@given(st.text(st.sampled_from("<>/=\"' &;!?[]-DTKS02ThongTinDanhSachNguoiCky\n"), max_size=300))
def test_random_xml_like_text_gives_only_findings(text):
    _only_findings(text.encode())


_VALID = [encode(sample("D02-TS", rows=2)), encode(sample("TK1-TS", rows=1))]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(_VALID)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        operation = draw(st.sampled_from(["flip", "delete", "insert", "duplicate", "truncate"]))
        if operation == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif operation == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif operation == "insert":
            snippet = draw(
                st.sampled_from(
                    [b"<", b">", b"</HoTen>", b"<X>", b"&", b"&amp;", b"\xff", b"\x00", b"]]>"]
                )
                | st.binary(max_size=8)
            )
            data[at:at] = snippet
        elif operation == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 200))]
        else:
            del data[at:]
    return bytes(data)


@settings(max_examples=200, deadline=None)
@given(mutated())
def test_mutated_documents_give_only_findings(data):
    _only_findings(data)
