"""The web channel end to end in Debian's Chromium (issue 6 item 1): a preparer composes a 3-row
D02-TS by picking people from the unit's registry and hands it over; the signer signs each form and
the envelope with a SoftHSM token through the real signing agent (`ebhxh signer` as its own
process) and submits; the dossier shows "Đã tiếp nhận" with its number and the receipt PDF
downloads.

Screenshots of every step go to var/test-artifacts/dossiers/ (EBHXH_ARTIFACTS overrides)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from playwright.sync_api import expect

from ebhxh.accounts.tests.factories import PASSWORD
from ebhxh.catalog.models import Procedure
from ebhxh.dossiers.models import Dossier, Status
from ebhxh.signatures.testing.pki import TestPKI
from ebhxh.signatures.trust import add_trusted_root, register_certificate
from ebhxh.units.models import Employment, Unit
from ebhxh.units.tests.factories import EmploymentFactory, ParticipantFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("EBHXH_ARTIFACTS", ROOT / "var" / "test-artifacts")) / "dossiers"
PIN = "135790"
PEOPLE = ("Nguyễn Thị Lan", "Trần Văn Hùng", "Lê Minh Châu")


def shot(page, step: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{step}.png"), full_page=True)


@pytest.fixture
def setup(db, unit_a, settings, tmp_path):
    """Unit A registered for e-transactions, procedure 600, the agency seal, three people on the
    unit's registry."""
    Procedure.objects.create(
        code="600",
        name="Đăng ký, điều chỉnh đóng BHXH, BHYT, BHTN",
        field="collection",
        time_limit_days=5,
    )
    seal = tmp_path / "seal.p12"
    seal.write_bytes(TestPKI(name="Seal").issue("Bảo hiểm xã hội Thử nghiệm").pkcs12(None))
    settings.SEAL_PKCS12_FILE = str(seal)
    settings.SEAL_PKCS12_PASSWORD = ""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    unit_a.etx_status = Unit.EtxStatus.ACTIVE
    unit_a.save(update_fields=["etx_status"])
    for name in PEOPLE:
        EmploymentFactory(
            unit=unit_a,
            participant=ParticipantFactory(full_name=name),
            position="Công nhân may",
            salary_amount=6_500_000,
            contract_type=Employment.ContractType.FIXED_TERM,
            contract_start=dt.date(2026, 7, 1),
            contract_end=dt.date(2027, 6, 30),
            start_month=dt.date(2026, 7, 1),
        )
    return unit_a


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def token_agent(live_server, setup, sysadmin, settings, tmp_path):
    """A SoftHSM token with unit A's key and a certificate registered to unit A, and `ebhxh
    signer` serving it; the person confirms and types the PIN for each document."""
    from ebhxh.signatures.testing import softhsm

    reason = softhsm.softhsm_unavailable_reason()
    if reason:
        pytest.skip(reason)
    unit = setup
    pki = TestPKI(name="ebhxh E2E Ho so")
    add_trusted_root(pki.root.cert_pem, actor=sysadmin)
    hsm = softhsm.shared_softhsm()
    label = hsm.unique_label("hoso")
    hsm.init_token(label, pin=PIN)
    token = hsm.provision_signer(
        pki, label, PIN, common_name=unit.name, tax_code=unit.tax_code, with_chain=True
    )
    register_certificate(
        unit, token.certificate.public_bytes(serialization.Encoding.PEM), actor=sysadmin
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
    # Two documents (the D02-TS, then the envelope): confirm and type the PIN for each.
    proc.stdin.write(f"c\n{PIN}\n" * 2)
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


def log_in(browser, live_server, username: str):
    context = browser.new_context(
        locale="vi-VN", viewport={"width": 1366, "height": 768}, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Tên đăng nhập, email, mã đơn vị hoặc mã số thuế").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(live_server.url + "/")
    return context, page


def test_a_preparer_composes_and_a_signer_signs_with_the_token(
    live_server, browser, setup, preparer, signer, token_agent
):
    # --- the preparer composes from the registry and hands the draft over
    context, page = log_in(browser, live_server, "ketoan.a")
    shot(page, "1-preparer-home")
    page.get_by_role("link", name="Lập hồ sơ mới").first.click()
    page.get_by_label("Thủ tục").select_option("600")
    page.get_by_label("Kỳ kê khai").fill("07/2026")
    shot(page, "2-new-draft")
    page.get_by_role("button", name="Tạo hồ sơ nháp").click()
    page.get_by_role("link", name="Thêm từ danh sách lao động").click()
    for name in PEOPLE:
        page.get_by_label(name).check()
    shot(page, "3-registry")
    page.get_by_role("button", name="Thêm người đã chọn").click()
    page.get_by_text("Đã thêm 3 người từ danh sách lao động.").wait_for()
    expect(page.locator("#rows tbody tr[id^=row-]")).to_have_count(3)
    # A mistake, seen next to its row, then corrected.
    page.locator("#row-2").get_by_role("link", name="Sửa").click()
    page.get_by_label("Mã số BHXH").fill("12345")
    page.get_by_role("button", name="Lưu dòng").click()
    page.locator("#row-2 td.cell-error[data-field=bhxh_code]").wait_for()
    shot(page, "4-compose-with-an-error")
    page.locator("#row-2").get_by_role("link", name="Sửa").click()
    shot(page, "5-edit-row")
    original = Employment.objects.get(participant__full_name=PEOPLE[0]).participant.bhxh_code
    page.get_by_label("Mã số BHXH").fill(original)  # row 2 is Nguyễn Thị Lan (rows sorted by name)
    page.get_by_role("button", name="Lưu dòng").click()
    page.get_by_text("Không có lỗi.").wait_for()
    shot(page, "6-compose")
    page.get_by_role("button", name="Trình ký").click()
    page.get_by_text("Đã trình ký.").wait_for()
    shot(page, "7-handed-over")
    context.close()

    # --- the signer signs each form and the envelope through the agent, and submits
    context, page = log_in(browser, live_server, "giamdoc.a")
    shot(page, "8-signer-home")
    page.get_by_role("link", name="Hồ sơ của đơn vị").first.click()
    shot(page, "9-dossier-list")
    page.locator("#drafts").get_by_role("link", name="600").click()
    page.get_by_role("link", name="Ký và gửi hồ sơ").click()
    page.get_by_text("Đã kết nối phần mềm ký.").wait_for()
    assert setup.name in page.locator("#certificate-choice").inner_text()
    shot(page, "10-sign")
    page.get_by_role("button", name="Ký và gửi hồ sơ").click()
    try:
        page.wait_for_url(f"{live_server.url}/don-vi/ho-so/*-*/")
        page.locator("#status").get_by_text("Đã tiếp nhận").wait_for()
    except Exception:
        shot(page, "11-failed")
        raise AssertionError(
            page.locator("#agent-error").inner_text()
            + " | "
            + page.locator("#agent-status").inner_text()
        ) from None
    dossier = Dossier.objects.get()
    assert dossier.status == Status.RECEIVED and dossier.number
    assert page.locator("#number").inner_text() == dossier.number
    assert [f["code"] for f in dossier.forms] == ["D02-TS"]
    shot(page, "11-received")
    with page.expect_download() as download:
        page.locator("#receipt-pdf").click()
    path = download.value.path()
    assert Path(path).read_bytes().startswith(b"%PDF")
    page.goto(live_server.url + "/")
    page.locator("#notifications").get_by_text(dossier.number).first.wait_for()
    shot(page, "12-home-notifications")
    context.close()
