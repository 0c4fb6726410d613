"""The loaded catalogue content: what the data files and the package promise."""

from __future__ import annotations

import pytest

from ebhxh.catalog import models as m

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("79", "79"),  # TP. Hồ Chí Minh
        ("74", "79"),  # Bình Dương
        ("77", "79"),  # Bà Rịa - Vũng Tàu
        ("02", "08"),  # Hà Giang → Tuyên Quang
        ("10", "15"),  # Lào Cai (old) → Lào Cai (new, code of Yên Bái)
        ("27", "24"),  # Bắc Ninh (old) → Bắc Ninh (new, code of Bắc Giang)
        ("30", "31"),  # Hải Dương → Hải Phòng
        ("49", "48"),  # Quảng Nam → Đà Nẵng
        ("64", "52"),  # Gia Lai (old) → Gia Lai (new, code of Bình Định)
        ("93", "92"),  # Hậu Giang → Cần Thơ
        ("01", "01"),  # Hà Nội, unchanged
    ],
)
def test_legacy_provinces_map_to_their_2025_successor(old, new):
    assert m.LegacyProvince.objects.get(code=old).successor.code == new


def test_the_new_hcmc_absorbs_exactly_three_legacy_provinces():
    hcmc = m.Province.objects.get(code="79")
    assert hcmc.name == "Thành phố Hồ Chí Minh"
    assert sorted(hcmc.legacy_codes.values_list("code", flat=True)) == ["74", "77", "79"]


def test_every_new_province_has_legacy_codes_and_keeps_one_of_them():
    # Resolution 202/2025/QH15 gave each merged province the code of one of its parts.
    for province in m.Province.objects.prefetch_related("legacy_codes"):
        codes = {legacy.code for legacy in province.legacy_codes.all()}
        assert province.code in codes, province
    assert m.LegacyProvince.objects.values("successor").distinct().count() == 34


def test_communes_belong_to_provinces_and_use_five_digit_codes():
    commune = m.Commune.objects.select_related("province").get(code="00070")
    assert (commune.name, commune.province.code) == ("Phường Hoàn Kiếm", "01")
    assert not m.Commune.objects.exclude(code__regex=r"^\d{5}$").exists()


def test_procedure_600_has_the_portal_form_list():
    links = m.ProcedureForm.objects.filter(procedure__code="600").select_related("form")
    assert [(link.form.code, link.form.portal_id, link.required) for link in links] == [
        ("D02-LT", "D02-TS", True),
        ("CT-DK", "CT-DK", False),
        ("D01-TS", "D01-TS", False),
        ("TK1-TS", "TK1-TS", False),
    ]


def test_only_procedure_600_has_a_confirmed_time_limit():
    p600 = m.Procedure.objects.get(code="600")
    assert (p600.time_limit_days, p600.time_limit_confirmed) == (5, True)
    unconfirmed = m.Procedure.objects.exclude(code="600")
    assert not unconfirmed.filter(time_limit_confirmed=True).exists()
    assert set(unconfirmed.values_list("time_limit_days", flat=True)) == {10}


@pytest.mark.parametrize(
    "code",
    ["600", "600a", "600b", "600c", "601", "602", "603", "604", "607", "630a", "630b", "630c"],
)
def test_required_procedures_exist_with_a_required_form(code):
    procedure = m.Procedure.objects.get(code=code)
    assert procedure.name and procedure.name_en and procedure.channels
    assert procedure.procedure_forms.filter(required=True).exists()


def test_forms_carry_their_signature_node():
    nodes = dict(m.Form.objects.values_list("code", "signature_node"))
    assert nodes["TK1-TS"] == "TK1-TS/Cky"
    assert nodes["D02-LT"] == "D02-TS/Cky"
    assert nodes["CT-DK"] == ""
    assert m.Form.objects.get(code="CT-DK").kind == m.Form.Kind.ATTACHMENT


def test_pa_list_600_has_every_code_with_a_direction():
    rows = dict(m.ChangeType.objects.filter(list_code="600").values_list("code", "direction"))
    assert len(rows) == 26
    assert rows["TM"] == "increase"
    assert rows["GH"] == "decrease"
    assert rows["DC"] == "adjust"


def test_ethnicities_use_gso_codes_and_99_for_foreigners():
    names = dict(m.Ethnicity.objects.values_list("code", "name"))
    assert names["01"] == "Kinh"
    assert names["54"] == "Rơ Măm"
    assert names["99"] == "Người nước ngoài"
    assert len([code for code in names if code != "99"]) == 54
