"""One browser flow for the foundation: the portal in Vietnamese, the switch to English, a unit
logging in with its unit code, an officer passing the TOTP step."""

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ebhxh.accounts.tests.factories import PASSWORD
from ebhxh.units.tests.factories import EmploymentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_unit_logs_in_with_its_unit_code_and_sees_its_employees(
    live_server, page, unit_admin, tmp_path
):
    employment = EmploymentFactory(unit=unit_admin.unit)
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert (
        page.get_by_role("heading", level=1)
        .inner_text()
        .startswith("Giao dịch điện tử bảo hiểm xã hội")
    )

    page.get_by_role("button", name="EN").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Electronic transactions")
    page.get_by_role("button", name="VI").click()

    page.get_by_role("link", name="Đăng nhập").first.click()
    page.get_by_label("Tên đăng nhập, email, mã đơn vị hoặc mã số thuế").fill("TA0001A")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(live_server.url + "/")
    assert page.get_by_role("heading", level=1).inner_text() == unit_admin.unit.name
    assert page.get_by_role("cell", name=employment.participant.full_name).is_visible()
    page.screenshot(path=str(tmp_path / "unit-home.png"), full_page=True)


def test_an_officer_passes_the_totp_step(live_server, page, desk_officer, unit_a):
    device = TOTPDevice.objects.get(user=desk_officer)
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Tên đăng nhập, email, mã đơn vị hoặc mã số thuế").fill("motcua")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Xác thực hai lớp"
    token = TOTP(device.bin_key, device.step, device.t0, device.digits).token()
    page.get_by_label("Mã xác thực 6 chữ số").fill(f"{token:06d}")
    page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_url(live_server.url + "/")
    assert page.get_by_role("heading", level=1).inner_text() == desk_officer.agency.name
    assert page.get_by_role("cell", name=unit_a.name).is_visible()
