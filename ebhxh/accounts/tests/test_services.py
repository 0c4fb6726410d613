import pytest
from django.core.exceptions import ValidationError

from ebhxh.accounts import services
from ebhxh.accounts.models import Role, User
from ebhxh.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_create_user_records_roles_and_an_audit_event(unit_a, sysadmin):
    user = services.create_user(
        username="ketoan2",
        password="mot-mat-khau-dai",
        kind=User.Kind.UNIT,
        unit=unit_a,
        roles=[Role.PREPARER, Role.SIGNER],
        email="KeToan2@Example.vn",
        actor=sysadmin,
    )
    assert user.role_set == {"preparer", "signer"}
    assert user.email == "ketoan2@example.vn"
    event = AuditEvent.objects.get(tag="user:create", subject_id=str(user.pk))
    assert event.actor_id == sysadmin.pk
    assert event.data["after"]["roles"] == ["preparer", "signer"]


def test_roles_must_fit_the_account_kind(unit_a):
    with pytest.raises(ValidationError):
        services.create_user(
            username="x", password=None, kind=User.Kind.UNIT, unit=unit_a, roles=[Role.DESK]
        )
    assert not User.objects.filter(username="x").exists()


def test_an_officer_needs_an_agency(db):
    with pytest.raises(ValidationError):
        services.create_user(username="x", password=None, kind=User.Kind.AGENCY, roles=[Role.DESK])


def test_add_and_remove_role_are_audited_once(preparer, unit_admin):
    services.add_role(preparer, Role.SIGNER, actor=unit_admin)
    services.add_role(preparer, Role.SIGNER, actor=unit_admin)
    assert preparer.has_role(Role.SIGNER)
    services.remove_role(preparer, Role.SIGNER, actor=unit_admin)
    assert not preparer.has_role(Role.SIGNER)
    tags = list(
        AuditEvent.objects.filter(subject_id=str(preparer.pk)).values_list("tag", flat=True)
    )
    assert tags.count("user:role:add") == 1
    assert tags.count("user:role:remove") == 1


def test_officer_roles_cannot_be_given_to_unit_members(preparer):
    with pytest.raises(ValidationError):
        services.add_role(preparer, Role.SUPERVISOR)
