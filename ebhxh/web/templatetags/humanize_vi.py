"""Vietnamese number formatting: 5.310.000 ₫ and Roman region numerals."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()

_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


@register.filter
def vnd(value: int | Decimal | None) -> str:
    if value is None or value == "":
        return "—"
    return f"{int(value):,}".replace(",", ".") + " ₫"


@register.filter
def roman(value: int | None) -> str:
    return _ROMAN.get(int(value), str(value)) if value is not None else "—"


@register.filter
def percent(value: Decimal | None) -> str:
    """0.14 → "14 %", 0.015 → "1,5 %" (Vietnamese decimal comma)."""
    if value is None:
        return "—"
    text = f"{Decimal(value) * 100:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") + " %"


@register.filter
def fund_label(code: str) -> str:
    from ebhxh.catalog.models import ContributionRate

    try:
        return str(ContributionRate.Fund(code).label)
    except ValueError:
        return code
