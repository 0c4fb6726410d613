"""What the XML codecs of the notices share (pure Python, no Django): the error, Vietnam time, the
secure parse with a size limit, the XSD check and the serialisation.

Each notice module (`tbgd`, `tbts`) keeps its own layout, rules and schema; only the mechanics
are here, so that every notice is parsed and written the same way.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
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


def serialize(root: Element) -> bytes:
    """UTF-8, indented, with the double-quoted declaration VSS clients write."""
    etree.indent(root, space="  ")
    # lxml would write the declaration with single quotes.
    return XML_DECLARATION + etree.tostring(root, encoding="UTF-8", xml_declaration=False) + b"\n"
