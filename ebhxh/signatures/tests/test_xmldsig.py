"""Signing and strict verification of VSS XML signatures (ebhxh.signatures.xmldsig).

No database. One test PKI per module (RSA keys are slow to generate).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
from collections.abc import Callable

import pytest
import xmlsec
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
from lxml import etree

from ebhxh.signatures import profile, xmldsig
from ebhxh.signatures.errors import SignatureError
from ebhxh.signatures.profile import Policy
from ebhxh.signatures.signers import KeySigner, ecdsa_der_to_raw
from ebhxh.signatures.testing.pki import Issued, TestPKI

DS = profile.DS_NS
NS = {"ds": DS}
WHEN = dt.datetime(2026, 3, 5, 8, 30, 15, tzinfo=dt.UTC)

TK1 = """<?xml version="1.0" encoding="utf-8"?>
<TK1-TS xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <HoTen>Nguyễn Văn Ất</HoTen>
  <MaSoBHXH>7912345678</MaSoBHXH>
  <DiaChi loai="thuong-tru">Số 1 Lê Lợi, Phường Bến Nghé, TP Hồ Chí Minh</DiaChi>
  <GhiChu>Đăng ký mới; điều chỉnh mức đóng</GhiChu>
</TK1-TS>
"""

D02 = (
    '<?xml version="1.0" encoding="utf-8"?>\n<D02-TS>\n  <TenDonVi>Công ty TNHH Sao Mai</TenDonVi>\n'
    + "".join(
        f"  <LaoDong><STT>{i}</STT><HoTen>Trần Thị Thủy {i}</HoTen><MucLuong>{8_000_000 + i}</MucLuong></LaoDong>\n"
        for i in range(1, 6)
    )
    + "  <Cky />\n</D02-TS>\n"
)

HOSO = """<Hoso>
  <NoiDung>
    <ThongTinIVAN><MaIVAN>00040</MaIVAN><TenIVAN>Công ty Thái Sơn</TenIVAN></ThongTinIVAN>
    <ThongTinDonVi><TenDoiTuong>Công ty TNHH Sao Mai</TenDoiTuong><MaSoBHXH>TA1234A</MaSoBHXH></ThongTinDonVi>
    <ThongTinHoSo>
      <MaThuTuc>600</MaThuTuc><KyKeKhai>03/2026</KyKeKhai>
      <ToKhais><FileToKhai><MaToKhai>TK1-TS</MaToKhai><TenFile>TK1-TS-595.xml</TenFile>
        <NoiDungFile>PFRLMS1UUy8+</NoiDungFile></FileToKhai></ToKhais>
    </ThongTinHoSo>
  </NoiDung>
</Hoso>
"""


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return TestPKI()


@pytest.fixture(scope="module")
def unit(pki: TestPKI) -> Issued:
    return pki.issue("Công ty TNHH Sao Mai", tax_code="0310000017")


@pytest.fixture(scope="module")
def unit_ec(pki: TestPKI) -> Issued:
    return pki.issue("Công ty Cổ phần Ánh Dương", tax_code="0310000018", key_kind="ec")


@pytest.fixture(scope="module")
def other(pki: TestPKI) -> Issued:
    return pki.issue("Người khác")


def signer_of(issued: Issued) -> KeySigner:
    return KeySigner(issued.key, issued.certificate, issued.chain)


@pytest.fixture(scope="module")
def signed_tk1(unit: Issued) -> bytes:
    return xmldsig.sign(TK1.encode(), signer_of(unit), signing_time=WHEN)


def edit(data: bytes, change: Callable[[etree._Element], object]) -> bytes:
    """Re-serialize a (trusted, test-made) document after `change(root)`."""
    root = etree.fromstring(data)
    change(root)
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def ds(root: etree._Element, path: str) -> etree._Element:
    return root.xpath(path, namespaces=NS)[0]


def refused(data: bytes, code: str, **kwargs: object) -> SignatureError:
    with pytest.raises(SignatureError) as info:
        xmldsig.verify(data, **kwargs)  # type: ignore[arg-type]
    assert info.value.code == code, info.value
    return info.value


# --- round trips ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["rsa", "ec"])
@pytest.mark.parametrize("c14n", ["inclusive", "exclusive"])
@pytest.mark.parametrize(
    ("document", "container"),
    [(TK1, "TK1-TS/Cky"), (D02, "D02-TS/Cky"), (HOSO, "Hoso/CKy_Dvi")],
    ids=["TK1-TS", "D02-TS", "Hoso"],
)
def test_it_round_trips(kind, c14n, document, container, unit, unit_ec):
    issued = unit_ec if kind == "ec" else unit
    signed = xmldsig.sign(document.encode(), signer_of(issued), c14n=c14n, signing_time=WHEN)

    verified = xmldsig.verify(signed)

    assert verified.certificate == issued.certificate
    assert verified.embedded_certificates == issued.chain
    assert verified.signing_time == WHEN
    assert verified.signature_method == (
        profile.ECDSA_SHA256 if kind == "ec" else profile.RSA_SHA256
    )
    assert verified.digest_method == profile.SHA256
    assert verified.c14n_method == profile.C14N_ALGORITHMS[c14n]
    # The signature sits in the form's node, and is gone from what the caller gets back.
    root = etree.fromstring(signed)
    signature = root.find(f".//{{{DS}}}Signature")
    assert signature.getparent().tag == container.split("/")[1]
    assert signature.getparent().getparent() is root
    assert verified.root.find(f".//{{{DS}}}Signature") is None
    assert verified.root.find(container.split("/")[1]) is not None
    # `content` is exactly the digested octets, and matches `root`.
    digest = base64.b64decode(ds(root, "//ds:DigestValue").text)
    assert hashlib.sha256(verified.content).digest() == digest
    assert verified.content == etree.tostring(
        verified.root.getroottree(),
        method="c14n",
        exclusive=c14n == "exclusive",
        with_comments=False,
    )


def test_it_keeps_vietnamese_text_and_accepts_a_bom(unit):
    with_bom = "\ufeff".encode() + TK1.encode("utf-8")

    signed = xmldsig.sign(with_bom, signer_of(unit))
    verified = xmldsig.verify(signed)

    assert signed.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<TK1-TS')
    assert "Nguyễn Văn Ất".encode() in signed
    assert verified.root.findtext("HoTen") == "Nguyễn Văn Ất"
    assert verified.root.findtext("DiaChi") == "Số 1 Lê Lợi, Phường Bến Nghé, TP Hồ Chí Minh"
    # A BOM in front of a signed file (VSS clients write one) is fine too.
    assert xmldsig.verify(b"\xef\xbb\xbf" + signed).content == verified.content


def test_it_writes_the_vss_profile(signed_tk1, unit):
    root = etree.fromstring(signed_tk1)
    signature = ds(root, "/TK1-TS/Cky/ds:Signature")

    assert signature.get("Id") == "sigid"
    assert ds(signature, "ds:SignedInfo/ds:CanonicalizationMethod").get("Algorithm") == profile.C14N
    assert ds(signature, "ds:SignedInfo/ds:SignatureMethod").get("Algorithm") == profile.RSA_SHA256
    references = signature.xpath("ds:SignedInfo/ds:Reference", namespaces=NS)
    assert [r.get("URI") for r in references] == [""]
    assert [
        t.get("Algorithm") for t in references[0].xpath("ds:Transforms/ds:Transform", namespaces=NS)
    ] == [
        profile.ENVELOPED,
        profile.C14N,
    ]
    assert ds(references[0], "ds:DigestMethod").get("Algorithm") == profile.SHA256
    modulus = ds(signature, "ds:KeyInfo/ds:KeyValue/ds:RSAKeyValue/ds:Modulus").text
    assert (
        int.from_bytes(base64.b64decode(modulus), "big")
        == unit.certificate.public_key().public_numbers().n
    )
    assert ds(signature, "ds:KeyInfo/ds:X509Data/ds:X509SubjectName").text.startswith(
        "UID=MST:0310000017,CN="
    )
    certificates = signature.xpath(
        "ds:KeyInfo/ds:X509Data/ds:X509Certificate/text()", namespaces=NS
    )
    assert [base64.b64decode(c) for c in certificates] == [unit.cert_der] + [
        c.public_bytes(serialization.Encoding.DER) for c in unit.chain
    ]
    properties = ds(signature, "ds:Object/ds:SignatureProperties")
    assert properties.get("Id") == "proid"
    assert ds(properties, "ds:SignatureProperty").get("Target") == "#sigid"
    signing_time = ds(properties, "ds:SignatureProperty/*")
    assert signing_time.tag == "{http://example.org/#signatureProperties}SigningTime"
    assert signing_time.text == "2026-03-05T08:30:15Z"


def test_it_writes_an_ec_key_value(unit_ec):
    signed = xmldsig.sign(TK1.encode(), signer_of(unit_ec))
    root = etree.fromstring(signed)
    value = root.find(f".//{{{DS}}}KeyValue/{{{profile.DSIG11_NS}}}ECKeyValue")

    assert (
        value.find(f"{{{profile.DSIG11_NS}}}NamedCurve").get("URI") == "urn:oid:1.2.840.10045.3.1.7"
    )
    assert xmldsig.verify(signed).certificate == unit_ec.certificate


def test_it_can_leave_out_the_key_value(unit):
    signed = xmldsig.sign(TK1.encode(), signer_of(unit), include_key_value=False)

    assert b"KeyValue" not in signed
    assert xmldsig.verify(signed).certificate == unit.certificate


def test_it_reuses_an_existing_container(unit):
    signed = xmldsig.sign(D02.encode(), signer_of(unit))

    assert len(etree.fromstring(signed).findall("Cky")) == 1


def test_it_takes_an_explicit_container(unit):
    document = (
        "<BaoHiemDienTu><NoiDung>Phiếu giao nhận</NoiDung><CKyDTu /></BaoHiemDienTu>".encode()
    )
    path = "BaoHiemDienTu/CKyDTu/CKYDTU_DVI"

    signed = xmldsig.sign(document, signer_of(unit), container=path)

    assert xmldsig.verify(signed, container=path).root.findtext("NoiDung") == "Phiếu giao nhận"
    refused(signed, "SIG-CONTAINER")  # the default node for BaoHiemDienTu is another one


def test_it_knows_the_vss_containers():
    assert profile.container_for("TK1-TS") == "TK1-TS/Cky"
    assert profile.container_for("{urn:x}M05A-HSB") == "M05A-HSB/Cky"
    assert profile.container_for("Hoso") == "Hoso/CKy_Dvi"
    assert profile.container_for("Unknown") is None


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"algorithm": "ecdsa-sha256"}, "SIG-ALGORITHM"),
        ({"algorithm": "rsa-sha512"}, "SIG-ALGORITHM"),
        ({"algorithm": "rsa-sha1"}, "SIG-SHA1-DISABLED"),
        ({"container": "TK3-TS/Cky"}, "SIG-CONTAINER"),
    ],
)
def test_it_refuses_to_sign_with_bad_options(options, code, unit):
    with pytest.raises(SignatureError) as info:
        xmldsig.sign(TK1.encode(), signer_of(unit), **options)
    assert info.value.code == code


def test_it_refuses_to_sign_an_unknown_form_or_a_signed_one(unit, signed_tk1):
    with pytest.raises(SignatureError, match="SIG-CONTAINER"):
        xmldsig.sign(b"<Unknown/>", signer_of(unit))
    with pytest.raises(SignatureError, match="SIG-MULTIPLE"):
        xmldsig.sign(signed_tk1, signer_of(unit))
    with pytest.raises(ValueError, match="timezone-aware"):
        xmldsig.sign(TK1.encode(), signer_of(unit), signing_time=dt.datetime(2026, 1, 1))


# --- two-phase signing ----------------------------------------------------------------------------


def test_two_phase_with_a_raw_pkcs1_token(unit):
    prepared = xmldsig.prepare(
        TK1.encode(), certificate=unit.certificate, chain=unit.chain, signing_time=WHEN
    )

    # What a CKM_RSA_PKCS token does: PKCS#1 v1.5 over the DigestInfo the host built.
    value = unit.key.sign(prepared.digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    signed = xmldsig.attach(prepared, value)

    assert prepared.digest == hashlib.sha256(prepared.signed_info_c14n).digest()
    assert prepared.hash_name == "sha256"
    assert prepared.signature_method == profile.RSA_SHA256
    assert xmldsig.verify(signed).certificate == unit.certificate
    # digest_info is exactly the block inside the PKCS#1 v1.5 padding (RFC 8017 §9.2).
    numbers = unit.certificate.public_key().public_numbers()
    block = pow(int.from_bytes(value, "big"), numbers.e, numbers.n).to_bytes(256, "big")
    assert block.endswith(b"\x00" + prepared.digest_info)
    assert prepared.digest_info.startswith(bytes.fromhex("3031300d060960864801650304020105000420"))


def test_two_phase_with_raw_ecdsa(unit_ec):
    prepared = xmldsig.prepare(TK1.encode(), certificate=unit_ec.certificate, chain=unit_ec.chain)

    der = unit_ec.key.sign(prepared.digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    signed = xmldsig.attach(prepared, ecdsa_der_to_raw(der, 256))

    assert prepared.signature_method == profile.ECDSA_SHA256
    assert xmldsig.verify(signed).certificate == unit_ec.certificate


def test_prepare_is_deterministic(unit):
    one = xmldsig.prepare(TK1.encode(), certificate=unit.certificate, signing_time=WHEN)
    two = xmldsig.prepare(TK1.encode(), certificate=unit.certificate, signing_time=WHEN)

    assert one.signed_info_c14n == two.signed_info_c14n
    assert one.document == two.document


def test_prepared_signed_info_is_what_sign_signs(unit):
    prepared = xmldsig.prepare(
        TK1.encode(), certificate=unit.certificate, chain=unit.chain, signing_time=WHEN
    )
    seen: list[bytes] = []

    class Recording(KeySigner):
        def sign(self, data: bytes, *, hash_name: str = "sha256") -> bytes:
            seen.append(data)
            return super().sign(data, hash_name=hash_name)

    signed = xmldsig.sign(
        TK1.encode(), Recording(unit.key, unit.certificate, unit.chain), signing_time=WHEN
    )

    assert seen == [prepared.signed_info_c14n]
    # RSA PKCS#1 v1.5 is deterministic: both paths give the same file.
    assert (
        xmldsig.attach(prepared, unit.key.sign(seen[0], padding.PKCS1v15(), hashes.SHA256()))
        == signed
    )


def test_attach_refuses_a_value_from_another_key(unit, other):
    prepared = xmldsig.prepare(TK1.encode(), certificate=unit.certificate)
    value = other.key.sign(prepared.signed_info_c14n, padding.PKCS1v15(), hashes.SHA256())

    with pytest.raises(SignatureError) as info:
        xmldsig.attach(prepared, value)
    assert info.value.code == "SIG-VALUE"


def test_signed_info_c14n_carries_the_namespace_context(unit):
    # Inclusive C14N of SignedInfo includes every namespace in scope (used or not) and
    # inherits xml:* attributes from the ancestors; a verifier computes exactly that.
    document = '<TK1-TS xmlns="urn:form" xmlns:u="urn:unused" xml:lang="vi"><HoTen>Ất</HoTen><Cky xml:space="preserve"/></TK1-TS>'

    prepared = xmldsig.prepare(document.encode(), certificate=unit.certificate)

    assert prepared.signed_info_c14n.startswith(
        b'<ds:SignedInfo xmlns="urn:form" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:u="urn:unused"'
        b' xml:lang="vi" xml:space="preserve">'
    )
    value = unit.key.sign(prepared.signed_info_c14n, padding.PKCS1v15(), hashes.SHA256())
    signed = xmldsig.attach(prepared, value)
    # ...and xmlsec, checking the whole document on its own, agrees.
    checked = xmldsig._check_signed_info(
        etree.fromstring(signed).find(f".//{{{DS}}}Signature"), Policy()
    )
    assert xmldsig._xmlsec_verify_document(signed, unit.certificate, checked)


# --- parsing --------------------------------------------------------------------------------------


XXE = b'<?xml version="1.0"?><!DOCTYPE TK1-TS [<!ENTITY x SYSTEM "file:///etc/passwd">]><TK1-TS><HoTen>&x;</HoTen></TK1-TS>'
EXTERNAL_DTD = b'<?xml version="1.0"?><!DOCTYPE TK1-TS SYSTEM "file:///etc/passwd"><TK1-TS/>'
PARAMETER_ENTITY = b'<!DOCTYPE TK1-TS [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><TK1-TS/>'
BARE_DOCTYPE = b"<!DOCTYPE TK1-TS><TK1-TS/>"
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]><lolz>&lol9;</lolz>"
)


@pytest.mark.parametrize(
    "document",
    [
        XXE,
        EXTERNAL_DTD,
        PARAMETER_ENTITY,
        BARE_DOCTYPE,
        LAUGHS,
        XXE.decode().replace('<?xml version="1.0"?>', "").encode("utf-16"),
    ],
    ids=["xxe", "external-dtd", "parameter-entity", "bare", "billion-laughs", "utf-16"],
)
def test_it_refuses_doctypes_without_reading_anything(document, monkeypatch):
    loads: list[str] = []
    monkeypatch.setattr(
        xmldsig._RefuseExternal, "resolve", lambda self, url, *args: loads.append(url)
    )

    with pytest.raises(SignatureError) as info:
        xmldsig.parse_secure(document)

    assert info.value.code == "SIG-XML-DOCTYPE"
    assert "root:" not in info.value.detail  # nothing of /etc/passwd
    assert loads == []


def test_it_refuses_a_doctype_in_a_signed_file(signed_tk1):
    document = signed_tk1.replace(b"<TK1-TS", b'<!DOCTYPE TK1-TS [<!ENTITY e "x">]><TK1-TS', 1)

    refused(document, "SIG-XML-DOCTYPE")


@pytest.mark.parametrize(
    "document", [b"", b"<TK1-TS>", b"not xml", b"<a/><b/>", b"<a>&undefined;</a>"]
)
def test_it_refuses_malformed_xml(document):
    refused(document, "SIG-XML-MALFORMED")


# --- refusals -------------------------------------------------------------------------------------


def test_it_refuses_an_unsigned_file():
    refused(TK1.encode(), "SIG-MISSING")


def test_it_refuses_two_signatures(signed_tk1, unit):
    def second(root):
        root.find("HoTen").append(etree.fromstring(etree.tostring(ds(root, "//ds:Signature"))))

    refused(edit(signed_tk1, second), "SIG-MULTIPLE")


def test_it_refuses_a_signature_in_another_node(signed_tk1):
    refused(
        edit(signed_tk1, lambda root: root.find("GhiChu").append(ds(root, "//ds:Signature"))),
        "SIG-PLACEMENT",
    )
    refused(edit(signed_tk1, lambda root: root.append(ds(root, "//ds:Signature"))), "SIG-PLACEMENT")


def test_it_refuses_a_missing_container(signed_tk1):
    def move(root):
        signature = ds(root, "//ds:Signature")
        cky = signature.getparent()
        root.append(signature)
        root.remove(cky)

    refused(edit(signed_tk1, move), "SIG-CONTAINER")


def _reference(root):
    return ds(root, "//ds:SignedInfo/ds:Reference")


@pytest.mark.parametrize(
    "change",
    [
        lambda root: _reference(root).set("URI", "#x"),
        lambda root: _reference(root).set("URI", "http://example.com/tk1.xml"),
        lambda root: _reference(root).set("URI", "#xpointer(/)"),
        lambda root: _reference(root).attrib.pop("URI"),
        lambda root: (
            _reference(root).getparent().append(etree.fromstring(etree.tostring(_reference(root))))
        ),
        lambda root: ds(root, "//ds:Object").append(
            etree.fromstring(f'<ds:Manifest xmlns:ds="{DS}"/>')
        ),
    ],
    ids=["id", "external", "xpointer", "no-uri", "two-references", "manifest"],
)
def test_it_refuses_references_other_than_the_whole_document(change, signed_tk1):
    refused(edit(signed_tk1, change), "SIG-REFERENCE")


def _transforms(root):
    return ds(root, "//ds:Reference/ds:Transforms")


def _transform(algorithm: str, inner: str = "") -> etree._Element:
    return etree.fromstring(
        f'<ds:Transform xmlns:ds="{DS}" Algorithm="{algorithm}">{inner}</ds:Transform>'
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda root: _transforms(root).append(
            _transform(
                "http://www.w3.org/TR/1999/REC-xpath-19991116",
                "<ds:XPath>not(ancestor-or-self::ds:Signature)</ds:XPath>",
            )
        ),
        lambda root: _transforms(root).insert(
            0, _transform("http://www.w3.org/TR/1999/REC-xslt-19991116")
        ),
        lambda root: _transforms(root).append(
            _transform("http://www.w3.org/2002/06/xmldsig-filter2")
        ),
        lambda root: _transforms(root)[1].set("Algorithm", profile.C14N_WITH_COMMENTS),
        lambda root: _transforms(root).remove(_transforms(root)[0]),
        lambda root: _transforms(root).append(_transform(profile.ENVELOPED)),
    ],
    ids=["xpath", "xslt", "xpath-filter2", "c14n-with-comments", "no-enveloped", "enveloped-twice"],
)
def test_it_refuses_transforms_outside_the_allow_list(change, signed_tk1):
    refused(edit(signed_tk1, change), "SIG-TRANSFORM")


@pytest.mark.parametrize(
    ("path", "algorithm", "code"),
    [
        (
            "//ds:SignatureMethod",
            "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256",
            "SIG-ALGORITHM",
        ),
        ("//ds:SignatureMethod", "http://www.w3.org/2000/09/xmldsig#hmac-sha1", "SIG-ALGORITHM"),
        (
            "//ds:SignatureMethod",
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
            "SIG-ALGORITHM",
        ),
        (
            "//ds:SignatureMethod",
            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
            "SIG-ALGORITHM",
        ),
        ("//ds:SignatureMethod", profile.RSA_SHA1, "SIG-SHA1-DISABLED"),
        ("//ds:DigestMethod", profile.SHA1, "SIG-SHA1-DISABLED"),
        ("//ds:DigestMethod", "http://www.w3.org/2001/04/xmldsig-more#md5", "SIG-ALGORITHM"),
        ("//ds:CanonicalizationMethod", profile.C14N_WITH_COMMENTS, "SIG-ALGORITHM"),
        ("//ds:CanonicalizationMethod", "http://www.w3.org/2006/12/xml-c14n11", "SIG-ALGORITHM"),
    ],
)
def test_it_refuses_algorithms_outside_the_allow_list(path, algorithm, code, signed_tk1):
    refused(edit(signed_tk1, lambda root: ds(root, path).set("Algorithm", algorithm)), code)


def test_it_refuses_hmac_output_length(signed_tk1):
    def truncate(root):
        ds(root, "//ds:SignatureMethod").append(
            etree.fromstring(f'<ds:HMACOutputLength xmlns:ds="{DS}">8</ds:HMACOutputLength>')
        )

    refused(edit(signed_tk1, truncate), "SIG-ALGORITHM")


def xmlsec_signed(document: str, issued: Issued, method: object, digest: object) -> bytes:
    """A file signed by python-xmlsec itself, e.g. with the legacy RSA-SHA1 profile."""
    root = etree.fromstring(document.encode())
    constants = xmlsec.constants
    signature = xmlsec.template.create(
        root, constants.TransformInclC14N, method, ns="ds", id="sigid"
    )
    etree.SubElement(root, "Cky").append(signature)
    reference = xmlsec.template.add_reference(signature, digest, uri="")
    xmlsec.template.add_transform(reference, constants.TransformEnveloped)
    xmlsec.template.x509_data_add_certificate(
        xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
    )
    key = xmlsec.Key.from_memory(issued.key_pem, constants.KeyDataFormatPem)
    key.load_cert_from_memory(issued.cert_pem, constants.KeyDataFormatCertPem)
    ctx = xmlsec.SignatureContext()
    ctx.key = key
    ctx.sign(signature)
    return etree.tostring(root)


def test_sha1_needs_the_policy_flag(unit):
    constants = xmlsec.constants
    legacy = xmlsec_signed(TK1, unit, constants.TransformRsaSha1, constants.TransformSha1)
    mixed = xmlsec_signed(TK1, unit, constants.TransformRsaSha256, constants.TransformSha1)

    refused(legacy, "SIG-SHA1-DISABLED", policy=Policy(require_signing_time=False))
    refused(mixed, "SIG-SHA1-DISABLED", policy=Policy(require_signing_time=False))
    allowed = xmldsig.verify(legacy, policy=Policy(allow_sha1=True, require_signing_time=False))
    assert (allowed.signature_method, allowed.digest_method) == (profile.RSA_SHA1, profile.SHA1)
    assert allowed.signing_time is None
    assert (
        xmldsig.verify(
            mixed, policy=Policy(allow_sha1=True, require_signing_time=False)
        ).digest_method
        == profile.SHA1
    )


def test_it_refuses_a_key_value_of_another_key(signed_tk1, other):
    def swap(root):
        numbers = other.certificate.public_key().public_numbers()
        modulus = numbers.n.to_bytes(256, "big")
        ds(root, "//ds:RSAKeyValue/ds:Modulus").text = base64.b64encode(modulus).decode()

    refused(edit(signed_tk1, swap), "SIG-KEYINFO-MISMATCH")


def test_it_refuses_an_ec_key_value_of_another_key(unit_ec, pki):
    signed = xmldsig.sign(TK1.encode(), signer_of(unit_ec))
    stranger = pki.issue("Lạ", key_kind="ec")
    donor = etree.fromstring(xmldsig.sign(TK1.encode(), signer_of(stranger)))

    def swap(root):
        key_value = ds(root, "//ds:KeyValue")
        key_value.getparent().replace(key_value, ds(donor, "//ds:KeyValue"))

    refused(edit(signed, swap), "SIG-KEYINFO-MISMATCH")


@pytest.mark.parametrize(
    "change",
    [
        lambda root: ds(root, "//ds:KeyInfo").remove(ds(root, "//ds:X509Data")),
        lambda root: ds(root, "//ds:Signature").remove(ds(root, "//ds:KeyInfo")),
        lambda root: setattr(
            ds(root, "//ds:X509Certificate"), "text", base64.b64encode(b"garbage").decode()
        ),
        lambda root: setattr(ds(root, "//ds:X509Certificate"), "text", "***"),
    ],
    ids=["no-x509data", "no-keyinfo", "not-a-certificate", "not-base64"],
)
def test_it_refuses_missing_or_unreadable_certificates(change, signed_tk1):
    refused(edit(signed_tk1, change), "SIG-KEYINFO")


def test_it_refuses_a_flood_of_certificates(signed_tk1):
    def flood(root):
        certificate = ds(root, "//ds:X509Certificate")
        for _ in range(xmldsig.MAX_EMBEDDED_CERTIFICATES):
            certificate.addnext(copy.deepcopy(certificate))

    refused(edit(signed_tk1, flood), "SIG-KEYINFO")


def test_it_refuses_a_certificate_that_does_not_fit_the_algorithm(signed_tk1, unit_ec):
    def replace(root):
        for node in root.xpath("//ds:KeyValue", namespaces=NS):
            node.getparent().remove(node)
        ds(root, "//ds:X509Certificate").text = base64.b64encode(unit_ec.cert_der).decode()

    refused(edit(signed_tk1, replace), "SIG-ALGORITHM")


def _signing_time(root):
    return ds(root, "//ds:SignatureProperty/*")


@pytest.mark.parametrize(
    "change",
    [
        lambda root: _signing_time(root).getparent().remove(_signing_time(root)),
        lambda root: setattr(_signing_time(root), "text", "hôm qua"),
        lambda root: setattr(_signing_time(root), "text", "2026-13-45T00:00:00Z"),
        lambda root: setattr(_signing_time(root), "text", "2026-03-05"),
        lambda root: ds(root, "//ds:SignatureProperty").append(
            etree.fromstring(etree.tostring(_signing_time(root)))
        ),
    ],
    ids=["missing", "words", "impossible-date", "date-only", "two"],
)
def test_it_refuses_a_bad_signing_time_when_required(change, signed_tk1):
    document = edit(signed_tk1, change)

    refused(document, "SIG-SIGNING-TIME")
    assert xmldsig.verify(document, policy=Policy(require_signing_time=False)).signing_time is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-05T08:30:15Z", WHEN),
        ("2026-03-05T15:30:15+07:00", WHEN),
        ("2026-03-05 15:30:15", WHEN),  # legacy client: local time, no zone
        ("2026-03-05T08:30:15.0000000Z", WHEN),  # .NET "o" format
    ],
)
def test_it_reads_the_signing_time_formats(text, expected, signed_tk1):
    document = edit(signed_tk1, lambda root: setattr(_signing_time(root), "text", text))

    assert xmldsig.verify(document).signing_time == expected


# --- tampering ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("Nguyễn Văn Ất".encode(), "Nguyễn Văn Át".encode()),  # one letter of a text node
        (b"7912345678", b"7912345679"),  # one digit
        (b'loai="thuong-tru"', b'loai="thuong-trU"'),  # an attribute
        (b"<GhiChu>", b"<GhiChu> "),  # whitespace inside an element's text
        (b"<HoTen>", b'<HoTen ma="1">'),  # an attribute added
        (b"  <MaSoBHXH>", b"  <MaSoBHXH/><MaSoBHXH>"),  # an element added
    ],
    ids=["text", "digit", "attribute", "whitespace", "new-attribute", "new-element"],
)
def test_it_detects_changed_content(before, after, signed_tk1):
    assert signed_tk1.count(before) == 1
    refused(signed_tk1.replace(before, after), "SIG-DIGEST")


def test_it_detects_a_changed_signature_value(signed_tk1, monkeypatch):
    full_checks: list[bool] = []
    original = xmldsig._xmlsec_verify_document

    def spy(*args):
        full_checks.append(original(*args))
        return full_checks[-1]

    monkeypatch.setattr(xmldsig, "_xmlsec_verify_document", spy)

    def flip(root):
        node = ds(root, "//ds:SignatureValue")
        value = bytearray(base64.b64decode(node.text))
        value[-1] ^= 1
        node.text = base64.b64encode(bytes(value)).decode()

    refused(edit(signed_tk1, flip), "SIG-VALUE")
    assert full_checks == [False]  # xmlsec re-checked the whole document before saying so
    refused(
        edit(signed_tk1, lambda root: setattr(ds(root, "//ds:SignatureValue"), "text", "#")),
        "SIG-VALUE",
    )


def test_unsigned_parts_do_not_matter(signed_tk1):
    # KeyInfo details and the ds:Object are outside SignedInfo, as in every VSS file.
    def change(root):
        ds(root, "//ds:X509SubjectName").text = "CN=Ai đó"
        _signing_time(root).text = "2020-01-01T00:00:00Z"

    verified = xmldsig.verify(edit(signed_tk1, change))

    assert verified.signing_time == dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def test_a_canonicalisation_disagreement_falls_back_to_xmlsec(signed_tk1, monkeypatch):
    calls: list[bool] = []
    original = xmldsig._xmlsec_verify_document
    monkeypatch.setattr(xmldsig, "canonical_subtree", lambda *args: b"<not-what-was-signed/>")
    monkeypatch.setattr(
        xmldsig, "_xmlsec_verify_document", lambda *args: calls.append(True) or original(*args)
    )

    assert xmldsig.verify(signed_tk1).root.findtext("HoTen") == "Nguyễn Văn Ất"
    assert calls == [True]


def test_the_xmlsec_check_pins_the_key(signed_tk1, other):
    # KeyInfo holds the real signer's certificate; xmlsec must still use only the pinned key.
    checked = xmldsig._check_signed_info(
        etree.fromstring(signed_tk1).find(f".//{{{DS}}}Signature"), Policy()
    )

    assert not xmldsig._xmlsec_verify_document(signed_tk1, other.certificate, checked)


def test_a_signer_from_the_wrong_key_is_refused(unit, other):
    # A certificate that is not the signing key's: the embedded certificate does not verify.
    signed = xmldsig.sign(
        TK1.encode(), KeySigner(other.key, other.certificate, []), include_key_value=False
    )

    def claim(root):
        ds(root, "//ds:X509Certificate").text = base64.b64encode(unit.cert_der).decode()

    refused(edit(signed, claim), "SIG-VALUE")
