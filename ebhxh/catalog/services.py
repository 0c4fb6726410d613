"""Catalogue loading: the versioned data files in ebhxh/catalog/data/ and the vietnam-provinces
package, upserted into the catalogue tables by natural key.

A load is a system operation (no actor, no audit event): it only mirrors versioned files that
are reviewed like code. Rows are never deleted, because other apps point at them with PROTECT
foreign keys; rows that left a data file are counted as ``stale`` so an operator can retire
them (set effective_to). The one exception is the form list of a procedure, which is part of
the procedure item and is synchronised exactly.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import vietnam_provinces
from django.db import models, transaction

from ebhxh.catalog.datafiles import (
    DATA_DIR,
    FILES,
    AgencyItem,
    CatalogueDataError,
    ChangeTypeItem,
    ContributionRateItem,
    EffectiveItem,
    FormItem,
    IVanProviderItem,
    LegacyProvinceItem,
    MinimumWageItem,
    ParsedFile,
    ProcedureItem,
    ReferenceSalaryItem,
    parse_file,
)
from ebhxh.catalog.models import (
    Agency,
    ChangeType,
    Commune,
    ContributionRate,
    Ethnicity,
    Form,
    IVanProvider,
    LegacyProvince,
    MinimumWage,
    Nationality,
    Procedure,
    ProcedureForm,
    Province,
    ReferenceSalary,
)

__all__ = [
    "CATALOGUES",
    "DATA_DIR",
    "CatalogueDataError",
    "CatalogueResult",
    "LoadReport",
    "load_catalogues",
]

logger = logging.getLogger(__name__)

# The 34 provinces and 3,321 communes exist since the reform of Nghị quyết 202/2025/QH15;
# the new provincial governments started on 2025-07-01.
PROVINCES_EFFECTIVE_FROM = dt.date(2025, 7, 1)
PROVINCES_LEGAL_BASIS = "Nghị quyết 202/2025/QH15"
PACKAGE = "vietnam-provinces"

# Load order: a catalogue only refers to catalogues before it.
CATALOGUES: tuple[str, ...] = (
    "provinces",
    "communes",
    "legacy_provinces",
    "agencies",
    "forms",
    "procedures",
    "change_types",
    "minimum_wages",
    "reference_salaries",
    "contribution_rates",
    "ivan_providers",
    "ethnicities",
    "nationalities",
)


@dataclass
class CatalogueResult:
    """What one load did to one table."""

    name: str
    version: str
    source: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    stale: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class LoadReport:
    results: list[CatalogueResult] = field(default_factory=list)
    packages: dict[str, str] = field(default_factory=dict)
    duration_seconds: float = 0.0

    @property
    def created(self) -> int:
        return sum(r.created for r in self.results)

    @property
    def updated(self) -> int:
        return sum(r.updated for r in self.results)

    @property
    def changed(self) -> bool:
        return any(r.created or r.updated or r.deleted for r in self.results)

    def __getitem__(self, name: str) -> CatalogueResult:
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(name)


# --- Writing -------------------------------------------------------------------------------------

M = TypeVar("M", bound=models.Model)


def _check_lengths(model: type[models.Model], row: dict[str, Any], *, file: str, item: str) -> None:
    """Catch values longer than the column here; SQLite would store them, PostgreSQL would fail."""
    columns = {f.attname: f for f in model._meta.concrete_fields}
    for name, value in row.items():
        max_length = getattr(columns[name], "max_length", None)
        if max_length and isinstance(value, str) and len(value) > max_length:
            raise CatalogueDataError(
                f"{name}: dài {len(value)} ký tự, tối đa {max_length} / {len(value)} characters, max {max_length}",
                file=file,
                item=item,
            )


def _sync(
    model: type[M],
    result: CatalogueResult,
    rows: Iterable[dict[str, Any]],
    key: tuple[str, ...],
    *,
    existing: dict[tuple[Any, ...], M],
) -> set[tuple[Any, ...]]:
    """Create missing rows and update changed ones in bulk; return the keys seen."""
    to_create: list[M] = []
    to_update: list[M] = []
    changed_fields: set[str] = set()
    seen: set[tuple[Any, ...]] = set()
    for row in rows:
        k = tuple(row[f] for f in key)
        seen.add(k)
        obj = existing.get(k)
        if obj is None:
            obj = model(**row)
            to_create.append(obj)
            existing[k] = obj
            continue
        changed = [name for name, value in row.items() if getattr(obj, name) != value]
        if changed:
            for name in changed:
                setattr(obj, name, row[name])
            to_update.append(obj)
            changed_fields.update(changed)
        else:
            result.unchanged += 1
    if to_create:
        model._default_manager.bulk_create(to_create, batch_size=500)
    if to_update:
        model._default_manager.bulk_update(to_update, sorted(changed_fields), batch_size=500)
    result.created += len(to_create)
    result.updated += len(to_update)
    return seen


def _index(
    model: type[M], key: tuple[str, ...], queryset: models.QuerySet[M] | None = None
) -> dict[tuple[Any, ...], M]:
    rows = queryset if queryset is not None else model._default_manager.all()
    return {tuple(getattr(obj, f) for f in key): obj for obj in rows}


def _simple(
    parsed: ParsedFile,
    model: type[models.Model],
    to_row: Callable[[Any], dict[str, Any]],
    key: tuple[str, ...],
    name: str | None = None,
) -> CatalogueResult:
    result = CatalogueResult(name=name or parsed.name, version=parsed.version, source=parsed.file)
    rows = []
    for index, item in enumerate(parsed.items):
        row = to_row(item)
        _check_lengths(model, row, file=parsed.file, item=f"mục {index + 1} / item {index + 1}")
        rows.append(row)
    existing = _index(model, key)
    seen = _sync(model, result, rows, key, existing=existing)
    result.stale = len(existing.keys() - seen)
    return result


def _effective(item: EffectiveItem) -> dict[str, Any]:
    return {
        "effective_from": item.effective_from,
        "effective_to": item.effective_to,
        "legal_basis": item.legal_basis,
    }


def _code_map(model: type[models.Model]) -> dict[str, int]:
    return dict(model._default_manager.values_list("code", "pk"))


def _resolve(mapping: dict[str, int], code: str, *, what: str, file: str, item: str) -> int:
    try:
        return mapping[code]
    except KeyError:
        raise CatalogueDataError(
            f"{what} '{code}' không tồn tại (chưa nạp?) / {what} '{code}' does not exist (not loaded?)",
            file=file,
            item=item,
        ) from None


def _package_version() -> str:
    return f"{PACKAGE} {vietnam_provinces.__version__} (data {vietnam_provinces.__data_version__})"


def _load_provinces(_: ParsedFile | None) -> list[CatalogueResult]:
    result = CatalogueResult(name="provinces", version=_package_version(), source=PACKAGE)
    rows = [
        {
            "code": f"{int(p.code):02d}",
            "name": p.name,
            "division_type": p.division_type.value,
            "effective_from": PROVINCES_EFFECTIVE_FROM,
            "effective_to": None,
            "legal_basis": PROVINCES_LEGAL_BASIS,
        }
        for p in vietnam_provinces.Province.iter_all()
    ]
    existing = _index(Province, ("code",))
    seen = _sync(Province, result, rows, ("code",), existing=existing)
    result.stale = len(existing.keys() - seen)
    return [result]


def _load_communes(_: ParsedFile | None) -> list[CatalogueResult]:
    result = CatalogueResult(name="communes", version=_package_version(), source=PACKAGE)
    provinces = _code_map(Province)
    rows = []
    for ward in vietnam_provinces.Ward.iter_all():
        code = f"{int(ward.code):05d}"
        province = f"{int(ward.province_code):02d}"
        rows.append(
            {
                "code": code,
                "name": ward.name,
                "division_type": ward.division_type.value,
                "province_id": _resolve(
                    provinces, province, what="tỉnh/province", file=PACKAGE, item=code
                ),
            }
        )
    existing = _index(Commune, ("code",))
    seen = _sync(Commune, result, rows, ("code",), existing=existing)
    result.stale = len(existing.keys() - seen)
    return [result]


def _load_legacy_provinces(parsed: ParsedFile | None) -> list[CatalogueResult]:
    assert parsed is not None
    provinces = _code_map(Province)

    def row(item: LegacyProvinceItem) -> dict[str, Any]:
        successor = _resolve(
            provinces,
            item.successor,
            what="tỉnh mới/province",
            file=parsed.file,
            item=f"code={item.code}",
        )
        return {"code": item.code, "name": item.name, "successor_id": successor}

    return [_simple(parsed, LegacyProvince, row, ("code",))]


def _load_agencies(parsed: ParsedFile | None) -> list[CatalogueResult]:
    assert parsed is not None
    result = CatalogueResult(name="agencies", version=parsed.version, source=parsed.file)
    provinces = _code_map(Province)
    existing = _index(Agency, ("code",))
    seen: set[tuple[Any, ...]] = set()
    items: list[AgencyItem] = list(parsed.items)
    by_code = {item.code: item for item in items}
    expected_parent = {
        Agency.Level.PROVINCIAL: Agency.Level.CENTRAL,
        Agency.Level.BASE: Agency.Level.PROVINCIAL,
    }
    # Parents must exist before their children (the hierarchy constraint forbids a null
    # parent), so write level by level: central, then provincial, then base.
    for level in (Agency.Level.CENTRAL, Agency.Level.PROVINCIAL, Agency.Level.BASE):
        rows = []
        for item in (i for i in items if i.level == level):
            label = f"code={item.code}"
            parent_id = None
            if item.parent is not None:
                parent = by_code.get(item.parent) or existing.get((item.parent,))
                if parent is None:
                    raise CatalogueDataError(
                        f"cơ quan cấp trên '{item.parent}' không tồn tại / parent agency '{item.parent}' does not exist",
                        file=parsed.file,
                        item=label,
                    )
                if parent.level != expected_parent[level]:
                    raise CatalogueDataError(
                        f"cấp trên của cấp {level} phải là cấp {expected_parent[level]} / "
                        f"the parent of a {level} agency must be {expected_parent[level]}",
                        file=parsed.file,
                        item=label,
                    )
                parent_id = existing[(item.parent,)].pk
            province_id = None
            if item.province is not None:
                province_id = _resolve(
                    provinces, item.province, what="tỉnh/province", file=parsed.file, item=label
                )
            row = {
                "code": item.code,
                "name": item.name,
                "level": item.level.value,
                "parent_id": parent_id,
                "province_id": province_id,
                "address": item.address,
                "phone": item.phone,
                "email": item.email,
                "note": item.note,
                **_effective(item),
            }
            _check_lengths(Agency, row, file=parsed.file, item=label)
            rows.append(row)
        seen |= _sync(Agency, result, rows, ("code",), existing=existing)
        # Re-read so the next level sees the primary keys of the rows just created.
        existing = _index(Agency, ("code",))
    result.stale = len(existing.keys() - seen)
    return [result]


def _load_forms(parsed: ParsedFile | None) -> list[CatalogueResult]:
    assert parsed is not None

    def row(item: FormItem) -> dict[str, Any]:
        return {
            "code": item.code,
            "portal_id": item.portal_id,
            "name": item.name,
            "name_en": item.name_en,
            "kind": item.kind.value,
            "signature_node": item.signature_node,
            **_effective(item),
        }

    return [_simple(parsed, Form, row, ("code",))]


def _load_procedures(parsed: ParsedFile | None) -> list[CatalogueResult]:
    assert parsed is not None
    items: list[ProcedureItem] = list(parsed.items)

    def row(item: ProcedureItem) -> dict[str, Any]:
        return {
            "code": item.code,
            "name": item.name,
            "name_en": item.name_en,
            "field": item.field.value,
            "time_limit_days": item.time_limit_days,
            "time_limit_confirmed": item.time_limit_confirmed,
            "signature_required": item.signature_required,
            "channels": list(item.channels),
            "note": item.note,
            **_effective(item),
        }

    procedures = _simple(parsed, Procedure, row, ("code",))

    links = CatalogueResult(name="procedure_forms", version=parsed.version, source=parsed.file)
    forms = _code_map(Form)
    procedure_ids = dict(
        Procedure.objects.filter(code__in=[i.code for i in items]).values_list("code", "pk")
    )
    rows = []
    for item in items:
        for position, link in enumerate(item.forms, start=1):
            form_id = _resolve(
                forms, link.form, what="tờ khai/form", file=parsed.file, item=f"code={item.code}"
            )
            rows.append(
                {
                    "procedure_id": procedure_ids[item.code],
                    "form_id": form_id,
                    "required": link.required,
                    "position": position,
                }
            )
    key = ("procedure_id", "form_id")
    existing = _index(
        ProcedureForm, key, ProcedureForm.objects.filter(procedure_id__in=procedure_ids.values())
    )
    seen = _sync(ProcedureForm, links, rows, key, existing=existing)
    # A procedure's form list belongs to the procedure item: a form dropped from it is removed.
    stale = [obj.pk for k, obj in existing.items() if k not in seen]
    if stale:
        links.deleted, _ = ProcedureForm.objects.filter(pk__in=stale).delete()
    return [procedures, links]


def _load_change_types(parsed: ParsedFile | None) -> list[CatalogueResult]:
    assert parsed is not None

    def row(item: ChangeTypeItem) -> dict[str, Any]:
        return {
            "list_code": item.list,
            "code": item.code,
            "name": item.name,
            "direction": item.direction.value,
            **_effective(item),
        }

    return [_simple(parsed, ChangeType, row, ("list_code", "code", "effective_from"))]


def _load_minimum_wages(parsed: ParsedFile | None) -> list[CatalogueResult]:
    assert parsed is not None

    def row(item: MinimumWageItem) -> dict[str, Any]:
        return {"region": item.region, "amount": item.amount, **_effective(item)}

    return [_simple(parsed, MinimumWage, row, ("region", "effective_from"))]


def _load_reference_salaries(parsed: ParsedFile | None) -> list[CatalogueResult]:
    assert parsed is not None

    def row(item: ReferenceSalaryItem) -> dict[str, Any]:
        return {"amount": item.amount, **_effective(item)}

    return [_simple(parsed, ReferenceSalary, row, ("effective_from",))]


def _load_contribution_rates(parsed: ParsedFile | None) -> list[CatalogueResult]:
    assert parsed is not None

    def row(item: ContributionRateItem) -> dict[str, Any]:
        return {
            "fund": item.fund.value,
            "employer_rate": item.employer_rate,
            "employee_rate": item.employee_rate,
            **_effective(item),
        }

    return [_simple(parsed, ContributionRate, row, ("fund", "effective_from"))]


def _load_ivan_providers(parsed: ParsedFile | None) -> list[CatalogueResult]:
    assert parsed is not None

    def row(item: IVanProviderItem) -> dict[str, Any]:
        return {"code": item.code, "name": item.name, **_effective(item)}

    return [_simple(parsed, IVanProvider, row, ("code",))]


def _load_ethnicities(parsed: ParsedFile | None) -> list[CatalogueResult]:
    assert parsed is not None
    return [
        _simple(parsed, Ethnicity, lambda item: {"code": item.code, "name": item.name}, ("code",))
    ]


def _load_nationalities(parsed: ParsedFile | None) -> list[CatalogueResult]:
    assert parsed is not None
    return [
        _simple(parsed, Nationality, lambda item: {"code": item.code, "name": item.name}, ("code",))
    ]


LOADERS: dict[str, Callable[[ParsedFile | None], list[CatalogueResult]]] = {
    "provinces": _load_provinces,
    "communes": _load_communes,
    "legacy_provinces": _load_legacy_provinces,
    "agencies": _load_agencies,
    "forms": _load_forms,
    "procedures": _load_procedures,
    "change_types": _load_change_types,
    "minimum_wages": _load_minimum_wages,
    "reference_salaries": _load_reference_salaries,
    "contribution_rates": _load_contribution_rates,
    "ivan_providers": _load_ivan_providers,
    "ethnicities": _load_ethnicities,
    "nationalities": _load_nationalities,
}


def load_catalogues(
    *, only: Sequence[str] | None = None, data_dir: Path | None = None
) -> LoadReport:
    """Upsert the catalogues from the data files and the vietnam-provinces package, all or nothing."""
    started = time.perf_counter()
    names = list(CATALOGUES) if not only else list(dict.fromkeys(only))
    unknown = [name for name in names if name not in LOADERS]
    if unknown:
        raise ValueError(f"unknown catalogue(s) {unknown}; choose from {list(CATALOGUES)}")
    names = [name for name in CATALOGUES if name in names]
    directory = data_dir or DATA_DIR

    # Validate every file before writing anything, so a bad file fails fast and names itself.
    parsed = {name: parse_file(name, data_dir=directory) for name in names if name in FILES}

    report = LoadReport(
        packages={
            PACKAGE: vietnam_provinces.__version__,
            f"{PACKAGE} data": vietnam_provinces.__data_version__,
        }
    )
    with transaction.atomic():
        for name in names:
            report.results.extend(LOADERS[name](parsed.get(name)))
    report.duration_seconds = time.perf_counter() - started
    logger.info(
        "catalogues loaded: %s created, %s updated in %.2fs (%s)",
        report.created,
        report.updated,
        report.duration_seconds,
        ", ".join(names),
    )
    return report
