import pytest
from django.urls import reverse

from ebhxh.units.tests.factories import EmploymentFactory
from tests.personas import verified_login

pytestmark = pytest.mark.django_db


def test_the_landing_page_is_vietnamese_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="vi">' in html
    assert "Giao dịch điện tử bảo hiểm xã hội" in html


def test_english_is_one_click_away(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"}, follow=True)
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Electronic transactions for social insurance" in html
    assert "Giao dịch điện tử bảo hiểm xã hội" not in html


def test_login_page_in_english_too(client):
    client.cookies["django_language"] = "en"
    html = client.get(reverse("accounts:login")).content.decode()
    assert "Log in" in html


def test_a_unit_sees_its_own_employees_and_not_others(client, unit_admin, unit_b):
    mine = EmploymentFactory(unit=unit_admin.unit)
    theirs = EmploymentFactory(unit=unit_b)
    verified_login(client, unit_admin)
    html = client.get("/").content.decode()
    assert mine.participant.full_name in html
    assert theirs.participant.full_name not in html
    assert "8.000.000 ₫" in html


def test_an_officer_sees_the_units_of_their_agency_only(client, desk_officer, unit_a, unit_b):
    verified_login(client, desk_officer)
    html = client.get("/").content.decode()
    assert unit_a.name in html
    assert unit_b.name not in html


def test_a_provincial_supervisor_sees_the_units_of_base_agencies_below(
    client, supervisor, unit_a, unit_b
):
    verified_login(client, supervisor)
    html = client.get("/").content.decode()
    assert unit_a.name in html
    assert unit_b.name in html


def test_logout_needs_post(client, preparer):
    client.force_login(preparer)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_the_admin_works_for_the_system_administrator(client, sysadmin):
    client.force_login(sysadmin)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/units/unit/").status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 200


def test_unit_members_cannot_open_the_admin(client, unit_admin):
    client.force_login(unit_admin)
    assert client.get("/admin/").status_code == 302
