"""Unit members: only the unit's admins list, invite, change roles, lock and unlock them."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse

from ebhxh.accounts import services
from ebhxh.accounts.models import Role, User
from ebhxh.accounts.tests.factories import PASSWORD, UserFactory
from ebhxh.audit.models import AuditEvent
from tests.personas import verified_login

pytestmark = pytest.mark.django_db


def _invite(client, **data):
    payload = {"full_name": "Trần Văn Nhân", "email": "nhan@example.vn", "roles": ["preparer"]}
    payload.update(data)
    return client.post(reverse("accounts:member_invite"), payload)


def _tags(user):
    return list(
        AuditEvent.objects.filter(subject_id=str(user.pk), subject_type="accounts.user")
        .order_by("seq")
        .values_list("tag", flat=True)
    )


class TestList:
    def test_it_lists_the_units_members_with_roles_and_status(
        self, client, unit_admin, preparer, outsider
    ):
        verified_login(client, unit_admin)
        page = client.get(reverse("accounts:members")).content.decode()
        assert preparer.username in page and "Người lập hồ sơ" in page
        assert unit_admin.username in page and "Quản trị đơn vị" in page
        assert "Đang hoạt động" in page
        assert outsider.username not in page

    @pytest.mark.parametrize("persona", ["preparer", "signer", "desk_officer", "sysadmin"])
    def test_it_is_only_for_unit_admins(self, client, request, persona):
        verified_login(client, request.getfixturevalue(persona))
        assert client.get(reverse("accounts:members")).status_code == 403
        assert client.get(reverse("accounts:member_invite")).status_code == 403
        assert client.get(reverse("accounts:api_tokens")).status_code == 403

    def test_anonymous_visitors_are_sent_to_login(self, client, db):
        response = client.get(reverse("accounts:members"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))

    def test_the_unit_home_links_to_it_for_admins_only(self, client, unit_admin, preparer):
        verified_login(client, unit_admin)
        assert reverse("accounts:members") in client.get("/").content.decode()
        verified_login(client, preparer)
        assert reverse("accounts:members") not in client.get("/").content.decode()


class TestInvite:
    def test_it_creates_a_member_without_password_and_shows_the_username(
        self, client, unit_admin, mailoutbox, django_capture_on_commit_callbacks
    ):
        verified_login(client, unit_admin)
        with django_capture_on_commit_callbacks(execute=True):
            response = _invite(client, roles=["preparer", "signer"])
        assert response.status_code == 302
        member = User.objects.get(email="nhan@example.vn")
        assert member.username == "ta0001a.01"
        assert member.kind == User.Kind.UNIT and member.unit == unit_admin.unit
        assert not member.is_unit_account
        assert member.role_set == {"preparer", "signer"}
        assert not member.has_usable_password()
        page = client.get(response["Location"]).content.decode()
        assert "ta0001a.01" in page and "Chờ đặt mật khẩu" in page
        assert len(mailoutbox) == 1
        assert _tags(member) == ["user:create", "user:invite", "user:password:link_send"]
        invite = AuditEvent.objects.get(tag="user:invite")
        assert invite.actor_id == unit_admin.pk
        assert invite.data == {"unit": unit_admin.unit_id, "roles": ["preparer", "signer"]}

    def test_usernames_count_up_per_unit(self, unit_admin, django_capture_on_commit_callbacks):
        first = services.invite_member(
            actor=unit_admin, full_name="A", email="a@example.vn", roles=[Role.SIGNER]
        )
        second = services.invite_member(
            actor=unit_admin, full_name="B", email="b@example.vn", roles=[Role.SIGNER]
        )
        assert (first.username, second.username) == ("ta0001a.01", "ta0001a.02")

    def test_an_email_already_in_use_is_refused(self, client, unit_admin, preparer, mailoutbox):
        verified_login(client, unit_admin)
        response = _invite(client, email=preparer.email.upper())
        assert response.status_code == 200
        assert "đã được dùng" in response.content.decode()
        assert not User.objects.filter(full_name="Trần Văn Nhân").exists()

    def test_a_role_is_required_and_officer_roles_are_refused(self, client, unit_admin):
        verified_login(client, unit_admin)
        assert _invite(client, roles=[]).status_code == 200
        assert _invite(client, roles=["desk"]).status_code == 200
        assert not User.objects.filter(email="nhan@example.vn").exists()
        with pytest.raises(ValidationError):
            services.invite_member(
                actor=unit_admin, full_name="X", email="x@example.vn", roles=[Role.DESK]
            )

    def test_only_admins_may_invite(self, preparer):
        with pytest.raises(PermissionDenied):
            services.invite_member(
                actor=preparer, full_name="X", email="x@example.vn", roles=[Role.SIGNER]
            )

    def test_a_rolled_back_invitation_sends_nothing(
        self, unit_admin, mailoutbox, django_capture_on_commit_callbacks
    ):
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            services.invite_member(
                actor=unit_admin, full_name="X", email="x@example.vn", roles=[Role.SIGNER]
            )
            raise RuntimeError("the caller failed")
        assert mailoutbox == []
        assert not User.objects.filter(email="x@example.vn").exists()

    def test_resending_an_invitation_sends_a_new_link(
        self, client, unit_admin, mailoutbox, django_capture_on_commit_callbacks
    ):
        verified_login(client, unit_admin)
        with django_capture_on_commit_callbacks(execute=True):
            _invite(client)
        member = User.objects.get(email="nhan@example.vn")
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("accounts:member_resend", args=[member.pk]))
        assert response.status_code == 302
        assert len(mailoutbox) == 2
        assert mailoutbox[1].to == ["nhan@example.vn"]
        assert "user:invite:resend" in _tags(member)

    def test_members_with_a_password_get_no_invitation(
        self, client, unit_admin, preparer, mailoutbox, django_capture_on_commit_callbacks
    ):
        verified_login(client, unit_admin)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("accounts:member_resend", args=[preparer.pk]), follow=True
            )
        assert "đã đặt mật khẩu" in response.content.decode()
        assert mailoutbox == []


class TestRoles:
    def test_the_member_page_shows_the_current_roles_and_actions(
        self, client, unit_admin, preparer
    ):
        verified_login(client, unit_admin)
        page = client.get(reverse("accounts:member_detail", args=[preparer.pk])).content.decode()
        assert 'value="preparer" id="id_roles_0" checked' in page
        assert reverse("accounts:member_deactivate", args=[preparer.pk]) in page
        own = client.get(reverse("accounts:member_detail", args=[unit_admin.pk])).content.decode()
        assert reverse("accounts:member_deactivate", args=[unit_admin.pk]) not in own

    def test_an_admin_changes_a_members_roles(self, client, unit_admin, preparer):
        verified_login(client, unit_admin)
        response = client.post(
            reverse("accounts:member_detail", args=[preparer.pk]), {"roles": ["signer"]}
        )
        assert response.status_code == 302
        preparer = User.objects.get(pk=preparer.pk)
        assert preparer.role_set == {"signer"}
        assert _tags(preparer) == ["user:role:add", "user:role:remove"]
        assert AuditEvent.objects.filter(tag="user:role:add", actor=unit_admin).exists()

    def test_the_last_active_admin_keeps_the_admin_role(self, client, unit_admin, preparer):
        verified_login(client, unit_admin)
        response = client.post(
            reverse("accounts:member_detail", args=[unit_admin.pk]), {"roles": ["signer"]}
        )
        assert response.status_code == 200
        assert "ít nhất một quản trị đơn vị" in response.content.decode()
        assert User.objects.get(pk=unit_admin.pk).has_role(Role.UNIT_ADMIN)

        # With a second active admin, the unit account may give the role up.
        services.set_member_roles(actor=unit_admin, member=preparer, roles=["unit_admin"])
        services.set_member_roles(actor=unit_admin, member=unit_admin, roles=["signer"])
        assert not User.objects.get(pk=unit_admin.pk).has_role(Role.UNIT_ADMIN)

    def test_a_locked_admin_does_not_count(self, unit_admin, preparer):
        services.set_member_roles(actor=unit_admin, member=preparer, roles=["unit_admin"])
        services.deactivate_member(actor=unit_admin, member=preparer)
        with pytest.raises(ValidationError) as exc:
            services.set_member_roles(actor=unit_admin, member=unit_admin, roles=["signer"])
        assert exc.value.code == "last_admin"

    def test_two_admins_cannot_demote_each_other_to_none(self, unit_a):
        # A unit without its own account: two member admins, each removing the other.
        first = UserFactory(kind=User.Kind.UNIT, unit=unit_a, roles=[Role.UNIT_ADMIN])
        second = UserFactory(kind=User.Kind.UNIT, unit=unit_a, roles=[Role.UNIT_ADMIN])
        services.set_member_roles(actor=first, member=second, roles=["signer"])
        stale_second = User.objects.get(pk=second.pk)
        with pytest.raises(PermissionDenied):  # no longer an admin
            services.set_member_roles(actor=stale_second, member=first, roles=["signer"])
        with pytest.raises(ValidationError):  # and the last admin cannot demote themselves
            services.set_member_roles(actor=first, member=first, roles=["signer"])


class TestLocking:
    def test_an_admin_locks_and_unlocks_a_member(self, client, unit_admin, preparer):
        verified_login(client, unit_admin)
        client.post(reverse("accounts:member_deactivate", args=[preparer.pk]))
        preparer.refresh_from_db()
        assert not preparer.is_active
        assert _fresh_login(client, "ketoan.a").status_code == 200  # locked: no login

        verified_login(client, unit_admin)
        client.post(reverse("accounts:member_reactivate", args=[preparer.pk]))
        preparer.refresh_from_db()
        assert preparer.is_active
        assert _tags(preparer) == ["user:deactivate", "user:reactivate"]
        event = AuditEvent.objects.get(tag="user:deactivate")
        assert event.data == {"before": {"is_active": True}, "after": {"is_active": False}}

    def test_locking_ends_the_members_sessions(self, client, unit_admin, preparer):
        verified_login(client, preparer)
        assert client.get("/").status_code == 200
        services.deactivate_member(actor=unit_admin, member=preparer)
        assert not client.get("/").wsgi_request.user.is_authenticated

    def test_an_admin_cannot_lock_themselves_or_the_unit_account(self, client, unit_a, unit_admin):
        member_admin = UserFactory(kind=User.Kind.UNIT, unit=unit_a, roles=[Role.UNIT_ADMIN])
        verified_login(client, member_admin)
        for target in (member_admin, unit_admin):
            response = client.post(
                reverse("accounts:member_deactivate", args=[target.pk]), follow=True
            )
            assert response.status_code == 200
            target.refresh_from_db()
            assert target.is_active
        assert not AuditEvent.objects.filter(tag="user:deactivate").exists()


class TestOtherUnits:
    """A unit's admin sees a 404 for another unit's members and tokens, and changes nothing."""

    @pytest.mark.parametrize(
        "name,method,data",
        [
            ("accounts:member_detail", "get", None),
            ("accounts:member_detail", "post", {"roles": ["signer"]}),
            ("accounts:member_deactivate", "post", None),
            ("accounts:member_reactivate", "post", None),
            ("accounts:member_resend", "post", None),
        ],
    )
    def test_it_answers_404(self, client, outsider, preparer, name, method, data):
        verified_login(client, outsider)
        response = getattr(client, method)(reverse(name, args=[preparer.pk]), data or {})
        assert response.status_code == 404
        preparer = User.objects.get(pk=preparer.pk)
        assert preparer.is_active and preparer.role_set == {"preparer"}
        assert (
            not AuditEvent.objects.filter(subject_id=str(preparer.pk))
            .exclude(tag="user:create")
            .exists()
        )

    def test_officers_are_not_members_of_a_unit(self, client, unit_admin, desk_officer):
        verified_login(client, unit_admin)
        url = reverse("accounts:member_detail", args=[desk_officer.pk])
        assert client.get(url).status_code == 404

    def test_services_refuse_other_units_too(self, outsider, preparer):
        with pytest.raises(PermissionDenied):
            services.deactivate_member(actor=outsider, member=preparer)
        with pytest.raises(PermissionDenied):
            services.set_member_roles(actor=outsider, member=preparer, roles=["signer"])


def _fresh_login(client, identifier):
    client.logout()
    return client.post(reverse("accounts:login"), {"username": identifier, "password": PASSWORD})
