"""Database constraints and row-local state of the trust-store models."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from ebhxh.signatures.models import (
    NO_NEXT_UPDATE_TTL,
    OcspResponseCache,
    RegisteredCertificate,
    RevocationList,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC)


def crl_row(**kw) -> RevocationList:
    values = {
        "issuer": "CN=CA",
        "issuer_key_id": "a" * 64,
        "source_url": "",
        "der": b"\x30\x00",
        "sha256": "b" * 64,
        "this_update": NOW,
        "next_update": NOW + dt.timedelta(days=1),
        "fetched_at": NOW,
    }
    return RevocationList.objects.create(**{**values, **kw})


def registration(unit, **kw) -> RegisteredCertificate:
    values = {
        "unit": unit,
        "der": b"\x30\x00",
        "fingerprint": "c" * 64,
        "serial": "01",
        "issuer": "CN=CA",
        "subject": "CN=A",
        "not_before": NOW,
        "not_after": NOW + dt.timedelta(days=365),
    }
    return RegisteredCertificate.objects.create(**{**values, **kw})


def test_a_certificate_is_registered_once_per_unit(unit_a, unit_b):
    registration(unit_a)
    registration(unit_b)

    with pytest.raises(IntegrityError), transaction.atomic():
        registration(unit_a)


def test_the_registration_status_is_constrained(unit_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        registration(unit_a, status="lost")


def test_one_cached_crl_per_url_and_one_upload_per_issuer_key():
    crl_row(source_url="http://ca.example/a.crl")
    crl_row()  # an upload for the same key is another cache entry

    with pytest.raises(IntegrityError), transaction.atomic():
        crl_row(source_url="http://ca.example/a.crl", issuer_key_id="d" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        crl_row()


def test_a_crl_is_fresh_until_its_next_update():
    row = crl_row()

    assert row.is_fresh(NOW + dt.timedelta(hours=23))
    assert not row.is_fresh(NOW + dt.timedelta(days=1))


def test_without_next_update_a_crl_is_reused_for_an_hour():
    row = crl_row(next_update=None)

    assert row.fresh_until() == NOW + NO_NEXT_UPDATE_TTL
    assert row.is_fresh(NOW + dt.timedelta(minutes=59))
    assert not row.is_fresh(NOW + dt.timedelta(minutes=61))


def test_one_ocsp_answer_per_certificate():
    values = {
        "issuer_key_id": "a" * 64,
        "serial": "0A",
        "source_url": "http://ocsp.example",
        "der": b"\x30\x00",
        "status": "good",
        "produced_at": NOW,
        "this_update": NOW,
        "next_update": NOW + dt.timedelta(hours=4),
        "fetched_at": NOW,
    }
    row = OcspResponseCache.objects.create(**values)
    assert row.is_fresh(NOW) and not row.is_fresh(timezone.now() + dt.timedelta(days=3650))

    with pytest.raises(IntegrityError), transaction.atomic():
        OcspResponseCache.objects.create(**values)
    with pytest.raises(IntegrityError), transaction.atomic():
        OcspResponseCache.objects.create(**{**values, "serial": "0B", "status": "fine"})
