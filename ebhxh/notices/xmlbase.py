"""What the XML codecs of the notices share (pure Python, no Django): the error, Vietnam time, the
secure parse with a size limit, the XSD check, the serialisation, the text check of a notice's
dataclass and the dd/mm/yyyy date.

Each notice module (`tbgd`, `tbts`, `result`) keeps its own layout, rules and schema; only the mechanics
are here, so that every notice is parsed and written the same way.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import fields
from pathlib import Path
from typing import Any, Final

from lxml import etree

from ebhxh.signatures.errors import SignatureError
from ebhxh.signatures.xmldsig import parse_secure

Element = Any  # lxml.etree._Element; lxml ships no type information

XML_DECLARATION: Final = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# Vietnam has used UTC+7 without daylight saving since 1975; notices write local time.
VIETNAM_TIME: Final = dt.timezone(dt.timedelta(hours=7), "ICT")
# What XML 1.0 cannot carry (lxml would refuse it late, with a less helpful message).
NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Dates as the envelope's NgayLap (dd/mm/yyyy) and times as the receipt notice's NGAY_GDICH
# (dd/mm/yyyy hh:mm:ss, Vietnam time).
DATE_FORMAT: Final = "%d/%m/%Y"
TIME_FORMAT: Final = "%d/%m/%Y %H:%M:%S"
_DATE = re.compile(r"[0-9]{2}/[0-9]{2}/[0-9]{4}")
_TIME = re.compile(r"[0-9]{2}/[0-9]{2}/[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}")


class NoticeError(ValueError):
    """A notice that cannot be written or read as its form; the message says which field."""


@functools.cache
def load_schema(path: Path) -> etree.XMLSchema:
    """The XSD at `path` (ours and local; parsed without network or entities all the same)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(path), parser))


def parse(data: bytes | bytearray | memoryview, *, form_code: str, max_bytes: int) -> Element:
    """The root of `data`, parsed securely (no DOCTYPE, no entities, no network); NoticeError."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("decode() takes bytes")
    if len(data) > max_bytes:
        raise NoticeError(f"a {form_code} notice is at most {max_bytes} bytes")
    try:
        return parse_secure(bytes(data))
    except SignatureError as exc:
        raise NoticeError(f"not readable as XML: {exc}") from None


def schema_errors(schema: etree.XMLSchema, root: Element) -> list[str]:
    """Where `root` departs from `schema` ("line N: message"); [] when valid."""
    if schema.validate(root):
        return []
    return [f"line {error.line}: {error.message}" for error in schema.error_log]


def check_text(owner: Any, optional: frozenset[str]) -> None:
    """Refuse what XML cannot carry in the text fields of the dataclass `owner`; blank optional
    text becomes None (`owner` is frozen: call it from `__post_init__`)."""
    for spec in fields(owner):
        value = getattr(owner, spec.name)
        if isinstance(value, str):
            if NOT_XML.search(value):
                raise NoticeError(f"{spec.name}: a character XML cannot carry")
            if spec.name in optional and not value.strip():
                object.__setattr__(owner, spec.name, None)


def check_instant(value: object, label: str) -> dt.datetime:
    """`value` if it is an aware datetime in the years 1000-9999 in Vietnam time (what dd/mm/yyyy
    can write), to the second (the documents' precision); NoticeError naming `label`."""
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise NoticeError(f"{label} must be a timezone-aware datetime")
    try:
        local_year = value.astimezone(VIETNAM_TIME).year
    except OverflowError:
        local_year = 0
    if local_year < 1000:
        raise NoticeError(f"{label} must be in the years 1000-9999 in Vietnam time")
    return value.replace(microsecond=0)


def check_day(value: object, label: str) -> dt.date:
    """`value` if it is a date (not a datetime) in the years 1000-9999; NoticeError naming `label`."""
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime) or value.year < 1000:
        raise NoticeError(f"{label} must be a date (years 1000-9999)")
    return value


def read_date(text: str, element: str) -> dt.date:
    """The dd/mm/yyyy date `text` of `element`; ValueError naming the element."""
    if not _DATE.fullmatch(text):
        raise ValueError(f"{element} must be dd/mm/yyyy")
    return dt.datetime.strptime(text, DATE_FORMAT).date()  # noqa: DTZ007  a date only


def read_time(text: str, element: str) -> dt.datetime:
    """The dd/mm/yyyy hh:mm:ss Vietnam time `text` of `element`, aware; ValueError naming it."""
    if not _TIME.fullmatch(text):
        raise ValueError(f"{element} must be dd/mm/yyyy hh:mm:ss")
    local = dt.datetime.strptime(text, TIME_FORMAT)  # noqa: DTZ007  zone set just below
    return local.replace(tzinfo=VIETNAM_TIME)


def serialize(root: Element) -> bytes:
    """UTF-8, indented, with the double-quoted declaration VSS clients write."""
    etree.indent(root, space="  ")
    # lxml would write the declaration with single quotes.
    return XML_DECLARATION + etree.tostring(root, encoding="UTF-8", xml_declaration=False) + b"\n"
