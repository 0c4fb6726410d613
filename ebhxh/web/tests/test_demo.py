import pytest
from django.core.management import call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from ebhxh.accounts.models import AGENCY_ROLES, User
from ebhxh.audit.models import AuditEvent
from ebhxh.audit.services import verify_chain
from ebhxh.catalog.services import load_catalogues
from ebhxh.units.models import Employment, Participant, Unit
from ebhxh.web.demo import seed_demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogues(db, settings, tmp_path):
    settings.DEMO_PKI_DIR = tmp_path / "demo-pki"  # never the real DATA_DIR
    load_catalogues()


def test_seed_demo_creates_the_promised_data(catalogues):
    seed_demo()
    assert Unit.objects.count() == 3
    assert Participant.objects.count() == 30
    assert Employment.objects.filter(end_month__isnull=True).count() == 30
    officers = User.objects.filter(kind=User.Kind.AGENCY)
    roles = {r for o in officers for r in o.role_set}
    assert roles == set(AGENCY_ROLES)
    agencies = {o.agency for o in officers}
    provincial = [a for a in agencies if a.level == "provincial"]
    assert len(provincial) == 1
    assert {u.managing_agency for u in Unit.objects.all()} <= set(provincial[0].children.all())
    assert len({u.managing_agency for u in Unit.objects.all()}) == 2
    # Salaries respect the regional minimum wage of the start month.
    for e in Employment.objects.all():
        assert e.salary_amount >= 3_450_000
    assert verify_chain().ok


def test_seed_demo_is_idempotent(catalogues):
    seed_demo()
    events = AuditEvent.objects.count()
    report = seed_demo()
    assert report.created == {}
    assert AuditEvent.objects.count() == events
    assert Participant.objects.count() == 30


def test_demo_unit_account_logs_in_with_its_unit_code(client, catalogues):
    from ebhxh.web.demo import DEMO_PASSWORD

    seed_demo()
    response = client.post("/accounts/login/", {"username": "DM0001A", "password": DEMO_PASSWORD})
    assert response.status_code == 302


def test_demo_totp_prints_the_current_code_of_a_demo_officer(catalogues, capsys):
    seed_demo()
    call_command("demo_totp", "motcua.demo")
    code = capsys.readouterr().out.strip()
    device = TOTPDevice.objects.get(user__username="motcua.demo")
    assert device.verify_token(code)


def test_demo_totp_refuses_a_real_account(catalogues, desk_officer):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("demo_totp", desk_officer.username)


def test_the_demo_pki_lets_a_unit_sign_and_the_agency_seal(catalogues, settings, client):
    from ebhxh.signatures import services, xmldsig
    from ebhxh.signatures.signers import Pkcs12Signer
    from ebhxh.signatures.testing.documents import d02_document
    from ebhxh.web.demo import DEMO_PASSWORD

    seed_demo()
    unit = Unit.objects.get(code="DM0001A")
    signer = Pkcs12Signer.from_file(
        str(settings.DEMO_PKI_DIR / "DM0001A.p12"), DEMO_PASSWORD.encode()
    )
    signed = xmldsig.sign(d02_document(3), signer)
    report, verified = services.verify_document(signed, unit=unit)
    assert report.valid, report.to_json()
    assert report.certificate["revocation"]  # the demo CRL was uploaded: no fetch needed
    other, _ = services.verify_document(signed, unit=Unit.objects.get(code="DM0002B"))
    assert other.code == "CERT-NOT-REGISTERED"

    sealed = services.seal(
        b"<BaoHiemDienTu><ThongTinHoSo><SoHoSo>00001/2026/07906</SoHoSo></ThongTinHoSo></BaoHiemDienTu>"
    )
    report, _ = services.verify_document(sealed)
    assert report.valid, report.to_json()
    # The CRL its certificates name is served by the portal itself.
    response = client.get("/demo-pki/ca.crl")
    assert response.status_code == 200
    assert response.content == (settings.DEMO_PKI_DIR / "ca.crl").read_bytes()


def test_demo_dossiers_and_a_dossier_to_try_the_api_with(
    catalogues, tmp_path, django_capture_on_commit_callbacks
):
    from ebhxh.dossiers import services
    from ebhxh.dossiers.models import Dossier, Status

    with django_capture_on_commit_callbacks(execute=True):
        seed_demo()
    statuses = sorted(Dossier.objects.values_list("status", flat=True))
    assert statuses == [Status.RECEIVED, Status.REJECTED]
    out = tmp_path / "BHXHDienTu.xml"
    call_command("demo_dossier", "-o", str(out), "--rows", "3")
    unit = Unit.objects.get(code="DM0001A")
    outcome = services.test_submission(out.read_bytes(), unit=unit, channel="api")
    assert outcome.accepted, outcome.findings
