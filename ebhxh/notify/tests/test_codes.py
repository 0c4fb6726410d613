"""One-time e-mail codes: e-mailed once, stored hashed, limited in time and attempts, single use."""

from __future__ import annotations

import re

import pytest
from django.db import transaction

from ebhxh.audit.models import AuditEvent
from ebhxh.notify.codes import AttemptMayRollBackWarning, check_code, issue_code
from ebhxh.notify.models import OneTimeCode, OutboundEmail
from ebhxh.notify.tests.conftest import code_in

pytestmark = pytest.mark.django_db

EMAIL = "ketoan@example.vn"


@pytest.fixture
def issue(django_capture_on_commit_callbacks, mailoutbox):
    """Issue a code and return (row, the code as e-mailed)."""

    def issue_one(email=EMAIL, purpose="registration", **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            row = issue_code(email, purpose, **kwargs)
        return row, code_in(mailoutbox[-1])

    return issue_one


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_it_emails_six_digits_and_stores_only_a_hash(issue, mailoutbox):
    row, code = issue(subject_ref="DK-2026-000123")
    assert re.fullmatch(r"\d{6}", code)
    message = mailoutbox[0]
    assert message.to == [EMAIL]
    assert code not in message.subject
    assert "10 phút" in message.body
    assert "đăng ký giao dịch điện tử" in message.body  # the purpose, in words
    row.refresh_from_db()
    assert len(row.code_hash) == 64 and code not in row.code_hash


def test_the_code_is_nowhere_in_the_database_in_clear(issue):
    row, code = issue(subject_ref="DK-2026-000123")
    clear = re.compile(rf"(?<!\d){code}(?!\d)")
    stored = [
        repr({f.name: getattr(r, f.name) for f in type(r)._meta.concrete_fields})
        for r in [*OneTimeCode.objects.all(), *OutboundEmail.objects.all()]
    ]
    stored += [repr(e.data) + e.subject_repr for e in AuditEvent.objects.all()]
    assert stored
    for text in stored:
        assert not clear.search(text), text
    assert AuditEvent.objects.filter(tag="one_time_code:issue", subject_id=str(row.pk)).exists()


def test_the_right_code_works_once(issue):
    _row, code = issue()
    assert check_code(EMAIL, "registration", code) is True
    assert check_code(EMAIL, "registration", code) is False
    row = OneTimeCode.objects.get()
    assert row.status == OneTimeCode.Status.USED
    assert row.used_at is not None


def test_the_address_is_case_and_space_insensitive(issue):
    _row, code = issue(email="  KeToan@Example.VN ")
    assert check_code("ketoan@example.vn", "registration", f" {code[:3]} {code[3:]}\n") is True


def test_five_attempts_are_allowed(issue):
    _row, code = issue()
    for _ in range(4):
        assert check_code(EMAIL, "registration", _wrong(code)) is False
    assert check_code(EMAIL, "registration", code) is True


def test_after_five_wrong_attempts_even_the_right_code_fails(issue):
    _row, code = issue()
    for _ in range(5):
        assert check_code(EMAIL, "registration", _wrong(code)) is False
    assert check_code(EMAIL, "registration", code) is False
    row = OneTimeCode.objects.get()
    assert row.status == OneTimeCode.Status.LOCKED
    assert row.attempts == 5
    tags = list(AuditEvent.objects.order_by("seq").values_list("tag", flat=True))
    assert tags.count("one_time_code:reject") == 4
    assert tags[-1] == "one_time_code:lock"


def test_it_expires_after_ten_minutes(issue, frozen):
    _row, code = issue()
    frozen.shift(600)
    assert check_code(EMAIL, "registration", code) is False


def test_it_still_works_just_before_expiry(issue, frozen):
    _row, code = issue()
    frozen.shift(599)
    assert check_code(EMAIL, "registration", code) is True


def test_the_lifetime_comes_from_the_setting(issue, frozen, settings, mailoutbox):
    settings.ONE_TIME_CODE_TTL_SECONDS = 300
    _row, code = issue()
    assert "5 phút" in mailoutbox[-1].body
    frozen.shift(301)
    assert check_code(EMAIL, "registration", code) is False


def test_a_new_code_replaces_the_previous_one(issue):
    first_row, first = issue()
    _second_row, second = issue()
    while second == first:  # one chance in a million
        _second_row, second = issue()
    assert check_code(EMAIL, "registration", first) is False
    assert check_code(EMAIL, "registration", second) is True
    first_row.refresh_from_db()
    assert first_row.status == OneTimeCode.Status.SUPERSEDED


def test_a_code_answers_only_for_its_address_purpose_and_subject(issue):
    _row, code = issue(subject_ref="DK-1")
    assert check_code("khac@example.vn", "registration", code, subject_ref="DK-1") is False
    assert check_code(EMAIL, "sensitive_action", code, subject_ref="DK-1") is False
    assert check_code(EMAIL, "registration", code, subject_ref="DK-2") is False
    assert check_code(EMAIL, "registration", code) is False
    assert check_code(EMAIL, "registration", code, subject_ref="DK-1") is True


def test_codes_for_different_purposes_live_side_by_side(issue):
    _r1, registration = issue(purpose="registration")
    _r2, sensitive = issue(purpose="sensitive_action")
    assert check_code(EMAIL, "sensitive_action", sensitive) is True
    assert check_code(EMAIL, "registration", registration) is True


def test_nothing_is_sent_when_the_issuing_action_rolls_back(
    django_capture_on_commit_callbacks, mailoutbox
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        issue_code(EMAIL, "registration")
        raise RuntimeError
    assert mailoutbox == []
    assert not OneTimeCode.objects.exists()


def test_checking_inside_a_transaction_warns_that_the_count_could_roll_back(issue):
    _row, code = issue()
    with pytest.warns(AttemptMayRollBackWarning), transaction.atomic():
        check_code(EMAIL, "registration", _wrong(code))


@pytest.mark.parametrize("purpose", ["", "  ", "x" * 51])
def test_a_purpose_is_required(purpose):
    with pytest.raises(ValueError, match="purpose"):
        issue_code(EMAIL, purpose)
