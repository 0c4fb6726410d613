"""The hash chain as pure functions: the canonical bytes of an event and their SHA-256.

Writer (services.record_event) and verifier (services.verify_chain) both call
``compute_hash``, so an event re-hashes identically however the database hands
its values back (SQLite text, PostgreSQL jsonb/inet/timestamptz).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
from collections.abc import Mapping
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

GENESIS_HASH = "0" * 64

# Every stored field of an event except ``hash`` itself (``actor`` by its id).
HASHED_FIELDS: tuple[str, ...] = (
    "seq",
    "time",
    "actor_id",
    "actor_name",
    "tag",
    "subject_type",
    "subject_id",
    "subject_repr",
    "data",
    "request_id",
    "ip",
    "prev_hash",
)


def _canon(value: Any) -> Any:
    # jsonb keeps numbers as numeric and prints 1e16 back as 10000000000000000, which
    # Python then reads as an int; writing integral floats as ints makes both sides agree.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _canon(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canon(v) for v in value]
    return value


class AuditJSONEncoder(DjangoJSONEncoder):
    """DjangoJSONEncoder, but datetimes keep their microseconds (it cuts them to milliseconds)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime):
            return o.isoformat()
        return super().default(o)


def normalise_json(value: Any) -> Any:
    """Return value as plain JSON data (Decimal, date, UUID, datetime → str)."""
    text = json.dumps(value, cls=AuditJSONEncoder, allow_nan=False, ensure_ascii=False)
    return _canon(json.loads(text))


def canonical_time(value: dt.datetime) -> str:
    """ISO-8601 in UTC with microseconds, e.g. 2026-11-22T00:19:00.123456+00:00."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("audit times must be timezone-aware")
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def normalise_ip(value: str | None) -> str | None:
    """A valid address in its usual text form (IPv4-mapped IPv6 unpacked), else None."""
    if not value:
        return None
    try:
        addr = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return str(addr)


def canonical_ip(value: str | None) -> str | None:
    """An address form that does not depend on how a database or Python version prints it."""
    if not value:
        return None
    addr = ipaddress.ip_address(value)
    if isinstance(addr, ipaddress.IPv4Address):
        return str(addr)
    # PostgreSQL's inet output and Python's str() differ on some IPv6 forms (::1.2.3.4);
    # eight zero-padded groups computed from the integer value are unambiguous.
    n = int(addr)
    return ":".join(f"{(n >> (112 - 16 * i)) & 0xFFFF:04x}" for i in range(8))


def canonical_bytes(fields: Mapping[str, Any]) -> bytes:
    """The UTF-8 canonical JSON of an event's hashed fields."""
    actor_id = fields["actor_id"]
    payload = {
        "seq": int(fields["seq"]),
        "time": canonical_time(fields["time"]),
        "actor_id": None if actor_id is None else str(actor_id),
        "actor_name": fields["actor_name"] or "",
        "tag": fields["tag"],
        "subject_type": fields["subject_type"] or "",
        "subject_id": fields["subject_id"] or "",
        "subject_repr": fields["subject_repr"] or "",
        "data": normalise_json(fields["data"] if fields["data"] is not None else {}),
        "request_id": fields["request_id"] or "",
        "ip": canonical_ip(fields["ip"]),
        "prev_hash": fields["prev_hash"],
    }
    text = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def compute_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical bytes; ``fields`` needs every name in HASHED_FIELDS."""
    return hashlib.sha256(canonical_bytes(fields)).hexdigest()
