"""A streaming reader for the cell values of an xlsx worksheet: values and formula flags in one pass.

Pure Python (no Django); lxml for the XML, openpyxl only for its public number-format and date
helpers. Used by the Excel codec (``excel.py``) to read the data sheets of the D02-TS template;
openpyxl still writes the workbooks. Why not openpyxl's read-only mode: see
docs/decisions/0002-xlsx-reader.md (in short, its per-cell Python work made reading a
10,000-row D02 take most of the 3 s budget, and a second pass was needed to find formulas).

    book = XlsxBook(data)                          # XlsxError if not a readable package
    "DuLieu" in book.sheet_names                   # sheet names in workbook order
    for row in book.rows("DuLieu", max_col=52):    # KeyError for an unknown sheet
        row.number, row.values, row.formulas       # values[0] is column A

What a cell gives (the values of openpyxl's ``data_only=True`` read, with two distinctions
openpyxl cannot make):

* numbers: ``int`` or ``float`` as written (``_cast_number``); with a date or time number
  format, ``datetime``/``date``/``time``/``timedelta`` via ``openpyxl.utils.datetime.from_excel``
  and the workbook's ``date1904`` flag; a date serial out of range is ``CellError("#VALUE!")``;
* shared strings (``t="s"``, as Excel saves text) and inline strings (``t="inlineStr"``, as
  openpyxl saves it): the text, rich-text runs concatenated, phonetic runs (``rPh``) ignored;
  ``_x005F_`` escapes of shared strings are undone as openpyxl does;
* ``t="str"`` (a formula's text result), ``t="b"`` (``bool``), ``t="d"`` (ISO 8601 ``datetime``);
* ``t="e"``: ``CellError(code)``, e.g. ``CellError("#N/A")``, never the text "#N/A";
* a formula: never evaluated; its cached value as above. A formula without a cached value is
  ``UNCALCULATED`` (openpyxl gives ``None``, indistinguishable from an empty cell); a formula
  whose cached value is the empty text (``t="str"`` with an empty ``<v>``, what Excel saves for
  a formula returning "") is ``""``. ``row.formulas`` lists the columns holding a formula;
* an empty cell: ``None``.

Hardening: the parts are parsed by lxml with entity resolution, DTD loading and network access
off; a part with a DOCTYPE is refused (``XlsxError``). The sheet is parsed incrementally
(``iterparse``), each row cleared once read, so memory does not grow with the sheet. The size of
the package (and a zip bomb) is the caller's to check before (``excel._check_zip``).
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, Final

from lxml import etree
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH, from_excel, from_ISO8601

MAX_COLUMN: Final = 16_384  # XFD, the last column of a worksheet

_REL_NS: Final = "http://schemas.openxmlformats.org/package/2006/relationships"
_RELATIONSHIP: Final = f"{{{_REL_NS}}}Relationship"
_DIGITS: Final = "0123456789"


class XlsxError(Exception):
    """The package or one of its parts cannot be read (the caller's DECL-XLSX-NOT-WORKBOOK)."""


@dataclass(frozen=True, slots=True)
class CellError:
    """An Excel error value (``t="e"``): ``#N/A``, ``#VALUE!``, ``#REF!``, ``#DIV/0!``…"""

    code: str

    def __str__(self) -> str:
        return self.code


class _Uncalculated:
    """The value of a formula cell without a cached value (the workbook was never calculated)."""

    _instance: _Uncalculated | None = None

    def __new__(cls) -> _Uncalculated:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNCALCULATED"

    def __bool__(self) -> bool:
        return False


UNCALCULATED: Final = _Uncalculated()


@dataclass(frozen=True, slots=True)
class Row:
    """One ``<row>`` of a sheet: its number (1-based), its values (index 0 = column A, up to
    ``max_col``) and the columns (1-based) that hold a formula."""

    number: int
    values: list[Any]
    formulas: tuple[int, ...] = ()


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True
    )


def column_index(letters: str) -> int:
    """``"A"`` -> 1, ``"AZ"`` -> 52; ValueError for anything that is not a column."""
    if not 1 <= len(letters) <= 3 or not letters.isascii() or not letters.isalpha():
        raise ValueError(letters)
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    if col > MAX_COLUMN:
        raise ValueError(letters)
    return col


_COLUMNS: dict[str, int] = {}  # letters -> index, filled as met (at most 16,384 entries)


def _column(letters: str) -> int:
    col = _COLUMNS.get(letters)
    if col is None:
        col = _COLUMNS[letters] = column_index(letters)
    return col


def _text(element: Any, t_tag: str, r_tag: str) -> str:
    """The text of a ``<si>`` or ``<is>``: ``<t>`` and the ``<t>`` of each rich-text run ``<r>``;
    phonetic runs (``<rPh>``) and properties are left out (openpyxl's ``Text.content``)."""
    if len(element) == 1:
        child = element[0]
        if child.tag == t_tag:
            return child.text or ""
    parts = []
    for child in element:
        tag = child.tag
        if tag == t_tag:
            parts.append(child.text or "")
        elif tag == r_tag:
            for sub in child:
                if sub.tag == t_tag:
                    parts.append(sub.text or "")
    return "".join(parts)


class _Tags:
    """The element names of one SpreadsheetML namespace (transitional or strict)."""

    __slots__ = ("f", "is_", "r", "t", "v")

    def __init__(self, ns: str) -> None:
        self.v, self.f, self.is_ = f"{ns}v", f"{ns}f", f"{ns}is"
        self.t, self.r = f"{ns}t", f"{ns}r"


class XlsxBook:
    """The sheets of an xlsx package, read on demand. Raises XlsxError (or zipfile/lxml errors,
    which the caller treats alike) when the package is not a readable workbook."""

    def __init__(self, data: bytes) -> None:
        self._zip = zipfile.ZipFile(io.BytesIO(data))
        self._names = set(self._zip.namelist())
        workbook = self._office_document()
        root = self._parse(workbook)
        if etree.QName(root).localname != "workbook":
            raise XlsxError("not a workbook part")
        ns = _namespace(root.tag)
        props = root.find(f"{ns}workbookPr")
        date1904 = props.get("date1904") if props is not None else None
        self.epoch: dt.datetime = (
            CALENDAR_MAC_1904
            if date1904 is not None and date1904 not in ("false", "f", "0", "")
            else WINDOWS_EPOCH
        )
        rels = self._relationships(workbook)
        self._sheets: dict[str, str] = {}
        self.sheet_names: list[str] = []
        sheets = root.find(f"{ns}sheets")
        for sheet in sheets if sheets is not None else ():
            if not isinstance(sheet.tag, str) or etree.QName(sheet).localname != "sheet":
                continue
            name = sheet.get("name")
            rid = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
            if name is None or rid is None or rid not in rels:
                raise XlsxError("sheet without a part")
            self.sheet_names.append(name)
            self._sheets.setdefault(name, rels[rid][1])
        by_type = {kind.rsplit("/", 1)[-1]: target for kind, target in rels.values()}
        self._strings_part = by_type.get("sharedStrings")
        self._styles_part = by_type.get("styles")
        self._strings: list[str] | None = None
        self._styles: tuple[frozenset[int], frozenset[int]] | None = None

    # --- package parts ---

    def _member(self, name: str) -> str:
        if name not in self._names:
            raise XlsxError(f"missing part {name}")
        return name

    def _parse(self, name: str) -> Any:
        root = etree.fromstring(self._zip.read(self._member(name)), _parser())
        if root.getroottree().docinfo.doctype:
            raise XlsxError("DOCTYPE in a part")
        return root

    def _office_document(self) -> str:
        if "_rels/.rels" in self._names:
            for kind, target in self._relationships("").values():
                if kind.endswith("/officeDocument"):
                    return target
        return self._member("xl/workbook.xml")

    def _relationships(self, part: str) -> dict[str, tuple[str, str]]:
        """Id -> (type, target part name) of `part`'s relationships (empty when it has none)."""
        folder, base = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", f"{base}.rels")
        if rels not in self._names:
            return {}
        out = {}
        for rel in self._parse(rels).iter(_RELATIONSHIP):
            rid, kind, target = rel.get("Id"), rel.get("Type", ""), rel.get("Target")
            if rid is None or target is None or rel.get("TargetMode") == "External":
                continue
            path = target[1:] if target.startswith("/") else posixpath.join(folder, target)
            out[rid] = (kind, posixpath.normpath(path))
        return out

    # --- shared strings and styles (read once, when a sheet is first read) ---

    def shared_strings(self) -> list[str]:
        if self._strings is None:
            self._strings = self._read_strings(self._strings_part) if self._strings_part else []
        return self._strings

    def _read_strings(self, part: str) -> list[str]:
        strings: list[str] = []
        tags: _Tags | None = None
        with self._zip.open(self._member(part)) as stream:
            for _, si in _iterparse(stream, "{*}si"):
                if tags is None:
                    _refuse_doctype(si)
                    tags = _Tags(_namespace(si.tag))
                # openpyxl removes "x005F_" (the escape of "_" before "_xHHHH_") this way.
                strings.append(_text(si, tags.t, tags.r).replace("x005F_", ""))
                _clear(si)
        return strings

    def date_styles(self) -> tuple[frozenset[int], frozenset[int]]:
        """The style indexes (``s``) whose number format is a date, and those of a duration."""
        if self._styles is None:
            self._styles = self._read_styles() if self._styles_part else (frozenset(), frozenset())
        return self._styles

    def _read_styles(self) -> tuple[frozenset[int], frozenset[int]]:
        assert self._styles_part is not None  # noqa: S101
        root = self._parse(self._styles_part)
        ns = _namespace(root.tag)
        custom: dict[int, str] = {}
        formats = root.find(f"{ns}numFmts")
        for fmt in formats if formats is not None else ():
            if fmt.get("numFmtId") is not None and fmt.get("formatCode") is not None:
                custom[int(fmt.get("numFmtId"))] = fmt.get("formatCode")
        dates, durations = set(), set()
        xfs = root.find(f"{ns}cellXfs")
        index = 0
        for xf in xfs if xfs is not None else ():
            if not isinstance(xf.tag, str):
                continue
            fmt_id = int(xf.get("numFmtId", 0))
            fmt = custom[fmt_id] if fmt_id in custom else BUILTIN_FORMATS.get(fmt_id)
            if is_date_format(fmt):
                dates.add(index)
            if is_timedelta_format(fmt):
                durations.add(index)
            index += 1
        return frozenset(dates), frozenset(durations)

    # --- a sheet ---

    def rows(self, sheet: str, *, max_col: int) -> Iterator[Row]:
        """The rows of `sheet` present in the file, in file order, each with `max_col` values
        (cells beyond are skipped). KeyError if there is no such sheet; XlsxError (or a
        zipfile, lxml or ValueError error) if its XML is broken."""
        if not 1 <= max_col <= MAX_COLUMN:
            raise ValueError(max_col)
        part = self._member(self._sheets[sheet])
        strings = self.shared_strings()
        dates, durations = self.date_styles()
        epoch = self.epoch
        date_cache: dict[tuple[int | float, int], Any] = {}
        columns = _COLUMNS.get
        v_tag = f_tag = is_tag = t_tag = r_tag = ""
        number = 0
        with self._zip.open(part) as stream:
            for _, row in _iterparse(stream, "{*}row"):
                if not v_tag:
                    _refuse_doctype(row)
                    tags = _Tags(_namespace(row.tag))
                    v_tag, f_tag, is_tag, t_tag, r_tag = tags.v, tags.f, tags.is_, tags.t, tags.r
                ref = row.get("r")
                number = _row_number(ref) if ref else number + 1
                values: list[Any] = [None] * max_col
                formulas: list[int] = []
                col = 0
                # Only <c> (and a final <extLst>, which reads as an empty cell) can be here:
                # comments and processing instructions are dropped by the parser.
                for c in row:
                    ref = c.get("r")
                    if ref is None:
                        col += 1
                    else:
                        letters = ref.rstrip(_DIGITS)
                        col = columns(letters) or _column(letters)
                    if col > max_col:
                        continue
                    kind = c.get("t")
                    text = None
                    has_v = has_f = False
                    inline = None
                    # Indexing, not `for child in c`: an lxml iterator costs more than the rest
                    # of a typical cell (one <v> or one <is>).
                    for index in range(len(c)):
                        child = c[index]
                        tag = child.tag
                        if tag == v_tag:
                            text, has_v = child.text, True
                        elif tag == is_tag:
                            inline = child
                        elif tag == f_tag:
                            has_f = True
                    if kind == "inlineStr":
                        if inline is None:
                            value: Any = None
                        elif len(inline) == 1 and inline[0].tag == t_tag:
                            value = inline[0].text or ""
                        else:
                            value = _text(inline, t_tag, r_tag)
                    elif not text:
                        value = None
                    elif kind is None or kind == "n":
                        if "." in text or "E" in text or "e" in text:  # openpyxl's _cast_number
                            value = float(text)
                        else:
                            value = int(text)
                        if dates:
                            style = c.get("s")
                            if style and (style_id := int(style)) in dates:
                                key = (value, style_id)
                                if key in date_cache:
                                    value = date_cache[key]
                                else:
                                    value = date_cache[key] = _date(
                                        value, epoch, style_id in durations
                                    )
                    elif kind == "s":
                        value = strings[int(text)]
                    elif kind == "str":
                        value = text
                    elif kind == "b":
                        value = bool(int(text))
                    elif kind == "e":
                        value = CellError(text)
                    elif kind == "d":
                        value = from_ISO8601(text)
                    else:
                        value = text
                    if has_f:
                        formulas.append(col)
                        if value is None:
                            value = "" if kind == "str" and has_v else UNCALCULATED
                    values[col - 1] = value
                yield Row(number, values, tuple(formulas))
                _clear(row)

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> XlsxBook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _date(value: int | float, epoch: dt.datetime, duration: bool) -> Any:
    try:
        return from_excel(value, epoch, timedelta=duration)
    except (OverflowError, ValueError):
        return CellError("#VALUE!")  # what openpyxl gives for a date serial out of range


def _row_number(ref: str) -> int:
    try:
        number = int(ref)
    except ValueError:
        as_float = float(ref)
        if not as_float.is_integer():
            raise
        number = int(as_float)
    if not 1 <= number <= 1_048_576:
        raise XlsxError("row number out of range")
    return number


def _namespace(tag: str) -> str:
    return tag[: tag.index("}") + 1] if tag.startswith("{") else ""


def _iterparse(stream: IO[bytes], tag: str) -> Any:
    return etree.iterparse(
        stream,
        events=("end",),
        tag=tag,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
    )


def _refuse_doctype(element: Any) -> None:
    if element.getroottree().docinfo.doctype:
        raise XlsxError("DOCTYPE in a part")


def _clear(element: Any) -> None:
    """Free what was parsed up to `element` (it and its earlier siblings)."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]
