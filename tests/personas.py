"""Named personas shared by every test (house-style convention 11).

Each fixture says what the persona may and may not do.
"""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from ebhxh.accounts.models import Role, User
from ebhxh.accounts.tests.factories import UserFactory
from ebhxh.catalog.models import Agency
from ebhxh.units.tests.factories import AgencyFactory, UnitFactory


@pytest.fixture
def base_agency(db):
    """BHXH cơ sở that manages unit A and unit B."""
    return AgencyFactory(code="79901", name="Bảo hiểm xã hội Cơ sở Thử nghiệm Một")


@pytest.fixture
def other_agency(db, base_agency):
    """Another base agency in the same province; its officers must not see unit A."""
    return AgencyFactory(
        code="79902", name="Bảo hiểm xã hội Cơ sở Thử nghiệm Hai", parent=base_agency.parent
    )


@pytest.fixture
def provincial_agency(base_agency) -> Agency:
    return base_agency.parent


@pytest.fixture
def unit_a(base_agency):
    """The unit whose people sign and submit in most tests."""
    return UnitFactory(
        code="TA0001A", name="Công ty TNHH Sao Mai Thử Nghiệm", managing_agency=base_agency
    )


@pytest.fixture
def unit_b(other_agency):
    return UnitFactory(
        code="TB0002B", name="Công ty Cổ phần Bến Nghé Thử Nghiệm", managing_agency=other_agency
    )


@pytest.fixture
def unit_admin(unit_a) -> User:
    """Unit A's own account: logs in with the unit code or tax code; administers and signs."""
    return UserFactory(
        username="dv-ta0001a",
        kind=User.Kind.UNIT,
        unit=unit_a,
        is_unit_account=True,
        roles=[Role.UNIT_ADMIN, Role.SIGNER],
    )


@pytest.fixture
def preparer(unit_a) -> User:
    """Unit A's accountant: prepares dossiers but cannot sign."""
    return UserFactory(username="ketoan.a", kind=User.Kind.UNIT, unit=unit_a, roles=[Role.PREPARER])


@pytest.fixture
def signer(unit_a) -> User:
    """Unit A's director: signs what the preparer prepared."""
    return UserFactory(username="giamdoc.a", kind=User.Kind.UNIT, unit=unit_a, roles=[Role.SIGNER])


@pytest.fixture
def outsider(unit_b) -> User:
    """Unit B's account: no access to anything of unit A."""
    return UserFactory(
        username="dv-tb0002b",
        kind=User.Kind.UNIT,
        unit=unit_b,
        is_unit_account=True,
        roles=[Role.UNIT_ADMIN],
    )


@pytest.fixture
def desk_officer(base_agency) -> User:
    """One-stop desk officer of the agency managing unit A; has a confirmed TOTP device."""
    user = UserFactory(
        username="motcua", kind=User.Kind.AGENCY, agency=base_agency, roles=[Role.DESK]
    )
    TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    return user


@pytest.fixture
def other_officer(other_agency) -> User:
    """Collection officer of another base agency: must not see unit A."""
    user = UserFactory(
        username="thu.khac", kind=User.Kind.AGENCY, agency=other_agency, roles=[Role.COLLECTION]
    )
    TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    return user


@pytest.fixture
def supervisor(provincial_agency) -> User:
    """Provincial supervisor: sees the units of the base agencies under it."""
    user = UserFactory(
        username="giamsat", kind=User.Kind.AGENCY, agency=provincial_agency, roles=[Role.SUPERVISOR]
    )
    TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    return user


@pytest.fixture
def sysadmin(db) -> User:
    """System administrator: the admin site, catalogues and accounts."""
    return UserFactory(
        username="quantri",
        kind=User.Kind.SYSTEM,
        roles=[Role.SYSADMIN],
        is_staff=True,
        is_superuser=True,
    )


def verified_login(client, user):
    """Log a user in with the second factor already satisfied (for tests of pages behind it)."""
    from django_otp import DEVICE_ID_SESSION_KEY

    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
