"""Issue agency notices: the XML sealed with the agency's key, and a PDF rendering of it.

Plain functions without database writes: the caller (registration's approval, dossier intake,
processing) stores the files and records the audit event in its own transaction.

One path for every notice: encode, `seal()` into the notice's container, read the seal back
through the strict verifier (`_seal`); a PDF renders what that verifier returned (`_read_seal`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, Final

from ebhxh.notices import result, tbgd, tbts
from ebhxh.notices.pdf import render_pdf
from ebhxh.notices.result import ResultNotice
from ebhxh.notices.tbgd import RegistrationConfirmation
from ebhxh.notices.tbts import Receipt
from ebhxh.signatures import xmldsig
from ebhxh.signatures.services import seal
from ebhxh.signatures.signers import Signer

REGISTRATION_CONFIRMATION_TEMPLATE: Final = "notices/01-tb-gd.html"
RECEIPT_TEMPLATE: Final = "notices/02-TB-TS.html"
RESULT_TEMPLATE: Final = "notices/03-TB-TS.html"


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


def _read_seal(sealed: bytes, container: str) -> tuple[xmldsig.VerifiedXml, dict[str, Any]]:
    """Check the seal in `container` cryptographically (no trust store, no revocation: the agency
    reads its own seal) and describe it for the PDF: subject, serial, signed_at, sha256.

    Raises SignatureError when the document is not sealed there or was changed after sealing.
    """
    verified = xmldsig.verify(sealed, container=container)
    certificate = verified.certificate
    return verified, {
        "subject": certificate.subject.rfc4514_string(),
        "serial": format(certificate.serial_number, "X"),
        "signed_at": verified.signing_time,
        "sha256": hashlib.sha256(sealed).hexdigest(),
    }


def _seal(
    xml: bytes, container: str, signer: Signer | None
) -> tuple[bytes, xmldsig.VerifiedXml, dict[str, Any]]:
    """Seal `xml` with the agency seal (or `signer`) and read the seal back."""
    sealed = seal(xml, container=container, signer=signer)
    # Read the seal back through the strict verifier: a seal that does not verify (a token that
    # signed with another key, a profile change) stops the issue here, before anyone stores it.
    verified, seal_info = _read_seal(sealed, container)
    return sealed, verified, seal_info


def issue_registration_confirmation(
    notice: RegistrationConfirmation, *, signer: Signer | None = None
) -> IssuedNotice:
    """Seal 01/TB-GD with the agency seal (or `signer`) and render its PDF; writes nothing."""
    sealed, verified, seal_info = _seal(tbgd.encode(notice), tbgd.CONTAINER, signer)
    pdf = render_pdf(REGISTRATION_CONFIRMATION_TEMPLATE, {"notice": notice, "seal": seal_info})
    return IssuedNotice(
        notice=notice,
        xml=sealed,
        pdf=pdf,
        sha256=seal_info["sha256"],
        seal_subject=seal_info["subject"],
        seal_serial=seal_info["serial"],
        signed_at=verified.signing_time,
    )


def issue_receipt(receipt: Receipt, *, signer: Signer | None = None) -> bytes:
    """The receipt 02/TB-TS as XML sealed in `tbts.SEAL_CONTAINER` with the agency seal (or
    `signer`); writes nothing. Store these exact bytes: they are the legal record. The PDF is
    rendered from them later (`receipt_pdf`), never on the intake path."""
    sealed, _verified, _seal_info = _seal(tbts.encode(receipt), tbts.SEAL_CONTAINER, signer)
    return sealed


def receipt_pdf(xml: bytes) -> bytes:
    """The PDF of a sealed receipt: a rendition of what its seal covers, with the seal shown.

    The seal is checked first and only the verified content is decoded, so the PDF never shows
    anything the sealed XML does not say. Raises SignatureError for XML that is not sealed in
    `tbts.SEAL_CONTAINER` or was changed, NoticeError for one that is not a 02/TB-TS receipt.
    """
    verified, seal_info = _read_seal(xml, tbts.SEAL_CONTAINER)
    receipt = tbts.decode(verified.content)
    return render_pdf(RECEIPT_TEMPLATE, {"receipt": receipt, "seal": seal_info})


def issue_result(notice: ResultNotice, *, signer: Signer | None = None) -> bytes:
    """The result notice 03/TB-TS as XML sealed in `result.SEAL_CONTAINER` with the agency seal
    (or `signer`); writes nothing. Store these exact bytes: they are the legal record; the result
    documents it lists are stored beside it, each matching its SHA-256. The PDF is rendered from
    them later (`result_pdf`)."""
    sealed, _verified, _seal_info = _seal(result.encode(notice), result.SEAL_CONTAINER, signer)
    return sealed


def result_pdf(xml: bytes) -> bytes:
    """The PDF of a sealed 03/TB-TS: a rendition of what its seal covers, with the seal shown.

    As `receipt_pdf`: raises SignatureError for XML that is not sealed in `result.SEAL_CONTAINER`
    or was changed, NoticeError for one that is not a 03/TB-TS notice.
    """
    verified, seal_info = _read_seal(xml, result.SEAL_CONTAINER)
    notice = result.decode(verified.content)
    return render_pdf(RESULT_TEMPLATE, {"notice": notice, "seal": seal_info})
