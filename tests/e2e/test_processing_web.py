"""The back office end to end in Debian's Chromium (issue 7 item 9): a dossier received by the
intake → the one-stop desk (TOTP) accepts it → a Thu officer assigns it to herself and completes
it (procedure 600: the registry plan is shown, no conflicts) → the desk returns the result → the
unit logs in, sees "Đã trả kết quả" and downloads the result notice.

Screenshots of every step go to var/test-artifacts/processing/ (EBHXH_ARTIFACTS overrides)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from ebhxh.accounts.tests.factories import PASSWORD
from ebhxh.dossiers import services as intake
from ebhxh.dossiers.models import Channel, Dossier, Status
from ebhxh.dossiers.tests.conftest import (  # noqa: F401  fixtures
    active_unit,
    agency_seal,
    envelope_for,
    media,
    pki,
    procedures,
    seal_p12,
    unit_cert,
)
from ebhxh.processing.models import Case, Stage
from ebhxh.processing.tests.conftest import thu_officer  # noqa: F401  fixture
from ebhxh.processing.tests.test_views import _png as tiny_png

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("EBHXH_ARTIFACTS", ROOT / "var" / "test-artifacts")) / "processing"
VIEWPORT = {"width": 1366, "height": 768}


def shot(page, step: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{step}.png"), full_page=True)


def new_page(browser):
    context = browser.new_context(locale="vi-VN", viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(20_000)
    return context, page


def log_in(page, live_server, username: str, officer=None) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Tên đăng nhập, email, mã đơn vị hoặc mã số thuế").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    if officer is not None:
        device = TOTPDevice.objects.get(user=officer)
        token = TOTP(device.bin_key, device.step, device.t0, device.digits).token()
        page.get_by_label("Mã xác thực 6 chữ số").fill(f"{token:06d}")
        page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_url(live_server.url + "/")


def _submit(data: bytes, unit) -> int:
    try:
        return intake.submit(data, unit=unit, channel=Channel.API).dossier.pk
    finally:
        connection.close()


@pytest.fixture
def received(active_unit, unit_cert) -> Dossier:  # noqa: F811  the fixtures imported above
    """A 3-row D02-TS of unit A with a scan attached, received by the intake (case at the desk)."""
    data = envelope_for(
        active_unit,
        unit_cert,
        rows=3,
        first=7000,
        attachments=[("giay-to.png", tiny_png(480, 200))],
    )
    # The checks (signatures) run an asyncio loop of their own: not in this thread, where
    # Playwright's loop runs (see conftest.browser).
    with ThreadPoolExecutor(1) as pool:
        pk = pool.submit(_submit, data, active_unit).result()
    dossier = Dossier.objects.get(pk=pk)
    assert dossier.status == Status.RECEIVED, dossier.findings
    return dossier


def test_desk_thu_desk_unit(
    live_server,
    browser,
    received,
    desk_officer,
    thu_officer,  # noqa: F811
    unit_admin,
    settings,
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    number = received.number
    case = Case.objects.get(dossier=received)

    # 1. The desk: its queue, the dossier page, accept → Phòng Thu.
    desk_context, desk = new_page(browser)
    log_in(desk, live_server, "motcua", desk_officer)
    desk.get_by_role("link", name="Hồ sơ cần giải quyết").click()
    expect(desk.get_by_role("link", name=number)).to_be_visible()
    expect(desk.locator("#queue")).to_contain_text("Còn ")
    shot(desk, "1-desk-queue")
    desk.get_by_role("link", name=number).click()
    expect(desk.locator("#form-D02-TS")).to_contain_text("Họ và tên")
    expect(desk.locator("#signatures")).to_contain_text("Hợp lệ")
    expect(desk.locator("#attachments img.preview")).to_be_visible()
    shot(desk, "2-desk-dossier")
    desk.locator("#action-accept").get_by_label("Chuyển phòng giải quyết").select_option(
        "collection"
    )
    desk.locator("#action-accept").get_by_role("button").click()
    expect(desk.get_by_text("Đã tiếp nhận và chuyển hồ sơ đến phòng giải quyết.")).to_be_visible()
    expect(desk.locator("#stage")).to_have_text("Chờ phân công")
    shot(desk, "3-desk-accepted")

    # 2. Thu: her department's queue, assign to herself, the registry plan, complete.
    thu_context, thu = new_page(browser)
    log_in(thu, live_server, "thu.a", thu_officer)
    thu.goto(live_server.url + "/co-quan/ho-so/")
    expect(thu.locator("ul.tabs li.current")).to_have_text("Phòng Thu")
    shot(thu, "4-thu-queue")
    thu.get_by_role("link", name=number).click()
    thu.locator("#action-assign").get_by_label("Cán bộ xử lý").select_option(str(thu_officer.pk))
    thu.locator("#action-assign").get_by_role("button").click()
    expect(thu.get_by_text("Đã phân công cán bộ xử lý.")).to_be_visible()
    expect(thu.locator("#registry-plan")).to_contain_text("Không có xung đột")
    shot(thu, "5-thu-plan")
    thu.locator("#action-complete").get_by_label("Kết quả giải quyết").fill(
        "Đã ghi nhận 3 lao động tăng mới."
    )
    thu.get_by_role("button", name="Hoàn thành giải quyết").click()
    expect(thu.get_by_text("Đã hoàn thành giải quyết")).to_be_visible()
    expect(thu.locator("#stage")).to_have_text("Có kết quả, chờ trả")
    shot(thu, "6-thu-completed")
    thu_context.close()

    # 3. The desk returns the result (same session: a TOTP code is single-use).
    desk.goto(live_server.url + f"/co-quan/ho-so/{case.pk}/")
    desk.get_by_role("button", name="Trả kết quả").click()
    expect(desk.get_by_text("Đã trả kết quả cho đơn vị.")).to_be_visible()
    expect(desk.locator("#timeline")).to_contain_text("Trả kết quả")
    shot(desk, "7-desk-returned")
    desk_context.close()
    assert Case.objects.get(pk=case.pk).stage == Stage.RETURNED

    # 4. The unit: "Đã trả kết quả", the timeline, the result notice, a message.
    unit_context, unit = new_page(browser)
    log_in(unit, live_server, unit_admin.username)
    unit.goto(live_server.url + f"/don-vi/ho-so/{received.tracking_id}/")
    expect(unit.locator("#status")).to_have_text("Đã trả kết quả")
    expect(unit.locator("#processing-timeline")).to_contain_text("Hoàn thành giải quyết")
    unit.get_by_label("Tin nhắn").fill("Cảm ơn cơ quan BHXH.")
    unit.get_by_role("button", name="Gửi tin nhắn").click()
    expect(unit.get_by_text("Đã gửi tin nhắn cho cơ quan BHXH.")).to_be_visible()
    shot(unit, "8-unit-returned")
    with unit.expect_download() as info:
        unit.locator("#result-pdf").click()
    download = info.value
    target = ARTIFACTS / download.suggested_filename
    download.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")
    unit_context.close()
