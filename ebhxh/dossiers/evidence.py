"""The evidence bundle of a dossier: a zip anyone can verify offline (docs/evidence.md).

Pure Python (no Django): `ebhxh verify_evidence` and any third party's script use it as is.

    data = build_bundle(dossier=meta, files=[(RECEIVED_NAME, xml), ...],
                        seal=agency_seal, seal_container="CKy_CQBHXH")
    report = verify_bundle(data, trusted_seal_certificates=[seal_cert_der])
    report.ok, report.problems, report.seal.fingerprint_sha256

The bundle holds the exact bytes received (`received/BHXHDienTu.xml`), the sealed receipt
(`receipt/02-TB-TS.xml`, absent for a rejected dossier), the verification report
(`verification.json`) and `manifest.xml`: the dossier's metadata and the size and SHA-256 of every
file, sealed by the agency (an enveloped XML-DSig in `EvidenceManifest/<seal_container>`).

`seal` receives the manifest and must return it signed in `seal_path(seal_container)`, the full
container path (`EvidenceManifest/CKy_CQBHXH`), e.g.
`lambda xml: signatures.services.seal(xml, container=seal_path("CKy_CQBHXH"))`.

Codes are a public contract: never reuse or rename one.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import io
import os
import re
import zipfile
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from lxml import etree

from ebhxh.signatures import xmldsig
from ebhxh.signatures.errors import SignatureError
from ebhxh.signatures.profile import Policy

Element = Any  # lxml.etree._Element; lxml ships no type information

FORMAT: Final = "ebhxh-evidence/1"
MANIFEST_ROOT: Final = "EvidenceManifest"
MANIFEST_NAME: Final = "manifest.xml"
RECEIVED_NAME: Final = "received/BHXHDienTu.xml"
RECEIPT_NAME: Final = "receipt/02-TB-TS.xml"
REPORT_NAME: Final = "verification.json"
RESULT_NAME: Final = "result/03-TB-TS.xml"  # the sealed result notice, once returned
ENVELOPE_CONTAINER: Final = "Hoso/CKy_Dvi"
# Elements of the receipt (by local name) that carry the SHA-256 of the received file, as hex or
# base64. The receipt 02/TB-TS is written elsewhere (ebhxh.notices); keep this in step with it.
RECEIPT_HASH_ELEMENTS: Final[frozenset[str]] = frozenset({"SHA256HoSo", "BamHoSo"})

# Every entry gets this time stamp (the earliest a zip can hold): the same inputs give the same
# bytes, and the bundle does not pretend to know when a file was made.
ZIP_TIMESTAMP: Final = (1980, 1, 1, 0, 0, 0)

# Bounds of what verify_bundle reads (a received dossier is at most DOSSIER_MAX_BYTES, 50 MiB).
MAX_BUNDLE_BYTES: Final = 1024 * 1024 * 1024
MAX_MEMBER_BYTES: Final = 256 * 1024 * 1024
MAX_MEMBERS: Final = 1000

# The seal of the evidence is ebhxh's own: SHA-256 only; SigningTime required.
SEAL_POLICY: Final = Policy(allow_sha1=False, require_signing_time=True)
# The received envelope is judged for its cryptography only: files from generic tools carry no
# SigningTime. (Whether the certificate was acceptable is in verification.json.)
RECEIVED_POLICY: Final = Policy(allow_sha1=False, require_signing_time=False)

CODES: Final[dict[str, tuple[str, str]]] = {
    "EVD-ZIP": (
        "Gói chứng cứ không đọc được hoặc không an toàn (zip hỏng, có mật khẩu, trùng tên tệp "
        "hoặc quá lớn).",
        "The evidence bundle cannot be read or is unsafe (corrupt or encrypted zip, duplicate "
        "names, or too large).",
    ),
    "EVD-MANIFEST": (
        "Thiếu bảng kê manifest.xml hoặc bảng kê không đúng định dạng.",
        "The manifest (manifest.xml) is missing or malformed.",
    ),
    "EVD-SEAL": (
        "Con dấu điện tử của cơ quan BHXH không hợp lệ (nội dung đã bị thay đổi hoặc chữ ký sai).",
        "The agency seal does not verify (the content was changed or the signature is invalid).",
    ),
    "EVD-UNTRUSTED-SEAL": (
        "Con dấu không được tạo bằng chứng thư số tin cậy đã chỉ định.",
        "The seal was not made with one of the trusted seal certificates given.",
    ),
    "EVD-MISSING": (
        "Thiếu tệp được liệt kê trong bảng kê.",
        "A file listed in the manifest is missing.",
    ),
    "EVD-EXTRA": (
        "Gói chứng cứ có tệp không được liệt kê trong bảng kê.",
        "The bundle holds a file that the manifest does not list.",
    ),
    "EVD-HASH": (
        "Tệp đã bị thay đổi: kích thước hoặc giá trị băm SHA-256 không khớp với bảng kê.",
        "A file was changed: its size or SHA-256 does not match the manifest.",
    ),
    "EVD-SIGNATURE": (
        "Chữ ký số của đơn vị trên hồ sơ đã nhận (CKy_Dvi) không hợp lệ.",
        "The unit's signature on the received dossier (CKy_Dvi) does not verify.",
    ),
    "EVD-RECEIPT-HASH": (
        "Giá trị băm hồ sơ ghi trên biên nhận không khớp với hồ sơ đã nhận.",
        "The dossier hash written in the receipt does not match the received dossier.",
    ),
}

# Remarks that are not problems: the report says them so a reader knows what was not proven.
NOTES: Final[dict[str, tuple[str, str]]] = {
    "seal-not-pinned": (
        "Chưa đối chiếu con dấu với chứng thư số tin cậy (dùng --trust-seal); chỉ báo vân tay.",
        "The seal was not checked against a trusted certificate (use --trust-seal); only its "
        "fingerprint is reported.",
    ),
    "received-unsigned": (
        "Hồ sơ đã nhận không có chữ ký số của đơn vị (thủ tục không bắt buộc ký).",
        "The received dossier carries no signature of the unit (the procedure did not require one).",
    ),
    "no-receipt": (
        "Gói không có biên nhận (hồ sơ bị từ chối tiếp nhận không có biên nhận).",
        "The bundle holds no receipt (a rejected dossier has none).",
    ),
    "receipt-no-hash": (
        "Biên nhận không ghi giá trị băm của hồ sơ; chưa đối chiếu được.",
        "The receipt carries no hash of the dossier; not compared.",
    ),
}

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


# --- results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BundleProblem:
    code: str
    message_vi: str
    message_en: str
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
            "detail": self.detail,
        }


def bundle_problem(code: str, detail: str = "") -> BundleProblem:
    vi, en = CODES[code]
    return BundleProblem(code, vi, en, detail)


@dataclass(frozen=True)
class SignerInfo:
    subject: str
    fingerprint_sha256: str  # hex, lower case: SHA-256 of the certificate's DER
    serial: str  # hex
    signing_time: str | None  # ISO 8601 UTC, the signer's (unsigned) claim

    @classmethod
    def of(cls, verified: xmldsig.VerifiedXml) -> SignerInfo:
        cert = verified.certificate
        return cls(
            subject=cert.subject.rfc4514_string(),
            fingerprint_sha256=cert.fingerprint(hashes.SHA256()).hex(),
            serial=format(cert.serial_number, "x"),
            signing_time=verified.signing_time.isoformat() if verified.signing_time else None,
        )


@dataclass(frozen=True)
class FileCheck:
    """One file listed in the manifest; `status` is ok, missing, changed or unreadable."""

    name: str
    size: int
    sha256: str
    status: str


@dataclass(frozen=True)
class BundleReport:
    ok: bool
    readable: bool  # False: not a zip at all (or too large to open); nothing else was checked
    problems: tuple[BundleProblem, ...]
    files: tuple[FileCheck, ...]
    metadata: dict[str, str]
    seal: SignerInfo | None
    seal_trusted: bool | None  # None: no trusted certificates were given (not pinned)
    received_signer: SignerInfo | None
    receipt_seal: SignerInfo | None
    receipt_hash_matches: bool | None  # None: no receipt, or it carries no hash
    notes: tuple[str, ...] = ()  # keys of NOTES

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]

    def as_dict(self) -> dict[str, Any]:
        def signer(info: SignerInfo | None) -> dict[str, Any] | None:
            return None if info is None else dict(info.__dict__)

        return {
            "ok": self.ok,
            "readable": self.readable,
            "problems": [p.as_dict() for p in self.problems],
            "files": [dict(f.__dict__) for f in self.files],
            "metadata": dict(self.metadata),
            "seal": signer(self.seal),
            "seal_trusted": self.seal_trusted,
            "received_signer": signer(self.received_signer),
            "receipt_seal": signer(self.receipt_seal),
            "receipt_hash_matches": self.receipt_hash_matches,
            "notes": [
                {"note": key, "message_vi": NOTES[key][0], "message_en": NOTES[key][1]}
                for key in self.notes
            ],
        }


# --- building -------------------------------------------------------------------------------------


def seal_path(seal_container: str) -> str:
    """The container path the seal function must sign into: `EvidenceManifest/<slot>`."""
    return f"{MANIFEST_ROOT}/{_slot(seal_container)}"


def _slot(seal_container: str) -> str:
    """`"CKy_CQBHXH"` or `"EvidenceManifest/CKy_CQBHXH"` -> `"CKy_CQBHXH"`; ValueError otherwise."""
    steps = seal_container.strip("/").split("/")
    if len(steps) == 2 and steps[0] == MANIFEST_ROOT:
        steps = steps[1:]
    if len(steps) != 1 or not _valid_name(steps[0]) or steps[0] in {"Dossier", "Files"}:
        raise ValueError(f"seal_container must be one element name, got {seal_container!r}")
    return steps[0]


def _valid_name(name: str) -> bool:
    return bool(_NAME.fullmatch(name)) and not name.lower().startswith("xml")


def _safe_member_name(name: str) -> bool:
    """A relative path of plain steps: no absolute path, drive, backslash, NUL, "." or ".."."""
    return (
        bool(name)
        and not name.startswith("/")
        and "\\" not in name
        and "\x00" not in name
        and not re.match(r"[A-Za-z]:", name)
        and all(part not in {"", ".", ".."} for part in name.split("/"))
    )


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value)


def build_manifest(
    dossier: Mapping[str, Any], files: Sequence[tuple[str, bytes]], seal_container: str
) -> bytes:
    """The unsealed `manifest.xml` (UTF-8, indented), with an empty seal slot as its last child."""
    slot = _slot(seal_container)
    root = etree.Element(MANIFEST_ROOT, format=FORMAT, sealContainer=slot)
    meta = etree.SubElement(root, "Dossier")
    for key, value in dossier.items():
        if not _valid_name(str(key)):
            raise ValueError(f"dossier metadata key {key!r} is not an XML element name")
        etree.SubElement(meta, str(key)).text = _text(value)
    listing = etree.SubElement(root, "Files")
    for name, data in sorted(files):
        etree.SubElement(
            listing,
            "File",
            name=name,
            size=str(len(data)),
            sha256=hashlib.sha256(data).hexdigest(),
        )
    etree.SubElement(root, slot)
    return etree.tostring(  # type: ignore[no-any-return]
        root, xml_declaration=True, encoding="UTF-8", pretty_print=True
    )


def _zip(entries: Iterable[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever the platform that builds it
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=6)
    return buffer.getvalue()


def build_bundle(
    *,
    dossier: Mapping[str, Any],
    files: Sequence[tuple[str, bytes]],
    seal: Callable[[bytes], bytes],
    seal_container: str,
) -> bytes:
    """The evidence zip: `files` as given (name, bytes), plus `manifest.xml` sealed by `seal`.

    `seal(xml)` must return the manifest signed (enveloped) in `seal_path(seal_container)`.
    The sealed manifest is verified before the zip is made, so a bundle that would not verify is
    never handed out (SignatureError). Entries are sorted by name with fixed time stamps: the same
    inputs, sealed the same way, give the same bytes. ValueError for unsafe or duplicate names and
    for metadata keys that are not XML names.
    """
    names = [name for name, _ in files]
    for name in names:
        if not _safe_member_name(name) or name == MANIFEST_NAME:
            raise ValueError(f"unsafe or reserved file name in the bundle: {name!r}")
    if len(set(names)) != len(names):
        raise ValueError("duplicate file names in the bundle")
    manifest = build_manifest(dossier, files, seal_container)
    sealed = seal(manifest)
    xmldsig.verify(sealed, container=seal_path(seal_container), policy=SEAL_POLICY)
    return _zip([*files, (MANIFEST_NAME, sealed)])


# --- verifying ------------------------------------------------------------------------------------


@dataclass
class _State:
    problems: list[BundleProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, code: str, detail: str = "") -> None:
        self.problems.append(bundle_problem(code, detail))

    def note(self, key: str) -> None:
        if key not in self.notes:
            self.notes.append(key)


def _fingerprints(certificates: Sequence[bytes]) -> set[str]:
    """SHA-256 of each certificate's DER (PEM accepted too, one or more per item)."""
    prints = set()
    for item in certificates:
        if b"-----BEGIN" in item:
            for cert in x509.load_pem_x509_certificates(item):
                der = cert.public_bytes(serialization.Encoding.DER)
                prints.add(hashlib.sha256(der).hexdigest())
        else:
            prints.add(hashlib.sha256(bytes(item)).hexdigest())
    return prints


def _unreadable(state: _State, detail: str) -> BundleReport:
    state.add("EVD-ZIP", detail)
    return BundleReport(
        ok=False,
        readable=False,
        problems=tuple(state.problems),
        files=(),
        metadata={},
        seal=None,
        seal_trusted=None,
        received_signer=None,
        receipt_seal=None,
        receipt_hash_matches=None,
    )


def _read_members(
    archive: zipfile.ZipFile, state: _State, *, max_member_bytes: int, max_members: int
) -> dict[str, bytes | None]:
    """Every member's bytes (None: present but unreadable), within the bounds."""
    infos = archive.infolist()
    if len(infos) > max_members:
        state.add("EVD-ZIP", f"{len(infos)} entries (at most {max_members})")
        infos = infos[:max_members]
    members: dict[str, bytes | None] = {}
    for info in infos:
        name = info.filename
        if name in members:
            # zipfile would silently give the last one: which copy counts is not for us to pick.
            state.add("EVD-ZIP", f"{name}: duplicate entry")
            members[name] = None
            continue
        if info.flag_bits & 0x1:
            state.add("EVD-ZIP", f"{name}: encrypted")
            members[name] = None
            continue
        if info.file_size > max_member_bytes:
            state.add("EVD-ZIP", f"{name}: {info.file_size} bytes (at most {max_member_bytes})")
            members[name] = None
            continue
        try:
            with archive.open(info) as member:
                data = member.read(max_member_bytes + 1)
        except Exception as exc:  # noqa: BLE001 - CRC errors, bad headers, zlib errors…
            state.add("EVD-ZIP", f"{name}: unreadable ({type(exc).__name__})")
            members[name] = None
            continue
        if len(data) > max_member_bytes:
            state.add("EVD-ZIP", f"{name}: larger than {max_member_bytes} bytes")
            members[name] = None
            continue
        members[name] = data
    return members


@dataclass(frozen=True)
class _Listing:
    metadata: dict[str, str]
    files: list[tuple[str, int, str]]


def _parse_listing(root: Element, state: _State) -> _Listing | None:
    metadata: dict[str, str] = {}
    files: list[tuple[str, int, str]] = []
    dossiers = [c for c in root if isinstance(c.tag, str) and c.tag == "Dossier"]
    listings = [c for c in root if isinstance(c.tag, str) and c.tag == "Files"]
    if len(dossiers) != 1 or len(listings) != 1:
        state.add("EVD-MANIFEST", "expected one <Dossier> and one <Files>")
        return None
    for node in dossiers[0]:
        if isinstance(node.tag, str):
            metadata[etree.QName(node).localname] = node.text or ""
    seen: set[str] = set()
    for node in listings[0]:
        if not isinstance(node.tag, str):
            continue
        name, size, digest = node.get("name"), node.get("size"), node.get("sha256")
        if (
            node.tag != "File"
            or not name
            or not _safe_member_name(name)
            or name == MANIFEST_NAME
            or not size
            or not size.isdigit()
            or not digest
            or not _SHA256_HEX.fullmatch(digest)
        ):
            state.add("EVD-MANIFEST", f"malformed <File> entry {name!r}")
            return None
        if name in seen:
            state.add("EVD-MANIFEST", f"{name} listed twice")
            return None
        seen.add(name)
        files.append((name, int(size), digest))
    return _Listing(metadata, files)


def _check_manifest(
    data: bytes, state: _State, trusted: set[str] | None
) -> tuple[_Listing | None, SignerInfo | None, bool | None]:
    try:
        unverified = xmldsig.parse_secure(data)
    except SignatureError as exc:
        state.add("EVD-MANIFEST", f"{exc.code}: {exc.detail}")
        return None, None, None
    if etree.QName(unverified).localname != MANIFEST_ROOT or unverified.get("format") != FORMAT:
        state.add(
            "EVD-MANIFEST",
            f"root <{etree.QName(unverified).localname}> format={unverified.get('format')!r}, "
            f"expected <{MANIFEST_ROOT}> format={FORMAT!r}",
        )
        return None, None, None
    try:
        container = seal_path(unverified.get("sealContainer") or "")
    except ValueError as exc:
        state.add("EVD-MANIFEST", str(exc))
        return None, None, None
    seal: SignerInfo | None = None
    trusted_flag: bool | None = None
    try:
        verified = xmldsig.verify(data, container=container, policy=SEAL_POLICY)
    except SignatureError as exc:
        state.add("EVD-SEAL", f"{MANIFEST_NAME}: {exc.code} {exc.detail}".strip())
        root = unverified  # listed files are still compared, for a complete report
    else:
        root = verified.root
        seal = SignerInfo.of(verified)
        trusted_flag = _judge_trust(seal, trusted, MANIFEST_NAME, state)
    return _parse_listing(root, state), seal, trusted_flag


def _judge_trust(
    signer: SignerInfo, trusted: set[str] | None, what: str, state: _State
) -> bool | None:
    if trusted is None:
        state.note("seal-not-pinned")
        return None
    if signer.fingerprint_sha256 in trusted:
        return True
    state.add(
        "EVD-UNTRUSTED-SEAL", f"{what}: {signer.subject} (SHA-256 {signer.fingerprint_sha256})"
    )
    return False


def _container_of_signature(data: bytes) -> str | None:
    """The path (root first) of the element holding the one ds:Signature of `data`, if any."""
    try:
        root = xmldsig.parse_secure(data)
    except SignatureError:
        return None
    signature = next(root.iter(xmldsig.SIGNATURE_TAG), None)
    if signature is None or signature.getparent() is root:
        return None
    parent = signature.getparent()
    steps = [etree.QName(node).localname for node in (parent, *parent.iterancestors())]
    return "/".join(reversed(steps))


def _hash_value(text: str) -> bytes | None:
    compact = "".join(text.split())
    if re.fullmatch(r"[0-9A-Fa-f]{64}", compact):
        return bytes.fromhex(compact)
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


def _check_receipt(
    receipt: bytes,
    received: bytes | None,
    state: _State,
    trusted: set[str] | None,
    *,
    container: str | None,
    hash_elements: Collection[str],
) -> tuple[SignerInfo | None, bool | None]:
    path = container or _container_of_signature(receipt)
    try:
        verified = xmldsig.verify(receipt, container=path, policy=SEAL_POLICY)
    except SignatureError as exc:
        state.add("EVD-SEAL", f"{RECEIPT_NAME}: {exc.code} {exc.detail}".strip())
        return None, None
    signer = SignerInfo.of(verified)
    _judge_trust(signer, trusted, RECEIPT_NAME, state)
    nodes = [
        node
        for node in verified.root.iter()
        if isinstance(node.tag, str) and etree.QName(node).localname in hash_elements
    ]
    if not nodes:
        state.note("receipt-no-hash")
        return signer, None
    if received is None:
        return signer, None  # the received file is missing: already reported
    actual = hashlib.sha256(received).digest()
    matches = True
    for node in nodes:
        value = _hash_value(node.text or "")
        if value != actual:
            matches = False
            state.add(
                "EVD-RECEIPT-HASH",
                f"<{etree.QName(node).localname}> {(node.text or '').strip()[:80]!r} "
                f"!= {actual.hex()}",
            )
    return signer, matches


def _check_received(received: bytes, state: _State) -> SignerInfo | None:
    try:
        verified = xmldsig.verify(received, container=ENVELOPE_CONTAINER, policy=RECEIVED_POLICY)
    except SignatureError as exc:
        if exc.code == "SIG-MISSING":
            state.note("received-unsigned")
        else:
            state.add("EVD-SIGNATURE", f"{RECEIVED_NAME}: {exc.code} {exc.detail}".strip())
        return None
    return SignerInfo.of(verified)


def verify_bundle(
    data: bytes | str | os.PathLike[str],
    *,
    trusted_seal_certificates: Sequence[bytes] | None = None,
    receipt_hash_elements: Collection[str] = RECEIPT_HASH_ELEMENTS,
    receipt_container: str | None = None,
    max_bundle_bytes: int = MAX_BUNDLE_BYTES,
    max_member_bytes: int = MAX_MEMBER_BYTES,
    max_members: int = MAX_MEMBERS,
) -> BundleReport:
    """Check an evidence bundle (bytes, or a path) offline; never raises for a bad bundle.

    OSError only when a path cannot be read. `trusted_seal_certificates` (DER or PEM): the seals
    of the manifest and the receipt must be made with one of them; without them the report
    only gives the fingerprints (and the note `seal-not-pinned`). `receipt_container` is the
    path of the receipt's seal (by default: where its one signature is).
    """
    state = _State()
    trusted = (
        _fingerprints(trusted_seal_certificates) if trusted_seal_certificates is not None else None
    )
    if isinstance(data, bytes | bytearray):
        size = len(data)
        source: Any = io.BytesIO(bytes(data))
    else:
        size = os.stat(data).st_size
        source = os.fspath(data)
    if size > max_bundle_bytes:
        return _unreadable(state, f"{size} bytes (at most {max_bundle_bytes})")
    try:
        archive = zipfile.ZipFile(source)
    except Exception as exc:  # noqa: BLE001 - BadZipFile, truncated directories, …
        if isinstance(exc, OSError) and not isinstance(source, io.BytesIO):
            raise  # the file itself could not be read: the caller's problem, not the bundle's
        return _unreadable(state, f"not a zip archive ({type(exc).__name__}: {exc})")
    with archive:
        members = _read_members(
            archive, state, max_member_bytes=max_member_bytes, max_members=max_members
        )

    listing: _Listing | None = None
    seal: SignerInfo | None = None
    seal_trusted: bool | None = None
    manifest = members.get(MANIFEST_NAME)
    if MANIFEST_NAME not in members:
        state.add("EVD-MANIFEST", f"{MANIFEST_NAME} is missing")
    elif manifest is not None:
        listing, seal, seal_trusted = _check_manifest(manifest, state, trusted)

    checks: list[FileCheck] = []
    if listing is not None:
        listed = {name for name, _, _ in listing.files}
        for name, size_listed, digest in listing.files:
            content = members.get(name)
            if name not in members:
                state.add("EVD-MISSING", name)
                status = "missing"
            elif content is None:
                status = "unreadable"  # reported by _read_members
            elif len(content) != size_listed or hashlib.sha256(content).hexdigest() != digest:
                state.add(
                    "EVD-HASH",
                    f"{name}: {len(content)} bytes, SHA-256 {hashlib.sha256(content).hexdigest()}",
                )
                status = "changed"
            else:
                status = "ok"
            checks.append(FileCheck(name, size_listed, digest, status))
        if RECEIVED_NAME not in listed:
            state.add("EVD-MISSING", f"{RECEIVED_NAME} is not listed in the manifest")
        for name in members:
            if name != MANIFEST_NAME and name not in listed:
                state.add("EVD-EXTRA", name)
    elif RECEIVED_NAME not in members:
        state.add("EVD-MISSING", RECEIVED_NAME)  # no usable manifest, and no dossier either

    received = members.get(RECEIVED_NAME)
    received_signer = _check_received(received, state) if received is not None else None

    receipt_seal: SignerInfo | None = None
    receipt_hash: bool | None = None
    receipt = members.get(RECEIPT_NAME)
    if receipt is not None:
        receipt_seal, receipt_hash = _check_receipt(
            receipt,
            received,
            state,
            trusted,
            container=receipt_container,
            hash_elements=receipt_hash_elements,
        )
    elif RECEIPT_NAME not in members:
        state.note("no-receipt")

    return BundleReport(
        ok=not state.problems,
        readable=True,
        problems=tuple(state.problems),
        files=tuple(checks),
        metadata=listing.metadata if listing is not None else {},
        seal=seal,
        seal_trusted=seal_trusted,
        received_signer=received_signer,
        receipt_seal=receipt_seal,
        receipt_hash_matches=receipt_hash,
        notes=tuple(state.notes),
    )
