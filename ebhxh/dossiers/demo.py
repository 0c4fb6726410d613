"""Demo dossiers of Sao Mai (DM0001A), signed with its demo key file and run through the real
intake: one received (number, sealed receipt), one technically rejected (wrong agency code).
Deterministic bytes (a fixed signing time), so seeding again replays instead of adding."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings

from ebhxh.dossiers import services
from ebhxh.dossiers.models import Channel
from ebhxh.dossiers.testing import signed_envelope
from ebhxh.signatures.signers import Pkcs12Signer
from ebhxh.units.models import Unit

UNIT = "DM0001A"
SIGNING_TIME = dt.datetime(2026, 7, 6, 2, 30, tzinfo=dt.UTC)


def seed_dossiers(password: str) -> dict[str, int]:
    unit = Unit.objects.filter(code=UNIT).select_related("managing_agency").first()
    key_file = Path(settings.DEMO_PKI_DIR) / f"{UNIT}.p12"
    if unit is None or not key_file.exists():
        return {}
    signer = Pkcs12Signer.from_bytes(key_file.read_bytes(), password.encode())
    common: dict[str, Any] = {
        "unit_name": unit.name,
        "unit_code": UNIT,
        "tax_code": unit.tax_code,
        "signing_time": SIGNING_TIME,
    }
    envelopes = [
        signed_envelope(signer, rows=12, agency_code=unit.managing_agency.code, **common),
        signed_envelope(signer, rows=3, first=200, agency_code="00000", **common),
    ]
    created = 0
    for data in envelopes:
        ack = services.submit(data, unit=unit, channel=Channel.WEB)
        created += not ack.replayed
    return {"dossiers": created} if created else {}
