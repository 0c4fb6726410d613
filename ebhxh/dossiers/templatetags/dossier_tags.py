"""Template helpers of the dossier pages: a finding's message and place in the user's language,
and the in-portal notifications on the unit's home page."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django import template
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ebhxh.declarations.forms import FORMS
from ebhxh.dossiers.models import DossierEvent, Status

register = template.Library()


def _vi() -> bool:
    return (get_language() or "vi").startswith("vi")


@register.filter
def message(finding: dict[str, Any]) -> str:
    text = finding.get("message_vi") if _vi() else finding.get("message_en")
    return str(text or finding.get("message_vi") or "")


def field_label(form: str | None, name: str | None) -> str:
    """The label of a form field as printed on the form ("Mã số BHXH"), else its name."""
    if not name:
        return ""
    spec = FORMS.get(form or "")
    if spec is None:
        return name
    cls = spec.row_class
    attr = name
    if name.startswith("header."):
        cls, attr = spec.header_class, name.removeprefix("header.")
    if cls is None:
        return name
    for f in dataclasses.fields(cls):
        if f.name == attr:
            return str(f.metadata.get("label_vi" if _vi() else "label_en") or name)
    return name


@register.filter
def label(finding: dict[str, Any]) -> str:
    loc = finding.get("location") or {}
    return field_label(loc.get("form"), loc.get("field"))


@register.filter
def where(finding: dict[str, Any]) -> str:
    """Where a finding is, for a person: form, row, field, sheet cell."""
    loc = finding.get("location") or {}
    parts = [loc.get("form") or ""]
    if loc.get("row"):
        parts.append(_("dòng %(n)s") % {"n": loc["row"]})
    if loc.get("field"):
        parts.append(field_label(loc.get("form"), loc.get("field")))
    if loc.get("sheet") and loc.get("cell"):
        parts.append(
            _("ô %(cell)s của sheet %(sheet)s") % {"cell": loc["cell"], "sheet": loc["sheet"]}
        )
    elif loc.get("sheet"):
        parts.append(_("sheet %(sheet)s") % {"sheet": loc["sheet"]})
    return " · ".join(p for p in parts if p)


@register.filter
def status_tone(status: str) -> str:
    """A colour class for a status badge."""
    tones: dict[str, str] = {
        Status.REJECTED: "err",
        Status.WITHDRAWN: "muted",
        Status.SUPPLEMENT: "warn",
        Status.RECEIVED: "ok",
        Status.RESULT_READY: "ok",
        Status.RETURNED: "ok",
    }
    return tones.get(status, "")


@register.inclusion_tag("dossiers/_notifications.html", takes_context=True)
def unit_notifications(context: dict[str, Any], unit: Any, limit: int = 8) -> dict[str, Any]:
    """The latest status changes of the unit's dossiers; "mới" for those since the unit last
    opened its dossier list (kept in the session: no read/unread table)."""
    request = context.get("request")
    seen = None
    if request is not None:
        seen = parse_datetime(request.session.get("dossiers_seen_at", "") or "")
    events = list(
        DossierEvent.objects.filter(dossier__unit=unit)
        .select_related("dossier")
        .order_by("-at", "-pk")[:limit]
    )
    since = seen or dt.datetime.min.replace(tzinfo=dt.UTC)
    return {
        "events": [{"event": e, "new": e.at > since} for e in events],
        "new_count": sum(1 for e in events if e.at > since),
    }
