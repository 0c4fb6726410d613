"""Render a Django template to PDF with WeasyPrint (stack-notes §6.1).

Fonts: templates name their fonts explicitly ("DejaVu Sans", then "Noto Sans"; Debian packages
fonts-dejavu-core / fonts-noto-core), so Vietnamese renders the same on every machine that has
them, and WeasyPrint embeds the subset used. WeasyPrint needs Pango at import time
(libpango-1.0-0, libpangoft2-1.0-0): it is imported on first use, so the rest of ebhxh starts
without it; scripts/test and scripts/run install them.

Nothing is fetched while rendering (no network, no files): a notice is built from the template
and its context only, so a value in the context can never make the renderer read a URL.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import translation


def _refusing_fetcher() -> Any:
    from weasyprint.urls import URLFetcher

    # No protocol is allowed, and a refused fetch stops the rendering instead of leaving a
    # hole in the document with a logged warning.
    return URLFetcher(allowed_protocols=frozenset(), fail_on_errors=True)


def render_html(template_name: str, context: dict[str, Any], *, language: str = "vi") -> str:
    """The template rendered in `language` (notices are Vietnamese documents by default)."""
    with translation.override(language):
        return render_to_string(template_name, context)


def render_pdf(template_name: str, context: dict[str, Any], *, language: str = "vi") -> bytes:
    """The template rendered to PDF bytes (A4, fonts embedded; the page size is in the template)."""
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    html = render_html(template_name, context, language=language)
    try:
        pdf: bytes = HTML(string=html, url_fetcher=_refusing_fetcher()).write_pdf()
    except FatalURLFetchingError as exc:  # a BaseException in WeasyPrint: make it an ordinary error
        raise ValueError(f"{template_name} refers to an external resource: {exc}") from exc
    return pdf
