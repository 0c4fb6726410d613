"""The pure hash-chain functions: no database."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
import zoneinfo

import pytest

from ebhxh.audit.chain import (
    GENESIS_HASH,
    HASHED_FIELDS,
    canonical_bytes,
    canonical_ip,
    canonical_time,
    compute_hash,
    normalise_ip,
    normalise_json,
)

FIELDS = {
    "seq": 1,
    "time": dt.datetime(
        2026, 11, 22, 7, 30, 0, 123456, tzinfo=zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
    ),
    "actor_id": 7,
    "actor_name": "Nguyễn Văn A (nva)",
    "tag": "unit:update",
    "subject_type": "units.unit",
    "subject_id": "42",
    "subject_repr": "Công ty TNHH Hoa Sen",
    "data": {"before": {"name": "Cũ"}, "after": {"name": "Mới"}},
    "request_id": "abc123",
    "ip": "203.0.113.7",
    "prev_hash": GENESIS_HASH,
}


def test_it_hashes_to_a_fixed_value() -> None:
    # A golden value: changing the canonical form breaks every stored chain.
    assert (
        compute_hash(FIELDS) == "e4feef509d6bfcd0479c23e23d216c6302951b4e72124d6142d689286a5ca6ea"
    )


def test_it_uses_sorted_compact_utf8_json() -> None:
    text = canonical_bytes(FIELDS).decode("utf-8")
    assert text.startswith('{"actor_id":"7","actor_name":"Nguyễn Văn A (nva)",')
    assert '"time":"2026-11-22T00:30:00.123456+00:00"' in text
    assert ", " not in text.replace("Công ty", "")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("seq", 2),
        ("time", FIELDS["time"] + dt.timedelta(microseconds=1)),
        ("actor_id", None),
        ("actor_name", "someone else"),
        ("tag", "unit:create"),
        ("subject_type", "units.participant"),
        ("subject_id", "43"),
        ("subject_repr", "Công ty khác"),
        ("data", {"before": {"name": "Cũ"}, "after": {"name": "Mới!"}}),
        ("request_id", "abc124"),
        ("ip", "203.0.113.8"),
        ("prev_hash", "1" * 64),
    ],
)
def test_every_field_is_covered(name: str, value: object) -> None:
    assert set(HASHED_FIELDS) == set(FIELDS)
    assert compute_hash({**FIELDS, name: value}) != compute_hash(FIELDS)


def test_the_same_instant_in_another_zone_hashes_the_same() -> None:
    utc = FIELDS["time"].astimezone(dt.UTC)
    assert compute_hash({**FIELDS, "time": utc}) == compute_hash(FIELDS)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        canonical_time(dt.datetime(2026, 1, 1))


def test_data_key_order_does_not_matter() -> None:
    a = {**FIELDS, "data": {"x": 1, "y": [1, 2]}}
    b = {**FIELDS, "data": {"y": [1, 2], "x": 1}}
    assert compute_hash(a) == compute_hash(b)


def test_normalise_json_makes_plain_json() -> None:
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    value = {
        "money": decimal.Decimal("1500000.50"),
        "day": dt.date(2026, 2, 17),
        "id": u,
        "big": 1e16,
        "half": 0.5,
        "tuple": (1, 2),
        1: "int key",
    }
    assert normalise_json(value) == {
        "money": "1500000.50",
        "day": "2026-02-17",
        "id": str(u),
        "big": 10_000_000_000_000_000,
        "half": 0.5,
        "tuple": [1, 2],
        "1": "int key",
    }
    assert isinstance(normalise_json(value)["big"], int)


def test_normalise_json_keeps_microseconds() -> None:
    # DjangoJSONEncoder alone would cut datetimes to milliseconds and hide small changes.
    when = dt.datetime(2026, 2, 17, 8, 0, 0, 123456, tzinfo=dt.UTC)
    assert normalise_json({"at": when}) == {"at": "2026-02-17T08:00:00.123456+00:00"}


def test_normalise_json_refuses_nan_and_objects() -> None:
    with pytest.raises(ValueError):
        normalise_json({"x": float("nan")})
    with pytest.raises(TypeError):
        normalise_json({"x": object()})


def test_ipv6_forms_of_one_address_hash_the_same() -> None:
    # PostgreSQL prints ::0102:0304 as ::1.2.3.4, Python 3.11 as ::102:304.
    assert (
        canonical_ip("::1.2.3.4")
        == canonical_ip("::102:304")
        == "0000:0000:0000:0000:0000:0000:0102:0304"
    )
    assert canonical_ip("2001:DB8::1") == canonical_ip("2001:db8:0:0:0:0:0:1")
    assert canonical_ip("10.0.0.1") == "10.0.0.1"
    assert canonical_ip(None) is None


def test_normalise_ip() -> None:
    assert normalise_ip("::ffff:10.0.0.1") == "10.0.0.1"
    assert normalise_ip(" 2001:DB8::1 ") == "2001:db8::1"
    assert normalise_ip("not an ip") is None
    assert normalise_ip("") is None
