"""The data files on their own: no database needed."""

from __future__ import annotations

import json

import pytest

from ebhxh.catalog.datafiles import DATA_DIR, FILES, CatalogueDataError, parse_file


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_data_file_is_valid_and_versioned(name):
    parsed = parse_file(name)
    raw = json.loads((DATA_DIR / FILES[name].file).read_text(encoding="utf-8"))
    assert parsed.version == raw["version"]
    assert raw["source"]
    assert len(parsed.items) == len(raw["items"]) > 0


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(
        CatalogueDataError, match=r"^forms\.json: không tìm thấy tệp / file not found$"
    ):
        parse_file("forms", data_dir=tmp_path)


def test_the_legacy_mapping_covers_63_provinces_into_34():
    items = parse_file("legacy_provinces").items
    assert len(items) == 63
    assert len({item.successor for item in items}) == 34


def test_rates_in_the_file_never_overlap_and_cover_every_fund():
    funds = {item.fund for item in parse_file("contribution_rates").items}
    assert funds == {"pension", "sickness", "accident", "health", "unemployment"}
