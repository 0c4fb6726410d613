import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ebhxh.accounts.backends import LoginIdentifierBackend
from ebhxh.accounts.models import User
from ebhxh.accounts.tests.factories import PASSWORD, UserFactory
from ebhxh.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _login(client, identifier, password=PASSWORD):
    return client.post(reverse("accounts:login"), {"username": identifier, "password": password})


@pytest.mark.parametrize("identifier", ["TA0001A", "ta0001a", "UNIT-TAX", "dv-ta0001a"])
def test_it_lets_a_unit_account_log_in_with_unit_code_tax_code_or_username(
    client, unit_admin, identifier
):
    if identifier == "UNIT-TAX":
        identifier = unit_admin.unit.tax_code
    response = _login(client, identifier)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(unit_admin.pk)


def test_it_lets_a_member_log_in_with_email(client, preparer):
    assert _login(client, preparer.email.upper()).status_code == 302


def test_unit_code_does_not_log_in_a_member_who_is_not_the_unit_account(client, preparer):
    # Only the unit's own account answers to its unit code.
    response = _login(client, preparer.unit.code)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_it_refuses_a_wrong_password_in_vietnamese_and_records_it(client, unit_admin):
    response = _login(client, "TA0001A", "sai-mat-khau")
    assert response.status_code == 200
    assert "Thông tin đăng nhập không đúng" in response.content.decode()
    event = AuditEvent.objects.filter(tag="user:login_failed").get()
    assert event.data["identifier"] == "TA0001A"


def test_it_records_login_and_logout(client, unit_admin):
    _login(client, "TA0001A")
    client.post(reverse("accounts:logout"))
    tags = list(AuditEvent.objects.order_by("seq").values_list("tag", flat=True))
    assert tags[-2:] == ["user:login", "user:logout"]


def test_backend_spends_a_hash_on_unknown_identifiers(monkeypatch, db):
    calls = []
    monkeypatch.setattr(User, "set_password", lambda self, raw: calls.append(raw))
    assert LoginIdentifierBackend().authenticate(None, username="khong-co", password="x") is None
    assert calls == ["x"]


def test_inactive_accounts_cannot_log_in(client, unit_admin):
    unit_admin.is_active = False
    unit_admin.save()
    assert _login(client, "TA0001A").status_code == 200


def test_production_hashes_passwords_with_argon2():
    from django.test.utils import override_settings

    import ebhxh.settings as real

    # The autouse fixture swaps in a fast hasher; the real settings module must put Argon2 first.
    assert real.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    with override_settings(PASSWORD_HASHERS=real.PASSWORD_HASHERS):
        user = User(username="x")
        user.set_password("mot-mat-khau-dai")
        assert user.password.startswith("argon2$")


class TestOfficerSecondFactor:
    def test_it_sends_an_officer_to_the_totp_check_after_the_password(self, client, desk_officer):
        _login(client, "motcua")
        response = client.get("/")
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:otp"))

    def test_a_correct_code_opens_the_portal(self, client, desk_officer):
        device = TOTPDevice.objects.get(user=desk_officer)
        _login(client, "motcua")
        token = TOTP(device.bin_key, device.step, device.t0, device.digits).token()
        response = client.post(reverse("accounts:otp"), {"token": f"{token:06d}", "next": "/"})
        assert response.status_code == 302
        home = client.get("/")
        assert home.status_code == 200
        assert desk_officer.agency.name in home.content.decode()

    def test_a_wrong_code_is_refused(self, client, desk_officer):
        _login(client, "motcua")
        response = client.post(reverse("accounts:otp"), {"token": "000000"})
        assert response.status_code == 200
        assert "không đúng" in response.content.decode()
        assert client.get("/").status_code == 302

    def test_an_officer_without_a_device_must_enrol_one(self, client, base_agency):
        officer = UserFactory(
            username="moi", kind=User.Kind.AGENCY, agency=base_agency, roles=["desk"]
        )
        _login(client, "moi")
        page = client.get(reverse("accounts:otp"))
        assert "Bật xác thực hai lớp" in page.content.decode()
        device = TOTPDevice.objects.get(user=officer, confirmed=False)
        token = TOTP(device.bin_key, device.step, device.t0, device.digits).token()
        response = client.post(reverse("accounts:otp"), {"token": f"{token:06d}", "next": "/"})
        assert response.status_code == 302
        device.refresh_from_db()
        assert device.confirmed
        assert AuditEvent.objects.filter(tag="user:totp:enrol", subject_id=str(officer.pk)).exists()
        assert client.get("/").status_code == 200

    def test_unit_members_without_a_device_need_no_second_factor(self, client, preparer):
        _login(client, "ketoan.a")
        assert client.get("/").status_code == 200

    def test_unit_members_who_enrolled_totp_must_use_it(self, client, preparer):
        TOTPDevice.objects.create(user=preparer, name="tuy chon", confirmed=True)
        _login(client, "ketoan.a")
        assert client.get("/").status_code == 302


class TestConstraints:
    def test_a_unit_member_must_belong_to_a_unit(self, db):
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create(username="x", kind=User.Kind.UNIT)

    def test_an_officer_cannot_also_belong_to_a_unit(self, unit_a, base_agency):
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create(
                username="x", kind=User.Kind.AGENCY, agency=base_agency, unit=unit_a
            )

    def test_a_unit_has_one_own_account(self, unit_admin):
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create(
                username="x", kind=User.Kind.UNIT, unit=unit_admin.unit, is_unit_account=True
            )

    def test_emails_are_unique_ignoring_case(self, preparer):
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create(username="x", kind=User.Kind.SYSTEM, email=preparer.email.upper())
