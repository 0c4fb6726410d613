"""Issue agency notices: the XML sealed with the agency's key, and a PDF rendering of it.

Plain functions without database writes: the caller (registration's approval, later dossier
intake) stores the files and records the audit event in its own transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, Final

from ebhxh.notices import tbgd
from ebhxh.notices.pdf import render_pdf
from ebhxh.notices.tbgd import RegistrationConfirmation
from ebhxh.signatures import xmldsig
from ebhxh.signatures.services import seal
from ebhxh.signatures.signers import Signer

REGISTRATION_CONFIRMATION_TEMPLATE: Final = "notices/01-tb-gd.html"


@dataclass(frozen=True)
class IssuedNotice:
    """A sealed notice: store `xml` byte for byte (it is what the seal covers) and `pdf` beside it."""

    notice: RegistrationConfirmation
    xml: bytes  # UTF-8, sealed in tbgd.CONTAINER
    pdf: bytes  # the rendering, showing the seal certificate and `sha256`
    sha256: str  # hex SHA-256 of `xml`
    seal_subject: str  # RFC 4514 subject of the agency seal certificate
    seal_serial: str  # its serial number, upper-case hex
    signed_at: dt.datetime | None  # the SigningTime written in the seal (a claim, not signed)


def issue_registration_confirmation(
    notice: RegistrationConfirmation, *, signer: Signer | None = None
) -> IssuedNotice:
    """Seal 01/TB-GD with the agency seal (or `signer`) and render its PDF; writes nothing."""
    sealed = seal(tbgd.encode(notice), container=tbgd.CONTAINER, signer=signer)
    # Read the seal back through the strict verifier: a seal that does not verify (a token that
    # signed with another key, a profile change) stops the issue here, before anyone stores it.
    verified = xmldsig.verify(sealed, container=tbgd.CONTAINER)
    certificate = verified.certificate
    digest = hashlib.sha256(sealed).hexdigest()
    seal_info: dict[str, Any] = {
        "subject": certificate.subject.rfc4514_string(),
        "serial": format(certificate.serial_number, "X"),
        "signed_at": verified.signing_time,
        "sha256": digest,
    }
    pdf = render_pdf(REGISTRATION_CONFIRMATION_TEMPLATE, {"notice": notice, "seal": seal_info})
    return IssuedNotice(
        notice=notice,
        xml=sealed,
        pdf=pdf,
        sha256=digest,
        seal_subject=seal_info["subject"],
        seal_serial=seal_info["serial"],
        signed_at=verified.signing_time,
    )
