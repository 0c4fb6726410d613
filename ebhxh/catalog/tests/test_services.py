from __future__ import annotations

import json
from pathlib import Path

import pytest

from ebhxh.catalog import models as m
from ebhxh.catalog.services import CATALOGUES, CatalogueDataError, load_catalogues
from ebhxh.catalog.tests.utils import copy_data, wipe_catalogues

pytestmark = pytest.mark.django_db


def _edit(data_dir: Path, file: str, change) -> None:
    path = data_dir / file
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def test_it_loads_the_expected_counts(catalogues):
    assert m.Province.objects.count() == 34
    assert m.Commune.objects.count() == 3321
    assert m.LegacyProvince.objects.count() == 63
    assert m.Procedure.objects.count() >= 12
    assert m.ChangeType.objects.filter(list_code="600").count() == 26
    assert m.ChangeType.objects.filter(list_code="voluntary").count() == 11
    assert m.ChangeType.objects.filter(list_code="short").count() == 4
    assert m.IVanProvider.objects.count() == 15
    assert m.Ethnicity.objects.count() == 55
    assert m.Nationality.objects.filter(code="VN", name="Việt Nam").exists()
    assert m.MinimumWage.objects.count() == 8
    assert m.ReferenceSalary.objects.count() == 2
    assert m.Agency.objects.filter(code="07906", level="base", parent__code="07900").exists()
    assert catalogues["communes"].total == 3321


def test_it_records_the_package_version(catalogues):
    assert catalogues.packages["vietnam-provinces"]
    assert catalogues["provinces"].version.startswith("vietnam-provinces ")
    assert (
        catalogues["procedures"].version
        == json.loads(
            (Path(m.__file__).parent / "data" / "procedures.json").read_text(encoding="utf-8")
        )["version"]
    )


def test_it_is_idempotent_from_empty_tables():
    wipe_catalogues()
    first = load_catalogues()
    assert first.created == sum(r.total for r in first.results) > 3600
    assert first["communes"].created == 3321
    assert first.updated == 0
    assert all(r.created == r.total for r in first.results)

    second = load_catalogues()
    assert (second.created, second.updated) == (0, 0)
    assert not second.changed
    assert all(r.unchanged == r.total and r.stale == 0 for r in second.results)


def test_it_is_fast_enough():
    wipe_catalogues()
    report = load_catalogues()
    # A few seconds at most on a slow machine; the measured load is well under one second.
    assert report.duration_seconds < 5


def test_it_updates_a_changed_value_and_counts_it(tmp_path):
    data = copy_data(tmp_path)
    _edit(data, "procedures.json", lambda d: d["items"][0].update(time_limit_days=6))

    report = load_catalogues(only=["procedures"], data_dir=data)

    assert (report["procedures"].updated, report["procedures"].unchanged) == (1, 11)
    assert m.Procedure.objects.get(code="600").time_limit_days == 6
    assert load_catalogues(only=["procedures"]).updated == 1
    assert m.Procedure.objects.get(code="600").time_limit_days == 5


def test_it_syncs_the_form_list_of_a_procedure(tmp_path):
    data = copy_data(tmp_path)
    _edit(data, "procedures.json", lambda d: d["items"][0]["forms"].pop())  # drop TK1-TS from 600

    report = load_catalogues(only=["procedures"], data_dir=data)

    assert report["procedure_forms"].deleted == 1
    assert list(
        m.ProcedureForm.objects.filter(procedure__code="600").values_list("form__code", flat=True)
    ) == [
        "D02-LT",
        "CT-DK",
        "D01-TS",
    ]


def test_it_keeps_rows_that_left_the_file_and_reports_them(tmp_path):
    data = copy_data(tmp_path)
    _edit(data, "ivan_providers.json", lambda d: d["items"].pop())

    report = load_catalogues(only=["ivan_providers"], data_dir=data)

    assert report["ivan_providers"].stale == 1
    assert m.IVanProvider.objects.filter(code="00115").exists()


def test_it_loads_only_the_named_catalogues():
    report = load_catalogues(only=["ethnicities", "forms"])
    assert [r.name for r in report.results] == [
        "forms",
        "ethnicities",
    ]  # load order, not argument order


def test_it_rejects_an_unknown_catalogue_name():
    with pytest.raises(ValueError, match="unknown catalogue"):
        load_catalogues(only=["hospitals"])


def test_catalogue_names_match_the_data_files():
    files = {p.stem for p in (Path(m.__file__).parent / "data").glob("*.json")}
    assert files == set(CATALOGUES) - {"provinces", "communes"}


# --- Corrupt data files: a clear message naming the file and item, and nothing written ----------------


def test_it_names_the_file_of_invalid_json_and_writes_nothing(tmp_path):
    wipe_catalogues()
    data = copy_data(tmp_path)
    (data / "agencies.json").write_text('{"version": "1", "items": [', encoding="utf-8")

    with pytest.raises(
        CatalogueDataError, match=r"agencies\.json: JSON không hợp lệ / invalid JSON"
    ):
        load_catalogues(data_dir=data)
    assert m.Province.objects.count() == 0


def test_it_names_the_file_item_and_field_of_an_invalid_item(tmp_path):
    data = copy_data(tmp_path)
    _edit(data, "procedures.json", lambda d: d["items"][3].update(field="taxes"))

    with pytest.raises(CatalogueDataError) as error:
        load_catalogues(data_dir=data)

    assert error.value.file == "procedures.json"
    assert error.value.item == "mục 4 / item 4 (code=600c)"
    assert "field" in error.value.detail


def test_it_rejects_unknown_keys(tmp_path):
    data = copy_data(tmp_path)
    _edit(data, "forms.json", lambda d: d["items"][0].update(signature="TK1-TS/Cky"))

    with pytest.raises(
        CatalogueDataError, match=r"forms\.json: mục 1 / item 1 \(code=TK1-TS\): signature"
    ):
        load_catalogues(data_dir=data)


def test_it_rejects_duplicate_keys(tmp_path):
    data = copy_data(tmp_path)
    _edit(data, "ethnicities.json", lambda d: d["items"].append({"code": "01", "name": "Kinh"}))

    with pytest.raises(CatalogueDataError, match="duplicate key"):
        load_catalogues(data_dir=data)


def test_it_rejects_overlapping_effective_periods(tmp_path):
    data = copy_data(tmp_path)
    _edit(data, "minimum_wages.json", lambda d: d["items"][0].update(effective_to="2026-01-31"))

    with pytest.raises(
        CatalogueDataError, match=r"minimum_wages\.json: mục 5 / item 5 \(region=1.*overlaps item 1"
    ):
        load_catalogues(data_dir=data)


def test_it_rolls_back_everything_when_a_late_reference_fails(tmp_path):
    wipe_catalogues()
    data = copy_data(tmp_path)
    _edit(
        data,
        "procedures.json",
        lambda d: d["items"][1]["forms"].append({"form": "D99-TS", "required": False}),
    )

    with pytest.raises(
        CatalogueDataError, match=r"procedures\.json: code=600a: tờ khai/form 'D99-TS'"
    ):
        load_catalogues(data_dir=data)

    # Provinces, communes, agencies and forms were written before the failure, then rolled back.
    assert m.Province.objects.count() == 0
    assert m.Commune.objects.count() == 0
    assert m.Form.objects.count() == 0


def test_it_rejects_an_agency_whose_parent_has_the_wrong_level(tmp_path):
    data = copy_data(tmp_path)
    _edit(
        data, "agencies.json", lambda d: d["items"][4].update(parent="00000")
    )  # base under central

    with pytest.raises(
        CatalogueDataError, match=r"agencies\.json: code=07906: .*must be provincial"
    ):
        load_catalogues(data_dir=data)


def test_it_rejects_a_value_longer_than_its_column(tmp_path):
    data = copy_data(tmp_path)
    _edit(data, "ethnicities.json", lambda d: d["items"][0].update(name="K" * 101))

    with pytest.raises(
        CatalogueDataError, match=r"ethnicities\.json: mục 1 / item 1: name: .*max 100"
    ):
        load_catalogues(data_dir=data)


def test_it_updates_a_changed_foreign_key(tmp_path):
    data = copy_data(tmp_path)
    _edit(data, "legacy_provinces.json", lambda d: d["items"][1].update(successor="04"))  # Hà Giang

    report = load_catalogues(only=["legacy_provinces"], data_dir=data)

    assert report["legacy_provinces"].updated == 1
    assert m.LegacyProvince.objects.get(code="02").successor.code == "04"
