"""The evidence bundle: built deterministically, verified offline, every tampering named.

No test here touches the database (pytest-django would refuse it: none asks for `db`), which is
what `ebhxh verify_evidence` promises.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from ebhxh.dossiers import evidence
from ebhxh.dossiers.evidence import (
    CODES,
    MANIFEST_NAME,
    RECEIPT_NAME,
    RECEIVED_NAME,
    REPORT_NAME,
    ZIP_TIMESTAMP,
    build_bundle,
    seal_path,
    verify_bundle,
)
from ebhxh.dossiers.testing import signed_envelope
from ebhxh.signatures import xmldsig
from ebhxh.signatures.errors import SignatureError
from ebhxh.signatures.signers import KeySigner
from ebhxh.signatures.testing.pki import Issued, TestPKI

ROOT = Path(__file__).resolve().parents[3]
SLOT = "CKy_CQBHXH"
SEALED_AT = dt.datetime(2026, 7, 6, 2, 30, tzinfo=dt.UTC)
RECEIPT_TEMPLATE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<TBTS><ThongTin><SoHoSo>00001/2026/07906</SoHoSo>{hash}</ThongTin><CKy_CQBHXH/></TBTS>\n"
)


def signer_of(issued: Issued) -> KeySigner:
    return KeySigner(issued.key, issued.certificate, list(issued.chain))  # type: ignore[arg-type]


@dataclass
class Setup:
    pki: TestPKI
    agency: Issued
    impostor: Issued
    unit: Issued
    envelope: bytes
    receipt: bytes
    report: bytes
    meta: dict[str, object]

    def seal_with(self, issued: Issued) -> Callable[[bytes], bytes]:
        def seal(xml: bytes) -> bytes:
            return xmldsig.sign(
                xml, signer_of(issued), container=seal_path(SLOT), signing_time=SEALED_AT
            )

        return seal

    def receipt_with(self, hash_element: str, *, sealer: Issued | None = None) -> bytes:
        xml = RECEIPT_TEMPLATE.format(hash=hash_element).encode()
        return xmldsig.sign(xml, signer_of(sealer or self.agency), container="TBTS/CKy_CQBHXH")

    def files(self, **replace: bytes | None) -> list[tuple[str, bytes]]:
        chosen = {
            RECEIVED_NAME: self.envelope,
            RECEIPT_NAME: self.receipt,
            REPORT_NAME: self.report,
        }
        chosen.update({_NAMES[key]: value for key, value in replace.items()})  # type: ignore[misc]
        return [(name, data) for name, data in chosen.items() if data is not None]

    def bundle(self, *, sealer: Issued | None = None, **replace: bytes | None) -> bytes:
        return build_bundle(
            dossier=self.meta,
            files=self.files(**replace),
            seal=self.seal_with(sealer or self.agency),
            seal_container=SLOT,
        )


_NAMES = {"received": RECEIVED_NAME, "receipt": RECEIPT_NAME, "report": REPORT_NAME}


@pytest.fixture(scope="module")
def setup() -> Setup:
    pki = TestPKI(name="ebhxh Evidence Test")
    agency = pki.issue("Bảo hiểm xã hội Thử nghiệm — con dấu điện tử")
    impostor = pki.issue("Kẻ mạo danh")
    unit = pki.issue("Công ty TNHH Dệt may Sao Mai", tax_code="0310000017")
    envelope = signed_envelope(signer_of(unit), rows=3)
    digest = hashlib.sha256(envelope).hexdigest()
    receipt = xmldsig.sign(
        RECEIPT_TEMPLATE.format(hash=f"<SHA256HoSo>{digest}</SHA256HoSo>").encode(),
        signer_of(agency),
        container="TBTS/CKy_CQBHXH",
    )
    report = json.dumps({"findings": [], "verification": {"ok": True}}).encode()
    meta: dict[str, object] = {
        "tracking_id": "6f1c2b1e-0d7a-4a51-9a0c-1f1d3b2c4e5f",
        "number": "00001/2026/07906",
        "status": "received",
        "unit_code": "DM0001A",
        "agency_code": "07906",
        "received_at": dt.datetime(2026, 7, 6, 9, 15, tzinfo=dt.timezone(dt.timedelta(hours=7))),
        "appointment_date": dt.date(2026, 7, 13),
    }
    return Setup(pki, agency, impostor, unit, envelope, receipt, report, meta)


@pytest.fixture(scope="module")
def good(setup: Setup) -> bytes:
    return setup.bundle()


def rezip(
    data: bytes,
    *,
    change: Callable[[str, bytes], bytes] | None = None,
    drop: tuple[str, ...] = (),
    add: dict[str, bytes] | None = None,
) -> bytes:
    """The bundle with members changed, dropped or added (the manifest left as it was)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename in drop:
                continue
            content = source.read(info)
            target.writestr(info.filename, change(info.filename, content) if change else content)
        for name, content in (add or {}).items():
            target.writestr(name, content)
    return out.getvalue()


def flip_in(name: str, old: bytes, new: bytes) -> Callable[[str, bytes], bytes]:
    """Replace the first `old` (same length: one byte differs) in member `name`."""
    assert len(old) == len(new) and sum(a != b for a, b in zip(old, new, strict=True)) == 1

    def change(member: str, content: bytes) -> bytes:
        if member != name:
            return content
        assert old in content
        return content.replace(old, new, 1)

    return change


# --- the good bundle --------------------------------------------------------------------------


def test_a_good_bundle_verifies(setup: Setup, good: bytes) -> None:
    report = verify_bundle(good, trusted_seal_certificates=[setup.agency.cert_der])

    assert report.ok and report.readable and report.problems == ()
    assert report.seal is not None and report.seal_trusted is True
    assert report.seal.subject == setup.agency.certificate.subject.rfc4514_string()
    assert report.seal.fingerprint_sha256 == hashlib.sha256(setup.agency.cert_der).hexdigest()
    assert report.seal.signing_time == SEALED_AT.isoformat()
    assert report.received_signer is not None
    assert "Dệt may Sao Mai" in report.received_signer.subject
    assert report.receipt_seal is not None
    assert report.receipt_seal.fingerprint_sha256 == report.seal.fingerprint_sha256
    assert report.receipt_hash_matches is True
    assert [(f.name, f.status) for f in report.files] == [
        (RECEIPT_NAME, "ok"),
        (RECEIVED_NAME, "ok"),
        (REPORT_NAME, "ok"),
    ]
    assert report.metadata["number"] == "00001/2026/07906"
    assert report.metadata["received_at"] == "2026-07-06T09:15:00+07:00"
    assert report.metadata["appointment_date"] == "2026-07-13"
    assert report.notes == ()
    # The received bytes are there byte for byte.
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        assert z.read(RECEIVED_NAME) == setup.envelope


def test_a_pem_trust_anchor_works_as_well_as_der(setup: Setup, good: bytes) -> None:
    report = verify_bundle(good, trusted_seal_certificates=[setup.agency.cert_pem])
    assert report.ok and report.seal_trusted is True


def test_without_trusted_certificates_the_seal_is_only_reported(good: bytes) -> None:
    report = verify_bundle(good)
    assert report.ok
    assert report.seal_trusted is None
    assert report.seal is not None and len(report.seal.fingerprint_sha256) == 64
    assert report.notes == ("seal-not-pinned",)


def test_a_bundle_on_disk_verifies(tmp_path: Path, good: bytes) -> None:
    path = tmp_path / "evidence.zip"
    path.write_bytes(good)
    assert verify_bundle(path).ok
    assert verify_bundle(str(path)).ok


def test_the_manifest_lists_every_file_and_the_metadata(setup: Setup, good: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        manifest = z.read(MANIFEST_NAME)
    verified = xmldsig.verify(manifest, container=f"EvidenceManifest/{SLOT}")
    root = verified.root
    assert root.tag == "EvidenceManifest"
    assert root.get("format") == "ebhxh-evidence/1" and root.get("sealContainer") == SLOT
    assert root.findtext("Dossier/unit_code") == "DM0001A"
    listed = {f.get("name"): (f.get("size"), f.get("sha256")) for f in root.iterfind("Files/File")}
    assert listed[RECEIVED_NAME] == (
        str(len(setup.envelope)),
        hashlib.sha256(setup.envelope).hexdigest(),
    )
    assert set(listed) == {RECEIVED_NAME, RECEIPT_NAME, REPORT_NAME}


def test_build_bundle_is_deterministic(setup: Setup, good: bytes) -> None:
    again = setup.bundle()
    assert again == good
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        infos = z.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert all(i.date_time == ZIP_TIMESTAMP for i in infos)
    # Different inputs give different bytes (the comparison above can fail).
    assert setup.bundle(report=b"{}") != good


def test_build_bundle_refuses_unsafe_names_and_a_misplaced_seal(setup: Setup) -> None:
    for bad in ("../x.xml", "/etc/passwd", MANIFEST_NAME, "a\\b.xml", "a//b"):
        with pytest.raises(ValueError, match="file name"):
            build_bundle(
                dossier=setup.meta,
                files=[(bad, b"x")],
                seal=setup.seal_with(setup.agency),
                seal_container=SLOT,
            )
    with pytest.raises(ValueError, match="duplicate"):
        build_bundle(
            dossier={},
            files=[("a.xml", b"1"), ("a.xml", b"2")],
            seal=setup.seal_with(setup.agency),
            seal_container=SLOT,
        )
    with pytest.raises(ValueError, match="element name"):
        build_bundle(
            dossier={"số hồ sơ": "1"},
            files=[],
            seal=setup.seal_with(setup.agency),
            seal_container=SLOT,
        )

    def elsewhere(xml: bytes) -> bytes:  # a seal function signing into the wrong node
        return xmldsig.sign(xml, signer_of(setup.agency), container="EvidenceManifest/Other")

    with pytest.raises(SignatureError) as caught:
        build_bundle(dossier=setup.meta, files=setup.files(), seal=elsewhere, seal_container=SLOT)
    assert caught.value.code == "SIG-PLACEMENT"


def test_seal_container_may_be_the_slot_or_its_path() -> None:
    assert seal_path("CKy_CQBHXH") == seal_path("EvidenceManifest/CKy_CQBHXH")
    assert seal_path("CKy_CQBHXH") == "EvidenceManifest/CKy_CQBHXH"
    for bad in ("Hoso/CKy_Dvi", "", "Files", "a/b/c"):
        with pytest.raises(ValueError):
            seal_path(bad)


# --- tampering --------------------------------------------------------------------------------


def codes(data: bytes, setup: Setup, **kwargs: object) -> list[str]:
    report = verify_bundle(data, trusted_seal_certificates=[setup.agency.cert_der], **kwargs)  # type: ignore[arg-type]
    assert report.ok is (not report.problems)
    return sorted(set(report.codes))


def test_one_byte_of_the_received_dossier(setup: Setup, good: bytes) -> None:
    tampered = rezip(good, change=flip_in(RECEIVED_NAME, b"DM0001A", b"DM0001B"))
    # The manifest's hash, the unit's signature and the receipt's hash all catch it.
    assert codes(tampered, setup) == ["EVD-HASH", "EVD-RECEIPT-HASH", "EVD-SIGNATURE"]


def test_one_byte_of_the_receipt(setup: Setup, good: bytes) -> None:
    tampered = rezip(good, change=flip_in(RECEIPT_NAME, b"00001/2026", b"00002/2026"))
    report = verify_bundle(tampered, trusted_seal_certificates=[setup.agency.cert_der])
    assert sorted(set(report.codes)) == ["EVD-HASH", "EVD-SEAL"]
    assert any(RECEIPT_NAME in p.detail for p in report.problems if p.code == "EVD-SEAL")


def test_one_byte_of_the_manifest(setup: Setup, good: bytes) -> None:
    tampered = rezip(good, change=flip_in(MANIFEST_NAME, b"<status>received", b"<status>receivee"))
    report = verify_bundle(tampered, trusted_seal_certificates=[setup.agency.cert_der])
    assert report.codes == ["EVD-SEAL"]
    assert report.seal is None and report.seal_trusted is None


def test_a_listed_size_changed_in_the_manifest(setup: Setup, good: bytes) -> None:
    size = str(len(setup.report)).encode()
    bigger = str(len(setup.report) + 1).encode()
    if len(bigger) != len(size):  # keep it a one-byte change
        bigger = str(len(setup.report) - 1).encode()
    old = b'name="verification.json" size="' + size
    tampered = rezip(
        good,
        change=flip_in(MANIFEST_NAME, old, b'name="verification.json" size="' + bigger),
    )
    assert codes(tampered, setup) == ["EVD-HASH", "EVD-SEAL"]


def test_a_file_removed(setup: Setup, good: bytes) -> None:
    report = verify_bundle(rezip(good, drop=(REPORT_NAME,)))
    assert report.codes == ["EVD-MISSING"]
    assert report.problems[0].detail == REPORT_NAME
    assert [f.status for f in report.files if f.name == REPORT_NAME] == ["missing"]


def test_the_received_dossier_removed(setup: Setup, good: bytes) -> None:
    report = verify_bundle(rezip(good, drop=(RECEIVED_NAME,)))
    assert report.codes == ["EVD-MISSING"]
    assert report.received_signer is None


def test_a_file_added(setup: Setup, good: bytes) -> None:
    report = verify_bundle(rezip(good, add={"received/D02-TS-595.xml": b"<D02-TS/>"}))
    assert report.codes == ["EVD-EXTRA"]
    assert report.problems[0].detail == "received/D02-TS-595.xml"


def test_the_manifest_removed(setup: Setup, good: bytes) -> None:
    report = verify_bundle(rezip(good, drop=(MANIFEST_NAME,)))
    assert report.codes == ["EVD-MANIFEST"]
    assert report.seal is None
    # What can still be checked without a manifest still is.
    assert report.received_signer is not None and report.receipt_seal is not None


def test_a_manifest_of_another_format(setup: Setup, good: bytes) -> None:
    tampered = rezip(good, change=flip_in(MANIFEST_NAME, b"evidence/1", b"evidence/2"))
    assert codes(tampered, setup) == ["EVD-MANIFEST"]


def test_a_duplicate_entry_is_not_resolved_silently(setup: Setup, good: bytes) -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        doubled = rezip(good, add={REPORT_NAME: b"{}"})
    assert "EVD-ZIP" in codes(doubled, setup)


def test_the_seal_signed_by_another_key(setup: Setup) -> None:
    forged = setup.bundle(sealer=setup.impostor)
    report = verify_bundle(forged, trusted_seal_certificates=[setup.agency.cert_der])
    assert report.codes == ["EVD-UNTRUSTED-SEAL"]
    assert report.seal_trusted is False
    assert report.seal is not None and "Kẻ mạo danh" in report.seal.subject
    # Cryptographically the forged seal is fine: without a trust anchor only the name says so.
    assert verify_bundle(forged).ok


def test_a_receipt_sealed_by_another_key(setup: Setup) -> None:
    digest = hashlib.sha256(setup.envelope).hexdigest()
    receipt = setup.receipt_with(f"<SHA256HoSo>{digest}</SHA256HoSo>", sealer=setup.impostor)
    report = verify_bundle(
        setup.bundle(receipt=receipt), trusted_seal_certificates=[setup.agency.cert_der]
    )
    assert report.codes == ["EVD-UNTRUSTED-SEAL"]
    assert RECEIPT_NAME in report.problems[0].detail


def test_a_receipt_naming_another_dossier(setup: Setup) -> None:
    other = hashlib.sha256(b"another dossier").hexdigest()
    bundle = setup.bundle(receipt=setup.receipt_with(f"<BamHoSo>{other}</BamHoSo>"))
    report = verify_bundle(bundle, trusted_seal_certificates=[setup.agency.cert_der])
    assert report.codes == ["EVD-RECEIPT-HASH"]
    assert report.receipt_hash_matches is False


def test_the_receipt_hash_may_be_base64_and_its_element_name_is_a_parameter(
    setup: Setup,
) -> None:
    import base64

    value = base64.b64encode(hashlib.sha256(setup.envelope).digest()).decode()
    bundle = setup.bundle(receipt=setup.receipt_with(f"<MaBamHoSo>{value}</MaBamHoSo>"))
    unknown = verify_bundle(bundle)
    assert unknown.ok and unknown.receipt_hash_matches is None
    assert "receipt-no-hash" in unknown.notes
    named = verify_bundle(bundle, receipt_hash_elements={"MaBamHoSo"})
    assert named.ok and named.receipt_hash_matches is True


def test_a_bad_unit_signature_recorded_faithfully_is_still_reported(setup: Setup) -> None:
    # The agency bundled (and sealed) what it received: a dossier whose signature is broken.
    broken = setup.envelope.replace(b"DM0001A", b"DM0001B", 1)
    report = verify_bundle(setup.bundle(received=broken, receipt=None))
    assert report.codes == ["EVD-SIGNATURE"]
    assert "SIG-DIGEST" in report.problems[0].detail


def test_a_rejected_unsigned_dossier_without_receipt_verifies_with_notes(setup: Setup) -> None:
    unsigned = signed_envelope(None, rows=2)
    report = verify_bundle(setup.bundle(received=unsigned, receipt=None))
    assert report.ok
    assert set(report.notes) == {"seal-not-pinned", "received-unsigned", "no-receipt"}
    assert report.received_signer is None and report.receipt_seal is None


def test_garbage_and_oversized_input_are_unreadable(good: bytes) -> None:
    for data in (b"", b"not a zip at all", good[: len(good) // 2]):
        report = verify_bundle(data)
        assert not report.readable and not report.ok
        assert report.codes == ["EVD-ZIP"]
    too_big = verify_bundle(good, max_bundle_bytes=len(good) - 1)
    assert not too_big.readable and too_big.codes == ["EVD-ZIP"]
    big_member = verify_bundle(good, max_member_bytes=100)
    assert big_member.readable and "EVD-ZIP" in big_member.codes


def test_a_corrupt_member_is_reported(setup: Setup, good: bytes) -> None:
    data = bytearray(good)
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        info = z.getinfo(RECEIVED_NAME)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + 100] ^= 0xFF
    report = verify_bundle(bytes(data))
    assert report.readable and "EVD-ZIP" in report.codes
    assert [f.status for f in report.files if f.name == RECEIVED_NAME] == ["unreadable"]


def test_a_missing_path_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        verify_bundle(tmp_path / "absent.zip")


def test_every_code_has_messages_and_is_documented() -> None:
    text = (ROOT / "docs" / "evidence.md").read_text(encoding="utf-8")
    assert set(CODES) == {
        "EVD-ZIP",
        "EVD-MANIFEST",
        "EVD-SEAL",
        "EVD-UNTRUSTED-SEAL",
        "EVD-MISSING",
        "EVD-EXTRA",
        "EVD-HASH",
        "EVD-SIGNATURE",
        "EVD-RECEIPT-HASH",
    }
    for code, (vi, en) in CODES.items():
        assert code in text, code
        assert vi in text and en in text, code
        assert not vi.isascii(), code


# --- the command ------------------------------------------------------------------------------


def _call(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("verify_evidence", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_command_on_a_good_bundle(setup: Setup, good: bytes, tmp_path: Path) -> None:
    bundle = tmp_path / "evidence.zip"
    bundle.write_bytes(good)
    cert = tmp_path / "seal.der"
    cert.write_bytes(setup.agency.cert_der)

    status, text = _call(str(bundle), "--trust-seal", str(cert))
    assert status == 0, text
    assert text.startswith("HỢP LỆ / VALID")
    assert "con dấu điện tử" in text and "tin cậy / trusted: có / yes" in text
    assert "00001/2026/07906" in text

    status, text = _call(str(bundle))
    assert status == 0
    assert "Chưa đối chiếu con dấu" in text and "not checked against a trusted" in text

    status, text = _call(str(bundle), "--json")
    assert status == 0
    assert json.loads(text)["ok"] is True


def test_command_on_a_forged_seal_and_bad_input(setup: Setup, tmp_path: Path) -> None:
    forged = tmp_path / "forged.zip"
    forged.write_bytes(setup.bundle(sealer=setup.impostor))
    pem = tmp_path / "seal.pem"
    pem.write_bytes(setup.agency.cert_pem)

    status, text = _call(str(forged), "--trust-seal", str(pem))
    assert status == 1
    assert text.startswith("KHÔNG HỢP LỆ / INVALID")
    assert "EVD-UNTRUSTED-SEAL" in text
    assert CODES["EVD-UNTRUSTED-SEAL"][0] in text and CODES["EVD-UNTRUSTED-SEAL"][1] in text

    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"PK\x03\x04 truncated")
    assert _call(str(garbage))[0] == 2
    with pytest.raises(CommandError) as caught:
        call_command("verify_evidence", str(tmp_path / "absent.zip"))
    assert caught.value.returncode == 2
    with pytest.raises(CommandError) as caught:
        call_command("verify_evidence", str(forged), "--trust-seal", str(garbage))
    assert caught.value.returncode == 2


def _child_env(data_dir: Path) -> dict[str, str]:
    stripped = ("DATABASE_URL", "DJANGO_", "SEAL_", "SIGNATURE_", "EBHXH_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(stripped)}
    env.update(DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
    return env


@pytest.mark.integration
def test_command_as_a_real_process_without_a_database(
    setup: Setup, good: bytes, tmp_path: Path
) -> None:
    (tmp_path / "good.zip").write_bytes(good)
    (tmp_path / "tampered.zip").write_bytes(
        rezip(good, change=flip_in(RECEIVED_NAME, b"DM0001A", b"DM0001B"))
    )
    (tmp_path / "seal.pem").write_bytes(setup.agency.cert_pem)
    data_dir = tmp_path / "empty-data"
    env = _child_env(data_dir)
    script = Path(sys.executable).parent / "ebhxh"
    command = [str(script)] if script.exists() else [sys.executable, "manage.py"]
    seal = ("--trust-seal", str(tmp_path / "seal.pem"))
    calls = [
        (str(tmp_path / "good.zip"), *seal),
        (str(tmp_path / "tampered.zip"), *seal),
        (str(tmp_path / "absent.zip"),),
    ]
    procs = [
        subprocess.Popen(
            [*command, "verify_evidence", *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        for args in calls
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    results = [(p.returncode, out, err) for p, (out, err) in zip(procs, outputs, strict=True)]

    (ok_code, ok_out, ok_err), (bad_code, bad_out, _), (absent_code, _, absent_err) = results
    assert ok_code == 0, ok_out + ok_err
    assert ok_out.startswith("HỢP LỆ / VALID")
    assert bad_code == 1, bad_out
    assert "EVD-HASH" in bad_out and "EVD-SIGNATURE" in bad_out
    assert absent_code == 2
    assert "Không đọc được tệp / cannot read" in absent_err
    # Nothing needed a database.
    database = data_dir / "ebhxh.sqlite3"
    assert not database.exists() or database.stat().st_size == 0


def test_module_is_pure() -> None:
    """No Django at module level: the evidence and content modules import in a bare interpreter."""
    code = (
        "import sys; import ebhxh.dossiers.evidence, ebhxh.dossiers.content; "
        "sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 0)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert evidence.FORMAT == "ebhxh-evidence/1"


def test_the_real_receipt_02_tb_ts_is_checked(setup: Setup) -> None:
    """Aligned with ebhxh.notices.tbts: its seal node and its SHA256HoSo element."""
    tbts = pytest.importorskip("ebhxh.notices.tbts")
    testing = pytest.importorskip("ebhxh.notices.testing")

    def sealed(sha256: str) -> bytes:
        xml = tbts.encode(testing.receipt(envelope_sha256=sha256))
        return xmldsig.sign(xml, signer_of(setup.agency), container=tbts.SEAL_CONTAINER)

    right = sealed(hashlib.sha256(setup.envelope).hexdigest())
    report = verify_bundle(
        setup.bundle(receipt=right), trusted_seal_certificates=[setup.agency.cert_der]
    )
    assert report.ok, report.problems
    assert report.receipt_hash_matches is True

    wrong = sealed(hashlib.sha256(b"another dossier").hexdigest())
    report = verify_bundle(setup.bundle(receipt=wrong))
    assert report.codes == ["EVD-RECEIPT-HASH"]
