"""Interoperability with independent implementations: the `xmlsec1` CLI (Debian's libxmlsec1
1.2.37, not the copy inside python-xmlsec) and signxml.

Flags that xmlsec1 1.2.x needs (checked with `xmlsec1 --version` = 1.2.37):
* chain mode:  `xmlsec1 --verify --trusted-pem root.pem --untrusted-pem ca.pem file.xml`
  (the signer certificate comes from X509Data; URI="" needs no `--id-attr`);
* pinned mode: `xmlsec1 --verify --pubkey-cert-pem signer.pem --enabled-key-data key-name file.xml`
  (`--enabled-key-data key-name` stops xmlsec1 from taking the key from KeyValue/X509Data);
* signing:     `xmlsec1 --sign --privkey-pem key.pem,cert.pem,ca.pem --output out.xml template.xml`
  fills DigestValue, SignatureValue and an `<X509Data><X509Certificate/></X509Data>` placeholder.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from lxml import etree

from ebhxh.signatures import profile, xmldsig
from ebhxh.signatures.errors import SignatureError
from ebhxh.signatures.profile import Policy
from ebhxh.signatures.signers import KeySigner
from ebhxh.signatures.testing.pki import Issued, TestPKI

XMLSEC1 = shutil.which("xmlsec1")
needs_xmlsec1 = pytest.mark.skipif(
    XMLSEC1 is None, reason="the xmlsec1 CLI is not installed (apt-get install xmlsec1)"
)

PLAIN = "<TK1-TS><HoTen>Nguyễn Văn Ất</HoTen><MaSoBHXH>7912345678</MaSoBHXH></TK1-TS>"
# Everything that makes canonicalising SignedInfo in context hard: a default namespace, an
# unused prefix, xml:* attributes on the ancestors (inherited by inclusive C14N 1.0 only), and
# a container that undeclares the default namespace.
CONTEXT = (
    '<TK1-TS xmlns="urn:vss:tk1" xmlns:u="urn:unused" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    ' xml:lang="vi" xml:space="preserve"><HoTen>Nguyễn Văn Ất</HoTen><Cky xmlns="" xml:lang="en"/></TK1-TS>'
)


def pem(issued: Issued) -> bytes:
    return issued.certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return TestPKI()


@pytest.fixture(scope="module")
def files(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("xmlsec1")
    (folder / "root.pem").write_bytes(pem(pki.root))
    (folder / "ca.pem").write_bytes(pem(pki.issuing))
    return folder


@pytest.fixture(scope="module")
def signers(pki: TestPKI) -> dict[str, Issued]:
    return {
        "rsa": pki.issue("Công ty TNHH Sao Mai"),
        "ec": pki.issue("Công ty Ánh Dương", key_kind="ec"),
    }


def xmlsec1(*args: str) -> subprocess.CompletedProcess[str]:
    assert XMLSEC1 is not None
    return subprocess.run([XMLSEC1, *args], capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def no_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """ebhxh's own SignedInfo canonicalisation must agree, without xmlsec re-checking the file."""

    def fail(*args: object) -> bool:
        raise AssertionError("SignedInfo canonicalisation disagreed with the signer")

    monkeypatch.setattr(xmldsig, "_xmlsec_verify_document", fail)


@needs_xmlsec1
@pytest.mark.parametrize("kind", ["rsa", "ec"])
@pytest.mark.parametrize("c14n", ["inclusive", "exclusive"])
@pytest.mark.parametrize("document", [PLAIN, CONTEXT], ids=["plain", "namespace-context"])
def test_xmlsec1_verifies_what_ebhxh_signs(kind, c14n, document, signers, files, no_fallback):
    issued = signers[kind]
    signed = xmldsig.sign(
        document.encode(), KeySigner(issued.key, issued.certificate, issued.chain[:1]), c14n=c14n
    )
    xmldsig.verify(signed)
    path = files / f"ebhxh-{kind}-{c14n}-{len(document)}.xml"
    path.write_bytes(signed)
    (files / f"{kind}.pem").write_bytes(pem(issued))

    chain = xmlsec1(
        "--verify",
        "--trusted-pem",
        str(files / "root.pem"),
        "--untrusted-pem",
        str(files / "ca.pem"),
        str(path),
    )
    pinned = xmlsec1(
        "--verify",
        "--pubkey-cert-pem",
        str(files / f"{kind}.pem"),
        "--enabled-key-data",
        "key-name",
        str(path),
    )

    assert chain.returncode == 0, chain.stderr
    assert pinned.returncode == 0, pinned.stderr


@needs_xmlsec1
def test_xmlsec1_refuses_a_tampered_ebhxh_file(signers, files):
    issued = signers["rsa"]
    signed = xmldsig.sign(
        PLAIN.encode(), KeySigner(issued.key, issued.certificate, issued.chain[:1])
    )
    path = files / "tampered.xml"
    path.write_bytes(signed.replace(b"7912345678", b"7912345679"))

    result = xmlsec1(
        "--verify",
        "--trusted-pem",
        str(files / "root.pem"),
        "--untrusted-pem",
        str(files / "ca.pem"),
        str(path),
    )

    assert result.returncode != 0


TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
{open_root}
  <HoTen>Nguyễn Thị Ánh</HoTen>
  <DiaChi loai="thuong-tru">Số 1 Lê Lợi</DiaChi>
  <Cky>
    <Signature xmlns="http://www.w3.org/2000/09/xmldsig#" Id="sigid">
      <SignedInfo>
        <CanonicalizationMethod Algorithm="{c14n}"/>
        <SignatureMethod Algorithm="{method}"/>
        <Reference URI="">
          <Transforms>
            <Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
          </Transforms>
          <DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
          <DigestValue/>
        </Reference>
      </SignedInfo>
      <SignatureValue/>
      <KeyInfo>
        <X509Data><X509Certificate/></X509Data>
      </KeyInfo>
    </Signature>
  </Cky>
</TK1-TS>
"""


@needs_xmlsec1
@pytest.mark.parametrize("kind", ["rsa", "ec"])
@pytest.mark.parametrize("c14n", [profile.C14N, profile.EXC_C14N])
@pytest.mark.parametrize(
    "open_root",
    ["<TK1-TS>", '<TK1-TS xmlns:u="urn:unused" xml:lang="vi">'],
    ids=["plain", "namespace-context"],
)
def test_ebhxh_verifies_what_xmlsec1_signs(kind, c14n, open_root, signers, files, no_fallback):
    issued = signers[kind]
    key = files / f"{kind}-key.pem"
    key.write_bytes(issued.key_pem)
    (files / f"{kind}.pem").write_bytes(pem(issued))
    method = profile.ECDSA_SHA256 if kind == "ec" else profile.RSA_SHA256
    template = files / f"template-{kind}.xml"
    template.write_text(
        TEMPLATE.format(open_root=open_root, c14n=c14n, method=method), encoding="utf-8"
    )
    output = files / f"xmlsec1-{kind}.xml"

    result = xmlsec1(
        "--sign",
        "--privkey-pem",
        f"{key},{files / f'{kind}.pem'},{files / 'ca.pem'}",
        "--output",
        str(output),
        str(template),
    )
    assert result.returncode == 0, result.stderr
    signed = output.read_bytes()

    verified = xmldsig.verify(signed, policy=Policy(require_signing_time=False))

    assert verified.certificate == issued.certificate
    assert verified.embedded_certificates == [issued.chain[0]]
    assert verified.signing_time is None  # xmlsec1 writes no SigningTime
    assert verified.root.findtext("HoTen") == "Nguyễn Thị Ánh"
    with pytest.raises(SignatureError, match="SIG-SIGNING-TIME"):
        xmldsig.verify(signed)
    with pytest.raises(SignatureError, match="SIG-DIGEST"):
        xmldsig.verify(
            signed.replace(b"thuong-tru", b"tam-tru"), policy=Policy(require_signing_time=False)
        )


def test_signxml_verifies_what_ebhxh_signs(signers):
    from signxml import SignatureConfiguration, XMLVerifier
    from signxml.algorithms import DigestAlgorithm, SignatureMethod

    issued = signers["rsa"]
    signed = xmldsig.sign(PLAIN.encode(), KeySigner(issued.key, issued.certificate, issued.chain))
    expect = SignatureConfiguration(
        expect_references=1,
        signature_methods=frozenset({SignatureMethod.RSA_SHA256}),
        digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
    )

    result = XMLVerifier().verify(signed, x509_cert=pem(issued).decode(), expect_config=expect)

    assert result.signed_xml.findtext("HoTen") == "Nguyễn Văn Ất"


def test_ebhxh_verifies_what_signxml_signs(signers, no_fallback):
    from signxml import XMLSigner, methods
    from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod

    issued = signers["rsa"]
    # signxml puts an enveloped signature where a placeholder ds:Signature is.
    template = PLAIN.replace(
        "</TK1-TS>",
        f'<Cky><ds:Signature xmlns:ds="{profile.DS_NS}" Id="placeholder"/></Cky></TK1-TS>',
    )
    signer = XMLSigner(
        method=methods.enveloped,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
    )
    signer.namespaces = {"ds": profile.DS_NS}
    signed = etree.tostring(
        signer.sign(etree.fromstring(template.encode()), key=issued.key, cert=[issued.certificate])
    )

    verified = xmldsig.verify(signed, policy=Policy(require_signing_time=False))

    assert verified.certificate == issued.certificate


# SignedInfo in awkward namespace contexts, signed by libxmlsec (python-xmlsec), whose in-context
# canonicalisation is the reference: ebhxh's own SignedInfo bytes must match it exactly.
DSNS = profile.DS_NS
SIGNATURE_BODY = """<{p}SignedInfo{si_extra}>
<{p}CanonicalizationMethod Algorithm="{c14n}"{c14n_close}
<{p}SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
<{p}Reference URI=""><{p}Transforms><{p}Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></{p}Transforms>
<{p}DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><{p}DigestValue/></{p}Reference>
</{p}SignedInfo><{p}SignatureValue/><{p}KeyInfo><{p}X509Data><{p}X509Certificate/></{p}X509Data></{p}KeyInfo>"""


def awkward(
    root_open: str,
    cky_open: str,
    signature_open: str,
    prefix: str,
    *,
    si_extra: str = "",
    exclusive: bool = False,
    prefix_list: str = "",
) -> str:
    c14n = profile.EXC_C14N if exclusive else profile.C14N
    c14n_close = (
        f'><ec:InclusiveNamespaces xmlns:ec="{profile.EXC_C14N}" PrefixList="{prefix_list}"/></{prefix}CanonicalizationMethod>'
        if prefix_list
        else "/>"
    )
    body = SIGNATURE_BODY.format(p=prefix, si_extra=si_extra, c14n=c14n, c14n_close=c14n_close)
    close = f"</{prefix}Signature>"
    root_name = root_open.split()[0].strip("<>")
    return (
        f"{root_open}<HoTen>Ất</HoTen>{cky_open}{signature_open}{body}{close}</Cky></{root_name}>"
    )


AWKWARD = {
    "dotnet-default-ns": awkward("<TK1-TS>", "<Cky>", f'<Signature xmlns="{DSNS}">', ""),
    "default-ns-in-default-ns": awkward(
        '<TK1-TS xmlns="urn:form" xml:lang="vi">', "<Cky>", f'<Signature xmlns="{DSNS}">', ""
    ),
    "prefix-on-root": awkward(
        f'<TK1-TS xmlns:ds="{DSNS}" xmlns:u="urn:u" xml:space="preserve">',
        "<Cky>",
        "<ds:Signature>",
        "ds:",
    ),
    "prefix-and-default-both-ds": awkward(
        f'<TK1-TS xmlns="{DSNS}" xmlns:ds="{DSNS}">', "<Cky>", "<ds:Signature>", "ds:"
    ),
    "container-undeclares-default": awkward(
        '<TK1-TS xmlns="urn:form" xmlns:u="urn:u">',
        '<Cky xmlns="" xml:lang="en">',
        f'<ds:Signature xmlns:ds="{DSNS}">',
        "ds:",
    ),
    "signed-info-declares-more": awkward(
        "<TK1-TS>",
        "<Cky>",
        f'<ds:Signature xmlns:ds="{DSNS}" xmlns:x="urn:x">',
        "ds:",
        si_extra=' xmlns:y="urn:y" Id="si"',
    ),
    "exclusive-with-prefix-list": awkward(
        '<TK1-TS xmlns:u="urn:u" xmlns:v="urn:v" xml:lang="vi">',
        "<Cky>",
        f'<ds:Signature xmlns:ds="{DSNS}">',
        "ds:",
        exclusive=True,
        prefix_list="u",
    ),
}


@pytest.mark.parametrize("name", list(AWKWARD))
def test_signed_info_bytes_match_libxmlsec_in_awkward_contexts(name, signers, no_fallback):
    import xmlsec

    issued = signers["rsa"]
    root = etree.fromstring(AWKWARD[name].encode())
    signature = xmlsec.tree.find_node(root, xmlsec.constants.NodeSignature)
    key = xmlsec.Key.from_memory(issued.key_pem, xmlsec.constants.KeyDataFormatPem)
    key.load_cert_from_memory(pem(issued), xmlsec.constants.KeyDataFormatCertPem)
    ctx = xmlsec.SignatureContext()
    ctx.key = key
    ctx.sign(signature)
    signed = etree.tostring(root)

    verified = xmldsig.verify(signed, policy=Policy(require_signing_time=False))

    assert verified.certificate == issued.certificate
