"""XML codecs for the declaration forms: ebhxh's own, versioned form schemas (vss-domain.md §12.3).

Pure Python (no Django). Layout of every form file:

    <?xml version="1.0" encoding="UTF-8"?>
    <D02-TS>                          root = the form code (MaToKhai)
      <ThongTinDonVi>…</ThongTinDonVi> the header
      <DanhSach>                       the rows (not in TK3-TS)
        <NguoiLaoDong>…</NguoiLaoDong>
      </DanhSach>
      <Cky/>                           the signature slot, last (ds:Signature goes here)
    </D02-TS>

Dates are dd/mm/yyyy, months MM/YYYY, decimals plain ("5310000", "2.34"), booleans 0/1. An
absent value is an absent element; an empty or blank element reads as absent too.

    data = encode(form)                              # bytes, UTF-8 with an XML declaration
    form, findings = decode(data)                    # DeclarationError if unreadable
    findings += validate_schema(data, "D02-TS")      # the committed XSD (schemas/*.xsd)

`decode` never raises on bad input except `DeclarationError` for a file that cannot be read
as a form at all; value problems come back as Findings with the row, the field and the XPath,
and the row is kept with that field None, so a validator can report every problem at once.
The element names are ebhxh's; a real VSS schema, once published, gets its own codec behind
the same functions (the models stay).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import threading
import types
import typing
from dataclasses import dataclass, fields, is_dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from lxml import etree

from ebhxh.declarations.codes import fail, finding
from ebhxh.declarations.findings import DeclarationError, Finding
from ebhxh.declarations.forms import FORMS, Form, FormSpec, Month, PartialDate
from ebhxh.signatures.errors import SignatureError
from ebhxh.signatures.xmldsig import parse_secure

Element = Any  # lxml.etree._Element; lxml ships no type information

MAX_BYTES: Final = 50 * 1024 * 1024
SCHEMA_DIR: Final = Path(__file__).resolve().parent / "schemas"
SIGNATURE_SLOT: Final = "Cky"
DS_NS: Final = "http://www.w3.org/2000/09/xmldsig#"
XML_DECLARATION: Final = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# Root element -> XSD file, for validate_schema: the forms and the envelope.
SCHEMAS: Final[dict[str, str]] = {
    **{code: spec.xsd for code, spec in FORMS.items()},
    "Hoso": "BHXHDienTu.xsd",
    "BHXHDienTu": "BHXHDienTu.xsd",
}

# --- reading bytes safely -------------------------------------------------------------------

_BLANK = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*")
_DECLARED_ENCODING = re.compile(
    rb"(?:\xef\xbb\xbf)?[ \t\r\n]*<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)[\"']"
)
_LINE = re.compile(r"line (\d+)")


def parse_xml(data: bytes, *, max_bytes: int = MAX_BYTES, form: str | None = None) -> Element:
    """The root of untrusted XML bytes, or DeclarationError (DECL-EMPTY, DECL-TOO-LARGE,
    DECL-ENCODING, DECL-XML-DOCTYPE, DECL-XML-MALFORMED). UTF-8 only; a BOM is fine."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("parse_xml() takes bytes")
    data = bytes(data)
    if _BLANK.fullmatch(data):
        raise fail("DECL-EMPTY", form=form)
    if len(data) > max_bytes:
        raise fail(
            "DECL-TOO-LARGE",
            f"({len(data)} byte, tối đa {max_bytes}).",
            f"({len(data)} bytes, at most {max_bytes}).",
            form=form,
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise fail("DECL-ENCODING", "(tệp UTF-16)", "(the file is UTF-16)", form=form)
    if b"\x00" in data:  # never in UTF-8 XML; typical of UTF-16/32 without a BOM
        raise fail("DECL-ENCODING", "(có byte NUL)", "(NUL bytes)", form=form)
    declared = _DECLARED_ENCODING.match(data, 0, 512)
    if declared and declared[1].decode("ascii", "replace").lower() not in {"utf-8", "utf8"}:
        raise fail(
            "DECL-ENCODING",
            "(khai báo mã hoá khác UTF-8)",
            "(the XML declaration names another encoding)",
            form=form,
        )
    try:
        return parse_secure(data)
    except SignatureError as exc:
        failure = exc
    # libxml2 refuses bytes that are not UTF-8; say so in words a user can act on. (Checked
    # only on failure: decoding 6 MB just to check it costs a tenth of the whole decode.)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as bad:
        raise fail(
            "DECL-ENCODING",
            f"(byte {bad.start} không phải UTF-8)",
            f"(byte {bad.start} is not UTF-8)",
            form=form,
        ) from None
    line = _LINE.search(failure.detail)
    where = f"(dòng {line[1]})" if line else None
    code = "DECL-XML-DOCTYPE" if failure.code == "SIG-XML-DOCTYPE" else "DECL-XML-MALFORMED"
    raise fail(code, where, f"({failure.detail})" if failure.detail else None, form=form)


# --- the model description the codec works from ---------------------------------------------

_TEXT, _CODE, _INT, _DECIMAL, _BOOL = "text", "code", "int", "decimal", "bool"
_DATE, _MONTH, _PARTIAL, _RECORD, _LIST = "date", "month", "partial", "record", "list"

# Values may carry XML whitespace around them (the XSD collapses it); nothing else is trimmed.
_WS = " \t\r\n"
_INTEGER = re.compile(r"[ \t\r\n]*([0-9]+)[ \t\r\n]*")
_NUMBER = re.compile(r"[ \t\r\n]*(-?[0-9]+(?:\.[0-9]+)?)[ \t\r\n]*")
_DATE_TEXT = re.compile(r"[ \t\r\n]*([0-9]{2})/([0-9]{2})/([0-9]{4})[ \t\r\n]*")


# The parsers take the element's text and raise ValueError; results are immutable, so the
# values that repeat from row to row (periods, dates, salaries, codes) are parsed once.
@functools.lru_cache(maxsize=4096)
def _parse_date(text: str) -> dt.date:
    match = _DATE_TEXT.fullmatch(text)
    if not match:
        raise ValueError
    return dt.date(int(match[3]), int(match[2]), int(match[1]))


def _parse_int(text: str) -> int:
    if text.isascii() and text.isdigit():
        return int(text)
    match = _INTEGER.fullmatch(text)
    if not match:
        raise ValueError
    return int(match[1])


@functools.lru_cache(maxsize=4096)
def _parse_decimal(text: str) -> Decimal:
    match = _NUMBER.fullmatch(text)
    if not match:
        raise ValueError
    return Decimal(match[1])


@functools.lru_cache(maxsize=256)
def _parse_bool(text: str) -> bool:
    text = text.strip(_WS)
    if text == "1":
        return True
    if text == "0":
        return False
    raise ValueError


@functools.lru_cache(maxsize=1024)
def _parse_month(text: str) -> Month:
    return Month.parse(text.strip(_WS))


@functools.lru_cache(maxsize=4096)
def _parse_partial(text: str) -> PartialDate:
    return PartialDate.parse(text.strip(_WS))


def _code_parser(choices: frozenset[str]) -> Any:
    @functools.lru_cache(maxsize=256)
    def parse(text: str) -> str:
        value = text.strip(_WS)
        if value not in choices:
            raise ValueError
        return value

    return parse


_PARSERS: dict[str, Any] = {
    _INT: _parse_int,
    _DECIMAL: _parse_decimal,
    _BOOL: _parse_bool,
    _DATE: _parse_date,
    _MONTH: _parse_month,
    _PARTIAL: _parse_partial,
}
# Finding code and what was expected, per kind of value.
_PROBLEM: dict[str, tuple[str, str | None, str | None]] = {
    _INT: ("DECL-NUMBER", "Cần số nguyên.", "A whole number is expected."),
    _DECIMAL: ("DECL-NUMBER", None, None),
    _BOOL: ("DECL-CODE", "Cần 0 hoặc 1.", "0 or 1 is expected."),
    _DATE: ("DECL-DATE", None, None),
    _MONTH: ("DECL-MONTH", None, None),
    _PARTIAL: (
        "DECL-DATE",
        "Cần dd/mm/yyyy, mm/yyyy hoặc yyyy.",
        "dd/mm/yyyy, mm/yyyy or yyyy is expected.",
    ),
}
# The parser of a nested record or of one item of a repeated record (a marker, never called).
_NESTED: Final = object()
_BAD: Final = object()  # a value that could not be read (reported; the field stays None)


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    element: str
    kind: str
    required: bool
    choices: frozenset[str] | None
    record: _Record | None  # the nested record (kind record) or the item record (kind list)

    def problem(self) -> tuple[str, str | None, str | None]:
        if self.kind == _CODE:
            allowed = ", ".join(sorted(self.choices or ()))
            return ("DECL-CODE", f"Giá trị cho phép: {allowed}.", f"Allowed: {allowed}.")
        return _PROBLEM[self.kind]


@dataclass(frozen=True, slots=True)
class _Record:
    cls: type[Any]
    fields: tuple[_Field, ...]
    by_element: dict[str, _Field]
    required: tuple[_Field, ...]
    nested: bool  # has record or list fields
    # element -> (attribute, parser, field): what the decoder's inner loop needs. The parser
    # is None for text (kept as written) and _NESTED for a record or a list item.
    table: dict[str, tuple[str, Any, _Field]]


_SCALARS: dict[Any, str] = {
    str: _TEXT,
    int: _INT,
    Decimal: _DECIMAL,
    bool: _BOOL,
    dt.date: _DATE,
    Month: _MONTH,
    PartialDate: _PARTIAL,
}


_RECORDS: dict[type[Any], _Record] = {}


def _record(cls: type[Any]) -> _Record:
    """The codec's description of a model class (computed once per class)."""
    record = _RECORDS.get(cls)
    if record is None:
        record = _RECORDS[cls] = _describe_class(cls)
    return record


def _describe_class(cls: type[Any]) -> _Record:
    hints = typing.get_type_hints(cls)
    specs = []
    for f in fields(cls):
        hint = hints[f.name]
        meta = f.metadata
        nested: _Record | None = None
        if typing.get_origin(hint) is tuple:
            kind, nested = _LIST, _record(typing.get_args(hint)[0])
        else:
            if typing.get_origin(hint) in (typing.Union, types.UnionType):
                (hint,) = [a for a in typing.get_args(hint) if a is not type(None)]
            if is_dataclass(hint) and hint not in _SCALARS:
                kind, nested = _RECORD, _record(typing.cast(type[Any], hint))
            else:
                kind = _SCALARS[hint]
        choices = meta.get("choices")
        if kind == _TEXT and choices:
            kind = _CODE
        specs.append(
            _Field(
                f.name,
                meta["xml"],
                kind,
                bool(meta.get("required")),
                frozenset(choices) if choices else None,
                nested,
            )
        )
    table: dict[str, tuple[str, Any, _Field]] = {}
    for spec in specs:
        if spec.kind == _TEXT:
            parser = None
        elif spec.kind == _CODE:
            parser = _code_parser(typing.cast(frozenset[str], spec.choices))
        elif spec.kind in (_RECORD, _LIST):
            parser = _NESTED
        else:
            parser = _PARSERS[spec.kind]
        table[spec.element] = (spec.name, parser, spec)
    return _Record(
        cls,
        tuple(specs),
        {s.element: s for s in specs},
        tuple(s for s in specs if s.required),
        any(s.kind in (_RECORD, _LIST) for s in specs),
        table,
    )


# --- decoding -------------------------------------------------------------------------------


class _Context:
    """Where the walk is, to place findings (built only when there is something to report)."""

    __slots__ = ("findings", "form")

    def __init__(self, form: str) -> None:
        self.form = form
        self.findings: list[Finding] = []

    def add(
        self,
        code: str,
        row: int | None,
        field: str | None,
        xpath: str,
        detail_vi: str | None = None,
        detail_en: str | None = None,
    ) -> None:
        self.findings.append(
            finding(code, detail_vi, detail_en, form=self.form, row=row, field=field, xpath=xpath)
        )


def _mixed_text(element: Element) -> str | None:
    """The text of a value element that has children: comments and processing instructions
    are skipped; element children raise ValueError (a value is text, not structure)."""
    if any(isinstance(child.tag, str) for child in element):
        raise ValueError
    return "".join(element.itertext()) or None


def _decode_record(
    element: Element, record: _Record, ctx: _Context, row: int | None, path: str, prefix: str
) -> Any:
    """The dataclass of `record` from `element` (at XPath `path`); findings into `ctx`.

    The loop runs once per value of a 10,000-row file: the common case is one dictionary
    look-up, one text and one cached parse; everything unusual goes to `_decode_odd`.
    """
    values: dict[str, Any] = {}
    table = record.table
    odd = False  # a bad value was seen: values holds _BAD markers to drop
    for child in element:
        entry = table.get(child.tag)
        if entry is None:
            _decode_odd(child, None, values, ctx, row, path, prefix)
            continue
        name, parse, spec = entry
        if parse is _NESTED or name in values:
            _decode_odd(child, spec, values, ctx, row, path, prefix)
            continue
        text = child.text
        if len(child):
            try:
                text = _mixed_text(child)
            except ValueError:
                values[name] = _BAD
                odd = True
                ctx.add("DECL-STRUCTURE", row, prefix + name, f"{path}/{spec.element}")
                continue
        if text is None:
            continue
        if parse is None:
            if text.strip(_WS):
                values[name] = text
            continue
        try:
            values[name] = parse(text)
        except (ValueError, ArithmeticError):
            if text.strip(_WS):
                values[name] = _BAD
                odd = True
                code, vi, en = spec.problem()
                ctx.add(code, row, prefix + name, f"{path}/{spec.element}", vi, en)
    for spec in record.required:
        if spec.name not in values:
            ctx.add("DECL-MISSING", row, prefix + spec.name, f"{path}/{spec.element}")
    if odd or record.nested:
        values = {
            name: tuple(value) if value.__class__ is list else value
            for name, value in values.items()
            if value is not _BAD
        }
    return record.cls(**values)


def _decode_odd(
    child: Element,
    spec: _Field | None,
    values: dict[str, Any],
    ctx: _Context,
    row: int | None,
    path: str,
    prefix: str,
) -> None:
    """The rare cases of `_decode_record`: unknown elements, duplicates, nested records."""
    tag = child.tag
    if spec is None:
        if tag.__class__ is str:  # not a comment or processing instruction
            ctx.add("DECL-UNKNOWN", row, None, f"{path}/{_local(tag)}")
        return
    name, nested = spec.name, typing.cast(_Record, spec.record)
    if spec.kind == _LIST:
        items = values.setdefault(name, [])
        index = len(items) + 1
        where = (f"{path}/{tag}[{index}]", f"{prefix}{name}[{index}].")
        items.append(_decode_record(child, nested, ctx, row, *where))
    elif name in values:
        ctx.add("DECL-DUPLICATE", row, prefix + name, f"{path}/{tag}")
    else:
        values[name] = _decode_record(child, nested, ctx, row, f"{path}/{tag}", f"{prefix}{name}.")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def decode(
    data: bytes, *, expect: str | None = None, max_bytes: int = MAX_BYTES
) -> tuple[Form, list[Finding]]:
    """The form in `data` and what is wrong with its values.

    Raises DeclarationError (only) when the file cannot be read as a form: DECL-EMPTY,
    DECL-TOO-LARGE, DECL-ENCODING, DECL-XML-DOCTYPE, DECL-XML-MALFORMED, DECL-ROOT (unknown
    root element, or not `expect` when given). The signature in <Cky> is not looked at here.
    """
    root = parse_xml(data, max_bytes=max_bytes, form=expect)
    return decode_tree(root, expect=expect)


def decode_tree(root: Element, *, expect: str | None = None) -> tuple[Form, list[Finding]]:
    """`decode` for an already parsed (trusted-parser) root, e.g. `xmldsig.verify(...).root`."""
    tag = root.tag
    spec = FORMS.get(tag) if isinstance(tag, str) else None
    if spec is None or (expect is not None and tag != expect):
        name = _local(tag) if isinstance(tag, str) else "?"
        wanted = expect or ", ".join(FORMS)
        raise fail(
            "DECL-ROOT",
            f"(gốc <{name}>, cần {wanted})",
            f"(root <{name}>, expected {wanted})",
            form=expect,
            xpath=f"/{name}",
        )
    code = spec.code
    ctx = _Context(code)
    header_el = list_el = None
    for child in root:
        child_tag = child.tag
        if child_tag.__class__ is not str:
            continue
        if child_tag == spec.header_element and header_el is None:
            header_el = child
        elif child_tag == spec.list_element and list_el is None:
            list_el = child
        elif child_tag == SIGNATURE_SLOT:
            continue
        elif child_tag in (spec.header_element, spec.list_element):
            ctx.add("DECL-DUPLICATE", None, None, f"/{code}/{child_tag}")
        else:
            ctx.add("DECL-UNKNOWN", None, None, f"/{code}/{_local(child_tag)}")
    header_record = _record(spec.header_class)
    if header_el is None:
        ctx.add("DECL-MISSING", None, "header", f"/{code}/{spec.header_element}")
        header = spec.header_class()
    else:
        header = _decode_record(
            header_el, header_record, ctx, None, f"/{code}/{spec.header_element}", "header."
        )
    rows: list[Any] = []
    if spec.row_class is not None:
        if list_el is None:
            ctx.add("DECL-MISSING", None, "rows", f"/{code}/{spec.list_element}")
        else:
            rows = _decode_rows(list_el, spec, ctx)
    form = spec.form_class(header, tuple(rows)) if spec.row_class else spec.form_class(header)
    return form, ctx.findings


def _decode_rows(list_el: Element, spec: FormSpec, ctx: _Context) -> list[Any]:
    record = _record(typing.cast(type[Any], spec.row_class))
    row_element = spec.row_element
    base = f"/{spec.code}/{spec.list_element}"
    rows = []
    number = 0
    for child in list_el:
        tag = child.tag
        if tag.__class__ is not str:
            continue
        if tag != row_element:
            ctx.add("DECL-UNKNOWN", None, None, f"{base}/{_local(tag)}")
            continue
        number += 1
        rows.append(
            _decode_record(child, record, ctx, number, f"{base}/{row_element}[{number}]", "")
        )
    return rows


# --- encoding -------------------------------------------------------------------------------


def _format(kind: str, value: Any) -> str:
    if kind in (_TEXT, _CODE):
        if not isinstance(value, str):
            raise TypeError(f"expected str, got {type(value).__name__}")
        return value
    if kind == _DECIMAL:
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise TypeError(f"expected Decimal, got {type(value).__name__}")
        value = Decimal(value)
        if not value.is_finite():
            raise ValueError("not a finite number")
        return format(value, "f")
    if kind == _INT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected int, got {type(value).__name__}")
        if value < 0:
            raise ValueError("negative whole number")
        return str(value)
    if kind == _BOOL:
        if not isinstance(value, bool):
            raise TypeError(f"expected bool, got {type(value).__name__}")
        return "1" if value else "0"
    if kind == _DATE:
        if not isinstance(value, dt.date):
            raise TypeError(f"expected date, got {type(value).__name__}")
        return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"
    if not isinstance(value, Month | PartialDate):
        raise TypeError(f"expected Month or PartialDate, got {type(value).__name__}")
    return str(value)


def _encode_record(
    parent: Element, element: str, obj: Any, record: _Record, form: str, path: str, prefix: str
) -> None:
    node = etree.SubElement(parent, element)
    for spec in record.fields:
        value = getattr(obj, spec.name)
        if value is None:
            continue
        if spec.kind == _LIST:
            item_record = typing.cast(_Record, spec.record)
            for index, item in enumerate(value, 1):
                _encode_record(
                    node,
                    spec.element,
                    item,
                    item_record,
                    form,
                    f"{path}/{spec.element}[{index}]",
                    f"{prefix}{spec.name}[{index}].",
                )
            continue
        if spec.kind == _RECORD:
            _encode_record(
                node,
                spec.element,
                value,
                typing.cast(_Record, spec.record),
                form,
                f"{path}/{spec.element}",
                f"{prefix}{spec.name}.",
            )
            continue
        where = {"form": form, "field": prefix + spec.name, "xpath": f"{path}/{spec.element}"}
        try:
            text = _format(spec.kind, value)
        except ValueError:
            raise fail("DECL-NUMBER", **where) from None
        except TypeError as exc:
            raise TypeError(f"{form} {prefix}{spec.name}: {exc}") from None
        if spec.kind == _TEXT and not text.strip(_WS):
            continue  # blank text is absent text
        child = etree.SubElement(node, spec.element)
        try:
            child.text = text
        except (ValueError, UnicodeError):
            raise fail("DECL-CHAR", **where) from None


def encode(form: Form) -> bytes:
    """The form as UTF-8 XML in ebhxh's schema, with an empty <Cky/> slot for the signature.

    Blank strings are left out (they read back as None). Raises DeclarationError (DECL-CHAR)
    for text XML cannot carry (control characters), DECL-NUMBER for NaN/infinite decimals or
    negative counts, and TypeError for a value of the wrong Python type.
    """
    spec = FORMS.get(getattr(form, "code", ""))
    if spec is None or not isinstance(form, spec.form_class):
        raise TypeError(f"encode() takes a form model, got {type(form).__name__}")
    code = spec.code
    root = etree.Element(code)
    _encode_record(
        root,
        spec.header_element,
        form.header,
        _record(spec.header_class),
        code,
        f"/{code}/{spec.header_element}",
        "header.",
    )
    if spec.row_class is not None:
        record = _record(spec.row_class)
        list_element, row_element = typing.cast(
            tuple[str, str], (spec.list_element, spec.row_element)
        )
        rows = etree.SubElement(root, list_element)
        base = f"/{code}/{list_element}/{row_element}"
        for number, row in enumerate(form.rows, 1):
            if not isinstance(row, spec.row_class):
                raise TypeError(f"{code} row {number}: expected {spec.row_class.__name__}")
            _encode_record(rows, row_element, row, record, code, f"{base}[{number}]", "")
    etree.SubElement(root, SIGNATURE_SLOT)
    body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=False, pretty_print=True)
    return XML_DECLARATION + body


# --- XSD validation -------------------------------------------------------------------------

_local_schemas = threading.local()
# libxml2 quotes the offending value in some messages; findings never repeat values (§0.3).
_QUOTED_VALUE = (
    (re.compile(r"The value '.*' (is not|has)"), r"The value \1"),
    (
        re.compile(r"(Element '[^']*'): '.*' is not a valid value"),
        r"\1: the value is not a valid value",
    ),
)


def _schema(filename: str) -> etree.XMLSchema:
    # One compiled schema per thread: a validator keeps its error log between calls.
    cache: dict[str, etree.XMLSchema] | None = getattr(_local_schemas, "cache", None)
    if cache is None:
        cache = _local_schemas.cache = {}
    schema = cache.get(filename)
    if schema is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        document = etree.parse(str(SCHEMA_DIR / filename), parser)
        schema = cache[filename] = etree.XMLSchema(document)
    return schema


def _redact(message: str) -> str:
    for pattern, replacement in _QUOTED_VALUE:
        message = pattern.sub(replacement, message)
    return message


_STEP = re.compile(r"([^/\[]+)(?:\[(\d+)\])?")


def _where(code: str, path: str | None) -> dict[str, Any]:
    """Row and field (model attribute path) of an lxml error path such as
    `/D02-TS/DanhSach/NguoiLaoDong[3]/NgaySinh`."""
    spec = FORMS.get(code)
    if spec is None or not path:
        return {}
    steps = [_STEP.fullmatch(step) for step in path.strip("/").split("/")]
    if not all(steps) or len(steps) < 2:
        return {}
    names = [(m[1], int(m[2]) if m[2] else 1) for m in steps if m]
    row: int | None = None
    if names[1][0] == spec.header_element:
        record: _Record | None = _record(spec.header_class)
        rest, attrs = names[2:], ["header"]
    elif names[1][0] == spec.list_element and spec.row_class and len(names) > 2:
        record, row = _record(spec.row_class), names[2][1]
        rest, attrs = names[3:], []
    else:
        return {}
    for name, index in rest:
        field_spec = record.by_element.get(name) if record else None
        if field_spec is None:
            break
        attrs.append(f"{field_spec.name}[{index}]" if field_spec.kind == _LIST else field_spec.name)
        record = field_spec.record
    return {"row": row, "field": ".".join(attrs) or None}


def validate_schema(
    root_or_bytes: Element | bytes, form_code: str, *, max_findings: int = 1000
) -> list[Finding]:
    """Findings (DECL-SCHEMA, with line and XPath) for where the document departs from the XSD
    of `form_code` (a form code, or "BHXHDienTu" for the envelope). Bytes are parsed safely
    first; a file that cannot be read gives its one file-level finding. Never raises on bad
    input. At most `max_findings` findings, then DECL-TRUNCATED."""
    filename = SCHEMAS.get(form_code)
    if filename is None:
        return [finding("DECL-FORM", form=form_code)]
    if isinstance(root_or_bytes, bytes | bytearray | memoryview):
        try:
            root = parse_xml(bytes(root_or_bytes), form=form_code)
        except DeclarationError as exc:
            return [exc.finding]
    else:
        root = root_or_bytes
    schema = _schema(filename)
    if schema.validate(root):
        return []
    findings: list[Finding] = []
    for error in schema.error_log:
        if len(findings) >= max_findings:
            findings.append(finding("DECL-TRUNCATED", form=form_code))
            break
        message = _redact(error.message)
        line = f"Dòng {error.line}: " if error.line else ""
        line_en = f"Line {error.line}: " if error.line else ""
        findings.append(
            finding(
                "DECL-SCHEMA",
                f"{line}{message}",
                f"{line_en}{message}",
                form=form_code,
                xpath=error.path,
                **_where(form_code, error.path),
            )
        )
    return findings


# --- the XSDs: rendered from the models, committed under schemas/ ---------------------------

XS_NS: Final = "http://www.w3.org/2001/XMLSchema"
_XS = f"{{{XS_NS}}}"
_DATE_PATTERN = r"(0[1-9]|[12][0-9]|3[01])/(0[1-9]|1[0-2])/[0-9]{4}"
_MONTH_PATTERN = r"(0[1-9]|1[0-2])/[0-9]{4}"
# Simple types: name -> (pattern, collapse whitespace). Each also exists as "<name>Opt", which
# accepts an empty element (read as absent) for optional fields.
_SIMPLE_TYPES: Final[dict[str, tuple[str | None, bool]]] = {
    "Text": (r"[\s\S]*\S[\s\S]*", False),
    "Integer": (r"[0-9]+", True),
    "Decimal": (r"-?[0-9]+(\.[0-9]+)?", True),
    "Bool": (r"[01]", True),
    "Date": (_DATE_PATTERN, True),
    "Month": (_MONTH_PATTERN, True),
    "PartialDate": (rf"{_DATE_PATTERN}|{_MONTH_PATTERN}|[0-9]{{4}}", True),
}
_TYPE_OF_KIND = {
    _TEXT: "Text",
    _CODE: "Text",
    _INT: "Integer",
    _DECIMAL: "Decimal",
    _BOOL: "Bool",
    _DATE: "Date",
    _MONTH: "Month",
    _PARTIAL: "PartialDate",
}


def _xs(parent: Element | None, tag_name: str, **attrib: str) -> Element:
    tag = f"{_XS}{tag_name}"
    if parent is None:
        return etree.Element(tag, attrib, nsmap={"xs": XS_NS})
    return etree.SubElement(parent, tag, attrib)


def _documentation(parent: Element, text: str) -> None:
    _xs(_xs(parent, "annotation"), "documentation").text = text


def _describe(meta: Any) -> str:
    where = []
    if "col" in meta:
        where.append(f"cột/column {meta['col']}")
    if "indicator" in meta:
        where.append(f"[{meta['indicator']}]")
    text = f"{meta['label_vi']} / {meta['label_en']}"
    if where:
        text = f"{', '.join(where)}: {text}"
    if "portal" in meta:
        text += f" (portal: {meta['portal']} [{meta['portal_confidence']}])"
    if meta.get("inferred"):
        text += " [inferred]"
    return text


def _render_record(schema: Element, record: _Record, done: set[type[Any]]) -> None:
    if record.cls in done:
        return
    done.add(record.cls)
    complex_type = _xs(schema, "complexType", name=record.cls.__name__)
    # xs:all: any order, as the decoder reads it, and libxml2 then reports every bad value of
    # a row instead of stopping at the first element out of sequence. XSD 1.0 allows no
    # repeated element in xs:all, so a record with a list (the household appendix) is a
    # sequence, its list last.
    has_list = any(spec.kind == _LIST for spec in record.fields)
    sequence = _xs(complex_type, "sequence" if has_list else "all")
    nested: list[_Record] = []
    metadata = {f.name: f.metadata for f in fields(record.cls)}
    for spec in record.fields:
        meta = metadata[spec.name]
        attrib = {"name": spec.element}
        if spec.kind in (_RECORD, _LIST):
            sub = typing.cast(_Record, spec.record)
            nested.append(sub)
            attrib.update(type=sub.cls.__name__, minOccurs="0")
            if spec.kind == _LIST:
                attrib["maxOccurs"] = "unbounded"
            _documentation(_xs(sequence, "element", **attrib), _describe(meta))
            continue
        base = _TYPE_OF_KIND[spec.kind] + ("" if spec.required else "Opt")
        max_length = meta.get("max_length")
        if spec.kind != _CODE and max_length is None:
            attrib["type"] = base
        if not spec.required:
            attrib["minOccurs"] = "0"
        element = _xs(sequence, "element", **attrib)
        _documentation(element, _describe(meta))
        if spec.kind == _CODE:
            restriction = _xs(_xs(element, "simpleType"), "restriction", base="xs:token")
            for value in sorted(typing.cast(frozenset[str], spec.choices)) + (
                [] if spec.required else [""]
            ):
                _xs(restriction, "enumeration", value=value)
        elif max_length is not None:
            restriction = _xs(_xs(element, "simpleType"), "restriction", base=base)
            _xs(restriction, "maxLength", value=str(max_length))
    for sub in nested:
        _render_record(schema, sub, done)


def _render_simple_types(schema: Element) -> None:
    for name, (pattern, collapse) in _SIMPLE_TYPES.items():
        for suffix, optional in (("", False), ("Opt", True)):
            if name == "Text" and optional:
                _xs(_xs(schema, "simpleType", name="TextOpt"), "restriction", base="xs:string")
                continue
            restriction = _xs(_xs(schema, "simpleType", name=name + suffix), "restriction")
            restriction.set("base", "xs:string")
            if collapse:
                _xs(restriction, "whiteSpace", value="collapse")
            if pattern is not None:
                _xs(restriction, "pattern", value=f"({pattern})?" if optional else pattern)


def render_schema(code: str) -> bytes:
    """The XSD of form `code`, from the models (schemas/<code>.xsd is this, committed)."""
    spec = FORMS[code]
    schema = _xs(None, "schema", version=spec.version, elementFormDefault="unqualified")
    root = _xs(schema, "element", name=code)
    _documentation(root, f"{code}: {spec.title_vi} / {spec.title_en}")
    sequence = _xs(_xs(root, "complexType"), "sequence")
    _xs(sequence, "element", name=spec.header_element, type=spec.header_class.__name__)
    if spec.row_class is not None:
        rows = _xs(sequence, "element", name=typing.cast(str, spec.list_element))
        _xs(
            _xs(_xs(rows, "complexType"), "sequence"),
            "element",
            name=typing.cast(str, spec.row_element),
            type=spec.row_class.__name__,
            minOccurs="0",
            maxOccurs="unbounded",
        )
    slot = _xs(sequence, "element", name=SIGNATURE_SLOT, type="SignatureSlot", minOccurs="0")
    _documentation(slot, "Chữ ký số của đơn vị (ds:Signature) / the unit's XML signature")
    done: set[type[Any]] = set()
    _render_record(schema, _record(spec.header_class), done)
    if spec.row_class is not None:
        _render_record(schema, _record(spec.row_class), done)
    _xs(
        _xs(_xs(schema, "complexType", name="SignatureSlot"), "sequence"),
        "any",
        namespace=DS_NS,
        processContents="lax",
        minOccurs="0",
        maxOccurs="unbounded",
    )
    _render_simple_types(schema)
    schema.addprevious(
        etree.Comment(
            f"\n  ebhxh schema for {code} ({spec.title_vi}), version {spec.version}.\n"
            f"  Legal basis: {spec.legal_basis}.\n"
            "  ebhxh's own schema (vss-domain.md §12.3): the element names are ebhxh's, the\n"
            "  portal's JSON names are in the annotations. Generated from ebhxh/declarations/forms.py\n"
            "  by `python -m ebhxh.declarations.xmlcodec`; do not edit by hand.\n"
        )
    )
    body: bytes = etree.tostring(
        schema.getroottree(), encoding="UTF-8", xml_declaration=False, pretty_print=True
    )
    return XML_DECLARATION + body


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write schemas/<code>.xsd for every form (the envelope's XSD is written by hand)."""
    written = []
    for code, spec in FORMS.items():
        path = directory / spec.xsd
        path.write_bytes(render_schema(code))
        written.append(path)
    return written


if __name__ == "__main__":  # python -m ebhxh.declarations.xmlcodec: refresh schemas/*.xsd
    for written_path in write_schemas():
        print(written_path)
