"""Registration end to end in Debian's Chromium (issue 5 item 9): the unit fills in 01/ĐK-GĐ, signs it
with a SoftHSM token through the real signing agent (`ebhxh signer` as its own process) or confirms
it with the code e-mailed to it; the one-stop desk approves; the set-password link arrives by
e-mail; the unit sets its password and logs in with its new unit code.

Screenshots of every step go to var/test-artifacts/registration/ (EBHXH_ARTIFACTS overrides)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core import mail
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ebhxh.accounts.tests.factories import PASSWORD
from ebhxh.catalog.models import Procedure
from ebhxh.registrations.models import Registration
from ebhxh.signatures.testing.pki import TestPKI
from ebhxh.signatures.trust import add_trusted_root

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = (
    Path(os.environ.get("EBHXH_ARTIFACTS", ROOT / "var" / "test-artifacts")) / "registration"
)
PIN = "246810"
NEW_PASSWORD = "Mat-khau-moi-2026!"  # noqa: S105


@pytest.fixture
def catalogue(db):
    Procedure.objects.create(
        code="600",
        name="Đăng ký, điều chỉnh đóng BHXH, BHYT, BHTN",
        field="collection",
        time_limit_days=5,
    )


@pytest.fixture
def seal(settings, tmp_path):
    path = tmp_path / "seal.p12"
    path.write_bytes(TestPKI(name="Seal").issue("Bảo hiểm xã hội Thử nghiệm").pkcs12(None))
    settings.SEAL_PKCS12_FILE = str(path)
    settings.MEDIA_ROOT = str(tmp_path / "media")


def shot(page, flow: str, step: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{flow}-{step}.png"), full_page=True)


def fill_declaration(page, base_agency, *, tax_code: str, email: str, signed: bool) -> None:
    page.get_by_label("Tên đơn vị").fill("Công ty TNHH Đăng Ký Trực Tuyến")
    page.get_by_label("Mã số thuế").fill(tax_code)
    page.get_by_label("Loại hình đơn vị").select_option("private_enterprise")
    page.get_by_label("Cơ quan BHXH quản lý").select_option(str(base_agency.pk))
    page.get_by_label("Địa chỉ trụ sở").fill("12 Nguyễn Huệ, Phường Sài Gòn, TP. Hồ Chí Minh")
    page.get_by_label("Thủ trưởng đơn vị").fill("Trần Văn Giám Đốc")
    page.get_by_label("Người liên hệ", exact=True).fill("Lê Thị Kế Toán")
    page.get_by_label("Email nhận thông báo và kết quả").fill(email)
    page.get_by_label("Điện thoại đơn vị").fill("028 3822 0000")
    page.get_by_label(re.compile("600 – Đăng ký")).check()
    page.get_by_label(re.compile("Có chữ ký số" if signed else "Không sử dụng chữ ký số")).check()
    page.get_by_label(re.compile("Giấy chứng nhận đăng ký doanh nghiệp")).set_input_files(
        files=[{"name": "gcn.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 GCN"}]
    )
    page.get_by_label(re.compile("Đơn vị cam kết")).check()


def approve_at_the_desk(browser, live_server, desk_officer, reference: str, flow: str) -> None:
    context = browser.new_context(locale="vi-VN", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(20_000)
    device = TOTPDevice.objects.get(user=desk_officer)
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Tên đăng nhập, email, mã đơn vị hoặc mã số thuế").fill("motcua")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    token = TOTP(device.bin_key, device.step, device.t0, device.digits).token()
    page.get_by_label("Mã xác thực 6 chữ số").fill(f"{token:06d}")
    page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/co-quan/dang-ky/")
    shot(page, flow, "4-desk-queue")
    page.get_by_role("link", name=reference).click()
    assert page.get_by_role("heading", level=1).inner_text().startswith(reference)
    shot(page, flow, "5-desk-review")
    page.get_by_role("button", name="Duyệt và gửi thông báo 01/TB-GD").click()
    page.get_by_text("Đã duyệt đăng ký và gửi thông báo cho đơn vị.").wait_for()
    shot(page, flow, "6-desk-approved")
    context.close()


def set_password_and_log_in(page, live_server, reg: Registration, flow: str) -> None:
    link_mail = next(m for m in reversed(mail.outbox) if "/accounts/dat-mat-khau/" in m.body)
    assert link_mail.to == [reg.email]
    link = re.search(r"https?://\S+/accounts/dat-mat-khau/\S+/", link_mail.body)[0]
    path = link.split("/accounts/", 1)[1]
    page.goto(f"{live_server.url}/accounts/{path}")
    shot(page, flow, "7-set-password")
    page.locator("input[name=new_password1]").fill(NEW_PASSWORD)
    page.locator("input[name=new_password2]").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Lưu mật khẩu").click()
    page.get_by_label("Tên đăng nhập, email, mã đơn vị hoặc mã số thuế").fill(reg.unit_code)
    page.get_by_label("Mật khẩu").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(live_server.url + "/")
    assert page.get_by_role("heading", level=1).inner_text() == "Công ty TNHH Đăng Ký Trực Tuyến"
    shot(page, flow, "8-unit-home")
    page.goto(live_server.url + "/don-vi/dang-ky/")
    assert page.get_by_role("cell", name=reg.reference).is_visible()
    shot(page, flow, "9-unit-registration")


def test_register_without_a_signature(
    live_server, browser, base_agency, desk_officer, catalogue, seal, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    context = browser.new_context(locale="vi-VN", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(live_server.url + "/dang-ky/")
    shot(page, "email", "1-start")
    page.get_by_role("link", name="Bắt đầu đăng ký").click()
    fill_declaration(
        page, base_agency, tax_code="0312345673", email="ketoan@tructuyen.vn", signed=False
    )
    shot(page, "email", "2-form")
    page.get_by_role("button", name="Tiếp tục").click()
    page.get_by_role("heading", name="Xác nhận bằng mã gửi qua email").wait_for()
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)[1]
    page.get_by_label("Mã xác nhận 6 chữ số").fill(code)
    page.get_by_role("button", name="Xác nhận và gửi tờ khai").click()
    page.get_by_role("heading", name="Cơ quan BHXH đã nhận tờ khai").wait_for()
    shot(page, "email", "3-submitted")
    reference = page.locator("#reference").inner_text()
    approve_at_the_desk(browser, live_server, desk_officer, reference, "email")
    reg = Registration.objects.get(reference=reference)
    assert reg.status == "approved" and not reg.uses_signature
    set_password_and_log_in(page, live_server, reg, "email")
    context.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def token_agent(live_server, sysadmin, settings, tmp_path):
    """A SoftHSM token with the unit's key and certificate, and `ebhxh signer` serving it."""
    from ebhxh.signatures.testing import softhsm

    reason = softhsm.softhsm_unavailable_reason()
    if reason:
        pytest.skip(reason)
    pki = TestPKI(name="ebhxh E2E")
    add_trusted_root(pki.root.cert_pem, actor=sysadmin)
    hsm = softhsm.shared_softhsm()
    label = hsm.unique_label("dangky")
    hsm.init_token(label, pin=PIN)
    hsm.provision_signer(
        pki,
        label,
        PIN,
        common_name="Công ty TNHH Đăng Ký Trực Tuyến",
        tax_code="0312345673",
        with_chain=True,
    )
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(hsm.env, DATA_DIR=str(tmp_path / "agent"), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "signer",
            "--pkcs11-module",
            hsm.module_path,
            "--token",
            label,
            "--port",
            str(port),
            "--origin",
            live_server.url,
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None
    proc.stdin.write(f"c\n{PIN}\n")  # the person confirms in the agent and types the PIN there
    proc.stdin.flush()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, proc.communicate()
        try:
            request = urllib.request.Request(  # noqa: S310  loopback test agent
                url + "/v1/info", headers={"Origin": live_server.url}
            )
            with urllib.request.urlopen(request, timeout=2):  # noqa: S310  loopback test agent
                break
        except OSError:
            assert time.monotonic() < deadline, "the signing agent did not start"
            time.sleep(0.2)
    settings.SIGNING_AGENT_URL = url
    yield proc
    proc.send_signal(signal.SIGINT)
    try:
        proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


def test_register_with_a_token_through_the_signing_agent(
    live_server, browser, base_agency, desk_officer, catalogue, seal, settings, token_agent
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    context = browser.new_context(locale="vi-VN", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(live_server.url + "/dang-ky/to-khai/")
    fill_declaration(
        page, base_agency, tax_code="0312345673", email="giamdoc@tructuyen.vn", signed=True
    )
    page.get_by_role("button", name="Tiếp tục").click()
    page.get_by_text("Đã kết nối phần mềm ký.").wait_for()
    assert "Công ty TNHH Đăng Ký Trực Tuyến" in page.locator("#certificate-choice").inner_text()
    shot(page, "token", "2-sign")
    page.get_by_role("button", name="Ký và gửi tờ khai").click()
    try:
        page.get_by_role("heading", name="Cơ quan BHXH đã nhận tờ khai").wait_for()
    except Exception:
        shot(page, "token", "3-failed")
        raise AssertionError(
            page.locator("#agent-error").inner_text()
            + " | "
            + page.locator("#agent-status").inner_text()
        ) from None
    shot(page, "token", "3-submitted")
    reference = page.locator("#reference").inner_text()
    reg = Registration.objects.get(reference=reference)
    assert reg.uses_signature and reg.verification["valid"] and reg.certificate_serial
    approve_at_the_desk(browser, live_server, desk_officer, reference, "token")
    reg.refresh_from_db()
    assert reg.unit.certificates.filter(status="active").count() == 1
    set_password_and_log_in(page, live_server, reg, "token")
    context.close()
