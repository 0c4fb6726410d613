import pytest
from django.urls import reverse

from ebhxh.units.tests.factories import EmploymentFactory, UnitFactory
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


def test_an_english_browser_still_gets_vietnamese_until_the_user_switches(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="vi">' in response.content.decode()
    assert response["Content-Language"] == "vi"
    client.cookies["django_language"] = "en"
    assert '<html lang="en">' in client.get("/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()


def test_an_unknown_language_cookie_falls_back_to_vietnamese(client):
    client.cookies["django_language"] = "fr"
    assert '<html lang="vi">' in client.get("/").content.decode()


def _queries(client, url="/"):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_home_pages_do_not_grow_a_query_per_row(client, unit_admin, desk_officer, unit_b):
    EmploymentFactory(unit=unit_admin.unit)
    verified_login(client, unit_admin)
    _queries(client)  # the first request stores the second-factor decision in the session
    few = _queries(client)
    for _ in range(5):
        EmploymentFactory(unit=unit_admin.unit)
    assert _queries(client) == few

    verified_login(client, desk_officer)
    _queries(client)
    few = _queries(client)
    UnitFactory(managing_agency=desk_officer.agency)
    UnitFactory(managing_agency=desk_officer.agency)
    assert _queries(client) == few


def test_a_unit_sees_this_months_contributions(client, unit_admin, time_machine):
    time_machine.move_to("2026-06-15 10:00 +07:00")
    EmploymentFactory(unit=unit_admin.unit, salary_amount=10_000_000)
    verified_login(client, unit_admin)
    html = client.get("/").content.decode()
    # Region I, 06/2026: employer 21.5 % and employee 10.5 % of 10,000,000 (docs/contributions.md).
    assert "Số phải đóng kỳ 06/2026" in html
    assert "2.150.000 ₫" in html
    assert "1.050.000 ₫" in html


@pytest.mark.parametrize(
    ("language", "text"), [("vi", "không hợp lệ"), ("en", "Invalid contribution period")]
)
def test_the_catalogue_page_explains_a_bad_period_in_the_users_language(client, language, text):
    client.cookies["django_language"] = language
    html = client.get("/danh-muc/?period=13/2026&region=1").content.decode()
    assert text in html
