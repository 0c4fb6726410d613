"""Signature-wrapping attacks (the XSW family of "On Breaking SAML", adapted to enveloped URI="").

Each attack either is refused with a stable code, or (where the cryptography stays valid) the
caller only ever sees signed data through `VerifiedXml.root` / `VerifiedXml.content`.
"""

from __future__ import annotations

import copy

import pytest
from lxml import etree

from ebhxh.signatures import profile, xmldsig
from ebhxh.signatures.errors import SignatureError
from ebhxh.signatures.signers import KeySigner
from ebhxh.signatures.testing.pki import TestPKI

DS = profile.DS_NS
SIGNATURE = f"{{{DS}}}Signature"

ORIGINAL = """<?xml version="1.0" encoding="utf-8"?>
<TK1-TS>
  <HoTen>Nguyễn Văn Ất</HoTen>
  <MucLuong>8000000</MucLuong>
  <Cky/>
</TK1-TS>
"""
EVIL = "Kẻ Gian"


@pytest.fixture(scope="module")
def signed() -> bytes:
    pki = TestPKI()
    unit = pki.issue("Công ty TNHH Sao Mai", tax_code="0310000017")
    return xmldsig.sign(ORIGINAL.encode(), KeySigner(unit.key, unit.certificate, unit.chain))


def tree(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def signature_of(root: etree._Element) -> etree._Element:
    return next(root.iter(SIGNATURE))


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def refused(data: bytes, code: str, **kwargs: object) -> None:
    with pytest.raises(SignatureError) as info:
        xmldsig.verify(data, **kwargs)  # type: ignore[arg-type]
    assert info.value.code == code, info.value


def evil_form(*children: etree._Element) -> etree._Element:
    root = etree.fromstring(f"<TK1-TS><HoTen>{EVIL}</HoTen><MucLuong>99000000</MucLuong></TK1-TS>")
    for child in children:
        root.append(child)
    return root


# (1) The signed original wrapped inside a new root, evil content beside it.


def test_xsw1_original_wrapped_in_a_new_root(signed):
    wrapper = etree.fromstring(f"<Evil><HoTen>{EVIL}</HoTen></Evil>")
    wrapper.append(tree(signed))

    refused(serialize(wrapper), "SIG-CONTAINER")  # no signature node is defined for <Evil>
    refused(serialize(wrapper), "SIG-PLACEMENT", container="Evil/TK1-TS")


def test_xsw1_original_wrapped_in_a_same_named_root(signed):
    # <TK1-TS> evil… <Cky/> <TK1-TS> original + signature </TK1-TS> </TK1-TS>
    refused(serialize(evil_form(etree.Element("Cky"), tree(signed))), "SIG-PLACEMENT")
    # …and without its own <Cky/>, the form's signature node is missing.
    refused(serialize(evil_form(tree(signed))), "SIG-CONTAINER")


# (2) Evil content after the signed root, or next to the signed data inside it.


def test_xsw2_a_second_root_element(signed):
    refused(signed + f"<TK1-TS><HoTen>{EVIL}</HoTen></TK1-TS>".encode(), "SIG-XML-MALFORMED")


def test_xsw2_evil_siblings_inside_the_signed_root(signed):
    after = tree(signed)
    after.append(etree.fromstring(f"<HoTen>{EVIL}</HoTen>"))
    before = tree(signed)
    before.insert(0, etree.fromstring(f"<HoTen>{EVIL}</HoTen>"))

    refused(serialize(after), "SIG-DIGEST")
    refused(serialize(before), "SIG-DIGEST")


def test_xsw2_a_processing_instruction_after_the_root(signed):
    # Processing instructions are part of the canonical document, so they are signed.
    refused(signed + f"<?evil {EVIL}?>".encode(), "SIG-DIGEST")


# (3) The signature moved into attacker-made structure, the evil document replacing the original.


def test_xsw3_signature_moved_into_an_evil_document(signed):
    cky = etree.Element("Cky")
    cky.append(signature_of(tree(signed)))

    refused(serialize(evil_form(cky)), "SIG-DIGEST")


def test_xsw3_original_hidden_inside_the_signature(signed):
    # The enveloped transform removes the whole Signature, hidden copy included.
    signature = signature_of(tree(signed))
    hidden = etree.SubElement(signature, f"{{{DS}}}Object")
    hidden.append(tree(ORIGINAL.encode()))
    cky = etree.Element("Cky")
    cky.append(signature)

    refused(serialize(evil_form(cky)), "SIG-DIGEST")


def test_xsw3_signature_in_an_attacker_added_element(signed):
    root = tree(signed)
    extra = etree.SubElement(root.find("Cky"), "Extra")
    extra.append(signature_of(root))

    refused(serialize(root), "SIG-PLACEMENT")


# (4) Id tricks: a Reference that points at a wrapped copy.


def test_xsw4_reference_to_a_wrapped_copy_by_id(signed):
    root = evil_form()
    signature = signature_of(tree(signed))
    hidden = etree.SubElement(signature, f"{{{DS}}}Object", Id="orig")
    hidden.append(tree(ORIGINAL.encode()))  # the signed data, without its signature
    signature.find(f"{{{DS}}}SignedInfo/{{{DS}}}Reference").set("URI", "#orig")
    cky = etree.SubElement(root, "Cky")
    cky.append(signature)

    refused(serialize(root), "SIG-REFERENCE")


def test_xsw4_reference_to_the_root_id(signed):
    # What signxml writes when the root has an Id: refused, the VSS profile is URI="".
    root = tree(signed)
    root.set("Id", "HS-0001")
    signature_of(root).find(f"{{{DS}}}SignedInfo/{{{DS}}}Reference").set("URI", "#HS-0001")

    refused(serialize(root), "SIG-REFERENCE")


# (5) Comments: not signed content. They may be added, but callers never see them.


def test_xsw5_comments_never_reach_the_caller(signed):
    document = (
        signed.replace("Nguyễn Văn Ất".encode(), f"Nguyễn<!-- {EVIL} --> Văn Ất".encode())
        .replace(
            b"<MucLuong>8000000",
            f"<!-- MucLuong 99000000 {EVIL} --><MucLuong>8000<!---->000".encode(),
        )
        .replace(b"<TK1-TS>", f"<!-- {EVIL} --><TK1-TS>".encode())
    )

    verified = xmldsig.verify(document)

    assert EVIL not in "".join(verified.root.itertext())
    assert EVIL.encode() not in verified.content
    # A comment cannot cut a signed text node short (the SAML comment-truncation attack).
    assert verified.root.findtext("HoTen") == "Nguyễn Văn Ất"
    assert verified.root.findtext("MucLuong") == "8000000"
    assert list(verified.root.iter(etree.Comment)) == []
    assert verified.content == xmldsig.verify(signed).content


def test_xsw5_comments_inside_the_signature_are_harmless(signed):
    document = signed.replace(b"<ds:SignedInfo>", f"<ds:SignedInfo><!-- {EVIL} -->".encode())

    assert xmldsig.verify(document).root.findtext("HoTen") == "Nguyễn Văn Ất"


def test_xsw5_cdata_is_the_same_text(signed):
    document = signed.replace(
        "<HoTen>Nguyễn Văn Ất".encode(), "<HoTen><![CDATA[Nguyễn Văn Ất]]>".encode()
    )

    assert xmldsig.verify(document).root.findtext("HoTen") == "Nguyễn Văn Ất"


def test_xsw5_processing_instructions_are_signed(signed):
    refused(signed.replace(b"<HoTen>", f"<HoTen><?x {EVIL}?>".encode()), "SIG-DIGEST")


# (6) Duplicate container nodes.


@pytest.mark.parametrize(
    "duplicate",
    [
        "<Cky/>",
        f"<Cky><HoTen>{EVIL}</HoTen></Cky>",
        '<e:Cky xmlns:e="urn:evil"/>',
    ],
    ids=["empty", "with-evil-content", "other-namespace"],
)
@pytest.mark.parametrize("where", ["before", "after"])
def test_xsw6_duplicate_container_nodes(duplicate, where, signed):
    root = tree(signed)
    cky = root.find("Cky")
    if where == "before":
        cky.addprevious(etree.fromstring(duplicate))
    else:
        cky.addnext(etree.fromstring(duplicate))

    refused(serialize(root), "SIG-CONTAINER")


def test_nested_signature_inside_the_signature(signed):
    root = tree(signed)
    signature = signature_of(root)
    etree.SubElement(signature, f"{{{DS}}}Object").append(copy.deepcopy(signature))

    refused(serialize(root), "SIG-MULTIPLE")


def test_namespace_games_do_not_hide_a_signature(signed):
    # A ds:Signature in a default-namespace disguise still counts.
    second = etree.fromstring(f'<Signature xmlns="{DS}"><SignedInfo/></Signature>')
    root = tree(signed)
    root.find("HoTen").append(second)

    refused(serialize(root), "SIG-MULTIPLE")
