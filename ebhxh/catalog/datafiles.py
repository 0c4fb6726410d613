"""The versioned data files of the catalogues (ebhxh/catalog/data/*.json): their schemas and
validation. Pure code, no database: every file is checked before anything is written.

Each file is ``{"version": "...", "source": "..." | ["...", ...], "items": [...]}``; items are
validated with pydantic (unknown keys are errors), then for duplicate natural keys and for
effective periods that overlap within one group (e.g. two minimum wages of region I on the
same day).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from ebhxh.catalog.models import (
    DEFAULT_EFFECTIVE_FROM,
    Agency,
    ChangeType,
    ContributionRate,
    Form,
    Procedure,
)

DATA_DIR = Path(__file__).resolve().parent / "data"

# Procedures whose time limit is unknown get this many working days, flagged unconfirmed
# (vss-domain.md §12 item 5). The only confirmed value is 5 days for procedure 600 (§5.2).
DEFAULT_TIME_LIMIT_DAYS = 10

# Submission channels a procedure may allow.
CHANNELS = ("web", "api", "ivan")


class CatalogueDataError(Exception):
    """A data file (or the package data) is invalid; nothing was written."""

    def __init__(self, message: str, *, file: str | None = None, item: str | None = None) -> None:
        self.file = file
        self.item = item
        self.detail = message
        where = ": ".join(part for part in (file, item) if part)
        super().__init__(f"{where}: {message}" if where else message)


# --- Data-file schemas -------------------------------------------------------------------------

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Code2 = Annotated[str, StringConstraints(pattern=r"^\d{2}$")]
Code5 = Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{5}$")]
FormCode = Annotated[str, StringConstraints(pattern=r"^[0-9A-Z][0-9A-Z_-]{1,19}$")]
ProcedureCode = Annotated[str, StringConstraints(pattern=r"^\d{3}[0-9a-z-]{0,7}$")]
Rate = Annotated[Decimal, Field(ge=0, lt=1, max_digits=6, decimal_places=4)]


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EffectiveItem(_Item):
    effective_from: dt.date = DEFAULT_EFFECTIVE_FROM
    effective_to: dt.date | None = None
    legal_basis: str = ""

    @model_validator(mode="after")
    def _range(self) -> EffectiveItem:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        return self

    def overlaps(self, other: EffectiveItem) -> bool:
        end = self.effective_to or dt.date.max
        other_end = other.effective_to or dt.date.max
        return self.effective_from <= other_end and other.effective_from <= end


class LegacyProvinceItem(_Item):
    code: Code2
    name: NonEmpty
    successor: Code2


class AgencyItem(EffectiveItem):
    code: Code5
    name: NonEmpty
    level: Agency.Level
    parent: Code5 | None = None
    province: Code2 | None = None
    address: str = ""
    phone: str = ""
    email: str = ""
    note: str = ""

    @model_validator(mode="after")
    def _hierarchy(self) -> AgencyItem:
        if self.level == Agency.Level.CENTRAL and self.parent is not None:
            raise ValueError("the central agency has no parent")
        if self.level != Agency.Level.CENTRAL and self.parent is None:
            raise ValueError("a provincial or base agency needs a parent")
        return self


class FormItem(EffectiveItem):
    code: FormCode
    portal_id: str = ""
    name: NonEmpty
    name_en: str = ""
    kind: Form.Kind = Form.Kind.DECLARATION
    signature_node: str = ""


class ProcedureFormItem(_Item):
    form: FormCode
    required: bool = False


class ProcedureItem(EffectiveItem):
    code: ProcedureCode
    name: NonEmpty
    name_en: str = ""
    field: Procedure.Field
    time_limit_days: int = Field(DEFAULT_TIME_LIMIT_DAYS, ge=1, le=365)
    time_limit_confirmed: bool = False
    signature_required: bool = True
    channels: list[str] = Field(min_length=1)
    forms: list[ProcedureFormItem] = Field(min_length=1)
    note: str = ""

    @model_validator(mode="after")
    def _lists(self) -> ProcedureItem:
        unknown = sorted(set(self.channels) - set(CHANNELS))
        if unknown:
            raise ValueError(f"unknown channel(s) {unknown}; allowed: {list(CHANNELS)}")
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("duplicate channel")
        codes = [f.form for f in self.forms]
        if len(set(codes)) != len(codes):
            raise ValueError("a form is listed twice")
        return self


class ChangeTypeItem(EffectiveItem):
    list: Annotated[str, StringConstraints(pattern=r"^[0-9a-z_]{1,20}$")]
    code: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,4}$")]
    name: NonEmpty
    direction: ChangeType.Direction


class MinimumWageItem(EffectiveItem):
    region: int = Field(ge=1, le=4)
    amount: int = Field(gt=0)


class ReferenceSalaryItem(EffectiveItem):
    amount: int = Field(gt=0)


class ContributionRateItem(EffectiveItem):
    fund: ContributionRate.Fund
    employer_rate: Rate
    employee_rate: Rate


class IVanProviderItem(EffectiveItem):
    code: Code5
    name: NonEmpty


class EthnicityItem(_Item):
    code: Code2
    name: NonEmpty


class NationalityItem(_Item):
    code: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    name: NonEmpty


ItemT = TypeVar("ItemT", bound=_Item)


class CatalogueFile(BaseModel, Generic[ItemT]):
    model_config = ConfigDict(extra="forbid")

    version: NonEmpty
    source: NonEmpty | list[NonEmpty]
    items: list[ItemT]


@dataclass(frozen=True)
class _FileSpec:
    file: str
    item: type[_Item]
    key: tuple[str, ...]
    # Items sharing this key must not be in force on the same day.
    overlap_group: tuple[str, ...] | None = None


FILES: dict[str, _FileSpec] = {
    "legacy_provinces": _FileSpec("legacy_provinces.json", LegacyProvinceItem, ("code",)),
    "agencies": _FileSpec("agencies.json", AgencyItem, ("code",)),
    "forms": _FileSpec("forms.json", FormItem, ("code",)),
    "procedures": _FileSpec("procedures.json", ProcedureItem, ("code",)),
    "change_types": _FileSpec(
        "change_types.json", ChangeTypeItem, ("list", "code", "effective_from"), ("list", "code")
    ),
    "minimum_wages": _FileSpec(
        "minimum_wages.json", MinimumWageItem, ("region", "effective_from"), ("region",)
    ),
    "reference_salaries": _FileSpec(
        "reference_salaries.json", ReferenceSalaryItem, ("effective_from",), ()
    ),
    "contribution_rates": _FileSpec(
        "contribution_rates.json", ContributionRateItem, ("fund", "effective_from"), ("fund",)
    ),
    "ivan_providers": _FileSpec("ivan_providers.json", IVanProviderItem, ("code",)),
    "ethnicities": _FileSpec("ethnicities.json", EthnicityItem, ("code",)),
    "nationalities": _FileSpec("nationalities.json", NationalityItem, ("code",)),
}


@dataclass(frozen=True)
class ParsedFile:
    name: str
    file: str
    version: str
    items: Sequence[Any]


def _describe(raw_items: Any, index: int) -> str:
    label = f"mục {index + 1} / item {index + 1}"
    if (
        isinstance(raw_items, list)
        and index < len(raw_items)
        and isinstance(raw_items[index], dict)
    ):
        raw = raw_items[index]
        keys = [
            f"{k}={raw[k]}"
            for k in ("list", "code", "fund", "region", "effective_from")
            if k in raw
        ]
        if keys:
            label += f" ({', '.join(keys)})"
    return label


def _key_label(spec: _FileSpec, item: _Item) -> str:
    return ", ".join(f"{k}={getattr(item, k)}" for k in spec.key)


def parse_file(name: str, *, data_dir: Path = DATA_DIR) -> ParsedFile:
    """Read and validate one data file; raise CatalogueDataError naming the file and item."""
    spec = FILES[name]
    path = data_dir / spec.file
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogueDataError("không tìm thấy tệp / file not found", file=spec.file) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogueDataError(
            f"JSON không hợp lệ / invalid JSON: {exc}", file=spec.file
        ) from None
    try:
        # A runtime parametrisation, which mypy cannot follow.
        doc = CatalogueFile[spec.item].model_validate(raw)  # type: ignore[name-defined]
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = list(error["loc"])
        label: str | None = None
        if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
            label = _describe(raw.get("items") if isinstance(raw, dict) else None, loc[1])
            loc = loc[2:]
        where = ".".join(str(part) for part in loc)
        more = (
            f" (+{exc.error_count() - 1} lỗi khác / more errors)" if exc.error_count() > 1 else ""
        )
        message = f"{where + ': ' if where else ''}{error['msg']}{more}"
        raise CatalogueDataError(message, file=spec.file, item=label) from None

    items: list[_Item] = list(doc.items)
    seen: dict[tuple[Any, ...], int] = {}
    for index, item in enumerate(items):
        key = tuple(getattr(item, k) for k in spec.key)
        if key in seen:
            raise CatalogueDataError(
                f"trùng khoá với mục {seen[key] + 1} / duplicate key of item {seen[key] + 1} ({_key_label(spec, item)})",
                file=spec.file,
                item=_describe(raw["items"], index),
            )
        seen[key] = index
    if spec.overlap_group is not None:
        groups: dict[tuple[Any, ...], list[tuple[int, Any]]] = {}
        for index, item in enumerate(items):
            groups.setdefault(tuple(getattr(item, k) for k in spec.overlap_group), []).append(
                (index, item)
            )
        for members in groups.values():
            for pos, (index, item) in enumerate(members):
                for other_index, other in members[:pos]:
                    if item.overlaps(other):
                        raise CatalogueDataError(
                            f"thời gian hiệu lực chồng lên mục {other_index + 1} / "
                            f"effective period overlaps item {other_index + 1}",
                            file=spec.file,
                            item=_describe(raw["items"], index),
                        )
    return ParsedFile(name=name, file=spec.file, version=doc.version, items=items)
