"""Building xlsx packages part by part, for the reader tests and the benchmark.

`build_xlsx` writes a minimal package (workbook, relationships, sheets, optional shared strings
and styles) with zipfile, so a test controls every byte Excel or another producer might write.
`to_shared_strings` rewrites a workbook saved by openpyxl (inline strings, ``t="inlineStr"``)
the way Excel saves text: a shared-string table and ``t="s"`` cells.
"""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
WORKSHEET = f"{REL}/worksheet"

_SPREADSHEETML = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def _content_types(parts: dict[str, str]) -> str:
    """[Content_Types].xml (openpyxl finds the parts through it; ebhxh's reader does not)."""
    kinds = {
        "workbook": "sheet.main+xml",
        "sheet": "worksheet+xml",
        "sharedStrings": "sharedStrings+xml",
        "styles": "styles+xml",
    }
    overrides = "".join(
        f'<Override PartName="/{part}" ContentType="{_SPREADSHEETML}.{kinds[kind]}"/>'
        for part, kind in parts.items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Default Extension="xml" ContentType="application/xml"/>{overrides}</Types>'
    )


def sheet_xml(rows: str, ns: str = MAIN) -> str:
    """A worksheet part around `rows` (the ``<row>`` elements)."""
    return f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{ns}"><sheetData>{rows}</sheetData></worksheet>'


def styles_xml(formats: list[int | str]) -> str:
    """A styles part whose cell style i has number format `formats[i]` (a built-in id, or a
    format code that gets a custom id from 164)."""
    custom = []
    xfs = []
    for fmt in formats:
        if isinstance(fmt, int):
            xfs.append(f'<xf numFmtId="{fmt}" applyNumberFormat="1"/>')
        else:
            fmt_id = 164 + len(custom)
            custom.append(f'<numFmt numFmtId="{fmt_id}" formatCode={quoteattr(fmt)}/>')
            xfs.append(f'<xf numFmtId="{fmt_id}" applyNumberFormat="1"/>')
    num_fmts = f'<numFmts count="{len(custom)}">{"".join(custom)}</numFmts>' if custom else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN}">{num_fmts}'
        f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs></styleSheet>'
    )


def shared_strings_xml(items: list[str]) -> str:
    """A shared-string table; each item is the inner XML of one ``<si>``."""
    body = "".join(f"<si>{item}</si>" for item in items)
    return f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="{len(items)}" uniqueCount="{len(items)}">{body}</sst>'


def build_xlsx(
    sheets: dict[str, str],
    *,
    shared_strings: str | None = None,
    styles: str | None = None,
    date1904: bool = False,
    paths: dict[str, str] | None = None,
    absolute_targets: bool = False,
    ns: str = MAIN,
) -> bytes:
    """A package with `sheets` (name -> worksheet XML, in workbook order). `paths` gives a
    sheet's part name (default ``xl/worksheets/sheetN.xml``)."""
    paths = paths or {}
    rels = []
    entries = []
    parts: dict[str, str] = {}
    kinds = {"xl/workbook.xml": "workbook"}
    for index, (name, xml) in enumerate(sheets.items(), start=1):
        part = paths.get(name, f"xl/worksheets/sheet{index}.xml")
        target = f"/{part}" if absolute_targets else part.removeprefix("xl/")
        rels.append(f'<Relationship Id="rId{index}" Type="{WORKSHEET}" Target="{target}"/>')
        entries.append(f'<sheet name={quoteattr(name)} sheetId="{index}" r:id="rId{index}"/>')
        parts[part] = xml
        kinds[part] = "sheet"
    extra = len(sheets)
    if shared_strings is not None:
        extra += 1
        rels.append(
            f'<Relationship Id="rId{extra}" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
        )
        parts["xl/sharedStrings.xml"] = shared_strings
        kinds["xl/sharedStrings.xml"] = "sharedStrings"
    if styles is not None:
        extra += 1
        rels.append(f'<Relationship Id="rId{extra}" Type="{REL}/styles" Target="styles.xml"/>')
        parts["xl/styles.xml"] = styles
        kinds["xl/styles.xml"] = "styles"
    props = '<workbookPr date1904="1"/>' if date1904 else "<workbookPr/>"
    parts["xl/workbook.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{ns}" xmlns:r="{REL}">'
        f"{props}<sheets>{''.join(entries)}</sheets></workbook>"
    )
    parts["xl/_rels/workbook.xml.rels"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">{"".join(rels)}</Relationships>'
    )
    parts["_rels/.rels"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
        f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    )
    parts["[Content_Types].xml"] = _content_types(kinds)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content.encode("utf-8"))
    return out.getvalue()


def cell(ref: str, value: str, *, t: str | None = None, s: int | None = None) -> str:
    """``<c>`` with a ``<v>`` (escaped) and optional type and style."""
    attrs = f' r="{ref}"' + (f' t="{t}"' if t else "") + (f' s="{s}"' if s is not None else "")
    return f"<c{attrs}><v>{escape(value)}</v></c>"


def to_shared_strings(data: bytes) -> bytes:
    """`data` (saved by openpyxl) with its text in a shared-string table, as Excel saves it:
    ``t="s"`` cells indexing ``xl/sharedStrings.xml``, number cells without ``t="n"``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    strings: dict[str, int] = {}
    ns = f"{{{MAIN}}}"
    rewritten: dict[str, bytes] = {}
    for name in source.namelist():
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            continue
        root = etree.fromstring(source.read(name))
        for c in root.iter(f"{ns}c"):
            kind = c.get("t")
            if kind == "n":
                del c.attrib["t"]
            if kind != "inlineStr":
                continue
            inline = c.find(f"{ns}is")
            text = (
                "".join(t.text or "" for t in inline.iter(f"{ns}t")) if inline is not None else ""
            )
            for child in list(c):
                c.remove(child)
            index = strings.setdefault(text, len(strings))
            c.set("t", "s")
            etree.SubElement(c, f"{ns}v").text = str(index)
        rewritten[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    items = []
    for text in strings:
        space = ' xml:space="preserve"' if text != text.strip() else ""
        items.append(f"<t{space}>{escape(text)}</t>")
    rewritten["xl/sharedStrings.xml"] = shared_strings_xml(items).encode("utf-8")
    rels = etree.fromstring(source.read("xl/_rels/workbook.xml.rels"))
    if not any(r.get("Type", "").endswith("/sharedStrings") for r in rels):
        etree.SubElement(
            rels,
            f"{{{PKG}}}Relationship",
            Id="rIdSharedStrings",
            Type=f"{REL}/sharedStrings",
            Target="sharedStrings.xml",
        )
    rewritten["xl/_rels/workbook.xml.rels"] = etree.tostring(
        rels, xml_declaration=True, encoding="UTF-8"
    )
    types = etree.fromstring(source.read("[Content_Types].xml"))
    etree.SubElement(
        types,
        "{http://schemas.openxmlformats.org/package/2006/content-types}Override",
        PartName="/xl/sharedStrings.xml",
        ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml",
    )
    rewritten["[Content_Types].xml"] = etree.tostring(types, xml_declaration=True, encoding="UTF-8")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            if info.filename not in rewritten:
                archive.writestr(info, source.read(info))
        for name, content in rewritten.items():
            archive.writestr(name, content)
    return out.getvalue()


def replace_in_part(workbook: bytes, part: str, *substitutions: tuple[bytes, bytes]) -> bytes:
    """`workbook` with each (pattern, replacement) regex substituted once in `part` (for example
    ``xl/worksheets/sheet1.xml``); every pattern must match exactly once, so a test whose fixture
    changed fails here rather than testing nothing."""
    import re

    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(workbook)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            content = source.read(info)
            if info.filename == part:
                for pattern, replacement in substitutions:
                    content, count = re.subn(pattern, replacement, content, count=1)
                    assert count == 1, f"{pattern!r} not found in {part}"
            target.writestr(info, content)
    return out.getvalue()
